"""Whether a clause that names a skill claims it: a classifier learned from labelled texts.

The rule reader (``advisor.extraction``) decides most mentions. What rules keep missing are the
many ways people name a skill they do not have: "Docker I know only from the name", "is Airflow
worth learning?", "our platform guy Tomasz does all the kubernetes stuff", "sure, I'm a k8s
expert, I watched one video". Fresh texts written by people who never saw the rules had a third
of their lacks read as held. Those ways of speaking are learned instead of listed: each labelled
text in ``knowledge/reading/claims.jsonl`` (skill ids under ``has`` and ``not``) is cut into the
clauses the rule reader reads, the skill's name masked ("X", other skills "Y") so the model
learns the way of saying, not the tool; a logistic regression over the clause's MiniLM vector
gives the probability that it states a lack.

The classifier only overrules the rules in one direction, and only for a bare mention (no level
or rating the rules read): held becomes a lack when it is at least :data:`LACK_ABOVE` sure. Adding
a phrasing is adding a labelled text. Weights are trained at set-up (``reskill export-embedder``)
and cached beside the embedding model's export, keyed by the examples, the model and the rule
reader that cuts the clauses, so a start-up with nothing changed only loads them.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from advisor.settings import REPO_ROOT
from knowledge.cache_file import replace_cache_file

if TYPE_CHECKING:  # annotations only: importing langchain_core costs 0.1-0.15 s at each start
    from langchain_core.embeddings import Embeddings

CLAIMS_FILE = REPO_ROOT / "knowledge" / "reading" / "claims.jsonl"
LACK_ABOVE = 0.9
"""The lowest threshold at which, cross-validated with whole texts held out, the overrides were
right at least twice as often as wrong (30 of 45 at 0.9; 48 of 107 at 0.75). A skill read as held
that the person said they lack misleads more than a skill missed, but not endlessly more."""
SCREEN_BELOW = 0.8
"""A clause naming several bare skills is read once with all of them masked ("Skills: X, X, X and
X"); below this, none of them is checked one by one, and a plain list of five names costs one
vector instead of five. Measured on the labelled texts and the dev personas (374 such clauses): in
the 371 that scored below 0.9 this way, no name reached the override bar (the highest was 0.84), and
the 3 clauses with overrides scored 0.95 or more. 0.8 keeps a margin below the bar."""
REGULARISATION = 4.0
MAX_KEPT_VECTORS = 40_000
"""Clause vectors kept on disk (about 1.5 KB each)."""
VERSION = "1"
"""Bump when :func:`mask` or the features change, so cached weights are retrained."""
_CACHE: dict[str, "_Weights"] = {}
_LOCK = threading.Lock()

Clauses = Callable[[str], list[tuple[str, str]]]
"""A text's (skill id, masked clause) pairs, as the rule reader cuts them."""


@dataclass(frozen=True)
class _Weights:
    coef: np.ndarray
    intercept: float

    def lack(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(x @ self.coef + self.intercept)))


def mask(clause: str, hits: list[tuple[int, int, str]], skill_id: str | set[str]) -> str:
    """The clause with ``skill_id``'s names as "X" (several ids: all of theirs) and other skills' as
    "Y", so what is learned is the way of saying, not the tool. A skill read by meaning has no name in
    its clause to mask."""
    ids = {skill_id} if isinstance(skill_id, str) else skill_id
    out, last = [], 0
    for start, end, sid in sorted(hits):
        if start < last:
            continue
        out += [clause[last:start], "X" if sid in ids else "Y"]
        last = end
    out.append(clause[last:])
    return "".join(out)


def read_examples(path: Path = CLAIMS_FILE) -> list[dict]:
    """The labelled texts; a bad line is an error naming the file and the line."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: line {n}: {exc.msg}") from None
        if not isinstance(row.get("text"), str) or set(row.get("has", [])) & set(row.get("not", [])):
            raise ValueError(f"{path}: line {n}: needs a 'text', and no skill under both 'has' and 'not'")
        rows.append(row)
    return rows


class ClaimReader:
    """``lack(clauses)``: for each masked clause, the probability that it states a lack."""

    def __init__(self, embedder: Embeddings, cache_dir: Path | None, clauses: Clauses, rules: str, path: Path = CLAIMS_FILE):
        """``rules`` fingerprints the rule reader behind ``clauses``: other rules cut other clauses."""
        self.embedder = embedder
        self.cache_dir = cache_dir
        self.clauses = clauses
        self.rules = rules
        self.path = path
        self._weights: _Weights | None = None
        self._vectors: dict[str, np.ndarray] = {}

    def warm(self) -> None:
        self.weights  # noqa: B018 (load or train now, not in the first reading)

    @property
    def weights(self) -> _Weights:
        if self._weights is None:
            h = hashlib.sha256(f"{VERSION}|{REGULARISATION}|{self._model_key()}|{self.rules}|".encode())
            h.update(self.path.read_bytes())
            key = f"{self.rules[:8]}-{h.hexdigest()[:16]}"
            with _LOCK:
                weights = _CACHE.get(key) or self._load(key)
                if weights is None:
                    weights = self._train(read_examples(self.path))
                    self._save(key, weights)
                _CACHE[key] = weights
            self._weights = weights
        return self._weights

    def pairs(self, examples: list[dict]) -> tuple[list[str], np.ndarray]:
        """Every labelled skill's clause in every example, and 1 where the label is a lack."""
        texts, labels = [], []
        for ex in examples:
            has, lacks = set(ex.get("has", [])), set(ex.get("not", []))
            for sid, clause in self.clauses(ex["text"]):
                if sid in has or sid in lacks:
                    texts.append(clause)
                    labels.append(int(sid in lacks))
        return texts, np.array(labels)

    def _train(self, examples: list[dict]) -> _Weights:
        from sklearn.linear_model import LogisticRegression

        texts, labels = self.pairs(examples)
        clf = LogisticRegression(C=REGULARISATION, max_iter=3000, class_weight="balanced").fit(self._training_vectors(texts), labels)
        return _Weights(clf.coef_[0].astype(np.float32), float(clf.intercept_[0]))

    def _training_vectors(self, texts: list[str]) -> np.ndarray:
        """The clauses' vectors, kept on disk by text: a retrain after an edit to the rules or the
        examples embeds only the clauses it has not seen (a full embedding takes about 20 s)."""
        path = self.cache_dir / f"claim-vectors-{self._model_key()}.npz" if self.cache_dir else None
        known: dict[str, np.ndarray] = {}
        if path and path.is_file():
            try:
                with np.load(path) as saved:
                    known = dict(zip(saved["texts"].tolist(), saved["vectors"]))
            except (OSError, ValueError, KeyError):
                known = {}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        for start in range(0, len(missing), 256):
            batch = missing[start : start + 256]
            known.update(zip(batch, np.asarray(self.embedder.embed_documents(batch), dtype=np.float32)))
        if path and missing:
            # Clauses cut by other rules stay too (another lexicon's, the last edit's), up to a bound.
            keep = list(known) if len(known) <= MAX_KEPT_VECTORS else list(dict.fromkeys(texts))
            replace_cache_file(path, lambda f: np.savez(f, texts=np.array(keep), vectors=np.stack([known[t] for t in keep])),
                               binary=True, others="claim-vectors-*.npz")
        return np.stack([known[t] for t in texts])

    def _model_key(self) -> str:
        """The model behind the vectors: its source files and quantisation. The torch model and its fp32
        ONNX export share weights (the export is checked to give the same vectors, cosine 1.0)."""
        stamp = getattr(self.embedder, "stamp", None) or {}
        model = {k: stamp[k] for k in ("embedding_source_digest", "embedding_quantisation") if k in stamp} or stamp
        return hashlib.sha256(json.dumps(model, sort_keys=True, default=str).encode()).hexdigest()[:12]

    def _path(self, key: str) -> Path | None:
        return self.cache_dir / f"claims-{key}.npz" if self.cache_dir else None

    def _load(self, key: str) -> _Weights | None:
        path = self._path(key)
        if not path or not path.is_file():
            return None
        try:
            with np.load(path) as saved:
                return _Weights(saved["coef"], float(saved["intercept"]))
        except (OSError, ValueError, KeyError):
            return None  # a damaged cache is retrained

    def _save(self, key: str, w: _Weights) -> None:
        if path := self._path(key):
            # Replaces the weights of older rules or examples under the same lexicon, not another lexicon's.
            replace_cache_file(path, lambda f: np.savez(f, coef=w.coef, intercept=np.float32(w.intercept)), binary=True,
                               others=f"claims-{self.rules[:8]}-*.npz")

    def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors for ``texts``; clauses seen before (chat turns re-read earlier messages) are not embedded again."""
        if len(self._vectors) > 4096:
            self._vectors.clear()
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        for start in range(0, len(missing), 64):
            batch = missing[start : start + 64]
            self._vectors.update(zip(batch, np.asarray(self.embedder.embed_documents(batch), dtype=np.float32)))
        return np.stack([self._vectors[t] for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)

    def lack(self, clauses: list[str]) -> np.ndarray:
        return self.weights.lack(self.embed(clauses)) if clauses else np.zeros(0)
