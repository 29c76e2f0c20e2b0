"""BM25 keyword search over the same chunks as the vector index."""

from __future__ import annotations

import difflib
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
    def __init__(self, ids: list[str], texts: list[str], tokens: list[list[str]] | None = None):
        """``tokens`` (one list per id, from :func:`tokenize`) instead of ``texts`` skips tokenizing."""
        self.ids = ids
        docs = [t or ["_"] for t in tokens] if tokens is not None else [tokenize(t) or ["_"] for t in texts]
        self._bm25 = BM25Okapi(docs) if ids else None
        self.vocabulary = frozenset(t for d in docs for t in d)
        self._corrections: dict[str, str | None] = {}

    def corrections(self, query: str) -> list[str]:
        """Likely intended words for query words the corpus never uses ("dahsboard" -> "dashboard")."""
        out = []
        for tok in tokenize(query):
            if len(tok) < 4 or tok in self.vocabulary or tok.isdigit():
                continue
            if tok not in self._corrections:
                close = difflib.get_close_matches(tok, self.vocabulary, n=1, cutoff=0.8)
                self._corrections[tok] = close[0] if close else None
            if self._corrections[tok]:
                out.append(self._corrections[tok])
        return out

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
