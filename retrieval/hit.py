from __future__ import annotations

from pydantic import BaseModel


class Hit(BaseModel):
    """One retrieved passage: a section (or part of one) of a knowledge document."""

    doc_id: str
    title: str
    kind: str
    roles: list[str]
    skills: list[str]
    section: str
    score: float
    snippet: str
