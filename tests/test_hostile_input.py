"""Hostile input at the API (issue 15): decompression bombs, ids and text with control
characters, role ids that are not roles. Real Advisor, real embedding model, TestClient."""

from __future__ import annotations

import io
import shutil
import time
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from advisor.api import create_app
from advisor.api.examples import NEW_RESOURCE
from advisor.errors import BadInput
from advisor.profile import ResumeTooLarge, read_resume
from advisor.settings import Settings

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"
KEY = "hostile-key"
WRITE = {"X-API-Key": KEY}
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


@pytest.fixture(scope="module")
def client(tmp_path_factory, embedder):
    from advisor.core import Advisor

    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(FIXTURE_KB, root / "kb")
    adv = Advisor(Settings(_env_file=None, data_dir=root / "data", knowledge_dir=root / "kb", api_keys=[KEY]), embedder)
    with TestClient(create_app(adv.settings, adv)) as c:
        c.adv = adv
        yield c


def docx_with(paragraphs: int, text: str = "a", declared_extra: bytes = b"") -> bytes:
    """A valid .docx (python-docx's own template) whose document.xml is replaced by ``paragraphs``
    short paragraphs, written as a stream so the test never holds the inflated XML."""
    import docx

    template = io.BytesIO()
    docx.Document().save(template)
    out = io.BytesIO()
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for item in src.infolist():
            if item.filename != "word/document.xml":
                dst.writestr(item, src.read(item))
        with dst.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document {W}><w:body>'.encode())
            para = f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>".encode()
            block = para * 10_000
            for _ in range(paragraphs // 10_000):
                f.write(block)
            f.write(para * (paragraphs % 10_000))
            f.write(declared_extra + b"</w:body></w:document>")
    return out.getvalue()


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_a_docx_bomb_is_413_at_once_without_the_memory(client):
    """The attack's file: ~300 KB that inflates to ~100 MB of XML (1.8 M short paragraphs)."""
    bomb = docx_with(1_800_000)
    assert len(bomb) < 1_000_000
    before = _peak_rss_mb()
    start = time.perf_counter()
    r = client.post("/v1/profile", files={"file": ("cv.docx", bomb, "application/octet-stream")})
    took = time.perf_counter() - start
    assert r.status_code == 413, r.text
    assert "too large once unpacked" in r.json()["detail"] or "paragraphs" in r.json()["detail"]
    assert took < 5, f"refusing the bomb took {took:.1f} s"
    assert _peak_rss_mb() - before < 150, "reading the bomb raised the peak memory"


@pytest.mark.parametrize(
    "make, needle",
    [
        (lambda: docx_with(25_000), "more than 20,000 paragraphs"),  # small XML, too many paragraphs
        (lambda: docx_with(2_000, "x" * 400), "characters of text"),  # few paragraphs, too much text
        (lambda: docx_with(600_000, "word"), "too large once unpacked"),  # XML over 10 MB
    ],
)
def test_docx_limits_each_refuse_with_their_own_message(make, needle):
    with pytest.raises(ResumeTooLarge, match=needle):
        read_resume("cv.docx", make())


def test_an_ordinary_docx_still_reads():
    text = read_resume("cv.docx", docx_with(40, "Python and SQL every day"))
    assert text.count("Python and SQL every day") == 40


def test_a_docx_with_entities_is_refused():
    with pytest.raises(BadInput, match="entities"):
        read_resume("cv.docx", docx_with(1, declared_extra=b'<!DOCTYPE x [<!ENTITY a "b">]>'))


def test_the_streamlit_upload_path_refuses_the_bomb_too():
    """The sidebar calls read_resume and shows a BadInput's message; ResumeTooLarge is one."""
    assert issubclass(ResumeTooLarge, BadInput)
    start = time.perf_counter()
    with pytest.raises(ResumeTooLarge):
        read_resume("cv.docx", docx_with(1_800_000))
    assert time.perf_counter() - start < 5


# -- ids and text (item 10) --------------------------------------------------------------------
def resource(title="Control characters", body="# Control\n\nA resource about text.\n"):
    return {"front_matter": {**NEW_RESOURCE["front_matter"], "title": title}, "body": body}


@pytest.mark.parametrize("suffix", ["%0A", "%0D", "%0D%0A", "%09", "%0A%0A", "%1B"])
def test_a_trailing_control_character_in_an_id_is_refused_not_stripped(client, suffix):
    for method, url, kwargs in [
        ("GET", f"/v1/knowledge/docker{suffix}", {}),
        ("GET", f"/v1/knowledge/docker{suffix}/history", {}),
        ("GET", f"/v1/skills/docker{suffix}", {}),
        ("PUT", f"/v1/knowledge/newid{suffix}", {"json": resource(), "headers": WRITE}),
        ("DELETE", f"/v1/knowledge/docker{suffix}", {"headers": {**WRITE, "If-Match": '"0123456789abcdef"'}}),
    ]:
        r = client.request(method, url, **kwargs)
        assert r.status_code == 400, (method, url, r.status_code, r.text)
        assert "invalid document id" in r.json()["detail"]
    assert client.get(f"/v1/knowledge/docker{suffix}/history").status_code == 400
    assert client.get("/v1/knowledge/newid").status_code == 404
    assert not list(client.adv.settings.knowledge_dir.rglob("newid*"))


@pytest.mark.parametrize(
    "where, value",
    [
        ("title", "Null\x00byte title"),
        ("title", "Bell\x07 title"),
        ("provider", "Escape \x1b[31m red"),
        ("body", "# T\n\nA body with a NUL \x00 inside.\n"),
        ("body", "# T\n\nBackspace\x08 and DEL\x7f.\n"),
    ],
)
def test_control_characters_in_titles_and_bodies_are_422(client, where, value):
    doc = resource()
    if where == "body":
        doc["body"] = value
    else:
        doc["front_matter"][where] = value
    r = client.put("/v1/knowledge/control_chars_doc", json=doc, headers=WRITE)
    assert r.status_code == 422, r.text
    assert "control characters" in r.text and r.json()["errors"][0]["field"] == where
    assert client.get("/v1/knowledge/control_chars_doc").status_code == 404


def test_tabs_and_line_breaks_are_fine(client):
    r = client.put("/v1/knowledge/tabs_doc", json=resource(body="# Tabs\n\n\tIndented\r\nand broken lines.\n"), headers=WRITE)
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("role", ["../../etc/passwd", "ML_ENGINEER", "ml_engineer\n", "nobody"])
def test_a_profile_role_must_be_a_known_role(client, role):
    profile = {"skills": [{"skill_id": "python", "level": 3}], "current_role": role}
    requests = [
        ("/v1/recommend", {"profile": profile}),
        ("/v1/compare", {"profile": profile}),
        ("/v1/chat", {"messages": [{"role": "user", "content": "What should I learn?"}], "profile": profile}),
        ("/v1/profile", {"text": "I know SQL", "base": profile}),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "What should I learn?"}], "profile": profile}),
    ]
    for url, body in requests:
        r = client.post(url, json=body)
        assert r.status_code == 422, (url, r.text)
        assert role not in r.text.replace("\\n", "\n").split("unknown role id")[0], "the bad value was echoed as accepted"
    bad_target = {"skills": [{"skill_id": "python", "level": 3}], "target_roles": [role]}
    assert client.post("/v1/compare", json={"profile": bad_target}).status_code == 422


# -- the OpenAPI document tells the truth (item 11) ---------------------------------------------
def test_read_routes_are_declared_open_unless_read_auth_is_on(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "security" not in paths["/v1/search"]["get"] and "security" not in paths["/v1/chat"]["post"]
    assert paths["/v1/knowledge/{doc_id}"]["put"]["security"]
    strict = TestClient(create_app(client.adv.settings.model_copy(update={"api_read_auth": True}), client.adv))
    assert strict.get("/openapi.json").json()["paths"]["/v1/search"]["get"]["security"]


def test_patterns_and_precondition_headers_are_declared(client):
    put = client.get("/openapi.json").json()["paths"]["/v1/knowledge/{doc_id}"]["put"]
    params = {p["name"].lower(): p["schema"] for p in put["parameters"]}
    assert params["doc_id"]["pattern"] == "^[a-z0-9][a-z0-9_-]*$" and params["doc_id"]["maxLength"] == 80
    assert "[0-9a-f]{16}" in params["if-match"]["pattern"] and params["if-none-match"]["enum"] == ["*"]


def test_a_write_without_a_key_is_401_whatever_its_body(client):
    for body in ("{not json", "[]", ""):
        r = client.put("/v1/knowledge/docker", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 401, (body, r.text)
    assert client.post("/v1/knowledge/docker/restore/0123456789abcdef", content="{x").status_code == 401


@pytest.mark.parametrize(
    "method, url, allow",
    [
        ("PUT", "/v1/knowledge/docker/history", "GET, HEAD"),
        ("DELETE", "/v1/knowledge/docker/history/0123456789abcdef", "GET, HEAD"),
        ("GET", "/v1/knowledge/docker/restore/0123456789abcdef", "POST"),
        ("PUT", "/v1/knowledge/docker/restore/0123456789abcdef", "POST"),
        ("OPTIONS", "/v1/knowledge/docker", "GET, HEAD, PUT, DELETE"),
        ("POST", "/v1/knowledge/docker", "GET, HEAD, PUT, DELETE"),
        ("PATCH", "/v1/search", "GET, HEAD"),
    ],
)
def test_other_methods_are_405_with_every_allowed_method(client, method, url, allow):
    r = client.request(method, url, headers=WRITE)
    assert r.status_code == 405, r.text
    assert r.headers["allow"] == allow


# -- reading pathological text in linear time ----------------------------------------------
_LONG = 64_000
_SHAPES = {
    "a run of spaces": " " * _LONG,
    "a run of brackets": "(" * _LONG,
    "a list of one skill": "Python, " * (_LONG // 8),
    "a line of dashes": "-" * _LONG,
    "a run of digits": "1" * _LONG,
    "repeated negations": "not " * (_LONG // 4),
    "repeated years": "5 years " * (_LONG // 8),
    "unclosed level brackets": "(basic " * (_LONG // 7),
    "a repeated table row": "I never used Docker (basic) | daily; " * (_LONG // 37),
    "the hours of a job, repeated": "I work 1 hour a week " * (_LONG // 21),
    "a table of lacks in one line": "Python: no " * (_LONG // 11),
    "one name repeated without commas": "Python " * (_LONG // 7),
    "a team's name repeated": "Python team " * (_LONG // 12),
}
"""Texts on which a pattern once backtracked: the brackets took 124 s, the list 190 s, the dashes
49 s, the digits minutes, the job hours 28 s, the table of lacks over 5 minutes, a name repeated without commas 165 s
(each is now 0.2-4 s here). A regression to quadratic time fails loudly instead of hanging a request."""


@pytest.mark.parametrize("shape", list(_SHAPES))
def test_reading_a_long_pathological_text_stays_linear(real_advisor, shape):
    start = time.perf_counter()
    real_advisor.extractor.extract(_SHAPES[shape])
    took = time.perf_counter() - start
    assert took < 20, f"{shape}: {took:.1f} s for {_LONG:,} characters (a pattern is backtracking)"
