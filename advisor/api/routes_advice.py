"""Chat and advice: POST /v1/chat, /v1/recommend, /v1/compare, /v1/profile."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from advisor.api import examples as ex
from advisor.api.deps import get_advisor
from advisor.api.errors import ApiError, clean_message, field_error
from advisor.api.schemas import AnswerOut, ChatRequest, CompareRequest, ComparisonOut, ProfileTextRequest, RecommendationOut, RecommendRequest, answer_out, comparison_out, errors, ok, recommendation_out
from advisor.api.security import AuthFirstRoute, require_read
from advisor.api.sse import event, guarded, primed, sse_response
from advisor.models import Message, Profile
from advisor.profile import MAX_RESUME_BYTES, ResumeTooLarge, read_resume

router = APIRouter(prefix="/v1", tags=["advice"], dependencies=[Depends(require_read)], route_class=AuthFirstRoute)

UPLOAD_PATHS = {"/v1/profile": MAX_RESUME_BYTES}

_SSE_EXAMPLE = (
    'event: delta\ndata: {"text": "**Machine Learning Engineer**\\n"}\n\n'
    'event: delta\ndata: {"text": "An ML engineer puts models into production ... [1]"}\n\n'
    'event: answer\ndata: {"text": "...", "citations": [...], "intent": "role_info", ...}\n\n'
)


def check_profile_roles(adv, profile: Profile | None, field: str) -> None:
    """A profile sent in a request may only name roles of the knowledge base (422 otherwise)."""
    if profile is None:
        return
    known = adv.kb.roles
    problems = []
    if profile.current_role is not None and profile.current_role not in known:
        problems.append(field_error("body", f"{field}.current_role", f"unknown role id {profile.current_role!r}; use one of: {', '.join(sorted(known))}"))
    for i, r in enumerate(profile.target_roles):
        if r not in known:
            problems.append(field_error("body", f"{field}.target_roles.{i}", f"unknown role id {r!r}; use one of: {', '.join(sorted(known))}"))
    if problems:
        raise ApiError(422, f"{problems[0]['field']}: {problems[0]['message']}", problems)


def split_messages(messages: list[Message]) -> tuple[str, list[dict]]:
    """The last message is the question; the ones before it are the history."""
    *history, last = messages
    if last.role != "user":
        raise ApiError(
            422,
            f"the last message must be the user's question (role 'user'), not '{last.role}'",
            [field_error("body", f"messages.{len(messages) - 1}.role", "must be 'user'")],
        )
    return last.content, [m.model_dump() for m in history]


def chat_events(pieces: Iterator, kb) -> Iterator[str]:
    for piece in pieces:
        if isinstance(piece, str):
            yield event({"text": piece}, "delta")
        else:
            yield event(answer_out(piece, kb).model_dump(mode="json"), "answer")


@router.post(
    "/chat",
    response_model=AnswerOut,
    summary="Ask a question; get a grounded, cited answer",
    description=(
        "The last message is the question, earlier ones the history. With `stream: true` the answer comes as "
        "server-sent events: `delta` events carry text pieces, then one `answer` event carries the full Answer, "
        "which is authoritative (a language model's draft may be corrected there). A failure mid-stream "
        "ends with an `error` event `{detail}`. Each citation links its document (`document_url`, an API path) "
        "and the document's external `sources`."
    ),
    responses={
        200: {"content": {"application/json": {"example": ex.ANSWER}, "text/event-stream": {"example": _SSE_EXAMPLE}}},
        **errors(401, 403, 413, 422, 503),
    },
)
async def chat(req: ChatRequest, adv=Depends(get_advisor)):
    check_profile_roles(adv, req.profile, "profile")
    question, history = split_messages(req.messages)
    if req.stream:
        pieces = await primed(adv.stream(question, history, req.profile))
        return sse_response(guarded(chat_events(pieces, adv.kb), lambda exc: event({"detail": f"the answer failed ({type(exc).__name__})"}, "error")))
    return answer_out(await run_in_threadpool(adv.ask, question, history, req.profile), adv.kb)


@router.post(
    "/recommend",
    response_model=RecommendationOut,
    summary="Rank the roles for a person and plan the way to one",
    description="Each plan stage's `resources` carry their `title`, `document_url` (an API path) and external `sources`, as chat citations do.",
    responses={**ok(ex.RECOMMENDATION), **errors(401, 403, 413, 422, 503)},
)
def recommend(req: RecommendRequest, adv=Depends(get_advisor)):
    check_profile_roles(adv, req.profile, "profile")
    return recommendation_out(adv.recommend(req.source, targets=req.targets, hours=req.hours, seniority=req.seniority), adv.kb)


@router.post(
    "/compare",
    response_model=ComparisonOut,
    summary="Compare target paths side by side, with the market view",
    description="Each path's `outlook` passages link their document (`document_url`) and its external `sources`, as chat citations do.",
    responses={**ok(ex.COMPARISON), **errors(401, 403, 413, 422, 503)},
)
def compare(req: CompareRequest, adv=Depends(get_advisor)):
    check_profile_roles(adv, req.profile, "profile")
    return comparison_out(adv.compare(req.source, roles=req.roles), adv.kb)


PROFILE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ProfileTextRequest"},
                "example": {"text": "I use Python daily and SQL at a working level; some Docker."},
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": f"A resume: .txt, .md, .pdf or .docx, at most {MAX_RESUME_BYTES // 1_000_000} MB."}
                    },
                },
                "encoding": {"file": {"contentType": "text/plain, text/markdown, application/pdf, application/vnd.openxmlformats-officedocument.wordprocessingml.document"}},
            },
        },
    }
}


@router.post(
    "/profile",
    response_model=Profile,
    summary="Read a profile from text or an uploaded resume",
    description="Send JSON `{text, base?}`, or a multipart form with the resume in the field `file` (.txt, .md, .pdf, .docx).",
    openapi_extra=PROFILE_BODY,
    responses={**ok(ex.PROFILE), **errors(401, 403, 413, 415, 422, 503)},
)
async def profile(request: Request, adv=Depends(get_advisor)):
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        text, base = await _uploaded_text(request), None
    elif not content_type or "json" in content_type:
        req = await _json_body(request, ProfileTextRequest)
        check_profile_roles(adv, req.base, "base")
        text, base = req.text, req.base
    else:
        raise ApiError(415, f"send application/json {{text}} or multipart/form-data with a 'file' field, not '{content_type}'")
    return await run_in_threadpool(adv.profile, text, base)


async def _json_body(request: Request, model):
    raw = await request.body()
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            message = "not valid JSON" if err["type"] == "json_invalid" else clean_message(err["msg"])
            problems.append(field_error("body", loc, message))
        raise ApiError(422, "; ".join(f"{p['field'] or 'body'}: {p['message']}" for p in problems[:3]), problems) from None


async def _uploaded_text(request: Request) -> str:
    try:
        form = await request.form(max_files=1, max_fields=8)
    except (StarletteHTTPException, ValueError) as exc:  # malformed multipart
        detail = getattr(exc, "detail", None) or str(exc)
        raise ApiError(422, f"the multipart body could not be read: {detail}") from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiError(422, "send the resume as a file in the form field 'file'", [field_error("body", "file", "Field required")])
        data = await upload.read(MAX_RESUME_BYTES + 1)
        if len(data) > MAX_RESUME_BYTES:
            raise ApiError(413, f"the resume is larger than {MAX_RESUME_BYTES // 1_000_000} MB")
        try:
            return await run_in_threadpool(read_resume, upload.filename or "resume", data)
        except ResumeTooLarge as exc:  # a decompression bomb, or simply far more than a resume
            raise ApiError(413, str(exc)) from None
    finally:
        await form.close()
