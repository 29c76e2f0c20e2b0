"""sentence-transformers' model (the ``torch`` backend): imported only when the settings ask for it."""

from __future__ import annotations

from pathlib import Path

from langchain_core.embeddings import Embeddings


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
