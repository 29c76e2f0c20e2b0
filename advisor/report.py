"""A Recommendation as a Markdown document: what the app downloads and the CLI can print."""

from __future__ import annotations

import datetime as dt

from advisor.models import Plan, Recommendation, RoleFit
from advisor.wording import resource_line
from knowledge.base import KnowledgeBase
from knowledge.links import first_link

LEVEL_NAMES = {0: "none", 1: "basic", 2: "working", 3: "proficient", 4: "expert"}


def _cell(text: object) -> str:
    """Text safe inside one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _weeks(start: float, end: float) -> str:
    return f"weeks {start:g}–{end:g}"


def weeks_text(weeks: float) -> str:
    """Weeks as every face writes them: the very figure of RoleFit and Plan, never re-rounded."""
    return f"{weeks:g} week{'' if weeks == 1 else 's'}"


def plan_summary(plan: Plan) -> str:
    """One sentence that every face uses for the two figures of a plan, in weeks (the figures the
    fit shows as "weeks to ready to apply" and "weeks for the full plan"), each with its hours."""
    ready = (f"you are ready to apply after {weeks_text(plan.weeks_to_ready)} ({plan.hours_to_ready} hours of study)"
             if plan.hours_to_ready else "you are ready to apply now")
    if plan.total_hours > plan.hours_to_ready:
        full = (f"the full plan, which adds skills that raise your fit but are not needed to apply, "
                f"takes {weeks_text(plan.total_weeks)} ({plan.total_hours} hours)")
    else:
        full = "that is the full plan"
    return f"At {plan.weekly_hours:g} hours a week {ready}; {full}."


def _fit_table(roles: list[RoleFit]) -> list[str]:
    lines = ["| Role | Fit | Requirements met | Gaps | Weeks to ready to apply | Weeks for the full plan |", "|---|---:|---:|---:|---:|---:|"]
    for f in roles:
        lines.append(f"| {_cell(f.title)} | {f.fit:.0%} | {len(f.matched)} | {len(f.gaps)} | {f.weeks_to_ready:g} | {f.weeks_full_plan:g} |")
    return lines


def recommendation_markdown(rec: Recommendation, kb: KnowledgeBase | None = None, today: dt.date | None = None) -> str:
    """The whole recommendation (profile, fit by role, gaps, staged plan, sources) as Markdown.

    With ``kb``, resource and source ids are shown with their titles (and links when known).
    """
    today = today or dt.date.today()
    profile, plan = rec.profile, rec.plan
    chosen = next((f for f in rec.roles if plan and f.role_id == plan.role_id), rec.roles[0] if rec.roles else None)
    target = chosen.title if chosen else "your next role"
    out = [
        f"# Reskill plan: toward {target}",
        "",
        f"Generated {today.isoformat()} · {profile.weekly_hours:g} hours a week · target seniority {rec.seniority}",
        "",
    ]
    # Without figures the ask (under "Fit by role") says why; its warning would say it twice.
    warnings = rec.warnings if rec.show_numbers else []
    out += [f"> **Warning:** {w}" for w in warnings] + ([""] if warnings else [])

    out += ["## Your skills", ""]
    if profile.skills:
        out += ["| Skill | Level | Evidence |", "|---|---|---|"]
        for s in sorted(profile.skills, key=lambda s: (-s.level, s.name or s.skill_id)):
            evidence = "; ".join(s.evidence) or "—"
            said = "" if s.source == "stated" else f" *{s.source}*"
            out.append(f"| {_cell(s.name or s.skill_id)} | {s.level} ({LEVEL_NAMES[s.level]}){said} | {_cell(evidence)} |")
    else:
        out.append("No skills recorded yet: every requirement counts as a gap.")
    out.append("")

    if not rec.show_numbers:
        out += ["## Fit by role", "", rec.ask or "", ""]
        return "\n".join(out).rstrip() + "\n"
    out += ["## Fit by role", ""] + _fit_table(rec.roles) + [""]
    out += [f"- {f.why}" for f in rec.roles if f.why] + [""]

    if chosen:
        out += [f"## Gaps for {chosen.title}", ""]
        if chosen.gaps:
            out += ["| Skill | You | Needed | Core or plus | Importance | Hours |", "|---|---:|---:|---|---:|---:|"]
            for g in chosen.gaps:
                out.append(f"| {_cell(g.name)} | {g.current_level} | {g.required_level} | {g.need} | {g.importance} | {g.hours} |")
        else:
            out.append("None: you meet every requirement.")
        out.append("")

    if plan and plan.stages:
        out += [
            "## Learning plan",
            "",
            plan_summary(plan),
            "",
        ]
        for st in plan.stages:
            part = "needed to apply" if st.core else "optional: raises fit"
            out += [f"### Stage {st.number}: {st.title} ({_weeks(st.start_week, st.end_week)}, {st.hours} h, {part})", "", "Skills:"]
            out += [f"- {g.name}: level {g.current_level} → {g.required_level} (~{g.hours} h)" for g in st.skills]
            if st.resources:
                out += ["", "Resources:"] + [f"- {resource_line(kb, r)}" for r in st.resources]
            out += ["", f"Portfolio project: {st.project}", ""]
    elif plan is not None:
        out += ["## Learning plan", "", "Nothing to learn for this role: you are ready to apply.", ""]

    if rec.sources:
        out += ["## Sources", ""]
        for sid in rec.sources:
            doc = kb.docs.get(sid) if kb else None
            link = first_link(kb, sid) if doc else None
            name = f"[{doc.title}]({link})" if link else (doc.title if doc else "")
            out.append(f"- {name} (`{sid}`, {doc.kind})" if doc else f"- `{sid}`")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
