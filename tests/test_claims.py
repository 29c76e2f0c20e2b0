"""The learned claim reader (advisor/claims.py): masking, its training texts, its cache, and what it
changes in a reading. The phrasings below are not in knowledge/reading/claims.jsonl."""

from __future__ import annotations

import json

import numpy as np
import pytest

from advisor import claims
from advisor.claims import CLAIMS_FILE, ClaimReader, mask, read_examples


def levels(adv, text: str) -> dict[str, int]:
    return {s.skill_id: s.level for s in adv.profile(text).skills if s.source == "stated"}


def test_mask_names_the_skill_x_and_other_skills_y():
    clause = "Kubernetes is run by the team that also owns Terraform"
    hits = [(0, 10, "kubernetes"), (45, 54, "infrastructure_as_code")]
    assert mask(clause, hits, "kubernetes") == "X is run by the team that also owns Y"
    assert mask(clause, hits, "infrastructure_as_code") == "Y is run by the team that also owns X"
    assert mask("deploying models behind an endpoint", [], "model_serving") == "deploying models behind an endpoint"


def test_training_texts_name_real_skills(real_advisor):
    examples = read_examples()
    assert len(examples) >= 1000
    skills = set(real_advisor.kb.skills)
    for ex in examples:
        assert set(ex.get("has", [])) | set(ex.get("not", [])) <= skills, ex["text"][:60]
    # None of them is a text the reading probes measure the reader on.
    probes = {json.loads(line)["text"] for line in (CLAIMS_FILE.parents[2] / "tests/eval/reading_probes.jsonl").read_text().splitlines() if line.strip()}
    assert not probes & {ex["text"] for ex in examples}


def test_a_bad_training_line_names_the_file_and_line(tmp_path):
    path = tmp_path / "claims.jsonl"
    path.write_text('{"text": "I use SQL daily", "has": ["sql"]}\n{"text": broken\n')
    with pytest.raises(ValueError, match=r"claims.jsonl: line 2"):
        read_examples(path)
    path.write_text('{"text": "SQL? nope", "has": ["sql"], "not": ["sql"]}\n')
    with pytest.raises(ValueError, match=r"line 1: .*both 'has' and 'not'"):
        read_examples(path)


@pytest.mark.parametrize(
    "text, skill",
    [
        ("Kubernetes is something only our SRE folks ever touch.", "kubernetes"),
        ("Looker I have only ever seen in a vendor demo.", "looker"),
        ("the dbt project belongs to Marta, I just read the docs it generates", "dbt"),
    ],
)
def test_a_bare_mention_in_a_clause_that_states_a_lack_is_a_lack(real_advisor, text, skill):
    assert levels(real_advisor, text)[skill] == 0


def test_a_list_of_bare_names_is_screened_with_one_vector(real_advisor, monkeypatch):
    """Several bare names in one clause are read once with all of them masked (claims.SCREEN_BELOW);
    only a clause that reads as a lack that way is checked name by name, and its lacks still count."""
    embedded: list[list[str]] = []
    reader = real_advisor.extractor.claims
    real_embed = reader.embedder.embed_documents
    monkeypatch.setattr(reader.embedder, "embed_documents", lambda texts: embedded.append(list(texts)) or real_embed(texts))
    got = levels(real_advisor, "Stack at my last job (team 4471): Python, SQL, Tableau, Git and Airflow.")
    assert min(got.values()) >= 2
    clauses = [t for batch in embedded for t in batch if "X" in t]
    assert clauses == ["Stack at my last job (team 4471): X, X, X, X and X"]
    embedded.clear()
    got = levels(real_advisor, "Kubernetes, Terraform — our ops team's world, no experience there")
    assert got == {"kubernetes": 0, "infrastructure_as_code": 0}
    assert len([t for batch in embedded for t in batch if "X" in t]) == 3  # the screen, then each name


def test_listed_and_used_skills_stay_held(real_advisor):
    got = levels(real_advisor, "Skills: Python, SQL, Kubernetes, Terraform")
    assert set(got) == {"python", "sql", "kubernetes", "infrastructure_as_code"} and min(got.values()) >= 2
    got = levels(real_advisor, "I maintain our Airflow DAGs and the Spark jobs behind them.")
    assert got["workflow_orchestration"] >= 2 and got["spark"] >= 2
    # A level the rules read is evidence of its own: the classifier does not overrule it.
    assert levels(real_advisor, "my manager asked if i'd move to the BI team, and i have done some power bi")["power_bi"] == 2


def test_weights_are_cached_by_examples_and_retrained_when_damaged(embedder, tmp_path, monkeypatch):
    examples = tmp_path / "claims.jsonl"
    examples.write_text('{"text": "a", "has": ["sql"]}\n{"text": "b", "not": ["sql"]}\n')
    clauses = {"a": [("sql", "I write X every day")], "b": [("sql", "X? never touched it")]}
    trained = []

    def reader() -> ClaimReader:
        r = ClaimReader(embedder, tmp_path / "cache", clauses.__getitem__, rules="test", path=examples)
        real_train = r._train
        r._train = lambda rows: trained.append(len(rows)) or real_train(rows)
        return r

    monkeypatch.setattr(claims, "_CACHE", {})
    first = reader().lack(["X? never touched it", "I write X every day"])
    assert trained == [2] and first[0] > first[1]
    monkeypatch.setattr(claims, "_CACHE", {})
    assert np.allclose(reader().lack(["X? never touched it", "I write X every day"]), first)
    assert trained == [2]  # loaded from the cache, not trained again
    (weights,) = (tmp_path / "cache").glob("claims-*.npz")
    weights.write_bytes(b"damaged")
    monkeypatch.setattr(claims, "_CACHE", {})
    assert np.allclose(reader().lack(["X? never touched it"]), first[:1], atol=1e-5)
    assert trained == [2, 2]
    examples.write_text(examples.read_text() + '{"text": "a", "has": ["sql"]}\n')
    monkeypatch.setattr(claims, "_CACHE", {})
    reader().warm()
    assert trained == [2, 2, 3]  # other examples, other weights
