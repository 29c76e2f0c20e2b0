"""BM25 keyword search over the same chunks as the vector index."""

from __future__ import annotations

import re

from rank_bm25 import BM25Okapi

_STOP = frozenset(
    "a an and are as at be by can do does for from how i if in into is it its me my of on or our should "
    "so that the their them then there these this to was what when where which who why will with you your".split()
)
_TOKEN = re.compile(r"[a-z0-9][a-z0-9+#]*")


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens without stop words; a crude plural fold keeps 'dashboards' ~ 'dashboard'."""
    out = []
    for tok in _TOKEN.findall(text.lower()):
        if tok in _STOP:
            continue
        if len(tok) > 4 and tok.endswith("s") and not tok.endswith("ss"):
            tok = tok[:-1]
        out.append(tok)
    return out


class KeywordIndex:
    def __init__(self, ids: list[str], texts: list[str]):
        self.ids = ids
        self._bm25 = BM25Okapi([tokenize(t) or ["_"] for t in texts]) if ids else None

    def search(self, query: str, allowed: set[str] | None, k: int) -> list[tuple[str, float]]:
        if self._bm25 is None:
            return []
        tokens = tokenize(query)
        if not tokens:
            return []
        scores = self._bm25.get_scores(tokens)
        ranked = sorted(
            ((cid, s) for cid, s in zip(self.ids, scores) if s > 0 and (allowed is None or cid in allowed)),
            key=lambda x: -x[1],
        )
        return ranked[:k]
