"""One writer per embedded Chroma store.

Chroma's embedded ``PersistentClient`` is thread-safe but not process-safe: two processes
writing one folder can corrupt it. The first process that writes takes an exclusive lock on
the folder and keeps it until it exits (the OS releases it even after kill -9); any other
process that tries to write gets :class:`StoreLocked` at once, naming the holder, instead of
a hang or a corrupted index. Threads of one process share the lock.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

_HELD: dict[str, FileLock] = {}
_GUARD = threading.Lock()


class StoreLocked(RuntimeError):
    pass


def hold_writer_lock(store_dir: Path) -> None:
    """Take (once per process) the writer lock of an embedded store, or raise StoreLocked."""
    key = str(Path(store_dir).resolve())
    with _GUARD:
        if key in _HELD:
            return
        Path(key).mkdir(parents=True, exist_ok=True)
        lock = FileLock(os.path.join(key, "writer.lock"), timeout=0)
        owner = Path(key) / "writer.pid"
        try:
            lock.acquire()
        except Timeout:
            holder = owner.read_text().strip() if owner.exists() else "unknown"
            raise StoreLocked(
                f"the embedded index at {key} is being written by another process (pid {holder}). "
                "Run one writer per store, or run `chroma run --path <dir>` and set RESKILL_CHROMA_URL "
                "so several processes can share it."
            ) from None
        owner.write_text(str(os.getpid()))
        _HELD[key] = lock


@contextmanager
def writer_lock_if_free(store_dir: Path) -> Iterator[bool]:
    """The writer lock of an embedded store for the length of the block, if no other process holds
    it: yields True (and releases it after, unless this process holds it for good), or False at
    once. For a small write by a process that is otherwise only a reader (the vector snapshot),
    so that it does not become the store's writer until it exits."""
    key = str(Path(store_dir).resolve())
    with _GUARD:  # held for the block: a thread of this process taking the lock for good waits
        if key in _HELD:
            yield True
            return
        Path(key).mkdir(parents=True, exist_ok=True)
        lock = FileLock(os.path.join(key, "writer.lock"), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            yield False
            return
        try:
            yield True
        finally:
            lock.release()
