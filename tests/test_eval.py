"""Quality gates on the labelled sets (issue thresholds): retrieval and the recommender."""

from __future__ import annotations

from advisor.evaluation import THRESHOLDS, evaluate
from advisor.settings import REPO_ROOT


def test_eval_thresholds_hold(real_advisor):
    report = evaluate(real_advisor, REPO_ROOT / "tests" / "eval")
    m = report["metrics"]
    failures = "\n".join(report["failures"][:20])
    for name, floor in THRESHOLDS.items():
        assert m[name] >= floor, f"{name} = {m[name]:.3f} < {floor}\n{failures}"
    assert m["negation_errors"] == 0, failures


def test_eval_sets_are_big_enough_and_reference_real_ids(real_advisor):
    from advisor.evaluation import read_jsonl

    queries = read_jsonl(REPO_ROOT / "tests/eval/queries.jsonl")
    personas = read_jsonl(REPO_ROOT / "tests/eval/personas.jsonl")
    assert len(queries) >= 60 and len(personas) >= 25
    docs, skills = real_advisor.kb.docs, real_advisor.kb.skills
    assert all(d in docs for q in queries for d in q["relevant"])
    for p in personas:
        assert p["expected_target"] in ("bi_analyst", "ml_engineer", None)
        assert all(s in skills for key in ("must_detect", "must_not_detect", "expected_gaps") for s in p[key])


def test_knowledge_base_is_valid_and_complete(real_advisor):
    kb = real_advisor.kb
    assert kb.errors == []
    counts = kb.counts()
    assert counts["role"] >= 8 and counts["skill"] >= 70 and counts["resource"] >= 25
    assert counts["transition"] >= 7 and counts["market"] >= 4
    for rid in ("data_scientist", "bi_analyst", "ml_engineer", "analytics_engineer", "data_engineer", "mlops_engineer", "ai_engineer", "data_analyst"):
        assert 12 <= len(kb.roles[rid].requirements) <= 25
