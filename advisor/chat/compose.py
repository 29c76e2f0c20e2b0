"""Small tools for writing grounded answers: numbered citations and sentence selection."""

from __future__ import annotations

import re

from retrieval.hit import Hit
from retrieval.keyword import tokenize

_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_CITE = re.compile(r"\[(\d{1,3})\]")


class Citations:
    """Numbers hits in order of first use; only cited hits end up in the answer."""

    def __init__(self) -> None:
        self.hits: list[Hit] = []

    def cite(self, hit: Hit | None) -> str:
        if hit is None:
            return ""
        for n, h in enumerate(self.hits, 1):
            if (h.doc_id, h.section, h.snippet) == (hit.doc_id, hit.section, hit.snippet):
                return f"[{n}]"
        self.hits.append(hit)
        return f"[{len(self.hits)}]"


def sentences(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line.startswith("|"):
            continue
        line = re.sub(r"^(?:[-*+]|\d+[.)])\s+", "", line)
        line = re.sub(r"\*\*(.+?)\*\*", r"\1", line)
        for s in _SPLIT.split(line):
            s = s.strip()
            if len(s.split()) >= 5 and s[-1:] in ".!?:" or (len(s.split()) >= 8):
                out.append(s if s[-1:] in ".!?" else s.rstrip(":") + ".")
    return out


def select(hits: list[Hit], query: str, n: int = 4, per_hit: int = 2) -> list[tuple[str, Hit]]:
    """Up to ``n`` sentences that answer ``query``: word overlap with the query, a bonus for
    higher-ranked hits and earlier sentences, and no two sentences that say the same thing."""
    q = set(tokenize(query))
    scored = []
    for rank, hit in enumerate(hits):
        for pos, s in enumerate(sentences(hit.snippet)):
            words = set(tokenize(s))
            if not words:
                continue
            overlap = len(q & words) / (len(q) ** 0.5 + 1)
            score = overlap + 1.0 / (rank + 2) + 0.4 / (pos + 1)
            scored.append((score, rank, pos, s, hit, words))
    scored.sort(key=lambda x: (-x[0], x[1], x[2]))
    chosen, used, per = [], [], {}
    for score, rank, pos, s, hit, words in scored:
        key = (hit.doc_id, hit.section)
        if per.get(key, 0) >= per_hit:
            continue
        if any(len(words & w) / len(words | w) > 0.45 for w in used):
            continue
        chosen.append((rank, pos, s, hit))
        used.append(words)
        per[key] = per.get(key, 0) + 1
        if len(chosen) == n:
            break
    # Keep the order in which the sources say things, so the paragraph reads naturally.
    chosen.sort(key=lambda x: (x[0], x[1]))
    return [(s, hit) for _, _, s, hit in chosen]


def cited_numbers(text: str) -> list[int]:
    return [int(n) for n in _CITE.findall(text)]
