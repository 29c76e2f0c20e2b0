"""The web addresses a knowledge document points to, for citations a person can follow.

Front matter ``sources`` are sentences such as ``"PostgreSQL documentation: https://www.postgresql.org/docs/"``;
a resource also has its own ``url``. Sources without a web address (a book, an O*NET label) are
left out: they are reference text, not links.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_URL = re.compile(r"https?://[^\s<>\"'`]+")
_TRAILING = ".,;:)]}"


class SourceLink(NamedTuple):
    label: str
    url: str


def _label(text: str, url: str) -> str:
    label = text.replace(url, " ").strip()
    label = re.sub(r"\s+", " ", label).strip(" :;,-—–")
    return label or url


def source_links(meta) -> list[SourceLink]:
    """The resource's own page first, then every source with a web address, each once."""
    links: list[SourceLink] = []
    own = getattr(meta, "url", None)
    if own and _URL.fullmatch(own.strip()):
        links.append(SourceLink(meta.title, own.strip()))
    for text in getattr(meta, "sources", None) or []:
        for match in _URL.finditer(text):
            url = match.group(0).rstrip(_TRAILING)
            links.append(SourceLink(_label(text, match.group(0)), url))
    seen: set[str] = set()
    return [link for link in links if not (link.url in seen or seen.add(link.url))]


def first_link(kb, doc_id: str) -> str | None:
    """The web address a person would open for a cited document: its own page, else its first
    source with an address (``None`` when it has none)."""
    doc = kb.docs.get(doc_id)
    links = source_links(doc.meta) if doc is not None else []
    return links[0].url if links else None
