"""Edits keep what they did not change (issue 16, item 2), through the store and the HTTP API.

A body-only edit leaves the front matter's bytes as they were (flow lists, key order, integer
level keys, an unquoted date, comments); a changed field rewrites that field only; a restore
writes the old version's bytes back, so it is that version again (same content hash).
"""

from __future__ import annotations

import datetime as dt
import difflib

import pytest
from fastapi.testclient import TestClient

from advisor.api import create_app
from knowledge.document import content_version
from knowledge.store import KnowledgeStore

KEY = "test-key-roundtrip"
WRITE = {"X-API-Key": KEY}

# The hand-written style of the knowledge base, with what a plain YAML dump would lose.
HAND_WRITTEN = """\
---
id: docker
title: Docker
kind: skill
category: engineering
roles: [ml_engineer]
updated: 2026-11-01
# Names a person might use for it.
aliases: [Docker, containers, Dockerfile]
prerequisites: [python]
levels:
  1: Can follow a tutorial on Docker.
  2: Uses Docker for routine work with some help.
  3: "Uses Docker independently: production quality."
  4: Designs, reviews and teaches Docker practice.
hours: [8, 25, 60, 150]
sources:
  - "Docker documentation: https://docs.docker.com"
---

# Docker

## What Docker is
Docker packages an application and its dependencies into an image that runs the same way everywhere.

## How to learn Docker
Start with the official documentation of Docker, then build one small project that uses it end to end.
"""


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def head_of(text: str) -> str:
    return text.split("\n---\n", 1)[0]


@pytest.fixture
def hand_written(kb_dir):
    path = kb_dir / "skills" / "docker.md"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    return path


@pytest.fixture
def store(kb_dir, tmp_path, hand_written):
    return KnowledgeStore(kb_dir, tmp_path / "data")


def as_sent(doc) -> dict:
    """The front matter as a client sends it back (GET's JSON: level keys as strings, dates as text)."""
    return doc.meta.model_dump(mode="json", exclude_none=True)


def test_body_only_edit_changes_only_the_body_and_restore_is_byte_identical(store, hand_written):
    doc = store.get("docker")
    assert doc.version == content_version(HAND_WRITTEN)
    body = doc.body.replace("then build one small project", "then build one small project (a typo fixed)")
    new = store.put("docker", as_sent(doc), body, doc.version)
    after = hand_written.read_text(encoding="utf-8")
    assert head_of(after) == head_of(HAND_WRITTEN), "the front matter was rewritten"
    assert changed_lines(HAND_WRITTEN, after) == [
        "-Start with the official documentation of Docker, then build one small project that uses it end to end.",
        "+Start with the official documentation of Docker, then build one small project (a typo fixed) that uses it end to end.",
    ]
    assert new.version == content_version(after) != doc.version

    restored = store.restore("docker", doc.version, new.version)
    assert hand_written.read_bytes() == HAND_WRITTEN.encode("utf-8")
    assert restored.version == doc.version == store.version_of("docker")
    assert [h.version for h in store.history("docker")] == [doc.version, new.version]


def test_a_changed_field_rewrites_that_field_only(store, hand_written):
    doc = store.get("docker")
    front = as_sent(doc)
    front["levels"]["2"] = "Writes a Dockerfile for a Python service."
    front["aliases"] = [*front["aliases"], "OCI images"]
    store.put("docker", front, doc.body, doc.version)
    after = hand_written.read_text(encoding="utf-8")
    assert sorted(changed_lines(HAND_WRITTEN, after)) == sorted([
        "-aliases: [Docker, containers, Dockerfile]",
        "+aliases: [Docker, containers, Dockerfile, OCI images]",
        "-  2: Uses Docker for routine work with some help.",
        "+  2: Writes a Dockerfile for a Python service.",
    ])
    assert "# Names a person might use for it." in after and "updated: 2026-11-01\n" in after
    assert store.get("docker").meta.levels[2] == "Writes a Dockerfile for a Python service."


def test_updated_changes_only_when_asked(store, hand_written):
    doc = store.get("docker")
    store.put("docker", as_sent(doc), doc.body + "\nOne more line.\n", doc.version)
    assert "updated: 2026-11-01\n" in hand_written.read_text(encoding="utf-8")
    doc = store.get("docker")
    store.put("docker", as_sent(doc), doc.body, doc.version, set_updated=True)
    after = hand_written.read_text(encoding="utf-8")
    today = dt.date.today().isoformat()
    assert [line for line in changed_lines(HAND_WRITTEN, after) if "updated" in line] == ["-updated: 2026-11-01", f"+updated: {today}"]
    assert store.get("docker").meta.updated == dt.date.today()


def test_a_new_document_is_written_in_the_hand_written_style(store, kb_dir):
    doc = store.get("docker")
    front = as_sent(doc) | {"id": "podman", "title": "Podman", "aliases": ["Podman"]}
    store.put("podman", front, "# Podman\n\n## What Podman is\nA daemonless container engine.\n", None)
    text = (kb_dir / "skills" / "podman.md").read_text(encoding="utf-8")
    assert "roles: [ml_engineer]\n" in text and "updated: 2026-11-01\n" in text and "\n  1: Can follow" in text
    assert "'1'" not in text and "'2026" not in text


def test_http_body_only_edit_and_restore(settings, counting, hand_written):
    from advisor.core import Advisor

    adv = Advisor(settings.model_copy(update={"api_keys": [KEY]}), counting)
    with TestClient(create_app(adv.settings, adv)) as client:
        got = client.get("/v1/knowledge/docker")
        original = got.headers["etag"]
        assert got.json()["version"] == content_version(HAND_WRITTEN)
        sent = got.json()
        sent["body"] = sent["body"].replace("runs the same way everywhere", "runs the same way on every machine")
        r = client.put("/v1/knowledge/docker", json=sent, headers={**WRITE, "If-Match": original})
        assert r.status_code == 200, r.text
        after = hand_written.read_text(encoding="utf-8")
        assert head_of(after) == head_of(HAND_WRITTEN)
        assert len(changed_lines(HAND_WRITTEN, after)) == 2

        r = client.post(f"/v1/knowledge/docker/restore/{got.json()['version']}", headers={**WRITE, "If-Match": r.headers["etag"]})
        assert r.status_code == 200, r.text
        assert r.headers["etag"] == original and r.json()["version"] == got.json()["version"]
        assert hand_written.read_bytes() == HAND_WRITTEN.encode("utf-8")

        r = client.put("/v1/knowledge/docker", params={"set_updated": "true"}, json=sent, headers={**WRITE, "If-Match": original})
        assert r.status_code == 200 and r.json()["front_matter"]["updated"] == dt.date.today().isoformat()
        assert f"\nupdated: {dt.date.today().isoformat()}\n" in hand_written.read_text(encoding="utf-8")
