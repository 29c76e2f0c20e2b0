"""Schema and cross-reference checks: every error names the file and the field."""

from __future__ import annotations

import re

import pytest

from knowledge.base import load_knowledge
from knowledge.document import DocumentInvalid
from knowledge.store import InvalidId, KnowledgeStore, NotFound, VersionConflict


def errors_by_file(kb):
    return {(e.path, e.field): e.message for e in kb.errors}


def edit(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_fixture_kb_is_valid(kb_dir):
    kb = load_knowledge(kb_dir)
    assert kb.errors == []
    assert kb.counts() == {"role": 3, "skill": 8, "transition": 1, "resource": 1, "market": 1}


def test_role_requiring_unknown_skill_names_file_and_field_and_rest_loads(kb_dir):
    edit(kb_dir / "roles/bi_analyst.md", "{skill: power_bi,", "{skill: powerbi_typo,")
    kb = load_knowledge(kb_dir)
    errs = errors_by_file(kb)
    assert ("roles/bi_analyst.md", "requirements.1.skill") in errs
    assert "powerbi_typo" in errs[("roles/bi_analyst.md", "requirements.1.skill")]
    assert "bi_analyst" not in kb.docs
    assert "ml_engineer" in kb.docs and "sql" in kb.docs


def test_prerequisite_cycle_is_an_error(kb_dir):
    edit(kb_dir / "skills/python.md", "prerequisites: []", "prerequisites: [kubernetes]")
    kb = load_knowledge(kb_dir)
    cycle = [e for e in kb.errors if e.field == "prerequisites" and "cycle" in e.message]
    assert cycle, kb.errors
    assert cycle[0].path.startswith("skills/")


def test_duplicate_id_and_duplicate_alias(kb_dir):
    text = (kb_dir / "skills/docker.md").read_text()
    (kb_dir / "market/docker.md").write_text(text)
    edit(kb_dir / "skills/kubernetes.md", "k8s", "Dockerfile")
    kb = load_knowledge(kb_dir)
    errs = errors_by_file(kb)
    assert "duplicate id 'docker'" in errs[("skills/docker.md", "id")] or "duplicate id" in errs.get(("market/docker.md", "id"), "")
    assert "already used by 'docker'" in errs[("skills/kubernetes.md", "aliases")]


def test_schema_errors_name_field(kb_dir):
    edit(kb_dir / "skills/sql.md", "hours: [10, 30, 60, 120]", "hours: [10, 30]")
    edit(kb_dir / "roles/data_scientist.md", "importance: 5}", "importance: 9}")
    edit(kb_dir / "resources/docker_docs.md", "kind: resource", "kind: resources")
    kb = load_knowledge(kb_dir)
    errs = errors_by_file(kb)
    assert ("skills/sql.md", "hours") in errs
    assert ("roles/data_scientist.md", "requirements.0.importance") in errs
    assert any(path == "resources/docker_docs.md" and "kind" in field for path, field in errs)


def test_writing_checks_name_file_and_field_and_keep_the_document(kb_dir):
    """reskill validate reports how a document is written; the document still loads."""
    path = kb_dir / "market/llms_and_nlp.md"
    edit(path, "updated: 2026-11-01", "updated: 2999-01-01")
    edit(path, 'sources: ["ML Platform Podcast: LLMs and Machine Learning Layoffs (2024)"]', 'sources: ["summary in shared/seed", "official docs"]')
    edit(path, "# How LLMs changed NLP work\n", "# How LLMs changed NLP work\n\nAn orphan paragraph with no heading.\n")
    path.write_text(path.read_text() + "\n## What remains for NLP specialists?\n\n")
    kb = load_knowledge(kb_dir)
    errs = [(e.field, e.message) for e in kb.errors if e.path == "market/llms_and_nlp.md"]
    fields = [f for f, _ in errs]
    assert "updated" in fields and "sources.0" in fields and "sources.1" in fields
    assert any("no section title" in m for _, m in errs)
    assert any("'What remains for NLP specialists?' has no text" in m for _, m in errs)
    assert "llms_and_nlp" in kb.docs


def test_writing_checks_accept_urls_and_named_publications(kb_dir):
    edit(kb_dir / "market/llms_and_nlp.md", 'sources: ["ML Platform Podcast: LLMs and Machine Learning Layoffs (2024)"]',
         'sources: ["https://www.bls.gov/ooh/math/data-scientists.htm", "Kohavi, Tang and Xu, Trustworthy Online Controlled Experiments (2020)"]')
    assert load_knowledge(kb_dir).errors == []


@pytest.mark.parametrize("placeholder", ["TODO Find The Source", "TBD Market Report", "See above, Kaggle Survey", "Internal note from Anna"])
def test_placeholder_source_is_refused_even_when_it_looks_named(kb_dir, placeholder):
    """Each of these would pass as a named publication (two words, a capital); the placeholder rule
    in knowledge.base (_NOT_A_SOURCE) is what refuses them."""
    edit(kb_dir / "market/llms_and_nlp.md", 'sources: ["ML Platform Podcast: LLMs and Machine Learning Layoffs (2024)"]',
         f'sources: ["{placeholder}"]')
    errs = errors_by_file(load_knowledge(kb_dir))
    assert "is neither a URL nor a named publication" in errs[("market/llms_and_nlp.md", "sources.0")]


def test_real_knowledge_base_passes_the_writing_checks():
    from tests.conftest import REAL_KB

    kb = load_knowledge(REAL_KB)
    assert [str(e) for e in kb.errors] == []
    no_url = sorted(d.id for d in kb.docs.values() if not any("http" in s for s in d.meta.sources))
    assert no_url == [], f"documents without a source URL: {no_url}"


def test_file_name_must_match_id_and_front_matter_required(kb_dir):
    (kb_dir / "skills/sql.md").rename(kb_dir / "skills/structured.md")
    (kb_dir / "market/empty.md").write_text("no front matter here\n")
    errs = errors_by_file(load_knowledge(kb_dir))
    assert "does not match" in errs[("skills/structured.md", "id")]
    assert ("market/empty.md", "front matter") in errs


# -- the store --------------------------------------------------------------------------------
@pytest.fixture
def store(kb_dir, tmp_path):
    return KnowledgeStore(kb_dir, tmp_path / "data")


def front(doc):
    return doc.meta.model_dump(mode="json", exclude_none=True)


def test_put_replace_requires_current_version_and_keeps_history(store):
    doc = store.get("docker")
    new = store.put("docker", front(doc), doc.body + "\nMore text about images.\n", doc.version)
    assert new.version != doc.version
    with pytest.raises(VersionConflict, match="changed by someone else"):
        store.put("docker", front(doc), "a stale edit", doc.version)
    assert "More text about images" in store.get("docker").body
    versions = [h.version for h in store.history("docker")]
    assert versions == [doc.version, new.version]
    with pytest.raises(VersionConflict):
        store.restore("docker", doc.version, doc.version)  # stale: the current one is new.version
    restored = store.restore("docker", doc.version, new.version)
    assert restored.body == doc.body


def test_create_refuses_existing_and_invalid_is_not_written(store, kb_dir):
    doc = store.get("sql")
    with pytest.raises(VersionConflict, match="already exists"):
        store.put("sql", front(doc), doc.body, None)
    bad = front(doc) | {"id": "new_skill", "hours": [1]}
    with pytest.raises(DocumentInvalid) as exc:
        store.put("new_skill", bad, "body", None)
    assert exc.value.errors[0].field == "hours"
    assert not (kb_dir / "skills/new_skill.md").exists()


def test_put_rejects_unknown_reference_and_duplicate_alias(store, kb_dir):
    doc = store.get("python")
    with pytest.raises(DocumentInvalid, match="unknown skill id 'nope'"):
        store.put("python", front(doc) | {"prerequisites": ["nope"]}, doc.body, doc.version)
    with pytest.raises(DocumentInvalid, match="already used by 'kubernetes'"):
        store.put("python", front(doc) | {"aliases": ["k8s"]}, doc.body, doc.version)
    assert store.get("python").version == doc.version


def test_delete_refuses_referenced_and_removes_otherwise(store):
    docker = store.get("docker")
    with pytest.raises(DocumentInvalid, match="still referenced"):
        store.delete("docker", docker.version)
    res = store.get("docker_docs")
    with pytest.raises(VersionConflict):
        store.delete("docker_docs", "0" * 16)
    store.delete("docker_docs", res.version)
    with pytest.raises(NotFound):
        store.get("docker_docs")
    assert store.history("docker_docs")[-1].deleted


@pytest.mark.parametrize("bad", ["../etc/passwd", "/abs", "a/b", "UPPER", "", "x\x00y", "..", "%2e%2e"])
def test_ids_are_slugs(store, bad):
    with pytest.raises(InvalidId):
        store.get(bad)


def test_written_file_round_trips(store, kb_dir):
    doc = store.get("statistics")
    store.put("statistics", front(doc) | {"title": "Statistics for analysts"}, doc.body, doc.version)
    text = (kb_dir / "skills/statistics.md").read_text()
    assert re.search(r"^title: Statistics for analysts$", text, re.M)
    assert load_knowledge(kb_dir).errors == []
