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


# -- whole passages ------------------------------------------------------------------------------
_ID = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


def readable(text: str, kb) -> str:
    """Internal ids (``linux_shell``) become the titles a person reads ("Linux and the shell")."""

    def title(m: re.Match) -> str:
        doc = kb.docs.get(m.group())
        return doc.title if doc is not None else m.group().replace("_", " ")

    # Web addresses stay as they are ("github.com/DataTalksClub/mlops-zoomcamp", "top_sql").
    parts = _URL.split(text)
    return "".join(p if i % 2 else _ID.sub(title, p) for i, p in enumerate(parts))


_URL = re.compile(r"(https?://[^\s<>()\[\]]+)")


def internal_ids(text: str, kb) -> list[str]:
    """Document ids written in ``text`` (outside code spans and web addresses), for checks."""
    plain = _URL.sub(" ", re.sub(r"`[^`]*`", "", text))
    return [m.group() for m in _ID.finditer(plain) if m.group() in kb.docs]


_BARE_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s*$")
"""A list marker with nothing after it: a chunk cut right after the next item's number ("…SQL query.\n4.")."""


def paragraphs(snippet: str) -> list[str]:
    """A passage's paragraphs; a list stays one block per item."""
    out = []
    for block in re.split(r"\n\s*\n", snippet.strip()):
        lines = [ln.rstrip() for ln in block.splitlines() if ln.strip() and not ln.lstrip().startswith("#") and not _BARE_MARKER.match(ln)]
        if not lines:
            continue
        if any(_ITEM.match(ln) for ln in lines):
            item: list[str] = []
            for ln in lines:
                if _ITEM.match(ln) and item:
                    out.append(" ".join(item))
                    item = []
                item.append(ln.strip())
            if item:
                out.append(" ".join(item))
        else:
            out.append(" ".join(ln.strip() for ln in lines))
    return out


def blocks(snippet: str) -> list[str]:
    """A passage's paragraphs, a whole list counting as one."""
    out = []
    for block in re.split(r"\n\s*\n", snippet.strip()):
        lines = [ln.strip() for ln in block.splitlines() if ln.strip() and not ln.lstrip().startswith("#") and not _BARE_MARKER.match(ln)]
        if lines:
            listed = any(_ITEM.match(ln) for ln in lines)
            out.append("\n".join(lines) if listed else " ".join(lines))
    return out


def passage(hit: Hit, kb, n: int = 1, max_chars: int = 1300) -> str:
    """The first ``n`` whole paragraphs of a passage (never a cut sentence), readable."""
    paras = blocks(hit.snippet)
    if paras and len(paras[0]) > max_chars and "\n" in paras[0]:
        paras[0] = _first_items(paras[0], max_chars)
    picked: list[str] = []
    for i, p in enumerate(paras):
        # A paragraph that introduces a list ("...are:") keeps its list, or it reads as a fragment.
        introduces = bool(picked) and picked[-1].rstrip().endswith(":")
        if picked and not introduces and (len(picked) >= n or sum(len(x) for x in picked) + len(p) > max_chars):
            break
        picked.append(_first_items(p, max_chars) if introduces else p)
    if picked and picked[-1].rstrip().endswith(":"):
        picked.pop()
    return readable("\n\n".join(picked), kb)


def _first_items(block: str, max_chars: int) -> str:
    items, size = [], 0
    for item in block.split("\n"):
        if items and size + len(item) > max_chars:
            break
        items.append(item)
        size += len(item)
    return "\n".join(items)


def lead_sentence(text: str) -> str:
    """The first sentence of a paragraph (for a one-line answer that a passage then supports)."""
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", _ITEM.sub("", text.strip()))
    # Not after an initial or an abbreviation: "(D. Sculley also co-wrote ...)", "e.g. Airflow".
    m = re.search(r"(.+?(?<![\s(][A-Z])(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)(?<!\bDr)(?<!\bMr)(?<!\bMs)[.!?])(?:\s+(?=[A-Z0-9\"'(*])|$)", text)
    return (m.group(1) if m else text).strip()


def fragments(text: str) -> list[str]:
    """Lines that read as fragments: a paragraph that ends mid-thought (no closing punctuation,
    or a colon with nothing after it). Headings, list items, tables and quotes are not checked."""
    out = []
    lines = [ln.strip() for ln in text.splitlines()]
    for i, ln in enumerate(lines):
        if not ln or ln.startswith(("#", "|", ">", "-", "*", "_")) or _ITEM.match(ln):
            continue
        nxt = next((x for x in lines[i + 1 :] if x), "")
        bare = re.sub(r"\s*(?:\[\d+\]\s*)+$", "", ln)
        if bare.endswith(":"):
            if not nxt or not (_ITEM.match(nxt) or nxt.startswith(("-", "*", "|", ">"))):
                out.append(ln)
        elif bare and bare[-1] not in ".!?)\"'*…" and not bare.endswith("**"):
            out.append(ln)
    return out
