"""A Recommendation as a Markdown document: what the app downloads and the CLI can print."""

from __future__ import annotations

import datetime as dt

from advisor.models import Recommendation, RoleFit
from knowledge.base import KnowledgeBase

LEVEL_NAMES = {0: "none", 1: "basic", 2: "working", 3: "proficient", 4: "expert"}


def _cell(text: object) -> str:
    """Text safe inside one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _weeks(start: float, length: float) -> str:
    return f"weeks {start:g}–{start + length:g}"


def _resource_line(rid: str, kb: KnowledgeBase | None) -> str:
    doc = kb.docs.get(rid) if kb else None
    if doc is None:
        return f"- {rid}"
    meta = doc.meta
    title = f"[{meta.title}]({meta.url})" if getattr(meta, "url", None) else meta.title
    facts = [getattr(meta, "resource_type", None), getattr(meta, "cost", None)]
    hours = getattr(meta, "effort_hours", None)
    if hours:
        facts.append(f"~{hours} h")
    return f"- {title} ({', '.join(f for f in facts if f)})"


def _fit_table(roles: list[RoleFit]) -> list[str]:
    lines = ["| Role | Fit | Matched | Gaps | Weeks to ready |", "|---|---:|---:|---:|---:|"]
    for f in roles:
        lines.append(f"| {_cell(f.title)} | {f.fit:.0%} | {len(f.matched)} | {len(f.gaps)} | {f.weeks_to_ready:g} |")
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
    out += [f"> **Warning:** {w}" for w in rec.warnings] + ([""] if rec.warnings else [])

    out += ["## Your skills", ""]
    if profile.skills:
        out += ["| Skill | Level | Evidence |", "|---|---|---|"]
        for s in sorted(profile.skills, key=lambda s: (-s.level, s.name or s.skill_id)):
            evidence = "; ".join(s.evidence) or "—"
            out.append(f"| {_cell(s.name or s.skill_id)} | {s.level} ({LEVEL_NAMES[s.level]}) | {_cell(evidence)} |")
    else:
        out.append("No skills recorded yet: every requirement counts as a gap.")
    out.append("")

    out += ["## Fit by role", ""] + _fit_table(rec.roles) + [""]
    out += [f"- {f.why}" for f in rec.roles if f.why] + [""]

    if chosen:
        out += [f"## Gaps for {chosen.title}", ""]
        if chosen.gaps:
            out += ["| Skill | You | Needed | Importance | Hours |", "|---|---:|---:|---:|---:|"]
            for g in chosen.gaps:
                out.append(f"| {_cell(g.name)} | {g.current_level} | {g.required_level} | {g.importance} | {g.hours} |")
        else:
            out.append("None: you meet every requirement.")
        out.append("")

    if plan and plan.stages:
        out += [
            "## Learning plan",
            "",
            f"{plan.total_hours} study hours, about {plan.total_weeks:g} weeks at {plan.weekly_hours:g} hours a week.",
            "",
        ]
        for st in plan.stages:
            out += [f"### Stage {st.number}: {st.title} ({_weeks(st.start_week, st.weeks)}, {st.hours} h)", "", "Skills:"]
            out += [f"- {g.name}: level {g.current_level} → {g.required_level} (~{g.hours} h)" for g in st.skills]
            if st.resources:
                out += ["", "Resources:"] + [_resource_line(r, kb) for r in st.resources]
            out += ["", f"Portfolio project: {st.project}", ""]
    elif plan is not None:
        out += ["## Learning plan", "", "Nothing to learn for this role: you are ready to apply.", ""]

    if rec.sources:
        out += ["## Sources", ""]
        for sid in rec.sources:
            doc = kb.docs.get(sid) if kb else None
            out.append(f"- {doc.title} (`{sid}`, {doc.kind})" if doc else f"- `{sid}`")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
