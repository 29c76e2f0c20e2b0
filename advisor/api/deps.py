"""Dependencies: the loaded Advisor, the settings, and checked path parameters."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

from fastapi import Path, Request
from starlette.concurrency import run_in_threadpool

from advisor.api.errors import ApiError, allowed_methods
from advisor.settings import Settings
from knowledge.store import InvalidId, check_id

if TYPE_CHECKING:
    from advisor.core import Advisor

_VERSION = re.compile(r"^[0-9a-f]{16}$")
_ETAG = re.compile(r'^(W/)?"?[0-9a-f]{16}"?$')  # the pattern the OpenAPI document declares
_SUB_ROUTE = re.compile(r"[^/]+/(history(/[^/]+)?|restore/[^/]+)")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_advisor(request: Request) -> Advisor:
    """The loaded Advisor, refreshed first if the Markdown changed elsewhere (see ``freshness``).

    The dependencies here are ``async`` so that a request does not pay a thread hop for each;
    only the occasional check of the files runs in a worker thread.
    """
    adv = request.app.state.advisor
    if adv is None:
        raise ApiError(503, "the advisor is not loaded yet; retry when /readyz answers 200", headers={"Retry-After": "5"})
    freshness = request.app.state.freshness
    if freshness is not None and freshness.due():
        await run_in_threadpool(freshness.check)
    return adv


async def doc_id_param(
    request: Request,
    doc_id: Annotated[str, Path(description="A document id: lower-case letters, digits, '_' and '-'.", examples=["docker"])],
) -> str:
    """The document id from the path, checked against the slug pattern before anything touches a file.

    Routes capture the whole rest of the path, so '../x', '/etc/passwd', '%2F' and NUL all arrive
    here and are refused with a 400 (raised by ``check_id`` as InvalidId). A line break is looked
    for in the whole path: the path pattern stops before a trailing one, so '/v1/knowledge/docker%0A'
    would otherwise arrive as 'docker'.
    """
    path = request.scope.get("path", "")
    if "/" in doc_id and _SUB_ROUTE.fullmatch(doc_id):
        # '/v1/knowledge/docker/history' reached the PUT or DELETE document route: that path is
        # another route's, and this method is not one of its methods.
        allow = allowed_methods(request)
        raise ApiError(405, f"{request.method} is not allowed here; use {', '.join(allow)}", headers={"Allow": ", ".join(allow)})
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        rest = path.split("/", 3)[-1]
        raise InvalidId(f"invalid document id {rest.split('/', 1)[-1]!r}: use lower-case letters, digits, '_' and '-' only")
    return check_id(doc_id)


async def version_param(
    version: Annotated[str, Path(description="A version (16 hexadecimal characters) from GET or /history.", examples=["a0385cdaad1c4fb6"])],
) -> str:
    if not _VERSION.fullmatch(version):
        raise ApiError(400, f"invalid version {version!r}: a version is 16 hexadecimal characters, as GET and /history return it")
    return version


def etag_value(header: str | None, name: str = "If-Match") -> str | None:
    """The one version named by an If-Match header ('"v"', 'v' or 'W/"v"'); a list or '*' is refused."""
    if header is None:
        return None
    value = header.strip()
    if value == "*":
        raise ApiError(400, f"{name}: '*' is not accepted here; send the version you edited (the document's ETag)")
    if "," in value:
        raise ApiError(400, f"{name}: send exactly one version, got {header!r}")
    if not _ETAG.fullmatch(value):
        raise ApiError(400, f"{name}: {header!r} is not a version (16 hexadecimal characters, as the ETag of GET)")
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip().strip('"')
    if not value:
        raise ApiError(400, f"{name} is empty; send the version you edited (the document's ETag)")
    if not _VERSION.fullmatch(value):
        raise ApiError(400, f"{name}: {header!r} is not a version (16 hexadecimal characters, as the ETag of GET)")
    return value
