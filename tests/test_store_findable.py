"""A freshly edited passage is findable by a question about its content (issue 16, item 8).

Over a copy of the real knowledge base (real embedding model, temporary Chroma store): a
sentence added through the store to a skill's "how to learn" section comes back in the top
three hits for questions that paraphrase it (no shared phrasing beyond a word or two), and the
retrieval evaluation stays above its floors with the edits in place.
"""

from __future__ import annotations

import re
import shutil

import pytest

from advisor.evaluation import THRESHOLDS, read_jsonl, retrieval_metrics
from advisor.settings import Settings
from tests.conftest import REAL_KB

EVAL = REAL_KB.parent / "tests" / "eval" / "queries.jsonl"

ADDED = {
    "docker": (
        "A useful first exercise is to run the same image on a colleague's laptop and compare start-up times, which shows what layer caching saves.",
        ["how can I see the benefit of cached layers in practice?", "exercise to compare how fast a container starts on another machine"],
    ),
    "sql": (
        "Practising on the public Stack Overflow data dump in BigQuery is a free way to write window functions over millions of real rows.",
        ["where can I practise window functions on a large real dataset for free?", "free big public data to practise analytic SQL"],
    ),
    "python": (
        "Solving the first twenty Advent of Code puzzles is a cheap way to get fluent with dictionaries, sets and generators.",
        ["puzzles that help me get fluent with python data structures", "is advent of code good practice for python?"],
    ),
    "model_serving": (
        "Load-testing your endpoint with Locust at 50 concurrent users shows whether batching requests is worth it.",
        ["how do I check if my model API can handle many users at once?", "tool to stress test a prediction endpoint"],
    ),
    "git": (
        "Resolving a deliberately created merge conflict with a teammate in a throwaway repository teaches more than any tutorial.",
        ["best way to practise fixing merge conflicts", "safe exercise for learning conflict resolution in version control"],
    ),
}


@pytest.fixture(scope="module")
def edited(tmp_path_factory, embedder):
    """An Advisor over a copy of the real knowledge base, with one sentence added to each skill above."""
    from advisor.core import Advisor

    root = tmp_path_factory.mktemp("findable")
    shutil.copytree(REAL_KB, root / "kb")
    adv = Advisor(Settings(_env_file=None, data_dir=root / "data", knowledge_dir=root / "kb"), embedder)
    for doc_id, (sentence, _) in ADDED.items():
        doc = adv.store.get(doc_id)
        learn = re.search(r"^## How do I learn[^\n]*\n", doc.body, re.M)
        assert learn, f"{doc_id} has no 'How do I learn' section"
        end = doc.body.find("\n## ", learn.end())
        end = len(doc.body) if end < 0 else end
        body = doc.body[:end].rstrip() + "\n\n" + sentence + "\n" + doc.body[end:]
        adv.store.put(doc_id, doc.meta.model_dump(mode="json", exclude_none=True), body, doc.version)
    return adv


@pytest.mark.parametrize("doc_id,question", [(d, q) for d, (_, qs) in ADDED.items() for q in qs])
def test_an_added_sentence_is_found_by_a_paraphrase(edited, doc_id, question):
    sentence = ADDED[doc_id][0]
    hits = edited.search(question, k=3)
    assert any(sentence in h.snippet for h in hits), [(h.doc_id, h.section, h.snippet[:80]) for h in hits]
    hit = next(h for h in hits if sentence in h.snippet)
    assert hit.doc_id == doc_id and hit.section.startswith("How do I learn")
    assert len(hit.snippet) <= 700, "the passage is a paragraph or two, not a whole long section"


def test_retrieval_eval_stays_above_its_floors_with_the_edits(edited):
    failures: list[str] = []
    metrics = retrieval_metrics(edited, read_jsonl(EVAL), failures)
    assert metrics["retrieval_hit@3"] >= THRESHOLDS["retrieval_hit@3"], failures[:10]
    assert metrics["retrieval_mrr@10"] >= THRESHOLDS["retrieval_mrr@10"], failures[:10]
