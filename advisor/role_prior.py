"""What we may assume beyond what a person said: implied skills and the role prior.

A profile keeps what the person *stated*. :func:`complete` adds, for every skill they did not
state, the larger of two estimates, each marked so every face can show it for what it is:

- **implied**: a stated skill's document says it implies this one (scikit-learn at 3 implies
  machine-learning fundamentals at 2), followed transitively;
- **assumed**: the typical level of the person's current role, read from that role's document
  (its requirements at the person's seniority, plus its ``typical`` levels). A data scientist who
  never mentions statistics is not treated as someone who has never heard of it.

Anything stated, including "no Docker" (level 0), wins over both. ``profile.role_prior = False``
switches the assumption off; implications still apply.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from advisor.models import Extraction, Profile, SkillEvidence
from knowledge.base import KnowledgeBase
from knowledge.schema import Seniority


def prior_seniority(profile: Profile) -> Seniority:
    """The seniority to assume the person has in their *current* role: as they said it
    ("senior data scientist"), else from their years."""
    if profile.current_seniority:
        return profile.current_seniority
    years = profile.years_experience
    if years is None:
        return "mid"
    if years < 2:
        return "junior"
    return "senior" if years >= 6 else "mid"


def typical_levels(kb: KnowledgeBase, role_id: str | None, seniority: Seniority) -> dict[str, int]:
    role = kb.roles.get(role_id or "")
    if role is None:
        return {}
    levels = dict(role.typical)
    for req in role.requirements:
        # A senior is assumed above the mid level only where the role document says so
        # (``senior:``); the one-up default is what a senior *job* asks, not what every senior
        # knows: "usually level 4 in statistics or in a specialism", not in everything.
        level = (req.senior or req.level) if seniority == "senior" else req.level_for(seniority)
        for sid in req.members[:1]:  # a group's typical holder knows its first (most asked) member
            levels[sid] = max(levels.get(sid, 0), level)
    return {s: lvl for s, lvl in levels.items() if lvl > 0}


@lru_cache(maxsize=8)
def _backgrounds(path: Path, mtime: float) -> dict[str, dict]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return (data or {}).get("backgrounds", {})


def backgrounds(kb: KnowledgeBase) -> dict[str, dict]:
    """``knowledge/lexicon/backgrounds.yml``: backgrounds without a role document; unknown skill
    ids in it are an error that names the file, the background and the id."""
    path = kb.root / "lexicon" / "backgrounds.yml"
    found = _backgrounds(path, path.stat().st_mtime if path.is_file() else 0.0)
    for name, b in found.items():
        unknown = sorted(set(b.get("typical", {})) - set(kb.skills))
        if unknown:
            raise ValueError(f"{path}: background '{name}' names unknown skill id(s) {', '.join(unknown)}")
    return found


def background_of(kb: KnowledgeBase, said: str) -> str | None:
    """The background whose words name ``said`` ("pricing actuary" -> actuary)."""
    said = " ".join(said.lower().split())
    for name, b in backgrounds(kb).items():
        if any(said == w or said.endswith(" " + w) or w.endswith(" " + said) for w in b.get("words", [])):
            return name
    return None


def background_levels(kb: KnowledgeBase, background: str | None) -> dict[str, int]:
    return dict(backgrounds(kb).get(background or "", {}).get("typical", {}))


def implied_levels(kb: KnowledgeBase, known: dict[str, int]) -> dict[str, tuple[int, str]]:
    """skill id -> (level, implying skill) for skills implied by ``known``, followed transitively."""
    out: dict[str, tuple[int, str]] = {}
    frontier = dict(known)
    while frontier:
        nxt: dict[str, int] = {}
        for sid, level in frontier.items():
            skill = kb.skills.get(sid)
            for imp in skill.implies if skill else []:
                if level >= imp.when and imp.level > max(known.get(imp.skill, 0), out.get(imp.skill, (0, ""))[0]):
                    out[imp.skill] = (imp.level, sid)
                    nxt[imp.skill] = imp.level
        frontier = {s: lvl for s, lvl in nxt.items() if s not in known}
    return out


def complete(profile: Profile, kb: KnowledgeBase) -> Profile:
    """``profile`` with implied and assumed skills recomputed from its stated ones."""
    stated = [s for s in profile.skills if s.source == "stated"]
    levels = {s.skill_id: s.level for s in stated}
    added: dict[str, SkillEvidence] = {}
    for sid, (level, by) in implied_levels(kb, levels).items():
        if sid not in levels:
            added[sid] = SkillEvidence(
                skill_id=sid, name=kb.skills[sid].title, level=level, source="implied", implied_by=by,
                evidence=[f"implied by {kb.skills[by].title}"],
            )
    role = kb.roles.get(profile.current_role or "")
    if role is not None:
        prior, title, where = typical_levels(kb, role.id, prior_seniority(profile)), role.title, "role"
    else:
        background = backgrounds(kb).get(profile.background or "", {})
        prior, title, where = dict(background.get("typical", {})), background.get("title"), "background"
    if profile.role_prior:
        for sid, level in prior.items():
            if sid in levels or sid not in kb.skills or (sid in added and added[sid].level >= level):
                continue
            added[sid] = SkillEvidence(
                skill_id=sid, name=kb.skills[sid].title, level=level, source="assumed",
                evidence=[f"assumed from your {where} ({title}): confirm or correct"],
            )
    skills = stated + sorted(added.values(), key=lambda s: s.skill_id)
    return profile.model_copy(update={"skills": skills, "extraction": describe(skills, title)})


def describe(skills: list[SkillEvidence], role_title: str | None) -> Extraction:
    """How much of the profile the person said, and how much is assumed, counted as the profile
    lists them: the first figure is every skill taken from what they said, including the ones
    they said they lack (listed at level 0), so it matches the skills shown as theirs."""
    said = sum(1 for s in skills if s.source == "stated")
    known = sum(1 for s in skills if s.source == "stated" and s.level > 0)
    absent = said - known
    assumed = sum(1 for s in skills if s.source == "assumed")
    implied = sum(1 for s in skills if s.source == "implied")
    if known == 0:
        reason = "no skills you have were found in what you said" + (f" ({absent} you said you lack)" if absent else "")
        return Extraction(confidence=0.0, reason=reason + "; tell me which tools and methods you use and how well")
    parts = [f"{said} skill{'s' if said != 1 else ''} from what you said" + (f", {absent} of which you lack" if absent else "")]
    if implied:
        parts.append(f"{implied} implied by them")
    if assumed:
        parts.append(f"{assumed} assumed from a typical {role_title or 'person in your role'} (confirm or correct)")
    said_share = known / max(known + assumed, 1)
    if known < 3:
        score = 0.3
    elif known < 6:
        score = 0.6
    else:
        score = 0.9
    # The more is assumed rather than said, the less sure we are about the person.
    score = round(score * (0.6 + 0.4 * said_share), 2)
    return Extraction(confidence=score, reason="; ".join(parts))
