"""The API as a real server on 127.0.0.1: plain HTTP, the official openai client, racing writers,
and several worker processes. Each server runs in a subprocess over temporary folders."""

from __future__ import annotations

from http.client import HTTPConnection
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from knowledge.document import parse_document

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"
KEY = "live-key-7f3a9c"
WRITE = {"X-API-Key": KEY}
READY_TIMEOUT_S = 240


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``advisor.api.run`` in a subprocess, configured only through RESKILL_* variables."""

    def __init__(self, root: Path, workers: int = 1, env: dict | None = None):
        self.root, self.workers, self.port, self.extra_env = root, workers, free_port(), env or {}
        shutil.copytree(FIXTURE_KB, root / "kb")
        self.kb, self.data = root / "kb", root / "data"
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = root / "server.log"

    def start(self) -> Server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RESKILL_")}
        env.update(
            RESKILL_DATA_DIR=str(self.data),
            RESKILL_KNOWLEDGE_DIR=str(self.kb),
            RESKILL_API_KEYS=f"another-key,{KEY}",
            ANONYMIZED_TELEMETRY="False",
            HF_HUB_OFFLINE="1",
            TOKENIZERS_PARALLELISM="false",
            **self.extra_env,
        )
        code = f"from advisor.api import run; run(None, '127.0.0.1', {self.port}, workers={self.workers})"
        self.log = open(self.log_path, "wb")
        # cwd is the temporary folder, so no developer .env file is read.
        self.proc = subprocess.Popen([sys.executable, "-c", code], cwd=self.root, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the server exited with {self.proc.returncode}:\n{self.log_path.read_text()[-3000:]}")
            try:
                ready = httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
            except httpx.TransportError:
                ready = False
            # With several workers the first one up answers /readyz; wait for all of them.
            if ready and self.log_path.read_text().count("Application startup complete") >= self.workers:
                return self
            time.sleep(0.3)
        self.stop()
        pytest.fail(f"the server was not ready within {READY_TIMEOUT_S} s:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("live")).start()
    yield s
    s.stop()
    assert "Traceback" not in s.log_path.read_text(), s.log_path.read_text()[-3000:]


@pytest.fixture
def web(server):
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


@pytest.fixture
def openai_client(server):
    openai = pytest.importorskip("openai")
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0, timeout=60)


QUESTION = [{"role": "user", "content": "What does an ML engineer do?"}]


def test_probes_search_and_chat_over_http(web):
    assert web.get("/healthz").json() == {"status": "ok"}
    ready = web.get("/readyz").json()
    assert ready["status"] == "ready" and ready["documents"]["skill"] == 8
    hits = web.get("/v1/search", params={"q": "serve a model behind an API", "k": 3}).json()
    assert hits[0]["doc_id"] == "model_serving"
    answer = web.post("/v1/chat", json={"messages": QUESTION}).json()
    assert answer["citations"] and "[1]" in answer["text"]
    r = web.get("/v1/knowledge/docker")
    assert r.headers["etag"] == f'"{r.json()["version"]}"'
    assert web.get("/openapi.json").json()["info"]["title"] == "Reskill API"


def test_chat_streams_events_as_they_come(web):
    events, data = [], []
    with web.stream("POST", "/v1/chat", json={"messages": QUESTION, "stream": True}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("event: "):
                events.append(line[7:])
            elif line.startswith("data: "):
                data.append(line[6:])
    assert events[-1] == "answer" and events.count("delta") >= 2
    assert json.loads(data[-1])["citations"]


def test_raw_dot_segments_and_oversize_bodies(server):
    """What a browser or httpx would normalise away, sent as is."""
    conn = HTTPConnection("127.0.0.1", server.port, timeout=30)
    for path in ("/v1/knowledge/../../etc/passwd", "/v1/knowledge/..%2F..%2Fetc%2Fpasswd", "/v1/skills/./docker", "/v1/knowledge/%00"):
        conn.request("GET", path)
        r = conn.getresponse()
        body = json.loads(r.read())
        assert r.status == 400 and "invalid document id" in body["detail"], (path, r.status, body)
    conn.close()
    big = b'{"messages": [{"role": "user", "content": "' + b"x" * 1_100_000 + b'"}]}'
    r = httpx.post(f"{server.url}/v1/chat", content=big, headers={"content-type": "application/json"}, timeout=30)
    assert r.status_code == 413
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_writes_need_the_key(web):
    doc = web.get("/v1/knowledge/docker_docs")
    body = doc.json()
    assert web.put("/v1/knowledge/docker_docs", json=body, headers={"If-Match": doc.headers["etag"]}).status_code == 401
    assert web.put("/v1/knowledge/docker_docs", json=body, headers={"If-Match": doc.headers["etag"], "X-API-Key": "nope"}).status_code == 401


# -- the official openai client ----------------------------------------------------------------
def test_openai_chat_completion(openai_client):
    resp = openai_client.chat.completions.create(model="reskill", messages=QUESTION)
    content = resp.choices[0].message.content
    assert resp.object == "chat.completion" and resp.choices[0].finish_reason == "stop"
    assert "[1]" in content and "\n\nSources:\n[1] " in content
    citations = resp.model_extra["citations"]
    assert citations and citations[0]["doc_id"] in content


def test_openai_chat_completion_stream(openai_client):
    stream = openai_client.chat.completions.create(model="reskill", messages=QUESTION, stream=True)
    pieces, finish, last = [], None, None
    for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        delta = chunk.choices[0].delta
        if delta.content:
            pieces.append(delta.content)
        finish = chunk.choices[0].finish_reason or finish
        last = chunk
    assert finish == "stop" and len(pieces) > 2
    assert last.model_extra["citations"]
    plain = openai_client.chat.completions.create(model="reskill", messages=QUESTION).choices[0].message.content
    assert "".join(pieces).rstrip() == plain.rstrip()


def test_openai_client_errors(openai_client):
    import openai

    with pytest.raises(openai.UnprocessableEntityError) as err:
        openai_client.chat.completions.create(model="reskill", messages=[{"role": "assistant", "content": "hello"}])
    assert err.value.status_code == 422 and "user" in err.value.message
    assert err.value.body["param"] == "messages.0.role"


def test_openai_embeddings(openai_client, web):
    resp = openai_client.embeddings.create(model="all-MiniLM-L6-v2", input=["SQL window functions", "Docker"])
    assert [d.index for d in resp.data] == [0, 1]
    assert len(resp.data[0].embedding) == 384 and resp.model == "all-MiniLM-L6-v2"
    assert resp.usage.prompt_tokens == 4
    # The client asks for base64 unless told otherwise; the floats must be the same either way.
    floats = openai_client.embeddings.create(model="x", input="Docker", encoding_format="float").data[0].embedding
    assert floats == pytest.approx(resp.data[1].embedding, abs=1e-6)
    raw = web.post("/v1/embeddings", json={"input": "Docker"}).json()["data"][0]["embedding"]
    assert raw == pytest.approx(floats, abs=1e-6)
    single = openai_client.embeddings.create(model="x", input="feature stores")
    norm = sum(v * v for v in single.data[0].embedding) ** 0.5
    assert norm == pytest.approx(1.0, abs=1e-3)


# -- racing writers ----------------------------------------------------------------------------
def race(n: int, request, base_url: str = "") -> list:
    """Run ``request(client, i)`` in n threads released together, each on its own connection."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i: int) -> None:
        with httpx.Client(base_url=base_url, timeout=120) as c:
            barrier.wait()
            results[i] = request(c, i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_writers_exactly_one_wins_each_round(server, web):
    url = f"{server.url}/v1/knowledge/docker_docs"
    path = server.kb / "resources" / "docker_docs.md"
    accepted = [web.get("/v1/knowledge/docker_docs").json()["version"]]
    for round_ in range(3):
        base = web.get("/v1/knowledge/docker_docs").json()
        assert base["version"] == accepted[-1]

        def put(c, i):
            doc = {**base, "body": base["body"].rstrip() + f"\n\nEdit by writer {i} in round {round_}.\n"}
            return c.put(url, json=doc, headers={**WRITE, "If-Match": f'"{base["version"]}"'})

        results = race(8, put)
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200] + [412] * 7, [r.text for r in results]
        winner = next(r for r in results if r.status_code == 200).json()
        for r in results:
            if r.status_code == 412:
                assert r.json()["current_version"] == winner["version"]
        accepted.append(winner["version"])
        # The file on disk is complete, parses, and is the winner's.
        text = path.read_text()
        doc = parse_document(text, "resources/docker_docs.md", "docker_docs")
        assert doc.version == winner["version"] and doc.body == winner["body"]
        assert doc.body.count("Edit by writer") == round_ + 1
    history = web.get("/v1/knowledge/docker_docs/history").json()
    assert [v["version"] for v in history["versions"]] == accepted
    assert history["versions"][-1]["current"]
    assert not list(path.parent.glob(".*.md.*")), "a temporary file was left behind"
    # Every accepted version can be read back from the history.
    for version in accepted:
        assert web.get(f"/v1/knowledge/docker_docs/history/{version}").json()["version"] == version


def test_concurrent_creates_exactly_one_wins(server, web):
    url = f"{server.url}/v1/knowledge/raced_resource"
    doc = web.get("/v1/knowledge/docker_docs").json()
    front = {**doc["front_matter"], "id": "raced_resource", "title": "A raced resource"}

    def create(c, i):
        return c.put(url, json={"front_matter": front, "body": f"# Raced\n\n## Who\nWriter {i}.\n"}, headers={**WRITE, "If-None-Match": "*"})

    results = race(8, create)
    assert sorted(r.status_code for r in results) == [201] + [412] * 7
    assert len(web.get("/v1/knowledge/raced_resource/history").json()["versions"]) == 1


# -- several workers ---------------------------------------------------------------------------
def test_several_workers_serve_every_write_at_once(tmp_path, chroma_server):
    """Several workers share the index through a Chroma server (conftest's; the embedded store takes one
    writer) and each notices the others' writes: what it lists from its own loaded state is current."""
    (tmp_path / "api").mkdir()
    env = {"RESKILL_CHROMA_URL": chroma_server, "RESKILL_COLLECTION": f"api-live-{uuid.uuid4().hex[:12]}"}
    server = Server(tmp_path / "api", workers=2, env=env).start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            doc = c.get("/v1/knowledge/docker_docs")
            changed = {**doc.json(), "body": doc.json()["body"].rstrip() + "\n\n## Extra\nA zeppelinworkshop on image layers.\n"}
            r = c.put("/v1/knowledge/docker_docs", json=changed, headers={**WRITE, "If-Match": doc.headers["etag"]})
            assert r.status_code == 200, r.text
        time.sleep(1.5)  # the other worker notices the edit on its next request after a second

        def check(c, i):
            """What each worker serves from its own loaded state, plus the file and the probe."""
            listed = c.get("/v1/knowledge", params={"kind": "resource"}).json()["documents"]
            found = c.get("/v1/search", params={"q": "zeppelinworkshop", "kind": "resource"})
            return {
                "listed": {d["id"]: d["version"] for d in listed}["docker_docs"],
                "file": c.get("/v1/knowledge/docker_docs").json()["version"],
                "top": found.json()[0]["doc_id"] if found.status_code == 200 and found.json() else found.text,
                "ready": c.get("/readyz").status_code,
            }

        # Many connections at once, so that both workers take some of them.
        for _ in range(3):
            for got in race(24, check, server.url):
                assert got == {"listed": r.json()["version"], "file": r.json()["version"], "top": "docker_docs", "ready": 200}, got
    finally:
        server.stop()
    assert "Traceback" not in server.log_path.read_text(), server.log_path.read_text()[-3000:]


# -- slow clients (issue 15, item 9) -----------------------------------------------------------
@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    env = {"RESKILL_HTTP_HEADER_TIMEOUT_S": "2", "RESKILL_HTTP_BODY_TIMEOUT_S": "2", "RESKILL_HTTP_KEEP_ALIVE_S": "2"}
    s = Server(tmp_path_factory.mktemp("strict"), env=env).start()
    yield s
    s.stop()


def _closed_after(sock: socket.socket, limit: float, trickle: bytes | None = None) -> tuple[float, bytes]:
    """Seconds until the server closes ``sock`` (reading whatever it sends); fails past ``limit``."""
    start, got = time.monotonic(), b""
    sock.settimeout(0.5)
    while time.monotonic() - start < limit:
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            if trickle is not None:
                try:
                    sock.sendall(trickle)
                except OSError:
                    return time.monotonic() - start, got
            continue
        except OSError:
            return time.monotonic() - start, got
        if not chunk:
            return time.monotonic() - start, got
        got += chunk
    pytest.fail(f"the connection was still open after {limit} s (received {got[:200]!r})")


def test_idle_connections_and_slow_headers_are_cut_off(strict_server):
    addr = ("127.0.0.1", strict_server.port)
    with socket.create_connection(addr) as idle:  # never sends a byte
        took, _ = _closed_after(idle, 10)
        assert took < 5
    with socket.create_connection(addr) as slow:  # slowloris: a header byte every half second
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        took, got = _closed_after(slow, 10, trickle=b"X")
        assert took < 5 and (got == b"" or got.startswith(b"HTTP/1.1 408"))
    with socket.create_connection(addr) as kept:  # a complete exchange, then silence
        kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        took, got = _closed_after(kept, 10)
        assert got.startswith(b"HTTP/1.1 200") and took < 5


def test_a_stalled_body_is_408(strict_server):
    with socket.create_connection(("127.0.0.1", strict_server.port)) as sock:
        sock.sendall(b"POST /v1/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"messages\"")
        took, got = _closed_after(sock, 10)
        assert got.startswith(b"HTTP/1.1 408"), got[:300]
        assert b"RESKILL_HTTP_BODY_TIMEOUT_S" in got and took < 5
    assert httpx.get(f"{strict_server.url}/healthz").status_code == 200  # the server itself is fine


# -- schemathesis, every check, stateful phase included (issue 15, item 11) ------------------------
def test_schemathesis_all_checks_with_the_stateful_phase(tmp_path_factory):
    """`st run --checks all` (examples, coverage, fuzzing and stateful phases) against a live
    server finds nothing, and reaches successful PUTs (by following GET -> PUT links). Bounded:
    10 examples per operation, a fixed seed; about a minute or two on two CPUs.
    tests/schemathesis.toml says which statuses a schema-valid request may still get, and why."""
    server = Server(tmp_path_factory.mktemp("schemathesis")).start()
    try:
        st = os.path.join(os.path.dirname(sys.executable), "st")
        proc = subprocess.run(
            [st, "run", f"{server.url}/openapi.json", "--checks", "all", "--max-examples", "10", "--seed", "3",
             "--header", f"X-API-Key: {KEY}", "--request-timeout", "60", "--generation-deterministic"],
            capture_output=True, text=True, timeout=600, cwd=Path(__file__).parent,  # reads tests/schemathesis.toml
        )
        out = proc.stdout
        failures = out[out.find("FAILURES"):] if "FAILURES" in out else out[-6000:]
        report = failures[:12000] + proc.stderr[-2000:]
        assert proc.returncode == 0, report
        assert "Stateful" in proc.stdout, report
        log = server.log_path.read_text()
        written = [line for line in log.splitlines() if '"PUT /v1/knowledge/' in line and (" 200" in line or " 201" in line)]
        assert written, "no PUT succeeded:\n" + report
    finally:
        server.stop()
