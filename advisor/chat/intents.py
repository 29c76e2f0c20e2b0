"""The reading of a chat turn: its type (from the learned classifier in ``reading.py``), the
roles and skills it names, and how a follow-up leans on the previous turn.

The type comes from data, not from rules. Rules remain only where a rule is the clearest
statement: which role names mean which role, and what a follow-up ("why?", "and the other
one?", "what about dbt?") borrows from the turn before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from advisor.chat.reading import Guess
from knowledge.base import TARGET_ROLES

ROLE_NAMES = {
    "bi_analyst": r"\bbi\b(?:[- ]?analyst)?|business intelligence|bi path|bi route|\bbia\b",
    "ml_engineer": r"\bml[- ]?e(?:ngineer(?:ing)?)?s?\b|machine learning engineer|\bmles?\b|ml engineering|\bml eng\b|\bml\b(?! (?:fundamentals|model|models|system|systems)\b)",
    "data_scientist": r"data scien(?:tist|ce)|\bds\b",
    "analytics_engineer": r"analytics engineer",
    "data_engineer": r"data engineer",
    "mlops_engineer": r"\bmlops\b(?: engineer)?",
    "ai_engineer": r"\bai engineer|llm engineer",
    "data_analyst": r"data analyst",
}
_ROLE_RE = {rid: re.compile(p, re.I) for rid, p in ROLE_NAMES.items()}
ROLE_PATTERNS = _ROLE_RE

PERSONAL = ("compare", "fit", "plan")
"""Types that need the person's profile to answer at all."""
GENERAL_OR_PERSONAL = ("learn_first", "how_long")
"""Types answered for the person when there is a profile, in general when there is not."""
FIXED = ("greeting", "thanks", "capabilities", "out_of_scope", "need_profile", "clarify")
"""Types whose reply is a fixed message, with no citations."""
ABOUT_ME = ("profile_update", "correction", "preference")
"""Statements about the person, not questions."""
DRIVEN_BY_RECOMMENDATION = ("compare", "fit", "plan", "learn_first", "why", *ABOUT_ME)

_WHY = re.compile(r"^\W*(?:but\s+|ok\s+|and\s+)?(?:why|how come|explain why|what makes|reason)\b", re.I)
_MORE = re.compile(r"^\W*(?:tell me more|say more|can you say more|go on|more|continue|elaborate)\W*$", re.I)
_HOW = re.compile(r"^\W*(?:how|how do i do that|how would i do that|how so)\W*$", re.I)
_OTHER = re.compile(r"\b(the other (?:one|path|role|route|option)|the other|other path|other role|the alternative)\b", re.I)
_ABOUT = re.compile(r"^\W*(?:and|what about|how about|same for|ok and|and for|what of)\b", re.I)
_WHY_ANY = re.compile(r"\bwhy\b", re.I)
_FILLER = {"a", "an", "the", "for", "of", "about", "then", "one", "ones", "role", "roles", "path", "s"}
_THOSE = re.compile(r"\b(those|these|them|that list|of those|of these)\b", re.I)
WHOLE_PLAN = re.compile(r"\b(?:whole|full|entire|complete|all of the|rest of the)\s+plan\b", re.I)


@dataclass(frozen=True)
class Reading:
    intent: str
    roles: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    follow_up: bool = False
    states_profile: bool = False
    query: str = ""
    """The question rewritten to stand alone, for retrieval."""
    confidence: float = 1.0
    alternatives: tuple[str, ...] = ()
    """When unsure: the two types the classifier hesitated between."""
    extra: dict = field(default_factory=dict)


def roles_in(text: str) -> tuple[str, ...]:
    found = [(m.start(), rid) for rid, pat in _ROLE_RE.items() for m in [pat.search(text)] if m]
    # "ml" alone is the ML engineer only when no longer role name claims it ("mlops", "ml engineer").
    return tuple(rid for _, rid in sorted(found))


def read(text: str, guess: Guess, skills: tuple[str, ...], previous: Reading | None = None) -> Reading:
    """The reading of one user message, given the classifier's guess and the previous reading."""
    roles = roles_in(text)
    kind = str(guess.type)
    base = Reading(kind, roles=roles, skills=skills, states_profile=kind in ABOUT_ME, query=text, confidence=guess.confidence)
    if kind == "follow_up" or (previous is not None and _leans_on_previous(text, roles, skills, guess)):
        return replace(_follow_up(text, base, previous), confidence=guess.confidence)
    if kind == "plan" and previous is not None and _THOSE.search(text) and not roles:
        return _with_query(replace(base, roles=previous.roles, skills=previous.skills, follow_up=True), text)
    if kind == "learn_first" and previous is not None and _THOSE.search(text) and not roles:
        return _with_query(replace(base, roles=previous.roles[:1], follow_up=True), text)
    if guess.unsure and kind not in ("out_of_scope",):
        return replace(base, intent="clarify", alternatives=(kind, str(guess.runner_up)))
    return base


def _leans_on_previous(text: str, roles: tuple[str, ...], skills: tuple[str, ...], guess: Guess) -> bool:
    """A short "and the other one?" or "why?" is a follow-up whatever the classifier's guess;
    "what about dbt?" is one unless the classifier is sure it asks something new."""
    if len(text.split()) > 6:
        return False
    if _OTHER.search(text) or _WHY.match(text) or (len(text.split()) <= 4 and _WHY_ANY.search(text) and not skills):
        return True
    m = _ABOUT.match(text)
    if not m or not (roles or skills):
        return False
    # "and for a data scientist?": nothing but the new subject after "and": a follow-up for sure.
    rest = [w for w in re.findall(r"[a-z']+", text[m.end() :].lower()) if w not in _FILLER]
    return len(rest) <= 3 or guess.confidence < 0.8


_NOTHING_TO_LEAN_ON = ("out_of_scope", "clarify", "greeting", "thanks", "capabilities", "need_profile")


def _follow_up(text: str, base: Reading, previous: Reading | None) -> Reading:
    if previous is None or previous.intent in _NOTHING_TO_LEAN_ON or (previous.intent in ABOUT_ME and not _WHY.match(text)):
        # Nothing to lean on: read what it names.
        if base.skills:
            return replace(base, intent="skill_info")
        if base.roles:
            return replace(base, intent="role_info")
        return replace(base, intent="clarify")
    if (_WHY.match(text) or len(text.split()) <= 4 and _WHY_ANY.search(text)) and not base.skills:
        if previous.intent in DRIVEN_BY_RECOMMENDATION:
            return _with_query(replace(previous, intent="why", follow_up=True, states_profile=False, extra={}), text)
        return _with_query(replace(previous, follow_up=True, states_profile=False, extra={"why": True}), text)
    if _OTHER.search(text):
        if not previous.roles:  # the path was the recommender's pick; the context resolves it
            return replace(previous, follow_up=True, states_profile=False, query=text, extra={"other_path": True})
        others = [r for r in TARGET_ROLES if r not in previous.roles] or list(TARGET_ROLES)
        return _with_query(replace(previous, roles=(others[0],), follow_up=True, states_profile=False, extra={}), text)
    if _MORE.match(text):
        return _with_query(replace(previous, follow_up=True, states_profile=False, extra={"more": True}), text)
    if _HOW.match(text):
        if previous.intent in ("fit", "compare", "why"):
            return _with_query(replace(previous, intent="plan", follow_up=True, states_profile=False, extra={}), text)
        if previous.intent == "skill_info":
            return _with_query(replace(previous, intent="resources", follow_up=True, states_profile=False, extra={}), text)
        return _with_query(replace(previous, follow_up=True, states_profile=False, extra={}), text)
    intent = previous.intent
    if intent in ("why", "clarify"):
        intent = "fit"
    # "what about dbt?" after a question about Docker: the same question, about dbt.
    roles = base.roles or previous.roles
    skills = base.skills or (previous.skills if not base.roles else ())
    if base.skills and intent in ("role_info", "day_to_day", "role_difference", "pay", "market", "ai_impact"):
        intent = "skill_info"
    return _with_query(replace(previous, intent=intent, roles=roles, skills=skills, follow_up=True, states_profile=False, extra={}), text)


def other_path(reading: Reading, current: str) -> Reading:
    """Resolve "the other path" once the recommender has said which target is ``current``."""
    other = next(r for r in TARGET_ROLES if r != current)
    return _with_query(replace(reading, roles=(other,), extra={}), reading.query)


def _with_query(reading: Reading, text: str) -> Reading:
    """A standalone retrieval query: the text plus what a follow-up leaves implicit."""
    if not reading.follow_up:
        return replace(reading, query=text)
    parts = [text]
    parts += [r.replace("_", " ") for r in reading.roles if not _ROLE_RE[r].search(text)]
    parts += [s.replace("_", " ") for s in reading.skills if s.replace("_", " ") not in text.lower()]
    if reading.intent == "resources":
        parts.append("resources certifications courses")
    if reading.intent in ("plan", "fit"):
        parts.append("skills to learn plan")
    return replace(reading, query=" ".join(parts))
