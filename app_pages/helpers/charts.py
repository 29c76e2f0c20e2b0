"""Altair charts of fit, levels and the learning plan (pure functions: models in, charts out)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from advisor.models import Plan, RoleFit

ROW = 26
"""Pixels per bar row."""
LABEL_LIMIT = alt.ExprRef("clamp(containerSize()[0] * 0.4, 90, 320)")
"""Pixels for a bar's label: at most 40% of the chart's width, so bars keep room on a phone
(a fixed 320 px left 20 px of bars at 390 px); a cut label ends in '…' and the tooltip has it whole."""
AXES = 150
"""Pixels for the x axis, its title and the legend below a chart (measured: about 146 in Chromium;
with less, Vega squeezes the rows until labels overlap and hide)."""
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


def fit_chart(roles: list[RoleFit], chosen: str | None = None) -> alt.LayerChart:
    """One bar per role: how much of the role's weighted requirements you cover now."""
    data = fit_frame(roles, chosen)
    base = alt.Chart(data).encode(
        x=alt.X("fit:Q", title="Fit", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        y=alt.Y("role:N", sort="-x", title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        tooltip=[alt.Tooltip("role:N"), alt.Tooltip("fit:Q", format=".0%"), alt.Tooltip("weeks to ready:Q"), alt.Tooltip("gaps:Q")],
    )
    bars = base.mark_bar().encode(
        color=alt.Color(
            "chosen:N",
            scale=alt.Scale(domain=["your target", "other roles"], range=["#e4572e", "#8aa1b1"]),
            legend=alt.Legend(title=None, orient="bottom"),
        )
    )
    labels = base.mark_text(align="left", dx=3, color="#333").encode(text=alt.Text("fit:Q", format=".0%"))
    return alt.layer(bars, labels).properties(height=ROW * len(data))


def gaps_frame(fit: RoleFit) -> pd.DataFrame:
    """The gaps as a table, in priority order."""
    return pd.DataFrame(
        [
            {"skill": g.name, "you": g.current_level, "needed": g.required_level, "importance": g.importance, "hours": g.hours}
            for g in fit.gaps
        ]
    )


def levels_frame(fit: RoleFit) -> pd.DataFrame:
    rows = [
        {
            "skill": m.name,
            "you": m.current_level,
            "required": m.required_level,
            "importance": m.importance,
            "status": "met" if m.current_level >= m.required_level else "below",
        }
        for m in [*fit.matched, *fit.gaps]
    ]
    return pd.DataFrame(rows).sort_values(["importance", "required"], ascending=False)


def levels_chart(fit: RoleFit) -> alt.LayerChart:
    """Your level (coloured bar) against the role's required level (grey bar) for each skill."""
    data = levels_frame(fit)
    order = data["skill"].tolist()
    base = alt.Chart(data).encode(
        y=alt.Y("skill:N", sort=order, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        tooltip=["skill:N", "you:Q", "required:Q", "importance:Q"],
    )
    required = base.mark_bar(color="#dcdcdc", size=ROW - 8).encode(
        x=alt.X("required:Q", title="Level (grey: required)", scale=alt.Scale(domain=[0, 4]), axis=LEVEL_AXIS)
    )
    you = base.mark_bar(size=(ROW - 8) // 2).encode(
        x="you:Q",
        color=alt.Color(
            "status:N",
            scale=alt.Scale(domain=["met", "below"], range=["#2a9d8f", "#e76f51"]),
            legend=alt.Legend(title="Your level", orient="bottom"),
        ),
    )
    return alt.layer(required, you).properties(height=ROW * len(order))


def timeline_frame(plan: Plan) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "stage": f"{s.number}. {s.title}",
                "start": s.start_week,
                "end": s.end_week,
                "weeks": s.weeks,
                "label": f"{s.weeks:g} wk",
                "hours": s.hours,
                "skills": ", ".join(g.name for g in s.skills),
            }
            for s in plan.stages
        ]
    )


def timeline_chart(plan: Plan) -> alt.LayerChart:
    """The plan's stages as bars along the weeks, at the plan's hours a week."""
    data = timeline_frame(plan)
    order = data["stage"].tolist()
    base = alt.Chart(data).encode(
        y=alt.Y("stage:N", sort=order, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        tooltip=["stage:N", "skills:N", "hours:Q", "weeks:Q", alt.Tooltip("start:Q", title="starts in week")],
    )
    bars = base.mark_bar(cornerRadius=3).encode(
        x=alt.X("start:Q", title=f"Week (at {plan.weekly_hours:g} h a week)"),
        x2="end:Q",
        color=alt.Color("stage:N", sort=order, legend=None, scale=alt.Scale(scheme="tableau10")),
    )
    labels = base.mark_text(align="left", dx=4, color="#333").encode(x="end:Q", text="label:N")
    return alt.layer(bars, labels).properties(height=(ROW + 12) * len(order))


def chart_height(chart: alt.TopLevelMixin) -> int:
    """The height to render a chart at: its rows plus room for the axis and legend."""
    height = chart.height if isinstance(chart.height, int) else 200
    return height + AXES
