"""A read-only copy of the embedded collection on disk, so a warm start answers without Chroma.

Importing chromadb, opening its client and reading the collection took 1.1-1.4 s of a 2.8 s
``reskill ask``. The index writer (:class:`~retrieval.index.VectorIndex`) therefore saves what the
collection holds (ids, texts, metadata, vectors, the embedder's stamp) after every write, and a
process that starts with the knowledge base in step with that copy searches it exactly, with
numpy, and never opens Chroma. Chroma stays the store of record: the first write in such a
process opens it.

The copy is only ever a copy of a finished write:

* the writer removes the record (``<collection>.json``) *before* it writes to Chroma, and saves a
  new one, under a new generation token, *after* the write succeeded; a crash in between leaves
  no record, so the next start reads Chroma and saves the copy again;
* the record names its two data files by generation and holds their SHA-256, so a truncated,
  damaged or mismatched file is refused (and logged) rather than served;
* it is used only for the embedder stamp it was written with, and only while every document's
  chunk ids and content hash match it, the same test the start-up sync applies to Chroma.

Server mode (a Chroma URL) never writes or reads one.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from knowledge.cache_file import replace_cache_file
from retrieval.index import StoredChunk, doc_manifest
from retrieval.lock import writer_lock_if_free

FORMAT = 1
log = logging.getLogger("reskill.snapshot")


class Snapshot:
    """The chunks of one collection with their vectors, searched exactly (cosine, numpy). On the
    real knowledge base this is Chroma's ranking for 4,540 of 4,560 searches of 40 candidates; the
    others differ where two similarities agree to float32 rounding (5), or where Chroma's HNSW
    search, which is approximate, missed a chunk at places 20-39 of a filtered search (15). The
    hybrid search's hits were the same for all 760 searches compared (tests/test_vector_snapshot.py)."""

    def __init__(self, chunks: list[StoredChunk], vectors: np.ndarray, stamp: Mapping[str, str], generation: str):
        self.chunks = chunks
        """In the collection's own order (``get``'s), which breaks keyword-search ties the same way."""
        self.vectors = vectors
        """As Chroma stores them (row i is ``chunks[i]``'s)."""
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self._unit = vectors / np.where(norms == 0, 1, norms)
        self.stamp = dict(stamp)
        self.generation = generation
        self.manifest = doc_manifest((c.id, c.metadata) for c in chunks)
        """Per document, its chunk ids and content hashes: what ``VectorIndex`` plans against."""

    def __len__(self) -> int:
        return len(self.chunks)

    def query_ids(self, vector: list[float], k: int, where: dict | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first, among the chunks ``where`` allows."""
        return [(self.chunks[i].id, s) for i, s in self._top(vector, k, where)]

    def query(self, vector: list[float], k: int, where: dict | None = None) -> list[tuple[StoredChunk, float]]:
        return [(self.chunks[i], s) for i, s in self._top(vector, k, where)]

    def _top(self, vector: list[float], k: int, where: dict | None) -> list[tuple[int, float]]:
        q = np.asarray(vector, dtype=np.float32)
        q = q / (np.linalg.norm(q) or 1.0)
        rows = np.arange(len(self.chunks)) if not where else np.flatnonzero([_matches(c.metadata, where) for c in self.chunks])
        scores = self._unit[rows] @ q
        best = np.argsort(-scores, kind="stable")[: max(k, 0)]
        return [(int(rows[i]), float(scores[i])) for i in best]


def _matches(metadata: dict, where: dict) -> bool:
    """Chroma's ``where`` for the filters this project sends: ``{key: value}`` equality (a
    boolean matches only a boolean) and ``$and`` of those. Anything else is refused, not guessed."""
    if set(where) == {"$and"}:
        return all(_matches(metadata, w) for w in where["$and"])
    if len(where) != 1:
        raise ValueError(f"unsupported filter for the vector snapshot: {where!r}")
    (key, want), = where.items()
    if key.startswith("$") or isinstance(want, (dict, list)):
        raise ValueError(f"unsupported filter for the vector snapshot: {where!r}")
    have = metadata.get(key)
    return type(have) is type(want) and have == want


class SnapshotFiles:
    """The snapshot of ``collection`` kept in ``store_dir/snapshot/`` (beside Chroma's own files,
    so it goes with them): ``<collection>.json`` is the record, naming
    ``<collection>-<generation>.chunks.json`` and ``.vectors.npy`` with their SHA-256."""

    def __init__(self, store_dir: Path, collection: str):
        self.store_dir = Path(store_dir)
        self.folder = self.store_dir / "snapshot"
        self.collection = collection
        self.record_path = self.folder / f"{collection}.json"

    def _data(self, generation: str, part: str) -> Path:
        return self.folder / f"{self.collection}-{generation}.{part}"

    def generation(self) -> str | None:
        """The generation of the record on disk (None: no readable record)."""
        try:
            return json.loads(self.record_path.read_text(encoding="utf-8"))["generation"]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def holds(self, stamp: Mapping[str, str]) -> bool:
        """A record for vectors of this embedder is on disk (its data files are checked by :meth:`load`)."""
        try:
            record = json.loads(self.record_path.read_text(encoding="utf-8"))
            return record.get("format") == FORMAT and record.get("stamp") == dict(stamp)
        except (OSError, ValueError, AttributeError):
            return False

    def load(self, stamp: Mapping[str, str]) -> Snapshot | None:
        """The snapshot, if one is on disk for vectors of this embedder and both its files are whole;
        else None (a damaged one is logged, and replaced by the next save)."""
        try:
            raw = self.record_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("vector snapshot %s cannot be read (%s); searching Chroma instead", self.record_path, exc)
            return None
        try:
            record = json.loads(raw)
            if record.get("format") != FORMAT or record.get("collection") != self.collection:
                raise ValueError(f"format {record.get('format')!r} of collection {record.get('collection')!r}")
            if record["stamp"] != dict(stamp):
                log.info("vector snapshot %s was made with another embedder; searching Chroma instead", self.record_path)
                return None
            generation = record["generation"]
            chunks_raw = self._checked(generation, "chunks.json", record["sha256"]["chunks"])
            vectors_raw = self._checked(generation, "vectors.npy", record["sha256"]["vectors"])
            rows = json.loads(chunks_raw)
            vectors = np.load(io.BytesIO(vectors_raw), allow_pickle=False)
            if vectors.dtype != np.float32 or vectors.ndim != 2 or vectors.shape[0] != len(rows) or len(rows) != record["count"]:
                raise ValueError(f"vectors {vectors.dtype} {vectors.shape} for {len(rows)} chunks")
            chunks = [StoredChunk(cid, text, metadata) for cid, text, metadata in rows]
            if len({c.id for c in chunks}) != len(chunks):
                raise ValueError("duplicate chunk ids")
            return Snapshot(chunks, vectors, stamp, generation)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("vector snapshot %s is damaged (%s: %s); searching Chroma instead, and saving it again",
                        self.record_path, type(exc).__name__, exc)
            return None

    def _checked(self, generation: str, part: str, digest: str) -> bytes:
        data = self._data(generation, part).read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError(f"{part} does not match its SHA-256 (truncated or changed)")
        return data

    def invalidate(self) -> None:
        """Remove the record (then its data files): called before any write to the collection."""
        try:
            self.record_path.unlink()
        except FileNotFoundError:
            pass
        else:
            _sync_dir(self.folder)
        for old in self.folder.glob(f"{self.collection}-{'[0-9a-f]' * 32}.*"):
            old.unlink(missing_ok=True)

    def save(
        self,
        chunks: Iterable[StoredChunk],
        vectors: Mapping[str, np.ndarray | list[float]],
        stamp: Mapping[str, str],
        seen: str | None,
    ) -> str | None:
        """Write a snapshot of ``chunks`` (in this order, each with ``vectors[id]``) under a new
        generation token; returns the token, or None when it was not written.

        Written under the store's writer lock (taken for a moment when this process does not hold
        it), and only if the record on disk is still the one the caller last saw (``seen``: its
        generation, None for none, as after :meth:`invalidate`): a process that read the collection
        without writing may hold an older copy than a writer that saved since."""
        chunks = list(chunks)
        missing = [c.id for c in chunks if c.id not in vectors]
        if missing:
            log.debug("vector snapshot not saved: no vector at hand for %d chunks (e.g. %s)", len(missing), missing[0])
            return None
        with writer_lock_if_free(self.store_dir) as locked:
            if not locked:
                return None  # another process is the writer; it saves one after its writes
            if self.generation() != seen:
                return None
            self.invalidate()
            for left in self.folder.glob(".*.tmp"):  # a save killed before its rename
                left.unlink(missing_ok=True)
            generation = uuid.uuid4().hex
            matrix = np.asarray([vectors[c.id] for c in chunks], dtype=np.float32).reshape(len(chunks), -1)
            digests = {
                "chunks": self._write(generation, "chunks.json", json.dumps([[c.id, c.text, c.metadata] for c in chunks]).encode()),
                "vectors": self._write(generation, "vectors.npy", _npy(matrix)),
            }
            record = {"format": FORMAT, "collection": self.collection, "generation": generation, "stamp": dict(stamp),
                      "count": len(chunks), "sha256": digests}
            replace_cache_file(self.record_path, lambda f: f.write(json.dumps(record, indent=1).encode()), binary=True,
                               others=f"{self.collection}.json")
            _sync_dir(self.folder)
            return generation

    def _write(self, generation: str, part: str, data: bytes) -> str:
        path = self._data(generation, part)

        def dump(f) -> None:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # on disk before the record that names it

        replace_cache_file(path, dump, binary=True, others=path.name)
        return hashlib.sha256(data).hexdigest()


def _npy(matrix: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, matrix, allow_pickle=False)
    return buf.getvalue()


def _sync_dir(folder: Path) -> None:
    """Make a rename or removal in ``folder`` durable before the next step relies on it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
