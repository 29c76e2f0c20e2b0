"""The ``Advisor``: one object that holds the loaded model, index and knowledge, for every face."""

from __future__ import annotations

import threading
from collections.abc import Callable

from langchain_core.embeddings import Embeddings

from advisor.errors import BadInput
from advisor.settings import Settings, load_settings
from knowledge.base import KnowledgeBase
from knowledge.schema import KINDS
from knowledge.store import KnowledgeStore
from retrieval.client import open_chroma
from retrieval.embeddings import load_embedder
from retrieval.hit import Hit
from retrieval.hybrid import HybridRetriever
from retrieval.index import IndexReport, VectorIndex


class Advisor:
    def __init__(
        self,
        settings: Settings,
        embedder: Embeddings,
        progress: Callable[[int, int], None] | None = None,
        rebuild: bool = False,
    ):
        self.settings = settings
        self.embedder = embedder
        self.store = KnowledgeStore(settings.knowledge_dir, settings.data_dir, on_change=self.refresh)
        self.index = VectorIndex(
            open_chroma(settings.chroma_dir, settings.chroma_url, settings.chroma_headers),
            settings.collection,
            embedder,
            model_name=settings.embedding_model,
            chunk_chars=settings.chunk_chars,
        )
        self._write_lock = threading.Lock()
        self.kb: KnowledgeBase = self.store.load()
        self.last_report: IndexReport = self.index.sync(self.kb.docs.values(), rebuild=rebuild, progress=progress)
        self.retriever = HybridRetriever(self.index)

    @classmethod
    def load(
        cls,
        settings: Settings | None = None,
        embedder: Embeddings | None = None,
        progress: Callable[[int, int], None] | None = None,
        rebuild: bool = False,
    ) -> Advisor:
        """Load everything once; builds or updates the index when it is missing or stale."""
        settings = settings or load_settings()
        return cls(settings, embedder or load_embedder(settings.embedding_model), progress, rebuild)

    def refresh(self, rebuild: bool = False, progress: Callable[[int, int], None] | None = None) -> IndexReport:
        """Re-read the Markdown and bring the index in step (only changed documents are embedded)."""
        with self._write_lock:
            kb = self.store.load()
            report = self.index.sync(kb.docs.values(), rebuild=rebuild, progress=progress)
            self.retriever.refresh()
            self.kb = kb
            self.last_report = report
            return report

    def out_of_step(self) -> list[str]:
        return self.index.out_of_step(self.store.load().docs.values())

    # -- search ----------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, kind: str | None = None, role: str | None = None) -> list[Hit]:
        check_search(query, k, kind, role, self.kb)
        return self.retriever.search(query.strip(), k=k, kind=kind, role=role)


def check_search(query: str, k: int, kind: str | None, role: str | None, kb: KnowledgeBase) -> None:
    """Raise :class:`BadInput` naming what is wrong with a search request."""
    if not isinstance(query, str) or not query.strip():
        raise BadInput("the query is empty; type a few words to search for")
    if not isinstance(k, int) or k < 1 or k > 50:
        raise BadInput(f"k must be between 1 and 50, got {k}")
    if kind is not None and kind not in KINDS:
        raise BadInput(f"unknown kind '{kind}'; use one of: {', '.join(KINDS)}")
    if role is not None and role not in kb.roles:
        raise BadInput(f"unknown role '{role}'; use one of: {', '.join(sorted(kb.roles))}")
