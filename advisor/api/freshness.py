"""Keeping a long-running server in step with edits it did not make.

Writes through this process refresh the Advisor themselves (``store.on_change``). Edits from
elsewhere — another uvicorn worker, the CLI, the Streamlit editor, a text editor — are noticed
by a cheap fingerprint of the Markdown files (names, sizes, modification times), checked at most
once per ``interval`` seconds before a request is served; a change triggers ``adv.refresh()``,
which re-embeds only what changed. Requests that arrive during that refresh wait for it, so
none is answered from the state the check found stale.

A write that reached the disk but not the index (Chroma down or frozen) leaves the index
*pending*: a background thread retries the refresh every ``settings.reindex_retry_s`` seconds
until it succeeds, so the edit becomes searchable as soon as Chroma answers again, without
anyone calling /readyz. The next write retries it as well.

Every index write made by the API — the load at start-up, the refresh after a write, the refresh
after an edit elsewhere — holds one file lock in the data folder, so worker processes sharing a
Chroma server bring the index in step one at a time instead of all embedding the same documents.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from filelock import FileLock

from knowledge.store import fingerprint as store_fingerprint

log = logging.getLogger("reskill.api")

RECHECK_S = 1.0
INDEX_LOCK_TIMEOUT_S = 600


def index_lock(data_dir: Path) -> FileLock:
    """The data folder's index lock (one object per folder, so a thread may take it again)."""
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    return FileLock(str(Path(data_dir) / "index.lock"), timeout=INDEX_LOCK_TIMEOUT_S, is_singleton=True)


def fingerprint(root: Path) -> int:
    return store_fingerprint(root)


class Freshness:
    def __init__(self, adv, interval: float = RECHECK_S):
        self.adv = adv
        self.root = Path(adv.settings.knowledge_dir)
        self.interval = interval
        self.index_lock = index_lock(adv.settings.data_dir)
        self._lock = threading.Lock()
        self._checked = time.monotonic()
        self._seen = fingerprint(self.root)
        self.retry_s = float(getattr(adv.settings, "reindex_retry_s", 2.0))
        self.pending: str | None = None
        """Why the last refresh failed, while a retry is due (None: the index is up to date)."""
        self._retrying: threading.Thread | None = None
        self._count_lock = threading.Lock()
        self._writes = 0  # writes that reached the disk and asked for a refresh
        self._covered = 0  # the last of them a finished refresh has read
        inner = adv.store.on_change

        def on_change():
            # Writes that queue behind one refresh share the next: a refresh that began after this
            # write reached the disk has read it, so 20 concurrent PUTs need a few refreshes, not 20.
            with self._count_lock:
                self._writes += 1
                mine = self._writes
            with self.index_lock:
                if self._covered >= mine and self.pending is None:
                    return None
                with self._count_lock:
                    covers = self._writes
                # Taken before the refresh reads the files: anything later shows up as a change.
                self._seen = fingerprint(self.root)
                try:
                    result = inner() if inner else None
                except Exception as exc:
                    self._failed(exc)
                    raise
                self._covered = max(self._covered, covers)
                self.pending = None
                return result

        adv.store.on_change = on_change

    # -- a refresh that failed is retried in the background ------------------------------------
    def _failed(self, exc: Exception) -> None:
        self.pending = f"{type(exc).__name__}: {exc}"
        log.warning("index not refreshed after a write (%s); retrying every %.1f s", self.pending, self.retry_s)
        self.kick()

    def kick(self) -> None:
        """Start the retry thread if a refresh is pending and none is running."""
        if self.pending is None or (self._retrying is not None and self._retrying.is_alive()):
            return
        self._retrying = threading.Thread(target=self._retry, name="reindex-retry", daemon=True)
        self._retrying.start()

    def _retry(self) -> None:
        while self.pending is not None:
            time.sleep(self.retry_s)
            try:
                with self.index_lock:
                    self._seen = fingerprint(self.root)
                    report = self.adv.refresh()
            except Exception as exc:
                self.pending = f"{type(exc).__name__}: {exc}"
                continue
            self.pending = None
            log.info("index refreshed after Chroma came back: %s", report.summary())

    def due(self) -> bool:
        """Whether a request must go through :meth:`check` (cheap; most requests get False)."""
        return time.monotonic() - self._checked >= self.interval or self._lock.locked()

    def check(self) -> None:
        if not self.due():
            return  # checked recently and no refresh under way: the common, lock-free case
        with self._lock:  # a refresh under way finishes before this request reads anything
            now = time.monotonic()
            if now - self._checked < self.interval:
                return
            self._checked = now
            current = fingerprint(self.root)
            if current == self._seen:
                return
            self._seen = current
            try:
                with self.index_lock:
                    report = self.adv.refresh()
                self.pending = None
                log.info("knowledge changed on disk; refreshed: %s", report.summary())
            except Exception as exc:  # keep serving what is loaded; retried in the background
                log.exception("refreshing after an edit on disk failed")
                self._failed(exc)
