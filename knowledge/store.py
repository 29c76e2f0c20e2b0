"""Editing the knowledge base safely: validated, atomic, versioned, serialised across processes.

Every accepted version of a document is kept under ``<data_dir>/history/<id>/``.
Writers take one file lock for the whole folder, so the CLI, the HTTP API and
the Streamlit editor can edit the same knowledge base without lost updates.
A replace or delete must name the version it was based on; a stale version is
refused with :class:`VersionConflict` and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock
from pydantic import ValidationError

from knowledge.base import KnowledgeBase, check_document, load_knowledge
from knowledge.document import (
    Document,
    DocumentInvalid,
    KnowledgeError,
    content_version,
    parse_document,
    render_document,
    validation_errors,
)
from knowledge.schema import FRONT_MATTER, SLUG

_SLUG = re.compile(SLUG)
FOLDERS = {"role": "roles", "skill": "skills", "transition": "transitions", "resource": "resources", "market": "market"}


class NotFound(KeyError):
    def __str__(self) -> str:
        return f"no document with id '{self.args[0]}'"


class VersionConflict(RuntimeError):
    """The document changed since the version the writer read."""

    def __init__(self, doc_id: str, expected: str | None, current: str | None):
        self.doc_id, self.expected, self.current = doc_id, expected, current
        if current is None:
            msg = f"'{doc_id}' was deleted by someone else since you loaded version {expected}"
        elif expected is None:
            msg = f"'{doc_id}' already exists (version {current}); load it and send its version to replace it"
        else:
            msg = f"'{doc_id}' was changed by someone else: you edited version {expected}, the current one is {current}"
        super().__init__(msg)


class InvalidId(ValueError):
    pass


@dataclass(frozen=True)
class HistoryEntry:
    version: str
    saved_at: dt.datetime
    deleted: bool = False


def check_id(doc_id: str) -> str:
    if not isinstance(doc_id, str) or not _SLUG.fullmatch(doc_id) or len(doc_id) > 80:
        raise InvalidId(f"invalid document id {doc_id!r}: use lower-case letters, digits, '_' and '-' only")
    return doc_id


class KnowledgeStore:
    def __init__(self, root: Path, data_dir: Path, on_change: Callable[[], object] | None = None):
        self.root = Path(root)
        self.on_change = on_change
        self.history_dir = Path(data_dir) / "history"
        self.history_dir.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(Path(data_dir) / "knowledge.lock"), timeout=30)

    # -- reading -------------------------------------------------------------------------------
    def load(self) -> KnowledgeBase:
        return load_knowledge(self.root)

    def _path_of(self, doc_id: str) -> Path | None:
        found = [p for p in self.root.rglob(f"{doc_id}.md")]
        return found[0] if found else None

    def get(self, doc_id: str) -> Document:
        path = self._path_of(check_id(doc_id))
        if path is None:
            raise NotFound(doc_id)
        return parse_document(path.read_text(encoding="utf-8"), str(path.relative_to(self.root)), doc_id)

    def version_of(self, doc_id: str) -> str | None:
        path = self._path_of(doc_id)
        return content_version(path.read_text(encoding="utf-8")) if path else None

    # -- writing -------------------------------------------------------------------------------
    def put(self, doc_id: str, front_matter: dict, body: str, expected_version: str | None) -> Document:
        """Create (``expected_version=None``) or replace a document; return what was written."""
        check_id(doc_id)
        data = dict(front_matter)
        data.setdefault("id", doc_id)
        path_hint = f"{FOLDERS.get(str(data.get('kind')), 'other')}/{doc_id}.md"
        if data["id"] != doc_id:
            raise DocumentInvalid([KnowledgeError(path_hint, "id", f"'{data['id']}' does not match '{doc_id}'")])
        try:
            meta = FRONT_MATTER.validate_python(data)
        except ValidationError as exc:
            raise DocumentInvalid(validation_errors(path_hint, exc)) from None
        text = render_document(meta, body)
        with self._lock:
            current = self._path_of(doc_id)
            current_version = content_version(current.read_text(encoding="utf-8")) if current else None
            if current_version != expected_version:
                raise VersionConflict(doc_id, expected_version, current_version)
            target = current if current and current.parent.name == FOLDERS[meta.kind] else self.root / FOLDERS[meta.kind] / f"{doc_id}.md"
            doc = parse_document(text, str(target.relative_to(self.root)), doc_id)
            errors = check_document(doc, self.load())
            if errors:
                raise DocumentInvalid(errors)
            self._remember(doc_id, current)
            _atomic_write(target, text)
            if current and current != target:
                current.unlink()
            self._remember(doc_id, target)
        self._changed()
        return doc

    def delete(self, doc_id: str, expected_version: str) -> None:
        check_id(doc_id)
        with self._lock:
            path = self._path_of(doc_id)
            if path is None:
                raise NotFound(doc_id)
            current = content_version(path.read_text(encoding="utf-8"))
            if current != expected_version:
                raise VersionConflict(doc_id, expected_version, current)
            users = self.load().referrers(doc_id)
            if users:
                raise DocumentInvalid(
                    [KnowledgeError(str(path.relative_to(self.root)), "id", f"still referenced by {', '.join(users)}")]
                )
            self._remember(doc_id, path)
            path.unlink()
            self._remember_deleted(doc_id)
        self._changed()

    def history(self, doc_id: str) -> list[HistoryEntry]:
        folder = self.history_dir / check_id(doc_id)
        entries = []
        for f in sorted(folder.glob("*")) if folder.is_dir() else []:
            stamp, _, rest = f.stem.partition("-")
            entries.append(HistoryEntry(version=rest, saved_at=dt.datetime.fromtimestamp(int(stamp) / 1e9, dt.timezone.utc), deleted=f.suffix == ".deleted"))
        return entries

    def history_text(self, doc_id: str, version: str) -> str:
        folder = self.history_dir / check_id(doc_id)
        for f in sorted(folder.glob(f"*-{version}.md")) if folder.is_dir() else []:
            return f.read_text(encoding="utf-8")
        raise NotFound(f"{doc_id}@{version}")

    def restore(self, doc_id: str, version: str, expected_version: str | None) -> Document:
        """Make an old version current again: a new, validated write that, like ``put``, must
        name the current version (``None`` when the document was deleted)."""
        old = parse_document(self.history_text(doc_id, version), f"history/{doc_id}", doc_id)
        front = old.meta.model_dump(mode="json", exclude_none=True)
        return self.put(doc_id, front, old.body, expected_version)

    def _changed(self) -> None:
        if self.on_change:
            self.on_change()

    # -- history files -------------------------------------------------------------------------
    def _remember(self, doc_id: str, path: Path | None) -> None:
        if path is None or not path.exists():
            return
        text = path.read_text(encoding="utf-8")
        version = content_version(text)
        folder = self.history_dir / doc_id
        if any(folder.glob(f"*-{version}.md")):
            return
        _atomic_write(folder / f"{time.time_ns()}-{version}.md", text)

    def _remember_deleted(self, doc_id: str) -> None:
        _atomic_write(self.history_dir / doc_id / f"{time.time_ns()}-deleted.deleted", "")


def _atomic_write(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
