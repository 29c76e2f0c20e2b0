"""Fast start (issue 14): what a start reads from the data dir's cache instead of computing again
is keyed by content, and a change is always read afresh. Real knowledge base files (a temporary
copy of the fixture KB), real PyYAML."""

from __future__ import annotations

import pickle

import pytest
import yaml

import knowledge.base as base
import knowledge.document as document
from knowledge.base import FrontMatterCache, load_knowledge
from tests.conftest import FIXTURE_KB


@pytest.fixture
def new_process(monkeypatch):
    """Forget what this process parsed already, as a new process would; count YAML parses."""
    parses = []
    real = yaml.load

    def counting(stream, Loader):  # noqa: N803 - PyYAML's own argument name
        parses.append(stream)
        return real(stream, Loader=Loader)

    def forget() -> None:
        monkeypatch.setattr(document, "_READ", {})
        monkeypatch.setattr(base, "_CHECKED", {})
        parses.clear()

    load_knowledge(FIXTURE_KB)  # what is loaded once per process (the injection rules) is loaded
    monkeypatch.setattr(document.yaml, "load", counting)
    forget()
    return forget, parses


def _same(a, b) -> None:
    assert a.docs.keys() == b.docs.keys()
    for doc_id, doc in a.docs.items():
        other = b.docs[doc_id]
        assert (doc.meta, doc.body, doc.version, doc.path) == (other.meta, other.body, other.version, other.path)
    assert [str(e) for e in a.errors] == [str(e) for e in b.errors]


def test_an_unchanged_knowledge_base_is_read_from_the_cache_with_the_same_documents(kb_dir, tmp_path, new_process):
    forget, parses = new_process
    plain = load_knowledge(kb_dir)  # no cache dir: every front matter parsed
    every = len(parses)
    assert every == len(plain.docs) + len(plain.errors) > 10
    forget()
    first = load_knowledge(kb_dir, cache_dir=tmp_path / "cache")
    assert len(parses) == every
    assert list((tmp_path / "cache").glob("frontmatter-*.pickle"))
    forget()
    again = load_knowledge(kb_dir, cache_dir=tmp_path / "cache")
    assert parses == [], "nothing parsed again"
    _same(plain, first)
    _same(plain, again)


def test_a_changed_front_matter_is_parsed_again_and_its_new_value_loaded(kb_dir, tmp_path, new_process):
    forget, parses = new_process
    cache = tmp_path / "cache"
    load_knowledge(kb_dir, cache_dir=cache)
    path = kb_dir / "skills" / "docker.md"
    text = path.read_text(encoding="utf-8")
    old_title = load_knowledge(kb_dir, cache_dir=cache).docs["docker"].meta.title
    path.write_text(text.replace(f"title: {old_title}", "title: Docker, edited", 1), encoding="utf-8")
    forget()
    kb = load_knowledge(kb_dir, cache_dir=cache)
    assert kb.docs["docker"].meta.title == "Docker, edited"
    assert len(parses) == 1, "only the edited document is parsed"
    path.write_text(text, encoding="utf-8")  # and back: the first parse is still there
    forget()
    assert load_knowledge(kb_dir, cache_dir=cache).docs["docker"].meta.title == old_title
    assert parses == []


def test_a_damaged_or_hostile_cache_file_is_ignored(kb_dir, tmp_path, new_process):
    forget, parses = new_process
    cache = tmp_path / "cache"
    plain = load_knowledge(kb_dir)
    target = FrontMatterCache(cache).path
    cache.mkdir()
    for content in (b"not a pickle", pickle.dumps({"x": __import__("os").getcwd}), pickle.dumps(["a list"])):
        target.write_bytes(content)
        forget()
        _same(plain, load_knowledge(kb_dir, cache_dir=cache))
        assert len(parses) == len(plain.docs) + len(plain.errors)
    forget()
    _same(plain, load_knowledge(kb_dir, cache_dir=cache))  # the rewritten cache answers again
    assert parses == []


def test_a_few_new_front_matters_do_not_rewrite_the_cache_many_do(kb_dir, tmp_path, new_process):
    forget, parses = new_process
    cache = tmp_path / "cache"
    load_knowledge(kb_dir, cache_dir=cache)
    saved = FrontMatterCache(cache).path
    before = saved.read_bytes()
    skills = sorted((kb_dir / "skills").glob("*.md"))[: FrontMatterCache.SAVE_FROM]
    assert len(skills) == FrontMatterCache.SAVE_FROM
    for n, path in enumerate(skills):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("---\n", f"---\n# edit {n}\n", 1), encoding="utf-8")  # a YAML comment
        forget()
        load_knowledge(kb_dir, cache_dir=cache)
        if n + 1 < FrontMatterCache.SAVE_FROM:
            assert saved.read_bytes() == before, "one edit does not rewrite the cache"
            assert len(parses) == n + 1, "the edited documents are parsed again, the others are not"
    assert saved.read_bytes() != before, "enough new front matter is written"
    forget()
    load_knowledge(kb_dir, cache_dir=cache)
    assert parses == []
