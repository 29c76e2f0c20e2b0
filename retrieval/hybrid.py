"""Hybrid search: dense vectors and BM25 keywords, fused by reciprocal rank."""

from __future__ import annotations

import threading
from collections import defaultdict

from retrieval.chunking import embedding_text
from retrieval.hit import Hit
from retrieval.index import StoredChunk, VectorIndex
from retrieval.keyword import KeywordIndex, term_counts, tokenize

RRF_K = 60


def _split(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def to_hit(chunk: StoredChunk, score: float) -> Hit:
    md = chunk.metadata
    return Hit(
        doc_id=md["doc_id"],
        title=md["title"],
        kind=md["kind"],
        roles=_split(md.get("roles")),
        skills=_split(md.get("skills")),
        section=md.get("section") or md.get("source", ""),
        score=round(score, 6),
        snippet=chunk.text,
    )


class HybridRetriever:
    """``search(query, k, kind, role) -> list[Hit]`` over one :class:`VectorIndex`.

    The keyword index is rebuilt from the collection after every sync, so both
    halves always see the same chunks.
    """

    def __init__(self, index: VectorIndex, max_per_doc: int = 2, candidates: int = 40, external=None):
        self.index = index
        self.external = external
        """An optional :class:`~retrieval.external.ExternalIndex`, searched (dense only) on request."""
        self.max_per_doc = max_per_doc
        self.candidates = candidates
        self._lock = threading.Lock()
        self._vectors: dict[str, list[float]] = {}
        self.refresh()

    def refresh(self) -> None:
        stored = self.index.stored()
        # Tokens are kept per chunk text: after an edit only the passages that changed are tokenized.
        known = getattr(self, "_token_lists", {})
        texts = [embedding_text(c.text, c.metadata) for c in stored]
        lists = {}
        for t in texts:
            got = known.get(t)
            if got is None:
                toks = tokenize(t)
                got = (toks, term_counts(toks), frozenset(toks))
            lists[t] = got
        self._token_lists = lists
        ordered = [lists[t] for t in texts]
        keyword = KeywordIndex([c.id for c in stored], [], counts=[o[1] for o in ordered])
        tokens = {c.id: o[2] for c, o in zip(stored, ordered)}
        by_doc: dict[str, list[StoredChunk]] = defaultdict(list)
        for c in stored:
            by_doc[c.metadata["doc_id"]].append(c)
        with self._lock:
            self._chunks = {c.id: c for c in stored}
            self._keyword = keyword
            self._tokens = tokens
            self._by_doc = dict(by_doc)

    def embed_query(self, query: str) -> list[float]:
        """Query vectors are cached: a chat turn often searches the same words several ways."""
        with self._lock:
            vec = self._vectors.get(query)
        if vec is None:
            vec = self.index.embedder.embed_query(query)
            with self._lock:
                if len(self._vectors) >= 2048:
                    self._vectors.clear()
                self._vectors[query] = vec
        return vec

    def search(
        self,
        query: str,
        k: int = 5,
        kind: str | None = None,
        role: str | None = None,
        vector: list[float] | None = None,
        include_external: bool = False,
    ) -> list[Hit]:
        with self._lock:
            chunks, keyword = self._chunks, self._keyword
        allowed = {
            cid
            for cid, c in chunks.items()
            if (kind is None or c.metadata.get("kind") == kind) and (role is None or c.metadata.get(f"role_{role}"))
        }
        fixes = keyword.corrections(query)
        if fixes:
            query, vector = f"{query} {' '.join(fixes)}", None
        n = max(self.candidates, 4 * k)
        ranked: list[list[tuple[StoredChunk | str, float]]] = []
        if allowed:
            vector = vector or self.embed_query(query)
            # Ids only: the text and metadata come from this retriever's copy of the chunks.
            ranked.append(self.index.query_ids(vector, min(n, len(allowed)), _where(kind, role)))
            ranked.append(keyword.search(query, allowed, n))
        if include_external and self.external is not None and role is None:
            external = self.external.query(vector or self.embed_query(query), n)
            ranked.append([(c, s) for c, s in external if kind is None or c.metadata["kind"] == kind])

        fused: dict[str, float] = defaultdict(float)
        by_id: dict[str, StoredChunk] = {}
        for results in ranked:
            for rank, (item, _) in enumerate(results):
                cid = item if isinstance(item, str) else item.id
                if not isinstance(item, str):
                    by_id[cid] = item
                fused[cid] += 1.0 / (RRF_K + rank + 1)

        ranked = ((by_id.get(cid) or chunks.get(cid), score) for cid, score in sorted(fused.items(), key=lambda x: -x[1]))
        return capped_hits(ranked, k, self.max_per_doc)


    def relevance(self, query: str) -> float:
        """Cosine similarity of the closest chunk: how much the knowledge base has to say."""
        if not self._chunks:
            return 0.0
        best = self.index.query(self.embed_query(query), 1)
        return best[0][1] if best else 0.0

    def lookup(self, doc_id: str, query: str = "") -> Hit | None:
        """The chunk of one document that best matches ``query`` (by keyword overlap; no embedding).

        Used when the advice already knows which document backs a statement, such as the
        role behind a fit score or the resource behind a plan stage.
        """
        with self._lock:
            chunks, tokens = self._by_doc.get(doc_id, []), self._tokens
        if not chunks:
            return None
        words = set(tokenize(query))
        best = max(chunks, key=lambda c: (len(words & tokens[c.id]), -c.metadata["chunk"]))
        return to_hit(best, 0.0)


class KeywordRetriever:
    """``search(query, k, kind, role) -> list[Hit]`` by BM25 alone, over the documents' own chunks
    (no vectors, no Chroma): what the chat answers from while the vector index is being built on a
    fresh machine. Same chunks, filters and per-document cap as :class:`HybridRetriever`."""

    def __init__(self, docs, chunk_chars: int, max_per_doc: int = 2):
        from retrieval.chunking import chunk_document

        chunks = [c for d in docs for c in chunk_document(d, chunk_chars)]
        self._chunks = {c.id: StoredChunk(c.id, c.text, c.metadata) for c in chunks}
        self._keyword = KeywordIndex(list(self._chunks), [embedding_text(c.text, c.metadata) for c in chunks])
        self.max_per_doc = max_per_doc

    def __len__(self) -> int:
        return len(self._chunks)

    def search(self, query: str, k: int = 5, kind: str | None = None, role: str | None = None) -> list[Hit]:
        allowed = {
            cid
            for cid, c in self._chunks.items()
            if (kind is None or c.metadata.get("kind") == kind) and (role is None or c.metadata.get(f"role_{role}"))
        }
        fixes = self._keyword.corrections(query)
        if fixes:
            query = f"{query} {' '.join(fixes)}"
        ranked = ((self._chunks[cid], score) for cid, score in self._keyword.search(query, allowed, max(40, 4 * k)))
        return capped_hits(ranked, k, self.max_per_doc)


def capped_hits(ranked, k: int, max_per_doc: int) -> list[Hit]:
    """The first ``k`` of ``(chunk, score)`` pairs, best first, at most ``max_per_doc`` per document
    (a chunk of ``None``, gone from the store since it was ranked, is skipped)."""
    hits, per_doc = [], defaultdict(int)
    for chunk, score in ranked:
        if chunk is None or per_doc[chunk.metadata["doc_id"]] >= max_per_doc:
            continue
        per_doc[chunk.metadata["doc_id"]] += 1
        hits.append(to_hit(chunk, score))
        if len(hits) == k:
            break
    return hits


def _where(kind: str | None, role: str | None) -> dict | None:
    clauses = []
    if kind:
        clauses.append({"kind": kind})
    if role:
        clauses.append({f"role_{role}": True})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
