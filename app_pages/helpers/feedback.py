"""Thumbs up/down on chat answers, stored locally in SQLite (``<data_dir>/feedback.sqlite``).

One row per rated answer: the question, the answer text, its citations (JSON) and the
rating. Rating the same answer again replaces its row; clearing the rating removes it.
Each call opens its own connection, so every Streamlit session (thread) and process can
write at once; SQLite serialises the writers.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from advisor.models import Answer

FILE_NAME = "feedback.sqlite"
RATINGS = {1: "up", -1: "down"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    answer_id  TEXT PRIMARY KEY,
    rated_at   TEXT NOT NULL,
    rating     INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    question   TEXT NOT NULL,
    answer     TEXT NOT NULL,
    citations  TEXT NOT NULL,
    engine     TEXT NOT NULL,
    intent     TEXT NOT NULL,
    session_id TEXT,
    comment    TEXT
)
"""


@dataclass(frozen=True)
class Feedback:
    answer_id: str
    rated_at: str
    rating: int
    question: str
    answer: str
    citations: list[dict]
    engine: str
    intent: str
    session_id: str | None
    comment: str | None


class FeedbackStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute(_SCHEMA)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> FeedbackStore:
        return cls(Path(data_dir) / FILE_NAME)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def record(
        self,
        answer_id: str,
        question: str,
        answer: Answer,
        rating: int,
        session_id: str | None = None,
        comment: str | None = None,
    ) -> None:
        """Store (or replace) the rating of one answer: ``1`` thumbs up, ``-1`` thumbs down."""
        if rating not in RATINGS:
            raise ValueError(f"rating must be 1 (up) or -1 (down), got {rating!r}")
        citations = json.dumps([h.model_dump() for h in answer.citations], ensure_ascii=False)
        row = (
            answer_id,
            dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            rating,
            question,
            answer.text,
            citations,
            answer.engine,
            answer.intent,
            session_id,
            comment,
        )
        with closing(self._connect()) as db, db:
            db.execute("INSERT OR REPLACE INTO feedback VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)

    def remove(self, answer_id: str) -> None:
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM feedback WHERE answer_id = ?", (answer_id,))

    def all(self) -> list[Feedback]:
        with closing(self._connect()) as db:
            rows = db.execute("SELECT * FROM feedback ORDER BY rated_at, answer_id").fetchall()
        return [Feedback(*r[:5], json.loads(r[5]), *r[6:]) for r in rows]

    def counts(self) -> dict[str, int]:
        with closing(self._connect()) as db:
            found = dict(db.execute("SELECT rating, COUNT(*) FROM feedback GROUP BY rating").fetchall())
        return {name: found.get(value, 0) for value, name in RATINGS.items()}
