"""The Chroma vector index, kept in step with the Markdown knowledge base.

The collection is its own manifest: every chunk's metadata holds its document's
content hash, chunk number and chunk count. A document is in step when exactly
its expected chunk ids are stored, all with the current hash. Anything else (new,
edited, half-written by a crashed run, left over after a delete) is rewritten or
removed by :meth:`VectorIndex.sync`. No separate state file can drift from it.

The embedded store also keeps a read-only copy of what the collection holds, saved after every
write (:mod:`retrieval.snapshot`): a process that starts with the documents in step with it
searches that copy and opens Chroma only when it has to write.

Chroma is used through its own client API rather than langchain-chroma's wrapper:
we store the passage text but embed it with its title and section, and reuse one
query vector for several calls, neither of which the wrapper exposes publicly.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from knowledge.document import Document
from retrieval.chunking import Chunk, chunk_document, embedding_text
from retrieval.embeddings import embedding_stamp

if TYPE_CHECKING:  # annotations only: importing langchain_core costs 0.1-0.15 s at each start
    from langchain_core.embeddings import Embeddings

    from retrieval.snapshot import Snapshot, SnapshotFiles
# chromadb and httpx (0.5 s of imports) are imported where Chroma is called: a start served from
# the vector snapshot never calls it.

BATCH = 64
FULL_READ_FRESH_S = 2.0
"""How long a full read of the collection answers ``out_of_step`` without reading it again (with
the count checked): the first /readyz after start-up comes well within it of the start-up sync."""
log = logging.getLogger("reskill.index")


@dataclass
class IndexReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    chunks: int = 0
    embedded: int = 0
    seconds: float = 0.0
    rebuilt_because: str | None = None
    """Why every chunk was embedded again (another model or export built the stored vectors)."""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        why = f"rebuilt: {self.rebuilt_because}\n" if self.rebuilt_because else ""
        return why + (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged; {self.chunks} chunks in the index, {self.embedded} embedded; "
            f"{self.seconds:.1f} s"
        )


@dataclass(frozen=True)
class StoredChunk:
    id: str
    text: str
    metadata: dict


class IndexUnavailable(RuntimeError):
    """The Chroma server cannot be reached; the request should fail fast and be retried later."""


def _unreachable(exc: Exception) -> IndexUnavailable | None:
    """:class:`IndexUnavailable` for an error that means the Chroma server did not answer."""
    import httpx

    if not isinstance(exc, (httpx.TransportError, ConnectionError)):
        return None
    why = f"{type(exc).__name__}: no answer in time" if isinstance(exc, httpx.TimeoutException) else type(exc).__name__
    return IndexUnavailable(f"the Chroma server is not reachable ({why}); retry when it is back")


def doc_manifest(chunks: Iterable[tuple[str, dict]]) -> dict[str, dict]:
    """Per document, the ids and content hashes of its stored chunks: what a sync plans against."""
    by_doc: dict[str, dict] = defaultdict(lambda: {"ids": set(), "hashes": set()})
    for cid, md in chunks:
        entry = by_doc[md.get("doc_id", "?")]
        entry["ids"].add(cid)
        entry["hashes"].add(md.get("doc_hash"))
    return by_doc


def needs_full_build(client, collection: str, stamp: dict[str, str]) -> str | None:
    """Why every chunk must be embedded before vector search can answer (None: the collection
    holds vectors of this embedder, so a sync embeds at most what changed). Reads only the
    collection's count and metadata; creates nothing."""
    from chromadb.errors import NotFoundError

    try:
        found = client.get_collection(collection)
    except NotFoundError:
        return "there is no search index yet"
    except ValueError as exc:  # older chromadb: a missing collection is a ValueError
        if "does not exist" in str(exc):
            return "there is no search index yet"
        raise
    if not found.count():
        return "the search index is empty"
    stored = found.metadata or {}
    differ = [k for k in stamp if stored.get(k) != stamp[k]]
    if differ:
        return "the search index was built with another embedding model"
    return None


class VectorIndex:
    def __init__(
        self,
        client,
        collection: str,
        embedder: Embeddings,
        model_name: str,
        chunk_chars: int = 1200,
        before_write: Callable[[], None] | None = None,
        snapshot: SnapshotFiles | None = None,
    ):
        """``client`` is a Chroma client, or a function that opens one when Chroma is first needed
        (with ``snapshot``, a start served from the snapshot never calls it)."""
        self._client, self._open_client = (None, client) if callable(client) else (client, None)
        self._collection = None
        self.collection_name = collection
        self.embedder = embedder
        self.model_name = model_name
        self.stamp = embedding_stamp(embedder, model_name)
        """Model, backend, quantisation and model-file hash: stored on the collection, checked on open."""
        self.chunk_chars = chunk_chars
        self.before_write = before_write
        """Called before any write; the embedded store takes its one-writer lock here."""
        self._chunks: dict[tuple[str, str], list[Chunk]] = {}
        self._mirror: dict[str, StoredChunk] | None = None
        """What the collection holds (id, text, metadata of every chunk) as this process last read
        or wrote it, so that a write reads nothing back: a sync plans against it and the keyword
        index is built from it. Trusted only while the collection's count agrees; dropped on any
        failed or uncertain call, on a collection re-created behind our back, and when a full read
        (``out_of_step``) disagrees. Writers from other processes bring the collection to the same
        Markdown, so a stale mirror costs redundant work, never a missed edit."""
        self._full_read: tuple[dict[str, StoredChunk], float] | None = None
        """The mirror a full read of the collection made, and when (``time.monotonic()``)."""
        self.snapshot = snapshot
        """Where the embedded store's vector snapshot is saved after each write (None: server mode)."""
        self._vectors: dict = {}
        """The vector of every mirrored chunk (with ``snapshot`` only), for saving the snapshot."""
        self._served: Snapshot | None = None
        """The snapshot this process searches instead of Chroma, until it first writes."""
        self._seen_generation: str | None = None
        """The snapshot record last seen on disk (None: none), see ``SnapshotFiles.save``."""
        self._snapshot_saved = False
        """The snapshot on disk is a copy of the mirror (this process saved it or serves it)."""
        if snapshot is None:
            self._collection = self._open()

    @property
    def client(self):
        if self._client is None:
            self._client = self._open_client()
        return self._client

    @property
    def collection(self):
        if self._collection is None:
            self._collection = self._open()
        return self._collection

    @collection.setter
    def collection(self, value) -> None:
        self._collection = value

    @property
    def serves_snapshot(self) -> bool:
        """Searches answer from the vector snapshot; Chroma has not been opened."""
        return self._served is not None

    def chunks_of(self, doc: Document) -> list[Chunk]:
        """``chunk_document`` remembered by document version: a sync plans over every document."""
        key = (doc.id, doc.version)
        got = self._chunks.get(key)
        if got is None:
            if len(self._chunks) > 20_000:
                self._chunks.clear()
            got = self._chunks[key] = chunk_document(doc, self.chunk_chars)
        return got

    def _open(self):
        try:
            return self.client.get_or_create_collection(
                name=self.collection_name,
                metadata=dict(self.stamp),
                configuration={"hnsw": {"space": "cosine"}},
            )
        except Exception as exc:
            if (unavailable := _unreachable(exc)) is not None:
                raise unavailable from None
            raise

    def _call(self, method: str, **kwargs):
        """One Chroma call. A collection deleted behind our back is re-created (empty; the
        next sync refills it); an unreachable server becomes :class:`IndexUnavailable`."""
        from chromadb.errors import NotFoundError

        try:
            try:
                return getattr(self.collection, method)(**kwargs)
            except NotFoundError:
                self._mirror = None
                if self.snapshot is not None:  # the snapshot copies a collection that is gone
                    self.snapshot.invalidate()
                    self._seen_generation, self._snapshot_saved = None, False
                self.collection = self._open()
                return getattr(self.collection, method)(**kwargs)
        except Exception as exc:
            if (unavailable := _unreachable(exc)) is not None:
                raise unavailable from None
            raise

    # -- state -------------------------------------------------------------------------------
    def stamp_mismatch(self) -> str | None:
        """Why the stored vectors cannot be searched with this embedder (None: they can). Vectors
        of two models or exports are never mixed: a mismatch makes the next sync rebuild."""
        stored = self.collection.metadata or {}
        differ = [k for k in self.stamp if stored.get(k) != self.stamp[k]]
        if not differ:
            return None
        was = ", ".join(f"{k.removeprefix('embedding_')} {stored.get(k, 'unrecorded')}" for k in differ)
        now = ", ".join(f"{k.removeprefix('embedding_')} {self.stamp[k]}" for k in differ)
        return f"the index was built with {was}; this process embeds with {now}, so every chunk is embedded again"

    def stored(self) -> list[StoredChunk]:
        """Every stored chunk (from the mirror when it is trusted, else read in full)."""
        served = self._served
        if served is not None:
            return list(served.chunks)
        return list(self._current().values())

    def _read_all(self) -> dict[str, StoredChunk]:
        self._mirror = None
        include = ["metadatas", "documents"] + (["embeddings"] if self.snapshot is not None else [])
        got = self._call("get", include=include)
        mirror = {i: StoredChunk(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])}
        if self.snapshot is not None:
            self._vectors = dict(zip(got["ids"], got["embeddings"]))
            self._snapshot_saved = False
        self._mirror = mirror
        self._full_read = (mirror, time.monotonic())
        return mirror

    def _current(self) -> dict[str, StoredChunk]:
        mirror = self._mirror
        if mirror is not None and self._call("count") == len(mirror):
            return mirror
        return self._read_all()

    @staticmethod
    def _by_doc(chunks: Iterable[tuple[str, dict]]) -> dict[str, dict]:
        return doc_manifest(chunks)

    def _stored_by_doc(self) -> dict[str, dict]:
        """The manifest as the collection holds it now (a full read of the metadata)."""
        got = self._call("get", include=["metadatas"])
        return self._by_doc(zip(got["ids"], got["metadatas"]))

    def _recent_full_read(self) -> dict[str, dict] | None:
        """The manifest of a full read made less than ``FULL_READ_FRESH_S`` ago (plus this process's
        own writes since), if the mirror is still that read and the collection's count agrees."""
        full, mirror = self._full_read, self._mirror
        if full is None or full[0] is not mirror or time.monotonic() - full[1] > FULL_READ_FRESH_S:
            return None
        try:
            chunks = [(c.id, c.metadata) for c in list(mirror.values())]
        except RuntimeError:  # a sync in another thread is changing it
            return None
        if self._call("count") != len(chunks) or self._mirror is not mirror:
            return None
        return self._by_doc(chunks)

    def out_of_step(self, docs: Iterable[Document]) -> list[str]:
        """Document ids whose stored chunks do not match the documents (empty when in step).
        A full read (this is the check that the mirror is not trusted to answer), unless one was
        made less than ``FULL_READ_FRESH_S`` ago, e.g. by the sync at start-up just before the
        first /readyz, and the collection's count still agrees with it. While this process serves
        the vector snapshot, the snapshot is what is compared."""
        served = self._served
        if served is not None:
            plan = self._plan(list(docs), served.manifest)
            return sorted(plan["write"] | plan["remove"])
        stored = self._recent_full_read()
        if stored is None:
            stored = self._stored_by_doc()
            mirror = self._mirror
            try:
                if mirror is not None and stored != self._by_doc((c.id, c.metadata) for c in list(mirror.values())):
                    self._mirror = None
            except RuntimeError:  # a sync in another thread is changing it: read it afresh next time
                self._mirror = None
        plan = self._plan(list(docs), stored)
        return sorted(plan["write"] | plan["remove"])

    def _plan(self, docs: list[Document], stored: dict[str, dict]) -> dict:
        want = {d.id: d for d in docs}
        write = set()
        for doc in docs:
            have = stored.get(doc.id)
            expected = {c.id for c in self.chunks_of(doc)}
            if not have or have["hashes"] != {doc.version} or have["ids"] != expected:
                write.add(doc.id)
        return {"write": write, "remove": {d for d in stored if d not in want}, "want": want, "stored": stored}

    def verify(self, sample: int = 3) -> list[str]:
        """Problems a sync cannot see: vector search must find stored chunks by their own
        embeddings (it does not after, e.g., a lost or corrupted HNSW segment). Checks Chroma,
        so a process serving the vector snapshot searches Chroma from then on."""
        self._leave_snapshot()
        got = self._call("get", limit=sample, include=["embeddings"])
        problems = []
        for cid, vector in zip(got["ids"], got["embeddings"]):
            try:
                found = self._call("query", query_embeddings=[vector], n_results=min(3, self.count()), include=[])
            except IndexUnavailable:
                raise
            except Exception as exc:  # any Chroma failure here means the vector index is damaged
                return [f"vector search fails: {type(exc).__name__}: {exc}"]
            if cid not in found["ids"][0]:
                problems.append(f"vector search does not find chunk {cid} by its own embedding")
        return problems

    # -- writing -----------------------------------------------------------------------------
    def sync(
        self,
        docs: Iterable[Document],
        rebuild: bool = False,
        progress: Callable[[int, int], None] | None = None,
        batch_size: int = BATCH,
    ) -> IndexReport:
        """Make the collection hold exactly the chunks of ``docs``; embed only what changed.

        With a vector snapshot: if Chroma has not been opened yet and the snapshot on disk holds
        exactly the chunks of ``docs`` (the same plan as against the collection), searches answer
        from it and nothing is opened. Else the collection is synced as usual, the snapshot removed
        before any write and saved again after it (or saved if none was on disk)."""
        start = time.perf_counter()
        docs = list(docs)
        if not rebuild and self._serve_snapshot(docs):
            return IndexReport(unchanged=len(docs), chunks=len(self._served), seconds=time.perf_counter() - start)
        self._leave_snapshot()
        why = self.stamp_mismatch()
        rebuild = rebuild or why is not None
        if why and not self._call("count"):
            why = None  # an empty collection is only re-created with the new stamp
        if why:
            log.warning("re-indexing: %s", why)
        mirror = self._current()
        plan = self._plan(docs, self._by_doc((c.id, c.metadata) for c in mirror.values()))
        if not (rebuild or plan["write"] or plan["remove"]):
            if not self._snapshot_saved:
                self._save_snapshot(mirror)
            return IndexReport(unchanged=len(docs), chunks=len(mirror), seconds=time.perf_counter() - start)
        if self.before_write:
            self.before_write()
        if self.snapshot is not None:  # before the first change: a crash from here on leaves no snapshot
            self.snapshot.invalidate()
            self._seen_generation, self._snapshot_saved = None, False
        try:
            report = self._write(docs, plan, mirror, rebuild, progress, batch_size, start)
            report.rebuilt_because = why
        except BaseException:
            self._mirror = None  # a call failed or timed out: what the collection holds is not known
            raise
        self._save_snapshot(self._mirror)
        return report

    # -- the vector snapshot -------------------------------------------------------------------
    def _serve_snapshot(self, docs: list[Document]) -> bool:
        """Search the snapshot instead of Chroma: true while this process has not opened Chroma and
        the snapshot on disk (made with this embedder, whole) holds exactly the chunks of ``docs``."""
        if self.snapshot is None or (self._served is None and self._collection is not None):
            return False
        if self._served is None:
            self._seen_generation = self.snapshot.generation()
            found = self.snapshot.load(self.stamp)
            if found is None:
                return False
            self._served, self._snapshot_saved = found, True
        plan = self._plan(docs, self._served.manifest)
        return not (plan["write"] or plan["remove"])

    def _leave_snapshot(self) -> None:
        """Search Chroma from now on. The snapshot is a copy of the collection's last write, so it
        becomes the mirror (trusted, as any mirror, while the collection's count agrees)."""
        served, self._served = self._served, None
        if served is not None and self._mirror is None:
            self._mirror = {c.id: c for c in served.chunks}
            self._vectors = {c.id: v for c, v in zip(served.chunks, served.vectors)}

    def _save_snapshot(self, mirror: dict[str, StoredChunk] | None) -> None:
        """Save the mirror (the collection as this process wrote or read it) as the snapshot. A
        failure is logged, never raised: the next start then reads Chroma and saves it again."""
        if self.snapshot is None or mirror is None:
            return
        try:
            saved = self.snapshot.save(mirror.values(), self._vectors, self.stamp, seen=self._seen_generation)
        except Exception:  # save() removed the old record first: nothing stale is left behind
            log.exception("saving the vector snapshot failed; the next start reads Chroma")
            return
        if saved is not None:
            self._seen_generation, self._snapshot_saved = saved, True

    def _write(self, docs, plan, mirror, rebuild, progress, batch_size, start) -> IndexReport:
        if rebuild:
            self._mirror = None
            self.client.delete_collection(self.collection_name)
            self.collection = self._open()
            mirror = self._mirror = {}
            self._vectors = {}
            plan = self._plan(docs, {})
        report = IndexReport()
        to_write: list[Chunk] = []
        for doc_id in sorted(plan["write"]):
            (report.updated if doc_id in plan["stored"] else report.added).append(doc_id)
            to_write.extend(self.chunks_of(plan["want"][doc_id]))
        report.unchanged = len(docs) - len(plan["write"])
        to_write = self._reuse_embeddings(to_write, mirror)
        # Shortest first: each batch then holds texts of about one length, and pads ~20% fewer tokens.
        to_write.sort(key=lambda c: len(embedding_text(c.text, c.metadata)))

        done = 0
        for i in range(0, len(to_write), batch_size):
            batch = to_write[i : i + batch_size]
            vectors = self.embedder.embed_documents([embedding_text(c.text, c.metadata) for c in batch])
            self._call("upsert",
                ids=[c.id for c in batch],
                embeddings=vectors,
                documents=[c.text for c in batch],
                metadatas=[_replacing(c.metadata, mirror.get(c.id)) for c in batch],
            )
            mirror.update((c.id, StoredChunk(c.id, c.text, c.metadata)) for c in batch)
            if self.snapshot is not None:
                self._vectors.update(zip((c.id for c in batch), vectors))
            done += len(batch)
            report.embedded += len(batch)
            if progress:
                progress(done, len(to_write))

        # Old chunks go only after the new ones are stored: a crash in between leaves
        # extra chunks with an old hash, which the next run sees and removes.
        stale = []
        for doc_id in plan["write"]:
            keep = {c.id for c in self.chunks_of(plan["want"][doc_id])}
            stale += [cid for cid in plan["stored"].get(doc_id, {"ids": set()})["ids"] if cid not in keep]
        for doc_id in sorted(plan["remove"]):
            report.removed.append(doc_id)
            stale += list(plan["stored"][doc_id]["ids"])
        if stale:
            self._call("delete", ids=stale)
            for cid in stale:
                mirror.pop(cid, None)
                self._vectors.pop(cid, None)

        report.chunks = len(mirror)
        report.seconds = time.perf_counter() - start
        return report

    def _reuse_embeddings(self, chunks: list[Chunk], mirror: dict[str, StoredChunk]) -> list[Chunk]:
        """Chunks whose embedded text (title, section and passage) is stored unchanged under the
        same id keep their vector: only their metadata (the new document hash) is updated, with no
        vector read or sent. An edit to one section of a document then embeds that section only.
        Returns the chunks that still need embedding."""
        same = []
        for c in chunks:
            old = mirror.get(c.id)
            if old is not None and embedding_text(old.text, old.metadata) == embedding_text(c.text, c.metadata):
                same.append(c)
        if same:
            self._call("update", ids=[c.id for c in same], metadatas=[_replacing(c.metadata, mirror[c.id]) for c in same])
            mirror.update((c.id, StoredChunk(c.id, c.text, c.metadata)) for c in same)
        kept = {c.id for c in same}
        return [c for c in chunks if c.id not in kept]

    # -- reading -----------------------------------------------------------------------------
    def query(self, vector: list[float], k: int, where: dict | None = None) -> list[tuple[StoredChunk, float]]:
        served = self._served
        if served is not None:
            return served.query(vector, k, where)
        res = self._call("query",
            query_embeddings=[vector], n_results=k, where=where or None, include=["metadatas", "documents", "distances"]
        )
        out = []
        for cid, text, md, dist in zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0]):
            out.append((StoredChunk(cid, text, md), 1.0 - dist))
        return out

    def query_ids(self, vector: list[float], k: int, where: dict | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first: for a caller that holds the chunks' text and
        metadata already. Reading 40 documents back cost 6.5 ms a query; the ids alone 1.5 ms."""
        served = self._served
        if served is not None:
            return served.query_ids(vector, k, where)
        res = self._call("query", query_embeddings=[vector], n_results=k, where=where or None, include=["distances"])
        return [(cid, 1.0 - dist) for cid, dist in zip(res["ids"][0], res["distances"][0])]

    def count(self) -> int:
        served = self._served
        return len(served) if served is not None else self._call("count")


def _replacing(metadata: dict, old: StoredChunk | None) -> dict:
    """``metadata`` as a replacement: Chroma merges metadata on update and upsert, so keys the old
    chunk had and the new one lacks (a role removed from the document) are sent as None, which
    deletes them."""
    if old is None:
        return metadata
    return {**{k: None for k in old.metadata if k not in metadata}, **metadata}
