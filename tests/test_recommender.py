"""Fit arithmetic, gap priorities, prerequisite ordering and weeks, on the fixture knowledge base."""

from __future__ import annotations

import pytest
from hypothesis import given, settings as hyp_settings, strategies as st

from advisor.errors import BadInput
from advisor.models import Profile, SkillEvidence
from advisor.recommender import ON_THE_JOB, Recommender
from knowledge.base import load_knowledge

from tests.conftest import FIXTURE_KB

KB = load_knowledge(FIXTURE_KB)
SKILLS = sorted(KB.skills)


def profile(hours: float = 6, seniority: str = "mid", **levels: int) -> Profile:
    return Profile(
        skills=[SkillEvidence(skill_id=s, name=s, level=lvl, evidence=["test"]) for s, lvl in levels.items()],
        weekly_hours=hours,
        seniority=seniority,
    )


def by_hand(role_id: str, levels: dict[str, int], seniority: str = "mid") -> float:
    """Fit recomputed straight from the role document."""
    reqs = KB.roles[role_id].requirements
    total = sum(r.importance for r in reqs)
    return sum(r.importance * min(levels.get(r.skill, 0), r.level_for(seniority)) / r.level_for(seniority) for r in reqs) / total


def test_fit_is_importance_weighted_coverage_with_partial_credit():
    fit = Recommender(KB).fit(profile(sql=2, power_bi=3, statistics=4), "bi_analyst")
    # sql 5*2/3 + power_bi 4*3/3 + dashboard 0 + statistics 2*2/2, over 5+4+4+2
    assert fit.fit == pytest.approx((5 * 2 / 3 + 4 + 0 + 2) / 15, abs=1e-4)
    assert [m.skill_id for m in fit.matched] == ["power_bi", "statistics"]
    assert [m.skill_id for m in fit.transferable] == ["sql"]
    assert {g.skill_id for g in fit.gaps} == {"sql", "dashboard_design"}
    assert "Power BI" in fit.why and "Dashboard design" in fit.why


@hyp_settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(SKILLS), st.integers(0, 4)), st.sampled_from(["junior", "mid", "senior"]))
def test_fit_matches_hand_computation(levels, seniority):
    rec = Recommender(KB)
    for role_id in KB.roles:
        got = rec.fit(profile(seniority=seniority, **levels), role_id)
        assert got.fit == pytest.approx(by_hand(role_id, levels, seniority), abs=1e-4)
        assert 0 <= got.fit <= 1


@hyp_settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.sampled_from(SKILLS), st.integers(0, 3)), st.sampled_from(SKILLS))
def test_one_more_level_never_lowers_fit(levels, skill):
    rec = Recommender(KB)
    better = dict(levels, **{skill: levels.get(skill, 0) + 1})
    for role_id in KB.roles:
        before, after = rec.fit(profile(**levels), role_id), rec.fit(profile(**better), role_id)
        assert after.fit >= before.fit
        need = next((r.level for r in KB.roles[role_id].requirements if r.skill == skill), 0)
        if levels.get(skill, 0) < need:
            assert after.fit > before.fit
            assert after.hours_to_ready <= before.hours_to_ready


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


def test_weeks_follow_weekly_hours_and_ready_threshold():
    rec = Recommender(KB)
    slow, fast = rec.fit(profile(hours=4), "bi_analyst"), rec.fit(profile(hours=8), "bi_analyst")
    assert slow.hours_to_ready == fast.hours_to_ready
    assert slow.weeks_to_ready == pytest.approx(2 * fast.weeks_to_ready, abs=0.1)
    assert fast.weeks_to_ready == round(fast.hours_to_ready / 8, 1)
    # Ready: requirements above ON_THE_JOB importance in full, the others one level short.
    assert all(r.importance > ON_THE_JOB for r in KB.roles["bi_analyst"].requirements if r.skill != "statistics")
    ready = rec.fit(profile(sql=3, power_bi=3, dashboard_design=3, statistics=1), "bi_analyst")
    assert ready.hours_to_ready == 0 and ready.weeks_to_ready == 0 and ready.gaps
    almost = rec.fit(profile(sql=3, power_bi=3, dashboard_design=2, statistics=1), "bi_analyst")
    assert almost.hours_to_ready == KB.skills["dashboard_design"].hours[2]


def test_plan_stage_weeks_add_up():
    rec = Recommender(KB)
    p = profile(hours=5)
    plan = rec.plan(p, rec.fit(p, "ml_engineer"))
    assert plan.total_hours == sum(g.hours for st in plan.stages for g in st.skills)
    assert plan.total_weeks == pytest.approx(plan.total_hours / 5, abs=0.1)
    for a, b in zip(plan.stages, plan.stages[1:]):
        assert b.start_week == pytest.approx(a.start_week + a.hours / 5, abs=0.11)
    assert all(st.project for st in plan.stages)


def test_seniority_changes_required_levels():
    rec = Recommender(KB)
    p = profile(sql=2, power_bi=2, dashboard_design=2, statistics=2)
    junior, mid, senior = (rec.fit(p, "bi_analyst", s).fit for s in ("junior", "mid", "senior"))
    assert junior > mid > senior


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
    rec = advisor.recommend("I use Python daily and know some SQL; 8 hours a week")
    assert [f.fit for f in rec.roles] == sorted((f.fit for f in rec.roles), reverse=True)
    assert {f.role_id for f in rec.roles} == set(advisor.kb.roles)
    assert rec.plan.role_id in ("bi_analyst", "ml_engineer")
    assert rec.plan.weekly_hours == 8
    assert rec.plan.role_id in rec.sources and all(s in advisor.kb.docs for s in rec.sources)
    dumped = rec.model_dump()
    assert set(dumped) == {"profile", "seniority", "roles", "plan", "sources", "warnings"}
    assert set(dumped["roles"][0]["gaps"][0]) == {"skill_id", "name", "current_level", "required_level", "importance", "priority", "hours"}


def test_first_target_gets_the_plan(advisor):
    rec = advisor.recommend("some Python", targets=["data_scientist", "ml_engineer"])
    assert rec.plan.role_id == "data_scientist"
    assert {f.role_id for f in rec.roles} == {"data_scientist", "ml_engineer"}


def test_low_confidence_is_never_silent(advisor):
    rec = advisor.recommend("I like working on interesting problems")
    assert rec.profile.extraction.confidence == 0
    assert rec.warnings and "Low confidence" in rec.warnings[0]


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
    assert comp.paths[0].fit >= comp.paths[1].fit
    assert all(p.outlook for p in comp.paths)
    assert all(h.kind == "market" for p in comp.paths for h in p.outlook)
