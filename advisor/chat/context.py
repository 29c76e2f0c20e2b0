"""Everything one chat turn needs before an engine writes the answer.

The conversation is stateless on the server: the profile is rebuilt from what the user
said in earlier turns (or taken as given), the previous turn's reading resolves
follow-ups, and retrieval runs on a standalone version of the question.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field, replace

import yaml

from advisor.chat.intents import ROLE_PATTERNS, ABOUT_ME, FIXED, GENERAL_OR_PERSONAL, PERSONAL, WHOLE_PLAN, Reading, other_path, read, roles_in
from advisor.chat.reading import READING_DIR, Guess, Reader
from advisor.errors import BadInput
from advisor.profile_facts import target_seniority, weekly_hours
from knowledge.document import section_text
from advisor.models import Comparison, Message, Profile, Recommendation
from advisor.profile import merge
from knowledge.base import TARGET_ROLES
from retrieval.hit import Hit

NEEDS_PROFILE = ("fit", "plan", "compare", "why")
CLOSE_PASSAGE = 0.6
"""Cosine similarity at which an unsure reading is answered from the closest passage instead of asked back."""
TOPICAL = 0.5
"""Cosine similarity of the closest passage at which a resources question has a topic of its own
("resources for building llm apps" 0.58) rather than asking about the person's path ("any good
courses for getting started?" 0.43, "book recs?" 0.26)."""
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
    known: list[str] = field(default_factory=list)
    """Skills the message states that the profile already holds at those levels ("Python: level 3"),
    when the face merged the message into the profile before asking."""
    paths: list[str] = field(default_factory=list)
    """The roles the turn is about (named, else the person's targets, else both paths)."""
    asked: str | None = None
    """What the recommender needs to know before it can give figures, when it says so."""
    also: str | None = None
    """The type of a second question in the same message, when there is one."""
    also_text: str = ""
    """That second question as the person wrote it ("is the pay worse than data science")."""
    options: list[str] = field(default_factory=list)
    """The two options a question weighs ("a cert or a portfolio?"), each answered with its own passage."""

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
    r"^\s*(?:(?:also|and|so|ok|okay|but|oh|btw|plus)[\s,]+)*"  # "also do i need kubernetes", typed without its "?"
    r"(what|which|how|why|when|where|who|should|can|could|would|is|are|do|does|will|compare|explain|tell|show|give|list|"
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


def chat_reader(adv) -> Reader:
    """The advisor's question-type reader, built on first use and kept on the advisor."""
    reader = adv.__dict__.get("_chat_reader")
    if reader is None or reader.kb is not adv.kb:
        vocabulary = "|".join(sorted(f"{sid}:{','.join(sk.aliases)}" for sid, sk in adv.kb.skills.items()))
        reader = Reader(
            adv.embedder,
            adv.settings.data_dir / "cache",
            lambda text: (roles_in(text), skills_in(adv, text)),
            model_name=adv.settings.embedding_model,
            embed_one=adv.retriever.embed_query,
            vocabulary=hashlib.sha256(vocabulary.encode()).hexdigest()[:16],
        )
        reader.kb = adv.kb
        adv.__dict__["_chat_reader"] = reader
    return reader


def read_turns(adv, texts: list[str]) -> list[Reading]:
    """Readings of consecutive user messages, each leaning on the one before (one embedding batch)."""
    reader = chat_reader(adv)
    guesses = reader.guesses(texts) if texts else []
    out: list[Reading] = []
    for text, guess in zip(texts, guesses):
        out.append(read(text, guess, skills_in(adv, text), out[-1] if out else None))
    return out


def skills_in(adv, text: str) -> tuple[str, ...]:
    """Skills the text names, except words that are part of a role's name ("machine learning" in
    "machine learning engineer" is the role, not the fundamentals skill). A question names a skill
    by its full title too: "ml system design" is the skill, though the profile reader takes "ML
    systems design" in a resume for the ML engineering track."""
    spans = [m.span() for pat in ROLE_PATTERNS.values() for m in pat.finditer(text)]
    found = [f for f in adv.extractor.find(text) if not any(a <= f[0] < b for a, b in spans)]
    taken = [(a, b) for a, b, _ in found] + spans
    pattern, names = _long_names(adv.kb)
    for m in pattern.finditer(text):
        if not any(a < m.end() and m.start() < b for a, b in taken):
            found.append((m.start(), m.end(), names[" ".join(re.split(r"[\s-]+", m.group(1).lower()))]))
            taken.append(m.span())
    return tuple(dict.fromkeys(sid for _, _, sid in sorted(found)))


def _long_names(kb) -> tuple[re.Pattern, dict[str, str]]:
    """One pattern for the skill titles and aliases of three words or more (longest first, so the
    longest name wins where two start together), and name -> skill id; cached per knowledge base.
    One alternation compiles in a few milliseconds, where a pattern per name cost 70 ms a start."""
    cached = kb.__dict__.get("_chat_long_names")
    if cached is not None and cached[0] == len(kb.docs):
        return cached[1]
    names: dict[str, str] = {}
    for sid, sk in kb.skills.items():
        for name in [sk.title, *sk.aliases]:
            words = re.findall(r"[a-z0-9+#]+", re.sub(r"\(.*?\)", " ", name.lower()))
            if len(words) >= 3:
                names.setdefault(" ".join(words), sid)
    alternatives = (r"[\s-]+".join(map(re.escape, n.split())) for n in sorted(names, key=lambda n: -len(n)))
    out = (re.compile(r"\b(" + "|".join(alternatives) + r")s?\b", re.I), names)
    kb.__dict__["_chat_long_names"] = (len(kb.docs), out)
    return out


def build_context(adv, question: str, history: list, profile: Profile | dict | None) -> TurnContext:
    s = adv.settings
    if not isinstance(question, str) or not question.strip():
        raise BadInput("the question is empty")
    if len(question) > s.max_message_chars:
        raise BadInput(f"the question is longer than {s.max_message_chars} characters")
    messages = check_history(history or [], s.max_messages, s.max_message_chars)

    said = [m.content for m in messages if m.role == "user"]
    readings = read_turns(adv, [*said, question])
    reading = readings[-1]
    given = profile is not None
    current = adv.profile(profile) if given else Profile()
    if not given:
        for text, r in zip(said, readings[:-1]):
            current = absorb(adv, current, text, r)

    before = current
    current = absorb(adv, current, question, reading)
    hours = weekly_hours(question)
    if hours is not None and hours != current.weekly_hours:
        current = current.model_copy(update={"weekly_hours": hours})
    if seniority := target_seniority(question):
        current = current.model_copy(update={"seniority": seniority})
    changes = profile_diff(before, current, adv.kb)

    typed = _typed_questions(adv, question)
    if (reading.intent == "clarify" or reading.intent not in FIXED) and (first := _first_question_type(typed, reading.intent)):
        reading = replace(reading, intent=first, alternatives=())
    if weighs_options(question) and (reading.intent in _WEIGHED_AS or (reading.intent in ABOUT_ME and "?" in question)):
        # "the ckad, or just put a k8s deployment on github?": a certificate weighed against the work.
        reading = replace(reading, intent="education", alternatives=())
    doubtful = reading.intent == "clarify" or (
        reading.intent in ("capabilities", "greeting", "thanks", "out_of_scope") and reading.confidence < 0.6
    )
    if doubtful and adv.retriever.relevance(question) >= CLOSE_PASSAGE:
        # Unsure what kind of question it is, but one passage answers it closely: answer from it.
        reading = replace(reading, intent="search")
    if reading.extra.get("other_path"):
        if not has_profile(current):
            reading = replace(reading, intent="role_info" if reading.intent in NEEDS_PROFILE else reading.intent, roles=TARGET_ROLES[1:], extra={})
        else:
            picked = adv.recommend(current).plan.role_id
            reading = other_path(reading, picked if picked in TARGET_ROLES else TARGET_ROLES[0])
    if reading.intent == "how_long" and reading.skills and reading.roles and _asks_time_to_role(adv, question):
        # "python sklearn sql, no docker. how long to become an ML engineer?": the skills describe the person
        reading = replace(reading, skills=())
    known = [] if changes else already_known(adv, question, current)
    ctx = TurnContext(question=question, reading=reading, profile=current, history=messages, changes=changes, known=known)
    ctx.paths = paths(adv, ctx)
    ctx.also, ctx.also_text = _second_question(typed, reading)
    _retrieve(adv, ctx)
    return ctx


_REMOVE = re.compile(r"\b(remove|forget|undo|ignore|take (?:\w+ )?out|scratch|drop|delete)\b", re.I)


def absorb(adv, profile: Profile, text: str, reading: Reading) -> Profile:
    """Merge what ``text`` says about the person into ``profile``, as its reading allows:
    a preference sets preferences only (never a skill level), a correction may remove skills,
    a question contributes only its statements ("I have 10 hours a week, plan my move")."""
    if reading.intent in ("out_of_scope",):
        return profile
    if reading.intent == "preference":
        found = adv.extractor.extract(text)
        prefs = [p for p in found.preferences if p not in profile.preferences]
        return profile.model_copy(update={"preferences": [*profile.preferences, *prefs]}) if prefs else profile
    if reading.intent == "correction" and _REMOVE.search(text):
        drop = set(adv.extractor.skills_named(text))
        if drop:
            return profile.model_copy(update={"skills": [sk for sk in profile.skills if sk.skill_id not in drop]})
    said = text if reading.intent in ABOUT_ME else self_statements(text)
    if not said:
        return profile
    found = adv.extractor.extract(said)
    stated = found.model_fields_set - {"skills", "extraction"}
    if not found.skills and not stated:
        return profile
    return merge(profile, found)


def already_known(adv, question: str, profile: Profile) -> list[str]:
    """Skills the question states that ``profile`` already has at the same level."""
    have = profile.levels()
    stated = adv.extractor.extract(question).skills
    return [f"{s.name}: level {s.level}" for s in stated if have.get(s.skill_id) == s.level]


def profile_diff(before: Profile, after: Profile, kb) -> list[str]:
    """What changed between two profiles, in words a person reads."""
    out = []
    old, new = before.levels(), after.levels()
    def name(sid: str) -> str:
        return kb.skills[sid].title if sid in kb.skills else sid.replace("_", " ")
    for sid, level in new.items():
        if sid not in old:
            out.append(f"{name(sid)}: level {level}" + (" (you do not have it)" if level == 0 else ""))
        elif old[sid] != level:
            out.append(f"{name(sid)}: level {level} (was {old[sid]})")
    out += [f"{name(sid)}: removed" for sid in old if sid not in new]
    # Said at the level that was assumed: nothing moved, but the person should see they were heard.
    was = {sk.skill_id: sk.source for sk in before.skills}
    confirmed = [name(sk.skill_id) for sk in after.skills
                 if sk.source == "stated" and was.get(sk.skill_id, "stated") != "stated" and old.get(sk.skill_id) == sk.level]
    if confirmed:
        out.append("confirmed as you said them: " + ", ".join(confirmed))
    if after.weekly_hours != before.weekly_hours:
        out.append(f"weekly hours set to {after.weekly_hours:g} (was {before.weekly_hours:g})")
    if after.seniority != before.seniority:
        out.append(f"target seniority set to {after.seniority} (was {before.seniority})")
    if after.current_role != before.current_role and after.current_role:
        out.append(f"current role: {after.current_role.replace('_', ' ')}")
    if after.years_experience != before.years_experience and after.years_experience is not None:
        out.append(f"years of experience: {after.years_experience:g}")
    added = [p.replace("_", " ") for p in after.preferences if p not in before.preferences]
    if added:
        out.append("preference noted: " + ", ".join(added))
    return out


_HOW_LONG = re.compile(r"\b(?:how long|how much time|how many (?:weeks|months|hours|years)|time (?:needed|it takes)|timeline)\b", re.I)


def _asks_time_to_role(adv, question: str) -> bool:
    """Whether a "how long" question asks about a role rather than a skill: after the first "how
    long", a role is named before any skill ("how long would it take me to become an ML engineer,
    and do I need Kubernetes?"), not "how long to learn Docker if I want to be an ML engineer"."""
    asked = _HOW_LONG.search(question)
    if asked is None:
        return False
    rest = question[asked.end() :]
    role_at = min((m.start() for pat in ROLE_PATTERNS.values() for m in [pat.search(rest)] if m), default=None)
    skill_at = min((a for a, _, _ in adv.extractor.find(rest)), default=None)
    return role_at is not None and (skill_at is None or role_at < skill_at)


def _questions(message: str) -> list[str]:
    """The questions of one message, split at question marks and at "and how/what/...", each of three
    words or more; a part keeps only its last sentence when that is a question of its own ("...BI is my
    thing honestly. How long to be a proper BI analyst" is asked by its last sentence)."""
    parts = []
    for p in re.split(r"\?|\band (?:also )?(?=how|what|which|should|is|are|do|does|will|where)\b", message):
        last = re.split(r"(?<=[.!])\s+", p.strip())[-1]
        parts.append(last if len(last.split()) >= 3 else p.strip())
    return [p for p in parts if len(p.split()) >= 3]


def _typed_questions(adv, message: str) -> list[tuple[str, Guess]]:
    """(question, the reader's guess of its type) for each question of a message of two or more;
    read once per turn for both uses below."""
    parts = _questions(message)
    return list(zip(parts, chat_reader(adv).guesses(parts))) if len(parts) >= 2 else []


def _first_question_type(typed: list[tuple[str, Guess]], whole: str) -> str | None:
    """The type of the first question of a message whose reading as a whole (``whole``) is none of
    its questions' types: a profile, then two questions, reads as neither ("... I think BI is my
    thing honestly. How long to be a proper BI analyst? and is the PL-300 worth it?" as unsure; "mostly
    xgboost + sql. whats faster for me, BI or MLE? also do i need kubernetes" as which skill first),
    while each question on its own is plain."""
    if not typed or any(g.type == whole for _, g in typed):
        return None
    first = typed[0][1]
    return None if first.unsure or first.type in FIXED + ("follow_up",) else str(first.type)


def _second_question(typed: list[tuple[str, Guess]], reading: Reading) -> tuple[str | None, str]:
    """The type and text of a second question in the same message ("how much do they earn, and how
    long would it take me?"), when its type differs from the message's; it is answered after it. The
    later parts are tried first, then the first one: in "... How long to be a proper BI analyst? and is
    the PL-300 worth it?" the message reads as the certificate question, and the first part is the other."""
    if not typed or reading.intent in FIXED:
        return None, ""
    for part, guess in [*typed[1:], typed[0]]:
        if not guess.unsure and guess.type != reading.intent and guess.type not in FIXED + ABOUT_ME + ("follow_up",):
            return str(guess.type), part
    return None, ""


def has_profile(profile: Profile) -> bool:
    """The person has said something about their skills (assumed levels do not count)."""
    return any(sk.level > 0 and sk.source != "assumed" for sk in profile.skills)


def assumed_skills(rec: Recommendation | None) -> list[str]:
    """Skills the recommendation assumed from the person's current role (the role prior)."""
    if rec is None:
        return []
    return [sk.name or sk.skill_id for sk in rec.profile.skills if sk.source == "assumed" and sk.level > 0]


def headings(body: str) -> list[str]:
    return [h.strip() for h in re.findall(r"^##\s+(.*)$", body, flags=re.M)]


def section(adv, doc_id: str, *words: str) -> Hit | None:
    """The section of one document whose heading holds one of ``words`` (in that order of
    preference), as a passage: the Markdown is the source of truth the index mirrors."""
    doc = adv.kb.docs.get(doc_id)
    if doc is None:
        return None
    for word in words:
        heading = next((h for h in headings(doc.body) if word.lower() in h.lower()), None)
        if heading is not None:
            m = doc.meta
            return Hit(
                doc_id=doc.id, title=m.title, kind=m.kind, roles=list(m.roles), skills=list(m.skills),
                section=heading, score=0.0, snippet=section_text(doc.body, heading),
            )
    return None


def search(adv, query: str, k: int, kind: str | None = None, role: str | None = None) -> list[Hit]:
    """Hybrid search on the question as written: its vector is the one the reader already
    computed, so a turn embeds the question once."""
    return adv.retriever.search(query, k=k, kind=kind, role=role)


def ranked(adv, query: str, doc_ids: list[str], k: int = 2, kind: str | None = None) -> list[Hit]:
    """The passages of ``doc_ids`` that best answer ``query`` (hybrid search, kept to those documents)."""
    wanted = [d for d in doc_ids if d in adv.kb.docs]
    if not wanted:
        return []
    hits = search(adv, query, k=30, kind=kind)
    return [h for h in hits if h.doc_id in wanted][:k]


def paths(adv, ctx: TurnContext, limit: int = 2) -> list[str]:
    """The roles a turn is about: those it names, else the person's targets, else both paths."""
    named = [r for r in dict.fromkeys(ctx.reading.roles) if r in adv.kb.roles and r != "data_scientist"]
    if not named and "data_scientist" in ctx.reading.roles:
        named = ["data_scientist"]
    return (named or [r for r in ctx.profile.target_roles if r in adv.kb.roles] or list(TARGET_ROLES))[:limit]


def paths_of(ctx: TurnContext) -> list[str]:
    return ctx.paths


def transition_id(ctx: TurnContext, role: str) -> str:
    return f"{ctx.profile.current_role or 'data_scientist'}_to_{role}"


def _personal(adv, ctx: TurnContext) -> bool:
    """Compute the recommendation when the profile allows figures; False when it does not."""
    targets = _targets(ctx)
    rec = adv.recommend(ctx.profile, targets=targets)
    if not has_profile(ctx.profile) and not (rec.show_numbers and assumed_skills(rec)):
        ctx.asked = rec.ask
        return False
    ctx.recommendation = rec
    return True


def _retrieve(adv, ctx: TurnContext) -> None:
    """Gather the passages this turn may cite, by type."""
    r, q = ctx.reading, ctx.reading.query or ctx.question
    kind = r.intent
    if kind in FIXED:
        return
    if kind in PERSONAL + ("why",) + ABOUT_ME or (kind in GENERAL_OR_PERSONAL and has_profile(ctx.profile) and not (kind == "how_long" and r.skills)):
        if _personal(adv, ctx):
            _recommendation_hits(adv, ctx)
            return
        if kind in PERSONAL + ("why",) + ABOUT_ME:
            return  # the engine asks for a profile first (or just notes the statement)
    roles = paths(adv, ctx)
    if kind == "role_info":
        for role in roles:
            main, best = section(adv, role, "day to day", "does"), adv.retriever.lookup(role, q)
            if best is not None and main is not None and best.section == main.section:
                best = section(adv, role, "good looks like", "skills", "tools")
            if best is None:  # a short role document: what the move from data science involves
                best = section(adv, transition_id(ctx, role), "transfers", "missing", "differ")
            ctx.add_hits([main, best] if len(roles) == 1 else [main])
    elif kind == "day_to_day":
        for role in roles:
            ctx.add_hits([section(adv, role, "day to day", "does")])
            if re.search(r"\bwho\b|\bwith\b", q, re.I):
                ctx.add_hits([section(adv, role, "work with")])
        ctx.add_hits(ranked(adv, q, ["remote_work_and_daily_reality"], k=1) if re.search(r"remote|hours|on.?call|meeting|stress", q, re.I) else [])
    elif kind == "role_difference":
        named = [x for x in dict.fromkeys(r.roles) if x in adv.kb.roles]
        others = [x for x in named if x != "data_scientist"] or list(TARGET_ROLES)
        if len(others) == 1 or "data_scientist" in named:
            ctx.add_hits([section(adv, others[0], "differ")])
        else:
            ctx.add_hits([section(adv, role, "day to day", "does") for role in others[:2]])
            ctx.add_hits([section(adv, role, "differ") for role in others[:2]])
    elif kind == "pay":
        wanted = [x for x in dict.fromkeys(r.roles) if x in adv.kb.roles] or roles
        for role in wanted[:3]:
            ctx.add_hits([section(adv, role, "pay", "earn")])
        ctx.add_hits(ranked(adv, q, ["pay_and_compensation"], k=1))
    elif kind == "education":
        ctx.options = options_weighed(ctx.question)
        if ctx.options:
            _certificate_or_portfolio(adv, ctx, q)
            return
        if re.search(r"certif|\bcerts?\b|exam|pl-?300|ckad|dp-?100", q, re.I):
            ctx.add_hits(search(adv, q, k=2, kind="resource", role=roles[0] if r.roles else None))
        ctx.add_hits(ranked(adv, q, ["degrees_and_credentials"], k=2))
        if not ctx.hits:
            ctx.add_hits([section(adv, role, "interview") for role in roles])
    elif kind == "interview":
        for role in roles:
            prep = ranked(adv, q, [f"interviews_{transition_id(ctx, role)}"], k=1)
            ctx.add_hits([section(adv, role, "interview"), *prep] if prep else [section(adv, role, "interview"), section(adv, transition_id(ctx, role), "interview")])
    elif kind == "portfolio":
        for skill in r.skills[:1]:
            ctx.add_hits([section(adv, skill, "portfolio")])
        for role in roles:
            ctx.add_hits([section(adv, transition_id(ctx, role), "portfolio")])
    elif kind == "ai_impact":
        # "will LLMs eat BI jobs too" asks about the path it names, not about NLP work
        about = ["ai_assisted_data_work"] if r.roles else ["ai_assisted_data_work", "llms_changed_nlp_work", "llms_in_internal_production"]
        if r.roles and fears_replacement(q):
            ctx.add_hits([section(adv, "ai_assisted_data_work", "replace")])
        ctx.add_hits(ranked(adv, q, about, k=2, kind="market"))
        if not ctx.hits:
            ctx.add_hits(search(adv, q + " LLMs AI", k=2, kind="market"))
    elif kind == "market":
        ctx.add_hits(search(adv, q, k=2, kind="market"))
    elif kind == "skill_need":
        target = _target_words(ctx)
        for role in roles:
            ctx.add_hits([section(adv, role, "good looks like", "skills", "tools")])
        for sid in r.skills[:2]:
            ctx.add_hits([section(adv, sid, f"matter for {target}", "why", "matter")])
    elif kind == "skill_info":
        target = _target_words(ctx)
        # The passage of the skill's document that best answers the question as asked, when it is
        # not the 'what' or 'why it matters' section already given: a sentence the person added in
        # the editor ("run the same image on a colleague's laptop...") is then in the answer.
        asked = ranked(adv, q, r.skills[:2], k=6, kind="skill") if r.skills else []
        for sid in r.skills[:2]:
            what = section(adv, sid, "what")
            why = section(adv, sid, f"matter for {target}", "why", "matter") or adv.retriever.lookup(sid, f"why it matters for {target}")
            given = {h.section for h in (what, why) if h is not None}
            best = next((h for h in asked if h.doc_id == sid), None)
            ctx.add_hits([what, best if best is not None and best.section not in given else None, why])
        if not r.skills:
            ctx.add_hits(search(adv, q, k=3, kind="skill"))
    elif kind in ("how_long", "skill_order"):
        if kind == "skill_order":
            ctx.add_hits(ranked(adv, q, ["which_tool_to_learn_first"], k=1))
        for sid in r.skills[:2]:
            if kind == "skill_order":  # each option's own case: why it matters for the job
                ctx.add_hits([section(adv, sid, f"matter for {_target_words(ctx)}", "matter", "why")])
            ctx.add_hits([section(adv, sid, "how to learn", "learn")])
        if not r.skills:
            for role in roles:
                ctx.add_hits([section(adv, transition_id(ctx, role), "staged plan", "plan")])
    elif kind == "learn_first":
        for role in roles:
            ctx.add_hits([section(adv, transition_id(ctx, role), "staged plan", "plan")])
    elif kind == "resources":
        picked = pick_resources(adv, ctx)
        if picked:
            top = picked[0].id
            ctx.add_hits([section(adv, top, "covers", "what"), section(adv, top, "money", "cost")])
            ctx.add_hits([section(adv, d.id, "covers", "what") or adv.retriever.lookup(d.id, q) for d in picked[1:3]])
        for sid in r.skills[:1]:  # the skill's own advice on how to learn it, for when no resource fits
            ctx.add_hits([section(adv, sid, "how to learn", "learn")])
    else:
        ctx.add_hits(search(adv, q, k=3, role=roles[0] if r.roles else None))


def _alternation(patterns: list[str]) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I)


@functools.cache
def _words(file: str) -> dict:
    """A words file of ``knowledge/reading/`` (regular expressions, not training examples)."""
    return yaml.safe_load((READING_DIR / file).read_text(encoding="utf-8"))


@functools.cache
def resource_words() -> tuple[re.Pattern, dict[str, re.Pattern], dict[str, re.Pattern], re.Pattern]:
    """What a question says about the resource it wants (``knowledge/reading/resource_words.yaml``):
    free, kinds, the two options a question may weigh, and the words that make it a choice."""
    data = _words("resource_words.yaml")
    return (_alternation(data["free"]), {kind: _alternation(p) for kind, p in data["kinds"].items()},
            {o: _alternation(p) for o, p in data["options"].items()}, _alternation(data["weighing"]))


@functools.cache
def _pattern(file: str, key: str) -> re.Pattern:
    return _alternation(_words(file)[key])


def fears_replacement(text: str) -> bool:
    """Whether an AI-impact question asks if the job survives ("will LLMs eat BI jobs too"), by
    ``knowledge/reading/ai_impact_words.yaml``."""
    return bool(_pattern("ai_impact_words.yaml", "replacement").search(text))


def asks_speed(text: str) -> bool:
    """Whether a comparison asks which path is quicker ("whats faster for me, BI or MLE?"),
    by ``knowledge/reading/compare_words.yaml``."""
    return bool(_pattern("compare_words.yaml", "speed").search(text))


def options_weighed(text: str) -> list[str]:
    """``["certificate", "portfolio"]`` when a question weighs a certificate against showing the work."""
    named = [o for o, pat in resource_words()[2].items() if pat.search(text)]
    return named if len(named) == 2 else []


_WEIGHED_AS = ("skill_order", "portfolio", "resources", "interview", "clarify", "how_long", "learn_first")
"""Readings a question weighing a certificate against the work is taken for, wrongly."""


def weighs_options(text: str) -> bool:
    """The question names a certificate and showing the work, as a choice between them."""
    return bool(options_weighed(text)) and bool(resource_words()[3].search(text))


def wants_free(text: str) -> bool:
    return bool(resource_words()[0].search(text))


def kinds_asked(text: str) -> list[str]:
    """The kinds of resource a question names ("books or courses": book, course), in its order."""
    found = [(m.start(), kind) for kind, pat in resource_words()[1].items() for m in [pat.search(text)] if m]
    return [kind for _, kind in sorted(found)]


def _certificate_or_portfolio(adv, ctx: TurnContext, q: str) -> None:
    """A certificate weighed against a portfolio: the certificate's own "is it worth it" passage,
    the portfolio passage of the skill it certifies (else of the move to its role), and the
    knowledge base's rule for when a certificate is worth its cost."""
    certs = [h.doc_id for h in search(adv, q, k=10, kind="resource") if adv.kb.docs[h.doc_id].meta.resource_type == "certification"]
    cert = adv.kb.docs[certs[0]] if certs else None
    ctx.add_hits([section(adv, "degrees_and_credentials", "certificate worth", "certificate")])
    if cert is None:
        ctx.options = []
        return
    ctx.add_hits([section(adv, cert.id, "worth", "who", "for?")])
    named = [s for s in ctx.reading.skills if s in cert.meta.skills] + [s for s in cert.meta.skills if s not in ctx.reading.skills]
    show = next((h for h in (section(adv, s, "portfolio") for s in named) if h is not None), None)
    if show is None:
        role = next((r for r in cert.meta.roles if r in TARGET_ROLES), TARGET_ROLES[0])
        show = section(adv, transition_id(ctx, role), "portfolio")
    ctx.add_hits([show])


def _path_skills(adv, roles) -> set[str]:
    return {m for r in roles if r in adv.kb.roles for req in adv.kb.roles[r].requirements for m in req.members}


def pick_resources(adv, ctx: TurnContext, n: int = 3) -> list:
    """The resources that answer a resources question, best first: free ones first when it asks for
    free, the kinds it names ("a book or a course") first and one of each, those that build more of
    the named skills, then the ones the question's words and meaning match best.

    A resource is offered only when its ``skills`` name a skill the question is about: the skills it
    names, else those of the path it names, else those of the person's target path (unless the
    question has a topic of its own off that path: "llm apps" asked on the BI path is about LLM
    apps, "any good courses to start?" is about the path), and always one the best-matching
    resource builds too (so an LLM-apps question is never offered a dbt course)."""
    q = ctx.reading.query or ctx.question
    wanted = set(ctx.reading.skills)
    relevance = {}
    for h in search(adv, q, k=30, kind="resource"):
        relevance.setdefault(h.doc_id, len(relevance))
    pool = [d for d in adv.kb.of_kind("resource") if wanted & set(d.meta.skills)] if wanted else []
    if not pool:
        relevant = [adv.kb.docs[d] for d in relevance if d in adv.kb.docs]
        named_path = _path_skills(adv, ctx.reading.roles)
        target_path = _path_skills(adv, ctx.profile.target_roles)
        off_path = bool(relevant) and not (target_path & set(relevant[0].meta.skills)) and adv.retriever.relevance(q) >= TOPICAL
        about = named_path or (set() if off_path else target_path)
        if about and not wanted:
            relevant = [d for d in relevant if about & set(d.meta.skills)]
        if relevant:
            lead = set(relevant[0].meta.skills)
            relevant = [relevant[0]] + [d for d in relevant[1:] if lead & set(d.meta.skills)]
        pool = relevant[:4]
    free, kinds = wants_free(ctx.question), kinds_asked(ctx.question)

    def key(d):
        return (
            free and d.meta.cost == "paid",
            bool(kinds) and d.meta.resource_type not in kinds,
            -len(wanted & set(d.meta.skills)),
            relevance.get(d.id, 99),
            len(d.meta.skills),
        )

    ordered = sorted(pool, key=key)
    # "books or courses": the best of each kind named comes first.
    firsts = [next((d for d in ordered if d.meta.resource_type == k), None) for k in kinds]
    lead_ids = list(dict.fromkeys(x.id for x in firsts if x is not None))
    lead = [adv.kb.docs[i] for i in lead_ids]
    return (lead + [d for d in ordered if d.id not in lead_ids])[:n]


def _recommendation_hits(adv, ctx: TurnContext) -> None:
    r, rec = ctx.reading, ctx.recommendation
    targets = _targets(ctx)
    top = rec.plan.role_id if rec.plan else rec.roles[0].role_id
    for fit in rec.roles:
        if fit.role_id in (targets or TARGET_ROLES):
            ctx.add_hits([section(adv, fit.role_id, "good looks like") or adv.retriever.lookup(fit.role_id, "skills requirements")])
    ctx.add_hits([section(adv, transition_id(ctx, top), "missing", "staged plan")])
    if r.intent in ("plan", "learn_first") and rec.plan:
        for stage in rec.plan.stages[:1] if not r.extra.get("more") and not WHOLE_PLAN.search(ctx.question) else rec.plan.stages:
            ctx.add_hits([section(adv, res, "covers", "what") or adv.retriever.lookup(res, "what it covers") for res in stage.resources[:2]])
    if r.intent == "compare":
        ctx.comparison = adv.compare(ctx.profile, targets if targets and len(targets) > 1 else list(TARGET_ROLES))
        ctx.add_hits([section(adv, "why_data_scientists_move_to_bi_and_mle", "choose")])


def _target_words(ctx: TurnContext) -> str:
    roles = [r for r in ctx.reading.roles if r in TARGET_ROLES] or ctx.profile.target_roles or list(TARGET_ROLES)
    return " ".join(r.replace("_", " ") + "s" for r in roles)


def _targets(ctx: TurnContext) -> list[str] | None:
    """Roles the turn asks about (not the user's current role), else the profile's targets."""
    r = ctx.reading
    asked = [role for role in dict.fromkeys(r.roles) if role != ctx.profile.current_role]
    if asked:
        return asked
    return ctx.profile.target_roles or None
