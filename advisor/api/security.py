"""API keys: writes always need one; reads only when ``RESKILL_API_READ_AUTH=true``.

A key is sent as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>`` and compared with
every configured key in constant time. Without configured keys, writes are refused (never open).
"""

from __future__ import annotations

import hmac

from fastapi import Depends, Request
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


async def require_read(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    key: str | None = Depends(api_key_header),
) -> None:
    settings: Settings = request.app.state.settings
    if settings.api_read_auth:
        check_key(settings, _presented(credentials, key), "reads")
