"""Choosing the answer engine from settings: ``grounded`` or an LLM with the grounded fallback."""

from __future__ import annotations

from typing import TYPE_CHECKING

from advisor.chat.grounded import GroundedEngine
from advisor.settings import Settings
from knowledge.base import KnowledgeBase

if TYPE_CHECKING:
    from advisor.chat.llm_engine import LLMEngine


def make_engine(settings: Settings, kb: KnowledgeBase, model=None) -> tuple[GroundedEngine | LLMEngine, str | None]:
    """The engine, and a note when the configured LLM could not be used (the grounded one answers)."""
    grounded = GroundedEngine(kb)
    if settings.llm == "grounded" and model is None:
        return grounded, None
    # imported here: langchain_core's chat models cost ~0.4 s at start, and the grounded engine needs none
    from advisor.chat.llm_engine import LLMEngine
    from advisor.llm import LLMUnavailable, make_chat_model

    try:
        model = model or make_chat_model(settings.llm, settings.llm_timeout_s)
    except LLMUnavailable as exc:
        return grounded, f"{exc} Using the grounded engine."
    name = f"llm:{settings.llm}"
    return LLMEngine(model, name, grounded, settings.llm_timeout_s, settings.history_tokens), None
