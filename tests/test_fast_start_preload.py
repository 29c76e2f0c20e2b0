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
    preload_embedder(str(tmp_path / "nowhere"))
    try:
        assert load_embedder(backend="onnx").stamp["embedding_backend"] == "onnx"  # other arguments: its own load
        assert len(emb._preloads) == 1
    finally:
        emb._preloads.clear()


def test_a_preloads_error_is_raised_where_the_model_is_asked_for(tmp_path):
    missing = str(tmp_path / "no-model")
    with pytest.raises(FileNotFoundError) as direct:
        load_embedder(missing)
    preload_embedder(missing)
    with pytest.raises(FileNotFoundError) as preloaded:
        load_embedder(missing)
    assert str(preloaded.value) == str(direct.value)
    assert emb._preloads == {}
