"""The web addresses a knowledge document points to, for citations a person can follow.

Front matter ``sources`` are sentences such as ``"PostgreSQL documentation: https://www.postgresql.org/docs/"``;
a resource also has its own ``url``. Sources without a web address (a book, an O*NET label) are
left out: they are reference text, not links.

Every face cites the same way, built here: a cited passage or a plan's resource carries its
document's title, ``document_url`` (the API path of the document) and ``sources`` (label + url).
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import quote

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


def document_url(doc_id: str) -> str:
    """The API path that serves a knowledge document (front matter and body)."""
    return f"/v1/knowledge/{quote(doc_id, safe='')}"


def links(kb, doc_id: str) -> dict:
    """``{document_url, sources: [{label, url}]}`` for a cited document."""
    doc = kb.docs.get(doc_id) if kb is not None else None
    found = source_links(doc.meta) if doc is not None else []
    return {"document_url": document_url(doc_id), "sources": [{"label": l.label, "url": l.url} for l in found]}


def resource_ref(kb, doc_id: str) -> dict:
    """A plan's resource as every face shows it: ``{id, title, document_url, sources}``."""
    doc = kb.docs.get(doc_id) if kb is not None else None
    return {"id": doc_id, "title": doc.meta.title if doc is not None else doc_id, **links(kb, doc_id)}


def linked_citations(hits: list[dict], kb) -> list[dict]:
    """Dumped hits (``Hit.model_dump()``) with their document's links added."""
    return [{**h, **links(kb, h["doc_id"])} for h in hits]


def linked_plan(plan: dict | None, kb) -> dict | None:
    """A dumped plan whose stages' resource ids are replaced by :func:`resource_ref` entries."""
    if plan is None:
        return None
    stages = [{**st, "resources": [resource_ref(kb, r) for r in st["resources"]]} for st in plan["stages"]]
    return {**plan, "stages": stages}


def linked_recommendation(rec: dict | None, kb) -> dict | None:
    """A dumped recommendation whose plan's resources carry their titles and links."""
    if rec is None:
        return None
    return {**rec, "plan": linked_plan(rec.get("plan"), kb)}
