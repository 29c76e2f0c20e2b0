"""Fit arithmetic, requirement groups, core and plus, the role prior, implications, the plan
and its weeks; controls and calibration bands on the real knowledge base."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings as hyp_settings, strategies as st

from advisor.errors import BadInput
from advisor.models import Profile, SkillEvidence
from advisor.recommender import Recommender
from advisor.role_prior import complete, typical_levels
from knowledge.base import TARGET_ROLES, load_knowledge

from tests.conftest import FIXTURE_KB, REAL_KB

KB = load_knowledge(FIXTURE_KB)
REAL = load_knowledge(REAL_KB)
SKILLS = sorted(KB.skills)
REAL_SKILLS = sorted(REAL.skills)


def profile(hours: float = 6, seniority: str = "mid", role: str | None = None, **levels: int) -> Profile:
    return Profile(
        skills=[SkillEvidence(skill_id=s, name=s, level=lvl, evidence=["test"]) for s, lvl in levels.items()],
        weekly_hours=hours,
        seniority=seniority,
        current_role=role,
    )


def by_hand(kb, role_id: str, levels: dict[str, int], seniority: str = "mid") -> float:
    """Fit recomputed straight from the role document: a group counts its best member, a plus
    requirement half its importance; the best over the role's kinds of posting (its variants)."""
    role = kb.roles[role_id]
    fits = []
    for reqs in [role.requirements] + [role.requirements_of(v) for v in role.variants]:
        weight = {id(r): r.importance * (0.5 if r.need == "plus" else 1) for r in reqs}
        got = sum(weight[id(r)] * min(max(levels.get(m, 0) for m in r.members), r.level_for(seniority)) / r.level_for(seniority)
                  for r in reqs)
        fits.append(got / sum(weight.values()))
    return max(fits)


def test_fit_is_importance_weighted_coverage_with_partial_credit():
    fit = Recommender(KB).fit(profile(sql=2, power_bi=3, statistics=4), "bi_analyst")
    # sql 5*2/3 + power_bi 4*3/3 + dashboard 0 + statistics 2*2/2, over 5+4+4+2
    assert fit.fit == pytest.approx((5 * 2 / 3 + 4 + 0 + 2) / 15, abs=1e-4)
    assert [m.skill_id for m in fit.matched] == ["power_bi", "statistics"]
    assert [m.skill_id for m in fit.transferable] == ["sql"]
    assert {g.skill_id for g in fit.gaps} == {"sql", "dashboard_design"}
    assert "Power BI" in fit.why and "Dashboard design" in fit.why


@hyp_settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.sampled_from(REAL_SKILLS), st.integers(0, 4)), st.sampled_from(["junior", "mid", "senior"]))
def test_fit_matches_hand_computation_with_groups(levels, seniority):
    rec = Recommender(REAL)
    for role_id in REAL.roles:
        got = rec.fit(profile(seniority=seniority, **levels), role_id)
        assert got.fit == pytest.approx(by_hand(REAL, role_id, levels, seniority), abs=1e-4)
        assert 0 <= got.fit <= 1


def test_a_group_is_met_by_its_best_member():
    rec = Recommender(REAL)
    with_tableau = rec.fit(profile(tableau=3), "bi_analyst")
    with_power_bi = rec.fit(profile(power_bi=3), "bi_analyst")
    assert with_tableau.fit == with_power_bi.fit
    assert "tableau" in [m.skill_id for m in with_tableau.matched]
    assert not {"power_bi", "looker"} & {g.skill_id for g in with_tableau.gaps}


def test_a_group_gap_names_the_member_already_started_or_cheapest():
    rec = Recommender(REAL)
    started = rec.fit(profile(tableau=2), "bi_analyst")
    group_gaps = [g for g in started.gaps if g.group and "BI tool" in g.group]
    assert [g.skill_id for g in group_gaps] == ["tableau"]
    fresh = rec.fit(profile(), "bi_analyst")
    gap = next(g for g in fresh.gaps if g.group and "BI tool" in g.group)
    members = next(r.members for r in REAL.roles["bi_analyst"].requirements if r.any_of and "power_bi" in r.any_of)
    cheapest = min(REAL.skills[m].hours_between(0, 3) for m in members)
    assert gap.hours == cheapest


def test_plus_requirements_raise_fit_but_never_block_readiness():
    rec = Recommender(REAL)
    role = REAL.roles["ml_engineer"]
    core = {r.key: r.level for r in role.requirements if r.need == "core"}
    ready = rec.fit(profile(**core), "ml_engineer")
    assert ready.hours_to_ready == 0 and ready.weeks_to_ready == 0
    assert ready.hours_full_plan > 0 and all(g.need == "plus" for g in ready.gaps)
    everything = rec.fit(profile(**{r.key: r.level for r in role.requirements}), "ml_engineer")
    assert everything.fit == 1 and everything.hours_full_plan == 0
    assert ready.fit < everything.fit


def test_plan_puts_core_first_and_ready_falls_on_a_stage_boundary():
    rec = Recommender(REAL)
    p = complete(profile(role="data_scientist"), REAL)
    fit = rec.fit(p, "ml_engineer")
    plan = rec.plan(p, fit)
    flags = [s.core for s in plan.stages]
    assert flags == sorted(flags, reverse=True) and True in flags and False in flags
    last_core = max(i for i, s in enumerate(plan.stages) if s.core)
    assert plan.stages[last_core].end_week == pytest.approx(fit.weeks_to_ready, abs=0.1) == plan.weeks_to_ready
    assert plan.total_weeks == pytest.approx(fit.weeks_full_plan, abs=0.1)
    for a, b in zip(plan.stages, plan.stages[1:]):
        assert b.start_week == a.end_week  # no overlap, no hole
    assert all(all(g.need == "core" for g in s.skills) == s.core for s in plan.stages)


def test_implied_skills_are_marked_with_what_implied_them():
    p = complete(profile(role=None, scikit_learn=3, pandas=2), REAL)
    ml = next(s for s in p.skills if s.skill_id == "machine_learning_fundamentals")
    assert (ml.level, ml.source, ml.implied_by) == (3, "implied", "scikit_learn")
    python = next(s for s in p.skills if s.skill_id == "python")
    assert python.source == "implied" and python.level == 2
    assert not [s for s in p.skills if s.source == "assumed"]


def test_the_role_prior_fills_unmentioned_skills_and_what_is_said_wins():
    p = complete(profile(role="data_scientist", statistics=1, docker=0), REAL)
    by_id = {s.skill_id: s for s in p.skills}
    assert by_id["statistics"].level == 1 and by_id["statistics"].source == "stated"
    assert by_id["docker"].level == 0 and by_id["docker"].source == "stated"
    assert by_id["scikit_learn"].source == "assumed" and by_id["scikit_learn"].level == 3
    assert "assumed from a typical Data Scientist" in p.extraction.reason
    off = complete(profile(role="data_scientist", statistics=1).model_copy(update={"role_prior": False}), REAL)
    assert [s.source for s in off.skills] == ["stated"]


def test_completion_is_idempotent():
    once = complete(profile(role="data_scientist", scikit_learn=3), REAL)
    assert complete(once, REAL).skills == once.skills


@hyp_settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.sampled_from(REAL_SKILLS), st.integers(0, 3)), st.sampled_from(REAL_SKILLS), st.booleans())
def test_learning_never_lengthens_time_to_ready_nor_lowers_fit(levels, skill, prior):
    rec = Recommender(REAL)
    role = "data_scientist" if prior else None
    before = complete(profile(role=role, **levels), REAL)
    better = dict(levels, **{skill: min(4, before.level(skill) + 1)})  # learning raises the level the person has now
    after = complete(profile(role=role, **better), REAL)
    for role_id in TARGET_ROLES:
        a, b = rec.fit(before, role_id), rec.fit(after, role_id)
        assert b.fit >= a.fit - 1e-9
        assert b.hours_to_ready <= a.hours_to_ready


@pytest.mark.parametrize("role_id", sorted(REAL.roles))
def test_control_a_profile_at_the_roles_own_levels_is_ready(role_id):
    """Controls (issue: credible numbers): people already doing the job come out ready."""
    rec = Recommender(REAL)
    levels = {r.key: r.level for r in REAL.roles[role_id].requirements}
    fit = rec.fit(profile(**levels), role_id)
    assert fit.fit >= 0.9 and fit.weeks_to_ready <= 2


def test_a_platform_engineer_is_counted_against_platform_postings_and_a_data_scientist_is_not():
    """ML engineer postings come in two kinds (knowledge/roles/ml_engineer.md, ``variants``). An MLOps
    engineer is close to ready for the platform kind, though the modelling kind asks more of their
    models; a data scientist is closer to the modelling kind. Weeks count against the closer kind."""
    rec = Recommender(REAL)
    mlops = complete(profile(role="mlops_engineer"), REAL)
    own = Recommender(REAL)._fit_against(mlops, "ml_engineer", REAL.roles["ml_engineer"].requirements, "mid", None)
    fit = rec.fit(mlops, "ml_engineer")
    assert fit.variant == "platform-leaning ML engineer postings" and "platform-leaning" in fit.why
    assert fit.hours_to_ready < own.hours_to_ready / 3 and fit.weeks_to_ready <= 4
    assert fit.fit >= 0.6 and f"{round(fit.fit * 100)}% fit" in fit.why  # the control; assumed levels earn 70%
    ds = complete(profile(role="data_scientist"), REAL)
    assert rec.fit(ds, "ml_engineer").variant is None
    assert rec.fit(profile(), "ml_engineer").variant is None  # from nothing, the role's own list is no longer


def test_a_variant_must_name_requirements_of_its_role():
    from knowledge.schema import RoleDoc

    meta = REAL.roles["ml_engineer"].model_dump()
    for bad, message in (({"levels": {"tableau": 2}}, "variants.0.levels: tableau is not a requirement"),
                         ({"core": {"docker": 3}}, "variants.0.core: docker is already core"),
                         ({"levels": {"kubernetes": 2}, "core": {"kubernetes": 3}}, "kubernetes is under both")):
        with pytest.raises(ValueError, match=message):
            RoleDoc.model_validate({**meta, "variants": [{"name": "a kind", "postings": ["mle-01"], **bad}]})


def test_calibration_bands_for_a_typical_data_scientist():
    """A mid-level data scientist at the data scientist role's own levels (the role prior alone)
    needs 150-400 h to be ready to apply for BI analyst and 300-900 h for ML engineer. The bands
    and where they come from: README, "How the numbers are calibrated"."""
    rec = Recommender(REAL)
    p = complete(profile(role="data_scientist"), REAL)
    assert 150 <= rec.fit(p, "bi_analyst").hours_to_ready <= 400
    assert 300 <= rec.fit(p, "ml_engineer").hours_to_ready <= 900


@pytest.mark.parametrize("transition", [d.id for d in REAL.of_kind("transition") if d.id.startswith(f"{d.meta.from_role}_to_")])
def test_playbooks_agree_with_the_role_model(transition):
    meta = REAL.docs[transition].meta
    role = REAL.roles[meta.to_role]
    core = {m for r in role.requirements if r.need == "core" for m in r.members}
    held = {m for r in role.requirements for m in r.members}
    assert set(meta.essential) <= held, f"essential but not required: {set(meta.essential) - held}"
    if meta.to_role in TARGET_ROLES:
        assert meta.essential and set(meta.essential) <= core, f"essential but not core: {set(meta.essential) - core}"
    assert not set(meta.optional) & core, f"called optional but core: {set(meta.optional) & core}"
    if meta.ready_hours is not None:
        p = complete(profile(role=meta.from_role), REAL)
        model = Recommender(REAL).fit(p, meta.to_role).hours_to_ready
        assert abs(meta.ready_hours - model) <= 0.25 * model, f"playbook says {meta.ready_hours} h, model {model} h"
        assert re.search(rf"\b{meta.ready_hours}\b", REAL.docs[transition].body), "the playbook's text must state its hours"


def test_target_playbooks_state_their_hours():
    for role_id in TARGET_ROLES:
        assert REAL.docs[f"data_scientist_to_{role_id}"].meta.ready_hours is not None


def test_gap_hours_come_from_the_skill_document():
    fit = Recommender(KB).fit(profile(sql=1), "bi_analyst")
    sql_gap = next(g for g in fit.gaps if g.skill_id == "sql")
    assert sql_gap.hours == sum(KB.skills["sql"].hours[1:3])
    assert sql_gap.priority >= sql_gap.importance * 2  # two missing levels


def test_plan_respects_prerequisites_and_never_plans_held_skills():
    rec = Recommender(KB)
    p = profile(python=3)
    plan = rec.plan(p, rec.fit(p, "ml_engineer"))
    order = [g.skill_id for st in plan.stages for g in st.skills]
    assert "python" not in order
    assert order.index("docker") < order.index("kubernetes")
    assert order.index("docker") < order.index("model_serving")
    assert len(order) == len(set(order))


def test_missing_prerequisite_is_added_to_the_plan():
    rec = Recommender(KB)
    p = profile(docker=3)  # kubernetes needs docker (held); model_serving needs python (not held)
    plan = rec.plan(p, rec.fit(p, "ml_engineer"))
    order = [g.skill_id for st in plan.stages for g in st.skills]
    assert order.index("python") < order.index("model_serving")


def test_weeks_follow_weekly_hours():
    rec = Recommender(KB)
    slow, fast = rec.fit(profile(hours=4), "bi_analyst"), rec.fit(profile(hours=8), "bi_analyst")
    assert slow.hours_to_ready == fast.hours_to_ready
    assert slow.weeks_to_ready == pytest.approx(2 * fast.weeks_to_ready, abs=0.1)
    assert fast.weeks_to_ready == round(fast.hours_to_ready / 8, 1)
    ready = rec.fit(profile(sql=3, power_bi=3, dashboard_design=3, statistics=2), "bi_analyst")
    assert ready.hours_to_ready == 0 and ready.weeks_to_ready == 0 and not ready.gaps


def test_seniority_changes_required_levels():
    rec = Recommender(KB)
    p = profile(sql=2, power_bi=2, dashboard_design=2, statistics=2)
    junior, mid, senior = (rec.fit(p, "bi_analyst", s).fit for s in ("junior", "mid", "senior"))
    assert junior > mid > senior


@pytest.mark.parametrize("role_id", TARGET_ROLES)
def test_a_senior_target_counts_study_to_level_3_and_names_the_depth_built_on_the_job(role_id):
    """Level 4 is leading the work, which senior postings ask for as years: it lowers fit and is
    named, but is not study. Counted as study it told a mid-level data scientist 192 weeks to a
    senior BI post and 344 to a senior ML engineer one."""
    rec = Recommender(REAL)
    p = complete(profile(role="data_scientist"), REAL)
    mid, senior = rec.fit(p, role_id, "mid"), rec.fit(p, role_id, "senior")
    assert senior.fit < mid.fit and senior.hours_to_ready >= mid.hours_to_ready
    assert all(g.required_level <= 3 for g in senior.gaps)
    expert = {r.key for r in REAL.roles[role_id].requirements if r.need == "core" and r.level_for("senior") == 4}
    held = {s.skill_id for s in p.skills if s.level >= 4}
    assert senior.on_the_job and len(senior.on_the_job) == len(expert - held)
    assert "years of doing the job" in senior.why and not mid.on_the_job


def test_prior_seniority_follows_years():
    junior = typical_levels(REAL, "data_scientist", "junior")
    senior = typical_levels(REAL, "data_scientist", "senior")
    assert sum(junior.values()) < sum(senior.values())
    mid = typical_levels(REAL, "data_scientist", "mid")
    # A senior is assumed higher only where the role document says so ("senior: 4" for statistics),
    # not one level up in everything: stakeholder communication has no senior level of its own.
    assert senior["statistics"] == 4 and senior["stakeholder_communication"] == mid["stakeholder_communication"] == 3


def test_marking_a_skill_learned_rescores_every_target_and_shortens_the_plan(advisor):
    p = profile(python=2)
    before = advisor.recommend(p, targets=["ml_engineer", "bi_analyst"])
    learned = p.model_copy(update={"skills": p.skills + [SkillEvidence(skill_id="docker", name="Docker", level=3, evidence=["learned"])]})
    after = advisor.recommend(learned, targets=["ml_engineer", "bi_analyst"])
    fit = {f.role_id: f.fit for f in after.roles}
    assert fit["ml_engineer"] > {f.role_id: f.fit for f in before.roles}["ml_engineer"]
    assert after.plan.total_hours < before.plan.total_hours
    assert "docker" not in [g.skill_id for st in after.plan.stages for g in st.skills]


def test_recommendation_shape_and_sources(advisor):
    rec = advisor.recommend("I use Python daily, know some SQL and a bit of Power BI; 8 hours a week")
    assert {f.role_id for f in rec.roles} == set(advisor.kb.roles)
    assert rec.plan.role_id in ("bi_analyst", "ml_engineer")
    assert rec.plan.weekly_hours == 8
    assert rec.plan.role_id in rec.sources and all(s in advisor.kb.docs for s in rec.sources)
    assert rec.show_numbers and rec.ask is None
    dumped = rec.model_dump()
    assert set(dumped) == {"profile", "seniority", "roles", "plan", "sources", "warnings", "show_numbers", "ask", "lean"}
    assert {"hours_to_ready", "weeks_to_ready", "hours_full_plan", "weeks_full_plan"} <= set(dumped["roles"][0])


def test_first_target_gets_the_plan(advisor):
    rec = advisor.recommend("some Python", targets=["data_scientist", "ml_engineer"])
    assert rec.plan.role_id == "data_scientist"
    assert {f.role_id for f in rec.roles} == {"data_scientist", "ml_engineer"}


def test_no_figures_before_the_person_has_said_enough(advisor):
    rec = advisor.recommend("I like working on interesting problems")
    assert rec.profile.extraction.confidence == 0
    assert not rec.show_numbers and rec.ask and "fit" in rec.ask
    assert rec.warnings


def test_preferences_alone_give_a_lean_and_a_question(advisor):
    rec = advisor.recommend("I love writing code and hate stakeholder meetings")
    assert not rec.show_numbers and rec.lean == "ml_engineer"
    assert "lean toward" in rec.ask


def test_preferences_shift_the_comparison_and_why_says_so(advisor):
    text = "Python daily, some SQL, a bit of Power BI, basic Docker"
    plain = advisor.recommend(text, targets=list(TARGET_ROLES))
    coder = advisor.recommend(text + ". I love writing code and I hate stakeholder meetings.", targets=list(TARGET_ROLES))
    mle = next(f for f in coder.roles if f.role_id == "ml_engineer")
    assert mle.preference and "writing code" in mle.why
    rank = lambda rec: [f.role_id for f in rec.roles].index("ml_engineer")  # noqa: E731
    assert rank(coder) <= rank(plain)
    assert {f.role_id: f.fit for f in plain.roles} == {f.role_id: f.fit for f in coder.roles}  # fit itself is skills only


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"profile_or_text": "python", "targets": ["astronaut"]}, "unknown role"),
        ({"profile_or_text": "python", "hours": 0}, "hours a week"),
        ({"profile_or_text": "python", "seniority": "lead"}, "unknown seniority"),
        ({"profile_or_text": "   "}, "text is empty"),
        ({"profile_or_text": {"skills": [{"skill_id": "cobol", "level": 2}, {"skill_id": "sql", "level": 7}]}}, "cobol"),
    ],
)
def test_bad_recommend_input(advisor, kwargs, message):
    with pytest.raises(BadInput, match=message):
        advisor.recommend(**kwargs)


def test_compare_side_by_side(advisor):
    comp = advisor.compare("Python daily, some SQL, basic Power BI")
    assert [p.role_id for p in comp.paths] and {p.role_id for p in comp.paths} == {"bi_analyst", "ml_engineer"}
    assert all(p.outlook for p in comp.paths)
    assert all(h.kind == "market" for p in comp.paths for h in p.outlook)
    assert "weeks to ready to apply" in comp.summary


def test_a_background_without_a_role_document_has_its_own_modest_prior(tmp_path):
    from advisor.role_prior import backgrounds

    p = complete(Profile(current_role=None, background="statistician", skills=[]), REAL)
    assumed = {s.skill_id: s.level for s in p.skills if s.source == "assumed"}
    assert assumed["statistics"] == 3 and "python" not in assumed and "power_bi" not in assumed
    assert all("statistician" in s.evidence[0] for s in p.skills if s.source == "assumed")
    assert not [s for s in complete(Profile(current_role=None, skills=[]), REAL).skills if s.source == "assumed"]
    import shutil

    root = tmp_path / "kb"
    shutil.copytree(REAL_KB, root)
    (root / "lexicon" / "backgrounds.yml").write_text("backgrounds:\n  x:\n    words: [x]\n    typical: {no_such_skill: 2}\n")
    with pytest.raises(ValueError, match="background 'x' names unknown skill id.*no_such_skill"):
        backgrounds(load_knowledge(root))


def test_plus_requirements_count_half_in_fit():
    rec = Recommender(REAL)
    core_only = {r.members[0]: r.level_for("mid") for r in REAL.roles["bi_analyst"].requirements if r.need == "core"}
    fit = rec.fit(profile(**core_only), "bi_analyst")
    plus = sum(r.importance for r in REAL.roles["bi_analyst"].requirements if r.need == "plus")
    core = sum(r.importance for r in REAL.roles["bi_analyst"].requirements if r.need == "core")
    assert fit.fit == pytest.approx(core / (core + 0.5 * plus), abs=1e-3)
    assert fit.weeks_to_ready == 0


def test_a_group_member_is_costed_by_what_it_adds_to_the_plan():
    """Found by the property above in CI: Power BI's prerequisite (data visualisation) is a gap of its
    own, so it adds nothing, yet it was counted in Power BI's cost; one level of Looker then made
    Looker look cheaper, and learning it lengthened the time to ready (406 -> 415 hours)."""
    levels = {"tensorflow_keras": 3, "python_typing": 1, "deep_learning": 0, "sql": 3, "data_warehousing": 2, "excel": 1, "linux_shell": 3}
    rec = Recommender(REAL)
    before = rec.fit(complete(profile(**levels), REAL), "bi_analyst")
    after = rec.fit(complete(profile(looker=1, **levels), REAL), "bi_analyst")
    assert after.hours_to_ready <= before.hours_to_ready


def test_a_stage_names_resources_at_the_level_the_person_starts_from():
    """SQL at 2 gets the interview-practice platforms, not a beginner's tutorial as filler; SQL at 0
    starts with a beginner's resource; a resource whose subject is another skill (the DAX book for
    data modelling) loses to one at the person's level."""
    rec = Recommender(REAL)
    working = rec.resources_for(["sql"], levels={"sql": 2}, role_id="bi_analyst")
    assert working[0] == "practice_sql_interview_platforms" and "practice_sqlbolt_select_star_sql" not in working
    new = rec.resources_for(["sql"], levels={"sql": 0}, role_id="bi_analyst")
    assert REAL.docs[new[0]].meta.level == "beginner"
    stage = rec.resources_for(["sql", "data_modelling"], levels={"sql": 2, "data_modelling": 1}, role_id="bi_analyst")
    assert "book_definitive_guide_to_dax" not in stage
