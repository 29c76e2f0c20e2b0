"""The target roles' requirement lists against what employers ask (issue: credible numbers).

tests/eval/postings/<role>.jsonl holds a sample of public job postings: the requirement lines
quoted, the source, and the knowledge-base skills each posting asks for. The role model must
hold (core or plus, alternatives counted) at least 80% of what the postings ask."""

from __future__ import annotations

import pytest

from advisor.evaluation import read_jsonl
from knowledge.base import TARGET_ROLES, load_knowledge

from tests.conftest import REAL_KB

KB = load_knowledge(REAL_KB)
FOLDER = REAL_KB.parent / "tests" / "eval" / "postings"


@pytest.mark.parametrize("role_id", TARGET_ROLES)
def test_role_model_holds_what_postings_ask(role_id):
    postings = read_jsonl(FOLDER / f"{role_id}.jsonl")
    assert len(postings) >= 20
    held = {m for r in KB.roles[role_id].requirements for m in r.members}
    asked = [s for p in postings for s in p["skills"]]
    assert all(s in KB.skills for s in asked)
    share = sum(s in held for s in asked) / len(asked)
    assert share >= 0.8, f"{role_id}: the role model holds {share:.0%} of the skills postings ask for"


@pytest.mark.parametrize("role_id", TARGET_ROLES)
def test_every_posting_is_cited_by_its_role(role_id):
    sources = "\n".join(KB.roles[role_id].sources)
    for p in read_jsonl(FOLDER / f"{role_id}.jsonl"):
        assert p["source"] in sources and p["requirement_lines"], p["id"]


@pytest.mark.parametrize("role_id", TARGET_ROLES)
def test_a_kind_of_posting_is_backed_by_the_sampled_postings(role_id):
    """A role's variant ("platform-leaning ML engineer postings") cites sampled postings of its kind:
    each asks for at least one requirement the variant makes core, and fewer modelling asks than the
    role's own list has core (the variant lowers those)."""
    postings = {p["id"]: p for p in read_jsonl(FOLDER / f"{role_id}.jsonl")}
    role = KB.roles[role_id]
    for v in role.variants:
        assert set(v.postings) <= set(postings), f"{v.name}: unknown posting ids {set(v.postings) - set(postings)}"
        added = {m for r in role.requirements if r.key in v.core for m in r.members}
        lowered = {m for r in role.requirements if r.key in v.levels and v.levels[r.key] < r.level for m in r.members}
        for pid in v.postings:
            asks = set(postings[pid]["skills"])
            assert asks & added, f"{pid} asks for none of what {v.name} makes core"
            assert len(asks & lowered) <= len(lowered) // 2, f"{pid} asks for most of what {v.name} lowers"
