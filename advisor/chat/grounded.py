"""The default answer engine: no LLM, offline and deterministic.

It writes the answer from the recommender's numbers and from sentences selected out of
the passages retrieved for this turn. Every sentence that states a fact about a role,
skill, resource or the market carries a citation to one of those passages.
"""

from __future__ import annotations

from collections.abc import Iterator

from advisor.chat.compose import Citations, select
from advisor.chat.context import NEEDS_PROFILE, TurnContext, has_profile
from advisor.models import Answer, Gap, RoleFit
from advisor.prompts import load_prompt
from knowledge.base import KnowledgeBase
from retrieval.hit import Hit

NAME = "grounded"


def _gap_line(g: Gap) -> str:
    return f"{g.name} ({g.current_level}→{g.required_level}, ~{g.hours} h)"


def _list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


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
        if intent in ("greeting", "out_of_scope"):
            text, intent = load_prompt("help" if intent == "greeting" else "out_of_scope"), intent
        elif intent in NEEDS_PROFILE and not has_profile(ctx.profile):
            text, intent = load_prompt("need_profile"), "need_profile"
        else:
            writer = getattr(self, f"_{intent}", self._search)
            text = writer(ctx, cites)
            if not cites.hits and intent not in ("profile_update",):
                text = "I could not find anything in the knowledge base that answers this. " + load_prompt("help")
        if ctx.recommendation and ctx.recommendation.warnings and intent in NEEDS_PROFILE:
            text += "\n\n> " + " ".join(ctx.recommendation.warnings)
        return Answer(
            text=text.strip(),
            citations=cites.hits,
            intent=intent,
            profile=ctx.profile,
            recommendation=ctx.recommendation,
            engine=self.name,
            grounded=all(h in ctx.hits for h in cites.hits),
        )

    # -- one writer per intent -----------------------------------------------------------------
    def _fit_line(self, fit: RoleFit, ctx: TurnContext, cites: Citations) -> str:
        ref = cites.cite(ctx.hit_for(fit.role_id))
        gaps = _list([_gap_line(g) for g in fit.gaps[:3]]) or "none"
        return (
            f"- **{fit.title}: {fit.fit:.0%} fit** {ref} — you meet {len(fit.matched)} of "
            f"{len(fit.matched) + len(fit.gaps)} requirements; biggest gaps: {gaps}; "
            f"about **{fit.weeks_to_ready:g} weeks** at {ctx.profile.weekly_hours:g} h a week."
        )

    def _fit(self, ctx: TurnContext, cites: Citations) -> str:
        rec = ctx.recommendation
        shown = [f for f in rec.roles if ctx.hit_for(f.role_id)]
        lines = [f"Here is how your profile scores against each role's requirements ({rec.seniority} level):", ""]
        lines += [self._fit_line(f, ctx, cites) for f in shown]
        best = shown[0] if shown else rec.roles[0]
        lines += ["", best.why, "", f"Ask me for *a plan* and I'll order the {best.title} gaps into stages at your pace."]
        return "\n".join(lines)

    def _plan(self, ctx: TurnContext, cites: Citations) -> str:
        rec = ctx.recommendation
        plan = rec.plan
        fit = next(f for f in rec.roles if f.role_id == plan.role_id)
        ref = cites.cite(ctx.hit_for(plan.role_id))
        out = [
            f"**Your plan toward {fit.title}** {ref}: {plan.total_hours} hours, about **{plan.total_weeks:g} weeks** at "
            f"{plan.weekly_hours:g} h a week. Prerequisites come first, then the most important, largest gaps.",
            "",
        ]
        for st in plan.stages:
            end = st.start_week + st.weeks
            skills = _list([f"{_gap_line(g)} {cites.cite(ctx.hit_for(g.skill_id))}".strip() for g in st.skills])
            out.append(f"{st.number}. **Weeks {st.start_week:g}–{end:g}: {st.title}** — {skills}.")
            res = [f"{self.kb.docs[r].title} {cites.cite(ctx.hit_for(r))}".strip() for r in st.resources if r in self.kb.docs]
            if res:
                out.append(f"   - Learn with: {'; '.join(res)}.")
            lead = max(st.skills, key=lambda g: g.priority)
            out.append(f"   - Prove it: {st.project} {cites.cite(ctx.hit_for(lead.skill_id))}".rstrip())
        transition = ctx.hit_for(f"{ctx.profile.current_role}_to_{plan.role_id}")
        if transition:
            picked = select([transition], "plan milestone first weeks", n=1)
            if picked:
                out += ["", f"From the transition playbook: {picked[0][0]} {cites.cite(transition)}"]
        return "\n".join(out)

    def _compare(self, ctx: TurnContext, cites: Citations) -> str:
        comp = ctx.comparison
        fits = {f.role_id: f for f in ctx.recommendation.roles}
        paths = [p for p in comp.paths if p.role_id in fits]
        best = paths[0]
        refs = " ".join(cites.cite(ctx.hit_for(p.role_id)) for p in paths)
        lead = f"**{best.title}** fits you better today ({best.fit:.0%}"
        if len(paths) > 1:
            lead += f" against {paths[1].fit:.0%} for {paths[1].title}"
        out = [f"{lead}) {refs}".rstrip(), ""]
        for path in paths:
            out.append(self._fit_line(fits[path.role_id], ctx, cites))
            for sentence, hit in select(path.outlook, f"{path.title} demand outlook future", n=1):
                out.append(f"  - Outlook: {sentence} {cites.cite(hit)}")
        prefs = ctx.profile.preferences
        if "business_facing" in prefs and "engineering" not in prefs:
            out += ["", "You said you enjoy business-facing work, which points to the BI path if the fits are close."]
        elif "engineering" in prefs and "business_facing" not in prefs:
            out += ["", "You said you enjoy engineering work, which points to the ML engineering path if the fits are close."]
        return "\n".join(out)

    def _profile_update(self, ctx: TurnContext, cites: Citations) -> str:
        if not ctx.changes:
            return "Thanks. I didn't find a skill, level or weekly-hours figure in that to update; try e.g. *\"I also know dbt (some)\"* or *\"I have 10 hours a week\"*."
        out = ["Noted, I've updated your profile: " + "; ".join(ctx.changes) + "."]
        rec = ctx.recommendation
        if rec:
            shown = [f for f in rec.roles if ctx.hit_for(f.role_id)][:2]
            if shown:
                parts = [f"{f.title} {f.fit:.0%} {cites.cite(ctx.hit_for(f.role_id))}" for f in shown]
                out.append("Your fit now: " + "; ".join(parts) + ".")
        return " ".join(out)

    def _role_info(self, ctx: TurnContext, cites: Citations) -> str:
        hits = ctx.hits
        title = self.kb.docs[ctx.reading.roles[0]].title if ctx.reading.roles and ctx.reading.roles[0] in self.kb.docs else None
        return self._paragraph(hits, ctx.reading.query or ctx.question, cites, heading=title, n=5)

    def _skill_info(self, ctx: TurnContext, cites: Citations) -> str:
        out = []
        for sid in ctx.reading.skills[:2]:
            skill = self.kb.skills.get(sid)
            hit = ctx.hit_for(sid)
            if not skill or not hit:
                continue
            own = [h for h in ctx.hits if h.doc_id == sid]
            text = self._paragraph(own, ctx.reading.query or ctx.question, cites, heading=skill.title, n=4)
            have = ctx.profile.level(sid)
            nxt = min(have + 1, 4)
            ref = cites.cite(hit)
            text += (
                f"\n\nLevel {nxt} means: {skill.levels[nxt]} {ref} Getting from level {have} to {nxt} takes about "
                f"{skill.hours_between(have, nxt)} hours."
            )
            out.append(text)
        if not out:
            return self._search(ctx, cites)
        return "\n\n".join(out)

    def _resources(self, ctx: TurnContext, cites: Citations) -> str:
        lines, seen = [], set()
        for hit in ctx.hits:
            doc = self.kb.docs.get(hit.doc_id)
            if doc is None or doc.kind != "resource" or doc.id in seen:
                continue
            seen.add(doc.id)
            m = doc.meta
            picked = select([hit], "what it covers", n=1)
            what = f" {picked[0][0]}" if picked else ""
            lines.append(f"- **{m.title}** — {m.resource_type}, {m.level}, ~{m.effort_hours} h, {m.cost}.{what} {cites.cite(hit)}")
            if len(lines) == 5:
                break
        if not lines:
            return self._search(ctx, cites)
        about = _list([self.kb.docs[s].title for s in ctx.reading.skills if s in self.kb.docs]) or "this"
        return f"Good places to learn {about}:\n\n" + "\n".join(lines)

    def _market(self, ctx: TurnContext, cites: Citations) -> str:
        text = self._paragraph(ctx.hits, ctx.reading.query or ctx.question, cites, n=5)
        return "These are viewpoints from our sources, with their reasoning, not certainties.\n\n" + text

    def _search(self, ctx: TurnContext, cites: Citations) -> str:
        return self._paragraph(ctx.hits, ctx.reading.query or ctx.question, cites, n=4)

    def _paragraph(self, hits: list[Hit], query: str, cites: Citations, heading: str | None = None, n: int = 4) -> str:
        picked = select(hits, query, n=n)
        body = " ".join(f"{s} {cites.cite(h)}" for s, h in picked)
        return f"**{heading}**\n\n{body}" if heading and body else body


def stream_answer(answer: Answer) -> Iterator[str | Answer]:
    """Stream a finished answer in line-sized pieces, then the answer itself."""
    yield from answer.text.splitlines(keepends=True)
    yield answer
