"""Shared fixtures: the real embedding model (loaded once), isolated data dirs and knowledge bases."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from langchain_core.embeddings import Embeddings  # noqa: E402

from advisor.settings import REPO_ROOT, Settings  # noqa: E402
from tests.helpers import free_port, start_chroma, stop  # noqa: E402

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"
REAL_KB = REPO_ROOT / "knowledge"


class CountingEmbeddings(Embeddings):
    """The real model, plus a record of every text it embedded (to prove what was re-embedded)."""

    def __init__(self, inner: Embeddings):
        self.inner = inner
        self.texts: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.texts.extend(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)

    @property
    def stamp(self):
        """The inner model's index stamp: counting changes nothing about the vectors."""
        return getattr(self.inner, "stamp", None)


class RememberingEmbeddings(Embeddings):
    """The real model, remembering each text's vector for the rest of the run: several modules index
    their own copy of the real knowledge base, and the same chunk need not be embedded again."""

    def __init__(self, inner: Embeddings):
        self.inner = inner
        self.vectors: dict[str, list[float]] = {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        missing = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        if missing:
            self.vectors.update(zip(missing, self.inner.embed_documents(missing)))
        return [self.vectors[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)

    @property
    def stamp(self):
        return getattr(self.inner, "stamp", None)


@pytest.fixture(scope="session")
def embedder() -> Embeddings:
    """The serving embedder (the ONNX export, made by `make setup`), loaded once per run;
    tests/test_embeddings_onnx.py compares it with the torch model."""
    from retrieval.embeddings import load_embedder

    return RememberingEmbeddings(load_embedder(backend="onnx"))


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No test reads the developer's settings or touches their index."""
    for key in list(os.environ):
        if key.startswith("RESKILL_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("RESKILL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RESKILL_KNOWLEDGE_DIR", str(FIXTURE_KB))


@pytest.fixture
def kb_dir(tmp_path) -> Path:
    """A private, editable copy of the small fixture knowledge base."""
    dest = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, dest)
    return dest


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real `chroma run` on a free loopback port for the whole session; stopped at the end."""
    port = free_port()
    with open(tmp_path_factory.mktemp("chroma") / "server.log", "w") as log:
        try:
            proc = start_chroma(tmp_path_factory.mktemp("chroma-data"), port, log=log)
        except RuntimeError as exc:
            pytest.fail(f"{exc}; see {log.name}")
        yield f"http://127.0.0.1:{port}"
        stop(proc)


def pytest_generate_tests(metafunc):
    """Modules that set BOTH_CHROMA_MODES = True run each test against the embedded store and a Chroma server."""
    if "chroma_mode" in metafunc.fixturenames and getattr(metafunc.module, "BOTH_CHROMA_MODES", False):
        metafunc.parametrize("chroma_mode", ["embedded", "server"])


@pytest.fixture
def chroma_mode() -> str:
    return "embedded"


@pytest.fixture
def settings(tmp_path, kb_dir, chroma_mode, request) -> Settings:
    base = Settings(data_dir=tmp_path / "data", knowledge_dir=kb_dir)
    if chroma_mode == "server":
        url = request.getfixturevalue("chroma_server")
        return base.model_copy(update={"chroma_url": url, "collection": f"test-{uuid.uuid4().hex[:12]}"})
    return base


@pytest.fixture
def counting(embedder) -> CountingEmbeddings:
    return CountingEmbeddings(embedder)


@pytest.fixture
def advisor(settings, counting):
    from advisor.core import Advisor

    return Advisor(settings, counting)


@pytest.fixture(scope="session")
def real_advisor(embedder, tmp_path_factory):
    """The Advisor over the repository's real knowledge base, indexed once per run."""
    from advisor.core import Advisor

    return Advisor(Settings(data_dir=tmp_path_factory.mktemp("real"), knowledge_dir=REAL_KB), embedder)
