"""Everything one chat turn needs before an engine writes the answer.

The conversation is stateless on the server: the profile is rebuilt from what the user
said in earlier turns (or taken as given), the previous turn's reading resolves
follow-ups, and retrieval runs on a standalone version of the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from advisor.chat.intents import Reading, classify, other_path
from advisor.errors import BadInput
from advisor.extraction import weekly_hours
from advisor.models import Comparison, Message, Profile, Recommendation
from advisor.profile import merge
from knowledge.base import TARGET_ROLES
from retrieval.hit import Hit

NEEDS_PROFILE = ("fit", "plan", "compare")
IN_SCOPE_SIMILARITY = 0.28
"""A question without career words is out of scope when no passage comes this close (cosine)."""
_SENTENCE = re.compile(r"(?<=[.!?\n])\s+")


@dataclass
class TurnContext:
    question: str
    reading: Reading
    profile: Profile
    history: list[Message]
    hits: list[Hit] = field(default_factory=list)
    recommendation: Recommendation | None = None
    comparison: Comparison | None = None
    changes: list[str] = field(default_factory=list)
    """What this turn changed in the profile, in words."""

    def add_hits(self, hits: list[Hit | None]) -> None:
        seen = {(h.doc_id, h.section, h.snippet) for h in self.hits}
        for h in hits:
            if h is not None and (h.doc_id, h.section, h.snippet) not in seen:
                self.hits.append(h)
                seen.add((h.doc_id, h.section, h.snippet))

    def hit_for(self, doc_id: str) -> Hit | None:
        return next((h for h in self.hits if h.doc_id == doc_id), None)


def check_history(history: list, max_messages: int, max_chars: int) -> list[Message]:
    if not isinstance(history, list):
        raise BadInput("history must be a list of {role, content} messages")
    if len(history) > max_messages:
        raise BadInput(f"history has {len(history)} messages; at most {max_messages} are accepted")
    out = []
    for i, m in enumerate(history):
        try:
            msg = m if isinstance(m, Message) else Message.model_validate(m)
        except Exception:
            raise BadInput(f"history[{i}] must be an object with role (user|assistant|system) and content") from None
        # Assistant turns carry whole plans; only what a user typed is held to the message limit.
        limit = max_chars if msg.role == "user" else 4 * max_chars
        if len(msg.content) > limit:
            raise BadInput(f"history[{i}] is longer than {limit} characters")
        out.append(msg)
    return out


_ASKING = re.compile(
    r"^\s*(what|which|how|why|when|where|who|should|can|could|would|is|are|do|does|will|compare|explain|tell|show|give|list|"
    r"recommend|help|plan|describe|suggest)\b",
    re.I,
)


def self_statements(text: str) -> str:
    """The statements in a message (what the user says about themselves), without its questions
    and requests: "compare BI and ML for me" names skills and roles but describes nobody."""
    keep = []
    for sentence in _SENTENCE.split(text):
        s = sentence.strip()
        if not s:
            continue
        if s.endswith("?") or _ASKING.match(s):
            head = s.split(",")[0]
            if head != s and re.match(r"\s*(i|i'm|i've|my)\b", head, re.I):
                keep.append(head)
            continue
        keep.append(s)
    return " ".join(keep)


def build_context(adv, question: str, history: list, profile: Profile | dict | None) -> TurnContext:
    s = adv.settings
    if not isinstance(question, str) or not question.strip():
        raise BadInput("the question is empty")
    if len(question) > s.max_message_chars:
        raise BadInput(f"the question is longer than {s.max_message_chars} characters")
    messages = check_history(history or [], s.max_messages, s.max_message_chars)

    previous: Reading | None = None
    given = profile is not None
    current = adv.profile(profile) if given else Profile()
    for m in messages:
        if m.role != "user":
            continue
        if not given:
            current = _absorb(adv, current, m.content)[0]
        previous = classify(m.content, adv.extractor.skills_named(m.content), previous)

    current, changes = _absorb(adv, current, question)
    hours = weekly_hours(question)
    if hours is not None and hours != current.weekly_hours:
        current = current.model_copy(update={"weekly_hours": hours})
        changes.append(f"weekly hours set to {hours:g}")
    if m := re.search(r"\b(junior|mid|senior)\b", question, re.I):
        level = m.group(1).lower()
        if level != current.seniority:
            current = current.model_copy(update={"seniority": level})
            changes.append(f"target seniority set to {level}")

    reading = classify(question, adv.extractor.skills_named(question), previous)
    if reading.extra.get("uncertain"):
        close = adv.retriever.relevance(reading.query)
        reading = replace(reading, intent="search" if close >= IN_SCOPE_SIMILARITY else "out_of_scope", extra={})
    if reading.extra.get("other_path"):
        if not has_profile(current):
            reading = replace(reading, intent="role_info", roles=TARGET_ROLES[1:], extra={})
        else:
            picked = adv.recommend(current).plan.role_id
            reading = other_path(reading, picked if picked in TARGET_ROLES else TARGET_ROLES[0])
    ctx = TurnContext(question=question, reading=reading, profile=current, history=messages, changes=changes)
    _retrieve(adv, ctx)
    return ctx


def _absorb(adv, profile: Profile, text: str) -> tuple[Profile, list[str]]:
    """Merge what ``text`` says about the user into ``profile``; describe the changes."""
    said = self_statements(text)
    if not said:
        return profile, []
    found = adv.extractor.extract(said)
    stated = sorted(found.model_fields_set - {"skills", "extraction"})
    if not found.skills and not stated:
        return profile, []
    before = profile.levels()
    changes = [
        f"{s.name}: level {s.level}" + (f" (was {before[s.skill_id]})" if s.skill_id in before else "")
        for s in found.skills
        if before.get(s.skill_id) != s.level
    ]
    changes += [f"{name.replace('_', ' ')}: {getattr(found, name)}" for name in stated if getattr(found, name) != getattr(profile, name)]
    return merge(profile, found), changes


def has_profile(profile: Profile) -> bool:
    return any(s.level > 0 for s in profile.skills)


def _retrieve(adv, ctx: TurnContext) -> None:
    """Gather the passages this turn may cite, by intent."""
    r, q = ctx.reading, ctx.reading.query or ctx.question
    role = r.roles[0] if r.roles else None
    if r.intent in ("greeting", "out_of_scope"):
        return
    if r.intent in NEEDS_PROFILE + ("profile_update",) and has_profile(ctx.profile):
        targets = _targets(ctx)
        rec = adv.recommend(ctx.profile, targets=targets)
        ctx.recommendation = rec
        top = rec.plan.role_id if rec.plan else rec.roles[0].role_id
        for fit in rec.roles:
            if fit.role_id in (targets or TARGET_ROLES):
                ctx.add_hits([adv.retriever.lookup(fit.role_id, "skills requirements what good looks like")])
        transition = f"{ctx.profile.current_role}_to_{top}"
        ctx.add_hits([adv.retriever.lookup(transition, "staged plan what is missing")])
        if r.intent == "plan" and rec.plan:
            for stage in rec.plan.stages:
                ctx.add_hits([adv.retriever.lookup(g.skill_id, "portfolio project") for g in stage.skills])
                ctx.add_hits([adv.retriever.lookup(res, "what it covers") for res in stage.resources])
        if r.intent == "compare":
            ctx.comparison = adv.compare(ctx.profile, targets if targets and len(targets) > 1 else list(TARGET_ROLES))
            for p in ctx.comparison.paths:
                ctx.add_hits([adv.retriever.lookup(p.role_id, "skills requirements")])
                ctx.add_hits(p.outlook)
        return
    if r.intent in NEEDS_PROFILE:
        return  # the engine asks for a profile first
    if r.intent == "role_info":
        ctx.add_hits(adv.search(q, k=4, kind="role", role=role) if role else adv.search(q, k=4, kind="role"))
        if role:
            ctx.add_hits(adv.search(q, k=2, kind="transition", role=role))
    elif r.intent == "skill_info":
        target = _target_words(ctx)
        for sid in r.skills[:2]:
            ctx.add_hits([adv.retriever.lookup(sid, "what it is"), adv.retriever.lookup(sid, f"why it matters for {target}")])
        if not r.skills:
            ctx.add_hits(adv.search(q, k=4, kind="skill"))
    elif r.intent == "resources":
        # Resources that build the named skills, most focused first; search only when none do.
        wanted = set(r.skills)
        picked = sorted(
            (d for d in adv.kb.of_kind("resource") if wanted & set(d.meta.skills)),
            key=lambda d: (-len(wanted & set(d.meta.skills)), len(d.meta.skills), d.meta.effort_hours),
        )
        ctx.add_hits([adv.retriever.lookup(d.id, q) for d in picked[:5]])
        if not picked:
            ctx.add_hits(adv.search(q, k=5, kind="resource", role=role))
    elif r.intent == "market":
        ctx.add_hits(adv.search(q, k=5, kind="market"))
    else:
        ctx.add_hits(adv.search(q, k=5, role=role))


def _target_words(ctx: TurnContext) -> str:
    roles = [r for r in ctx.reading.roles if r in TARGET_ROLES] or ctx.profile.target_roles or list(TARGET_ROLES)
    return " ".join(r.replace("_", " ") + "s" for r in roles)


def _targets(ctx: TurnContext) -> list[str] | None:
    """Roles the turn asks about (not the user's current role), else the profile's targets."""
    r = ctx.reading
    asked = [role for role in dict.fromkeys(r.roles) if role != ctx.profile.current_role]
    if asked and r.intent in NEEDS_PROFILE:
        return asked
    return ctx.profile.target_roles or None
