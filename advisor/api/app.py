"""The app factory and its lifespan: the Advisor loads once, and reaches routes through dependencies."""

from __future__ import annotations

import logging
import threading
import time
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from pydantic.json_schema import models_json_schema
from starlette.concurrency import run_in_threadpool

from advisor.api import errors, routes_advice, routes_knowledge, routes_openai, routes_ops
from advisor.api.freshness import Freshness, index_lock
from advisor.api.limits import BodyLimit
from advisor.api.schemas import ProfileTextRequest
from advisor.settings import Settings, load_settings
from knowledge.schema import SLUG

if TYPE_CHECKING:
    from advisor.core import Advisor

DESCRIPTION = """\
Career-reskilling advice for data scientists moving to BI analyst or ML engineer roles,
grounded in a versioned Markdown knowledge base.

**Keys.** Writes (PUT, DELETE, restore) need an API key from `RESKILL_API_KEYS`, sent as
`Authorization: Bearer <key>` or `X-API-Key: <key>`; without configured keys they are refused.
Reads are open unless `RESKILL_API_READ_AUTH=true`.

**Errors.** `{"detail": "<one line>", "errors": [{path, field, message}]}`; 400 for a bad query or
path parameter, 422 for a bad body, 413 for one that is too large. The OpenAI-compatible routes
answer errors in OpenAI's `{"error": {...}}` shape.

**Editing.** GET a document, change it, PUT it back with `If-Match: <its ETag>`. A stale version
gets 412 and changes nothing; every accepted version is kept and can be restored.
"""

TAGS = [
    {"name": "advice", "description": "Chat, recommendations, comparisons and profiles."},
    {"name": "knowledge", "description": "Search, roles and skills."},
    {"name": "knowledge base", "description": "Read and edit the Markdown documents, with versions and history."},
    {"name": "OpenAI-compatible", "description": "Chat completions and embeddings for OpenAI clients."},
    {"name": "operations", "description": "Health and readiness probes."},
]


@asynccontextmanager
async def lifespan(app: FastAPI):
    """Load the Advisor (model, index, knowledge) once, unless one was handed in.

    If the Chroma server does not answer (dead, or frozen: every Chroma call is bounded by
    RESKILL_CHROMA_TIMEOUT_S), start-up does not wait for it: the API comes up, /healthz answers,
    /readyz and the routes answer 503 with the reason, and the load is retried in the background."""
    if app.state.advisor is None:
        if await run_in_threadpool(_try_load, app):
            _warm_in_background(app)
        else:
            _load_in_background(app)
    if app.state.freshness is None and app.state.advisor is not None:
        app.state.freshness = Freshness(app.state.advisor)
    yield


def _try_load(app: FastAPI) -> bool:
    """Load the Advisor into ``app.state``; False (and the reason kept) if Chroma is unreachable."""
    from retrieval.index import IndexUnavailable

    try:
        adv = _load(app.state.settings)
    except IndexUnavailable as exc:
        app.state.load_error = str(exc)
        logging.getLogger("reskill.api").warning("not loaded: %s; retrying in the background", exc)
        return False
    app.state.freshness = Freshness(adv)
    app.state.advisor = adv
    app.state.load_error = None
    return True


def _load_in_background(app: FastAPI) -> None:
    retry_s = float(getattr(app.state.settings, "reindex_retry_s", 2.0))

    def work() -> None:
        while app.state.advisor is None:
            time.sleep(retry_s)
            if _try_load(app):
                logging.getLogger("reskill.api").info("loaded once the Chroma server answered")
                _warm_in_background(app)

    threading.Thread(target=work, name="load-retry", daemon=True).start()


def _warm_in_background(app: FastAPI) -> None:
    """Load what the first chat turn would otherwise wait for (the question reader's cached weights,
    or its training on a fresh data dir) after start-up; /readyz lists it under ``warming`` meanwhile."""
    app.state.warming.add("chat reader")

    def work() -> None:
        try:
            from advisor.chat.context import chat_reader

            chat_reader(app.state.advisor).warm()
        except Exception:
            logging.getLogger("reskill.api").exception("warming the chat reader failed; it loads on first use")
        finally:
            app.state.warming.discard("chat reader")

    threading.Thread(target=work, name="warm-caches", daemon=True).start()


def _load(settings: Settings) -> Advisor:
    from advisor.core import Advisor

    with index_lock(settings.data_dir):  # workers starting together bring the index in step one at a time
        return Advisor.load(settings)


def create_app(settings: Settings | None = None, advisor: Advisor | None = None) -> FastAPI:
    """The HTTP API. With ``advisor`` given (tests), it is used as is and nothing is loaded."""
    settings = settings or (advisor.settings if advisor is not None else load_settings())
    app = FastAPI(
        title="Reskill API",
        version="1",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        separate_input_output_schemas=False,
    )
    app.state.settings = settings
    app.state.advisor = advisor
    app.state.freshness = Freshness(advisor) if advisor is not None else None
    app.state.openapi_roles = None
    app.state.warming = set()
    app.state.load_error = None

    errors.install(app)
    for module in (routes_ops, routes_advice, routes_knowledge, routes_openai):
        app.include_router(module.router)

    # Added last is outermost: CORS headers are on every answer, including a 413.
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_body_bytes, upload_paths=routes_advice.UPLOAD_PATHS, body_timeout_s=settings.http_body_timeout_s
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "If-Match", "If-None-Match"],
            expose_headers=["ETag", "Location"],
        )
    _document(app)
    return app


def _document(app: FastAPI) -> None:
    """Two corrections to the generated OpenAPI document.

    POST /v1/profile parses its body itself (JSON or multipart), so its JSON schema is added by hand;
    and FastAPI's default 422 answer (its own error shape) is replaced by ours, or dropped from
    operations without a body, whose parameter errors are 400s.
    """
    build = app.openapi

    def openapi() -> dict:
        adv = app.state.advisor
        roles = sorted(adv.kb.roles) if adv is not None else None
        if app.openapi_schema is not None and app.state.openapi_roles != roles:
            app.openapi_schema = None  # the role ids it lists changed
        if app.openapi_schema is None:
            app.state.openapi_roles = roles
            schema = build()
            _, defs = models_json_schema([(ProfileTextRequest, "validation")], ref_template="#/components/schemas/{model}")
            known = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, part in defs.get("$defs", {}).items():
                known.setdefault(name, part)
            for operations in schema.get("paths", {}).values():
                for op in operations.values():
                    default = op.get("responses", {}).get("422", {})
                    if "HTTPValidationError" in str(default.get("content", "")):
                        del op["responses"]["422"]
                        if "requestBody" in op:
                            op["responses"]["422"] = {"description": "The request body is not valid", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
            for name in ("HTTPValidationError", "ValidationError"):
                known.pop(name, None)
            _parameters_and_security(schema, app.state.settings, roles)
            _links(schema)
        return app.openapi_schema

    app.openapi = openapi



_ETAG = r'(W/)?"?[0-9a-f]{16}"?'
PARAMETER_SCHEMAS = {
    ("path", "doc_id"): {"type": "string", "pattern": SLUG, "maxLength": 80},
    ("path", "version"): {"type": "string", "pattern": r"^[0-9a-f]{16}$"},
    ("header", "if-match"): {"type": "string", "pattern": f"^{_ETAG}$"},
}


def _parameters_and_security(schema: dict, settings: Settings, roles: list[str] | None = None) -> None:
    """What the routes check, stated in the document: the id, version and ETag patterns; that
    If-None-Match on a write is '*'; and that reads need a key only when read auth is on."""
    secured = [{"HTTPBearer": []}, {"APIKeyHeader": []}]
    for path, operations in schema.get("paths", {}).items():
        for method, op in operations.items():
            for param in op.get("parameters", []):
                key = (param.get("in"), param.get("name", "").lower())
                if key in PARAMETER_SCHEMAS:
                    param["schema"] = {**PARAMETER_SCHEMAS[key], **{k: v for k, v in param.get("schema", {}).items() if k in ("title", "examples")}}
                elif key == ("query", "role") and roles:
                    param["schema"] = {"type": "string", "enum": roles, **{k: v for k, v in param.get("schema", {}).items() if k == "title"}}
                elif key == ("header", "if-none-match"):
                    if method == "get":
                        param["schema"] = {"type": "string", "pattern": rf"^(\*|{_ETAG}(\s*,\s*{_ETAG})*)$"}
                    else:
                        param["schema"] = {"type": "string", "enum": ["*"]}
            if settings.api_read_auth and path.startswith("/v1/") and "security" not in op:
                op["security"] = secured


def _links(schema: dict) -> None:
    """OpenAPI links: what GET returns is what PUT takes back (with its ETag in If-Match), and a
    written document can be read and its history listed. Clients and stateful testers follow them."""
    paths = schema.get("paths", {})
    doc = paths.get("/v1/knowledge/{doc_id}", {})
    history = paths.get("/v1/knowledge/{doc_id}/history", {}).get("get", {})
    if not ("get" in doc and "put" in doc and history):
        return
    ids = {"get": doc["get"]["operationId"], "put": doc["put"]["operationId"], "history": history["operationId"]}
    same_id = {"doc_id": "$request.path.doc_id"}
    doc["get"]["responses"]["200"]["links"] = {
        "ReplaceIt": {
            "operationId": ids["put"],
            "parameters": {**same_id, "header.If-Match": "$response.header.ETag"},
            "requestBody": "$response.body",
            "description": "Send the document back, changed, with its ETag in If-Match.",
        },
        "ItsHistory": {"operationId": ids["history"], "parameters": same_id},
    }
    for status in ("200", "201"):
        if status in doc["put"]["responses"]:
            doc["put"]["responses"][status]["links"] = {
                "ReadIt": {"operationId": ids["get"], "parameters": same_id},
                "ItsHistory": {"operationId": ids["history"], "parameters": same_id},
            }
