"""Opening Chroma: the embedded store by default, a Chroma server when a URL is given."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import chromadb
import httpx
from chromadb.config import Settings as ChromaSettings


DEFAULT_TIMEOUT_S = 5.0


def open_chroma(path: Path, url: str | None = None, headers: dict[str, str] | None = None, timeout_s: float = DEFAULT_TIMEOUT_S):
    """``timeout_s`` bounds every call to a Chroma server (connect, send, wait for the answer):
    a frozen server then fails like a dead one, with ``httpx.TimeoutException``."""
    config = ChromaSettings(anonymized_telemetry=False)
    if url:
        u = urlparse(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"RESKILL_CHROMA_URL must look like http://host:port, got {url!r}")
        client = chromadb.HttpClient(
            host=u.hostname,
            port=u.port or (443 if u.scheme == "https" else 8000),
            ssl=u.scheme == "https",
            headers=headers or {},
            settings=config,
        )
        set_timeout(client, timeout_s)
        return client
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=config)


def set_timeout(client, seconds: float) -> None:
    """Bound every request of a Chroma ``HttpClient``.

    chromadb builds its ``httpx.Client`` with ``timeout=None`` and offers no setting for it, so
    the timeout is set on that session (``httpx.Client.timeout`` is public and settable). Clients
    for the same server share one session, so this applies to all of them. A no-op for the
    embedded store, which makes no HTTP calls.
    """
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(seconds)
