"""What a knowledge-base editor needs besides the store: the editable fields of a document,
templates for new ones, the front matter they make, and where each error belongs.

The editor shows ``id``, ``title`` and ``kind`` as their own fields and every other front
matter field as YAML text; the store validates everything on save.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass
from pathlib import Path

import yaml

from advisor.settings import Settings
from knowledge.base import KnowledgeBase
from knowledge.document import Document, DocumentInvalid, KnowledgeError
from knowledge.schema import KINDS

OWN_FIELDS = ("id", "title", "kind")
SLOTS = ("id", "title", "kind", "front matter", "body")
"""Where the editor shows errors: one slot per input."""

_TEMPLATES = {
    "role": {
        "roles": [],
        "requirements": [{"skill": "sql", "level": 3, "importance": 5}],
        "sources": [],
    },
    "skill": {
        "category": "foundation",
        "roles": [],
        "aliases": [],
        "prerequisites": [],
        "levels": {
            1: "Can follow a tutorial.",
            2: "Does routine work with some help.",
            3: "Works independently at production quality.",
            4: "Designs, reviews and teaches it.",
        },
        "hours": [10, 30, 60, 120],
        "sources": [],
    },
    "transition": {"from_role": "data_scientist", "to_role": "bi_analyst", "roles": [], "skills": []},
    "resource": {
        "resource_type": "course",
        "level": "beginner",
        "effort_hours": 20,
        "cost": "free",
        "provider": "",
        "url": "",
        "roles": [],
        "skills": [],
    },
    "market": {"roles": [], "skills": [], "sources": []},
}


@dataclass
class EditorFields:
    doc_id: str
    title: str
    kind: str
    extra_yaml: str
    body: str


def _yaml(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100) if data else ""


def fields_of(doc: Document) -> EditorFields:
    data = doc.meta.model_dump(mode="python", exclude_none=True)
    extra = {k: v for k, v in data.items() if k not in OWN_FIELDS}
    return EditorFields(doc.id, doc.title, doc.kind, _yaml(extra), doc.body)


def template_yaml(kind: str, today: dt.date | None = None) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown kind '{kind}'")
    return _yaml({**_TEMPLATES[kind], "updated": today or dt.date.today()})


def template_body(title: str = "") -> str:
    return f"# {title or 'Title'}\n\n## Overview\nWrite the document here. Each `##` section becomes a searchable passage.\n"


def front_matter(fields: EditorFields, stamp_today: bool = False, today: dt.date | None = None) -> dict:
    """The front matter the fields describe; a :class:`DocumentInvalid` if the YAML is unusable."""
    where = f"{fields.kind or 'document'}/{fields.doc_id or 'new'}.md"
    try:
        extra = yaml.safe_load(fields.extra_yaml) if fields.extra_yaml.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DocumentInvalid([KnowledgeError(where, "front matter", f"not valid YAML{at}: {problem}")]) from None
    if not isinstance(extra, dict):
        raise DocumentInvalid([KnowledgeError(where, "front matter", "must be YAML 'field: value' lines")])
    own = [k for k in OWN_FIELDS if k in extra]
    if own:
        raise DocumentInvalid(
            [KnowledgeError(where, "front matter", f"set {', '.join(own)} in {'its' if len(own) == 1 else 'their'} own field, not in the YAML")]
        )
    data = {"id": fields.doc_id.strip(), "title": fields.title, "kind": fields.kind, **extra}
    # An empty optional text (provider: "") means "not given", not an invalid value.
    data = {k: v for k, v in data.items() if not (k in ("provider", "url") and v in ("", None))}
    if stamp_today:
        data["updated"] = today or dt.date.today()
    return data


def slot_of(field: str) -> str:
    """The editor input an error about ``field`` belongs to."""
    top = field.split(".", 1)[0]
    if top in ("id", "title", "kind", "body"):
        return top
    return "front matter"


def errors_by_slot(errors: list[KnowledgeError]) -> dict[str, list[str]]:
    """Messages grouped by input, each starting with the field it is about."""
    out: dict[str, list[str]] = {}
    for e in errors:
        text = e.message if e.field == "front matter" else f"{e.field}: {e.message}"
        out.setdefault(slot_of(e.field), []).append(text)
    return out


def matching_docs(kb: KnowledgeBase, kind: str | None = None, role: str | None = None) -> list[Document]:
    """Documents of a kind that concern a role (tagged with it, requiring it, or the role itself)."""

    def about(doc: Document) -> bool:
        m = doc.meta
        return role in (doc.id, getattr(m, "from_role", None), getattr(m, "to_role", None)) or role in m.roles

    docs = [d for d in kb.docs.values() if (kind is None or d.kind == kind) and (role is None or about(d))]
    return sorted(docs, key=lambda d: (KINDS.index(d.kind), d.title.lower()))


def deleted_ids(history_dir: Path, kb: KnowledgeBase) -> list[str]:
    """Documents that have a saved history but no current file (restorable)."""
    if not Path(history_dir).is_dir():
        return []
    return sorted(p.name for p in Path(history_dir).iterdir() if p.is_dir() and p.name not in kb.docs)


def editing_state(settings: Settings) -> str:
    """'open', 'password' or 'off'; ``password`` without a configured password is 'off'."""
    if settings.edit_mode == "password" and not settings.edit_password:
        return "off"
    return settings.edit_mode


def password_ok(settings: Settings, attempt: str) -> bool:
    """Constant-time check of the editing password."""
    if not settings.edit_password or not isinstance(attempt, str):
        return False
    return hmac.compare_digest(attempt.encode("utf-8"), settings.edit_password.encode("utf-8"))
