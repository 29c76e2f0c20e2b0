"""Keeping a long-running server in step with edits it did not make.

Writes through this process refresh the Advisor themselves (``store.on_change``). Edits from
elsewhere — another uvicorn worker, the CLI, the Streamlit editor, a text editor — are noticed
by a cheap fingerprint of the Markdown files (names, sizes, modification times), checked at most
once per ``interval`` seconds before a request is served; a change triggers ``adv.refresh()``,
which re-embeds only what changed.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

log = logging.getLogger("reskill.api")

RECHECK_S = 1.0


def fingerprint(root: Path) -> int:
    entries = []
    for path in root.rglob("*.md"):
        try:
            st = path.stat()
        except OSError:  # removed while listing
            continue
        entries.append((str(path), st.st_mtime_ns, st.st_size))
    return hash(tuple(sorted(entries)))


class Freshness:
    def __init__(self, adv, interval: float = RECHECK_S):
        self.adv = adv
        self.root = Path(adv.settings.knowledge_dir)
        self.interval = interval
        self._lock = threading.Lock()
        self._checked = time.monotonic()
        self._seen = fingerprint(self.root)
        inner = adv.store.on_change

        def on_change():
            # Taken before the refresh reads the files: anything later shows up as a change.
            self._seen = fingerprint(self.root)
            return inner() if inner else None

        adv.store.on_change = on_change

    def check(self) -> None:
        now = time.monotonic()
        if now - self._checked < self.interval or not self._lock.acquire(blocking=False):
            return  # checked recently, or another request is refreshing right now
        try:
            self._checked = now
            current = fingerprint(self.root)
            if current != self._seen:
                self._seen = current
                try:
                    report = self.adv.refresh()
                    log.info("knowledge changed on disk; refreshed: %s", report.summary())
                except Exception:  # keep serving what is loaded; /readyz reports the index out of step
                    log.exception("refreshing after an edit on disk failed")
        finally:
            self._lock.release()
