"""What kind of question a chat message asks: a classifier learned from labelled examples.

The examples are data (``knowledge/reading/*.yaml``: one file per type, plus labelled long
messages), written the way people type. Each message is embedded with the packaged MiniLM
model; a multinomial logistic regression over the vector (plus a few flags: does the message
name two roles, a skill, the person themselves) picks the type. Adding a phrasing is adding a
line of data; ``tests/eval/chat.jsonl`` (never used for training) shows whether it helped.

Training takes a few seconds; the weights are cached under ``<data_dir>/cache`` keyed by a
hash of the examples and the model, so a start-up with unchanged examples only loads them.
Below a confidence calibrated on cross-validated predictions the chat asks back instead of
guessing (see :attr:`Reader.unsure_below`).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml

from advisor.settings import REPO_ROOT

if TYPE_CHECKING:  # annotations only: importing langchain_core costs 0.1-0.15 s at each start
    from langchain_core.embeddings import Embeddings

READING_DIR = REPO_ROOT / "knowledge" / "reading"
FEATURES_VERSION = "4"
"""Bump when :func:`features` changes, so cached weights are retrained."""
_SELF = re.compile(r"\b(i|i'm|im|i've|ive|my|me|i'd|myself|mine)\b", re.I)
_CACHE: dict[str, "_Model"] = {}
_VECTORS: dict[str, dict[str, np.ndarray]] = {}
"""Message vectors per embedding model, shared by every reader in the process."""
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Guess:
    type: str
    confidence: float
    runner_up: str
    unsure: bool


@dataclass
class _Model:
    classes: list[str]
    coef: np.ndarray
    intercept: np.ndarray
    unsure_below: float
    cv_accuracy: float
    n_examples: int

    def proba(self, x: np.ndarray) -> np.ndarray:
        z = x @ self.coef.T + self.intercept
        if len(self.classes) == 2 and z.shape[1] == 1:  # binary logistic regression keeps one row
            z = np.hstack([-z / 2, z / 2])
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


def load_examples(folder: Path = READING_DIR) -> list[tuple[str, str]]:
    """(text, type) pairs from every YAML file in ``folder``: ``type`` + ``examples`` (a list of
    messages of that type) and/or ``labelled`` (a list of ``{type, text}``)."""
    pairs: list[tuple[str, str]] = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}  # libyaml: ~10x faster
        for text in data.get("examples", []):
            pairs.append((str(text).strip(), data["type"]))
        for item in data.get("labelled", []):
            pairs.append((str(item["text"]).strip(), item["type"]))
    return [(t, label) for t, label in pairs if t]


def flags(text: str, roles: tuple[str, ...], skills: tuple[str, ...]) -> list[float]:
    """What the embedding reads poorly: how many roles and skills the message names, whether it
    speaks about the person, whether it is very short or a question."""
    words = len(text.split())
    return [
        float(len(roles) >= 1),
        float(len(set(roles)) >= 2),
        float(len(skills) >= 1),
        float(len(set(skills)) >= 2),
        float(bool(_SELF.search(text))),
        float(words <= 3),
        float("?" in text),
    ]


def features(vectors: np.ndarray, flag_rows: list[list[float]]) -> np.ndarray:
    return np.hstack([vectors, 0.5 * np.asarray(flag_rows, dtype=np.float32)]).astype(np.float32)


class Reader:
    """The trained question-type classifier. ``entities(text) -> (roles, skills)`` supplies the
    flags; the chat passes the knowledge base's role and skill names."""

    def __init__(
        self,
        embedder: Embeddings,
        cache_dir: Path | None,
        entities,
        model_name: str = "packaged",
        folder: Path = READING_DIR,
        embed_one=None,
        vocabulary: str = "",
    ):
        self.embedder = embedder
        self.kb = None
        """The knowledge base the vocabulary came from (the chat rebuilds the reader when it changes)."""
        self.vocabulary = vocabulary
        """The role and skill names behind the flags; weights trained under other names are not reused."""
        self.embed_one = embed_one
        """Embeds one message; the chat passes the retriever's cached query embedding, so the
        question is embedded once per turn for reading and search together."""
        self.cache_dir = cache_dir
        self.entities = entities
        self.model_name = model_name
        self.folder = folder
        self._model: _Model | None = None
        self._vectors: dict[str, np.ndarray] = _VECTORS.setdefault(model_name, {})

    # -- training ---------------------------------------------------------------------------
    def data_hash(self, pairs: list[tuple[str, str]]) -> str:
        h = hashlib.sha256(f"{FEATURES_VERSION}|{self.model_name}|{self.vocabulary}".encode())
        for text, label in sorted(pairs):
            h.update(f"\n{label}\t{text}".encode())
        return h.hexdigest()[:20]

    @property
    def model(self) -> _Model:
        if self._model is None:
            pairs = load_examples(self.folder)
            key = self.data_hash(pairs)
            with _LOCK:
                model = _CACHE.get(key) or self._load(key)
                if model is None:
                    model = self._train(pairs)
                    self._save(key, model)
                _CACHE[key] = model
            self._model = model
        return self._model

    def warm(self) -> None:
        self.model  # noqa: B018 (load or train now, not in the first chat turn)

    def _path(self, key: str) -> Path | None:
        return self.cache_dir / f"reading-{key}.npz" if self.cache_dir else None

    def _load(self, key: str) -> _Model | None:
        path = self._path(key)
        if not path or not path.is_file():
            return None
        try:
            with np.load(path) as saved:
                meta = json.loads(str(saved["meta"]))
                return _Model(meta["classes"], saved["coef"], saved["intercept"], meta["unsure_below"], meta["cv_accuracy"], meta["n_examples"])
        except (OSError, ValueError, KeyError):
            return None  # a damaged cache is retrained

    def _save(self, key: str, m: _Model) -> None:
        path = self._path(key)
        if not path:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"classes": m.classes, "unsure_below": m.unsure_below, "cv_accuracy": m.cv_accuracy, "n_examples": m.n_examples})
        tmp = path.with_name(path.stem + ".tmp.npz")
        np.savez(tmp, coef=m.coef, intercept=m.intercept, meta=np.array(meta))
        tmp.replace(path)

    def matrix(self, texts: list[str]) -> np.ndarray:
        vecs = self.embed(texts)
        rows = []
        for t in texts:
            roles, skills = self.entities(t)
            rows.append(flags(t, roles, skills))
        return features(vecs, rows)

    def _train(self, pairs: list[tuple[str, str]]) -> _Model:
        from sklearn.isotonic import IsotonicRegression
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        texts = [t for t, _ in pairs]
        labels = np.array([label for _, label in pairs])
        x = self.matrix(texts)
        clf = LogisticRegression(C=20.0, max_iter=3000)
        folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
        proba = cross_val_predict(clf, x, labels, cv=folds, method="predict_proba")
        classes = sorted(set(labels))
        picked = np.array(classes)[proba.argmax(axis=1)]
        correct = (picked == labels).astype(float)
        top = proba.max(axis=1)
        # Calibrated: below this top probability, cross-validated guesses are right less than
        # half the time, so asking back costs less than answering the wrong question.
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(top, correct)
        grid = np.linspace(0.05, 0.95, 91)
        ok = grid[iso.predict(grid) >= 0.5]
        unsure_below = float(ok[0]) if len(ok) else 0.2
        clf.fit(x, labels)
        return _Model(list(clf.classes_), clf.coef_.astype(np.float32), clf.intercept_.astype(np.float32), unsure_below, float(correct.mean()), len(pairs))

    # -- reading ----------------------------------------------------------------------------
    def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors for ``texts``, in batches; messages seen before are not embedded again."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            if len(self._vectors) > 4096:
                self._vectors.clear()
            if len(missing) == 1 and self.embed_one is not None:
                self._vectors[missing[0]] = np.asarray(self.embed_one(missing[0]), dtype=np.float32)
                missing = []
            for start in range(0, len(missing), 64):
                batch = missing[start : start + 64]
                self._vectors.update(zip(batch, np.asarray(self.embedder.embed_documents(batch), dtype=np.float32)))
        return np.stack([self._vectors[t] for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)

    def guess(self, text: str) -> Guess:
        return self.guesses([text])[0]

    def guesses(self, texts: list[str]) -> list[Guess]:
        m = self.model
        proba = m.proba(self.matrix(texts))
        out = []
        for row in proba:
            order = np.argsort(-row)
            best, second = m.classes[order[0]], m.classes[order[1]]
            out.append(Guess(best, float(row[order[0]]), second, bool(row[order[0]] < m.unsure_below)))
        return out

    @property
    def unsure_below(self) -> float:
        return self.model.unsure_below

    @property
    def figures(self) -> dict:
        m = self.model
        return {"examples": m.n_examples, "types": len(m.classes), "cv_accuracy": round(m.cv_accuracy, 3), "unsure_below": round(m.unsure_below, 3)}
