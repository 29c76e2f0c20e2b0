"""The facts a profile states besides its skills: the role the person holds now (or a
background without a role document), the seniority they say, years of experience and the hours a
week they can study. Plain patterns over the text; the skills are read in ``advisor.extraction``."""

from __future__ import annotations

import re

NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "a couple of": 2, "a few": 3, "several": 4}
NUMBER = r"((?<![\d.])\d++(?:\.\d++)?|" + "|".join(NUMBER_WORDS) + r")"
"""A number starts at its first digit and is read whole (possessive): a long run of digits is then
linear to search, not quadratic."""
_YEARS = re.compile(r"\b" + NUMBER + r"\+?\s*(?:-\s*\d++\s*)?(?:years?|yrs?)\b", re.I)
_NOT_EXPERIENCE_BEFORE = re.compile(r"\b(?:within|next|coming|in the next|over the next|by|in)\s+(?:the\s+)?(?:\w+\s+)?$", re.I)
_NOT_EXPERIENCE_AFTER = re.compile(r"^\s*(?:ago|old|from now|later|time)\b", re.I)
_EARLIER_JOB = re.compile(r"\b(?:was|were|used to|previously|formerly|before (?:that|this))\b", re.I)
"""Years of another, earlier job ("I was a teacher for 6 years") or of the future ("within 2-3
years") are not years of experience in the current role."""
_AMOUNT = r"((?<![\d.])\d++(?:\.\d++)?|half an|an?|" + "|".join(NUMBER_WORDS) + r")"
_RANGE = r"(?:\s*(?:-|to|or)\s*\d++(?:\.\d++)?)?\s*(?:-?ish\s*)?"
_UNIT = r"(?:h|hours?|hrs?)\b"
_HOURS = [
    # (pattern, multiplier): how many of the stated hours make a week. A number is read whole from
    # its first digit (possessive ``\d++``): splitting a run of 8,000 digits every possible way took minutes.
    (re.compile(_AMOUNT + _RANGE + _UNIT + r"\s*(?:(?:a|per|each|every|/|p/?)\s*(?:week|wk|w)\b|weekly)", re.I), 1),
    (re.compile(_AMOUNT + _RANGE + _UNIT + r"\s*(?:a|per|each|every|/)\s*weekend|" + _AMOUNT + _RANGE + _UNIT + r"\s*(?:on|at|over)\s+(?:the\s+)?weekends?", re.I), 1),
    (re.compile(_AMOUNT + _RANGE + _UNIT + r"\s*(?:(?:a|per|each|every|/)\s*(?:day|night)\b|daily)", re.I), 7),
    (re.compile(_AMOUNT + _RANGE + _UNIT + r"\s*(?:(?:a|per|each|every|on)\s*(?:weekday|work ?day|evening|weeknight)s?\b|(?:a\s+day\s+)?after work)", re.I), 5),
    (re.compile(r"\bweekends?\b[^.\n]{0,40}?\b" + _AMOUNT + _RANGE + _UNIT, re.I), 1),
]
_SESSIONS = re.compile(
    _AMOUNT + _RANGE + r"(?:evenings?|nights?|days?|mornings?|sessions?)\s*(?:a|per|each|every)\s*week\b[^.\n]{0,30}?" + _AMOUNT + _RANGE + _UNIT, re.I
)
""""two evenings a week, about 2 hours each": sessions times hours."""
_JOB_HOURS = re.compile(r"\b(?:work|works|working|worked|job|office|shifts?|meetings?|on call|commute|billable|contract(?:ed)?)\b", re.I)
_STUDY_HOURS = re.compile(r"\b(?:learn|learning|study|studying|reskill\w*|course|spare|free|budget|for this|dedicate|put in|give (?:this|it)|can|could|commit|alongside|available|spend|set aside|carve out|after work|before work|outside work|on top of)\b", re.I)
OTHER_ROLE = "other"
ROLE_WORDS = {
    "data_scientist": r"data scientist|\bds\b",
    "data_analyst": r"data analyst|(?:product|marketing|financial|finance|pricing|business|operations|insights|commercial|sales|crm) analyst",
    "bi_analyst": r"(?:bi|business intelligence) (?:analyst|developer|engineer)|power ?bi developer|reporting analyst|bi (?:&|and) analytics",
    "mlops_engineer": r"mlops engineer|ml ?ops engineer|(?:ml|machine learning) platform engineer",
    "ml_engineer": r"(?:ml|machine learning) engineer",
    "analytics_engineer": r"analytics engineer",
    "data_engineer": r"data engineer",
    "ai_engineer": r"ai engineer",
    "other": r"(?:bio)?statistician|actuary|statistical programmer|phd (?:student|candidate|researcher)|(?:finishing|doing|writing up) my phd|postdoc(?:toral researcher)?|research(?:er| scientist)",
}
"""Role names as people write them. ``other`` covers backgrounds Reskill has no role document for
(statisticians, actuaries, researchers; ``knowledge/lexicon/backgrounds.yml`` says what is assumed of them)."""
_CURRENT_ROLE = re.compile(
    r"(?:\b(?:i am|i'm|im|working as|work as|currently|years? as|yrs as)[ \t]+(?:an?[ \t]+)?(?:\w+[ \t]+){0,2}?|^[^\w\n]*+(?:[\w'—–-]+[ \t]+){0,3}?)("
    + "|".join(ROLE_WORDS.values()) + r")(?!\s+(?:role|path|job)s?\b)",
    re.I | re.M,
)
"""``[^\w\n]*+`` is possessive: dashes fit both it and the words after it, and a line of 64,000
dashes took 49 s trying every split between the two."""
_ROLE_HERE = re.compile(r"\b(" + "|".join(ROLE_WORDS.values()) + r")\s+here\b|\b((?:finishing|doing|writing up) my phd)\b", re.I)
"""The chat way of saying it: "hiya, data analyst here"."""
_WANTED_ROLE = re.compile(r"\b(?:want|wants|wanted|like|hope|hoping|plan|planning|become|becoming|move|moving|switch|switching|transition|pivot|into|aspiring|target|apply|applying|applied)\b[^.\n]{0,30}$", re.I)
_SENIORITY_WORDS = {"junior": r"junior|jr\.?|entry[- ]level|graduate", "mid": r"mid[- ]level|mid", "senior": r"senior|sr\.?|lead|staff|principal"}
_SENIORITY = re.compile(
    r"\b(" + "|".join(_SENIORITY_WORDS.values()) + r")[ \t]+(?:[\w-]+[ \t]+)?(?:" + "|".join(ROLE_WORDS.values()) + r")\b"
    r"|\b(?:" + "|".join(ROLE_WORDS.values()) + r")[ \t]*\((" + "|".join(_SENIORITY_WORDS.values()) + r")\)",
    re.I,
)


def current_role(text: str) -> str | None:
    """The role the person holds now ("I'm a data scientist", a resume headline, "4 years as
    a Power BI developer"), not one they want ("I want to become an ML engineer")."""
    said = role_named(text)
    return role_of(said) if said else None


def role_named(text: str) -> str | None:
    """The role as the person wrote it ("pricing actuary", "data analyst"), see :func:`current_role`."""
    said = [(m.start(g), m.group(g)) for m in [*_CURRENT_ROLE.finditer(text), *_ROLE_HERE.finditer(text)]
            for g in range(1, (m.re.groups or 1) + 1) if m.group(g)]
    for start, name in sorted(said):
        if not _WANTED_ROLE.search(text[max(0, start - 40) : start]):
            return name.lower()
    return None


def current_seniority(text: str) -> str | None:
    """"Senior data scientist", "mid-level DS", "Data scientist (junior)": the seniority the person
    holds now, which sets the role prior's levels before years do."""
    for m in _SENIORITY.finditer(text):
        if _WANTED_ROLE.search(text[max(0, m.start() - 40) : m.start()]):
            continue
        said = (m.group(1) or m.group(2)).lower()
        return next(k for k, p in _SENIORITY_WORDS.items() if re.fullmatch(p, said, re.I))
    return None


_SENIOR_JOB = re.compile(
    r"\b(" + "|".join(_SENIORITY_WORDS.values()) + r")[ \t]+(?:roles?|positions?|jobs?|postings?|openings?|level)\b", re.I
)


def target_seniority(text: str) -> str | None:
    """The seniority of the job the person aims for: "I want a senior ML engineer role", "is a
    junior position realistic?". Their own title ("I'm a senior data scientist") is
    :func:`current_seniority`, not a target: read as one, it asked a senior for level 4 in
    everything and told them seven years."""
    holds = current_role(text)

    def aimed_at(m: re.Match) -> bool:
        named = next(r for r, p in ROLE_WORDS.items() if re.search(p, m.group(0), re.I))
        return named != holds or bool(_WANTED_ROLE.search(text[max(0, m.start() - 40) : m.start()]))

    first = min([*(m for m in _SENIORITY.finditer(text) if aimed_at(m)), *_SENIOR_JOB.finditer(text)], key=lambda m: m.start(), default=None)
    if first is None:
        return None
    said = (first.group(1) or first.group(2)).lower()
    return next(k for k, p in _SENIORITY_WORDS.items() if re.fullmatch(p, said, re.I))


def role_of(said: str) -> str:
    """The role id (or ``OTHER_ROLE``) of a role name as written."""
    return next(r for r, p in ROLE_WORDS.items() if re.fullmatch(p, said, re.I))


def weekly_hours(text: str) -> float | None:
    """Hours a week for learning, when the text states them: "10 hours a week", "6h/week", "5-ish
    hrs weekly", "an hour a day" (7), "1h every weekday" (5), "weekends only, maybe 4 hours",
    "two evenings a week, 2 hours each". The earliest statement wins; a range counts its first number."""
    found = []
    if m := next(_for_study(_SESSIONS, text), None):
        found.append((m.start(), _amount(m.group(1)) * _amount(m.group(2))))
    for pattern, times in _HOURS:
        if m := next(_for_study(pattern, text), None):
            found.append((m.start(), _amount(m.group(m.lastindex or 1)) * times))
    hours = min(found)[1] if found else 0.0
    return hours if 0 < hours <= 80 else None


def _for_study(pattern: re.Pattern, text: str):
    """Matches of ``pattern`` that are not the hours of a job ("I work 40 hours a week", "8 hours a
    day in meetings"): a work word before it in its sentence, with no study word, rules it out."""
    for m in pattern.finditer(text):
        # The sentence before it, at most 200 characters back: linear over a text of a thousand matches.
        window = max(0, m.start() - 200)
        start = max(text.rfind(".", window, m.start()), text.rfind("\n", window, m.start()), window - 1) + 1
        sentence = text[start : m.end()] + re.split(r"[,.;\n]", text[m.end() : m.end() + 80], maxsplit=1)[0]
        if _JOB_HOURS.search(sentence) and not _STUDY_HOURS.search(sentence):
            continue
        yield m


def _amount(word: str) -> float:
    word = word.lower()
    return {"a": 1.0, "an": 1.0, "half an": 0.5}.get(word) or number(word)


def years_experience(text: str) -> float | None:
    """The first "N years" that speaks of the person's experience: "4+ years in consumer lending",
    "a DS (4 yrs)", "For four years at a marketplace", "Seven years building pricing models"."""
    for m in _YEARS.finditer(text):
        sentence_start = max(text.rfind(".", 0, m.start()), text.rfind("\n", 0, m.start())) + 1
        before = text[sentence_start : m.start()]
        if _NOT_EXPERIENCE_BEFORE.search(before) or _NOT_EXPERIENCE_AFTER.search(text[m.end() :]) or _EARLIER_JOB.search(before):
            continue
        return min(number(m.group(1)), 60)
    return None


def number(word: str) -> float:
    return float(NUMBER_WORDS.get(word.lower(), word) if not word[0].isdigit() else word)
