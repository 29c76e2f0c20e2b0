"""Instruction-like text in knowledge documents: the rule set in ``safety/injection_rules.yml``.

A knowledge document is quoted to the reader as advice, with a citation. A sentence in it that
gives orders to the assistant ("ignore all previous instructions"), tells it what to make the
reader do, or asks for money, credentials or personal data must never reach an answer. This
module finds such sentences; ``load_knowledge`` leaves a flagged document out (so it is neither
indexed nor cited, and ``reskill validate`` reports it) and the store refuses to write one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

import yaml

from knowledge.document import Document, DocumentInvalid, KnowledgeError

RULES_FILE = Path(__file__).parent / "safety" / "injection_rules.yml"
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n(?=\s*(?:[-*+]|\d+[.)]|#)\s)")
_HOST_IN_TEXT = re.compile(r"(?:https?://)?((?:[a-z0-9-]+\.)+[a-z]{2,})", re.I)


@dataclass(frozen=True)
class Rule:
    id: str
    reason: str
    patterns: tuple[re.Pattern, ...]
    kind: str = "text"


@dataclass(frozen=True)
class Finding:
    rule: str
    reason: str
    field: str
    sentence: str


@lru_cache(maxsize=1)
def load_rules(path: Path = RULES_FILE) -> tuple[Rule, ...]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    rules = []
    for item in data["rules"]:
        patterns = tuple(re.compile(p, re.IGNORECASE) for p in item["patterns"])
        rules.append(Rule(item["id"], item["reason"], patterns, item.get("kind", "text")))
    return tuple(rules)


def sentences(text: str) -> list[str]:
    """Sentences (and list items, headings, paragraphs) with whitespace collapsed."""
    out = []
    for part in _SENTENCE.split(text):
        s = " ".join(part.split())
        if s:
            out.append(s)
    return out


def _host(value: str) -> str | None:
    value = value.strip().lower()
    if "@" in value and "://" not in value:
        value = value.rsplit("@", 1)[1]
        value = re.sub(r"\s*[(\[]\s*dot\s*[)\]]\s*", ".", value)
    if "://" not in value:
        value = "http://" + value
    host = urlparse(value).hostname or ""
    return host.removeprefix("www.") or None


def allowed_hosts(doc: Document) -> set[str]:
    """Hosts the document names as its own sources (``sources`` entries and a resource's ``url``)."""
    texts = list(doc.meta.sources) + [getattr(doc.meta, "url", None) or ""]
    hosts = set()
    for t in texts:
        for m in _HOST_IN_TEXT.finditer(t):
            h = _host(m.group(0))
            if h:
                hosts.add(h)
    return hosts


def _allowed(found: str, hosts: set[str]) -> bool:
    h = _host(found.replace("(at)", "@").replace("[at]", "@"))
    return bool(h) and any(h == a or h.endswith("." + a) for a in hosts)


def scan_text(text: str, field: str = "body", hosts: frozenset[str] | set[str] = frozenset()) -> list[Finding]:
    findings = []
    for sentence in sentences(text):
        for rule in load_rules():
            for pattern in rule.patterns:
                m = pattern.search(sentence)
                if not m:
                    continue
                if rule.kind in ("url", "email") and all(_allowed(x.group(0), hosts) for x in pattern.finditer(sentence)):
                    continue
                findings.append(Finding(rule.id, rule.reason, field, sentence))
                break
            else:
                continue
            break  # one finding per sentence is enough
    return findings


def _text_fields(doc: Document) -> list[tuple[str, str]]:
    """Front-matter text a reader may be shown: every string except ids, sources and the url."""
    skip = {"id", "kind", "roles", "skills", "sources", "url", "updated", "prerequisites"}
    out = []

    def walk(prefix: str, value) -> None:
        if isinstance(value, str):
            out.append((prefix, value))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(f"{prefix}.{i}", v)

    data = doc.meta.model_dump(mode="json", exclude_none=True)
    for name, value in data.items():
        if name not in skip:
            walk(name, value)
    return out


_SCANNED: dict[tuple[str, str], list[Finding]] = {}


def scan_document(doc: Document) -> list[Finding]:
    """Findings for one document, remembered by its content hash: a knowledge base is loaded on
    every write, and only the documents that changed are scanned again."""
    key = (doc.path, doc.version)
    if key not in _SCANNED:
        if len(_SCANNED) > 5000:
            _SCANNED.clear()
        _SCANNED[key] = _scan(doc)
    return _SCANNED[key]


def _scan(doc: Document) -> list[Finding]:
    hosts = allowed_hosts(doc)
    findings = []
    for field, text in _text_fields(doc) + [("body", doc.body)]:
        findings += scan_text(text, field, hosts)
    return findings


def injection_errors(doc: Document) -> list[KnowledgeError]:
    """One error per flagged sentence, naming it, in the shape every other document error has."""
    return [
        KnowledgeError(doc.path, f.field, f'instruction-like text ({f.reason}; rule {f.rule}): "{_short(f.sentence)}"')
        for f in scan_document(doc)
    ]


def _short(sentence: str, limit: int = 200) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def refuse_instructions(doc: Document) -> None:
    """Raise :class:`DocumentInvalid` naming every flagged sentence of ``doc``."""
    errors = injection_errors(doc)
    if errors:
        raise DocumentInvalid(errors)
