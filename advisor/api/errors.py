"""One error shape per face, and the mapping from domain errors to HTTP status codes.

Reskill routes answer ``{"detail": "<one line>", "errors": [{path, field, message}]}``;
the OpenAI-compatible routes answer OpenAI's ``{"error": {message, type, param, code}}``.
No route ever returns a traceback: unexpected failures are logged and answered with a 500
that carries an id to find the log line.
"""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from advisor.errors import BadInput
from knowledge.document import DocumentInvalid
from knowledge.store import InvalidId, NotFound, VersionConflict
from retrieval.index import IndexUnavailable
from retrieval.lock import StoreLocked

log = logging.getLogger("reskill.api")

OPENAI_PATHS = ("/v1/chat/completions", "/v1/embeddings", "/v1/models")
_ID_PATHS = ("/v1/knowledge/", "/v1/roles/", "/v1/skills/")
_OPENAI_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error", 429: "rate_limit_error"}


class ApiError(Exception):
    """An HTTP error with Reskill's body shape; raise it from routes and dependencies."""

    def __init__(self, status: int, detail: str, errors: list[dict] | None = None, headers: dict | None = None, **extra):
        self.status, self.detail, self.errors, self.headers, self.extra = status, detail, errors or [], headers, extra
        super().__init__(detail)


def field_error(path: str, field: str, message: str) -> dict:
    return {"path": path, "field": field, "message": message}


def error_response(path: str, status: int, detail: str, errors: list[dict] | None = None, headers: dict | None = None, **extra) -> JSONResponse:
    """The error body for a request path (OpenAI's shape under the OpenAI-compatible routes)."""
    errors = errors or []
    if path.startswith(OPENAI_PATHS):
        kind = _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
        param = errors[0]["field"] if errors else None
        body = {"error": {"message": detail, "type": kind, "param": param or None, "code": str(status)}}
    else:
        body = {"detail": detail, "errors": errors, **extra}
    return JSONResponse(body, status_code=status, headers=headers)


def _summary(errors: list[dict], limit: int = 3) -> str:
    parts = [f"{e['field'] or e['path']}: {e['message']}" for e in errors[:limit]]
    more = f" (and {len(errors) - limit} more)" if len(errors) > limit else ""
    return "; ".join(parts) + more


def clean_message(msg: str) -> str:
    """Pydantic prefixes messages raised by our own validators; the reader does not need that."""
    return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def request_errors(exc: RequestValidationError) -> list[dict]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        where, field = (loc[0], ".".join(loc[1:])) if loc else ("body", "")
        if err.get("type") == "json_invalid":
            field, message = "", f"not valid JSON ({err.get('ctx', {}).get('error', 'syntax error')})"
        else:
            message = clean_message(err.get("msg", "invalid"))
        out.append(field_error(where, field, message))
    return out


def install(app: FastAPI) -> None:
    """Register the handlers that turn exceptions into answers."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return error_response(request.url.path, exc.status, exc.detail, exc.errors, exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError):
        errors = request_errors(exc)
        # Query, path and header problems are a bad request; a body that does not validate is a 422.
        status = 422 if any(e["path"] == "body" for e in errors) else 400
        return error_response(request.url.path, status, _summary(errors), errors)

    @app.exception_handler(BadInput)
    async def _bad_input(request: Request, exc: BadInput):
        # A GET carries only query and path parameters: what is wrong with them is a bad request.
        status = 400 if request.method in ("GET", "HEAD") else 422
        return error_response(request.url.path, status, str(exc))

    @app.exception_handler(DocumentInvalid)
    async def _invalid_document(request: Request, exc: DocumentInvalid):
        errors = [e.as_dict() for e in exc.errors]
        return error_response(request.url.path, 422, "the document is not valid: " + _summary(errors), errors)

    @app.exception_handler(VersionConflict)
    async def _conflict(request: Request, exc: VersionConflict):
        headers = {"ETag": etag(exc.current)} if exc.current else None
        return error_response(request.url.path, 412, str(exc), headers=headers, current_version=exc.current)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound):
        return error_response(request.url.path, 404, str(exc))

    @app.exception_handler(InvalidId)
    async def _invalid_id(request: Request, exc: InvalidId):
        return error_response(request.url.path, 400, str(exc))

    @app.exception_handler(IndexUnavailable)
    @app.exception_handler(StoreLocked)
    async def _index_unavailable(request: Request, exc: Exception):
        log.warning("index unavailable on %s %s: %s", request.method, request.url.path, exc)
        return error_response(request.url.path, 503, str(exc), headers={"Retry-After": "5"})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        status = exc.status_code
        if status == 400 and request.method not in ("GET", "HEAD"):  # FastAPI could not parse the body
            status = 422
        path = request.url.path
        if status == 405:
            allow = allowed_methods(request)
            return error_response(path, 405, f"{request.method} is not allowed here; use {', '.join(allow)}", headers={"Allow": ", ".join(allow)})
        if status == 404 and path.startswith(_ID_PATHS) and any(ord(c) < 32 or ord(c) == 127 for c in request.scope.get("path", "")):
            # Line breaks stop the path patterns: no route matched 'docker\n\n'. Say what is wrong.
            segment = request.scope["path"].split("/", 3)[-1].split("/", 1)[-1]
            return error_response(path, 400, f"invalid document id {segment!r}: use lower-case letters, digits, '_' and '-' only")
        return error_response(request.url.path, status, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        ref = uuid.uuid4().hex[:12]
        log.error("unhandled error %s on %s %s", ref, request.method, request.url.path, exc_info=exc)
        return error_response(request.url.path, 500, f"internal error (reference {ref}); the server log has the details")


def _all_routes(routes):
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI keeps included routers as wrappers
        if inner is not None:
            yield from _all_routes(inner.routes)
        else:
            yield route


def allowed_methods(request: Request, path: str | None = None) -> list[str]:
    """Every method some route serves at this path (Starlette's 405 names only the first route's).
    A catch-all document route whose id would contain '/' does not count: that path is another route's."""
    path = path or request.scope.get("path", "")
    methods: set[str] = set()
    for route in _all_routes(request.app.routes):
        regex = getattr(route, "path_regex", None)
        m = regex.match(path) if regex is not None else None
        if m and "/" not in m.groupdict().get("doc_id", ""):
            methods |= set(getattr(route, "methods", None) or ())
    if "GET" in methods:
        methods.add("HEAD")
    order = ["GET", "HEAD", "POST", "PUT", "DELETE"]
    return sorted(methods, key=lambda x: order.index(x) if x in order else len(order))


def etag(version: str) -> str:
    return f'"{version}"'
