"""The ``Advisor``: one object that holds the loaded model, index and knowledge, for every face."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: importing langchain_core's chat models costs ~0.8 s at start
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel

from advisor.chat.context import build_context
from advisor.chat.intents import roles_in
from advisor.chat.engines import make_engine
from advisor.chat.grounded import join_answers, pointer_to, stream_answer

from advisor.errors import BadInput
from advisor.extraction import SkillExtractor
from advisor.models import Answer, Comparison, PathOutlook, Profile, Recommendation, RoleFit
from advisor.prompts import load_prompt
from advisor.role_prior import complete
from advisor.profile import merge, profile_from_dict
from advisor.recommender import Recommender, join_names
from advisor.wording import depth_on_the_job
from advisor.settings import Settings, load_settings
from knowledge.base import TARGET_ROLES, KnowledgeBase
from knowledge.schema import KINDS, SENIORITIES
from knowledge.store import KnowledgeStore
from retrieval.client import open_chroma
from retrieval.embeddings import load_embedder
from retrieval.external import ESCO_KINDS, ExternalIndex, read_esco
from retrieval.hit import Hit
from retrieval.hybrid import HybridRetriever
from retrieval.index import IndexReport, VectorIndex
from retrieval.lock import hold_writer_lock
from retrieval.snapshot import SnapshotFiles


MIN_STATED_SKILLS = 3
"""Below this many skills stated (at level 1 or more), fit and weeks are withheld: they would
mostly describe the role prior, not the person."""
PREFERENCE_WEIGHT = 0.1
"""How far one stated preference moves a path in the ranking (in fit units): enough to decide
between close paths; a stated goal counts three (knowledge/lexicon/preferences.yml), so "I want to
move into ML engineering" ranks that path first unless the other fits far better. Fits themselves
are never changed, and ``why`` says what moved the order."""


class Advisor:
    def __init__(
        self,
        settings: Settings,
        embedder: Embeddings,
        progress: Callable[[int, int], None] | None = None,
        rebuild: bool = False,
        chat_model: BaseChatModel | None = None,
    ):
        self.settings = settings
        self._chat_model = chat_model
        self.embedder = embedder
        self.store = KnowledgeStore(settings.knowledge_dir, settings.data_dir, on_change=self.refresh)
        embedded = not settings.chroma_url
        chroma = partial(open_chroma, settings.chroma_dir, settings.chroma_url, settings.chroma_headers, settings.chroma_timeout_s)
        self.index = VectorIndex(
            chroma if embedded else chroma(),  # embedded: opened only if the vector snapshot cannot answer
            settings.collection,
            embedder,
            model_name=settings.embedding_model,
            chunk_chars=settings.chunk_chars,
            before_write=(lambda: hold_writer_lock(settings.chroma_dir)) if embedded else None,
            snapshot=SnapshotFiles(settings.chroma_dir, settings.collection) if embedded else None,
        )
        self._write_lock = threading.Lock()
        self.kb: KnowledgeBase = self.store.load()
        self.last_report: IndexReport = self.index.sync(self.kb.docs.values(), rebuild=rebuild, progress=progress)
        # Exact search over the snapshot has no HNSW segment to check; `reskill index --repair` checks Chroma.
        self.repairs: list[str] = [] if self.index.serves_snapshot else self.index.verify()
        if self.repairs:  # damage a sync cannot see: rebuild from the Markdown, the source of truth
            self.last_report = self.index.sync(self.kb.docs.values(), rebuild=True, progress=progress)
        self.external = self._external() if settings.include_external else None
        self.retriever = HybridRetriever(self.index, external=self.external)
        self._domain(self.kb)

    def _domain(self, kb: KnowledgeBase) -> None:
        """The parts built from the knowledge base itself; rebuilt whenever it changes."""
        self.recommender = Recommender(kb)
        self.extractor = SkillExtractor(kb, self.embedder, cache_dir=self.settings.data_dir / "cache",
                                        claims_cache=self.settings.model_cache_dir / "claims")
        self.extractor.warm()
        if getattr(self, "engine", None) is None:
            self.engine, self.engine_note = make_engine(self.settings, kb, self._chat_model)
        else:
            self.engine.rebind(kb)

    @property
    def engine_name(self) -> str:
        return self.engine.name

    @classmethod
    def load(
        cls,
        settings: Settings | None = None,
        embedder: Embeddings | None = None,
        progress: Callable[[int, int], None] | None = None,
        rebuild: bool = False,
        chat_model: BaseChatModel | None = None,
    ) -> Advisor:
        """Load everything once; builds or updates the index when it is missing or stale."""
        settings = settings or load_settings()
        return cls(settings, embedder or load_embedder(settings.embedding_model, **settings.embedder_options()), progress, rebuild, chat_model)

    def refresh(self, rebuild: bool = False, progress: Callable[[int, int], None] | None = None) -> IndexReport:
        """Re-read the Markdown and bring the index in step (only changed documents are embedded)."""
        with self._write_lock:
            kb = self.store.load()
            report = self.index.sync(kb.docs.values(), rebuild=rebuild, progress=progress)
            self.retriever.refresh()
            self._domain(kb)
            self.kb = kb
            self.last_report = report
            return report

    def out_of_step(self) -> list[str]:
        return self.index.out_of_step(self.store.load().docs.values())

    def repair(self) -> list[str]:
        """Check the index against the Markdown and the vector search against itself;
        rebuild what is wrong. Returns the problems found (empty when all was well)."""
        with self._write_lock:
            kb = self.store.load()
            problems = [f"out of step: {d}" for d in self.index.out_of_step(kb.docs.values())]
            problems += self.index.verify()
        if problems:
            self.refresh(rebuild=any(not p.startswith("out of step") for p in problems))
        return problems

    # -- search ----------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, kind: str | None = None, role: str | None = None) -> list[Hit]:
        include = self.external is not None
        check_search(query, k, kind, role, self.kb, extra_kinds=tuple(ESCO_KINDS.values()) if include else ())
        return self.retriever.search(self._expand(query.strip()), k=k, kind=kind, role=role, include_external=include)

    def _external(self) -> ExternalIndex:
        return ExternalIndex(self.index.client, f"{self.settings.collection}-external", self.embedder)

    def import_esco(self, limit: int | None = None, progress: Callable[[int, int], None] | None = None) -> dict:
        """Index the ESCO occupations and skills as external texts (searched only when
        RESKILL_INCLUDE_EXTERNAL=true). Idempotent: texts already stored are skipped."""
        if self.index.before_write:
            self.index.before_write()
        return self._external().add(list(read_esco(limit)), progress=progress)

    def _expand(self, query: str) -> str:
        """Add the names behind abbreviations ("PBI" -> "Microsoft Power BI", "MLE" -> the role)."""
        lowered = query.lower()
        names = [self.kb.skills[s].title for s in self.extractor.skills_named(query)]
        names += [self.kb.roles[r].title for r in roles_in(query) if r in self.kb.roles]
        extra = [n for n in dict.fromkeys(names) if n.lower() not in lowered]
        return f"{query} {' '.join(extra)}" if extra else query

    # -- profile and advice ------------------------------------------------------------------
    def profile(self, source: str | dict | Profile, base: Profile | None = None) -> Profile:
        """A profile from free text, a JSON dict or a Profile; merged over ``base`` if given.

        What the person stated is completed with implied skills and, unless ``role_prior`` is off,
        the typical levels of their current role, each marked as such (see ``advisor.role_prior``).
        """
        if isinstance(source, str):
            if not source.strip():
                raise BadInput("the text is empty; describe your experience, tools and how well you know them")
            found = self.extractor.extract(source, role_prior=base.role_prior if base is not None else True)
        else:
            found = profile_from_dict(source, self.kb)
        return complete(merge(base, found) if base is not None else found, self.kb)

    def ranked_fits(self, profile: Profile, targets: list[str] | None = None) -> list[RoleFit]:
        """Fits, best first; stated preferences shift the order by ``PREFERENCE_WEIGHT`` each
        and every shifted fit says so in ``why``."""
        fits = self.recommender.fits(profile, targets)
        lean = self.extractor.lean(profile.preferences)
        for f in fits:
            said = [p for p in profile.preferences if self.extractor.lexicon.favours.get(p.removeprefix("avoid_")) == f.role_id]
            if said and lean.get(f.role_id):
                words = [self.extractor.lexicon.say(p) for p in said]
                toward = "toward" if lean[f.role_id] > 0 else "away from"
                f.preference = f"You said {join_names(words)}, which leans {toward} this path."
                f.why = f"{f.why} {f.preference}"
        return sorted(fits, key=lambda f: (-(f.fit + PREFERENCE_WEIGHT * lean.get(f.role_id, 0)), f.role_id))

    def recommend(
        self,
        profile_or_text: str | dict | Profile,
        targets: list[str] | None = None,
        hours: float | None = None,
        seniority: str | None = None,
    ) -> Recommendation:
        profile = self.profile(profile_or_text)
        updates = {}
        if hours is not None:
            if not 0 < hours <= 80:
                raise BadInput(f"hours a week must be between 1 and 80, got {hours}")
            updates["weekly_hours"] = hours
        if seniority is not None:
            if seniority not in SENIORITIES:
                raise BadInput(f"unknown seniority '{seniority}'; use one of: {', '.join(SENIORITIES)}")
            updates["seniority"] = seniority
        if updates:  # a new seniority changes the role prior: complete the profile again
            profile = complete(profile.model_copy(update=updates), self.kb)
        targets = self._check_roles(targets or profile.target_roles or None)
        fits = self.ranked_fits(profile, targets)
        # The plan is for the first target given, else for the better of the two paths Reskill is about.
        if targets:
            chosen = next(f for f in fits if f.role_id == targets[0])
        else:
            chosen = next((f for f in fits if f.role_id in TARGET_ROLES), fits[0])
        plan = self.recommender.plan(profile, chosen)
        sources = [chosen.role_id] + [g.skill_id for g in chosen.gaps]
        sources += [r for st in plan.stages for r in st.resources]
        transition = f"{profile.current_role}_to_{chosen.role_id}"
        if transition in self.kb.docs:
            sources.append(transition)
        stated = [s for s in profile.skills if s.source == "stated" and s.level > 0]
        show = len(stated) >= MIN_STATED_SKILLS
        lean = self.extractor.lean(profile.preferences)
        warnings = [f"Only {len(stated)} skill(s) from what you said: figures are withheld until you say more."]
        if show:
            depth = depth_on_the_job([self.kb.skills[s].title for s in chosen.on_the_job], chosen.title).strip()
            warnings = [depth] if depth else []
        return Recommendation(
            profile=profile,
            seniority=profile.seniority,
            roles=fits,
            plan=plan,
            sources=list(dict.fromkeys(sources)),
            warnings=warnings,
            show_numbers=show,
            ask=None if show else self._ask_for_skills(profile, stated, lean),
            lean=self._leaning(lean),
        )

    @staticmethod
    def _leaning(lean: dict[str, int]) -> str | None:
        """The path the stated preferences favour; speaking only against one of the two target
        paths ("I don't want to write tests and maintain code") leans toward the other."""
        if lean and max(lean.values()) > 0:
            return max(lean, key=lean.get)
        against = [r for r in TARGET_ROLES if lean.get(r, 0) < 0]
        return next(r for r in TARGET_ROLES if r not in against) if len(against) == 1 else None

    def _ask_for_skills(self, profile: Profile, stated: list, lean: dict[str, int]) -> str:
        role = self.kb.roles.get(profile.current_role or "")
        known = join_names([s.name for s in stated]) if stated else "nothing about your skills"
        text = load_prompt("need_skills").format(known=known, role=role.title.lower() if role else "data scientist")
        if best := self._leaning(lean):
            text = f"From what you said you enjoy, you lean toward **{self.kb.roles[best].title}**. " + text
        return text

    def compare(self, profile_or_text: str | dict | Profile, roles: list[str] | None = None) -> Comparison:
        """Target paths side by side: fit, top gaps, weeks to ready and the market view, cited."""
        profile = self.profile(profile_or_text)
        roles = self._check_roles(roles or list(TARGET_ROLES))
        profile = complete(profile, self.kb)
        fits = self.ranked_fits(profile, roles)
        paths = []
        for fit in fits:
            query = f"{fit.title} outlook demand market future"
            outlook = self.search(query, k=2, kind="market", role=fit.role_id) or self.search(query, k=2, kind="market")
            paths.append(
                PathOutlook(role_id=fit.role_id, title=fit.title, fit=fit.fit, weeks_to_ready=fit.weeks_to_ready,
                            weeks_full_plan=fit.weeks_full_plan, top_gaps=fit.gaps[:3], outlook=outlook)
            )
        best, *rest = paths
        summary = (f"{best.title} fits you best now ({best.fit:.0%}, about {best.weeks_to_ready:g} weeks to ready to apply "
                   f"at {profile.weekly_hours:g} h a week)")
        if rest:
            other = rest[0]
            summary += f"; {other.title} is at {other.fit:.0%} ({other.weeks_to_ready:g} weeks to ready to apply)."
        notes = [f.preference for f in fits if f.preference]
        if notes:
            summary += " " + " ".join(dict.fromkeys(notes))
        return Comparison(profile=profile, paths=paths, summary=summary)

    # -- chat --------------------------------------------------------------------------------
    def ask(self, question: str, history: list | None = None, profile: Profile | dict | None = None) -> Answer:
        """One chat turn. ``history`` is ``[{role, content}]``; the profile is rebuilt from it when not given.
        A message that asks two kinds of question ("what does a BI analyst do all day? and is the pay
        worse?") gets both answers, the second under its own heading."""
        history = history or []
        return self._answer_both(question, history, build_context(self, question, history, profile))

    def stream(self, question: str, history: list | None = None, profile: Profile | dict | None = None) -> Iterator[str | Answer]:
        """Yields text pieces, then the final :class:`Answer`."""
        history = history or []
        ctx = build_context(self, question, history, profile)
        if ctx.also_text:
            yield from stream_answer(self._answer_both(question, history, ctx))
            return
        yield from self.engine.stream(question, ctx)

    def _answer_both(self, question: str, history: list, ctx) -> Answer:
        second, kind = ctx.also_text, ctx.also
        if second:
            ctx.also = None  # answered below, not pointed to
        answer = self.engine.answer(question, ctx)
        if not second or answer.intent in ("out_of_scope", "clarify"):
            return answer
        said = [*history, {"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
        other = self.engine.answer(second, build_context(self, second, said, answer.profile))
        if other.intent in ("out_of_scope", "clarify", "need_profile") or not other.citations:
            return answer.model_copy(update={"text": answer.text + pointer_to(kind)})  # not answerable here: point to it
        return join_answers(answer, other, kind)

    def _check_roles(self, roles: list[str] | None) -> list[str] | None:
        if roles is None:
            return None
        unknown = [r for r in roles if r not in self.kb.roles]
        if unknown:
            raise BadInput(f"unknown role(s) {', '.join(unknown)}; use: {', '.join(sorted(self.kb.roles))}")
        return list(dict.fromkeys(roles))


def check_search(
    query: str, k: int, kind: str | None, role: str | None, kb: KnowledgeBase, extra_kinds: tuple[str, ...] = ()
) -> None:
    """Raise :class:`BadInput` naming what is wrong with a search request."""
    if not isinstance(query, str) or not query.strip():
        raise BadInput("the query is empty; type a few words to search for")
    if not isinstance(k, int) or k < 1 or k > 50:
        raise BadInput(f"k must be between 1 and 50, got {k}")
    if kind is not None and kind not in KINDS + extra_kinds:
        raise BadInput(f"unknown kind '{kind}'; use one of: {', '.join(KINDS + extra_kinds)}")
    if role is not None and role not in kb.roles:
        raise BadInput(f"unknown role '{role}'; use one of: {', '.join(sorted(kb.roles))}")
