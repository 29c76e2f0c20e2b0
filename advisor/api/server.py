"""Serving the API with uvicorn (``reskill serve``).

Timeouts while a request is read (slow or stalled clients, "slowloris"):

- an idle connection is closed after ``RESKILL_HTTP_KEEP_ALIVE_S`` (uvicorn's keep-alive);
- a connection that has not sent a request's complete headers within ``RESKILL_HTTP_HEADER_TIMEOUT_S``
  of opening (or of the previous answer) is closed, with a 408 if it sent part of them
  (:class:`GuardedH11Protocol`; uvicorn has no such timer of its own);
- a body that pauses longer than ``RESKILL_HTTP_BODY_TIMEOUT_S`` between two reads is answered 408
  (``advisor.api.limits.BodyLimit``).

Behind a reverse proxy, set the same limits there as well, where they cost less: nginx
``client_header_timeout``, ``client_body_timeout``, ``keepalive_timeout``, ``client_max_body_size``
(RESKILL_MAX_BODY_BYTES, or 5 MB for resume uploads) and ``limit_conn``; or the equivalents of yours.
"""

from __future__ import annotations

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from advisor.errors import BadInput
from advisor.settings import Settings, export_to_environ, load_settings


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus a deadline for receiving a request's headers.

    The timer starts when the connection opens and again after each answer; it is not reset by
    incoming bytes, so a client that trickles a header byte every few seconds is cut off too.
    """

    header_timeout_s: float | None = None
    """Set by :func:`run`; worker processes (which import this class afresh) read the settings."""

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer = None
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        timeout = type(self).header_timeout_s
        if timeout is None:
            timeout = type(self).header_timeout_s = load_settings().http_header_timeout_s
        self._header_timer = self.loop.call_later(timeout, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.conn.their_state is not h11.IDLE or self.transport.is_closing():
            return  # the headers arrived; the request is being answered
        if self.conn.trailing_data[0]:  # part of a request came: say why the connection ends
            self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._cancel_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_timer()

    def connection_lost(self, exc) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)


def run(settings: Settings | None = None, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve until interrupted.

    One worker serves an app built here. Several workers are separate processes, each building
    its own app (uvicorn's factory mode, ``advisor.api:create_app``); they get ``settings`` through
    ``RESKILL_*`` variables. They need a Chroma server (``RESKILL_CHROMA_URL``): the embedded store
    takes one writer process only.
    """
    import uvicorn

    from advisor.api.app import create_app

    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise BadInput(f"workers must be a whole number of at least 1, got {workers}")
    if not isinstance(port, int) or not 0 <= port < 65536:
        raise BadInput(f"port must be between 0 and 65535, got {port}")
    settings = settings or load_settings()
    GuardedH11Protocol.header_timeout_s = settings.http_header_timeout_s
    # ws="none": the API has no WebSocket routes, and uvicorn's "auto" imports the websockets package at start.
    options = {"server_header": False, "http": GuardedH11Protocol, "ws": "none", "timeout_keep_alive": settings.http_keep_alive_s}
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, **options)
        return
    if not settings.chroma_url:
        raise BadInput(
            "several workers need Chroma's server mode: the embedded store is not safe for several processes. "
            "Start `chroma run --path <dir>` and set RESKILL_CHROMA_URL=http://127.0.0.1:8000"
        )
    export_to_environ(settings)  # each worker's create_app() loads settings from these
    uvicorn.run("advisor.api:create_app", factory=True, host=host, port=port, workers=workers, **options)
