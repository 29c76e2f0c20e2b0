"""The ONNX serving embedder against the torch model it is exported from; the index's model stamp;
and the serving path's imports (no torch, transformers or sentence-transformers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from advisor.settings import REPO_ROOT, Settings
from knowledge.base import load_knowledge
from retrieval.client import open_chroma
from retrieval.embeddings import load_embedder
from retrieval.index import VectorIndex
from retrieval.onnx_embedder import ExportMissing
from retrieval.onnx_export import MIN_COSINE, cosines, kb_chunk_texts

REAL_KB = REPO_ROOT / "knowledge"
HEAVY = ("torch", "transformers", "sentence_transformers", "langchain_core", "langchain")
"""Not imported on the serving path (langchain_core only when an LLM is configured: 0.1-0.15 s a start)."""


@pytest.fixture(scope="module")
def torch_embedder() -> Embeddings:
    """The reference: sentence-transformers on torch, loaded once for this module."""
    return load_embedder(backend="torch")


@pytest.fixture(scope="module")
def chunk_vectors(embedder, torch_embedder):
    texts = kb_chunk_texts(REAL_KB)
    return texts, np.asarray(embedder.embed_documents(texts)), np.asarray(torch_embedder.embed_documents(texts))


class Precomputed(Embeddings):
    """The torch model, answering the knowledge base's chunks from the vectors it already computed here."""

    def __init__(self, inner, texts, vectors):
        self.inner = inner
        self.known = dict(zip(texts, vectors.tolist()))
        self.stamp = inner.stamp

    def embed_documents(self, texts):
        missing = [t for t in texts if t not in self.known]
        self.known.update(zip(missing, self.inner.embed_documents(missing) if missing else []))
        return [self.known[t] for t in texts]

    def embed_query(self, text):
        return self.inner.embed_query(text)


class Relabelled(Embeddings):
    """The same vectors under another stamp, as if another export had made them."""

    def __init__(self, inner, **stamp):
        self.inner = inner
        self.stamp = {**inner.stamp, **stamp}

    def embed_documents(self, texts):
        return self.inner.embed_documents(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


# -- quality ------------------------------------------------------------------------------------
def test_onnx_agrees_with_torch_on_every_knowledge_base_chunk(chunk_vectors):
    texts, onnx, torch = chunk_vectors
    c = cosines(onnx, torch)
    assert len(texts) > 500
    assert c.min() >= MIN_COSINE, f"cosine {c.min():.5f} on: {texts[int(c.argmin())][:200]}"


def test_onnx_agrees_with_torch_on_queries(embedder, torch_embedder):
    queries = [json.loads(line)["query"] for line in (REPO_ROOT / "tests/eval/queries.jsonl").read_text().splitlines() if line.strip()]
    onnx = [embedder.embed_query(q) for q in queries]
    torch = [torch_embedder.embed_query(q) for q in queries]
    assert cosines(onnx, torch).min() >= MIN_COSINE


def test_eval_figures_match_the_torch_model(real_advisor, chunk_vectors, torch_embedder, tmp_path_factory):
    """`reskill eval` figures (retrieval, personas, chat) with the ONNX embedder are within 0.01 of
    the torch model's. The torch index reuses the torch vectors computed above (same model, same texts)."""
    from advisor.core import Advisor
    from advisor.evaluation import evaluate

    texts, _, torch_vectors = chunk_vectors
    settings = Settings(data_dir=tmp_path_factory.mktemp("torch"), knowledge_dir=REAL_KB)
    torch_advisor = Advisor(settings, Precomputed(torch_embedder, texts, torch_vectors))
    assert torch_advisor.index.stamp["embedding_backend"] == "torch"
    # The reading probes are left out: they test the reader, which the embedder touches only in its
    # meaning fallback, and would double this test's time (tests/test_eval.py reports them).
    onnx_figures = evaluate(real_advisor, REPO_ROOT / "tests" / "eval", probes=False)["metrics"]
    torch_figures = evaluate(torch_advisor, REPO_ROOT / "tests" / "eval", probes=False)["metrics"]
    assert "retrieval_hit@3" in onnx_figures
    differ = {k: (onnx_figures[k], torch_figures[k]) for k in onnx_figures if abs(onnx_figures[k] - torch_figures[k]) > 0.01}
    assert not differ, f"onnx vs torch: {differ}"


# -- the index's model stamp ----------------------------------------------------------------------
def _index(settings: Settings, embedder: Embeddings) -> VectorIndex:
    return VectorIndex(open_chroma(settings.chroma_dir), settings.collection, embedder, model_name=settings.embedding_model)


def test_index_records_its_embedder_and_a_different_one_rebuilds_it(settings, counting, kb_dir):
    docs = list(load_knowledge(kb_dir).docs.values())
    first = _index(settings, counting).sync(docs)
    assert first.rebuilt_because is None and first.embedded == first.chunks > 0
    stored = _index(settings, counting).collection.metadata
    assert stored["embedding_model"] == "packaged" and stored["embedding_backend"] == "onnx"
    assert stored["embedding_quantisation"] in ("none", "qint8") and len(stored["embedding_digest"]) == 16

    again = _index(settings, counting).sync(docs)  # the same export in a new process: nothing to do
    assert again.embedded == 0 and again.rebuilt_because is None

    other = Relabelled(counting, embedding_quantisation="qint8", embedding_digest="0" * 16)
    index = _index(settings, other)
    why = index.stamp_mismatch()
    assert "quantisation" in why and "digest" in why
    counting.texts.clear()
    report = index.sync(docs)
    assert report.rebuilt_because == why and "embedded again" in why
    assert report.embedded == report.chunks == first.chunks == len(counting.texts)  # every vector is new: none mixed
    assert "rebuilt: the index was built with" in report.summary()
    assert _index(settings, other).collection.metadata["embedding_digest"] == "0" * 16
    assert _index(settings, other).sync(docs).embedded == 0


def test_an_index_built_before_stamps_is_rebuilt(settings, counting, kb_dir):
    client = open_chroma(settings.chroma_dir)
    legacy = client.create_collection(settings.collection, metadata={"embedding_model": "packaged"}, configuration={"hnsw": {"space": "cosine"}})
    legacy.add(ids=["old#0"], embeddings=[[0.05] * 384], documents=["old text"], metadatas=[{"doc_id": "old", "doc_hash": "h"}])
    index = _index(settings, counting)
    report = index.sync(load_knowledge(kb_dir).docs.values())
    assert "backend unrecorded" in report.rebuilt_because
    assert "old#0" not in {c.id for c in index.stored()}
    assert report.embedded == report.chunks


def test_a_missing_export_names_the_command(tmp_path):
    with pytest.raises(ExportMissing, match="reskill export-embedder"):
        load_embedder(backend="onnx", cache_dir=tmp_path / "empty", export_if_missing=False)


def test_the_torch_backend_is_a_setting(monkeypatch):
    monkeypatch.setenv("RESKILL_EMBEDDING_BACKEND", "torch")
    assert Settings().embedder_options()["backend"] == "torch"
    monkeypatch.setenv("RESKILL_EMBEDDING_BACKEND", "tensorflow")
    with pytest.raises(ValueError):
        Settings()


# -- the serving path does not import torch ---------------------------------------------------------
def _run(code: str, env: dict, timeout: int = 300) -> dict:
    probe = textwrap.dedent(code) + f"\nimport json, sys\nprint('HEAVY=' + json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))\n"
    proc = subprocess.run([sys.executable, "-c", probe], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("HEAVY=")][-1]
    return {"heavy": json.loads(line.removeprefix("HEAVY=")), "stdout": proc.stdout, "stderr": proc.stderr}


def test_cli_ask_api_and_app_import_no_torch(settings, kb_dir):
    env = {**os.environ, "RESKILL_DATA_DIR": str(settings.data_dir), "RESKILL_KNOWLEDGE_DIR": str(kb_dir)}
    ask = _run("from advisor.cli import main\nmain(['ask', 'What does a BI analyst do?'])", env)
    assert ask["heavy"] == [], ask["heavy"]
    assert "Analyst" in ask["stdout"]

    api = _run(
        """
        from fastapi.testclient import TestClient
        from advisor.api.app import create_app
        import time
        with TestClient(create_app()) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 200 and set(ready.json()["warming"]) <= {"chat reader"}
            deadline = time.time() + 120
            while client.get("/readyz").json()["warming"] and time.time() < deadline:
                time.sleep(0.2)
            assert client.get("/readyz").json()["warming"] == []  # the reader warmed in the background
            chat = client.post("/v1/chat", json={"messages": [{"role": "user", "content": "What does a BI analyst do?"}]})
            assert chat.status_code == 200, chat.text
        """,
        env,
    )
    assert api["heavy"] == [], api["heavy"]

    app = _run(
        """
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file("app.py", default_timeout=240).run()
        assert not at.exception, at.exception
        at.chat_input[0].set_value("What does a BI analyst do?").run()
        assert not at.exception, at.exception
        """,
        env,
    )
    assert app["heavy"] == [], app["heavy"]
