"""Fast start (issue 14): the CLI starts loading the embedding model in a background thread before
it imports chromadb; the Advisor's own ``load_embedder`` call then takes that model (or its error)
instead of loading another. Real ONNX export, real model files."""

from __future__ import annotations

import numpy as np
import pytest

import retrieval.embeddings as emb
from retrieval.embeddings import load_embedder, preload_embedder


def test_load_embedder_takes_the_preloaded_model_with_the_same_vectors(embedder):
    preload_embedder(backend="onnx")
    assert len(emb._preloads) == 1
    got = load_embedder(backend="onnx")
    assert emb._preloads == {}, "taken once"
    assert got is not embedder.inner and type(got).__name__ == "OnnxEmbeddings"
    text = "What does a BI analyst do?"
    assert np.allclose(got.embed_query(text), embedder.embed_query(text), atol=1e-6)
    assert got.stamp == embedder.inner.stamp


def test_a_preload_is_only_taken_by_a_call_with_the_same_arguments(tmp_path):
    preload_embedder(knowledge_dir=tmp_path)
    try:
        assert load_embedder(backend="onnx").stamp["embedding_backend"] == "onnx"  # other arguments: its own load
        assert len(emb._preloads) == 1
    finally:
        emb._preloads.clear()


def test_a_preloads_error_is_raised_where_the_model_is_asked_for(tmp_path):
    missing = str(tmp_path / "no-model")
    with pytest.raises(FileNotFoundError) as direct:
        load_embedder(missing)
    preload_embedder(missing)  # nothing to load: load_embedder itself says why
    with pytest.raises(FileNotFoundError) as preloaded:
        load_embedder(missing)
    assert str(preloaded.value) == str(direct.value)
    assert emb._preloads == {}


def test_an_error_in_the_preload_thread_is_raised_where_the_model_is_asked_for(embedder, tmp_path):
    import shutil

    served = embedder.inner
    export = tmp_path / "models" / served.folder.name
    export.mkdir(parents=True)
    for name in ("export.json", served.manifest["file"], "tokenizer.json"):
        shutil.copy(served.folder / name, export / name)
    preload_embedder(cache_dir=tmp_path / "models")
    assert len(emb._preloads) == 1
    (export / "tokenizer.json").write_text("{damaged")  # read by the thread, after the export was checked
    pending = next(iter(emb._preloads.values()))
    pending._thread.join()
    if pending._error is None:  # the thread was quicker than the damage: nothing to show here
        pytest.skip("the preload finished before the file was damaged")
    with pytest.raises(Exception) as raised:
        load_embedder(cache_dir=tmp_path / "models")
    assert raised.value is pending._error and emb._preloads == {}


def test_the_preload_thread_imports_nothing(tmp_path):
    """Two threads importing numpy (or any package with circular imports) at once can see it half
    initialised; so the preload imports what the model needs in the caller's thread, and its
    thread only builds the session. Checked in a fresh process, where nothing is imported yet."""
    import subprocess
    import sys

    probe = """
import builtins, sys, threading
real = builtins.__import__
seen = []
def watch(name, *a, **k):
    if threading.current_thread().name == "embedder-load" and name not in sys.modules:
        seen.append(name)
    return real(name, *a, **k)
builtins.__import__ = watch
from retrieval.embeddings import load_embedder, preload_embedder
preload_embedder()
print(type(load_embedder()).__name__, seen)
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["OnnxEmbeddings", "[]"], out.stdout
