"""Reading a profile out of free text: skills (via the knowledge base's aliases, with an
embedding fallback), their levels, negations, hours a week, years of experience.

The text is cut into clauses at sentence ends and contrast words ("but", "although"),
and clauses into segments at commas. A negation ("no experience with", "never used")
covers the rest of its clause; a level cue ("expert in", "some", "5 years of") covers
its segment and the segments after it in the same clause until another cue appears.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from advisor.models import Extraction, Profile, SkillEvidence
from knowledge.base import KnowledgeBase, normalise_alias
from knowledge.document import first_sentence, section_text

_CLAUSE = re.compile(r"(?:[.;!?\n]+|\bbut\b|\balthough\b|\bthough\b|\bhowever\b|\bwhereas\b|\bexcept\b|\byet\b(?! to\b)|\bwhile\b)", re.I)
_SEGMENT = re.compile(r",|\band\b|\bplus\b|&|/(?=\s)", re.I)
_NEGATION = re.compile(
    r"\b(no|not|never|don'?t|do not|doesn'?t|haven'?t|have not|hasn'?t|didn'?t|did not|without|lack|lacking|zero|"
    r"unfamiliar|nothing|none|can'?t|cannot|want to learn|like to learn|need to learn|plan to learn|hope to learn|have yet to)\b",
    re.I,
)
# Ordered: the first pattern that matches in a segment sets the level.
_LEVEL_CUES: list[tuple[re.Pattern, int]] = [
    (re.compile(r"\b(expert|mastery|master|guru|deep expertise|architected|lead(?:ing)? .{0,20}team)\b", re.I), 4),
    (re.compile(r"\b(advanced|strong|proficient|fluent|solid|extensive|deep(?! learning)|very good|excellent|heavy|heavily)\b", re.I), 3),
    (re.compile(r"\b(daily|every day|everyday|in production|production|a lot|lots of|extensively|(?<!as )well)\b", re.I), 3),
    (re.compile(r"\b(basic|basics|beginner|a little|a bit|little|dabbled|played with|tutorial|tutorials|intro|introductory|(?<!machine )(?<!deep )(?<!reinforcement )learning|novice|rusty|limited)\b", re.I), 1),
    (re.compile(r"\b(some|familiar|working knowledge|decent|okay|ok|moderate|intermediate|occasionally|occasional|now and then)\b", re.I), 2),
]
_YEARS_OF = re.compile(r"(\d+(?:\.\d+)?)\+?\s*(?:years?|yrs?)\s+(?:of\s+)?", re.I)
_YEARS_EXPERIENCE = re.compile(
    r"(\d+(?:\.\d+)?)\+?\s*(?:years?|yrs?)\s+(?:of\s+)?(?:professional\s+|industry\s+|work\s+)?"
    r"(?:experience|as an?\b|in data|in industry|working|in the field|in analytics|in machine learning|in ml)",
    re.I,
)
_HOURS = re.compile(
    r"(\d+(?:\.\d+)?)\s*(?:-|to)?\s*(?:\d+\s*)?(?:h|hours?|hrs?)\s*(?:a|per|each|every|/|a\s+)\s*(?:week|wk)", re.I
)
_ROLE_WORDS = {
    "data_scientist": r"data scientist",
    "data_analyst": r"data analyst",
    "bi_analyst": r"(?:bi|business intelligence) analyst",
    "ml_engineer": r"(?:ml|machine learning) engineer",
    "analytics_engineer": r"analytics engineer",
    "data_engineer": r"data engineer",
    "mlops_engineer": r"mlops engineer",
    "ai_engineer": r"ai engineer",
}
_CURRENT_ROLE = re.compile(r"\b(?:i am|i'm|im|working as|work as|currently)\s+(?:an?\s+)?(?:\w+\s+){0,2}?(" + "|".join(_ROLE_WORDS.values()) + r")", re.I)
_PREFERENCES = {
    "business_facing": re.compile(r"\b(business[- ]facing|stakeholders?|business side|talking to (?:the )?business|decision[- ]makers|storytelling|dashboards?)\b", re.I),
    "engineering": re.compile(r"\b(engineering|build(?:ing)? systems|infrastructure|production systems|software|backend|deploy(?:ing|ment)?s?|platform)\b", re.I),
}
_ROLE_MENTION = re.compile("|".join(_ROLE_WORDS.values()) + r"|\b(?:analyst|engineer|scientist)s?\b", re.I)
_PREPOSITION = re.compile(
    r"\b(?:for|at|with|in|on|to|from|during|since|of|by|about|as|last|this|the|our|my|i|we|have|has|had|been|spent|"
    r"years?|months?|weeks?|days?|also|mostly|mainly|lots|lot)\b",
    re.I,
)
_COMMON_WORDS = frozenset({"solid", "excel", "spark", "dash", "flask"})
"""Aliases that are also everyday words: they count only when written capitalised."""
_NOT_CLAIMED = re.compile(r"\b(over|rather than|instead of|more than|than)\b", re.I)
"""In "I prefer building systems over dashboards", what follows is not a skill the person claims."""
_WORD = re.compile(r"[a-z0-9][a-z0-9+#]*")
_LIKE = re.compile(r"\b(enjoy|like|love|prefer|drawn to|interested in|want to|would rather)\b", re.I)


@dataclass(frozen=True)
class Mention:
    skill_id: str
    level: int
    evidence: str


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
        margin: float = 0.04,
    ):
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
        """Embed the skill descriptions now (at load) rather than in the first chat turn."""
        if self.embedder is not None:
            self._vectors()

    def _semantic(self, phrases: list[str]) -> list[tuple[str, float] | None]:
        if not self.embedder or not phrases:
            return [None] * len(phrases)
        ids, vecs = self._vectors()
        missing = [p for p in dict.fromkeys(phrases) if p not in self._phrase_vectors]
        if missing:
            if len(self._phrase_vectors) > 4096:
                self._phrase_vectors.clear()
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

    def find(self, text: str) -> list[tuple[int, str]]:
        """(character offset, skill id) of every skill name in ``text``, longest name first."""
        tokens = [(m.start(), m.group()) for m in _WORD.finditer(text.lower())]
        found, i = [], 0
        while i < len(tokens):
            for n in range(min(self._longest, len(tokens) - i), 0, -1):
                name = " ".join(t for _, t in tokens[i : i + n])
                sid = self._names.get(name)
                if sid and name in _COMMON_WORDS and not text[tokens[i][0]].isupper():
                    sid = None  # "solid pandas" is not SOLID; "excel at" is not Excel
                if sid:
                    found.append((tokens[i][0], sid))
                    i += n
                    break
            else:
                i += 1
        return found

    def skills_named(self, text: str) -> tuple[str, ...]:
        """Skill ids the text names through an alias, in order, whatever it says about them."""
        return tuple(dict.fromkeys(sid for _, sid in self.find(text)))

    # -- extraction --------------------------------------------------------------------------
    def mentions(self, text: str) -> list[Mention]:
        found: dict[str, Mention] = {}
        fallback: list[tuple[str, int, str]] = []
        for clause in _CLAUSE.split(text):
            clause = clause.strip()
            if not clause:
                continue
            neg = _NEGATION.search(clause)
            liking = _LIKE.search(clause)
            unclaimed = _NOT_CLAIMED.search(clause, liking.end()) if liking else None
            cue_level: int | None = None
            for segment in _SEGMENT.split(clause):
                if not segment.strip():
                    continue
                level = _segment_level(segment)
                cue_level = level if level is not None else cue_level
                hits = self.find(segment)
                at = clause.find(segment)
                for offset, sid in hits:
                    if unclaimed is not None and at + offset >= unclaimed.start():
                        continue
                    negated = neg is not None and neg.start() <= at + offset
                    lvl = 0 if negated else (cue_level or 2)
                    found[sid] = Mention(sid, lvl, " ".join(clause.split()))
                if not hits and not liking and len(segment.split()) >= 2 and not _ROLE_MENTION.search(segment):
                    negated = neg is not None and neg.start() <= at + len(segment)
                    level = 0 if negated else (cue_level or 2)
                    for phrase in _phrases(segment):
                        fallback.append((phrase, level, " ".join(clause.split())))
        matches = self._semantic([f[0] for f in fallback])
        # Best-scoring phrase first, so a skill takes the evidence that matched it most clearly.
        for (phrase, lvl, evidence), match in sorted(zip(fallback, matches), key=lambda x: -(x[1][1] if x[1] else 0)):
            if match and match[0] not in found:
                found[match[0]] = Mention(match[0], lvl, evidence)
        return list(found.values())

    def extract(self, text: str) -> Profile:
        """A profile holding only what the text states (``model_fields_set`` says which fields)."""
        mentions = self.mentions(text)
        fields: dict = {
            "skills": [
                SkillEvidence(skill_id=m.skill_id, name=self.kb.skills[m.skill_id].title, level=m.level, evidence=[m.evidence])
                for m in mentions
            ]
        }
        if m := _YEARS_EXPERIENCE.search(text):
            fields["years_experience"] = min(float(m.group(1)), 60)
        if (hours := weekly_hours(text)) is not None:
            fields["weekly_hours"] = hours
        if m := _CURRENT_ROLE.search(text):
            said = m.group(1).lower()
            fields["current_role"] = next(r for r, p in _ROLE_WORDS.items() if re.fullmatch(p, said, re.I))
        prefs = [name for name, pat in _PREFERENCES.items() if _liked(text, pat)]
        if prefs:
            fields["preferences"] = prefs
        known = [m for m in mentions if m.level > 0]
        fields["extraction"] = confidence(len(known), len(mentions) - len(known))
        return Profile(**fields)


def _phrases(segment: str) -> list[str]:
    """The segment and its pieces between prepositions: "spent last year containerising apps
    for the platform team" also tries "year containerising apps", whose meaning is not diluted."""
    pieces = [p.strip() for p in _PREPOSITION.split(segment) if len(p.split()) >= 2]
    return list(dict.fromkeys([segment.strip(), *pieces]))


def weekly_hours(text: str) -> float | None:
    """Hours a week for learning, when the text states them ("10 hours a week", "6h/week")."""
    m = _HOURS.search(text)
    hours = float(m.group(1)) if m else 0.0
    return hours if 0 < hours <= 80 else None


def _segment_level(segment: str) -> int | None:
    if m := _YEARS_OF.search(segment):
        return years_to_level(float(m.group(1)))
    for pattern, level in _LEVEL_CUES:
        if pattern.search(segment):
            return level
    return None


def _liked(text: str, pattern: re.Pattern) -> bool:
    for clause in _CLAUSE.split(text):
        if pattern.search(clause) and _LIKE.search(clause) and not _NEGATION.search(clause):
            return True
    return False


def confidence(known: int, absent: int) -> Extraction:
    if known == 0:
        reason = "no skills were recognised in the text" + (f" ({absent} stated as missing)" if absent else "")
        return Extraction(confidence=0.0, reason=reason + "; tell me which tools and methods you use and how well")
    if known < 3:
        return Extraction(confidence=0.3, reason=f"only {known} skill(s) recognised; the gaps assume you lack everything not mentioned")
    if known < 6:
        return Extraction(confidence=0.6, reason=f"{known} skills recognised; mention more of your tools for a sharper picture")
    return Extraction(confidence=0.9, reason=f"{known} skills recognised")
