"""Opening Chroma: the embedded store by default, a Chroma server when a URL is given.

chromadb and httpx are imported when a client is opened, not with this module: a start served
from the vector snapshot (retrieval/snapshot.py) opens none.
"""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import urlparse

DEFAULT_TIMEOUT_S = 5.0


def open_chroma(path: Path, url: str | None = None, headers: dict[str, str] | None = None, timeout_s: float = DEFAULT_TIMEOUT_S):
    """``timeout_s`` bounds every call to a Chroma server (connect, send, wait for the answer):
    a frozen server then fails like a dead one, with ``httpx.TimeoutException``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    config = ChromaSettings(anonymized_telemetry=False)
    if url:
        u = urlparse(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"RESKILL_CHROMA_URL must look like http://host:port, got {url!r}")
        client = _bounded(
            lambda: chromadb.HttpClient(
                host=u.hostname,
                port=u.port or (443 if u.scheme == "https" else 8000),
                ssl=u.scheme == "https",
                headers=headers or {},
                settings=config,
            ),
            timeout_s,
        )
        set_timeout(client, timeout_s)
        return client
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=config)


def _bounded(connect, timeout_s: float):
    """``connect()`` (building an ``HttpClient``, which already calls the server) within
    ``timeout_s``, else :class:`IndexUnavailable`.

    chromadb's client calls the server while it is being built, before its session can be given a
    timeout (see :func:`set_timeout`), so a frozen server (SIGSTOP: the port accepts, nothing
    answers) would hang that call for ever. It runs in a daemon thread instead; if it does not
    finish in time the caller gets the same error as for a dead server, and the abandoned attempt
    ends by itself when the server answers or the process exits.
    """
    import httpx

    from retrieval.index import IndexUnavailable

    result: dict = {}
    done = threading.Event()

    def attempt() -> None:
        try:
            result["client"] = connect()
        except BaseException as exc:  # handed to the caller below
            result["error"] = exc
        finally:
            done.set()

    threading.Thread(target=attempt, name="chroma-connect", daemon=True).start()
    if not done.wait(timeout_s):
        raise IndexUnavailable(f"the Chroma server is not reachable (no answer within {timeout_s:g} s while connecting); retry when it is back")
    error = result.get("error")
    if isinstance(error, (httpx.TransportError, ConnectionError)) or (
        isinstance(error, ValueError) and str(error).startswith("Could not connect to a Chroma server")
    ):
        raise IndexUnavailable(f"the Chroma server is not reachable ({type(error).__name__}); retry when it is back") from None
    if error is not None:
        raise error
    return result["client"]


def set_timeout(client, seconds: float) -> None:
    """Bound every request of a Chroma ``HttpClient``.

    chromadb builds its ``httpx.Client`` with ``timeout=None`` and offers no setting for it, so
    the timeout is set on that session (``httpx.Client.timeout`` is public and settable). Clients
    for the same server share one session, so this applies to all of them. A no-op for the
    embedded store, which makes no HTTP calls.
    """
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(seconds)
