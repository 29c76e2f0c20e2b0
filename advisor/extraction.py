"""Reading a profile out of free text: skills (via the knowledge base's aliases, with an
embedding fallback), their levels, negations and preferences; the other facts (role, seniority,
years, hours a week) are read by ``advisor.profile_facts``.

The text is cut into clauses at sentence ends and contrast words ("but", "although"),
and clauses into segments at commas. A negation ("no experience with", "never used")
covers the rest of its clause; a level cue ("expert in", "some", "5 years of") covers
its segment and the segments after it in the same clause until another cue appears.
"""

from __future__ import annotations

from collections.abc import Callable
import hashlib
import re
from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml

from advisor.claims import LACK_ABOVE, SCREEN_BELOW, ClaimReader, mask
from advisor.models import Extraction, Profile, SkillEvidence
from advisor.profile_facts import (
    NUMBER,
    OTHER_ROLE,
    ROLE_WORDS,
    current_seniority,
    number,
    role_named,
    role_of,
    weekly_hours,
    years_experience,
)
from advisor.role_prior import background_levels, background_of, prior_seniority, typical_levels
from knowledge.base import KnowledgeBase, normalise_alias
from knowledge.document import first_sentence, section_text

if TYPE_CHECKING:  # annotations only: importing langchain_core costs 0.1-0.15 s at each start
    from langchain_core.embeddings import Embeddings

_CLAUSE = re.compile(r"(?:[.;!?\n]+|\bbut\b|\balthough\b|\bthough\b|\bhowever\b|\bwhereas\b|\bexcept\b|(?<!not )(?<!n't )(?<!\()\byet\b(?! to\b)|\bwhile\b|\bso\b(?=\s+(?:i|we)\b))", re.I)
_SEGMENT = re.compile(r",|\band\b|\bplus\b|&|/(?=\s)|\|", re.I)
_NEGATION = re.compile(
    r"\b(no|not|never|don'?t|do not|doesn'?t|haven'?t|have not|hasn'?t|didn'?t|did not|(?:couldn'?t|could not) (?:\w+\s+)?(?:build|write|code|use|tell|explain|deploy|set up|do|read|make|create|train|get)|without|lack|lacking|zero|"
    r"unfamiliar|nothing|none|neither|nor|can'?t|cannot|want to learn|like to learn|need to learn|plan to learn|hope to learn|have yet to|should learn|could learn|might learn|learn to|thinking of learning|considering learning|not yet)\b(?!-)",
    re.I,
)
_DOUBLE_NEGATION = re.compile(
    r"\b(?:it'?s |it is )?not (?:that|as if|as though|like) (i|we)(?:'ve| have)? (?:don'?t|do not|haven'?t|have not|never|can'?t|cannot) ", re.I
)
""""It's not that I don't know SQL", "it's not as if I've never used Git": a claim, not a lack."""
_NOT_A_NEGATION = re.compile(r"\b(?:not (?:gonna|going to) (?:lie|pretend otherwise)|not to (?:brag|lie)|not gonna sugarcoat it|couldn'?t (?:be happier|agree more|live without)|could not (?:be happier|live without)|no (?:problems?|issues?|worries|doubt))\b[,:]?\s*", re.I)
""""not gonna lie, I mostly write SQL": a figure of speech, not a lack."""
_EXCEPTION = re.compile(r"\b(?:beyond|outside(?: of)?|other than|except(?: for)?|apart from|besides|bar)\b|,\s*(?:but\s+)?only\b(?!\s+(?:once|twice|heard|read|seen|watched|know|knew)\b)|,\s*(?:and\s+|but\s+)?(?:i|we|i'm|we're|i've|we've)\s+(?:just\s+|only\s+|mostly\s+|still\s+|also\s+|all\s+)?(?:use|used|on|work|rely|do|have|know|write|wrote|build|built|run|am|update|maintain|make|made|create|created|pull|own|manage|lead|led|spend|spent)\b(?!\s+(?:not|never|no)\b)", re.I)
"""Where a negation's reach ends: "no cloud beyond BigQuery" and "never deployed anything outside
the SAS grid" name what the person does use; so does a new statement after a comma ("neither Tableau nor
Power BI, we just use Excel charts", "not yet Looker, I have extensive Tableau experience"); "(macros I recorded, not wrote)" ends at its bracket."""
_YEARS_OF = re.compile(NUMBER + r"\+?\s*(?:years?|yrs?)\s+(?:of\s+)?", re.I)
_ROLE_MENTION = re.compile(
    "|".join(ROLE_WORDS.values()) + r"|\b(?:analyst|engineer|scientist|role|position|job|department)s?\b|\blead\b", re.I
)
"""A segment naming a role or a job ("exploring analytics lead / senior BI roles") is not matched to
a skill by meaning. A team is not in the list: "built forecasts for the supply team" states a skill."""
_PREPOSITION = re.compile(
    r"\b(?:for|at|with|in|on|to|from|during|since|of|by|about|as|last|this|the|our|my|i|we|have|has|had|been|spent|"
    r"years?|months?|weeks?|days?|also|mostly|mainly|lots|lot)\b",
    re.I,
)
_NEGATED_AFTER = re.compile(r"^(?:\s*/\s*[\w+#.-]+(?: [\w+#.-]+)?)*[\s:\-–—=?()|]*(?:0(?![.\d])|nil|tbd|tba|todo|to-?do|no|none|never|nope|nada|zip|zilch|zero|nothing|n/a|couldn'?t|could not|wouldn'?t|would not|not really|not yet|not much|not my (?:area|thing|job|strength)|haven'?t|don'?t|do not|doesn'?t|can'?t|cannot|what(?:'s| is| are) (?:that|those|these|this|it))\b|^(?:\s*/\s*[\w+#.-]+(?: [\w+#.-]+)?)*[\s()]*[:|—–-]\s*[-–—]\s*(?=$|[|,;])", re.I)
"""A negation right after the skill: "kubernetes no", "Kubernetes: never used it", "Python: none",
or an empty table cell: "Spark — -", "GCP: —"."""
_ROW_LACK_END = re.compile(r"\s*(?:$|[,.;:!?)(/]|\b(?:experience|exposure|idea|clue|real|at all|whatsoever|so far|yet|either|never|not|no|none|used|touched|tried|done|worked|needed)\b)", re.I)
_ROW_SEPARATOR = re.compile(r"\s[—–]\s|\s-\s|:\s")
"""Between the names of a table row and its value: "Docker, Kubernetes — none", "Spark / big data: 0/5"."""
_DOT_LEADER = re.compile(r"\s*\.{2,}\s*|\s{3,}")
_ONLY_SUBJECT = re.compile(r"[\s,:;/|()\-–—]*(?:(?:and|or|which|,|on the other hand|though|honestly)\s*)*(?:same|too|either)?[\s,]*(?:i|i've|ive|i'd|i'm|i have|i am|we|we've|we have)?\s*(?:honestly|really|just|actually|also|still|literally|genuinely|personally|ever|truly|totally)?\s*", re.I)
_LATER_REACH = 300
"""How far after a skill's name a lack said later is looked for ("Docker I've never used"): a
sentence's length, so a list of a thousand names is read in linear time, not quadratic."""
_NOT_ALONE = re.compile(r"\b(?:else|other|others|more|besides|beyond|apart)\b", re.I)
"""After "I use Python and don't know much else", the negation is not about Python."""
_GAP_LABEL = re.compile(r"\b(?:gaps?|missing|lacking|weak(?:er)? (?:spots|areas)|to learn|not yet)\W*$", re.I)
_ANSWERED = re.compile(r"\?\s*(?:(?:lol|haha|lmao|ha|double|hard|big|absolutely|definitely|honestly),?\s+)?(nope|no|never|none|n/a|not really|not yet|not at all|not my (?:area|thing|job|strength)|zero|nah|what(?:'s| is| are) (?:that|those|these|this|it))\b", re.I)
_IN_PARENTHESES = re.compile(r"\([^()]*\b(?:basic|basics|beginner|a little|a bit|some|familiar|advanced|expert|strong|daily|\d+\+?\s*(?:years?|yrs?))\b[^()]*\)", re.I)
"""``[^()]``, not ``[^)]``: from each "(" the scan stops at the next one, so a run of brackets is linear."""
_GAP_HEADING = re.compile(
    r"^\W*(?:not yet|gaps?|missing|lacking|what i (?:don'?t|do not) (?:have|know)|(?:things|skills|tools) i (?:lack|don'?t know|haven'?t used)|"
    r"(?:want|need|would like|plan) to learn|to learn|weak(?:er)? (?:spots|areas)|no experience(?: with)?|never used)\W*$",
    re.I,
)
"""A heading such as "NOT YET" or "Gaps:": the list under it names skills the person lacks."""
_HEADING = re.compile(r"^\s*(?:[A-Z][A-Z &/()-]{2,}|[^.!?]{1,40}:)\s*$")
_ROLE_PHRASE = re.compile(
    r"\b(?:ml|machine learning)(?:[- ]ops)?[- ](?:engineers?|engineering|track|path|role|roles|platform|team|in production|infrastructure|infra|side)\b|\bproduction ml\b", re.I
)
"""Phrases naming a role or a track, not the skill: "ML engineer" is not machine-learning fundamentals."""
_SENTENCE = re.compile(r"[^.!?]+[.!?]*|[.!?]+")
_OWN = re.compile(r"\b(?:my|our)\s+(?:[\w-]+\s+){0,2}$", re.I)
""""Is my SQL good enough?": a name right after "my" is the person's own, even in a question."""
_NAMED_OTHER_VERBS = r"(?:does|did|owns|handles|handled|runs|ran|built|builds|maintains|manages|wrote|writes|set up|sets up|looks after|deployed|deploys|trained|trains)\b"
_NAMED_OTHER = re.compile(r"(?:^|[,:;]\s*)(?!I\b)[A-Z][a-z]{2,}\s+" + _NAMED_OTHER_VERBS)
"""A colleague by name doing something ("Ana does all the dbt"); case-sensitive, at a clause or list start."""
_NEEDED = re.compile(r"\b(?:(?:need|needs|have|has|got|want|ought) to|know about|focus(?:ing)? on|start(?:ing)? with|recommend|worth) \w+", re.I)
"""In "do I need to know Airflow?", "know" asks about the skill rather than claiming it."""
_TEAM_AFTER = re.compile(r"\s+(?:team|squad|department|guild|chapter|folks|people)\b", re.I)
_TEAM_BEFORE = re.compile(r"\b(?:by|to|from|with|for|of)\s+(?:the|our|their|a|an|another|other)\s+$", re.I)
_LACK_OF_IT = re.compile(
    r"^(?:i\s+|i'?ve\s+)?(?:have\s+)?(?:never|haven'?t|have not|hasn'?t|not|didn'?t|did not|don'?t|do not|wasn'?t|was not|weren'?t)\b(?:[^.]{0,40}?\b(?:it|them|either|those|one|any)\b|(?:\s+\w+){0,2}\s*$)", re.I
)
"""A clause that only says the person has not used "it" ("but haven't opened it", "never used them")."""
_RATED = re.compile(r"[\s:\-–—=()|]*(\d+(?:\.\d+)?)\s*(?:/|out of)\s*(5|10)\b")
_RATED_BEFORE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*/\s*(5|10)\s*$")
_STARS = re.compile(r"[\s:\-–—=()|]*([★☆]{3,}|[●○]{3,}|[█░]{3,})")
_FULL = set("★●█")
_CROSSED = re.compile(r"[\s:\-–—=()|]*[✗✘❌]")
_JOINED = set("&'’-²")

_ONLY_TIME = re.compile(
    r"(?:\W|\d|\b(?:about|around|roughly|maybe|max|at most|up to|or|to|a|an|per|each|every|half|couple|few|several|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"h|hours?|hrs?|mins?|minutes?|days?|daily|weeks?|weekly|wk|months?|years?|yrs?|weekends?|evenings?|nights?|mornings?)\b|ish)*",
    re.I,
)
"""A piece that only says an amount of time ("7 hours a week", "about 3 years") names no skill: it is
not embedded (the facts are read by ``advisor.profile_facts``)."""
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|im|i've|i'd|me|my)\b", re.I)
_SELF = re.compile(r"\b(?:i|i'm|im|i've|i'd|my|myself|we|we've|we're)\b|,\s*(?:it'?s|it is|this|that)\b", re.I)
"""The person as a subject or owner, or a new subject after a comma ("30 colleagues use it, it's on our
GitLab"), ends what a third party does; "me" and "us" are objects ("recruiters keep sending me roles
that want Terraform")."""
_NOT_CLAIMED = re.compile(r"\b(over|rather than|instead of|more than|than)\b", re.I)
"""In "I prefer building systems over dashboards", what follows is not a skill the person claims."""
_NOT_CLAIMED_PLAIN = re.compile(r"\b(?:(?:i'?d|i would)\s+(?:\w+\s+)?rather\b.*?\bthan|(?:matters?|counts?|important|valued)\s+more\s+than)\b", re.I)
"""Without a liking, a wish or a ranking still leaves out what follows it: "I'd rather make the LLM work in
production than be the person making charts", "roles where communication matters more than model
deployment"; not "I use SQL more than Python", where both are used."""
_WORD = re.compile(r"[a-z0-9](?:[a-z0-9#]|\+(?![a-z0-9]))*")
"""A word; "+" belongs to it only at its end ("c++"), so "pandas+numpy+matplotlib" is three."""
_DETERMINER = re.compile(r"\b(?:a|an|the|some|any|this|that|these|those|its|their)\b|[\"'“”‘’]", re.I)
"""Words that do not count towards a piece's two words: "a table" alone is too little to mean Tableau."""


@dataclass(frozen=True)
class Mention:
    skill_id: str
    level: int
    evidence: str
    explicit: bool = True
    """False for a bare mention ("Skills: Python, SQL"): working level, or the role's typical level if higher."""


@dataclass(frozen=True)
class Lexicon:
    """How people state feelings about work (``knowledge/lexicon/preferences.yml``)."""

    likes: re.Pattern
    dislikes: re.Pattern
    usage: re.Pattern
    opinions: re.Pattern
    third_parties: re.Pattern
    made_by_others: re.Pattern
    """Right after a name: "the data pipelines (that) the engineers built"."""
    absent_before: re.Pattern
    absent_after: re.Pattern
    inline_gap: re.Pattern
    rhetorical: re.Pattern
    asking: re.Pattern
    quoted: re.Pattern
    level_cues: list[tuple[re.Pattern, int]]
    others_before_cue: re.Pattern
    """Right before a cue: the deed is someone else's ("reports that someone else built")."""
    preferences: dict[str, re.Pattern]
    favours: dict[str, str]
    labels: dict[str, str]
    goal_words: re.Pattern
    goals: dict[str, re.Pattern]
    goal_weight: int
    case_sensitive: frozenset[str]
    everyday_before: dict[str, frozenset[str]]

    def feeling(self, clause: str) -> re.Match | None:
        """The like/dislike word of a clause in which the person speaks of themselves ("I hate
        dashboards"), so that "tools like Airflow" in a resume bullet is not a feeling."""
        if dislike := self.dislikes.search(clause):
            return dislike  # "bored of dashboards tbh" needs no "I"
        if not _FIRST_PERSON.search(clause):
            return None
        return next((m for m in self.likes.finditer(clause) if not _filler_like(clause, m)), None)

    def goal(self, clause: str) -> tuple[str, bool] | None:
        """(role id, against) when the clause states a goal toward a path ("looking to move toward
        ML engineering"); ``against`` when a negation comes before the goal word."""
        want = self.goal_words.search(clause)
        if not want:
            return None
        roles = [r for r, p in self.goals.items() if p.search(clause, want.start())]
        if len(roles) != 1:
            return None  # "either BI or ML engineering" states no goal
        return roles[0], bool(_NEGATION.search(clause[: want.start()]))

    def say(self, preference: str) -> str:
        """A preference in words, as the person said it."""
        name = preference.removeprefix("avoid_")
        against = preference.startswith("avoid_")
        if name.startswith("goal_"):
            return ("you do not want " if against else "you want ") + self.labels[name].replace("moving", "to move", 1)
        return ("you dislike " if against else "you enjoy ") + self.labels[name]

    def weight(self, preference: str) -> int:
        return self.goal_weight if preference.removeprefix("avoid_").startswith("goal_") else 1

    def only_opinion(self, clause: str) -> bool:
        """An impression with no usage word and no level ("the ML stuff does look cool")."""
        return bool(self.opinions.search(clause)) and not self.usage.search(clause) and self.level(clause) is None

    def level(self, segment: str) -> int | None:
        """The level a segment's first matching cue group states (``knowledge/lexicon/levels.yml``).
        A usage cue after a negation is not a level ("none of these have I built myself")."""
        if m := _YEARS_OF.search(segment):
            return years_to_level(number(m.group(1)))
        negation = _NEGATION.search(segment)
        for pattern, level in self.level_cues:
            for cue in pattern.finditer(segment):
                if self.others_before_cue.search(segment, 0, cue.start()):
                    continue  # "reports that someone else built": their deed
                if not (level >= 3 and negation and negation.start() < cue.start()):
                    return level
                break
        return None

    def deny_rhetorical(self, text: str) -> str:
        """A claim followed by a rhetorical tag is rewritten as denied: "Power BI expert, me? sure"
        -> "(not) Power BI expert. sure" (the tags: ``absence.yml`` ``rhetorical``)."""
        out, last = [], 0
        for tag in self.rhetorical.finditer(text):
            # A tag standing alone after the sentence's full stop ("... fly helicopters on weekends. /s") denies
            # that sentence; one that opens a sentence of its own ("Yeah, right now I'm learning dbt") does not.
            alone = not text[tag.end() :].split("\n", 1)[0].strip(" .!?)")
            end = len(text[last : tag.start()].rstrip(" .!?" if alone else " ")) + last
            start = max(last, *(text.rfind(c, last, end) + 1 for c in ".!?\n"))
            claim = text[start:end].rstrip()
            if claim.strip():
                stop = "" if text[tag.end() :].lstrip()[:1] in (".", "!", "?") else "."  # not "..", a dot leader
                out += [text[last:start], f"(not) {claim.replace(',', ' ')}{stop}"]  # one statement, denied whole
                last = tag.end()
        return "".join(out) + text[last:]

    def theirs(self, clause: str, at: int) -> bool:
        """Whether the name at ``at`` belongs to a third party that is the subject before it
        ("management is pushing Power BI"), with no "I" or "we" in between."""
        last, start = None, max(0, at - _LATER_REACH)  # a sentence back: linear over a list of a thousand names
        for m in self.third_parties.finditer(clause, start, at):
            last = m
        for m in _NAMED_OTHER.finditer(clause, start, at):  # "my team: Ana does all the dbt, Raj owns the DAGs"
            last = m if last is None or m.end() > last.end() else last
        return last is not None and not _SELF.search(clause, last.end(), at)

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        data = _yaml(path)

        def words(items) -> re.Pattern:
            return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in sorted(items or ["(?!)"], key=len, reverse=True)) + r")\b", re.I)

        prefs = data.get("preferences", {})
        goals = data.get("goals", {})
        absence = _yaml(path.with_name("absence.yml"))
        levels = _yaml(path.with_name("levels.yml"))
        cues = levels.get("cues", [])
        return cls(
            likes=words(data.get("likes")),
            dislikes=words(data.get("dislikes")),
            usage=words(data.get("usage")),
            opinions=words(data.get("opinions")),
            absent_before=words(absence.get("before_skill")),
            absent_after=words(absence.get("after_skill")),
            inline_gap=re.compile(words(absence.get("gap_labels")).pattern + r"\s*:", re.I),
            rhetorical=re.compile(r"(?:" + "|".join(re.escape(w) for w in absence.get("rhetorical") or ["(?!)"]) + r")(?=\W|$)", re.I),
            asking=words(absence.get("asking")),
            quoted=re.compile(r"^\W*" + words(absence.get("quoted")).pattern + r"\s*:", re.I),
            third_parties=re.compile(
                r"(?:" + words(data.get("third_parties")).pattern
                + r"|\b(?:our|the|my|their|a|an|two|three|a few|several|other)\s+(?:[\w'’-]+\s+){0,2}?" + words(data.get("third_party_groups")).pattern + r")"
                + r"\s+(?:\w+ly\s+|all\s+|who\s+|that\s+|to\s+|at work\s+|here\s+|seems?\s+to\s+|(?:would|will)\s+)*" + words(data.get("third_party_verbs")).pattern, re.I
            ),
            made_by_others=re.compile(
                r"\s*(?:that\s+|which\s+)?(?:the|our|their|a|an|other)\s+(?:[\w-]+\s+){0,2}?" + words(data.get("third_party_groups")).pattern
                + r"\s+(?:\w+ly\s+)?" + words(data.get("third_party_verbs")).pattern
                # the company's tool: "we're a PBI shop"
                + r"|\s+(?:shop|house)\b"
                # a named colleague right after the name: "Kubernetes: Priya on our infra team set up the cluster"
                + r"|\s*[:\-–—]\s*(?-i:[A-Z][a-z]{2,})(?:\s+(?:on|from|in)\s+(?:our|the)\s+(?:[\w-]+\s+){0,2}?(?:team|squad))?\s+" + _NAMED_OTHER_VERBS,
                re.I,
            ),
            level_cues=_level_cues(path.with_name("levels.yml"), cues),
            others_before_cue=re.compile(r"\b(?:" + "|".join(levels.get("others_before_cue") or ["(?!)"]) + r")\s+(?:(?:had|has|have)\s+)?(?:\w+ly\s+)?$", re.I),
            preferences={name: words(p["phrases"]) for name, p in prefs.items()},
            favours={name: p["favours"] for name, p in prefs.items()} | {f"goal_{r}": r for r in goals},
            labels={name: p.get("label", name) for name, p in prefs.items()} | {f"goal_{r}": g["label"] for r, g in goals.items()},
            goal_words=words(data.get("goal_words")),
            goals={r: words(g["phrases"]) for r, g in goals.items()},
            goal_weight=int(data.get("goal_weight", 1)),
            case_sensitive=frozenset(data.get("case_sensitive_aliases", [])),
            everyday_before={k.lower(): frozenset(w.lower() for w in v) for k, v in (data.get("everyday_before") or {}).items()},
        )


def _level_cues(path: Path, cues: list[dict]) -> list[tuple[re.Pattern, int]]:
    """The cue groups of ``levels.yml``, in order; a broken entry names the file, the group and why."""
    out = []
    for n, group in enumerate(cues, 1):
        try:
            level = int(group["level"])
            if not 0 <= level <= 4:
                raise ValueError(f"level {level} is outside 0-4")
            out.append((re.compile(r"\b(?:" + "|".join(group["phrases"]) + r")\b", re.I), level))
        except (KeyError, TypeError, ValueError, re.error) as exc:
            raise ValueError(f"{path}: cue group {n}: {exc}") from None
    return out


def _yaml(path: Path) -> dict:
    """A lexicon file, parsed with libyaml when present (the store rebuilds the extractor after
    every write, and the pure-Python parser took tens of milliseconds)."""
    if not path.is_file():
        return {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}


@lru_cache(maxsize=1)
def _code_hash() -> str:
    h = hashlib.sha256()
    for path in (Path(__file__), Path(__file__).with_name("profile_facts.py")):
        h.update(path.read_bytes())
    return h.hexdigest()


def rules_fingerprint(lexicon: Path) -> str:
    """The rule reader's identity: its lexicon files (the first 8 characters; a test knowledge base
    has its own) and this module with the profile facts. The claim reader's training clauses are cut
    by it, so weights trained under other rules are not reused. The skill names are left out: the
    classifier reads them masked, and a knowledge-base edit should not retrain it."""
    h = hashlib.sha256()
    for path in sorted(lexicon.glob("*.yml")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:8] + _code_hash()[:8]


def years_to_level(years: float) -> int:
    if years >= 5:
        return 4
    if years >= 3:
        return 3
    if years >= 1:
        return 2
    return 1


class SkillExtractor:
    """Built once per knowledge base; ``extract(text)`` returns a partial :class:`Profile`."""

    def __init__(
        self,
        kb: KnowledgeBase,
        embedder: Embeddings | None = None,
        cache_dir: Path | None = None,
        threshold: float = 0.55,
        margin: float = 0.08,
        claims_cache: Path | None = None,
    ):
        """A phrase read by meaning takes the closest skill when its similarity is at least
        ``threshold`` and beats the next skill's by ``margin``; an ambiguous phrase names none.
        With an embedder, a mention the rules read as held is checked by the learned claim reader
        (``advisor.claims``), whose weights are cached in ``claims_cache``."""
        self.kb = kb
        self.embedder = embedder
        self.cache_dir = cache_dir
        self.threshold = threshold
        self.margin = margin
        # Normalised name -> skill id; multi-word names also match written as one word ("powerbi").
        self._names: dict[str, str] = {}
        for sid, skill in kb.skills.items():
            for name in [sid.replace("_", " "), skill.title, *skill.aliases]:
                key = normalise_alias(name)
                for form in (key, key.replace(" ", "")):
                    if form and form not in self._names:
                        self._names[form] = sid
        self._longest = max((len(n.split()) for n in self._names), default=1)
        self.lexicon = Lexicon.load(kb.root / "lexicon" / "preferences.yml")
        self._exact = {normalise_alias(a): a for a in self.lexicon.case_sensitive}
        self.claims = ClaimReader(embedder, claims_cache, self._clauses, rules_fingerprint(kb.root / "lexicon")) if embedder is not None else None
        self._skill_vectors: tuple[list[str], np.ndarray] | None = None
        # Chat turns re-read earlier messages; their phrases are embedded once.
        self._phrase_vectors: dict[str, list[float]] = {}

    # -- embedding fallback ------------------------------------------------------------------
    def _vectors(self) -> tuple[list[str], np.ndarray]:
        """Several descriptions per skill (title, aliases, level descriptors, first sentence of
        'What it is'). Vectors are cached on disk by text, so an edit re-embeds only what changed."""
        if self._skill_vectors is None:
            ids, texts = [], []
            for sid, skill in sorted(self.kb.skills.items()):
                what = first_sentence(section_text(self.kb.docs[sid].body, "what"))
                descriptions = [skill.title, f"{skill.title}: {', '.join(skill.aliases)}", *skill.levels.values(), what]
                ids += [sid] * len(descriptions)
                texts += descriptions
            self._skill_vectors = (ids, self._embed_cached(texts))
        return self._skill_vectors

    def _embed_cached(self, texts: list[str]) -> np.ndarray:
        path = self.cache_dir / "skill-vectors.npz" if self.cache_dir else None
        known: dict[str, np.ndarray] = {}
        if path and path.is_file():
            with np.load(path) as saved:
                known = dict(zip(saved["texts"].tolist(), saved["vectors"]))
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            known.update(zip(missing, np.asarray(self.embedder.embed_documents(missing), dtype=np.float32)))
            if path:
                path.parent.mkdir(parents=True, exist_ok=True)
                keep = list(dict.fromkeys(texts))
                tmp = path.with_name(path.stem + ".tmp.npz")
                np.savez(tmp, texts=np.array(keep), vectors=np.stack([known[t] for t in keep]))
                tmp.replace(path)
        return np.stack([known[t] for t in texts])

    def warm(self) -> None:
        """Embed the skill descriptions and load the claim reader now (at load) rather than in the first chat turn."""
        if self.embedder is not None:
            self._vectors()
        if self.claims is not None:
            self.claims.warm()

    def _semantic(self, phrases: list[str]) -> list[tuple[str, float] | None]:
        if not self.embedder or not phrases:
            return [None] * len(phrases)
        ids, vecs = self._vectors()
        if len(self._phrase_vectors) > 4096:  # bounded memory; cleared before this call's lookups, never during
            self._phrase_vectors.clear()
        missing = [p for p in dict.fromkeys(phrases) if p not in self._phrase_vectors]
        if missing:
            self._phrase_vectors.update(zip(missing, self.embedder.embed_documents(missing)))
        q = np.asarray([self._phrase_vectors[p] for p in phrases], dtype=np.float32)
        sims = q @ vecs.T
        out = []
        for row in sims:
            best: dict[str, float] = {}
            for sid, s in zip(ids, row):
                best[sid] = max(best.get(sid, -1.0), float(s))
            ranked = sorted(best.items(), key=lambda x: -x[1])
            top, second = ranked[0], ranked[1] if len(ranked) > 1 else ("", -1.0)
            out.append(top if top[1] >= self.threshold and top[1] - second[1] >= self.margin else None)
        return out

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, skill id) of every skill name in ``text``, longest name first; a role's name
        ("ML engineer", "the ML engineering track") does not name a skill."""
        text = _ROLE_PHRASE.sub(lambda m: " " * len(m.group()), text)
        tokens = [(m.start(), m.group()) for m in _WORD.finditer(text.lower())]
        found, i = [], 0
        while i < len(tokens):
            for n in range(min(self._longest, len(tokens) - i), 0, -1):
                name = " ".join(t for _, t in tokens[i : i + n])
                sid = self._names.get(name)
                if sid is None and name.endswith("s") and len(tokens[i + n - 1][1]) > 3:
                    name = name[:-1]  # "code reviews", "star schemas", "CNNs": a plural of a name
                    sid = self._names.get(name)
                exact = self._exact.get(name)
                if sid and exact and text[tokens[i][0] : tokens[i][0] + len(exact)] != exact:
                    sid = None  # "solid pandas" is not SOLID; "I did use" is not DiD
                if sid and name in self.lexicon.everyday_before and i + n < len(tokens) and tokens[i + n][1] in self.lexicon.everyday_before[name]:
                    sid = None  # "spark joy" is not Spark
                if sid:
                    last = tokens[i + n - 1]
                    found.append((tokens[i][0], last[0] + len(last[1]), sid))
                    i += n
                    break
            else:
                i += 1
        return found

    def skills_named(self, text: str) -> tuple[str, ...]:
        """Skill ids the text names through an alias, in order, whatever it says about them."""
        return tuple(dict.fromkeys(sid for *_, sid in self.find(text)))

    # -- extraction --------------------------------------------------------------------------
    def mentions(self, text: str) -> list[Mention]:
        """The skills a text names, read by the rules; a bare mention they read as held whose clause
        the claim reader is sure states a lack ("our platform guy does all the kubernetes stuff") is a lack."""
        found = self._read_by_rules(text)
        if self.claims is None:
            return found
        # Only a bare mention: a level or rating the rules read ("some Power BI", "SQL 4/5") is evidence
        # of its own; so is a negation they placed on another skill of the clause ("only Excel, never
        # Python"), or kept off this one by an exception ("never deployed anything outside the SAS grid").
        negated_here = {m.evidence for m in found if m.level == 0}
        held = [m for m in found if m.level > 0 and not m.explicit and m.evidence not in negated_here
                and not _EXCEPTION.search(m.evidence)]
        by_clause: dict[str, list[Mention]] = {}
        for m in held:
            by_clause.setdefault(m.evidence, []).append(m)
        hits = {clause: self.find(clause) for clause in by_clause}
        # A clause of several bare names is screened with one vector first (SCREEN_BELOW).
        several = [c for c, ms in by_clause.items() if len(ms) > 1]
        screen = dict(zip(several, self.claims.lack([mask(c, hits[c], {m.skill_id for m in by_clause[c]}) for c in several])))
        checked = [m for c, ms in by_clause.items() for m in ms if screen.get(c, 1.0) >= SCREEN_BELOW]
        lack = self.claims.lack([mask(m.evidence, hits[m.evidence], m.skill_id) for m in checked])
        overruled = {m.skill_id for m, p in zip(checked, lack) if p >= LACK_ABOVE}
        return [Mention(m.skill_id, 0, m.evidence, explicit=True) if m.skill_id in overruled else m for m in found]

    def _clauses(self, text: str) -> list[tuple[str, str]]:
        """(skill id, masked clause) for every skill the rules read in ``text``: the claim reader's training pairs."""
        return [(m.skill_id, mask(m.evidence, self.find(m.evidence), m.skill_id)) for m in self._read_by_rules(text)]

    def _read_by_rules(self, text: str) -> list[Mention]:
        found: dict[str, Mention] = {}
        fallback: list[tuple[str, int, str, bool]] = []

        def note(m: Mention) -> None:
            # An explicit statement beats a bare mention; a later explicit one beats an earlier one.
            old = found.get(m.skill_id)
            if old is None or m.explicit or not old.explicit:
                found[m.skill_id] = m if old is None or m.explicit or m.level >= old.level else old

        text = self.lexicon.deny_rhetorical(text)
        unsure: list[Mention] = []  # bare names of the previous clause, said with no usage word or level
        for clause, in_gap_list, asked in _clauses(text, self.lexicon.inline_gap, self.lexicon.asking, self.lexicon.quoted):
            if unsure and _LACK_OF_IT.match(clause) and not self.find(clause):
                # "I have a Tableau license but haven't opened it": the lack is about those names
                for m in unsure:
                    if found.get(m.skill_id) is m:
                        found[m.skill_id] = Mention(m.skill_id, 0, f"{m.evidence} … {' '.join(clause.split())}", explicit=True)
            plain = not self.lexicon.usage.search(clause) and self.lexicon.level(clause) is None
            neg = _clause_negation(clause, self._ends_with_name)
            if (before := self.lexicon.absent_before.search(clause)) and (neg is None or before.start() < neg.start()):
                neg = before
            if (label := self.lexicon.inline_gap.search(clause)) and (neg is None or label.end() < neg.start()):
                neg = label
            reach = _negation_reach(clause, neg, self._ends_with_name)
            # A lack said after the first negation's reach has ended ("While I have not yet worked with
            # Looker, I have extensive Tableau experience and am eager to learn LookML") covers what follows it.
            again = self.lexicon.absent_before.search(clause, reach) if neg is not None and reach < len(clause) else None
            evidence = " ".join(clause.split())
            liking = self.lexicon.feeling(clause)
            if liking and not neg and not self.lexicon.usage.search(clause):
                continue  # "I actually hate dashboards" states a preference, not a skill
            if not neg and self.lexicon.only_opinion(clause):
                continue
            unclaimed = _NOT_CLAIMED.search(clause, liking.end()) if liking else _NOT_CLAIMED_PLAIN.search(clause)
            cue_level: int | None = None
            listed: list[Mention] = []  # bare names so far in this clause: "Python, SQL and Spark daily"
            bare: list[Mention] = []
            for segment in _SEGMENT.split(clause):
                if not segment.strip():
                    continue
                level = self.lexicon.level(segment)
                if level is not None and _IN_PARENTHESES.search(segment):
                    cue_level, carried = level, cue_level  # "PowerBI (basic)" describes that item only
                else:
                    cue_level, carried = (level if level is not None else cue_level), None
                at = clause.find(segment)
                hits = [h for h in self.find(segment) if not _joined(clause, at + h[0], at + h[1])]
                for offset, end, sid in hits:
                    if unclaimed is not None and at + offset >= unclaimed.start():
                        continue
                    if asked and (level or 0) < 2 and not self._claims_use(segment) and not _OWN.search(segment[max(0, offset - 80) : offset]):
                        continue  # "should I learn Kubernetes or Terraform first?" claims neither
                    if _TEAM_AFTER.match(segment, end) and _TEAM_BEFORE.search(segment[max(0, offset - 80) : offset]):
                        continue  # "done by the product analytics team": the team's name, not a skill of theirs
                    # Under a "GAPS" heading a stated level still counts: "SQL: basic" is level 1
                    negated = ((in_gap_list and cue_level is None) or (neg is not None and neg.start() <= at + offset < reach)
                               or (again is not None and again.start() <= at + offset)
                               or bool(_NEGATED_AFTER.search(clause[at + end : at + end + 80]))
                               or self._row_negated(clause, at + end)
                               or (cue_level is None and self._negated_later(clause, at + end, at + offset)))
                    if not negated and (self.lexicon.theirs(clause, at + offset) or self.lexicon.made_by_others.match(clause, at + end)):
                        continue
                    rated = None if negated else _rating(clause[at + end : at + end + 80], segment[max(0, offset - 20) : offset])
                    lvl = 0 if negated else rated if rated is not None else (2 if cue_level is None else cue_level)
                    note(Mention(sid, lvl, evidence, explicit=negated or rated is not None or cue_level is not None))
                    if not negated and cue_level is None:
                        listed.append(found[sid])
                        bare.append(found[sid])
                # "Power BI | daily"; not "Go (basic)", a level for an item that is not a skill
                said_alone = not hits and level is not None and not _IN_PARENTHESES.search(segment) and len(_WORD.findall(segment.lower())) <= 3
                # A low level said right after a name is that name's ("python, sklearn, sql, airflow a bit"):
                # reading it over the list would tell a senior data scientist their Python is a beginner's.
                after_last = hits and level is not None and level > 1 and not _IN_PARENTHESES.search(segment)
                if said_alone or (after_last and self.lexicon.level(segment[: hits[0][0]]) is None):
                    # A level said after the names covers the whole list before it ("X and Y are second nature")
                    for m in listed:
                        if found.get(m.skill_id) is m:
                            found[m.skill_id] = Mention(m.skill_id, level, m.evidence, explicit=True)
                if hits:
                    if level is not None or len(_WORD.findall(_without(segment, hits).lower())) > 3:
                        listed = []
                if not hits and not liking and len(segment.split()) >= 2 and not _ROLE_MENTION.search(segment):
                    negated = (in_gap_list or (neg is not None and neg.start() <= at + len(segment) and at < reach)
                               or (cue_level is None and self._negated_later(clause, at)))
                    if _done_by_others(segment):
                        continue  # "originally built by the data team" names no skill, and is no lack of one
                    if not negated and self.lexicon.theirs(clause, at + len(segment)):
                        continue
                    # A phrase matched only by its meaning takes a level said in its own segment, not one carried
                    # from before: "finishing my PhD in neuroscience and trying to figure out industry" is no
                    # expert business acumen.
                    level = 0 if negated else (2 if level is None else level)
                    for phrase in _phrases(segment):
                        fallback.append((phrase, level, evidence, negated or cue_level is not None))
                if carried is not None or _IN_PARENTHESES.search(segment):
                    cue_level = carried
                elif not hits and level is not None and level <= 1 and len(_WORD.findall(segment.lower())) > 5:
                    # "a bit of VBA for the monthly rebate calcs - and SQL": a low level said of something else is
                    # that thing's; a verb of doing ("I've deployed a dozen models, each in its own Docker image") carries
                    cue_level = None
            unsure = [m for m in bare if found.get(m.skill_id) is m] if plain else []
        matches = self._semantic([f[0] for f in fallback])
        # Best-scoring phrase first, so a skill takes the evidence that matched it most clearly.
        for (phrase, lvl, evidence, explicit), match in sorted(zip(fallback, matches), key=lambda x: -(x[1][1] if x[1] else 0)):
            if match and match[0] not in found:
                note(Mention(match[0], lvl, evidence, explicit))
        return list(found.values())

    def _claims_use(self, segment: str) -> bool:
        """Whether a segment of a question says the person uses something ("do I need Docker if I
        use Python daily?"); "know about X", "focus on X" and the skills' own names ("ML system
        design") do not count."""
        asked = _NEEDED.sub(" ", segment)
        return bool(self.lexicon.usage.search(_without(asked, self.find(asked))))

    def _ends_with_name(self, text: str) -> bool:
        hits = self.find(text)
        return bool(hits) and not text[hits[-1][1] :].strip()

    def _row_negated(self, clause: str, pos: int) -> bool:
        """A table row whose value, after a dash or a colon, is a lack covers every name before it:
        "Docker, model deployment/serving of any kind — none", "Spark / big data: 0/5"."""
        rest = clause[pos : pos + 120]
        sep = _ROW_SEPARATOR.search(rest)
        if sep is None:
            return False
        between = rest[: sep.start()]
        if self.lexicon.usage.search(between) or self.lexicon.level(between) is not None or _NEGATION.search(between):
            return False
        value = _NEGATED_AFTER.match(rest[sep.start() :])
        # the value is the lack itself ("— none", "— no, never", ": 0/5"), not the lack of another thing ("- no cloud yet")
        return value is not None and bool(_ROW_LACK_END.match(rest, sep.start() + value.end()))

    def _negated_later(self, clause: str, pos: int, name_start: int | None = None) -> bool:
        """A lack said after the skill: "Power BI is on my list", "Docker I've never used",
        "Tableau / Power BI: can't say I've done much of either". Only when nothing positive
        (a usage word, a level cue) comes between, and a plain negation has no skill of its own
        after it ("Tableau, and never used Docker" negates Docker only). A name the person says
        they work with ("I update Power BI reports that someone else built") is theirs, whoever built
        the thing."""
        rest = clause[pos : pos + _LATER_REACH]
        after = self.lexicon.absent_after.search(rest)
        if after and name_start is not None and _OWN_USE_BEFORE.search(clause[max(0, name_start - 60) : name_start]):
            after = None
        plain = _NEGATION.search(rest)
        for m, plain_negation in ((after, False), (plain, True)):
            if m is None:
                continue
            between = rest[: m.start()]
            if self.lexicon.usage.search(between) or self.lexicon.level(between) is not None or _new_statement(rest[: m.end()]):
                continue
            if plain_negation:
                # only right after the names: "Docker I've never used", "X and Y, which I've never done"
                if not _ONLY_SUBJECT.fullmatch(_without(between, self.find(between))):
                    continue
                tail = re.sub(r"\([^)]*\)?", " ", rest[m.end() :])
                if self.find(tail) or _NOT_ALONE.search(tail):
                    continue
            return True
        return False

    def extract(self, text: str, role_prior: bool = True) -> Profile:
        """A profile holding only what the text states (``model_fields_set`` says which fields).

        A bare mention is a working level (2), or the current role's typical level when that is
        higher: a data scientist listing "Python" is not saying their Python is only working level.
        """
        mentions = self.mentions(text)
        fields: dict = {}
        if (years := years_experience(text)) is not None:
            fields["years_experience"] = years
        if (hours := weekly_hours(text)) is not None:
            fields["weekly_hours"] = hours
        if seniority := current_seniority(text):
            fields["current_seniority"] = seniority
        if said := role_named(text):
            role = role_of(said)
            fields["current_role"] = None if role == OTHER_ROLE else role
            if role == OTHER_ROLE and (background := background_of(self.kb, said)):
                fields["background"] = background
        typical = {}
        if role_prior:
            draft = Profile(**{k: v for k, v in fields.items() if k in ("years_experience", "current_role", "background", "current_seniority")})
            typical = typical_levels(self.kb, draft.current_role, prior_seniority(draft)) or background_levels(self.kb, draft.background)
        fields["skills"] = [
            SkillEvidence(
                skill_id=m.skill_id,
                name=self.kb.skills[m.skill_id].title,
                level=m.level if m.explicit else max(m.level, typical.get(m.skill_id, 0)),
                evidence=[m.evidence],
            )
            for m in mentions
        ]
        prefs = self.preferences(text)
        if prefs:
            fields["preferences"] = prefs
        known = [m for m in mentions if m.level > 0]
        fields["extraction"] = confidence(len(known), len(mentions) - len(known))
        return Profile(**fields)

    def preferences(self, text: str) -> list[str]:
        """'engineering', 'business_facing', ... for what the text says it likes, and
        'avoid_<name>' for what it says it dislikes (a negated liking counts as a dislike)."""
        out = []
        for clause in _CLAUSE.split(text):
            if goal := self.lexicon.goal(clause):
                out.append(("avoid_goal_" if goal[1] else "goal_") + goal[0])
            if not (feeling := self.lexicon.feeling(clause)):
                continue
            found = []
            against = None  # a feeling covers the segments after it until another one appears
            for segment in _SEGMENT.split(clause):
                if self.lexicon.dislikes.search(segment):
                    against = True
                elif like := next((m for m in self.lexicon.likes.finditer(segment) if not _filler_like(segment, m)), None):
                    against = _NEGATION.search(segment[: like.start()]) is not None
                if against is None:
                    continue
                # "I love coding, meetings not so much": a negation in a segment with no feeling word
                # of its own turns a liking carried into it ("I don't like dashboards, reports neither" stays against).
                turned = not self.lexicon.likes.search(segment) and not self.lexicon.dislikes.search(segment) and bool(_NEGATION.search(segment))
                for name, pattern in self.lexicon.preferences.items():
                    if pattern.search(segment):
                        found.append(f"avoid_{name}" if against or turned else name)
            if self.lexicon.dislikes.search(clause) and not self.lexicon.likes.search(clause):
                # A clause with only a dislike speaks against all it names, also before the dislike
                # ("I built a Qlik dashboard once and I genuinely hated it")
                found = [f"avoid_{name}" for name, pattern in self.lexicon.preferences.items() if pattern.search(clause)]
            out += found
        return list(dict.fromkeys(out))

    def lean(self, preferences: list[str]) -> dict[str, int]:
        """role id -> net count of stated preferences for (+) or against (-) it."""
        score: dict[str, int] = {}
        for p in preferences:
            name = p.removeprefix("avoid_")
            role = self.lexicon.favours.get(name)
            if role:
                weight = self.lexicon.weight(p)
                score[role] = score.get(role, 0) + (-weight if p.startswith("avoid_") else weight)
        return score


def _without(text: str, hits: list[tuple[int, int, str]]) -> str:
    """``text`` with the skill names ``find`` found in it cut out."""
    for start, end, _ in reversed(hits):
        text = text[:start] + text[end:]
    return text


def _rating(rest: str, before: str = "") -> int | None:
    """A self-rating right after a name, or right before it, as a level: "Docker 1/5" (1), "SQL 8/10"
    (3), "Python ★★★★☆" or "●●●●○" (3), "SQL ██████░░░░" (2), "Power BI ✗" (0), "0/5 docker" (0). Out of 5 or 10, scaled to the 0-4
    levels and rounded."""
    if (m := _RATED.match(rest)) or (m := _RATED_BEFORE.search(before)):
        score, scale = float(m.group(1)), float(m.group(2))
        return round(4 * min(score, scale) / scale) if scale else None
    if m := _STARS.match(rest):
        stars = m.group(1)
        return round(4 * sum(c in _FULL for c in stars) / len(stars))
    return 0 if _CROSSED.match(rest) else None


def _joined(text: str, start: int, end: int) -> bool:
    """A one-letter name with one of ``_JOINED`` right before or after it is part of another word:
    "R&D", "R-squared", "R²" do not name the language R."""
    return end - start == 1 and bool(_JOINED & {text[start - 1 : start], text[end : end + 1]})


def _negation_reach(clause: str, neg: re.Match | None, annotates: Callable[[str], bool]) -> int:
    """Where the clause's negation stops covering names (see ``_EXCEPTION``). A negation inside
    brackets that annotate a name ("excel (some macros I recorded, not wrote), SQL") speaks of the
    bracket only; ``annotates(text)`` says whether ``text`` ends with a skill's name."""
    if neg is None:
        return len(clause)
    before = clause[: neg.start()]
    opened, close = before.rfind("("), clause.find(")", neg.end())
    if opened > before.rfind(")") and close >= 0 and annotates(clause[:opened]):
        return close
    end = _EXCEPTION.search(clause, neg.end())
    return end.start() if end else len(clause)


_DONE_BY_OTHERS = re.compile(
    r"(?:\s+(?!(?:be|like|i|we|and|or|but)\b)[\w/-]+){0,2}?\s+(?:is\s+|are\s+|was\s+|were\s+|been\s+)?(?:\w+ly\s+)?(?:built|run|owned|handled|maintained|managed|set up|shipped|rolled out|operated|written|configured|deployed|designed|done)"
    r"(?:\s+and\s+(?:is\s+|are\s+|was\s+)?(?:\w+ly\s+)?\w+(?:\s+up)?)?(?:\s+(?:\w+ly|all|mostly))?\s+by\s+(?!me\b|myself\b|hand\b|us\b)",
    re.I,
)
"""A phrase that is a deed done by someone else ("originally built by the data team") names no skill
of the person's and says no lack of one, so the meaning fallback does not read it; not "built by me",
nor "like it's going to be maintained by someone else"."""


def _done_by_others(phrase: str) -> bool:
    m = _DONE_BY_OTHERS.match(phrase)
    return m is not None and not _SELF.search(phrase, 0, m.end())


_OWN_USE_BEFORE = re.compile(r"\b(?:i|we)\s+(?:\w+ly\s+|also\s+|still\s+|just\s+)?(?:use|used|update|updated|edit|edited|maintain|maintained|extend|extended|fix|fixed|run|ran|work with|worked with|work in|worked in)\s+(?:the\s+|our\s+|a\s+|some\s+)?$", re.I)
"""Right before a name: the person says they work with it ("and i update power bi ...")."""


_NEW_SUBJECT = re.compile(r"\b(?:and|then|but|so)\s+(?:i|we)\s+([\w'’]+(?:\s+[\w'’]+){0,2})", re.I)
"""A new statement of the person's own between a name and a later lack: "SQL queries for the sales
pack, and I update Power BI reports that someone else built" says nothing against SQL."""


def _new_statement(text: str) -> bool:
    """Whether ``text`` holds a new statement of the person's own that is not itself a lack
    ("and I update ...", not "and I have never ...")."""
    return any(not _NEGATION.search(m.group(1)) for m in _NEW_SUBJECT.finditer(text))


_RELATIVE = re.compile(r"\b(?:models?|servers?|jobs?|tables?|reports?|dashboards?|pipelines?|services?|things?|ones?|queries|files?|data|tools?|workloads?|features?)\s+(?:that|which)\s+$", re.I)
"""Right before a negation: the negation is in a relative clause about things ("servers that don't fit")."""


def _clause_negation(clause: str, names_end: Callable[[str], bool]) -> re.Match | None:
    """The first negation that covers what follows it. One right after "Name:" or "Name -"
    ("Version control: none - our SAS programs...") speaks of that name only (``_NEGATED_AFTER``);
    after other words and a dash ("Cloud-wise I'm pretty green — no real AWS") it covers the rest.
    ``names_end(text)`` says whether ``text`` ends with a skill's name."""
    for m in _NEGATION.finditer(clause):
        before = clause[max(0, m.start() - 120) : m.start()]  # what ends there: linear over a long table
        if _RELATIVE.search(before):
            continue  # "the model servers that don't fit Vertex (Triton ...)": says what the things are, not a lack
        label = re.search(r"\w[)\s]*[:\-–—?(]\s*$", before)
        if not label or _GAP_LABEL.search(before) or not names_end(before[: label.start() + 1].rstrip(" )")):
            return m
    return None


def _clauses(text: str, inline_gap: re.Pattern | None = None, asking: re.Pattern | None = None, quoted: re.Pattern | None = None):
    """(clause, in_gap_list, asked) for every clause; ``in_gap_list`` is True under a heading such as
    "NOT YET" or "Gaps:" until a blank line or the next heading, and for the rest of a line that
    opens with a gap label ("things i know im missing: dbt is on my list. … and dax"); ``asked`` when
    the clause is part of a question about skills (a sentence ending in "?" with an ``asking`` word).
    A line opening with a ``quoted`` label ("Requirements: 5+ years Spark"), or under it as a heading,
    quotes someone else (a job ad) and yields nothing."""
    in_gap = quoting = False
    for line in text.splitlines():
        if quoted and (said := quoted.match(line)):
            quoting = not line[said.end() :].strip()  # a heading: the lines under it are quoted too
            continue
        if quoting and line.strip() and not _HEADING.match(line.strip()):
            continue
        quoting = False
        label = inline_gap.search(line) if inline_gap else None
        if label and line[label.end() :].strip() and label.start() <= 40 and not re.search(r"[.!?]", line[: label.start()]):
            for clause in _CLAUSE.split(line[label.end() :]):
                if clause.strip():
                    yield clause.strip(), True, False
            continue
        stripped = line.strip()
        if not stripped:
            in_gap = False
            continue
        if _GAP_HEADING.match(stripped):
            in_gap = True
            continue
        if _HEADING.match(stripped):
            in_gap = False
        line = _ANSWERED.sub(r" \1", line)  # "Docker? nope" is one statement
        line = _DOUBLE_NEGATION.sub(r"\1 ", line)
        line = _NOT_A_NEGATION.sub("", line)
        line = _DOT_LEADER.sub(" | ", line)  # "Kubernetes ........ no" is one table row
        for sentence in _SENTENCE.findall(line):
            question = sentence.rstrip().endswith("?")
            for clause in _CLAUSE.split(sentence):
                if clause.strip():
                    # Only the clause that asks: "I'm great with Excel, ... but I have never used git, which
                    # apparently everyone expects now?" asks nothing about Excel.
                    yield clause.strip(), in_gap, question and bool(asking and asking.search(clause))


def _phrases(segment: str) -> list[str]:
    """The segment and its pieces between prepositions: "spent last year containerising apps
    for the platform team" also tries "year containerising apps", whose meaning is not diluted."""
    pieces = [p.strip() for p in _PREPOSITION.split(segment) if len(_DETERMINER.sub(" ", p).split()) >= 2]
    return [p for p in dict.fromkeys([segment.strip(), *pieces]) if not _ONLY_TIME.fullmatch(p)]


def _filler_like(text: str, m: re.Match) -> bool:
    """"like" as a comparison or filler ("(like 3 reports", "tools like Airflow"), not a liking:
    a liking "like" has the person right before it ("I like", "I'd really like", "we like")."""
    if m.group().lower() not in ("like", "likes"):
        return False
    return not re.search(r"\b(?:i|we|i'd|we'd|would|really|do|also|genuinely|actually|still|kinda|quite)\s+$", text[: m.start()], re.I)


def confidence(known: int, absent: int) -> Extraction:
    if known == 0:
        reason = "no skills were recognised in the text" + (f" ({absent} stated as missing)" if absent else "")
        return Extraction(confidence=0.0, reason=reason + "; tell me which tools and methods you use and how well")
    if known < 3:
        return Extraction(confidence=0.3, reason=f"only {known} skill(s) recognised; the gaps assume you lack everything not mentioned")
    if known < 6:
        return Extraction(confidence=0.6, reason=f"{known} skills recognised; mention more of your tools for a sharper picture")
    return Extraction(confidence=0.9, reason=f"{known} skills recognised")
