"""How a title reads inside a sentence: one rule for every face (chat, plan page, Markdown)."""

from __future__ import annotations

import functools
import re

import yaml

from advisor.settings import REPO_ROOT

NAMES = REPO_ROOT / "knowledge" / "reading" / "names.yaml"


@functools.cache
def _names() -> frozenset[str]:
    data = yaml.safe_load(NAMES.read_text(encoding="utf-8")) or {}
    return frozenset(data.get("names", []))


def in_sentence(title: str) -> str:
    """A title as it reads mid-sentence: "Retrieval-augmented generation (RAG)" -> "retrieval-
    augmented generation (RAG)", "Deep learning" -> "deep learning"; names and acronyms keep their
    case ("SQL", "Power BI", "Docker and containers", "NumPy", "pandas")."""
    first = re.match(r"[^\s(/-]+", title)
    if first is None:
        return title
    word = first.group(0)
    if word in _names() or not word[:1].isupper() or any(c.isupper() for c in word[1:]):
        return title
    long_words = [w for w in title.split() if w.isalpha() and len(w) > 3]
    if len(long_words) > 1 and all(w[:1].isupper() for w in long_words):
        return title  # a title in Title Case is a name: "Business Intelligence Analyst"
    return title[:1].lower() + title[1:]
