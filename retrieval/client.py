"""Opening Chroma: the embedded store by default, a Chroma server when a URL is given."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import chromadb
from chromadb.config import Settings as ChromaSettings


def open_chroma(path: Path, url: str | None = None, headers: dict[str, str] | None = None):
    config = ChromaSettings(anonymized_telemetry=False)
    if url:
        u = urlparse(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"RESKILL_CHROMA_URL must look like http://host:port, got {url!r}")
        return chromadb.HttpClient(
            host=u.hostname,
            port=u.port or (443 if u.scheme == "https" else 8000),
            ssl=u.scheme == "https",
            headers=headers or {},
            settings=config,
        )
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=config)
