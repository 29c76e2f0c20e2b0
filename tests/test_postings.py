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
