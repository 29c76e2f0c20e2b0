"""Server-sent events around the Advisor's streaming answers."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator

from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

log = logging.getLogger("reskill.api")

HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def event(data: dict | str, name: str | None = None) -> str:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = f"event: {name}\n" if name else ""
    return head + "".join(f"data: {line}\n" for line in text.split("\n")) + "\n"


def _primed(pieces: Iterator) -> Iterator:
    for first in pieces:  # runs the turn's checks: bad input fails here, before any byte is sent
        return itertools.chain([first], pieces)
    return iter(())


async def primed(pieces: Iterator) -> Iterator:
    """Start a streaming answer in a worker thread, so errors in the input become ordinary HTTP errors."""
    return await run_in_threadpool(_primed, pieces)


def guarded(events: Iterator[str], on_error) -> Iterator[str]:
    """Pass events through; a failure mid-stream becomes one last event instead of a cut connection."""
    try:
        yield from events
    except Exception as exc:  # the status line is already sent: tell the client in the stream
        log.exception("streaming answer failed")
        yield on_error(exc)


def sse_response(events: Iterator[str]) -> StreamingResponse:
    return StreamingResponse(events, media_type="text/event-stream", headers=HEADERS)
