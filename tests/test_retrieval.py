"""Indexing and hybrid search with the real embedding model and a temporary Chroma store."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from advisor.core import Advisor
from advisor.errors import BadInput
from knowledge.base import load_knowledge
from retrieval.chunking import chunk_document

BOTH_CHROMA_MODES = True


def chunk_ids(adv, doc_id):
    return sorted(c.id for c in adv.index.stored() if c.metadata["doc_id"] == doc_id)


def test_first_load_indexes_every_chunk(advisor, counting, kb_dir):
    kb = load_knowledge(kb_dir)
    expected = sum(len(chunk_document(d)) for d in kb.docs.values())
    assert advisor.last_report.embedded == expected == advisor.index.count()
    assert len(advisor.last_report.added) == len(kb.docs)


def test_chunks_follow_sections_and_keep_metadata(advisor):
    chunks = [c for c in advisor.index.stored() if c.metadata["doc_id"] == "bi_analyst"]
    sections = {c.metadata["section"] for c in chunks}
    assert sections == {"What a BI analyst does", "Tools of a BI analyst"}
    md = chunks[0].metadata
    assert md["kind"] == "role" and md["roles"] == "bi_analyst" and md["title"] == "Business Intelligence Analyst"


def test_unchanged_reload_embeds_nothing(advisor, settings, counting):
    counting.texts.clear()
    again = Advisor(settings, counting)
    assert again.last_report.embedded == 0 and not again.last_report.changed
    assert counting.texts == []


def test_editing_one_document_re_embeds_only_its_chunks(advisor, kb_dir, counting):
    path = kb_dir / "skills/docker.md"
    path.write_text(path.read_text() + "\n## Docker in CI\nBuild images in CI and push them to a registry.\n")
    counting.texts.clear()
    report = advisor.refresh()
    assert report.updated == ["docker"] and report.added == [] and report.removed == []
    assert counting.texts and all(t.startswith("Docker |") for t in counting.texts)
    assert len(chunk_ids(advisor, "docker")) == 3
    assert counting.texts == ["Docker | Docker in CI\nBuild images in CI and push them to a registry."]  # unchanged sections keep their vectors
    hits = advisor.search("push images to a registry from CI", k=1)
    assert hits[0].doc_id == "docker" and hits[0].section == "Docker in CI"


def test_shrinking_a_document_leaves_no_stale_chunk(advisor, kb_dir):
    path = kb_dir / "roles/bi_analyst.md"
    text = path.read_text()
    path.write_text(text[: text.index("## Tools of a BI analyst")])
    advisor.refresh()
    assert chunk_ids(advisor, "bi_analyst") == ["bi_analyst#0"]


def test_deleting_a_document_removes_its_chunks(advisor, kb_dir):
    (kb_dir / "market/llms_and_nlp.md").unlink()
    report = advisor.refresh()
    assert report.removed == ["llms_and_nlp"]
    assert chunk_ids(advisor, "llms_and_nlp") == []
    assert all(h.doc_id != "llms_and_nlp" for h in advisor.search("LLM APIs replaced NLP summarisation", k=10))


def test_invalid_document_never_reaches_the_index(advisor, kb_dir):
    path = kb_dir / "skills/kubernetes.md"
    path.write_text(path.read_text().replace("hours: [15, 40, 100, 200]", "hours: nope"))
    advisor.refresh()
    assert chunk_ids(advisor, "kubernetes") == []
    assert any(e.path == "skills/kubernetes.md" and e.field == "hours" for e in advisor.kb.errors)


def test_rebuild_gives_the_same_hits_as_incremental(advisor, kb_dir):
    path = kb_dir / "skills/sql.md"
    path.write_text(path.read_text() + "\n## Window functions\nROW_NUMBER and LAG rank and compare rows.\n")
    advisor.refresh()
    queries = ["window functions in SQL", "deploy a model behind an API", "dashboard for finance", "k8s"]
    before = [[(h.doc_id, h.section) for h in advisor.search(q, k=4)] for q in queries]
    report = advisor.refresh(rebuild=True)
    assert report.embedded == advisor.index.count()
    after = [[(h.doc_id, h.section) for h in advisor.search(q, k=4)] for q in queries]
    assert before == after


def test_filters_and_per_document_cap(advisor):
    for h in advisor.search("skills to learn", k=10, kind="skill"):
        assert h.kind == "skill"
    role_hits = advisor.search("what tools are used", k=10, role="bi_analyst")
    assert role_hits and all("bi_analyst" in h.roles for h in role_hits)
    hits = advisor.search("Power BI dashboards", k=10)
    per_doc = {}
    for h in hits:
        per_doc[h.doc_id] = per_doc.get(h.doc_id, 0) + 1
    assert max(per_doc.values()) <= 2


def test_keyword_half_finds_aliases_and_dense_half_finds_paraphrases(advisor):
    assert advisor.search("k8s", k=1)[0].doc_id == "kubernetes"
    assert advisor.search("package my app so it runs the same everywhere", k=2)[0].doc_id == "docker"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"query": "   "}, "query is empty"),
        ({"query": "sql", "k": 0}, "k must be"),
        ({"query": "sql", "kind": "recipe"}, "unknown kind 'recipe'"),
        ({"query": "sql", "role": "astronaut"}, "unknown role 'astronaut'"),
    ],
)
def test_bad_search_input(advisor, kwargs, message):
    with pytest.raises(BadInput, match=message):
        advisor.search(**kwargs)


def test_killed_index_run_is_repaired_by_the_next(settings, embedder, kb_dir):
    """Kill -9 a real indexing process after its first batch, then check the next run repairs it."""
    script = textwrap.dedent(
        f"""
        import os, signal
        from advisor.settings import Settings
        from advisor.core import Advisor
        from retrieval.embeddings import load_embedder
        s = Settings(data_dir={str(settings.data_dir)!r}, knowledge_dir={str(kb_dir)!r},
                     chroma_url={settings.chroma_url!r}, collection={settings.collection!r})
        adv = Advisor(s, load_embedder())
        for p in (s.knowledge_dir / "skills").glob("*.md"):
            p.write_text(p.read_text() + "\\n## Extra\\nA new paragraph about " + p.stem + ".\\n")
        def die(done, total):
            os.kill(os.getpid(), signal.SIGKILL)
        adv.index.sync(adv.store.load().docs.values(), progress=die, batch_size=3)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr[-2000:]
    adv = Advisor(settings, embedder)
    # Unchanged sections keep their vectors, so each skill needed one new chunk: the first batch of 3
    # completed at most three skills; the rest were half-written or not written.
    assert len(adv.last_report.updated) >= len(load_knowledge(kb_dir).of_kind("skill")) - 3
    assert set(adv.last_report.updated) <= {d.id for d in load_knowledge(kb_dir).of_kind("skill")}
    assert adv.out_of_step() == []
    stored = adv.index.stored()
    kb = load_knowledge(kb_dir)
    assert sorted(c.id for c in stored) == sorted(c.id for d in kb.docs.values() for c in chunk_document(d))
    assert {c.metadata["doc_hash"] for c in stored if c.metadata["doc_id"] == "sql"} == {kb.docs["sql"].version}


def test_store_edit_is_indexed_before_put_returns(advisor):
    doc = advisor.store.get("python")
    body = doc.body + "\n## Python for quokkas\nQuokka pipelines keep notebooks tidy.\n"
    advisor.store.put("python", doc.meta.model_dump(mode="json"), body, doc.version)
    assert advisor.out_of_step() == []
    assert advisor.search("quokka pipelines", k=1)[0].doc_id == "python"
    advisor.store.delete("docker_docs", advisor.store.get("docker_docs").version)
    assert chunk_ids(advisor, "docker_docs") == [] and advisor.out_of_step() == []


def test_collection_deleted_behind_our_back_is_repaired(advisor):
    advisor.index.client.delete_collection(advisor.settings.collection)
    assert advisor.out_of_step()  # every document is now missing from the index
    problems = advisor.repair()
    assert problems and advisor.out_of_step() == []
    assert advisor.search("k8s", k=1)[0].doc_id == "kubernetes"


def test_repair_reports_nothing_when_sound(advisor):
    assert advisor.repair() == []


def test_esco_import_is_kept_apart_and_searched_only_when_enabled(advisor, settings, embedder):
    result = advisor.import_esco(limit=150)
    assert result["embedded"] == 150 and advisor.import_esco(limit=150)["skipped"] == 150  # idempotent
    curated = advisor.search("technical director theatre production", k=5)
    assert all(not h.doc_id.startswith("ext-") for h in curated)  # excluded unless enabled
    assert advisor.out_of_step() == [] and advisor.refresh().removed == []  # curated sync ignores it
    wide = Advisor(settings.model_copy(update={"include_external": True}), embedder)
    hits = wide.search("technical director theatre production", k=5)
    external = [h for h in hits if h.kind in ("esco_occupation", "esco_skill")]
    assert external and external[0].section.startswith("http://data.europa.eu/esco/")
    assert wide.search("director", k=3, kind="esco_occupation")[0].kind == "esco_occupation"


def test_embedding_model_loads_offline_without_hf_hub_offline(tmp_path):
    """The packaged model loads from local files even when HF_HUB_OFFLINE is unset and the hub
    address points nowhere (any network attempt would fail or hang)."""
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(HF_ENDPOINT="http://127.0.0.1:9", HF_HOME=str(tmp_path / "hf"))
    code = "from retrieval.embeddings import load_embedder; print(len(load_embedder().embed_query('hello')))"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().endswith("384")
