"""The default answer engine: no LLM, offline and deterministic.

One writer per question type. Each answers in its first sentence and supports the answer
with the recommender's figures or with whole passages of the documents retrieved for the
turn; every passage and figure taken from a document carries its citation. General
writers live in ``general.py``; the ones that need the person's profile are here.
"""

from __future__ import annotations

import re

from collections.abc import Iterator

from advisor.chat import general
from advisor.chat.compose import Citations, passage, readable
from advisor.chat.context import NEEDS_PROFILE, TurnContext, asks_speed, assumed_skills
from advisor.chat.intents import WHOLE_PLAN
from advisor.models import Answer, Gap, RoleFit
from advisor.prompts import load_prompt
from advisor.wording import depth_on_the_job, in_sentence, kind_of_posting
from knowledge.base import KnowledgeBase

NAME = "grounded"
LABELS = {
    "role_info": "what a role is",
    "day_to_day": "what the work is like day to day",
    "role_difference": "how two roles differ",
    "compare": "which path suits you",
    "fit": "your fit and gaps",
    "plan": "a learning plan for you",
    "learn_first": "what to learn first",
    "how_long": "how long it takes",
    "skill_order": "which of two skills comes first",
    "pay": "pay",
    "education": "degrees and certificates",
    "interview": "interviews",
    "portfolio": "portfolio projects",
    "market": "the job market",
    "ai_impact": "AI and LLMs changing the work",
    "skill_info": "what a skill or tool is",
    "skill_need": "whether a role needs a skill",
    "resources": "courses, books and certifications",
    "profile_update": "updating your profile",
    "preference": "what you prefer",
    "correction": "correcting your profile",
}
WHOLE_PLAN_ASK = "show the whole plan"


def _gap_line(g: Gap) -> str:
    return f"{g.name} (level {g.current_level} → {g.required_level}, about {g.hours} h)"


def _list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _lower_first(title: str) -> str:
    """'Production ML' -> 'production ML' inside a sentence; 'BI reporting' and 'Docker' stay as they are."""
    return in_sentence(title)


def _weeks(fit: RoleFit) -> str:
    full = getattr(fit, "weeks_full_plan", 0) or 0
    out = f"about **{fit.weeks_to_ready:g} weeks to ready to apply**"
    if full and full > fit.weeks_to_ready:
        out += f" ({full:g} weeks for the full plan)"
    return out


class GroundedEngine:
    name = NAME

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb

    def rebind(self, kb: KnowledgeBase) -> None:
        """Use an edited knowledge base from the next turn on."""
        self.kb = kb

    def stream(self, question: str, ctx: TurnContext) -> Iterator[str | Answer]:
        yield from stream_answer(self.answer(question, ctx))

    def answer(self, question: str, ctx: TurnContext) -> Answer:
        intent = ctx.reading.intent
        cites = Citations()
        suggestions: list[str] = []
        if intent in ("greeting", "capabilities"):
            text = load_prompt("help")
        elif intent == "thanks":
            text = load_prompt("thanks")
        elif intent == "out_of_scope":
            text = load_prompt("out_of_scope")
        elif intent == "clarify":
            text = self._clarify(ctx)
        elif intent in NEEDS_PROFILE and ctx.recommendation is None:
            text, intent = self._need_profile(ctx), "need_profile"
        else:
            writer = getattr(self, f"_{intent}", None)
            text = writer(ctx, cites) if writer else general.WRITERS.get(intent, general.search)(self.kb, ctx, cites)
            if intent == "plan" and ctx.recommendation and ctx.recommendation.plan and len(ctx.recommendation.plan.stages) > 1:
                if not self._whole_plan(ctx):
                    suggestions.append(WHOLE_PLAN_ASK)
            if not cites.hits and intent not in ("profile_update", "preference", "correction"):
                text = "I could not find anything in the knowledge base that answers this. " + load_prompt("help")
                intent = "search"
        if intent not in ("out_of_scope", "clarify"):
            text += pointer_to(ctx.also)
        rec = ctx.recommendation
        if rec and rec.warnings and intent in NEEDS_PROFILE:
            text += "\n\n> " + " ".join(rec.warnings)
        return Answer(
            text=readable(text.strip(), self.kb),
            citations=cites.hits,
            intent=intent,
            profile=ctx.profile,
            recommendation=rec,
            engine=self.name,
            grounded=all(h in ctx.hits for h in cites.hits),
            confidence=round(ctx.reading.confidence, 3),
            suggestions=suggestions,
        )

    # -- fixed replies ---------------------------------------------------------------------------
    def _clarify(self, ctx: TurnContext) -> str:
        options = [LABELS[a] for a in ctx.reading.alternatives if a in LABELS][:2]
        if len(options) == 2:
            return f"Do you mean {options[0]}, or {options[1]}?"
        return load_prompt("clarify")

    def _need_profile(self, ctx: TurnContext) -> str:
        return ctx.asked or load_prompt("need_profile")

    # -- writers that use the profile --------------------------------------------------------------
    def _assumed_note(self, ctx: TurnContext) -> str:
        """The assumed skills that weigh most in the paths this answer shows (a BI answer names assumed
        SQL and dashboards, not assumed AWS); any assumed skills when none of them counts there."""
        assumed = assumed_skills(ctx.recommendation)
        if not assumed:
            return ""
        weight: dict[str, int] = {}
        for fit in self._shown(ctx):
            for m in (*fit.matched, *fit.transferable):
                if m.source == "assumed":
                    weight[m.name] = max(weight.get(m.name, 0), m.importance)
        named = sorted(weight, key=lambda n: (-weight[n], n)) or assumed
        return f"\n\nAssumed from your role (tell me if they are wrong): {_list(named[:6])}."

    def _figures(self, ctx: TurnContext) -> bool:
        rec = ctx.recommendation
        return rec is not None and getattr(rec, "show_numbers", True)

    def _fit_line(self, fit: RoleFit, ctx: TurnContext, cites: Citations) -> str:
        ref = cites.cite(ctx.hit_for(fit.role_id))
        gaps = _list([_gap_line(g) for g in fit.gaps[:3]]) or "none"
        if not self._figures(ctx):
            return f"- **{fit.title}** {ref}: biggest gaps {gaps}."
        total = len(fit.matched) + len(fit.gaps)  # a requirement partly met (transferable) is also a gap
        return (
            f"- **{fit.title}: {fit.fit:.0%} fit** {ref}: you meet {len(fit.matched)} of {total} requirements; "
            f"biggest gaps: {gaps}; {_weeks(fit)} at {ctx.profile.weekly_hours:g} h a week."
            + kind_of_posting(fit.variant)
        )

    def _shown(self, ctx: TurnContext) -> list[RoleFit]:
        rec = ctx.recommendation
        wanted = [r for r in ctx.reading.roles if r in {f.role_id for f in rec.roles}]
        shown = [f for f in rec.roles if f.role_id in wanted] or [f for f in rec.roles if ctx.hit_for(f.role_id)]
        return shown or rec.roles[:1]

    def _fit(self, ctx: TurnContext, cites: Citations) -> str:
        rec = ctx.recommendation
        shown = self._shown(ctx)
        best = shown[0]
        if self._figures(ctx):
            gaps = _list([g.name for g in best.gaps[:3]]) or "nothing the role asks for"
            head = f"You fit {best.title} at **{best.fit:.0%}** ({rec.seniority} level); your biggest gaps are {gaps}."
        else:
            head = rec.ask or f"I can list your gaps for {best.title}, but not a fit figure yet: your profile says too little."
        lines = [head, "", *[self._fit_line(f, ctx, cites) for f in shown]]
        lines += ["", f"Ask *why?* for what drives the score, or *make me a plan* to order the {best.title} gaps into stages."]
        return "\n".join(lines) + self._assumed_note(ctx)

    def _why(self, ctx: TurnContext, cites: Citations) -> str:
        fit = self._shown(ctx)[0]
        ref = cites.cite(ctx.hit_for(fit.role_id))
        missing = sorted(fit.gaps, key=lambda g: -(g.importance * (g.required_level - g.current_level)))[:3]
        strong = sorted(fit.matched, key=lambda m: -m.importance)[:3]
        parts = []
        if missing:
            parts.append(
                "what holds it back is "
                + _list([f"{g.name} (importance {g.importance}/5, you are at level {g.current_level} of {g.required_level})" for g in missing])
            )
        if strong:
            parts.append("what lifts it is " + _list([f"{m.name} (importance {m.importance}/5, met)" for m in strong]))
        score = f" at {fit.fit:.0%}" if self._figures(ctx) else ""
        head = f"{fit.title} scores{score} because {'; '.join(parts) or 'of how your levels compare with what it asks'}. {ref}".strip()
        out = [head, "", "Each requirement counts by its importance (1-5) times how much of the required level you have."]
        if fit.variant:
            out.append(f"The requirements are those of {fit.variant}, the kind of {fit.title} job you are closest to being ready for.")
        if fit.transferable:
            out.append("Partly there: " + _list([f"{m.name} ({m.current_level} of {m.required_level})" for m in fit.transferable[:4]]) + ".")
        return "\n".join(out) + self._assumed_note(ctx)

    def _whole_plan(self, ctx: TurnContext) -> bool:
        return bool(ctx.reading.extra.get("more") or WHOLE_PLAN.search(ctx.question))

    def _stage_in_full(self, st, ctx: TurnContext, cites: Citations) -> list[str]:
        end = st.start_week + st.weeks
        out = [f"**Stage {st.number}, weeks {st.start_week:g}–{end:g}: {st.title}**", ""]
        out += [f"- {_gap_line(g)}" for g in st.skills]
        res = [f"{self.kb.docs[r].title} {cites.cite(ctx.hit_for(r))}".strip() for r in st.resources[:3] if r in self.kb.docs]
        if res:
            out.append(f"- Learn with: {'; '.join(res)}.")
        if st.project:
            out.append(f"- Prove it: {st.project}")
        return out

    def _plan(self, ctx: TurnContext, cites: Citations) -> str:
        rec = ctx.recommendation
        plan = rec.plan
        if plan is None or not plan.stages:
            return self._fit(ctx, cites)
        fit = next(f for f in rec.roles if f.role_id == plan.role_id)
        ref = cites.cite(ctx.hit_for(plan.role_id))
        first = plan.stages[0]
        if self._figures(ctx):
            head = (
                f"**Your plan toward {fit.title}** {ref}: start with {_lower_first(first.title) if first.title else 'stage 1'} "
                f"({_list([in_sentence(g.name) for g in first.skills[:3]])}); {_weeks(fit)}, "
                f"in {len(plan.stages)} stage{'s' if len(plan.stages) != 1 else ''} at {plan.weekly_hours:g} h a week."
            )
        else:
            head = f"**Your plan toward {fit.title}** {ref}: start with {_list([in_sentence(g.name) for g in first.skills[:3]])}."
        out = [head, ""]
        whole = self._whole_plan(ctx)
        for st in plan.stages:
            if st is first or whole:
                out += self._stage_in_full(st, ctx, cites) + [""]
            else:
                end = st.start_week + st.weeks
                out.append(f"{st.number}. Weeks {st.start_week:g}–{end:g}: {st.title} ({_list([g.name for g in st.skills])})")
        if not whole and len(plan.stages) > 1:
            out += ["", f"Say *{WHOLE_PLAN_ASK}* to see every stage in full."]
        transition = ctx.hit_for(f"{ctx.profile.current_role}_to_{plan.role_id}")
        if transition is not None and "missing" in transition.section.lower():
            out += ["", f"Why these skills: {passage(transition, self.kb)} {cites.cite(transition)}"]
        return "\n".join(out).replace("\n\n\n", "\n\n") + self._assumed_note(ctx)

    def _learn_first(self, ctx: TurnContext, cites: Citations) -> str:
        rec = ctx.recommendation
        if rec is None or rec.plan is None or not rec.plan.stages:
            return general.learn_first(self.kb, ctx, cites)
        first = rec.plan.stages[0]
        fit = next(f for f in rec.roles if f.role_id == rec.plan.role_id)
        ref = cites.cite(ctx.hit_for(rec.plan.role_id))
        lead = first.skills[0] if first.skills else None
        head = f"Start with {in_sentence(lead.name)}: it comes first in your plan toward {fit.title}. {ref}".strip() if lead else f"Start with stage 1 of your plan toward {fit.title}."
        return "\n".join([head, "", *self._stage_in_full(first, ctx, cites), "", f"Say *{WHOLE_PLAN_ASK}* for the later stages."])

    def _how_long(self, ctx: TurnContext, cites: Citations) -> str:
        rec = ctx.recommendation
        if rec is None or ctx.reading.skills:
            return general.how_long(self.kb, ctx, cites)
        fit = self._shown(ctx)[0]
        ref = cites.cite(ctx.hit_for(fit.role_id))
        if not self._figures(ctx):
            return (rec.ask or load_prompt("need_profile")) + f" {ref}".rstrip()
        head = f"For {fit.title}: {_weeks(fit)} at {ctx.profile.weekly_hours:g} hours a week ({fit.hours_to_ready} hours of study). {ref}"
        if fit.on_the_job:  # a senior target: say what the weeks leave out
            head += depth_on_the_job([self.kb.skills[s].title for s in fit.on_the_job], fit.title)
        return head + "\n\n" + "\n".join(self._fit_line(f, ctx, cites) for f in self._shown(ctx)) + self._assumed_note(ctx)

    def _compare(self, ctx: TurnContext, cites: Citations) -> str:
        rec = ctx.recommendation
        fits = {f.role_id: f for f in rec.roles}
        paths = [p for p in ctx.comparison.paths if p.role_id in fits] if ctx.comparison else []
        if not paths:
            return self._fit(ctx, cites)
        best = paths[0]
        refs = " ".join(cites.cite(ctx.hit_for(p.role_id)) for p in paths)
        if self._figures(ctx) and len(paths) > 1 and asks_speed(ctx.question):
            quick, slow = sorted(paths[:2], key=lambda p: p.weeks_to_ready)
            lead = (f"**{quick.title}** is the quicker move for you: about {quick.weeks_to_ready:g} weeks to ready to apply "
                    f"against {slow.weeks_to_ready:g} for {slow.title}, at {rec.profile.weekly_hours:g} h a week.")
            if best is not quick:
                lead += f" {best.title} fits you better today ({best.fit:.0%} against {quick.fit:.0%})."
        elif self._figures(ctx):
            lead = f"**{best.title}** fits you better today ({best.fit:.0%}"
            if len(paths) > 1:
                lead += f" against {paths[1].fit:.0%} for {paths[1].title}"
            lead += ")."
        else:
            lead = rec.ask or "I need a little more about your skills before I can say which path fits you better."
        out = [f"{lead} {refs}".strip(), ""]
        out += [self._fit_line(fits[p.role_id], ctx, cites) for p in paths]
        choose = next((h for h in ctx.hits if h.kind == "market"), None)
        if choose is not None:
            out += ["", f"How to choose: {passage(choose, self.kb)} {cites.cite(choose)}"]
        lean = getattr(rec, "lean", None)
        if lean:
            out += ["", f"What you said you prefer leans toward {self.kb.docs[lean].title if lean in self.kb.docs else lean}."]
        return "\n".join(out) + self._assumed_note(ctx)

    def _changed(self, ctx: TurnContext, cites: Citations) -> str:
        rec = ctx.recommendation
        if not rec:
            return ""
        shown = [f for f in rec.roles if ctx.hit_for(f.role_id)][:2]
        if not shown or not self._figures(ctx):
            return ""
        parts = [f"{f.title} {f.fit:.0%} {cites.cite(ctx.hit_for(f.role_id))}" for f in shown]
        return " Your fit now: " + "; ".join(parts) + "."

    def _profile_update(self, ctx: TurnContext, cites: Citations) -> str:
        if not ctx.changes and ctx.known:
            return "Noted; your profile already has " + "; ".join(ctx.known) + "." + self._changed(ctx, cites)
        if not ctx.changes:
            return "Thanks. I didn't find a skill, level or weekly-hours figure in that to update; try e.g. *\"I also know dbt (some)\"* or *\"I have 10 hours a week\"*."
        return "Noted, I've updated your profile: " + "; ".join(ctx.changes) + "." + self._changed(ctx, cites)

    def _correction(self, ctx: TurnContext, cites: Citations) -> str:
        if not ctx.changes:
            return "I couldn't tell what to change from that. Tell me the skill and the level, e.g. *\"my SQL is basic\"* or *\"remove Docker\"*."
        return "Corrected. What changed in your profile: " + "; ".join(ctx.changes) + "." + self._changed(ctx, cites)

    def _preference(self, ctx: TurnContext, cites: Citations) -> str:
        prefs = [c for c in ctx.changes if c.startswith("preference")]
        said = "; ".join(prefs) if prefs else "noted what you like and dislike"
        lean = getattr(ctx.recommendation, "lean", None) if ctx.recommendation else None
        text = f"Noted ({said}). A preference never sets a skill level: your skills stay as they were."
        if lean and lean in self.kb.docs:
            text += f" It leans the comparison toward {self.kb.docs[lean].title}."
        return text


def pointer_to(kind: str | None) -> str:
    """The sentence that points to a second question this answer does not answer."""
    return f"\n\nYou also asked about {LABELS[kind]}: ask that on its own and I'll answer it." if kind in LABELS else ""


def join_answers(first: Answer, second: Answer, kind: str) -> Answer:
    """The answers to the two questions of one message, under one list of citations: the second's
    markers are renumbered to the joined list (a passage both cite keeps one number)."""
    hits = list(first.citations)
    number: dict[int, int] = {}
    for n, hit in enumerate(second.citations, 1):
        key = (hit.doc_id, hit.section, hit.snippet)
        same = next((i for i, h in enumerate(hits, 1) if (h.doc_id, h.section, h.snippet) == key), None)
        if same is None:
            hits.append(hit)
            same = len(hits)
        number[n] = same
    text = re.sub(r"\[(\d+)\]", lambda m: f"[{number.get(int(m.group(1)), int(m.group(1)))}]", second.text)
    heading = LABELS.get(kind, "your other question")
    return first.model_copy(update={
        "text": f"{first.text}\n\n**On {heading}:** {text}",
        "citations": hits,
        "grounded": first.grounded and second.grounded,
        "profile": second.profile,
        "suggestions": list(dict.fromkeys([*first.suggestions, *second.suggestions])),
    })


def stream_answer(answer: Answer) -> Iterator[str | Answer]:
    """Stream a finished answer in pieces of a few words (as a model would), then the answer itself."""
    words = re.findall(r"\S+\s*", answer.text)
    for i in range(0, len(words), STREAM_WORDS):
        yield "".join(words[i : i + STREAM_WORDS])
    yield answer


STREAM_WORDS = 6
