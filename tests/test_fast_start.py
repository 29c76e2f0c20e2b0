"""Fast start (issue 14): on a fresh data dir the Streamlit page opens while the index is built in
the background, says so with its progress, and the chat answers from keyword search until the
vectors are ready; then the full chat takes over. Real components: the ONNX embedder, a temporary
Chroma store, a temporary copy of the fixture knowledge base."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from advisor.settings import load_settings
from knowledge.base import load_knowledge
from retrieval.client import open_chroma
from retrieval.hybrid import KeywordRetriever
from retrieval.index import needs_full_build

APP = Path(__file__).resolve().parent.parent / "app.py"


def test_keyword_search_over_the_documents_chunks(kb_dir):
    kb = load_knowledge(kb_dir)
    search = KeywordRetriever(kb.docs.values(), chunk_chars=600)
    hits = search.search("official Docker getting-started guide", k=3)
    assert hits and hits[0].doc_id == "docker_docs"
    assert all(h.kind == "skill" for h in search.search("docker images", k=3, kind="skill"))
    assert search.search("dockr", k=1)[0].doc_id in {"docker", "docker_docs"}  # typo corrected as in hybrid search
    assert search.search("zzzz qqqq", k=3) == []


def test_needs_full_build_until_the_index_holds_this_embedders_vectors(settings, embedder):
    from advisor.core import Advisor
    from retrieval.embeddings import embedding_stamp

    client = open_chroma(settings.chroma_dir)
    stamp = embedding_stamp(embedder, settings.embedding_model)
    assert needs_full_build(client, settings.collection, stamp) == "there is no search index yet"
    Advisor(settings, embedder)
    assert needs_full_build(client, settings.collection, stamp) is None
    assert "another embedding model" in needs_full_build(client, settings.collection, {**stamp, "embedding_digest": "other"})


@pytest.fixture
def fresh_app(monkeypatch, tmp_path, kb_dir):
    """A fresh data dir, and the background build on for any size (the fixture KB is small)."""
    monkeypatch.setenv("RESKILL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RESKILL_KNOWLEDGE_DIR", str(kb_dir))
    monkeypatch.setenv("RESKILL_BACKGROUND_INDEX_MIN_CHUNKS", "1")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [i.value for i in at.info] + [e.value for e in at.error]
    return "\n".join(str(p) for p in parts)


def test_a_fresh_start_opens_the_chat_at_once_answers_from_keywords_then_the_full_chat(fresh_app, monkeypatch):
    from app_pages.common import IndexBuild, _startup

    # The build's thread starts when the test says, so the keyword phase is seen however fast the
    # build (the fixture knowledge base is small, and the reader may be cached in this process).
    held: list[IndexBuild] = []
    start = IndexBuild.start
    monkeypatch.setattr(IndexBuild, "start", lambda self: held.append(self))

    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception, at.exception
    build = _startup(load_settings().model_dump_json())
    assert held == [build] and build.total == 24
    assert "building its search index" in _texts(at)
    assert at.chat_input, "the chat input is there while the index is built"

    at.chat_input[0].set_value("Where is the official Docker getting-started guide?").run()
    assert not at.exception, at.exception
    texts = _texts(at)
    assert "keyword matches" in texts and "Docker" in texts
    assert any("Docker" in e.label for e in at.expander), [e.label for e in at.expander]  # cited passages

    plan = AppTest.from_file(str(APP), default_timeout=60).run().switch_page("app_pages/plan.py").run()
    assert not plan.exception, plan.exception
    assert "once the search index is built" in _texts(plan)  # the other pages wait and say so

    start(build)
    assert build.wait(180), "the background build finished"
    assert build.error is None, build.error
    assert build.done == build.total == 24
    at.run()
    assert not at.exception, at.exception
    assert any("Engine:" in c.value for c in at.caption), "the full chat took over"
    assert "keyword matches" in _texts(at), "the keyword-search turn stays in the conversation"
    assert any("Docker" in e.label for e in at.expander), "with its sources"
    at.chat_input[0].set_value("How do I learn Docker?").run()
    assert not at.exception, at.exception
    assert len(at.chat_message) >= 4
    assert "keyword matches" not in at.chat_message[-1].markdown[0].value


def test_what_was_said_while_the_index_was_built_joins_the_profile(fresh_app, monkeypatch):
    """A person who introduces themselves during the keyword phase is not asked again: the first full
    answer reads the conversation, and the sidebar has their skills and a fit."""
    from app_pages.common import PROFILE, IndexBuild, _startup

    held: list[IndexBuild] = []
    start = IndexBuild.start
    monkeypatch.setattr(IndexBuild, "start", lambda self: held.append(self))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.chat_input[0].set_value("I'm a data scientist: I use Python and SQL daily and build Power BI dashboards, never used Docker.").run()
    assert "keyword matches" in _texts(at)
    build = _startup(load_settings().model_dump_json())
    start(build)
    assert build.wait(180) and build.error is None, build.error
    at.run()
    at.chat_input[0].set_value("Which path fits me better?").run()
    assert not at.exception, at.exception
    levels = at.session_state[PROFILE].levels()
    assert levels.get("python", 0) >= 2 and levels.get("power_bi", 0) >= 2 and levels.get("docker") == 0
    assert "% fit" in _texts(at)


def test_out_of_step_reuses_a_fresh_full_read_but_still_sees_a_changed_collection(advisor, monkeypatch):
    """The first /readyz after start-up does not read the whole collection again (the start-up sync
    just did, see FULL_READ_FRESH_S); a chunk deleted behind our back, or an old read, is still a
    full read and is still seen."""
    import retrieval.index as ri

    index = advisor.index
    index._read_all()  # as the start-up sync does with no mirror yet
    reads = []
    real_get = index._stored_by_doc
    monkeypatch.setattr(index, "_stored_by_doc", lambda: reads.append(1) or real_get())
    assert advisor.out_of_step() == [] and reads == []
    gone = [c.id for c in index.stored() if c.metadata["doc_id"] == "sql"]
    index.collection.delete(ids=gone)
    assert advisor.out_of_step() == ["sql"] and reads == [1]  # the count disagreed: read in full
    advisor.refresh()
    index._read_all()
    monkeypatch.setattr(ri, "FULL_READ_FRESH_S", 0.0)
    assert advisor.out_of_step() == [] and reads == [1, 1]  # too old: read in full


def test_the_onnx_session_loads_the_graph_it_optimised_before_with_the_same_vectors(embedder, tmp_path, monkeypatch):
    """The first load saves ONNX Runtime's optimised graph beside the export; later loads read it
    with the optimisations off (faster to start) and embed exactly as before."""
    import shutil

    import onnxruntime as ort

    from retrieval.onnx_embedder import OnnxEmbeddings

    served = embedder.inner  # the fixture wraps the serving OnnxEmbeddings
    folder = tmp_path / "export"
    folder.mkdir()
    for name in ("export.json", served.manifest["file"], "tokenizer.json"):
        shutil.copy(served.folder / name, folder / name)
    opened = []
    real = ort.InferenceSession
    monkeypatch.setattr(ort, "InferenceSession", lambda path, *a, **k: opened.append(Path(path).name) or real(path, *a, **k))
    texts = ["What does a BI analyst do?", "docker images and containers " * 30]
    first = OnnxEmbeddings(folder).embed_documents(texts)
    saved = [p.name for p in folder.glob("*.ort-*.onnx")]
    assert len(saved) == 1 and opened == [served.manifest["file"]]
    second = OnnxEmbeddings(folder).embed_documents(texts)
    assert opened[-1] == saved[0] and not list(folder.glob(".*.tmp"))
    assert second == first == served.embed_documents(texts)
    (folder / saved[0]).write_bytes(b"damaged")
    assert OnnxEmbeddings(folder).embed_documents(texts) == first  # made again from the export
