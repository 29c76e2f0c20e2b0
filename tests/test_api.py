"""The HTTP API through TestClient: every route, status code and error path, on the real Advisor.

One Advisor (real embedding model, temporary Chroma store, temporary copy of the fixture KB) serves
the module; tests that write create their own documents, so they do not disturb each other.
The schemathesis tests at the end get an Advisor of their own.
"""

from __future__ import annotations

import base64
import io
import itertools
import uuid
import json
import os
import shutil
import struct
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from advisor.api import create_app
from advisor.api.examples import NEW_RESOURCE
from advisor.settings import Settings
from knowledge.document import parse_document
from tests.helpers import tiny_pdf

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"
KEY = "test-key-0123456789"
WRITE = {"X-API-Key": KEY}
_ids = itertools.count(1)


# -- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def clean_env():
    """Module-scoped fixtures run before conftest's per-test isolation: clear RESKILL_* here too."""
    mp = pytest.MonkeyPatch()
    for key in list(os.environ):
        if key.startswith("RESKILL_"):
            mp.delenv(key)
    yield
    mp.undo()


def make_settings(root, **extra) -> Settings:
    return Settings(_env_file=None, data_dir=root / "data", knowledge_dir=root / "kb", **extra)


def make_advisor(tmp_path_factory, embedder, name: str, **extra):
    from advisor.core import Advisor

    root = tmp_path_factory.mktemp(name)
    shutil.copytree(FIXTURE_KB, root / "kb")
    return Advisor(make_settings(root, api_keys=[KEY], **extra), embedder)


@pytest.fixture(scope="module", params=["embedded", "server"])
def adv(request, clean_env, tmp_path_factory, embedder):
    """Every API test runs against the embedded store and against a real Chroma server."""
    if request.param == "server":
        url = request.getfixturevalue("chroma_server")
        return make_advisor(tmp_path_factory, embedder, "api-server", chroma_url=url, collection=f"api-{uuid.uuid4().hex[:10]}")
    return make_advisor(tmp_path_factory, embedder, "api")


@pytest.fixture(scope="module")
def client(adv):
    with TestClient(create_app(adv.settings, adv)) as c:
        yield c


def app_client(adv, **changes) -> TestClient:
    """Another app over the same Advisor, with different API settings."""
    return TestClient(create_app(adv.settings.model_copy(update=changes), adv))


def new_resource(title: str = "A workshop on containers", body_word: str = "containers") -> dict:
    """The documented example resource (the one /docs shows), under another title and body."""
    return {
        "front_matter": {**NEW_RESOURCE["front_matter"], "title": title},
        "body": f"# {title}\n\n## What it covers\nA hands-on session about {body_word} for data scientists.\n",
    }


def create(client, doc: dict | None = None) -> tuple[str, dict]:
    doc_id = f"test_resource_{next(_ids)}"
    r = client.put(f"/v1/knowledge/{doc_id}", json=doc or new_resource(), headers=WRITE)
    assert r.status_code == 201, r.text
    return doc_id, r.json()


def sse_events(text: str) -> list[tuple[str | None, str]]:
    events = []
    for block in text.strip().split("\n\n"):
        name, data = None, []
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        events.append((name, "\n".join(data)))
    return events


def tiny_docx(text: str) -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


QUESTION = {"messages": [{"role": "user", "content": "What does an ML engineer do?"}]}


# -- operations --------------------------------------------------------------------------------
def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready" and body["engine"] == "grounded" and body["documents"]["role"] == 3


def test_readyz_is_503_until_the_index_matches_an_edit_made_elsewhere(client, adv):
    doc_id, _ = create(client)
    path = adv.settings.knowledge_dir / "resources" / f"{doc_id}.md"
    freshness = client.app.state.freshness
    freshness.interval = 3600  # hold off the automatic refresh to see the out-of-step state
    try:
        path.write_text(path.read_text().replace("hands-on session", "hands-on evening session"))
        r = client.get("/readyz")
        assert r.status_code == 503
        assert doc_id in r.json()["out_of_step"] and doc_id in r.json()["reason"]
        assert r.headers["retry-after"]
        freshness.interval = 0  # the next request notices the edit and refreshes
        assert client.get("/readyz").status_code == 200
        hits = client.get("/v1/search", params={"q": "hands-on evening session", "kind": "resource"}).json()
        assert hits[0]["doc_id"] == doc_id
    finally:
        freshness.interval = 1.0


def test_readyz_and_routes_before_the_advisor_is_loaded(adv):
    app = create_app(adv.settings)  # no advisor, and no lifespan run (no `with`): nothing is loaded
    c = TestClient(app)
    r = c.get("/readyz")
    assert r.status_code == 503 and "loading" in r.json()["reason"]
    r = c.get("/v1/search", params={"q": "docker"})
    assert r.status_code == 503 and "readyz" in r.json()["detail"]
    assert c.get("/healthz").status_code == 200


def test_openapi_and_docs(client):
    schema = client.get("/openapi.json").json()
    ops = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert len(ops) >= 20
    for path, method, op in ops:
        text = json.dumps(op)
        assert '"example' in text, f"{method.upper()} {path} has no example"
        assert "HTTPValidationError" not in text
    assert "ProfileTextRequest" in schema["components"]["schemas"]
    body = schema["paths"]["/v1/profile"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "multipart/form-data"}
    assert "bearer" in json.dumps(schema["components"]["securitySchemes"]).lower()
    r = client.get("/docs")
    assert r.status_code == 200 and "swagger" in r.text.lower()


# -- search and catalogue ----------------------------------------------------------------------
def test_search(client):
    hits = client.get("/v1/search", params={"q": "serve a model behind an API", "k": 3}).json()
    assert 1 <= len(hits) <= 3
    assert hits[0]["doc_id"] == "model_serving"
    assert set(hits[0]) == {"doc_id", "title", "kind", "roles", "skills", "section", "score", "snippet"}
    only = client.get("/v1/search", params={"q": "docker", "kind": "resource", "role": "ml_engineer"}).json()
    assert only and all(h["kind"] == "resource" for h in only)


@pytest.mark.parametrize(
    "params, needle",
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "empty"),
        ({"q": "docker", "k": 0}, "k"),
        ({"q": "docker", "k": 51}, "k"),
        ({"q": "docker", "k": "many"}, "k"),
        ({"q": "docker", "kind": "recipe"}, "kind"),
        ({"q": "docker", "role": "astronaut"}, "astronaut"),
    ],
)
def test_search_bad_parameters_are_400(client, params, needle):
    r = client.get("/v1/search", params=params)
    assert r.status_code == 400, r.text
    assert needle in r.json()["detail"]


def test_roles_and_skills(client):
    roles = client.get("/v1/roles").json()
    assert [r["id"] for r in roles] == ["bi_analyst", "data_scientist", "ml_engineer"]
    assert roles[2]["front_matter"]["requirements"][0]["skill"] == "python"
    r = client.get("/v1/roles/ml_engineer")
    assert r.status_code == 200
    doc = r.json()
    assert set(doc) == {"id", "front_matter", "body", "version"}
    assert r.headers["etag"] == f'"{doc["version"]}"'
    assert "# Machine Learning Engineer" in doc["body"]
    skills = client.get("/v1/skills").json()
    assert {"docker", "sql", "power_bi"} <= {s["id"] for s in skills}
    assert all(s["kind"] == "skill" for s in skills)
    assert client.get("/v1/skills/docker").json()["front_matter"]["category"] == "engineering"
    assert client.get("/v1/skills/ml_engineer").status_code == 404  # a role, not a skill
    assert client.get("/v1/roles/docker").status_code == 404
    assert client.get("/v1/roles/astronaut").status_code == 404


# -- advice ------------------------------------------------------------------------------------
def test_chat_answer_with_citations(client):
    r = client.post("/v1/chat", json=QUESTION)
    assert r.status_code == 200
    answer = r.json()
    assert answer["citations"] and answer["grounded"] is True
    assert "[1]" in answer["text"] and answer["engine"] == "grounded"


def test_chat_history_and_profile(client):
    messages = [
        {"role": "user", "content": "I know Python very well and use Docker every day."},
        {"role": "assistant", "content": "Noted."},
        {"role": "user", "content": "How far am I from ML engineer?"},
    ]
    answer = client.post("/v1/chat", json={"messages": messages}).json()
    levels = {s["skill_id"]: s["level"] for s in answer["profile"]["skills"]}
    assert levels.get("python", 0) >= 3 and levels.get("docker", 0) >= 2  # rebuilt from the history

    given = {"skills": [{"skill_id": "sql", "level": 3}]}
    answer = client.post("/v1/chat", json={"messages": messages[-1:], "profile": given}).json()
    assert [s["skill_id"] for s in answer["profile"]["skills"] if s["source"] == "stated"] == ["sql"]
    assert all(s["source"] == "assumed" for s in answer["profile"]["skills"] if s["skill_id"] != "sql")


def test_chat_stream_sends_pieces_then_the_answer(client):
    r = client.post("/v1/chat", json={**QUESTION, "stream": True})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    names = [n for n, _ in events]
    assert names[-1] == "answer" and set(names[:-1]) == {"delta"} and len(names) > 2
    answer = json.loads(events[-1][1])
    streamed = "".join(json.loads(d)["text"] for n, d in events if n == "delta")
    assert streamed == answer["text"] and answer["citations"]


def test_chat_stream_bad_input_is_an_ordinary_422(client):
    r = client.post("/v1/chat", json={"messages": [{"role": "user", "content": "  "}], "stream": True})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/json")
    assert "empty" in r.json()["detail"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": "hello"}, "messages"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, "messages.0.role"),
        ({"messages": [{"role": "user"}]}, "messages.0.content"),
        ({"messages": [{"role": "user", "content": "hi"}], "colour": "red"}, "colour"),
        ({"messages": [{"role": "user", "content": "hi"}], "profile": {"skills": [{"skill_id": "sql", "level": 9}]}}, "profile.skills.0.level"),
        ({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}, "messages.1.role"),
    ],
)
def test_chat_malformed_bodies_are_422_naming_the_field(client, body, field):
    r = client.post("/v1/chat", json=body)
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]], r.json()


def test_chat_unknown_skill_in_profile_is_422(client):
    r = client.post("/v1/chat", json={**QUESTION, "profile": {"skills": [{"skill_id": "juggling", "level": 2}]}})
    assert r.status_code == 422 and "juggling" in r.json()["detail"]


def test_chat_limits(client, adv):
    s = adv.settings
    long = {"messages": [{"role": "user", "content": "x" * (s.max_message_chars + 1)}]}
    r = client.post("/v1/chat", json=long)
    assert r.status_code == 422 and str(s.max_message_chars) in r.json()["detail"]
    many = [{"role": "user", "content": "I know SQL."}] * (s.max_messages + 1) + [{"role": "user", "content": "And?"}]
    r = client.post("/v1/chat", json={"messages": many})
    assert r.status_code == 422 and str(s.max_messages) in r.json()["detail"]


def test_invalid_json_and_bad_unicode_are_422(client):
    r = client.post("/v1/chat", content=b'{"messages": [', headers={"content-type": "application/json"})
    assert r.status_code == 422 and "JSON" in r.json()["detail"]
    r = client.post("/v1/chat", content=b'{"messages": [{"role": "user", "content": "a\\ud800b"}]}', headers={"content-type": "application/json"})
    assert r.status_code == 422 and "surrogate" in r.json()["detail"]
    ok = '{"messages": [{"role": "user", "content": "What does an ML engineer do? \\ud83d\\ude00"}]}'
    assert client.post("/v1/chat", content=ok, headers={"content-type": "application/json"}).status_code == 200
    r = client.post("/v1/chat", content=b"messages=hi", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 422


def test_oversize_bodies_are_413(adv):
    with app_client(adv, max_body_bytes=2_000) as c:
        big = {"messages": [{"role": "user", "content": "x" * 3_000}]}
        r = c.post("/v1/chat", json=big)
        assert r.status_code == 413 and "RESKILL_MAX_BODY_BYTES" in r.json()["detail"]

        def chunks():  # no Content-Length: the limit is counted as the bytes arrive
            yield b'{"messages": [{"role": "user", "content": "'
            for _ in range(10):
                yield b"y" * 500
            yield b'"}]}'

        r = c.post("/v1/chat", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413
        r = c.post("/v1/chat/completions", json=big)
        assert r.status_code == 413 and "error" in r.json()  # OpenAI's error shape there
        assert c.post("/v1/chat", json=QUESTION).status_code == 200


def test_recommend(client):
    r = client.post("/v1/recommend", json={"text": "I use Python daily and SQL at a working level; some Docker.", "targets": ["ml_engineer"], "hours": 8})
    assert r.status_code == 200
    rec = r.json()
    assert rec["plan"]["role_id"] == "ml_engineer" and rec["plan"]["weekly_hours"] == 8
    assert rec["roles"][0]["gaps"] and "ml_engineer" in rec["sources"]
    resources = [r for st in rec["plan"]["stages"] for r in st["resources"]]
    assert resources, "the plan recommends resources"
    for r in resources:  # linked as chat citations are: title, document path, source links
        assert r["title"] and r["title"] != r["id"] and r["document_url"] == f"/v1/knowledge/{r['id']}"
        assert all(s["url"].startswith("http") for s in r["sources"])
    doc = client.get(resources[0]["document_url"])
    assert doc.status_code == 200 and doc.json()["front_matter"]["title"] == resources[0]["title"]
    r = client.post("/v1/recommend", json={"profile": {"skills": [{"skill_id": "sql", "level": 3}, {"skill_id": "power_bi", "level": 2}]}, "seniority": "junior"})
    assert r.status_code == 200 and r.json()["seniority"] == "junior"


@pytest.mark.parametrize(
    "body, needle",
    [
        ({}, "exactly one"),
        ({"text": "I know SQL", "profile": {"skills": []}}, "exactly one"),
        ({"text": "I know SQL", "targets": ["astronaut"]}, "astronaut"),
        ({"text": "I know SQL", "hours": 0}, "hours"),
        ({"text": "I know SQL", "hours": 500}, "hours"),
        ({"text": "I know SQL", "seniority": "wizard"}, "seniority"),
        ({"text": "   "}, "empty"),
    ],
)
def test_recommend_bad_input_is_422(client, body, needle):
    r = client.post("/v1/recommend", json=body)
    assert r.status_code == 422, r.text
    assert needle in r.text


def test_compare(client):
    r = client.post("/v1/compare", json={"text": "Five years of Python and statistics, SQL every day, a little Power BI."})
    assert r.status_code == 200
    body = r.json()
    assert {p["role_id"] for p in body["paths"]} == {"bi_analyst", "ml_engineer"} and body["summary"]
    outlook = [h for p in body["paths"] for h in p["outlook"]]
    assert outlook and all(h["document_url"] == f"/v1/knowledge/{h['doc_id']}" for h in outlook), "the outlook's citations link their documents"
    assert all(s["url"].startswith("http") for h in outlook for s in h["sources"])
    assert client.post("/v1/compare", json={"text": "SQL", "roles": ["astronaut"]}).status_code == 422


def test_profile_from_json_and_every_resume_type(client):
    r = client.post("/v1/profile", json={"text": "I know SQL and Power BI well"})
    assert r.status_code == 200
    assert {s["skill_id"] for s in r.json()["skills"]} >= {"sql", "power_bi"}
    base = r.json()
    merged = client.post("/v1/profile", json={"text": "I also use Docker every day", "base": base}).json()
    assert {"sql", "power_bi", "docker"} <= {s["skill_id"] for s in merged["skills"]}

    text = "I know SQL and Power BI well"
    for name, data in [("cv.txt", text.encode()), ("cv.md", f"# CV\n\n{text}".encode()), ("cv.pdf", tiny_pdf(text)), ("cv.docx", tiny_docx(text))]:
        r = client.post("/v1/profile", files={"file": (name, data)})
        assert r.status_code == 200, (name, r.text)
        assert {"sql", "power_bi"} <= {s["skill_id"] for s in r.json()["skills"]}, name


@pytest.mark.parametrize(
    "kwargs, status, needle",
    [
        ({"json": {"text": ""}}, 422, "empty"),
        ({"json": {}}, 422, "text"),
        ({"json": {"text": "SQL", "base": {"skills": "lots"}}}, 422, "base.skills"),
        ({"content": b"{oops", "headers": {"content-type": "application/json"}}, 422, "JSON"),
        ({"content": b"I know SQL", "headers": {"content-type": "text/plain"}}, 415, "multipart"),
        ({"files": {"file": ("cv.exe", b"MZ")}}, 422, ".docx"),
        ({"files": {"file": ("cv.pdf", b"%PDF-1.4 not really")}}, 422, "cv.pdf"),
        ({"files": {"file": ("cv.txt", b"\xff\xfe\x00bad")}}, 422, "cv.txt"),
        ({"files": {"file": ("cv.txt", b"   ")}}, 422, "no text"),
        ({"files": {"resume": ("cv.txt", b"I know SQL")}}, 422, "'file'"),
        ({"content": b"--x\r\nbroken", "headers": {"content-type": "multipart/form-data; boundary=x"}}, 422, ""),
    ],
)
def test_profile_bad_input(client, kwargs, status, needle):
    r = client.post("/v1/profile", **kwargs)
    assert r.status_code == status, r.text
    assert needle in r.json()["detail"] or needle in json.dumps(r.json()["errors"])


def test_a_resume_may_be_larger_than_a_json_body(client, adv):
    text = "I know SQL and Power BI well.\n" + "\n" * (adv.settings.max_body_bytes + 10_000)
    r = client.post("/v1/profile", files={"file": ("cv.txt", text.encode())})
    assert r.status_code == 200, r.text
    assert client.post("/v1/profile", json={"text": text}).status_code == 413


def test_profile_upload_too_large_is_413(client):
    r = client.post("/v1/profile", files={"file": ("cv.txt", b"a" * 5_200_000)})
    assert r.status_code == 413 and "MB" in r.json()["detail"]


# -- knowledge base: reading -------------------------------------------------------------------
def test_knowledge_list_and_filters(client):
    body = client.get("/v1/knowledge").json()
    ids = [d["id"] for d in body["documents"]]
    assert {"docker", "ml_engineer", "docker_docs", "llms_and_nlp", "data_scientist_to_ml_engineer"} <= set(ids)
    assert body["errors"] == []
    skills = client.get("/v1/knowledge", params={"kind": "skill"}).json()["documents"]
    assert skills and all(d["kind"] == "skill" for d in skills)
    bi = client.get("/v1/knowledge", params={"role": "bi_analyst"}).json()["documents"]
    assert "power_bi" in [d["id"] for d in bi] and "docker" not in [d["id"] for d in bi]
    assert client.get("/v1/knowledge", params={"kind": "recipe"}).status_code == 400
    assert client.get("/v1/knowledge", params={"role": "astronaut"}).status_code == 400


def test_get_document_with_etag_and_304(client):
    r = client.get("/v1/knowledge/kubernetes")
    assert r.status_code == 200
    doc = r.json()
    assert set(doc) == {"id", "front_matter", "body", "version"}
    assert r.headers["etag"] == f'"{doc["version"]}"'
    again = client.get("/v1/knowledge/kubernetes", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.headers["etag"] == r.headers["etag"]
    assert client.get("/v1/knowledge/kubernetes", headers={"If-None-Match": '"0000000000000000"'}).status_code == 200
    assert client.get("/v1/knowledge/no_such_doc").status_code == 404


def test_invalid_document_on_disk_is_a_409_naming_the_field(client, adv):
    doc_id, created = create(client)
    path = adv.settings.knowledge_dir / "resources" / f"{doc_id}.md"
    path.write_text(path.read_text().replace("effort_hours: 6", "effort_hours: -3"))
    r = client.get(f"/v1/knowledge/{doc_id}")
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "effort_hours"
    # The error gives the version, so the broken file can be repaired through the API.
    fixed = client.put(f"/v1/knowledge/{doc_id}", json=new_resource(), headers={**WRITE, "If-Match": r.headers["etag"]})
    assert fixed.status_code == 200


# -- knowledge base: writing -------------------------------------------------------------------
def test_create_then_round_trip_edit(client, adv):
    doc_id, created = create(client)
    assert created["id"] == doc_id and created["front_matter"]["id"] == doc_id
    r = client.get(f"/v1/knowledge/{doc_id}")
    doc = r.json()
    assert doc == created
    # GET, change a front-matter field and the body, PUT it back unchanged otherwise.
    doc["front_matter"]["effort_hours"] = 9
    doc["body"] = doc["body"].replace("hands-on session", "hands-on lab session")
    r = client.put(f"/v1/knowledge/{doc_id}", json=doc, headers={**WRITE, "If-Match": r.headers["etag"]})
    assert r.status_code == 200, r.text
    saved = r.json()
    assert saved["version"] != doc["version"] and r.headers["etag"] == f'"{saved["version"]}"'
    assert saved["front_matter"]["effort_hours"] == 9
    # Written to disk, valid, and searchable before the answer returned.
    on_disk = (adv.settings.knowledge_dir / "resources" / f"{doc_id}.md").read_text()
    assert parse_document(on_disk, "x", doc_id).meta.effort_hours == 9
    hits = client.get("/v1/search", params={"q": "hands-on lab session", "kind": "resource"}).json()
    assert hits[0]["doc_id"] == doc_id
    assert doc_id in [d["id"] for d in client.get("/v1/knowledge", params={"kind": "resource"}).json()["documents"]]


def test_create_answers_201_with_location_and_if_none_match(client):
    doc_id = f"test_resource_{next(_ids)}"
    r = client.put(f"/v1/knowledge/{doc_id}", json=new_resource(), headers={**WRITE, "If-None-Match": "*"})
    assert r.status_code == 201 and r.headers["location"] == f"/v1/knowledge/{doc_id}"
    r = client.put(f"/v1/knowledge/{doc_id}", json=new_resource(), headers={**WRITE, "If-None-Match": "*"})
    assert r.status_code == 412 and r.json()["current_version"]


def test_replace_needs_if_match_and_a_stale_one_changes_nothing(client, adv):
    doc_id, created = create(client)
    path = adv.settings.knowledge_dir / "resources" / f"{doc_id}.md"
    before = path.read_text()
    r = client.put(f"/v1/knowledge/{doc_id}", json=new_resource("Changed without a version"), headers=WRITE)
    assert r.status_code == 428 and "If-Match" in r.json()["detail"]
    ok = client.put(f"/v1/knowledge/{doc_id}", json=new_resource("Changed once"), headers={**WRITE, "If-Match": created["version"]})
    assert ok.status_code == 200
    after_ok = path.read_text()
    stale = client.put(f"/v1/knowledge/{doc_id}", json=new_resource("Changed from a stale copy"), headers={**WRITE, "If-Match": created["version"]})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == ok.json()["version"]
    assert stale.headers["etag"] == f'"{ok.json()["version"]}"'
    assert path.read_text() == after_ok != before
    # Unquoted and weak forms of the same version are accepted.
    r = client.put(f"/v1/knowledge/{doc_id}", json=new_resource("Changed twice"), headers={**WRITE, "If-Match": f'W/"{ok.json()["version"]}"'})
    assert r.status_code == 200


@pytest.mark.parametrize(
    "headers, status",
    [
        ({"If-Match": "*"}, 400),
        ({"If-Match": '"a", "b"'}, 400),
        ({"If-Match": '"0123456789abcdef"', "If-None-Match": "*"}, 412),  # If-Match and If-None-Match: * cannot both hold
        ({"If-None-Match": '"abc"'}, 400),
        ({"If-Match": '""'}, 400),
    ],
)
def test_bad_precondition_headers_are_400(client, headers, status):
    doc_id, _ = create(client)
    r = client.put(f"/v1/knowledge/{doc_id}", json=new_resource(), headers={**WRITE, **headers})
    assert r.status_code == status, r.text


def test_invalid_document_is_422_naming_each_field_and_nothing_is_written(client, adv):
    doc_id = f"test_resource_{next(_ids)}"
    bad = new_resource()
    bad["front_matter"].update(effort_hours=0, cost="priceless", skills=["docker", "juggling"])
    r = client.put(f"/v1/knowledge/{doc_id}", json=bad, headers=WRITE)
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"effort_hours", "cost"} <= fields
    assert all(e["path"] == f"resources/{doc_id}.md" for e in r.json()["errors"])
    assert not list(adv.settings.knowledge_dir.rglob(f"{doc_id}.md"))
    # Cross-document checks: a skill that does not exist.
    bad = new_resource()
    bad["front_matter"]["skills"] = ["docker", "juggling"]
    r = client.put(f"/v1/knowledge/{doc_id}", json=bad, headers=WRITE)
    assert r.status_code == 422 and "juggling" in json.dumps(r.json()["errors"])
    # A body, a kind, and the shape itself.
    assert client.put(f"/v1/knowledge/{doc_id}", json={**new_resource(), "body": "  "}, headers=WRITE).json()["errors"][0]["field"] == "body"
    r = client.put(f"/v1/knowledge/{doc_id}", json={"front_matter": {"kind": "poem", "title": "x"}, "body": "b"}, headers=WRITE)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"
    r = client.put(f"/v1/knowledge/{doc_id}", json={"front_matter": {}, "body": "b", "frontmatter": {}}, headers=WRITE)
    assert r.status_code == 422 and "frontmatter" in [e["field"] for e in r.json()["errors"]]
    r = client.put(f"/v1/knowledge/{doc_id}", json={**new_resource(), "id": "another_id"}, headers=WRITE)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "id"
    mismatch = new_resource()
    mismatch["front_matter"]["id"] = "another_id"
    assert client.put(f"/v1/knowledge/{doc_id}", json=mismatch, headers=WRITE).json()["errors"][0]["field"] == "id"
    assert not list(adv.settings.knowledge_dir.rglob(f"{doc_id}.md"))


def test_delete_needs_if_match_and_keeps_history(client, adv):
    doc_id, created = create(client)
    assert client.delete(f"/v1/knowledge/{doc_id}", headers=WRITE).status_code == 428
    assert client.delete(f"/v1/knowledge/{doc_id}", headers={**WRITE, "If-Match": '"0000000000000000"'}).status_code == 412
    r = client.delete(f"/v1/knowledge/{doc_id}", headers={**WRITE, "If-Match": created["version"]})
    assert r.status_code == 204 and r.content == b""
    assert client.get(f"/v1/knowledge/{doc_id}").status_code == 404
    assert doc_id not in [h["doc_id"] for h in client.get("/v1/search", params={"q": "hands-on session containers", "k": 20}).json()]
    assert client.delete(f"/v1/knowledge/{doc_id}", headers={**WRITE, "If-Match": created["version"]}).status_code == 404
    assert client.delete(f"/v1/knowledge/{doc_id}", headers=WRITE).status_code == 404
    history = client.get(f"/v1/knowledge/{doc_id}/history").json()
    assert history["current_version"] is None
    assert [v["version"] for v in history["versions"]][0] == created["version"] and history["versions"][-1]["deleted"]


def test_delete_of_a_referenced_document_is_409(client, adv):
    r = client.get("/v1/knowledge/python")
    d = client.delete("/v1/knowledge/python", headers={**WRITE, "If-Match": r.headers["etag"]})
    assert d.status_code == 409 and "docker" in d.json()["detail"]
    assert client.get("/v1/knowledge/python").status_code == 200


def test_history_old_versions_and_restore(client, adv):
    doc_id, v1 = create(client)
    v2 = client.put(f"/v1/knowledge/{doc_id}", json=new_resource("Second title"), headers={**WRITE, "If-Match": v1["version"]}).json()
    history = client.get(f"/v1/knowledge/{doc_id}/history").json()
    assert [v["version"] for v in history["versions"]] == [v1["version"], v2["version"]]
    assert [v["current"] for v in history["versions"]] == [False, True] and history["current_version"] == v2["version"]
    old = client.get(f"/v1/knowledge/{doc_id}/history/{v1['version']}")
    assert old.status_code == 200 and old.json()["front_matter"]["title"] == v1["front_matter"]["title"]

    url = f"/v1/knowledge/{doc_id}/restore/{v1['version']}"
    assert client.post(url).status_code == 401
    assert client.post(url, headers=WRITE).status_code == 428
    assert client.post(url, headers={**WRITE, "If-Match": v1["version"]}).status_code == 412
    assert client.post(url, headers={**WRITE, "If-None-Match": "*"}).status_code == 412
    r = client.post(url, headers={**WRITE, "If-Match": v2["version"]})
    assert r.status_code == 200 and r.json()["front_matter"]["title"] == v1["front_matter"]["title"]
    assert client.get(f"/v1/knowledge/{doc_id}").json()["version"] == v1["version"]

    # A deleted document comes back without If-Match.
    assert client.delete(f"/v1/knowledge/{doc_id}", headers={**WRITE, "If-Match": v1["version"]}).status_code == 204
    r = client.post(f"/v1/knowledge/{doc_id}/restore/{v2['version']}", headers=WRITE)
    assert r.status_code == 200 and r.json()["front_matter"]["title"] == "Second title"

    assert client.post(f"/v1/knowledge/{doc_id}/restore/0123456789abcdef", headers={**WRITE, "If-Match": v2["version"]}).status_code == 404
    for bad in ("*", "deleted", "%2E%2E", "ABCDEF0123456789", "0123"):
        assert client.post(f"/v1/knowledge/{doc_id}/restore/{bad}", headers={**WRITE, "If-Match": v2["version"]}).status_code == 400, bad
        assert client.get(f"/v1/knowledge/{doc_id}/history/{bad}").status_code == 400, bad
    assert client.get("/v1/knowledge/never_existed/history").status_code == 404


# -- ids that try to leave the knowledge folder ------------------------------------------------
TRAVERSALS = [
    "..%2F..%2Fetc%2Fpasswd",
    "..%2fsecrets",
    "%2Fetc%2Fpasswd",
    "%2E%2E",
    "skills%2Fdocker",
    "docker%00",
    "%00",
    "Docker",
    "docker.md",
    "..%5C..%5Cwindows",
    "a" * 81,
    "%252e%252e%252f",
]


@pytest.mark.parametrize("bad", TRAVERSALS)
def test_ids_outside_the_slug_pattern_are_400_and_touch_nothing(client, adv, tmp_path, bad):
    root = adv.settings.knowledge_dir.parent
    before = sorted(p for p in root.rglob("*") if "chroma" not in p.parts)
    doc = new_resource()
    requests = [
        ("GET", f"/v1/knowledge/{bad}", {}),
        ("PUT", f"/v1/knowledge/{bad}", {"json": doc, "headers": WRITE}),
        ("PUT", f"/v1/knowledge/{bad}", {"json": doc, "headers": {**WRITE, "If-Match": '"0123456789abcdef"'}}),
        ("DELETE", f"/v1/knowledge/{bad}", {"headers": {**WRITE, "If-Match": '"0123456789abcdef"'}}),
        ("GET", f"/v1/knowledge/{bad}/history", {}),
        ("GET", f"/v1/knowledge/{bad}/history/0123456789abcdef", {}),
        ("POST", f"/v1/knowledge/{bad}/restore/0123456789abcdef", {"headers": WRITE}),
        ("GET", f"/v1/roles/{bad}", {}),
        ("GET", f"/v1/skills/{bad}", {}),
    ]
    for method, url, kwargs in requests:
        r = client.request(method, url, **kwargs)
        assert r.status_code == 400, (method, url, r.status_code, r.text)
        assert "invalid document id" in r.json()["detail"]
    assert sorted(p for p in root.rglob("*") if "chroma" not in p.parts) == before


# -- keys --------------------------------------------------------------------------------------
def test_writes_need_a_valid_key(client):
    doc = new_resource()
    url = f"/v1/knowledge/test_resource_{next(_ids)}"
    r = client.put(url, json=doc)
    assert r.status_code == 401 and "Bearer" in r.headers["www-authenticate"]
    assert client.put(url, json=doc, headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.put(url, json=doc, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.put(url, json=doc, headers={"Authorization": f"Basic {KEY}"}).status_code == 401
    assert client.put(url, json=doc, headers={"X-API-Key": "ключ".encode()}).status_code == 401  # non-ASCII: refused, no error
    assert client.put(url, json=doc, headers={"Authorization": f"Bearer {KEY}"}).status_code == 201
    assert client.delete(url, headers={"If-Match": '"x"'}).status_code == 401


def test_without_configured_keys_writes_are_refused_not_open(adv):
    with app_client(adv, api_keys=[]) as c:
        r = c.put("/v1/knowledge/test_resource_nokeys", json=new_resource(), headers=WRITE)
        assert r.status_code == 403 and "RESKILL_API_KEYS" in r.json()["detail"]
        assert c.delete("/v1/knowledge/docker", headers={"If-Match": '"x"'}).status_code == 403
        assert c.post("/v1/knowledge/docker/restore/0123456789abcdef").status_code == 403
        assert c.get("/v1/knowledge/docker").status_code == 200  # reads stay open
    assert not list(adv.settings.knowledge_dir.rglob("test_resource_nokeys.md"))


def test_read_auth_protects_reads_but_not_probes(adv):
    with app_client(adv, api_read_auth=True) as c:
        for method, url, kwargs in [
            ("GET", "/v1/search?q=docker", {}),
            ("GET", "/v1/roles", {}),
            ("GET", "/v1/knowledge/docker", {}),
            ("POST", "/v1/chat", {"json": QUESTION}),
            ("POST", "/v1/chat/completions", {"json": QUESTION}),
            ("POST", "/v1/embeddings", {"json": {"input": "sql"}}),
        ]:
            assert c.request(method, url, **kwargs).status_code == 401, url
            assert c.request(method, url, headers={"Authorization": f"Bearer {KEY}"}, **kwargs).status_code == 200, url
        assert c.get("/healthz").status_code == 200 and c.get("/readyz").status_code == 200
        assert c.get("/openapi.json").status_code == 200


# -- CORS --------------------------------------------------------------------------------------
def test_cors_is_off_by_default_and_configurable(client, adv):
    r = client.get("/v1/roles", headers={"Origin": "https://example.org"})
    assert "access-control-allow-origin" not in r.headers
    with app_client(adv, cors_origins=["https://app.example.org"]) as c:
        r = c.get("/v1/roles", headers={"Origin": "https://app.example.org"})
        assert r.headers["access-control-allow-origin"] == "https://app.example.org"
        assert "etag" in r.headers.get("access-control-expose-headers", "").lower()
        pre = c.options(
            "/v1/knowledge/docker",
            headers={"Origin": "https://app.example.org", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "if-match, x-api-key"},
        )
        assert pre.status_code == 200 and "PUT" in pre.headers["access-control-allow-methods"]
        other = c.get("/v1/roles", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


# -- OpenAI-compatible -------------------------------------------------------------------------
def test_chat_completions(client):
    r = client.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": [{"role": "system", "content": "Be brief."}, *QUESTION["messages"]], "temperature": 0.2})
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    content = body["choices"][0]["message"]["content"]
    assert body["choices"][0]["finish_reason"] == "stop"
    assert "Sources:\n[1] " in content and body["citations"]
    first = body["citations"][0]
    assert first["document_url"] == f"/v1/knowledge/{first['doc_id']}"
    assert f"document: http://testserver{first['document_url']}" in content, "a plain OpenAI client sees the link in the text"
    if first["sources"]:
        assert f"source: {first['sources'][0]['url']}" in content
    assert f"({first['doc_id']})" not in content, "no internal id in the text a person reads"
    parts = {"messages": [{"role": "user", "content": [{"type": "text", "text": "What does an ML engineer do?"}]}]}
    assert client.post("/v1/chat/completions", json=parts).status_code == 200


def test_chat_completions_stream(client):
    r = client.post("/v1/chat/completions", json={**QUESTION, "stream": True})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    assert events[-1] == (None, "[DONE]")
    chunks = [json.loads(d) for _, d in events[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"} and len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["citations"]
    assert all(c["document_url"] == f"/v1/knowledge/{c['doc_id']}" and isinstance(c["sources"], list) for c in chunks[-1]["citations"])
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    plain = client.post("/v1/chat/completions", json=QUESTION).json()
    assert text.rstrip() == plain["choices"][0]["message"]["content"].rstrip()


@pytest.mark.parametrize(
    "body, param",
    [
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}, "messages.0.content.0.type"),
        ({"messages": [{"role": "tool", "content": "42"}, {"role": "user", "content": "hi"}]}, "messages.0.role"),
        ({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}, "messages.1.role"),
        ({"messages": [{"role": "user", "content": "hi"}], "n": 3}, "n"),
    ],
)
def test_chat_completions_errors_in_openai_shape(client, body, param):
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param and error["message"]


def test_embeddings(client, adv):
    r = client.post("/v1/embeddings", json={"input": ["SQL window functions", "Docker"], "model": "text-embedding-3-small"})
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "list" and body["model"] == "all-MiniLM-L6-v2"
    assert [d["index"] for d in body["data"]] == [0, 1]
    expected = adv.embedder.embed_documents(["SQL window functions"])[0]
    assert body["data"][0]["embedding"] == pytest.approx(expected, abs=1e-6)
    assert body["usage"]["prompt_tokens"] == 4
    single = client.post("/v1/embeddings", json={"input": "Docker", "encoding_format": "base64"}).json()
    raw = base64.b64decode(single["data"][0]["embedding"])
    decoded = struct.unpack(f"<{len(raw) // 4}f", raw)
    assert decoded == pytest.approx(body["data"][1]["embedding"], abs=1e-6)
    models = client.get("/v1/models").json()
    assert {m["id"] for m in models["data"]} == {"reskill", "all-MiniLM-L6-v2"}


@pytest.mark.parametrize(
    "body, needle",
    [
        ({"input": [1, 2, 3]}, "token"),
        ({"input": [[1, 2]]}, "token"),
        ({"input": ""}, "empty"),
        ({"input": ["ok", " "]}, "empty"),
        ({"input": []}, "input"),
        ({"input": "sql", "dimensions": 1536}, "384"),
        ({"input": "sql", "encoding_format": "int8"}, "encoding_format"),
        ({}, "input"),
    ],
)
def test_embeddings_errors(client, body, needle):
    r = client.post("/v1/embeddings", json=body)
    assert r.status_code == 422, r.text
    assert needle in json.dumps(r.json()["error"])


# -- freshness ---------------------------------------------------------------------------------
def test_an_edit_made_by_another_process_is_served_within_a_second(client, adv):
    doc_id, _ = create(client)
    path = adv.settings.knowledge_dir / "resources" / f"{doc_id}.md"
    path.write_text(path.read_text().replace("hands-on session", "hands-on zeppelin session"))
    client.app.state.freshness.interval = 0
    try:
        hits = client.get("/v1/search", params={"q": "zeppelin", "kind": "resource"}).json()
    finally:
        client.app.state.freshness.interval = 1.0
    assert hits and hits[0]["doc_id"] == doc_id
    assert client.get("/readyz").status_code == 200


def test_unexpected_errors_are_500_without_a_traceback(adv, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    with TestClient(create_app(adv.settings, adv), raise_server_exceptions=False) as c:
        monkeypatch.setattr(adv, "search", broken)
        r = c.get("/v1/search", params={"q": "docker"})
    assert r.status_code == 500
    assert "reference" in r.json()["detail"] and "secret" not in r.text and "Traceback" not in r.text


def test_run_refuses_what_cannot_work(adv):
    from advisor.api import run
    from advisor.errors import BadInput

    with pytest.raises(BadInput, match="RESKILL_CHROMA_URL"):
        run(adv.settings.model_copy(update={"chroma_url": None}), workers=2)  # the embedded store takes one writer
    with pytest.raises(BadInput, match="workers"):
        run(adv.settings, workers=0)
    with pytest.raises(BadInput, match="port"):
        run(adv.settings, port=70000)


# -- property-based: no input makes the server fail --------------------------------------------
schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)


class DeferredApp:
    """The ASGI app schemathesis calls, handed the real app by a fixture once its Advisor is built.

    The schema must exist when the module is collected (schemathesis' lazy ``from_fixture`` loader
    does not work with pytest 9), but collecting must not load a model or an index. Until the
    fixture runs, the schema comes from an app without an Advisor, which is all /openapi.json needs.
    """

    def __init__(self):
        self.app = create_app(Settings(_env_file=None))

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":  # the real app's Advisor is made by the fixture, not here
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await self.app(scope, receive, send)


FUZZ = DeferredApp()
schema = schemathesis.openapi.from_asgi("/openapi.json", FUZZ)


@pytest.fixture(scope="module")
def fuzz_app(clean_env, tmp_path_factory, embedder):
    adv = make_advisor(tmp_path_factory, embedder, "fuzz")
    FUZZ.app = create_app(adv.settings, adv)
    return FUZZ.app


@schema.parametrize()
@hypothesis_settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_input_makes_a_server_error(case, fuzz_app):
    """No generated input gets a 500; every answer is one the OpenAPI document declares, in its shape."""
    # With a valid key, so that write routes are exercised past authentication.
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    case.call_and_validate(headers={"X-API-Key": KEY}, checks=checks)


# -- issue 16: citations link their documents; broken files are explained ----------------------
def test_chat_citations_link_the_document_and_its_sources(client):
    for answer in (client.post("/v1/chat", json=QUESTION).json(), json.loads(sse_events(client.post("/v1/chat", json={**QUESTION, "stream": True}).text)[-1][1])):
        for c in answer["citations"]:
            assert c["document_url"] == f"/v1/knowledge/{c['doc_id']}"
            assert isinstance(c["sources"], list) and all(s["url"].startswith("http") for s in c["sources"])
        doc = client.get(answer["citations"][0]["document_url"])
        assert doc.status_code == 200 and doc.json()["id"] == answer["citations"][0]["doc_id"]


def test_citation_sources_are_the_links_in_the_front_matter(adv):
    from types import SimpleNamespace

    from advisor.api.schemas import cite
    from retrieval.hit import Hit

    doc = adv.kb.docs["sql"]
    meta = doc.meta.model_copy(update={"sources": ["PostgreSQL documentation: https://www.postgresql.org/docs/.", "A book without a link"]})
    kb = SimpleNamespace(docs={"sql": SimpleNamespace(meta=meta)})
    hit = Hit(doc_id="sql", title="SQL", kind="skill", roles=[], skills=[], section="Overview", score=1.0, snippet="…")
    c = cite(hit, kb)
    assert c.document_url == "/v1/knowledge/sql"
    assert [(s.label, s.url) for s in c.sources] == [("PostgreSQL documentation", "https://www.postgresql.org/docs/")]


def test_plan_resources_are_linked_like_citations(adv):
    from types import SimpleNamespace

    from advisor.api.schemas import recommendation_out

    rec = adv.recommend("I use Python daily and SQL at a working level; some Docker.", targets=["ml_engineer"], hours=8)
    rid = next(r for st in rec.plan.stages for r in st.resources)
    meta = SimpleNamespace(title="Docker docs", url="https://docs.docker.com/", sources=["Get started: https://docs.docker.com/get-started/", "A book"])
    kb = SimpleNamespace(docs={rid: SimpleNamespace(meta=meta)})
    out = recommendation_out(rec, kb)
    ref = next(r for st in out.plan.stages for r in st.resources if r.id == rid)
    assert ref.title == "Docker docs" and ref.document_url == f"/v1/knowledge/{rid}"
    assert [s.url for s in ref.sources] == ["https://docs.docker.com/", "https://docs.docker.com/get-started/"], "its own page first"


@pytest.mark.parametrize("name, data", [("cv.pdf", tiny_pdf("I know SQL")[:120]), ("cv.docx", b"PK\x03\x04 not really a zip")])
def test_a_broken_resume_is_a_422_in_plain_words(client, name, data):
    r = client.post("/v1/profile", files={"file": (name, data)})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail.startswith(f"cannot read resume '{name}': ") and "again" in detail
    assert "Error" not in detail and "Stream has ended" not in detail
