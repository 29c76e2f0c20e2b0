"""What a chat turn asks for, and which roles and skills it is about.

Rules, not a model: they are fast, deterministic and easy to extend by reading them.
Follow-ups ("and for the other path?", "which of those first?", "what about Kubernetes?")
are resolved against the previous turn's reading, passed in as ``previous``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from knowledge.base import TARGET_ROLES

ROLE_NAMES = {
    "bi_analyst": r"\bbi\b(?:[- ]?analyst)?|business intelligence|bi path|bi route|\bbia\b",
    "ml_engineer": r"\bml[- ]?e(?:ngineer(?:ing)?)?s?\b|machine learning engineer|\bmle\b|ml engineering",
    "data_scientist": r"data scien(?:tist|ce)|\bds\b",
    "analytics_engineer": r"analytics engineer",
    "data_engineer": r"data engineer",
    "mlops_engineer": r"\bmlops\b(?: engineer)?",
    "ai_engineer": r"\bai engineer|llm engineer",
    "data_analyst": r"data analyst",
}
_ROLE_RE = {rid: re.compile(p, re.I) for rid, p in ROLE_NAMES.items()}


def _any(*words: str) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(words) + r")\b", re.I)


_GREETING = re.compile(r"^\s*(hi|hello|hey|hiya|good (morning|afternoon|evening)|thanks|thank you|cheers)\b[\s!.,]*(there|reskill)?[\s!.]*$", re.I)
_COMPARE = _any(r"compare", r"comparison", r"vs\.?", r"versus", r"which path", r"which (?:one|role|route|direction) (?:is |fits |suits )?(?:better|best)",
                r"which (?:one|role|route|direction|path) (?:fits|suits) me(?: better| best)?",
                r"better (?:for|fit for) me", r"or (?:an? )?(?:ml|bi|machine|business)", r"side by side", r"should i (?:go|move|switch|pick|choose)")
_FIT = _any(r"my fit", r"fit for", r"fits? me", r"how (?:well )?do i fit", r"do i fit", r"am i (?:ready|qualified|a fit)", r"my gaps?", r"gaps?",
            r"what am i missing", r"what do i lack", r"what i'?m missing", r"how ready", r"how close", r"my chances", r"suit me", r"suits me")
_PLAN = _any(r"plan", r"roadmap", r"learn first", r"start with", r"what (?:should|do) i (?:learn|study)", r"in which order", r"order",
             r"next steps?", r"where (?:do|should) i start", r"first", r"study plan", r"learning path", r"schedule", r"how long")
_RESOURCES = _any(r"resources?", r"certifications?", r"certificates?", r"certs?", r"courses?", r"books?", r"tutorials?", r"materials?",
                  r"where (?:can|do|should) i learn", r"how (?:can|do|should) i learn", r"recommend (?:a|some)", r"exam", r"bootcamps?", r"docs")
_MARKET = _any(r"market", r"layoffs?", r"laid off", r"jobs?", r"job market", r"demand", r"hiring", r"future", r"outlook", r"llms?", r"gpt",
               r"chatgpt", r"genai", r"ai (?:replace|take)", r"replace", r"replaced", r"proof[- ]of[- ]concepts?", r"pocs?", r"downturn",
               r"salary", r"salaries", r"pay", r"wages?", r"trend", r"trends", r"still worth", r"dying", r"safe", r"nlp jobs")
_ROLE_INFO = _any(r"what (?:does|do) an? .{0,40} do", r"what is an? .{0,40} (?:like|role|job)", r"day[- ]to[- ]day", r"day in the life",
                  r"what is it like", r"responsibilities", r"tell me about (?:the )?(?:an? )?.{0,30}(?:role|job|analyst|engineer)",
                  r"what'?s an? .{0,30} (?:role|job)", r"interview", r"interviewed", r"who do .{0,20} work with", r"typical tools")
_SKILL_INFO = _any(r"what is", r"what are", r"what'?s", r"explain", r"why (?:does|do|is|should)", r"matter", r"matters", r"important",
                   r"need to know", r"tell me about", r"how much", r"do i need", r"is .{0,30} (?:needed|required|useful)")
_SELF = re.compile(r"\b(i|i'm|im|i've|ive|my|me|i'd)\b", re.I)
_UPDATE = _any(r"i also", r"actually", r"i (?:now )?(?:know|use|used|have used|can|work with|worked with|am good at|am expert)",
               r"i have (?:\d|some|no|never|a|an|experience|used|worked|built|good)", r"i'?ve (?:used|worked|built|done|got|been)",
               r"i'?m (?:a|an|good|expert|strong|proficient|familiar|comfortable|fluent|currently)", r"i don'?t know", r"i never",
               r"i (?:can|could) (?:spend|do|study|put)", r"hours? (?:a|per|each) week", r"my (?:background|experience|skills)",
               r"i (?:want|prefer|like|enjoy)", r"forget", r"remove", r"not (?:really|actually)")
_DOMAIN = _any(r"skills?", r"learn", r"learning", r"career", r"role", r"job", r"analyst", r"engineer", r"data", r"model", r"models",
               r"dashboard", r"sql", r"python", r"path", r"switch", r"transition", r"portfolio", r"cv", r"resume", r"interview", r"study")
_FOLLOW_OTHER = re.compile(r"\b(the other (?:one|path|role|route|option)|the other|other path|other role|the alternative)\b", re.I)
_FOLLOW_THOSE = re.compile(r"\b(those|these|them|that list|of those|of these)\b", re.I)
_FOLLOW_ABOUT = re.compile(r"^\s*(?:and\s+)?(?:what|how)\s+about\b|^\s*and\s+(?:for\s+)?\w+", re.I)


@dataclass(frozen=True)
class Reading:
    intent: str
    roles: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    follow_up: bool = False
    states_profile: bool = False
    query: str = ""
    """The question rewritten to stand alone, for retrieval."""
    extra: dict = field(default_factory=dict)


def roles_in(text: str) -> tuple[str, ...]:
    found = [(m.start(), rid) for rid, pat in _ROLE_RE.items() for m in [pat.search(text)] if m]
    return tuple(rid for _, rid in sorted(found))


def classify(text: str, skills: tuple[str, ...], previous: Reading | None = None) -> Reading:
    """Read one user message. ``skills`` are the skill ids the text mentions (from aliases)."""
    roles = roles_in(text)
    is_question = text.strip().endswith("?") or bool(re.match(r"^\s*(what|which|how|why|should|can|could|is|are|do|does|where|when|tell|show|give|explain|compare|list)\b", text, re.I))
    states = bool(_SELF.search(text) and _UPDATE.search(text))

    if _GREETING.match(text):
        return Reading("greeting", query=text)

    # Follow-ups inherit what they leave unsaid from the previous turn.
    if previous is not None:
        if _FOLLOW_OTHER.search(text):
            if not previous.roles:  # the path was the recommender's pick; the context resolves it
                return replace(previous, follow_up=True, states_profile=False, query=text, extra={"other_path": True})
            others = [r for r in TARGET_ROLES if r not in previous.roles] or list(TARGET_ROLES)
            return _with_query(replace(previous, roles=(others[0],), follow_up=True, states_profile=False), text)
        if _FOLLOW_THOSE.search(text) and _PLAN.search(text) and previous.intent in ("fit", "compare", "plan", "role_info"):
            return _with_query(Reading("plan", roles=previous.roles[:1] or roles, skills=previous.skills, follow_up=True), text)
        if _FOLLOW_ABOUT.search(text) and len(text.split()) <= 8 and (skills or roles) and previous.intent not in ("greeting", "out_of_scope", "profile_update"):
            return _with_query(replace(previous, roles=roles or previous.roles, skills=skills or previous.skills, follow_up=True, states_profile=False), text)

    if states and not is_question:
        return _with_query(Reading("profile_update", roles=roles, skills=skills, states_profile=True), text)
    if _COMPARE.search(text) or (len(set(roles) & set(TARGET_ROLES)) == 2 and not _ROLE_INFO.search(text)):
        intent = "compare"
    elif _RESOURCES.search(text) and (skills or roles or re.search(r"certif|course|book", text, re.I)):
        intent = "resources"
    elif _PLAN.search(text) and (_SELF.search(text) or not skills):
        intent = "plan"
    elif _FIT.search(text) and _SELF.search(text):
        intent = "fit"
    elif _MARKET.search(text) and not (skills and not roles and _SKILL_INFO.search(text)):
        intent = "market"
    elif roles and (_ROLE_INFO.search(text) or not skills):
        intent = "role_info"
    elif skills:
        intent = "skill_info"
    elif _FIT.search(text):
        intent = "fit"
    elif states:
        return _with_query(Reading("profile_update", roles=roles, skills=skills, states_profile=True), text)
    elif _DOMAIN.search(text):
        intent = "search"
    else:  # no career words: the context decides by how close the knowledge base comes
        return Reading("search", query=text, extra={"uncertain": True})
    return _with_query(Reading(intent, roles=roles, skills=skills, states_profile=states), text)


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
    if reading.intent in ("resources",):
        parts.append("resources certifications courses")
    if reading.intent in ("plan", "fit"):
        parts.append("skills to learn plan")
    return replace(reading, query=" ".join(parts))
