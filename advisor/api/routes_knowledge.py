"""Search and the knowledge base: read it, and edit it safely with versions (ETag / If-Match).

Document ids in paths capture the rest of the path (``{doc_id:path}``) so that any attempt to
smuggle a separator ('../x', '%2F', an absolute path, NUL) reaches the slug check and gets a 400;
no route touches the file system with an id that has not passed it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.responses import JSONResponse
from starlette.status import HTTP_304_NOT_MODIFIED

from advisor.api import examples as ex
from advisor.api.deps import doc_id_param, etag_value, get_advisor, version_param
from advisor.api.errors import ApiError, etag
from advisor.api.schemas import DocSummary, DocumentIn, DocumentOut, ErrorOut, HistoryItem, HistoryOut, KnowledgeList, errors, ok
from advisor.api.security import AuthFirstRoute, require_read, require_write
from knowledge.document import Document, DocumentInvalid, parse_document
from knowledge.schema import Kind
from knowledge.store import NotFound, SavedNotApplied, VersionConflict
from retrieval.hit import Hit

router = APIRouter(prefix="/v1", dependencies=[Depends(require_read)], route_class=AuthFirstRoute)

DocId = Annotated[str, Depends(doc_id_param)]
KindFilter = Annotated[Kind | None, Query(description="Only documents of this kind.", examples=["skill"])]
RoleFilter = Annotated[str | None, Query(description="Only documents about this role id.", examples=["ml_engineer"])]
IfMatch = Annotated[
    str | None,
    Header(description="The version you edited (the ETag from GET). Required to replace or delete an existing document.", examples=['"a0385cdaad1c4fb6"']),
]
IfNoneMatch = Annotated[str | None, Header(description="'*' to create only: refused with 412 if the document exists.", examples=["*"])]


# -- shaping -----------------------------------------------------------------------------------
def front_matter(doc: Document) -> dict:
    return doc.meta.model_dump(mode="json", exclude_none=True)


def summary(doc: Document) -> DocSummary:
    return DocSummary(id=doc.id, kind=doc.kind, title=doc.title, path=doc.path, version=doc.version, front_matter=front_matter(doc))


def document_out(doc: Document, response: Response, warning: str | None = None) -> DocumentOut:
    response.headers["ETag"] = etag(doc.version)
    return DocumentOut(id=doc.id, front_matter=front_matter(doc), body=doc.body, version=doc.version, warning=warning)


def _saved_not_indexed(exc: SavedNotApplied, response: Response) -> DocumentOut:
    """202: the edit is on disk and in the history, the search index has not caught up yet."""
    response.status_code = 202
    response.headers["Retry-After"] = "5"
    warning = f"saved as version {exc.doc.version}, but not searchable yet ({exc.cause}); it is indexed in the background when the search index answers again"
    return document_out(exc.doc, response, warning)


_ACCEPTED = {202: {"description": "Saved, not searchable yet (the search index is unavailable); `warning` says so, ETag is the new version", "model": DocumentOut}}


def _check_role(adv, role: str | None) -> None:
    if role is not None and role not in adv.kb.roles:
        raise ApiError(400, f"unknown role '{role}'; use one of: {', '.join(sorted(adv.kb.roles))}")


# -- search and catalogue -----------------------------------------------------------------------
@router.get(
    "/search",
    response_model=list[Hit],
    tags=["knowledge"],
    summary="Hybrid (semantic + keyword) search over the knowledge base",
    responses={**ok([ex.HIT]), **errors(400, 401, 403, 503)},
)
def search(
    q: Annotated[str, Query(min_length=1, max_length=2000, json_schema_extra={"pattern": r"\S"}, description="What to look for (not only spaces).", examples=["serve a model behind an API"])],
    k: Annotated[int | None, Query(ge=1, le=50, description="How many passages (default: RESKILL_TOP_K).", examples=[5])] = None,
    kind: KindFilter = None,
    role: RoleFilter = None,
    adv=Depends(get_advisor),
):
    return adv.search(q, k=k or adv.settings.top_k, kind=kind, role=role)


def _catalogue(adv, kind: str) -> list[DocSummary]:
    return [summary(d) for d in sorted(adv.kb.of_kind(kind), key=lambda d: d.id)]


def _one_of_kind(adv, kind: str, doc_id: str, response: Response) -> DocumentOut:
    doc = adv.kb.docs.get(doc_id)
    if doc is None or doc.kind != kind:
        raise ApiError(404, f"no {kind} with id '{doc_id}'; GET /v1/{kind}s lists them")
    return document_out(doc, response)


@router.get("/roles", response_model=list[DocSummary], tags=["knowledge"], summary="Every role", responses={**ok([ex.SUMMARY]), **errors(401, 403, 503)})
def roles(adv=Depends(get_advisor)):
    return _catalogue(adv, "role")


@router.get("/roles/{doc_id:path}", response_model=DocumentOut, tags=["knowledge"], summary="One role: front matter and body", responses={**ok(ex.DOCUMENT), **errors(400, 401, 403, 404, 503)})
def role(doc_id: DocId, response: Response, adv=Depends(get_advisor)):
    return _one_of_kind(adv, "role", doc_id, response)


@router.get("/skills", response_model=list[DocSummary], tags=["knowledge"], summary="Every skill", responses={**ok([ex.SUMMARY]), **errors(401, 403, 503)})
def skills(adv=Depends(get_advisor)):
    return _catalogue(adv, "skill")


@router.get("/skills/{doc_id:path}", response_model=DocumentOut, tags=["knowledge"], summary="One skill: front matter and body", responses={**ok(ex.DOCUMENT), **errors(400, 401, 403, 404, 503)})
def skill(doc_id: DocId, response: Response, adv=Depends(get_advisor)):
    return _one_of_kind(adv, "skill", doc_id, response)


# -- the knowledge base ------------------------------------------------------------------------
@router.get(
    "/knowledge",
    response_model=KnowledgeList,
    tags=["knowledge base"],
    summary="List the documents (and the invalid ones, with their errors)",
    responses={**ok({"documents": [ex.SUMMARY], "errors": []}), **errors(400, 401, 403, 503)},
)
def list_documents(kind: KindFilter = None, role: RoleFilter = None, adv=Depends(get_advisor)):
    _check_role(adv, role)
    kb = adv.kb
    docs = [d for d in kb.docs.values() if (kind is None or d.kind == kind) and (role is None or role in d.meta.roles or d.id == role)]
    return KnowledgeList(documents=[summary(d) for d in sorted(docs, key=lambda d: d.id)], errors=[e.as_dict() for e in kb.errors])


# The history routes come before the catch-all document routes, which would otherwise take them.
@router.get(
    "/knowledge/{doc_id:path}/history",
    response_model=HistoryOut,
    tags=["knowledge base"],
    summary="Every accepted version of a document, oldest first",
    responses={**ok(ex.HISTORY), **errors(400, 401, 403, 404, 503)},
)
def history(doc_id: DocId, adv=Depends(get_advisor)):
    entries = adv.store.history(doc_id)
    current = adv.store.version_of(doc_id)
    if not entries and current is None:
        raise NotFound(doc_id)
    versions = [HistoryItem(version=e.version, saved_at=e.saved_at, deleted=e.deleted, current=not e.deleted and e.version == current) for e in entries]
    return HistoryOut(id=doc_id, current_version=current, versions=versions)


@router.get(
    "/knowledge/{doc_id:path}/history/{version}",
    response_model=DocumentOut,
    tags=["knowledge base"],
    summary="One earlier version of a document",
    responses={**ok(ex.DOCUMENT), **errors(400, 401, 403, 404, 409, 503)},
)
def old_version(
    doc_id: DocId,
    version: Annotated[str, Depends(version_param)],
    response: Response,
    adv=Depends(get_advisor),
):
    text = adv.store.history_text(doc_id, version)
    return document_out(_parsed(text, f"history/{doc_id}/{version}", doc_id), response)


@router.post(
    "/knowledge/{doc_id:path}/restore/{version}",
    response_model=DocumentOut,
    tags=["knowledge base"],
    summary="Make an earlier version current again (a new, validated write)",
    description="Like PUT: `If-Match` with the current version is required while the document exists; `If-None-Match: *` (or nothing) restores a deleted one.",
    dependencies=[Depends(require_write)],
    responses={**ok(ex.DOCUMENT), **_ACCEPTED, **errors(400, 401, 403, 404, 412, 422, 428, 503)},
)
def restore(
    doc_id: DocId,
    version: Annotated[str, Depends(version_param)],
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
    adv=Depends(get_advisor),
):
    expected = _preconditions(if_match, if_none_match)
    if if_match is None and if_none_match is None and adv.store.version_of(doc_id) is not None:
        raise _precondition_required(doc_id, "restore")
    # The store compares `expected` with the current version under its lock.
    try:
        return document_out(adv.store.restore(doc_id, version, expected), response)
    except SavedNotApplied as exc:
        return _saved_not_indexed(exc, response)


@router.get(
    "/knowledge/{doc_id:path}",
    response_model=DocumentOut,
    tags=["knowledge base"],
    summary="One document, with its version as ETag",
    description="Send `If-None-Match` with a version to get 304 when it has not changed.",
    responses={**ok(ex.DOCUMENT), 304: {"description": "Not modified"}, **errors(400, 401, 403, 404, 409, 503)},
)
def get_document(
    doc_id: DocId,
    response: Response,
    if_none_match: Annotated[str | None, Header(description="A version you hold; 304 if it is still current.", examples=['"a0385cdaad1c4fb6"'])] = None,
    adv=Depends(get_advisor),
):
    try:
        doc = adv.store.get(doc_id)
    except DocumentInvalid as exc:
        current = adv.store.version_of(doc_id)
        raise ApiError(
            409,
            f"'{doc_id}' exists on disk but is not valid; replace it with PUT and If-Match: \"{current}\"",
            [e.as_dict() for e in exc.errors],
            headers={"ETag": etag(current)} if current else None,
            current_version=current,
        ) from None
    if if_none_match is not None and if_none_match.strip() != "*":
        for part in if_none_match.split(","):
            etag_value(part, "If-None-Match")  # 400 unless each is a version
    if if_none_match and (if_none_match.strip() == "*" or _matches(if_none_match, doc.version)):
        return Response(status_code=HTTP_304_NOT_MODIFIED, headers={"ETag": etag(doc.version)})
    return document_out(doc, response)


@router.put(
    "/knowledge/{doc_id:path}",
    response_model=DocumentOut,
    tags=["knowledge base"],
    summary="Create or replace a document",
    description=(
        "Send the shape GET returns, changed. To replace, `If-Match` must carry the version you edited: without it "
        "the answer is 428, with a stale one 412 and nothing changes. To create, send no If-Match (or `If-None-Match: *`). "
        "The document is validated (422 lists every problem with its field), written atomically, kept in the history "
        "and indexed before the answer returns. What the edit does not change keeps its bytes on disk: a body-only "
        "edit leaves the front matter as it was; `updated` changes only if you change it or send `set_updated=true`."
    ),
    dependencies=[Depends(require_write)],
    responses={
        **ok(ex.DOCUMENT),
        201: {"description": "Created", "content": {"application/json": {"example": ex.DOCUMENT}}},
        **_ACCEPTED,
        **errors(400, 401, 403, 412, 413, 422, 428, 503),
    },
)
def put_document(
    doc_id: DocId,
    doc: DocumentIn,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
    set_updated: Annotated[
        bool, Query(description="Set `updated` to today's date. Off by default: a typo fix is not a new revision of the facts.")
    ] = False,
    adv=Depends(get_advisor),
):
    if doc.id is not None and doc.id != doc_id:
        raise ApiError(422, f"the body's id '{doc.id}' does not match '{doc_id}' in the URL", [{"path": "body", "field": "id", "message": f"must be '{doc_id}'"}])
    expected = _preconditions(if_match, if_none_match)
    unconditional = if_match is None and if_none_match is None
    if unconditional and adv.store.version_of(doc_id) is not None:
        raise _precondition_required(doc_id, "replace")
    try:
        written = adv.store.put(doc_id, doc.front_matter, doc.body, expected, set_updated=set_updated)
    except SavedNotApplied as exc:
        if expected is None:
            response.headers["Location"] = f"/v1/knowledge/{doc_id}"
        return _saved_not_indexed(exc, response)
    except VersionConflict:
        if unconditional:  # created by someone else a moment ago
            raise _precondition_required(doc_id, "replace") from None
        raise
    response.status_code = 201 if expected is None else 200
    if expected is None:
        response.headers["Location"] = f"/v1/knowledge/{doc_id}"
    return document_out(written, response)


@router.delete(
    "/knowledge/{doc_id:path}",
    status_code=204,
    tags=["knowledge base"],
    summary="Delete a document (kept in the history; restore brings it back)",
    dependencies=[Depends(require_write)],
    responses={
        204: {"description": "Deleted"},
        202: {"description": "Deleted, but still in search until the search index answers again (done in the background)", "model": ErrorOut},
        **errors(400, 401, 403, 404, 409, 412, 428, 503),
    },
)
def delete_document(doc_id: DocId, if_match: IfMatch = None, adv=Depends(get_advisor)):
    expected = etag_value(if_match)
    if expected is None:
        if adv.store.version_of(doc_id) is None:
            raise NotFound(doc_id)
        raise _precondition_required(doc_id, "delete")
    try:
        adv.store.delete(doc_id, expected)
    except SavedNotApplied as exc:
        detail = f"deleted, but still in search results until the search index answers again ({exc.cause}); done in the background"
        return JSONResponse({"detail": detail, "errors": []}, status_code=202, headers={"Retry-After": "5"})
    except DocumentInvalid as exc:
        problems = [e.as_dict() for e in exc.errors]
        raise ApiError(409, f"cannot delete '{doc_id}': " + "; ".join(p["message"] for p in problems), problems) from None
    return Response(status_code=204)


# -- helpers -----------------------------------------------------------------------------------
def _preconditions(if_match: str | None, if_none_match: str | None) -> str | None:
    """The version a write expects (None: the document must not exist)."""
    if if_none_match is not None and if_none_match.strip() != "*":
        raise ApiError(400, "If-None-Match on a write must be '*' (create only)")
    expected = etag_value(if_match)  # 400 unless it is one version
    if if_match is not None and if_none_match is not None:
        # If-Match asks for the document to exist, If-None-Match: * for it not to: one fails.
        raise ApiError(412, "send either If-Match (replace) or If-None-Match: * (create), not both: together they cannot both hold")
    return expected


def _precondition_required(doc_id: str, action: str) -> ApiError:
    return ApiError(428, f"'{doc_id}' exists: to {action} it, send the version you edited in If-Match (the ETag from GET /v1/knowledge/{doc_id})")


def _matches(header: str, version: str) -> bool:
    tags = [t.strip().removeprefix("W/").strip('"') for t in header.split(",")]
    return version in tags


def _parsed(text: str, path: str, doc_id: str) -> Document:
    try:
        return parse_document(text, path, doc_id)
    except DocumentInvalid as exc:
        raise ApiError(409, f"that version of '{doc_id}' is not a valid document", [e.as_dict() for e in exc.errors]) from None

