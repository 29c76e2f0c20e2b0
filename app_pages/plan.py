"""My plan: fit for every role, your levels against a target's, the staged plan, BI vs ML."""

from __future__ import annotations

import streamlit as st

from app_pages.helpers import profile_edits
from advisor.errors import BadInput
from advisor.models import Gap, PlanStage
from advisor.report import plan_summary, recommendation_markdown
from advisor.wording import resource_line
from app_pages.helpers.charts import chart_height, fit_chart, gaps_frame, levels_chart, timeline_chart
from app_pages.common import advisor, get_profile, init_state, set_profile, show_citations
from app_pages.sidebar import profile_sidebar
from knowledge.base import TARGET_ROLES

adv = advisor()
init_state()
kb = adv.kb
profile = get_profile()


def _learned(gap: Gap) -> None:
    try:
        set_profile(profile_edits.mark_learned(get_profile(), gap.skill_id, gap.required_level, adv.kb))
        st.session_state["_plan_note"] = f"{gap.name} marked as learned (level {gap.required_level})."
    except BadInput as exc:
        st.session_state["_plan_note"] = str(exc)


def _chart(chart) -> None:
    st.altair_chart(chart, width="stretch", height=chart_height(chart))


# The role the person picked in "Plan toward", kept outside the widget, whose state Streamlit
# drops while another page runs. (A comment: a bare string here would be shown by Streamlit's magic.)
PLAN_CHOICE = "plan_choice"


def _best_fit(ranking: list[str] | None = None) -> str:
    """The best-ranked of the roles the person aims for (the two paths Reskill is about, unless they
    chose targets in the sidebar), by the Recommendation's own ranking."""
    wanted = [r for r in (profile.target_roles or TARGET_ROLES) if r in kb.roles] or sorted(kb.roles)
    if ranking is None:
        ranking = [f.role_id for f in adv.ranked_fits(adv.profile(profile))]
    return next((r for r in ranking if r in wanted), wanted[0])


def _default_target() -> str:
    chosen = st.session_state.get(PLAN_CHOICE)
    return chosen if chosen in kb.roles else _best_fit()


def _aims() -> str:
    n = len([r for r in profile.target_roles if r in kb.roles])
    return "the two paths" if not n else ("your target roles" if n > 1 else "your target role")


def _chose() -> None:
    st.session_state[PLAN_CHOICE] = st.session_state["plan_target"]


def _stage(stage: PlanStage) -> None:
    label = f"Stage {stage.number}: {stage.title} — weeks {stage.start_week:g}–{stage.end_week:g} · {stage.hours} h"
    with st.expander(label, expanded=stage.number == 1):
        st.markdown("**Skills**\n\n" + "\n".join(f"- {g.name}: level {g.current_level} → {g.required_level} (~{g.hours} h)" for g in stage.skills))
        if stage.resources:
            st.markdown("**Resources**\n\n" + "\n".join(f"- {resource_line(kb, r)}" for r in stage.resources))
        st.markdown(f"**Portfolio project**: {stage.project}")


# -- page ----------------------------------------------------------------------------------
st.title("My plan")
if note := st.session_state.pop("_plan_note", None):
    st.success(note)
if not any(s.level > 0 for s in profile.skills):
    st.info(
        "Your profile has no skills yet, so every requirement counts as a gap. Tell the chat about your "
        "experience, upload a resume or add skills in the sidebar.",
        icon=":material/person_add:",
    )

role_ids = sorted(kb.roles, key=lambda r: kb.roles[r].title)
st.session_state["plan_target"] = _default_target()
target = st.selectbox("Plan toward", role_ids, format_func=lambda r: kb.roles[r].title, key="plan_target", on_change=_chose)
rec = adv.recommend(profile, targets=[target] + [r for r in role_ids if r != target])
chosen = next(f for f in rec.roles if f.role_id == target)
if rec.show_numbers:
    best = _best_fit([f.role_id for f in rec.roles])
    if best != target:
        st.caption(f"Your choice. The best fit of {_aims()} is {kb.roles[best].title}.")
    else:
        st.caption(("Your choice, and" if PLAN_CHOICE in st.session_state else "Chosen for you:") + f" the best fit of {_aims()}.")
if not rec.show_numbers:  # the ask says why there are no figures: its warning would say it twice
    st.info(rec.ask)
    st.stop()
for warning in rec.warnings:
    st.warning(warning)

left, right = st.columns([3, 2])
with left:
    st.subheader("Fit for each role")
    _chart(fit_chart(rec.roles, target))
with right:
    st.subheader(chosen.title)
    a, b, c = st.columns(3)
    a.metric("Fit now", f"{chosen.fit:.0%}")
    b.metric("Weeks to ready to apply", f"{chosen.weeks_to_ready:g}", help="Weeks of study until every core requirement is met")
    c.metric("Weeks for the full plan", f"{chosen.weeks_full_plan:g}", help="Core and plus requirements, at your weekly hours")
    st.caption(f"At {profile.weekly_hours:g} hours a week.")
    st.write(chosen.why)

st.subheader(f"Your levels against {chosen.title}")
_chart(levels_chart(chosen))

if chosen.gaps:
    st.markdown(f"**{len(chosen.gaps)} gaps**, highest priority first")
    # A static table, not st.dataframe: its grid cut the columns after 'skill' off a phone's screen
    # (sideways scrolling, no hint); a table wraps long skill names and fits any width.
    st.table(gaps_frame(chosen).set_index("skill"))
    pick, go = st.columns([3, 1], vertical_alignment="bottom")
    gap_by_id = {g.skill_id: g for g in chosen.gaps}
    picked = pick.selectbox(
        "Mark a skill as learned (it is raised to the required level; fit and plan update)",
        list(gap_by_id),
        format_func=lambda sid: f"{gap_by_id[sid].name} (level {gap_by_id[sid].current_level} → {gap_by_id[sid].required_level})",
        key=f"learn_pick:{target}",
    )
    go.button("Mark learned", key="learned", icon=":material/check:", on_click=_learned, args=(gap_by_id[picked],), width="stretch")
else:
    st.success(f"You meet every requirement of {chosen.title}.")

plan = rec.plan
st.subheader("Learning plan")
if plan and plan.stages:
    st.caption(plan_summary(plan))
    _chart(timeline_chart(plan))
    for stage in plan.stages:
        _stage(stage)
else:
    st.write("Nothing left to learn for this role: you are ready to apply.")
st.download_button(
    "Download the plan (Markdown)",
    data=recommendation_markdown(rec, kb),
    file_name=f"reskill-plan-{target}.md",
    mime="text/markdown",
    icon=":material/download:",
    on_click="ignore",
)

paths = [r for r in TARGET_ROLES if r in kb.roles]
if len(paths) > 1:
    st.divider()
    st.subheader(" vs ".join(kb.roles[r].title for r in paths))
    comparison = adv.compare(profile, roles=paths)
    st.write(comparison.summary)
    for column, path in zip(st.columns(len(comparison.paths)), comparison.paths):
        with column, st.container(border=True):
            st.markdown(f"#### {path.title}")
            a, b = st.columns(2)
            a.metric("Fit", f"{path.fit:.0%}")
            b.metric("Weeks to ready to apply", f"{path.weeks_to_ready:g}")
            if path.top_gaps:
                st.markdown("**Top gaps**\n\n" + "\n".join(f"- {g.name} ({g.current_level} → {g.required_level}, ~{g.hours} h)" for g in path.top_gaps))
            else:
                st.markdown("**Top gaps**: none")
            if path.outlook:
                show_citations(path.outlook, heading="Outlook")
            else:
                st.caption("No market document covers this role yet.")

profile_sidebar(adv)
