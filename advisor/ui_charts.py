"""Altair charts of fit, levels and the learning plan (pure functions: models in, charts out)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from advisor.models import Plan, RoleFit

LEVEL_AXIS = alt.Axis(values=[0, 1, 2, 3, 4], labelExpr="['0 none','1 basic','2 working','3 proficient','4 expert'][datum.value]")


def fit_frame(roles: list[RoleFit], chosen: str | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "role": f.title,
                "role_id": f.role_id,
                "fit": f.fit,
                "weeks to ready": f.weeks_to_ready,
                "gaps": len(f.gaps),
                "chosen": "your target" if f.role_id == chosen else "other roles",
            }
            for f in roles
        ]
    )


def fit_chart(roles: list[RoleFit], chosen: str | None = None) -> alt.Chart:
    """One bar per role: how much of the role's weighted requirements you cover now."""
    data = fit_frame(roles, chosen)
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("fit:Q", title="Fit", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
            y=alt.Y("role:N", sort="-x", title=None),
            color=alt.Color(
                "chosen:N",
                scale=alt.Scale(domain=["your target", "other roles"], range=["#e4572e", "#8aa1b1"]),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("role:N"),
                alt.Tooltip("fit:Q", format=".0%"),
                alt.Tooltip("weeks to ready:Q"),
                alt.Tooltip("gaps:Q"),
            ],
        )
    )
    labels = bars.mark_text(align="left", dx=3).encode(text=alt.Text("fit:Q", format=".0%"), color=alt.value("#333"))
    return (bars + labels).properties(height=max(120, 32 * len(data)))


def levels_frame(fit: RoleFit) -> pd.DataFrame:
    rows = []
    for m in [*fit.matched, *fit.gaps]:
        rows.append({"skill": m.name, "who": "you", "level": m.current_level, "importance": m.importance})
        rows.append({"skill": m.name, "who": f"{fit.title} needs", "level": m.required_level, "importance": m.importance})
    return pd.DataFrame(rows)


def levels_chart(fit: RoleFit) -> alt.Chart:
    """Your level against the required level for every skill the role asks for."""
    data = levels_frame(fit)
    order = data.sort_values("importance", ascending=False)["skill"].drop_duplicates().tolist()
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("level:Q", title="Level", scale=alt.Scale(domain=[0, 4]), axis=LEVEL_AXIS),
            y=alt.Y("skill:N", sort=order, title=None),
            yOffset=alt.YOffset("who:N", sort=["you"]),
            color=alt.Color(
                "who:N",
                sort=["you"],
                scale=alt.Scale(range=["#2e86ab", "#d3d3d3"]),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            tooltip=["skill:N", "who:N", "level:Q", "importance:Q"],
        )
        .properties(height=max(160, 38 * len(order)))
    )


def timeline_frame(plan: Plan) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "stage": f"{s.number}. {s.title}",
                "start": s.start_week,
                "end": s.start_week + s.weeks,
                "weeks": s.weeks,
                "hours": s.hours,
                "skills": ", ".join(g.name for g in s.skills),
            }
            for s in plan.stages
        ]
    )


def timeline_chart(plan: Plan) -> alt.Chart:
    """The plan's stages as bars along the weeks, at the plan's hours a week."""
    data = timeline_frame(plan)
    order = data["stage"].tolist()
    bars = (
        alt.Chart(data)
        .mark_bar(cornerRadius=3)
        .encode(
            x=alt.X("start:Q", title=f"Week (at {plan.weekly_hours:g} h a week)"),
            x2="end:Q",
            y=alt.Y("stage:N", sort=order, title=None),
            color=alt.Color("stage:N", sort=order, legend=None),
            tooltip=["stage:N", "skills:N", "hours:Q", "weeks:Q", alt.Tooltip("start:Q", title="starts in week")],
        )
    )
    labels = bars.mark_text(align="left", dx=4, color="#333").encode(x="end:Q", text=alt.Text("weeks:Q", format=".1f"))
    return (bars + labels).properties(height=max(120, 40 * len(order)))
