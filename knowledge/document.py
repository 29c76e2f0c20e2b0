"""A knowledge document: parsed front matter plus its Markdown body."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from knowledge.schema import FRONT_MATTER, FrontMatter

# libyaml's safe loader when PyYAML was built with it: the same documents, about 7x faster to
# parse, which matters because the whole knowledge base is re-read on every write.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class KnowledgeError(ValueError):
    """A problem with one document, naming the file and the field."""

    def __init__(self, path: str, field: str, message: str):
        self.path, self.field, self.message = path, field, message
        super().__init__(f"{path}: {field}: {message}")

    def as_dict(self) -> dict:
        return {"path": self.path, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class Document:
    meta: FrontMatter
    body: str
    path: str
    version: str
    """Content hash of the file as written; changes whenever the document does."""

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def kind(self) -> str:
        return self.meta.kind

    @property
    def title(self) -> str:
        return self.meta.title


def content_version(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def split_front_matter(text: str, path: str, cache=None) -> tuple[dict, str]:
    """The front matter's fields and the body. ``cache`` (a ``knowledge.base.FrontMatterCache``)
    answers for a front matter parsed before, by the hash of its text."""
    if not text.startswith("---"):
        raise KnowledgeError(path, "front matter", "the file must start with a '---' line")
    parts = text.split("\n---", 1)
    if len(parts) != 2:
        raise KnowledgeError(path, "front matter", "no closing '---' line")
    head, body = parts[0][3:], parts[1]
    data = cache.get(head) if cache is not None else None
    if data is None:
        try:
            data = yaml.load(head, Loader=_YAML_LOADER)
        except yaml.YAMLError as exc:
            raise KnowledgeError(path, "front matter", f"not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise KnowledgeError(path, "front matter", "must be a YAML mapping of fields")
        if cache is not None:
            cache.put(head, data)
    return data, body.split("\n", 1)[1] if "\n" in body else ""


def validation_errors(path: str, exc: ValidationError) -> list[KnowledgeError]:
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        # The discriminated union puts the kind name first; it is not a field.
        if loc and loc[0] in ("role", "skill", "transition", "resource", "market"):
            loc = loc[1:]
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc = ["kind"]
        errors.append(KnowledgeError(path, ".".join(loc) or "front matter", err["msg"]))
    return errors


def parse_document(text: str, path: str, expected_id: str | None = None, cache=None) -> Document:
    """Parse one file's text; raise ``DocumentInvalid`` listing every problem."""
    try:
        data, body = split_front_matter(text, path, cache)
    except KnowledgeError as exc:
        raise DocumentInvalid([exc]) from None
    try:
        meta = FRONT_MATTER.validate_python(data)
    except ValidationError as exc:
        raise DocumentInvalid(validation_errors(path, exc)) from None
    if expected_id is not None and meta.id != expected_id:
        raise DocumentInvalid([KnowledgeError(path, "id", f"'{meta.id}' does not match the file name '{expected_id}.md'")])
    if not body.strip():
        raise DocumentInvalid([KnowledgeError(path, "body", "the document has no Markdown body")])
    return Document(meta=meta, body=body.strip() + "\n", path=path, version=content_version(text))


def render_document(meta: FrontMatter, body: str, old_text: str | None = None) -> str:
    """The file's text; with ``old_text`` (the file it replaces), what the edit did not change
    keeps its bytes (see ``knowledge.frontmatter``)."""
    from knowledge.frontmatter import render

    return render(meta, body, old_text)


class DocumentInvalid(ValueError):
    def __init__(self, errors: list[KnowledgeError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


_READ: dict[tuple, Document] = {}


def read_document(path: Path, root: Path, cache=None) -> Document:
    """Parse one file; a file unchanged since it was last parsed (same inode, size and
    modification time) is not parsed again: the knowledge base is re-read on every write."""
    rel = str(path.relative_to(root))
    try:
        st = path.stat()
        key = (str(path), rel, st.st_ino, st.st_size, st.st_mtime_ns)
        if key in _READ:
            return _READ[key]
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentInvalid([KnowledgeError(rel, "file", f"cannot be read: {exc}")]) from None
    doc = parse_document(text, rel, expected_id=path.stem, cache=cache)
    if len(_READ) > 20_000:
        _READ.clear()
    _READ[key] = doc
    return doc


def section_text(body: str, word: str) -> str:
    """The text of the first ``##`` section whose heading contains ``word``."""
    parts = re.split(r"^##\s+(.*)$", body, flags=re.M)
    for heading, text in zip(parts[1::2], parts[2::2]):
        if word.lower() in heading.lower():
            return text.strip()
    return ""


def first_sentence(text: str, limit: int = 320) -> str:
    text = " ".join(re.sub(r"^[-*\d.]+\s+", "", line.strip()) for line in text.splitlines() if line.strip())
    m = re.search(r"(.+?[.!?])(\s|$)", text)
    s = m.group(1) if m else text
    return s if len(s) <= limit else s[: limit - 1].rsplit(" ", 1)[0] + "…"
