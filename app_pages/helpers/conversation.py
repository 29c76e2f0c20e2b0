"""Chat-face helpers that are not Streamlit: starter questions and the history sent with a turn."""

from __future__ import annotations

from advisor.settings import Settings

STARTERS = (
    "I'm a data scientist: strong Python and pandas, some SQL, never used Docker. 6 hours a week. Which path suits me better?",
    "What does a BI analyst do day to day?",
    "What does an ML engineer do day to day?",
    "Which certifications help a BI analyst?",
    "How are LLMs changing data science work?",
)


def history_for(messages: list[dict], settings: Settings) -> list[dict]:
    """The ``[{role, content}]`` history for ``Advisor.ask``: answered turns only, the most
    recent ones that fit the configured limits, starting on a user message."""
    turns = [{"role": m["role"], "content": m["content"]} for m in messages if not m.get("error")]
    limit = {"user": settings.max_message_chars, "assistant": 4 * settings.max_message_chars}
    turns = [{**t, "content": t["content"][: limit.get(t["role"], settings.max_message_chars)]} for t in turns]
    turns = turns[-settings.max_messages :] if settings.max_messages else []
    while turns and turns[0]["role"] != "user":
        turns.pop(0)
    return turns
