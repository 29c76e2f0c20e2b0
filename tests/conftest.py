"""Shared fixtures: the real embedding model (loaded once), isolated data dirs and knowledge bases."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from langchain_core.embeddings import Embeddings  # noqa: E402

from advisor.settings import REPO_ROOT, Settings  # noqa: E402

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


@pytest.fixture(scope="session")
def embedder() -> Embeddings:
    from retrieval.embeddings import load_embedder

    return load_embedder()


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real `chroma run` on a free loopback port for the whole session; stopped at the end."""
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if exe is None:
        pytest.fail("the `chroma` command (from the chromadb package) is missing")
    port = _free_port()
    log = open(tmp_path_factory.mktemp("chroma") / "server.log", "w")
    proc = subprocess.Popen(
        [exe, "run", "--path", str(tmp_path_factory.mktemp("chroma-data")), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"chroma run exited with {proc.returncode}; see {log.name}")
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not answer within 60 s")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


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
