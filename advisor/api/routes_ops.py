"""Probes: /healthz (the process answers) and /readyz (the Advisor can answer correctly)."""

from __future__ import annotations

import logging
import threading

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from advisor.api.schemas import Health, Readiness, ok

router = APIRouter(tags=["operations"])
log = logging.getLogger("reskill.api")
_REPAIRING = threading.Lock()


def _repair_in_background(adv) -> None:
    """Bring the index back in step (e.g. after a crash mid-index or a collection deleted behind
    our back); /readyz stays not-ready until it is. One repair at a time."""
    if not _REPAIRING.acquire(blocking=False):
        return

    def work():
        try:
            problems = adv.repair()
            log.warning("index repaired from the Markdown: %s", "; ".join(problems[:5]) or "nothing to do")
        except Exception:
            log.exception("index repair failed")
        finally:
            _REPAIRING.release()

    threading.Thread(target=work, name="index-repair", daemon=True).start()

_READY = {"status": "ready", "reason": None, "engine": "grounded", "engine_note": None, "documents": {"role": 8, "skill": 78}, "invalid_documents": 0, "out_of_step": []}
_NOT_READY = {**_READY, "status": "not ready", "reason": "the search index is out of step with the Markdown for: docker; repairing from the Markdown now", "out_of_step": ["docker"]}


@router.get("/healthz", response_model=Health, summary="The process is up", responses=ok({"status": "ok"}))
def healthz():
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Ready when the model and index are loaded and the index matches the Markdown",
    responses={**ok(_READY), 503: {"description": "Not ready, with the reason", "model": Readiness, "content": {"application/json": {"example": _NOT_READY}}}},
)
def readyz(request: Request):
    adv = request.app.state.advisor
    if adv is None:
        why = getattr(request.app.state, "load_error", None)
        reason = f"the advisor could not load ({why}); retrying" if why else "the advisor is still loading"
        return _not_ready(Readiness(status="not ready", reason=reason))
    if request.app.state.freshness is not None:
        request.app.state.freshness.check()
    state = Readiness(
        status="ready",
        engine=adv.engine_name,
        engine_note=adv.engine_note,
        documents=adv.kb.counts(),
        invalid_documents=len(adv.kb.errors),
        warming=sorted(getattr(request.app.state, "warming", ())),
    )
    duplicates = [e for e in adv.kb.errors if e.field == "id" and e.message.startswith("duplicate id")]
    if duplicates:  # which file is the document? GET and search could each answer another one
        reason = "the knowledge base has a duplicate id: " + "; ".join(f"{e.path}: {e.message}" for e in duplicates[:5])
        return _not_ready(state.model_copy(update={"status": "not ready", "reason": reason}))
    try:
        behind = adv.out_of_step()
    except Exception as exc:  # the index cannot be read: not ready, and say why
        return _not_ready(state.model_copy(update={"status": "not ready", "reason": f"the search index cannot be read ({type(exc).__name__}: {exc})"}))
    if behind:
        _repair_in_background(adv)
        shown = ", ".join(behind[:10]) + (f" and {len(behind) - 10} more" if len(behind) > 10 else "")
        reason = f"the search index is out of step with the Markdown for: {shown}; repairing from the Markdown now"
        return _not_ready(state.model_copy(update={"status": "not ready", "reason": reason, "out_of_step": behind}))
    return state


def _not_ready(state: Readiness) -> JSONResponse:
    return JSONResponse(state.model_dump(mode="json"), status_code=503, headers={"Retry-After": "5"})
