"""Editing the knowledge base safely: validated, atomic, versioned, serialised across processes.

Every accepted version of a document is kept under ``<data_dir>/history/<id>/``.
Writers take one file lock for the whole folder, so the CLI, the HTTP API and
the Streamlit editor can edit the same knowledge base without lost updates.
A replace or delete must name the version it was based on; a stale version is
refused with :class:`VersionConflict` and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
import threading
import time
import unicodedata
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
from knowledge.injection import injection_errors
from knowledge.schema import FRONT_MATTER, SLUG

_SLUG = re.compile(SLUG)
_HISTORY_NAME = re.compile(r"^(\d+)-(?:([0-9a-f]{16})\.md|deleted\.deleted)$")
TMP_SUFFIX = ".tmp"
"""Temporary files end in ``.tmp`` and start with '.': never a document, never a history entry."""
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


class SavedNotApplied(RuntimeError):
    """The write is on disk (and in the history), but bringing the loaded state in step with it
    (``on_change``: re-indexing) failed. ``doc`` is what was written; ``cause`` says why."""

    def __init__(self, doc: Document | None, doc_id: str, cause: BaseException):
        self.doc, self.doc_id, self.cause = doc, doc_id, cause
        super().__init__(f"'{doc_id}' was saved, but is not searchable yet: {cause}")


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
        self.cache_dir = Path(data_dir) / "cache"
        """Findings of the instruction-like-text scan, kept between processes."""
        self.history_dir.mkdir(parents=True, exist_ok=True)
        self.moves_dir = Path(data_dir) / "moves"
        """Write-ahead records of kind changes (a file moving between folders), one per id."""
        self._lock = FileLock(str(Path(data_dir) / "knowledge.lock"), timeout=30)
        self._loaded: tuple[int, KnowledgeBase] | None = None
        self.recover()

    def recover(self) -> list[str]:
        """Finish or undo what a killed writer left: a kind change between its two steps (both
        files on disk) and temporary files. Safe at any time: it holds the writers' lock."""
        try:
            with self._lock.acquire(timeout=5):
                return self._recover()
        except TimeoutError:  # a writer is busy; it recovers on its own write
            return []

    def _recover(self, doc_id: str | None = None) -> list[str]:
        """Everything (at start, and from :meth:`recover`), or before a write of ``doc_id``: the
        kind-change records, and the temporary files in the knowledge folder and that document's
        history (another document's are skipped by every reader and go at its next write)."""
        done = []
        for record in sorted(self.moves_dir.glob("*.json")) if self.moves_dir.is_dir() else []:
            try:
                move = json.loads(record.read_text(encoding="utf-8"))
                old, new = self.root / move["from"], self.root / move["to"]
            except (OSError, ValueError, KeyError):
                record.unlink(missing_ok=True)
                continue
            if new.exists() and content_version(new.read_text(encoding="utf-8")) == move["version"]:
                if old.exists() and old != new:
                    old.unlink()  # the new file is whole (renamed in one step): the move completes
                    done.append(f"{move['from']} -> {move['to']}")
            record.unlink(missing_ok=True)  # else the new file never landed: the old one stands
        for path, _ in _files(self.root, TMP_SUFFIX):
            if os.path.basename(path).startswith("."):
                Path(path).unlink(missing_ok=True)
        folders = [self.history_dir / doc_id] if doc_id else self.history_dir.glob("*")
        for folder in folders:
            if folder.is_dir():
                for tmp in folder.glob(f".*{TMP_SUFFIX}"):
                    tmp.unlink(missing_ok=True)
        return done

    # -- reading -------------------------------------------------------------------------------
    def load(self) -> KnowledgeBase:
        """The knowledge base as on disk; re-read only when a Markdown file changed (names,
        inodes, sizes and modification times). Treat the result as read-only."""
        key = _fingerprint(self.root)
        cached = self._loaded
        if cached is not None and cached[0] == key:
            return cached[1]
        kb = load_knowledge(self.root, cache_dir=self.cache_dir)
        self._loaded = (key, kb)
        return kb

    def _path_of(self, doc_id: str) -> Path | None:
        name = f"{doc_id}.md"
        found = sorted(path for path, _ in _files(self.root, ".md", stat=False) if os.path.basename(path) == name)
        return Path(found[0]) if found else None

    def get(self, doc_id: str) -> Document:
        path = self._path_of(check_id(doc_id))
        if path is None:
            raise NotFound(doc_id)
        return parse_document(path.read_text(encoding="utf-8"), str(path.relative_to(self.root)), doc_id)

    def version_of(self, doc_id: str) -> str | None:
        path = self._path_of(doc_id)
        return content_version(path.read_text(encoding="utf-8")) if path else None

    # -- writing -------------------------------------------------------------------------------
    def put(
        self, doc_id: str, front_matter: dict, body: str, expected_version: str | None, set_updated: bool = False
    ) -> Document:
        """Create (``expected_version=None``) or replace a document; return what was written.

        What the edit does not change keeps its bytes: a body-only edit leaves the front matter
        text as it was, a changed field rewrites that field only. ``set_updated`` sets
        ``updated`` to today (off by default: a typo fix is not a new revision of the facts)."""
        check_id(doc_id)
        data = dict(front_matter)
        if set_updated:
            data["updated"] = dt.date.today().isoformat()
        data.setdefault("id", doc_id)
        path_hint = f"{FOLDERS.get(str(data.get('kind')), 'other')}/{doc_id}.md"
        if data["id"] != doc_id:
            raise DocumentInvalid([KnowledgeError(path_hint, "id", f"'{data['id']}' does not match '{doc_id}'")])
        bad = control_characters(path_hint, data, body)
        if bad:
            raise DocumentInvalid(bad)
        try:
            meta = FRONT_MATTER.validate_python(data)
        except ValidationError as exc:
            raise DocumentInvalid(validation_errors(path_hint, exc)) from None
        return self._write(doc_id, meta.kind, lambda old: render_document(meta, body, old), expected_version)

    def _write(self, doc_id: str, kind: str, make_text: Callable[[str | None], str], expected_version: str | None) -> Document:
        """Write the text ``make_text`` makes of the current file's text (None if there is none)."""
        with self._lock:
            self._recover(doc_id)
            current = self._path_of(doc_id)
            current_text = current.read_text(encoding="utf-8") if current else None
            current_version = content_version(current_text) if current else None
            text = make_text(current_text)
            target = current if current and current.parent.name == FOLDERS[kind] else self.root / FOLDERS[kind] / f"{doc_id}.md"
            doc = parse_document(text, str(target.relative_to(self.root)), doc_id)
            if current_text == text and current == target and expected_version is not None:
                # The same content again (a retry of a write that was saved): nothing to write, no
                # conflict, whichever version the retry names. Re-indexing is attempted again below.
                return self._applied(doc)
            if current_version != expected_version:
                raise VersionConflict(doc_id, expected_version, current_version)
            errors = injection_errors(doc) + check_document(doc, self.load())
            if errors:
                raise DocumentInvalid(errors)
            self._remember(doc_id, current)
            # The new version goes into the history before the file: whatever a kill interrupts,
            # the file on disk is always a version the history holds.
            self._remember_text(doc_id, text, like=current)
            if current and current != target:
                # A kind change moves the file: write-ahead record first, so that a crash between
                # writing the new file and removing the old one is finished by `recover`.
                record = self.moves_dir / f"{doc_id}.json"
                move = {"from": str(current.relative_to(self.root)), "to": str(target.relative_to(self.root)), "version": doc.version}
                _atomic_write(record, json.dumps(move))
                _atomic_write(target, text, like=current)
                current.unlink()
                record.unlink()
            else:
                _atomic_write(target, text, like=current)
        return self._applied(doc)

    def _applied(self, doc: Document) -> Document:
        try:
            self._changed()
        except Exception as exc:
            raise SavedNotApplied(doc, doc.id, exc) from exc
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
        try:
            self._changed()
        except Exception as exc:
            raise SavedNotApplied(None, doc_id, exc) from exc

    def history(self, doc_id: str) -> list[HistoryEntry]:
        folder = self.history_dir / check_id(doc_id)
        entries = []
        for f in sorted(folder.iterdir()) if folder.is_dir() else []:
            m = _HISTORY_NAME.match(f.name)
            if not m:  # a temporary file a killed writer left, or anything else: not history
                continue
            stamp, version = m.groups()
            saved = dt.datetime.fromtimestamp(int(stamp) / 1e9, dt.timezone.utc)
            entries.append(HistoryEntry(version=version or "deleted", saved_at=saved, deleted=version is None))
        return sorted(entries, key=lambda e: e.saved_at)

    def history_text(self, doc_id: str, version: str) -> str:
        folder = self.history_dir / check_id(doc_id)
        for f in sorted(folder.glob(f"*-{version}.md")) if folder.is_dir() else []:
            if _HISTORY_NAME.match(f.name):
                return f.read_text(encoding="utf-8")
        raise NotFound(f"{doc_id}@{version}")

    def restore(self, doc_id: str, version: str, expected_version: str | None) -> Document:
        """Make an old version current again: a validated write that, like ``put``, must name the
        current version (``None`` when the document was deleted). The file gets the old version's
        bytes, so it is that version again (same content hash), not a new one."""
        text = self.history_text(doc_id, version)
        old = parse_document(text, f"history/{doc_id}", doc_id)
        bad = control_characters(f"history/{doc_id}", old.meta.model_dump(mode="json"), old.body)
        if bad:
            raise DocumentInvalid(bad)
        return self._write(doc_id, old.kind, lambda _current: text, expected_version)

    def _changed(self) -> None:
        if self.on_change:
            self.on_change()

    # -- history files -------------------------------------------------------------------------
    def _remember(self, doc_id: str, path: Path | None) -> None:
        if path is None or not path.exists():
            return
        self._remember_text(doc_id, path.read_text(encoding="utf-8"), like=path)

    def _remember_text(self, doc_id: str, text: str, like: Path | None = None) -> None:
        version = content_version(text)
        folder = self.history_dir / doc_id
        if any(folder.glob(f"*-{version}.md")):
            return
        _atomic_write(folder / f"{time.time_ns()}-{version}.md", text, like=like)

    def _remember_deleted(self, doc_id: str) -> None:
        _atomic_write(self.history_dir / doc_id / f"{time.time_ns()}-deleted.deleted", "")


def _files(root: Path, suffix: str, stat: bool = True) -> list[tuple[str, os.stat_result | None]]:
    """Every file under ``root`` whose name ends in ``suffix``, with its stat (what
    ``Path.rglob`` finds, several times faster: this runs a few times per write)."""
    out, folders = [], [str(root)]
    while folders:
        try:
            entries = os.scandir(folders.pop())
        except OSError:  # removed while listing, or not a folder
            continue
        with entries:
            for entry in entries:
                try:
                    if entry.is_dir():
                        folders.append(entry.path)
                    elif entry.name.endswith(suffix):
                        out.append((entry.path, entry.stat() if stat else None))
                except OSError:  # removed while listing
                    continue
    return out


def _fingerprint(root: Path) -> int:
    entries = [(path, st.st_ino, st.st_size, st.st_mtime_ns) for path, st in _files(root, ".md")]
    return hash(tuple(sorted(entries)))


def fingerprint(root: Path) -> int:
    """Names, sizes and modification times of the Markdown files (changes when any file does)."""
    return hash(tuple(sorted((path, st.st_mtime_ns, st.st_size) for path, st in _files(root, ".md"))))


def control_characters(path: str, front_matter: dict, body: str) -> list[KnowledgeError]:
    """NUL and other control characters (tab and line breaks aside) in any text field or the body."""
    errors = []

    def check(field: str, value) -> None:
        if isinstance(value, str):
            bad = sorted({c for c in value if unicodedata.category(c) == "Cc" and c not in "\t\n\r"})
            if bad:
                shown = ", ".join(f"U+{ord(c):04X}" for c in bad[:5])
                errors.append(KnowledgeError(path, field, f"contains control characters ({shown}); remove them"))
        elif isinstance(value, dict):
            for k, v in value.items():
                check(f"{field}.{k}" if field else str(k), k)
                check(f"{field}.{k}" if field else str(k), v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                check(f"{field}.{i}", v)

    check("", front_matter)
    check("body", body)
    return errors


_UMASK: int | None = None
_UMASK_LOCK = threading.Lock()


def _new_file_mode() -> int:
    """What ``open()`` would give a new file: 0666 less the process umask (read once)."""
    global _UMASK
    with _UMASK_LOCK:
        if _UMASK is None:
            _UMASK = os.umask(0o022)
            os.umask(_UMASK)
    return 0o666 & ~_UMASK


def _atomic_write(path: Path, text: str, like: Path | None = None) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over the target.

    The file gets the mode of ``like`` (the file it replaces) if that exists, else the mode a
    new file gets under the umask; ``mkstemp`` alone would leave 0600.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = (like or path).stat().st_mode & 0o7777
    except (OSError, AttributeError):
        mode = _new_file_mode()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
