"""A write re-indexes without reading the collection back (issue 15, item 12), and stays correct.

The index keeps a mirror of what the collection holds; these tests hold it to the collection:
a write makes no full read, a removed role leaves no stale filter key, and a collection changed
behind the mirror's back is noticed and repaired by the next sync.
"""

from __future__ import annotations


def front(doc) -> dict:
    return doc.meta.model_dump(mode="json", exclude_none=True)


def chroma_calls(advisor) -> list[tuple[str, dict]]:
    calls: list[tuple[str, dict]] = []
    inner = advisor.index._call

    def recording(method, **kwargs):
        calls.append((method, kwargs))
        return inner(method, **kwargs)

    advisor.index._call = recording
    return calls


def test_a_write_reads_nothing_back_and_embeds_only_the_changed_chunk(advisor, counting):
    doc = advisor.store.get("docker")
    calls = chroma_calls(advisor)
    counting.texts.clear()
    body = doc.body.replace("then build one small project", "then containerise one small model service")
    advisor.store.put("docker", front(doc), body, doc.version)
    full_reads = [m for m, kw in calls if m == "get" and "ids" not in kw]
    assert full_reads == [], f"a write read the whole collection: {calls}"
    assert len(counting.texts) == 1 and "containerise one small model service" in counting.texts[0]
    hits = advisor.search("containerise a small model service", k=3)
    assert any("containerise one small model service" in h.snippet for h in hits)
    assert advisor.out_of_step() == []


def test_a_removed_role_is_no_longer_a_filter_key(advisor):
    assert any(h.doc_id == "docker" for h in advisor.search("Docker images", k=10, role="ml_engineer"))
    doc = advisor.store.get("docker")
    advisor.store.put("docker", front(doc) | {"roles": []}, doc.body, doc.version)
    assert not any(h.doc_id == "docker" for h in advisor.search("Docker images", k=10, role="ml_engineer"))
    stored = advisor.index.collection.get(where={"doc_id": "docker"}, include=["metadatas"])
    assert stored["ids"] and all("role_ml_engineer" not in md for md in stored["metadatas"])


def test_chunks_removed_behind_the_mirrors_back_come_back_at_the_next_sync(advisor):
    gone = advisor.index.collection.get(where={"doc_id": "sql"})["ids"]
    advisor.index.collection.delete(ids=gone)
    assert advisor.out_of_step() == ["sql"]
    report = advisor.refresh()
    assert "sql" in report.added + report.updated
    assert advisor.out_of_step() == []
    assert any(h.doc_id == "sql" for h in advisor.search("SQL joins and window functions", k=5))
