"""Request-size limits, enforced before a route sees the body.

A body over ``settings.max_body_bytes`` (or, for a resume upload, the resume limit) is answered
413 as soon as the declared length or the bytes received pass it, so an oversized or endless
body is never held in memory. JSON text that cannot be stored as UTF-8 (a lone surrogate escape
such as ``"\\ud800"``) or that is not UTF-8 at all is answered 422 here, so no route meets it.
"""

from __future__ import annotations

import asyncio
import json
import re

from advisor.api.errors import error_response

# A resume is uploaded as multipart; the framing around the file needs a little room.
MULTIPART_ROOM = 64 * 1024
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class BodyLimit:
    """Pure ASGI middleware: reads the whole body (up to the limit) and replays it to the app."""

    def __init__(self, app, max_bytes: int, upload_paths: dict[str, int], body_timeout_s: float | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.upload_paths = upload_paths
        self.body_timeout_s = body_timeout_s
        """Longest wait for the next piece of a body (None: no limit); then 408 and the connection closes."""

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        path = scope.get("path", "")
        content_type = headers.get("content-type", "").lower()
        limit, what = self.max_bytes, f"{self.max_bytes} bytes (RESKILL_MAX_BODY_BYTES)"
        if content_type.startswith("multipart/form-data") and path in self.upload_paths:
            limit = self.upload_paths[path] + MULTIPART_ROOM
            what = f"{self.upload_paths[path] // 1_000_000} MB for an upload"

        async def reject(status: int, detail: str):
            # The rest of an oversized body is left unread; the connection closes after the answer.
            response = error_response(path, status, detail, headers={"Connection": "close"} if status in (408, 413) else None)
            await response(scope, receive, send)

        declared = headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                return await reject(400, f"Content-Length must be a number of bytes, got {declared!r}")
            if int(declared) > limit:
                return await reject(413, f"the request body is larger than {what}")

        chunks, size = [], 0
        while True:
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout_s)
            except asyncio.TimeoutError:
                return await reject(408, f"the request body stopped arriving for {self.body_timeout_s:g} s (RESKILL_HTTP_BODY_TIMEOUT_S)")
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await reject(413, f"the request body is larger than {what}")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)

        if "json" in content_type:
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as exc:
                return await reject(422, f"the JSON body is not valid UTF-8 (byte {exc.start}); send UTF-8 text")
            if _SURROGATE_ESCAPE.search(body) and _has_lone_surrogate(body):
                return await reject(422, "the JSON text contains an unpaired UTF-16 surrogate escape (such as \\ud800); send valid Unicode")

        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _has_lone_surrogate(body: bytes) -> bool:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return False  # the route answers malformed JSON itself
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
