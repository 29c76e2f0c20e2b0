"""Request and response shapes of the HTTP API, with the examples /docs shows.

Domain answers (``Answer``, ``Recommendation``, ``Profile``, ``Hit``) are returned as they are
in ``advisor.models``; this module only adds what HTTP needs around them, such as the links of
cited documents and plan resources (built in ``knowledge.links``, as the CLI's JSON is).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from advisor.api import examples as ex
from advisor.models import Answer, Comparison, Message, PathOutlook, Plan, PlanStage, Profile, Recommendation
from knowledge.links import linked_recommendation, links
from knowledge.schema import Seniority
from retrieval.hit import Hit

# -- errors ------------------------------------------------------------------------------------
class FieldError(BaseModel):
    path: str = Field(description="Where: a knowledge file path, or body/query/path/header for a request.")
    field: str = Field(description="The field, dotted (e.g. 'messages.0.content' or 'requirements.1.skill').")
    message: str


class ErrorOut(BaseModel):
    detail: str = Field(description="One line saying what was wrong.")
    errors: list[FieldError] = []


class ConflictOut(ErrorOut):
    current_version: str | None = Field(None, description="The document's current version; null when it was deleted.")


def ok(example: Any, status: int = 200) -> dict:
    return {status: {"content": {"application/json": {"example": example}}}}


_ERRORS = {
    400: ("A query or path parameter is wrong (including an invalid document id)", ex.ERROR),
    401: ("Missing or wrong API key", {"detail": "this route needs an API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'", "errors": []}),
    403: ("Writes are disabled", {"detail": "writes are disabled on this server: set RESKILL_API_KEYS to a comma-separated list of keys", "errors": []}),
    404: ("Not found", {"detail": "no document with id 'dockr'", "errors": []}),
    409: ("Conflicts with other documents", {"detail": "cannot delete 'python': still referenced by docker", "errors": []}),
    412: ("The version in If-Match is not the current one; nothing was changed", ex.CONFLICT),
    413: ("Too large", {"detail": "the request body is larger than 1000000 bytes (RESKILL_MAX_BODY_BYTES)", "errors": []}),
    415: ("Unsupported media type", {"detail": "send application/json or multipart/form-data", "errors": []}),
    422: ("The request body is not valid; each problem names its field", ex.INVALID_DOCUMENT),
    428: ("If-Match is required", {"detail": "'docker' exists: send the version you edited in If-Match (its ETag)", "errors": []}),
    503: ("Not ready", {"detail": "the advisor is still loading", "errors": []}),
}


def errors(*statuses: int) -> dict:
    """Documented error answers, each with its schema and an example."""
    out = {}
    for s in statuses:
        text, example = _ERRORS[s]
        out[s] = {"description": text, "model": ConflictOut if s == 412 else ErrorOut, "content": {"application/json": {"example": example}}}
    return out


class OAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OAIError(BaseModel):
    """OpenAI's error shape, used by the OpenAI-compatible routes."""

    error: OAIErrorDetail


def openai_errors(*statuses: int) -> dict:
    out = {}
    for s in statuses:
        text, example = _ERRORS[s]
        body = {"error": {"message": example["detail"], "type": "invalid_request_error", "param": None, "code": str(s)}}
        out[s] = {"description": text, "model": OAIError, "content": {"application/json": {"example": body}}}
    return out


# -- advice ------------------------------------------------------------------------------------
def strict_profile(value):
    """A profile's true/false fields take JSON true or false only (pydantic would read 0 as false),
    so what the OpenAPI document calls invalid is refused."""
    if isinstance(value, dict):
        try:
            Profile.model_validate(value)
        except ValidationError:
            return value  # invalid anyway: the field's own validation reports it, with its path
        try:
            Profile.model_validate(value, strict=True)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ValueError(f"{where}: {first['msg']}") from None
    return value


class ChatRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"messages": [{"role": "user", "content": "What does an ML engineer do?"}]},
                {
                    "messages": [
                        {"role": "user", "content": "I know Python well, SQL at a working level and some Docker."},
                        {"role": "assistant", "content": "Noted: Python 3, SQL 2, Docker 2."},
                        {"role": "user", "content": "Which path fits me better, BI or ML engineering?"},
                    ],
                    "stream": True,
                },
            ]
        },
    )

    messages: Annotated[list[Message], Field(min_length=1)] = Field(
        description="The conversation, oldest first. The last message is the question (role 'user'); earlier ones are the history."
    )
    profile: Profile | None = Field(None, description="The user's profile; when absent it is rebuilt from what the user said.")
    _strict_profile = field_validator("profile", mode="before")(strict_profile)
    stream: bool = Field(False, strict=True, description="Answer as server-sent events: 'delta' events with text, then one 'answer' event.")


class SourceLinkOut(BaseModel):
    label: str = Field(description="What the source is, as the document's front matter names it.")
    url: str = Field(pattern=r"^https?://", description="Its web address.")


class Citation(Hit):
    """A cited passage with the links a client needs to show its document and the document's sources."""

    document_url: str = Field(
        pattern=r"^/v1/knowledge/", description="API path of the cited document (GET it for the front matter and the whole body)."
    )
    sources: list[SourceLinkOut] = Field(
        description="The document's external sources that have a web address (a resource's own page first); "
        "sources without one, such as a book title, are left out."
    )


class ResourceOut(BaseModel):
    """A resource a plan stage recommends, linked as citations are."""

    id: str = Field(description="The resource's document id.")
    title: str = Field(description="Its title, as a person reads it.")
    document_url: str = Field(pattern=r"^/v1/knowledge/", description="API path of the resource's document.")
    sources: list[SourceLinkOut] = Field(description="The resource's own page first, then its other sources with a web address.")


class PlanStageOut(PlanStage):
    resources: list[ResourceOut]  # type: ignore[assignment]


class PlanOut(Plan):
    stages: list[PlanStageOut]  # type: ignore[assignment]


class RecommendationOut(Recommendation):
    """A :class:`~advisor.models.Recommendation` whose plan stages' resources carry their titles and links."""

    model_config = ConfigDict(json_schema_extra={"examples": [ex.RECOMMENDATION]})

    plan: PlanOut | None


def recommendation_out(rec: Recommendation, kb) -> RecommendationOut:
    return RecommendationOut.model_validate(linked_recommendation(rec.model_dump(), kb))


class AnswerOut(Answer):
    """An :class:`~advisor.models.Answer` whose citations carry their links (and whose recommendation's
    plan resources do too)."""

    model_config = ConfigDict(json_schema_extra={"examples": [ex.ANSWER]})

    citations: list[Citation]
    recommendation: RecommendationOut | None = None


def cite(hit: Hit, kb) -> Citation:
    return Citation(**hit.model_dump(), **links(kb, hit.doc_id))


def answer_out(answer: Answer, kb) -> AnswerOut:
    rec = recommendation_out(answer.recommendation, kb) if answer.recommendation is not None else None
    return AnswerOut(**{**dict(answer), "citations": [cite(h, kb) for h in answer.citations], "recommendation": rec})


class PathOutlookOut(PathOutlook):
    """A :class:`~advisor.models.PathOutlook` whose outlook passages carry their links, as chat citations do."""

    outlook: list[Citation]


class ComparisonOut(Comparison):
    """A :class:`~advisor.models.Comparison` whose cited outlook passages link their documents and sources."""

    model_config = ConfigDict(json_schema_extra={"examples": [ex.COMPARISON]})

    paths: list[PathOutlookOut]


def comparison_out(comp: Comparison, kb) -> ComparisonOut:
    paths = [PathOutlookOut(**{**dict(p), "outlook": [cite(h, kb) for h in p.outlook]}) for p in comp.paths]
    return ComparisonOut(**{**dict(comp), "paths": paths})


class _ProfileSource(BaseModel):
    text: str | None = Field(None, description="Free text about the person (a resume or a few sentences).")
    profile: Profile | None = Field(None, description="A structured profile instead of text.")
    _strict_profile = field_validator("profile", mode="before")(strict_profile)

    @model_validator(mode="after")
    def _one_source(self):
        if (self.text is None) == (self.profile is None):
            raise ValueError("send exactly one of 'text' or 'profile'")
        return self

    @property
    def source(self) -> str | Profile:
        return self.text if self.text is not None else self.profile


class RecommendRequest(_ProfileSource):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "I use Python daily and SQL at a working level; some Docker.", "targets": ["ml_engineer"], "hours": 8},
                {"profile": {"skills": [{"skill_id": "sql", "level": 3}, {"skill_id": "python", "level": 3}]}, "seniority": "junior"},
            ]
        },
    )

    targets: list[str] | None = Field(None, description="Role ids to rank and plan for; the plan is for the first one.")
    hours: Annotated[float, Field(gt=0, le=80)] | None = Field(None, description="Study hours a week (overrides the profile).")
    seniority: Seniority | None = Field(None, description="Target seniority (overrides the profile).")


class CompareRequest(_ProfileSource):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "Five years of Python and statistics, SQL every day, a little Power BI."}]},
    )

    roles: list[str] | None = Field(None, description="Role ids to compare; by default BI analyst and ML engineer.")


class ProfileTextRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "I use Python daily and SQL at a working level; some Docker."}]},
    )

    text: str = Field(description="Free text: a pasted resume or a few sentences.")
    base: Profile | None = Field(None, description="An earlier profile to merge the new statements over.")
    _strict_base = field_validator("base", mode="before")(strict_profile)


# -- knowledge ---------------------------------------------------------------------------------
class DocumentOut(BaseModel):
    """One knowledge document, in the shape PUT accepts back."""

    model_config = ConfigDict(json_schema_extra={"examples": [ex.DOCUMENT]})

    id: str
    front_matter: dict[str, Any]
    body: str
    version: str = Field(description="Content hash of the file; send it back in If-Match to replace or delete.")
    warning: str | None = Field(
        None,
        exclude_if=lambda v: v is None,
        description="Set on a 202: the write is saved (this version, this ETag) but not searchable yet; it is indexed "
        "in the background as soon as the search index answers. A retry with this ETag is a no-op.",
    )


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ex.NEW_RESOURCE, ex.DOCUMENT]})

    id: str | None = Field(None, description="Optional; must equal the id in the URL.")
    front_matter: dict[str, Any] = Field(description="The YAML front matter as JSON; validated against the schema of its 'kind'.")
    body: str = Field(description="The Markdown body.")
    version: str | None = Field(None, description="Ignored (GET returns it); send the version you edited in If-Match.")
    warning: str | None = Field(None, description="Ignored (a 202 answer carries it).")


class DocSummary(BaseModel):
    id: str
    kind: str
    title: str
    path: str
    version: str
    front_matter: dict[str, Any]


class KnowledgeList(BaseModel):
    documents: list[DocSummary]
    errors: list[FieldError] = Field(description="Documents on disk that are invalid and left out, each with its field.")


class HistoryItem(BaseModel):
    version: str
    saved_at: dt.datetime
    deleted: bool
    current: bool


class HistoryOut(BaseModel):
    id: str
    current_version: str | None = Field(description="Null when the document is deleted.")
    versions: list[HistoryItem] = Field(description="Oldest first. The first version is kept when the document is first edited.")


# -- operations --------------------------------------------------------------------------------
class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    reason: str | None = None
    engine: str | None = None
    engine_note: str | None = None
    documents: dict[str, int] = {}
    invalid_documents: int = 0
    out_of_step: list[str] = []
    warming: list[str] = []
    """Caches still loading in the background after start-up; an answer that needs one waits for it."""


# -- OpenAI-compatible -------------------------------------------------------------------------
class OAIContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class OAIMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[OAIContentPart] | None = None
    name: str | None = None


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat completion request. Sampling options are accepted and ignored: answers are grounded in the knowledge base."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {"model": "reskill", "messages": [{"role": "user", "content": "What does an ML engineer do?"}]},
                {"model": "reskill", "messages": [{"role": "user", "content": "How do I learn Docker?"}], "stream": True},
            ]
        },
    )

    model: str = "reskill"
    messages: Annotated[list[OAIMessage], Field(min_length=1)]
    stream: bool = Field(False, strict=True)
    n: Annotated[int, Field(ge=1, le=1)] | None = Field(None, description="Only 1 is supported.")
    profile: Profile | None = Field(None, description="Reskill extension: the user's profile (else rebuilt from the messages).")
    _strict_profile = field_validator("profile", mode="before")(strict_profile)


class ChatCompletionMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatCompletionChoice(BaseModel):
    index: int = 0
    message: ChatCompletionMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ex.CHAT_COMPLETION]})

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatCompletionChoice]
    citations: list[Citation] = Field(description="Reskill extension: the passages the answer cites, numbered as in the text, with their links.")


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"examples": [{"input": "feature stores for ML engineers"}, {"input": ["SQL window functions", "Docker"], "model": "all-MiniLM-L6-v2"}]},
    )

    input: str | Annotated[list[str], Field(min_length=1, max_length=2048)]
    model: str | None = Field(None, description="Accepted for compatibility; the server's embedding model always answers.")
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, description="Must be the model's own dimension if given.")
    user: str | None = None

    @field_validator("input", mode="before")
    @classmethod
    def _no_tokens(cls, v):
        if isinstance(v, list) and v and all(isinstance(x, int) or isinstance(x, list) for x in v):
            raise ValueError("token arrays are not supported; send the text")
        return v


class EmbeddingItem(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str = Field(description="Floats, or base64 of little-endian float32 when encoding_format='base64'.")


class EmbeddingUsage(BaseModel):
    prompt_tokens: int = Field(description="Approximate: words in the input.")
    total_tokens: int


class EmbeddingResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ex.EMBEDDINGS]})

    object: Literal["list"] = "list"
    data: list[EmbeddingItem]
    model: str
    usage: EmbeddingUsage


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "reskill"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
