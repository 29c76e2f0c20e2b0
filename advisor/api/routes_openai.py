"""OpenAI-compatible faces: /v1/chat/completions, /v1/embeddings and /v1/models.

Any OpenAI client (``openai.OpenAI(base_url=".../v1")``) can talk to Reskill. The answer is the
grounded one; its citations are listed at the end of the text, each with the link to its
document and to the document's first source, and, as an extension, in ``citations`` with the
same links as ``/v1/chat`` gives (``document_url``, ``sources``). Errors use OpenAI's ``{"error": {...}}`` shape so clients raise their usual exceptions.
"""

from __future__ import annotations

import base64
import struct
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from advisor.api import examples as ex
from advisor.api.deps import get_advisor
from advisor.api.errors import ApiError, field_error
from advisor.api.schemas import (
    ChatCompletion,
    ChatCompletionChoice,
    ChatCompletionMessage,
    ChatCompletionRequest,
    EmbeddingItem,
    EmbeddingRequest,
    EmbeddingResponse,
    EmbeddingUsage,
    ModelCard,
    ModelList,
    OAIMessage,
    cite,
    ok,
    openai_errors,
)
from advisor.api.routes_advice import check_profile_roles
from advisor.api.security import AuthFirstRoute, require_read
from advisor.api.sse import event, guarded, primed, sse_response
from advisor.models import Answer

router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"], dependencies=[Depends(require_read)], route_class=AuthFirstRoute)

CHAT_MODEL = "reskill"

_STREAM_EXAMPLE = (
    'data: {"id": "chatcmpl-...", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}], ...}\n\n'
    'data: {"id": "chatcmpl-...", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "An ML engineer ..."}, "finish_reason": null}], ...}\n\n'
    'data: {"id": "chatcmpl-...", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "citations": [...], ...}\n\n'
    "data: [DONE]\n\n"
)


def embedding_model_name(adv) -> str:
    name = adv.settings.embedding_model
    return "all-MiniLM-L6-v2" if name == "packaged" else Path(name).name


# -- chat --------------------------------------------------------------------------------------
def _text(content, i: int) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = []
    for j, part in enumerate(content):
        if part.type != "text" or part.text is None:
            raise ApiError(
                422, f"messages.{i}.content.{j}: only text parts are supported, not '{part.type}'", [field_error("body", f"messages.{i}.content.{j}.type", "must be 'text'")]
            )
        parts.append(part.text)
    return "\n".join(parts)


def to_turn(messages: list[OAIMessage]) -> tuple[str, list[dict]]:
    """OpenAI messages as the Advisor's question and history ('developer' counts as 'system')."""
    turns = []
    for i, m in enumerate(messages):
        if m.role in ("tool", "function"):
            raise ApiError(422, f"messages.{i}: '{m.role}' messages are not supported (Reskill calls no tools)", [field_error("body", f"messages.{i}.role", "tools are not supported")])
        turns.append(("system" if m.role == "developer" else m.role, _text(m.content, i)))
    role, question = turns[-1]
    if role != "user":
        last = len(messages) - 1
        raise ApiError(422, f"the last message must be the user's question (role 'user'), not '{role}'", [field_error("body", f"messages.{last}.role", "must be 'user'")])
    return question, [{"role": r, "content": t} for r, t in turns[:-1] if t.strip()]


def tail(answer: Answer, kb, base_url: str = "") -> str:
    """Notes and numbered sources, appended to the answer text: each source with the link to its
    document on this server and to the document's own first source, as a client shows no more
    than the text."""
    out = ""
    if answer.notes:
        out += "\n\n" + "\n".join(f"_Note: {n}_" for n in answer.notes)
    if answer.citations:
        lines = []
        for i, h in enumerate(answer.citations, 1):
            c = cite(h, kb)
            line = f"[{i}] {h.title} — {h.section} · document: {base_url.rstrip('/')}{c.document_url}"
            if c.sources:
                line += f" · source: {c.sources[0].url}"
            lines.append(line)
        out += "\n\nSources:\n" + "\n".join(lines)
    return out


def completion_chunks(pieces: Iterator, cid: str, created: int, kb, base_url: str = "") -> Iterator[str]:
    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return event({"id": cid, "object": "chat.completion.chunk", "created": created, "model": CHAT_MODEL, "choices": [choice], **extra})

    yield chunk({"role": "assistant", "content": ""})
    streamed, answer = [], None
    for piece in pieces:
        if isinstance(piece, str):
            streamed.append(piece)
            yield chunk({"content": piece})
        else:
            answer = piece
    sent = "".join(streamed)
    if not sent.strip():
        yield chunk({"content": answer.text})
    elif sent.strip() != answer.text.strip():
        # The engine replaced its draft (unsupported citations, or a fallback); a stream cannot take text back.
        yield chunk({"content": "\n\n---\nCorrected answer:\n\n" + answer.text})
    yield chunk({"content": tail(answer, kb, base_url)})
    yield chunk({}, "stop", citations=[cite(h, kb).model_dump(mode="json") for h in answer.citations])
    yield "data: [DONE]\n\n"


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    summary="OpenAI-compatible chat completion (grounded, cited)",
    description="Messages in, the grounded answer out. With `stream: true`: `chat.completion.chunk` events ending with `data: [DONE]`.",
    responses={
        200: {"content": {"application/json": {"example": ex.CHAT_COMPLETION}, "text/event-stream": {"example": _STREAM_EXAMPLE}}},
        **openai_errors(401, 403, 413, 422, 503),
    },
)
async def chat_completions(req: ChatCompletionRequest, request: Request, adv=Depends(get_advisor)):
    check_profile_roles(adv, req.profile, "profile")
    question, history = to_turn(req.messages)
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    base_url, kb = str(request.base_url), adv.kb
    if req.stream:
        pieces = await primed(adv.stream(question, history, req.profile))
        failed = lambda exc: event({"error": {"message": f"the answer failed ({type(exc).__name__})", "type": "server_error", "param": None, "code": "500"}})  # noqa: E731
        return sse_response(guarded(completion_chunks(pieces, cid, created, kb, base_url), failed))
    answer = await run_in_threadpool(adv.ask, question, history, req.profile)
    return ChatCompletion(
        id=cid,
        created=created,
        model=CHAT_MODEL,
        choices=[ChatCompletionChoice(message=ChatCompletionMessage(content=answer.text.rstrip() + tail(answer, kb, base_url)))],
        citations=[cite(h, kb) for h in answer.citations],
    )


# -- embeddings --------------------------------------------------------------------------------
def _encoded(vector: list[float], encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
    return vector


@router.post(
    "/embeddings",
    response_model=EmbeddingResponse,
    summary="OpenAI-compatible embeddings from Reskill's own embedding model",
    responses={**ok(ex.EMBEDDINGS), **openai_errors(401, 403, 413, 422, 503)},
)
def embeddings(req: EmbeddingRequest, adv=Depends(get_advisor)):
    texts = [req.input] if isinstance(req.input, str) else req.input
    empty = [i for i, t in enumerate(texts) if not t.strip()]
    if empty:
        raise ApiError(422, f"input {empty[0]} is empty; every input must contain text", [field_error("body", f"input.{i}", "is empty") for i in empty])
    vectors = adv.embedder.embed_documents(texts)
    if req.dimensions is not None and req.dimensions != len(vectors[0]):
        raise ApiError(422, f"this model returns {len(vectors[0])} dimensions; dimensions={req.dimensions} is not supported", [field_error("body", "dimensions", f"must be {len(vectors[0])}")])
    words = sum(len(t.split()) for t in texts)
    return EmbeddingResponse(
        data=[EmbeddingItem(index=i, embedding=_encoded(v, req.encoding_format)) for i, v in enumerate(vectors)],
        model=embedding_model_name(adv),
        usage=EmbeddingUsage(prompt_tokens=words, total_tokens=words),
    )


@router.get("/models", response_model=ModelList, summary="The models this server answers with", responses={**ok({"object": "list", "data": [{"id": "reskill", "object": "model", "created": 0, "owned_by": "reskill"}]}), **openai_errors(401, 403, 503)})
def models(adv=Depends(get_advisor)):
    return ModelList(data=[ModelCard(id=CHAT_MODEL), ModelCard(id=embedding_model_name(adv))])
