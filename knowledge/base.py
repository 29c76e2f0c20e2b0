"""Loading the whole knowledge base and checking references between documents.

An invalid document is reported and left out; the rest still loads. Leaving one
out can invalidate others (a role requiring a skill whose file is broken), so
the checks run until nothing more drops.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import pickle
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.cache_file import replace_cache_file
from knowledge.document import Document, DocumentInvalid, KnowledgeError, read_document
from knowledge.injection import FindingsCache, refuse_instructions
from knowledge.schema import KINDS, RoleDoc, SkillDoc, TransitionDoc

TARGET_ROLES = ("bi_analyst", "ml_engineer")


@dataclass
class KnowledgeBase:
    root: Path
    docs: dict[str, Document] = field(default_factory=dict)
    errors: list[KnowledgeError] = field(default_factory=list)

    _by_kind: dict = field(default_factory=dict, repr=False, compare=False)

    def of_kind(self, kind: str) -> list[Document]:
        return list(self._kept(kind)[0])

    def _metas(self, kind: str) -> dict:
        return self._kept(kind)[1]

    def _kept(self, kind: str) -> tuple[tuple[Document, ...], dict]:
        """The documents of one kind and id -> their front matter, kept until ``docs`` is replaced or
        changes size (a recommendation reads these thousands of times)."""
        key = (kind, id(self.docs), len(self.docs))
        if key not in self._by_kind:
            if len(self._by_kind) > 16:
                self._by_kind.clear()
            docs = tuple(d for d in self.docs.values() if d.kind == kind)
            self._by_kind[key] = (docs, {d.id: d.meta for d in docs})
        return self._by_kind[key]

    @property
    def roles(self) -> dict[str, RoleDoc]:
        return self._metas("role")

    @property
    def skills(self) -> dict[str, SkillDoc]:
        return self._metas("skill")

    def referrers(self, doc_id: str) -> list[str]:
        """Ids of the other documents that name ``doc_id`` as a skill, role or prerequisite."""
        out = []
        for d in self.docs.values():
            m = d.meta
            named = set(m.roles) | set(m.skills)
            named |= {s for r in getattr(m, "requirements", []) for s in r.members}
            named |= {i.skill for i in getattr(m, "implies", [])}
            named |= set(getattr(m, "prerequisites", []))
            named |= {getattr(m, "from_role", None), getattr(m, "to_role", None)}
            if d.id != doc_id and doc_id in named:
                out.append(d.id)
        return sorted(out)

    def counts(self) -> dict[str, int]:
        c = Counter(d.kind for d in self.docs.values())
        return {k: c.get(k, 0) for k in KINDS}


def normalise_alias(text: str) -> str:
    """Lower case, punctuation folded to spaces: 'Scikit-Learn' and 'scikit learn' match."""
    return " ".join(re.sub(r"[^a-z0-9+#]+", " ", text.lower()).split())


class _DataOnly(pickle.Unpickler):
    """Unpickles what safe YAML produces (containers, scalars, dates and times) and nothing else."""

    ALLOWED = {("datetime", n) for n in ("date", "datetime", "time", "timedelta", "timezone")}

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not front-matter data")


class FrontMatterCache:
    """Front matter already parsed, by the hash of its YAML text, kept in ``directory`` (the data
    dir's cache folder): a process that loads an unchanged knowledge base skips PyYAML's
    constructor (0.05-0.14 s for 150 documents at each start). Only the YAML step is cached: the
    schema still validates every document, so a schema change needs no invalidation. A changed
    front matter has another hash and is parsed afresh; the file's name holds PyYAML's version and
    loader. Entries are plain data (pickled, read back with :class:`_DataOnly`); writes are atomic;
    a cache that cannot be read or written is ignored."""

    MAX_ENTRIES = 5000
    SAVE_FROM = 5
    """Fewer new entries than this are not written to an existing cache: after an edit through the
    store the next start parses those few documents again (about 0.3 ms each) and a write does not
    pay for pickling the whole cache (6 ms)."""

    def __init__(self, directory: Path):
        import yaml

        from knowledge.document import _YAML_LOADER

        self.directory = Path(directory)
        key = hashlib.sha256(f"1:{yaml.__version__}:{_YAML_LOADER.__name__}".encode()).hexdigest()[:16]
        self.path = self.directory / f"frontmatter-{key}.pickle"
        self._data: dict[str, dict] | None = None
        self._new = 0
        self._used: set[str] = set()
        self.hits = 0

    @staticmethod
    def _key(head: str) -> str:
        return hashlib.sha256(head.encode("utf-8")).hexdigest()[:32]

    def _entries(self) -> dict[str, dict]:
        if self._data is None:
            try:
                with open(self.path, "rb") as f:
                    data = _DataOnly(f).load()
                self._data = data if isinstance(data, dict) else {}
            except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, IndexError):
                self._data = {}
        return self._data

    def get(self, head: str) -> dict | None:
        key = self._key(head)
        self._used.add(key)
        got = self._entries().get(key)
        if not isinstance(got, dict):
            return None
        self.hits += 1
        return got

    def put(self, head: str, data: dict) -> None:
        key = self._key(head)
        self._entries()[key] = data
        self._used.add(key)
        self._new += 1

    def save(self) -> None:
        """Write the cache if :data:`SAVE_FROM` entries were added, or any to a cache not written
        yet (past :data:`MAX_ENTRIES`, only what this load used), and remove the files of other
        PyYAML versions."""
        if not self._new or (self._new < self.SAVE_FROM and self.path.is_file()):
            return
        data = self._entries()
        if len(data) > self.MAX_ENTRIES:
            data = {k: v for k, v in data.items() if k in self._used}
        try:
            replace_cache_file(self.path, lambda f: pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL), binary=True, others="frontmatter-*.pickle")
        except (OSError, pickle.PicklingError, TypeError):
            pass
        self._new = 0


def load_knowledge(root: Path, cache_dir: Path | None = None) -> KnowledgeBase:
    """Every valid document under ``root``; ``cache_dir`` keeps the instruction-like-text scan's
    findings (``knowledge.injection.FindingsCache``) and the parsed front matter
    (:class:`FrontMatterCache`) on disk between processes."""
    kb = KnowledgeBase(root=root)
    candidates: dict[str, Document] = {}
    cache = FindingsCache(cache_dir) if cache_dir is not None else None
    parsed_yaml = FrontMatterCache(cache_dir) if cache_dir is not None else None
    for path in sorted(root.rglob("*.md")):
        if path.name.lower() == "readme.md" or any(p.startswith(".") for p in path.relative_to(root).parts):
            continue
        try:
            doc = read_document(path, root, parsed_yaml)
            refused, writing = _own_checks(doc, cache)
            if refused:  # instruction-like text keeps a document out of every answer
                raise DocumentInvalid(refused)
        except DocumentInvalid as exc:
            kb.errors.extend(exc.errors)
            continue
        if doc.id in candidates:
            other = candidates[doc.id].path
            kb.errors.append(KnowledgeError(doc.path, "id", f"duplicate id '{doc.id}' (also in {other})"))
            continue
        candidates[doc.id] = doc
        kb.errors.extend(writing)  # reported, the document still loads
    if cache is not None:
        cache.save()
    if parsed_yaml is not None:
        parsed_yaml.save()
    alias_errors = _alias_errors(candidates)
    kb.errors.extend(alias_errors)
    for err in alias_errors:
        candidates.pop(_id_of(err, candidates), None)
    parsed = {i: d.kind for i, d in candidates.items()}
    while True:
        bad = _reference_errors(candidates, parsed)
        if not bad:
            break
        kb.errors.extend(bad)
        for err in bad:
            candidates.pop(_id_of(err, candidates), None)
    kb.docs = candidates
    return kb


_CHECKED: dict[tuple, tuple[list[KnowledgeError], list[KnowledgeError]]] = {}


def _own_checks(doc: Document, cache: FindingsCache | None = None) -> tuple[list[KnowledgeError], list[KnowledgeError]]:
    """The checks of one document alone (instruction-like text, how it is written), remembered
    by path, version and date: the whole knowledge base is re-read after every write."""
    key = (doc.path, doc.version, dt.date.today())
    got = _CHECKED.get(key)
    if got is None:
        try:
            refuse_instructions(doc, cache)
            refused = []
        except DocumentInvalid as exc:
            refused = exc.errors
        if len(_CHECKED) > 20_000:
            _CHECKED.clear()
        got = _CHECKED[key] = (refused, writing_errors(doc))
    return got


_URL = re.compile(r"https?://[^\s\"<>]+\.[^\s\"<>]+")
_NOT_A_SOURCE = re.compile(r"shared/|\bseed\b|summary in|internal note|\bTODO\b|\bTBD\b|see above", re.I)
"""A validation rule, not unfinished work: a document's ``sources`` entry that says one of these
(a placeholder or a pointer to internal notes) is rejected by ``reskill validate``."""


def writing_errors(doc: Document, today: dt.date | None = None) -> list[KnowledgeError]:
    """What ``reskill validate`` can check of how a document is written: its text sits in
    titled ``##`` sections, no section is empty, every source is a URL or a named publication,
    and ``updated`` is not in the future."""
    errors = []
    if doc.meta.updated > (today or dt.date.today()):
        errors.append(KnowledgeError(doc.path, "updated", f"{doc.meta.updated} is in the future"))
    for i, source in enumerate(doc.meta.sources):
        named = len(source.split()) >= 2 and re.search(r"[A-Z]", source)
        if _NOT_A_SOURCE.search(source) or not (_URL.search(source) or named):
            errors.append(KnowledgeError(doc.path, f"sources.{i}", f"'{source}' is neither a URL nor a named publication"))
    parts = re.split(r"^##[ \t]+(.*)$", doc.body, flags=re.M)
    preamble = [line for line in parts[0].splitlines() if line.strip() and not line.startswith("# ")]
    if len(parts) == 1:
        errors.append(KnowledgeError(doc.path, "body", "has no ## section; title each section by the question it answers"))
    elif preamble:
        errors.append(KnowledgeError(doc.path, "body", f"text before the first ## heading has no section title: '{preamble[0][:60]}'"))
    for heading, text in zip(parts[1::2], parts[2::2]):
        if not heading.strip():
            errors.append(KnowledgeError(doc.path, "body", "a ## heading is empty"))
        elif not re.sub(r"^#{3,}.*$", "", text, flags=re.M).strip():
            errors.append(KnowledgeError(doc.path, "body", f"section '{heading.strip()}' has no text"))
    return errors


def _id_of(err: KnowledgeError, docs: dict[str, Document]) -> str | None:
    return next((i for i, d in docs.items() if d.path == err.path), None)


def check_document(doc: Document, kb: KnowledgeBase) -> list[KnowledgeError]:
    """The errors ``doc`` would have if it joined (or replaced its namesake in) ``kb``."""
    docs = {i: d for i, d in kb.docs.items() if i != doc.id}
    errors = []
    if doc.kind == "skill":
        taken = {}
        for other in docs.values():
            if other.kind == "skill":
                for name in [other.id.replace("_", " "), *other.meta.aliases]:
                    taken[normalise_alias(name)] = other.id
        for alias in doc.meta.aliases:
            owner = taken.get(normalise_alias(alias))
            if owner:
                errors.append(KnowledgeError(doc.path, "aliases", f"alias '{alias}' is already used by '{owner}'"))
    docs[doc.id] = doc
    errors += [e for e in _reference_errors(docs) if e.path == doc.path]
    return errors


def _alias_errors(docs: dict[str, Document]) -> list[KnowledgeError]:
    """A duplicate alias makes both skill documents ambiguous; the later file is rejected."""
    errors, owner = [], {}
    skills = [d for d in docs.values() if d.kind == "skill"]
    for doc in skills:
        owner.setdefault(normalise_alias(doc.id.replace("_", " ")), doc)
    for doc in skills:
        names = [normalise_alias(a) for a in doc.meta.aliases]
        for name in names:
            first = owner.setdefault(name, doc)
            if first is not doc:
                errors.append(KnowledgeError(doc.path, "aliases", f"alias '{name}' is already used by '{first.id}'"))
    return errors


def _reference_errors(docs: dict[str, Document], parsed: dict[str, str] | None = None) -> list[KnowledgeError]:
    """Hard references (requirements, prerequisites, transition ends) must point at loaded
    documents; the ``roles``/``skills`` tags only at documents that exist (``parsed``), so one
    broken file does not take every document tagged with it down too."""
    skills = {i for i, d in docs.items() if d.kind == "skill"}
    roles = {i for i, d in docs.items() if d.kind == "role"}
    parsed = parsed if parsed is not None else {i: d.kind for i, d in docs.items()}
    errors: list[KnowledgeError] = []
    for doc in docs.values():
        m = doc.meta
        for s in m.skills:
            if parsed.get(s) != "skill":
                errors.append(KnowledgeError(doc.path, "skills", f"unknown skill id '{s}'"))
        for r in m.roles:
            if parsed.get(r) != "role":
                errors.append(KnowledgeError(doc.path, "roles", f"unknown role id '{r}'"))
        if isinstance(m, RoleDoc):
            for i, req in enumerate(m.requirements):
                field_name = f"requirements.{i}.skill" if req.skill else f"requirements.{i}.any_of"
                for sid in req.members:
                    if sid not in skills:
                        errors.append(KnowledgeError(doc.path, field_name, f"unknown skill id '{sid}'"))
            required = {sid for req in m.requirements for sid in req.members}
            for sid in m.typical:
                if sid not in skills or sid in required:
                    why = "is also a requirement" if sid in required else "is not a skill id"
                    errors.append(KnowledgeError(doc.path, f"typical.{sid}", f"'{sid}' {why}"))
        if isinstance(m, SkillDoc):
            for p in m.prerequisites:
                if p not in skills:
                    errors.append(KnowledgeError(doc.path, "prerequisites", f"unknown skill id '{p}'"))
            for i, imp in enumerate(m.implies):
                if imp.skill not in skills or imp.skill == doc.id:
                    errors.append(KnowledgeError(doc.path, f"implies.{i}.skill", f"unknown or self skill id '{imp.skill}'"))
        if isinstance(m, TransitionDoc):
            for name in ("from_role", "to_role"):
                if getattr(m, name) not in roles:
                    errors.append(KnowledgeError(doc.path, name, f"unknown role id '{getattr(m, name)}'"))
    errors.extend(_cycle_errors({i: docs[i] for i in skills}, "prerequisites", lambda m: m.prerequisites))
    errors.extend(_cycle_errors({i: docs[i] for i in skills}, "implies", lambda m: [x.skill for x in m.implies]))
    # One error per file and field is enough to drop it; keep them all for the report.
    return errors


def _cycle_errors(skills: dict[str, Document], name: str, edges) -> list[KnowledgeError]:
    """Cycles along one kind of edge between skills (prerequisites, or implications)."""
    errors, state = [], {}

    def visit(sid: str, trail: list[str]) -> None:
        state[sid] = "open"
        for p in edges(skills[sid].meta):
            if p not in skills:
                continue
            if state.get(p) == "open":
                cycle = trail[trail.index(p):] + [p] if p in trail else [sid, p]
                label = "prerequisite" if name == "prerequisites" else "implication"
                errors.append(KnowledgeError(skills[sid].path, name, f"{label} cycle: {' -> '.join(cycle)}"))
            elif p not in state:
                visit(p, trail + [p])
        state[sid] = "done"

    for sid in sorted(skills):
        if sid not in state:
            visit(sid, [sid])
    return errors
