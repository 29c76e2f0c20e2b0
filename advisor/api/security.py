"""API keys: writes always need one; reads only when ``RESKILL_API_READ_AUTH=true``.

A key is sent as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>`` and compared with
every configured key in constant time. Without configured keys, writes are refused (never open).
"""

from __future__ import annotations

import hmac

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from advisor.api.errors import ApiError
from advisor.settings import Settings

bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <key>, a key from RESKILL_API_KEYS.")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="A key from RESKILL_API_KEYS.")


def _valid(presented: str, keys: list[str]) -> bool:
    given = presented.encode("latin-1", errors="replace")  # headers arrive as latin-1 text
    found = False
    for key in keys:  # no early exit: the time taken does not depend on which key matched
        found |= hmac.compare_digest(given, key.encode("utf-8"))
    return found


def check_key(settings: Settings, presented: list[str | None], purpose: str) -> None:
    keys = settings.api_keys
    if not keys:
        raise ApiError(403, f"{purpose} are disabled on this server: set RESKILL_API_KEYS to a comma-separated list of keys to allow them")
    given = [p for p in presented if p]
    if not given:
        raise ApiError(
            401,
            "this route needs an API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not any(_valid(p, keys) for p in given):
        raise ApiError(401, "the API key is not valid", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def _presented(credentials: HTTPAuthorizationCredentials | None, key: str | None) -> list[str | None]:
    return [credentials.credentials if credentials else None, key]


async def require_write(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    key: str | None = Depends(api_key_header),
) -> None:
    check_key(request.app.state.settings, _presented(credentials, key), "writes")


def presented_keys(request: Request) -> list[str | None]:
    """The keys a request carries, read from its headers (as the security schemes above do)."""
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    return [token.strip() if scheme.lower() == "bearer" else None, request.headers.get("x-api-key")]


async def require_read(request: Request) -> None:
    """Reads are open unless RESKILL_API_READ_AUTH=true. Deliberately not a security dependency,
    so the OpenAPI document declares read routes open; ``app._document`` adds the security
    requirement to them when read auth is on."""
    settings: Settings = request.app.state.settings
    if settings.api_read_auth:
        check_key(settings, presented_keys(request), "reads")


class AuthFirstRoute(APIRoute):
    """Checks the API key before FastAPI reads and validates the body, so a write without a key
    gets 401 (or 403) whatever its body is, never a 422 that tells a stranger about the schema."""

    def get_route_handler(self):
        handler = super().get_route_handler()
        deps = {getattr(d, "call", None) for d in self.dependant.dependencies} | {d.dependency for d in self.dependencies}
        writes, reads = require_write in deps, require_read in deps

        async def route(request: Request):
            settings: Settings = request.app.state.settings
            if writes:
                check_key(settings, presented_keys(request), "writes")
            elif reads and settings.api_read_auth:
                check_key(settings, presented_keys(request), "reads")
            return await handler(request)

        return route
