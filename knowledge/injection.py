"""Instruction-like text in knowledge documents: the rule set in ``safety/injection_rules.yml``.

A knowledge document is quoted to the reader as advice, with a citation. A sentence in it that
gives orders to the assistant ("ignore all previous instructions"), tells it what to make the
reader do, or asks for money, credentials or personal data must never reach an answer. This
module finds such sentences; ``load_knowledge`` leaves a flagged document out (so it is neither
indexed nor cited, and ``reskill validate`` reports it) and the store refuses to write one.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

import yaml

from knowledge.cache_file import replace_cache_file
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


SCANNER_FILES = (Path(__file__), Path(__file__).parent / "schema.py")
"""The code a scan's findings depend on besides the rules (this scanner, and the schema that
decides which front-matter fields are text): part of the on-disk cache's key."""


def rules_key(path: Path = RULES_FILE) -> str:
    """Hash of the rule set's file and of :data:`SCANNER_FILES`: a change to either makes every
    cached finding stale."""
    h = hashlib.sha256()
    for p in (Path(path), *SCANNER_FILES):
        h.update(p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


class FindingsCache:
    """Findings per scanned content, kept in ``directory`` (the data dir's cache folder): a
    process that loads an unchanged knowledge base reads them instead of scanning ~1 MB of text
    again (about a second at every start). Keys are documents' content hashes (their version), in
    a file named by :func:`rules_key`: a changed document, rule set, scanner or schema is scanned
    afresh. Writes are atomic; a cache that cannot be read or written is ignored."""

    MAX_ENTRIES = 5000

    def __init__(self, directory: Path, rules_path: Path = RULES_FILE):
        self.directory = Path(directory)
        self.path = self.directory / f"injection-{rules_key(rules_path)}.json"
        self._data: dict[str, list[dict]] | None = None
        self._new = 0
        self._used: set[str] = set()
        self.hits = 0

    def _entries(self) -> dict[str, list[dict]]:
        if self._data is None:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self._data = data if isinstance(data, dict) else {}
            except (OSError, ValueError):
                self._data = {}
        return self._data

    def get(self, key: str) -> list[Finding] | None:
        got = self._entries().get(key)
        self._used.add(key)
        if not isinstance(got, list):
            return None
        try:
            found = [Finding(**f) for f in got]
        except TypeError:
            return None
        self.hits += 1
        return found

    def put(self, key: str, findings: list[Finding]) -> None:
        self._entries()[key] = [asdict(f) for f in findings]
        self._used.add(key)
        self._new += 1

    def save(self) -> None:
        """Write the cache if anything was added, and remove the files of other rule sets. Past
        :data:`MAX_ENTRIES` (old versions of edited documents), only the keys this object read or
        added are kept."""
        if not self._new:
            return
        data = self._entries()
        if len(data) > self.MAX_ENTRIES:
            data = {k: v for k, v in data.items() if k in self._used}
        try:
            replace_cache_file(self.path, lambda f: json.dump(data, f, ensure_ascii=False), binary=False, others="injection-*.json")
        except OSError:
            pass
        self._new = 0


_SCANNED: dict[tuple[str, str], list[Finding]] = {}


def scan_document(doc: Document, cache: FindingsCache | None = None) -> list[Finding]:
    """Findings for one document, remembered by its content hash: a knowledge base is loaded on
    every write, and only the documents that changed are scanned again. With ``cache``, findings
    are also read from and added to the on-disk cache (see :class:`FindingsCache`)."""
    key = (doc.path, doc.version)
    if key not in _SCANNED:
        if len(_SCANNED) > 5000:
            _SCANNED.clear()
        if cache is None:
            _SCANNED[key] = _scan(doc)
        else:
            found = cache.get(doc.version)
            if found is None:
                found = _scan(doc)
                cache.put(doc.version, found)
            _SCANNED[key] = found
    return _SCANNED[key]


def _scan(doc: Document) -> list[Finding]:
    hosts = allowed_hosts(doc)
    findings = []
    for field, text in _text_fields(doc) + [("body", doc.body)]:
        findings += scan_text(text, field, hosts)
    return findings


def injection_errors(doc: Document, cache: FindingsCache | None = None) -> list[KnowledgeError]:
    """One error per flagged sentence, naming it, in the shape every other document error has."""
    return [
        KnowledgeError(doc.path, f.field, f'instruction-like text ({f.reason}; rule {f.rule}): "{_short(f.sentence)}"')
        for f in scan_document(doc, cache)
    ]


def _short(sentence: str, limit: int = 200) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def refuse_instructions(doc: Document, cache: FindingsCache | None = None) -> None:
    """Raise :class:`DocumentInvalid` naming every flagged sentence of ``doc``."""
    errors = injection_errors(doc, cache)
    if errors:
        raise DocumentInvalid(errors)
