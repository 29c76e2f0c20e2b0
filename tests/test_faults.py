"""Faults: a second writer, kill -9 at random points, a Chroma server that goes away."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from advisor.core import Advisor
from knowledge.base import load_knowledge
from knowledge.document import parse_document
from knowledge.store import KnowledgeStore
from retrieval.chunking import chunk_document
from retrieval.index import IndexUnavailable
from retrieval.lock import StoreLocked

from tests.helpers import free_port, start_chroma, stop, wait_until_ok


def _script(body: str, settings, kb_dir) -> str:
    return textwrap.dedent(
        f"""
        import os, sys, time, signal
        from advisor.settings import Settings
        from advisor.core import Advisor
        from retrieval.embeddings import load_embedder
        s = Settings(data_dir={str(settings.data_dir)!r}, knowledge_dir={str(kb_dir)!r},
                     chroma_url={settings.chroma_url!r}, collection={settings.collection!r})
        """
    ) + textwrap.dedent(body)


def assert_index_matches_disk(adv, kb_dir):
    kb = load_knowledge(kb_dir)
    stored = adv.index.stored()
    ids = [c.id for c in stored]
    assert len(ids) == len(set(ids)), "duplicate chunks"
    assert sorted(ids) == sorted(c.id for d in kb.docs.values() for c in chunk_document(d))
    for c in stored:
        assert c.metadata["doc_hash"] == kb.docs[c.metadata["doc_id"]].version
    assert adv.out_of_step() == []


def test_second_writer_process_gets_a_clear_error(settings, embedder, kb_dir):
    holder = subprocess.Popen(
        [sys.executable, "-c", _script("adv = Advisor(s, load_embedder())\nprint('ready', flush=True)\ntime.sleep(120)", settings, kb_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready", holder.stderr.read()[-2000:]
        path = kb_dir / "skills/sql.md"
        path.write_text(path.read_text() + "\n## More\nAnother paragraph about joins.\n")
        start = time.perf_counter()
        with pytest.raises(StoreLocked, match=rf"another process \(pid {holder.pid}\).*RESKILL_CHROMA_URL"):
            Advisor(settings, embedder)
        assert time.perf_counter() - start < 5  # refused at once, not a hang
    finally:
        holder.kill()
        holder.wait()
    adv = Advisor(settings, embedder)  # the lock died with its holder
    assert_index_matches_disk(adv, kb_dir)


def test_kill_indexer_at_random_points(settings, embedder, kb_dir):
    """kill -9 a real indexing process at random moments, five times; each next start must
    hold exactly the documents on disk: no duplicates, no missing or stale chunks."""
    rng = random.Random(7)
    body = """
        adv = Advisor(s, load_embedder())
        n = int(sys.argv[1])
        for p in sorted((s.knowledge_dir / "skills").glob("*.md")):
            p.write_text(p.read_text() + f"\\n## Round {n}\\nNotes from round {n} about " + p.stem + ".\\n")
        print("start", flush=True)
        adv.index.sync(adv.store.load().docs.values(), batch_size=2)
        print("done", flush=True)
        """
    for round_no in range(5):
        proc = subprocess.Popen(
            [sys.executable, "-c", _script(body, settings, kb_dir), str(round_no)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert proc.stdout.readline().strip() == "start", proc.stderr.read()[-2000:]
        time.sleep(rng.uniform(0.0, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        adv = Advisor(settings, embedder)
        assert_index_matches_disk(adv, kb_dir)


def test_killed_knowledge_writer_leaves_old_or_new_version(settings, embedder, kb_dir):
    """kill -9 a process in the middle of a stream of knowledge edits: the file is always a whole
    version, every history entry parses, and the index matches the file after restart."""
    body = """
        from knowledge.store import KnowledgeStore
        store = KnowledgeStore(s.knowledge_dir, s.data_dir)
        print("start", flush=True)
        for n in range(10**6):
            doc = store.get("docker")
            store.put("docker", doc.meta.model_dump(mode="json"), doc.body + f"\\nEdit {n}: " + "x" * 2000 + "\\n", doc.version)
        """
    rng = random.Random(11)
    for _ in range(4):
        proc = subprocess.Popen([sys.executable, "-c", _script(body, settings, kb_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "start", proc.stderr.read()[-2000:]
        time.sleep(rng.uniform(0.05, 0.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        text = (kb_dir / "skills/docker.md").read_text()
        doc = parse_document(text, "skills/docker.md", "docker")  # whole, valid
        assert doc.body.rstrip().endswith("x" * 2000) or "Edit" not in doc.body
        history = sorted((settings.data_dir / "history" / "docker").glob("*.md"))
        for h in history:
            parse_document(h.read_text(), h.name, "docker")
        assert any(h.name.endswith(f"-{doc.version}.md") for h in history) or len(history) == 0
        # A kill between writing the temporary file and renaming it can leave it; it is never read
        # as a document, and the next store to open (as after a restart) removes it.
        KnowledgeStore(settings.knowledge_dir, settings.data_dir)
        assert not list((kb_dir / "skills").glob(".docker.md.*")), "temporary file left behind after a restart"
    adv = Advisor(settings, embedder)
    assert_index_matches_disk(adv, kb_dir)


def test_chroma_server_going_away_fails_fast_and_recovers(settings, embedder, tmp_path):
    port = free_port()
    server = start_chroma(tmp_path / "chroma", port)
    try:
        adv = Advisor(settings.model_copy(update={"chroma_url": f"http://127.0.0.1:{port}"}), embedder)
        assert adv.search("k8s", k=1)[0].doc_id == "kubernetes"
        stop(server)
        start = time.perf_counter()
        with pytest.raises(IndexUnavailable, match="not reachable"):
            adv.search("docker images", k=1)
        assert time.perf_counter() - start < 3
        server = start_chroma(tmp_path / "chroma", port)
        assert adv.search("docker images", k=1)[0].doc_id == "docker"  # same Advisor, no restart
    finally:
        stop(server)


def test_api_answers_503_while_chroma_is_away_and_readyz_recovers(settings, embedder, tmp_path):
    from fastapi.testclient import TestClient

    from advisor.api import create_app

    port = free_port()
    server = start_chroma(tmp_path / "chroma", port)
    try:
        adv = Advisor(settings.model_copy(update={"chroma_url": f"http://127.0.0.1:{port}"}), embedder)
        with TestClient(create_app(adv.settings, adv)) as client:
            assert client.get("/v1/search", params={"q": "k8s"}).status_code == 200
            stop(server)
            start = time.perf_counter()
            down = client.get("/v1/search", params={"q": "docker images"})
            assert down.status_code == 503 and "not reachable" in down.json()["detail"]
            assert time.perf_counter() - start < 3
            assert client.get("/readyz").status_code == 503
            server = start_chroma(tmp_path / "chroma", port)
            assert client.get("/v1/search", params={"q": "docker images"}).status_code == 200
            # A collection deleted behind our back: not ready, repaired from the Markdown, ready again.
            adv.index.client.delete_collection(adv.settings.collection)
            assert client.get("/readyz").status_code == 503
            deadline = time.time() + 60
            while client.get("/readyz").status_code != 200:
                assert time.time() < deadline, "the index was not repaired"
                time.sleep(0.5)
            assert client.get("/v1/search", params={"q": "k8s"}).json()[0]["doc_id"] == "kubernetes"
    finally:
        stop(server)


def test_killing_the_api_during_knowledge_writes(settings, kb_dir, embedder):
    """kill -9 a live `reskill serve` while a client keeps replacing one document: the file is a
    whole version, every history entry parses, and after restart the index matches the file."""
    import httpx

    port = free_port()
    env = dict(os.environ, RESKILL_DATA_DIR=str(settings.data_dir), RESKILL_KNOWLEDGE_DIR=str(kb_dir), RESKILL_API_KEYS="k")
    rng = random.Random(5)
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-m", "advisor.cli", "serve", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        wait_until_ok(f"{url}/readyz", 120)
        killed_at = time.time() + rng.uniform(0.3, 1.5)
        with httpx.Client(base_url=url, headers={"X-API-Key": "k"}, timeout=10) as client:
            n = 0
            while time.time() < killed_at:
                doc = client.get("/v1/knowledge/docker")
                body = doc.json()
                body["body"] += f"\nEdit {n}: " + "y" * 1500 + "\n"
                client.put("/v1/knowledge/docker", json=body, headers={"If-Match": doc.headers["etag"]})
                n += 1
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        text = (kb_dir / "skills/docker.md").read_text()
        doc = parse_document(text, "skills/docker.md", "docker")
        assert "Edit" not in doc.body or doc.body.rstrip().endswith("y" * 1500)
        for h in sorted((settings.data_dir / "history" / "docker").glob("*.md")):
            parse_document(h.read_text(), h.name, "docker")
    adv = Advisor(settings, embedder)
    assert_index_matches_disk(adv, kb_dir)


# -- SIGKILL at exact steps of a write (issue 15) ----------------------------------------------
def _kill_at(step: str, settings, kb_dir, put: str) -> None:
    """Run ``put`` in a real process that SIGKILLs itself at ``step`` (an os.replace or os.unlink
    call, chosen by the code in ``step``), and wait until it is dead."""
    unlink_target = step.split()[-1] if step.startswith("#unlink") else None
    body = "\n".join([
        "from knowledge.store import KnowledgeStore",
        "store = KnowledgeStore(s.knowledge_dir, s.data_dir)",
        "calls = {'replace': 0, 'history': 0}",
        "real_replace, real_unlink = os.replace, os.unlink",
        "def replace(src, dst, *a, **k):",
        "    calls['replace'] += 1",
        "    calls['history'] += os.sep + 'history' + os.sep in str(dst)",  # not the data dir's caches
        f"    {step.strip()}",
        "    return real_replace(src, dst, *a, **k)",
        "def unlink(path, *a, **k):",
        f"    if {unlink_target!r} and str(path).endswith({unlink_target!r}):",
        "        os.kill(os.getpid(), signal.SIGKILL)",
        "    return real_unlink(path, *a, **k)",
        "os.replace, os.unlink = replace, unlink",
        put.strip(),
        "print('finished', flush=True)",
    ])
    proc = subprocess.run([sys.executable, "-c", _script(body, settings, kb_dir)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stdout, proc.stderr[-2000:])


def test_kill_at_a_history_rename_of_a_first_put_keeps_history_readable(settings, embedder, kb_dir):
    """The first PUT of a document renames three times: the old version into the history, the new
    version into the history, the new file into place (the attack killed the history write that
    came third then). Killed at a history rename, a temporary file stays in history/<id>/; it must
    never be read as history, and is cleaned at start."""
    from fastapi.testclient import TestClient

    from advisor.api import create_app

    original = (kb_dir / "skills/docker.md").read_text()
    _kill_at(
        "if calls['history'] == 1: os.kill(os.getpid(), signal.SIGKILL)", settings, kb_dir,
        'doc = store.get("docker"); store.put("docker", doc.meta.model_dump(mode="json"), doc.body + "\\nKilled edit.\\n", doc.version)',
    )
    folder = settings.data_dir / "history" / "docker"
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")], "the kill left no temporary file: the test is not testing"
    adv = Advisor(settings.model_copy(update={"api_keys": ["k"]}), embedder)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "temporary file not cleaned at start"
    with TestClient(create_app(adv.settings, adv)) as client:
        first = client.get("/v1/knowledge/docker/history")
        assert first.status_code == 200, first.text
        doc = client.get("/v1/knowledge/docker")
        body = doc.json()
        body["body"] += "\nA later edit.\n"
        assert client.put("/v1/knowledge/docker", json=body, headers={"X-API-Key": "k", "If-Match": doc.headers["etag"]}).status_code == 200
        versions = client.get("/v1/knowledge/docker/history").json()["versions"]
        assert versions[0]["version"] == parse_document(original, "x", "docker").version
        assert versions[-1]["current"] and len({v["version"] for v in versions}) == len(versions)
    # A stray temporary file written while running is skipped as well.
    (folder / ".123-abc.md.x1y2.tmp").write_text("half")
    (folder / ".999-0123456789abcdef.md.zz").write_text("an old-style temporary name")
    assert all(e.version != "abc" for e in adv.store.history("docker"))


def _resource_then_market(store, doc_id):
    from advisor.api.examples import NEW_RESOURCE

    front = {**NEW_RESOURCE["front_matter"], "id": doc_id, "title": "Containers in practice"}
    return store.put(doc_id, front, "# Containers in practice\n\nA resource about shipping containers of code.\n", None)


def test_kill_between_the_two_steps_of_a_kind_change(settings, embedder, kb_dir):
    """Killed at the unlink of a PUT that turns a resource into a market document, both files
    remain; the next start finishes the move (write-ahead record), so GET, search and the history
    agree on the new version and /readyz is 200."""
    from fastapi.testclient import TestClient

    from advisor.api import create_app
    from knowledge.store import KnowledgeStore

    _resource_then_market(KnowledgeStore(kb_dir, settings.data_dir), "moving_doc")
    market = "front = {'id': 'moving_doc', 'kind': 'market', 'title': 'Container demand in 2026', 'updated': '2026-01-01'}"
    _kill_at(
        "#unlink resources/moving_doc.md", settings, kb_dir,
        market + '\nstore.put("moving_doc", front, "# Container demand\\n\\nZeppelin harbours hire container planners.\\n", store.version_of("moving_doc"))',
    )
    assert (kb_dir / "resources/moving_doc.md").exists() and (kb_dir / "market/moving_doc.md").exists(), "not killed between the steps"
    adv = Advisor(settings, embedder)
    assert not (kb_dir / "resources/moving_doc.md").exists() and (kb_dir / "market/moving_doc.md").exists()
    with TestClient(create_app(adv.settings, adv)) as client:
        assert client.get("/readyz").status_code == 200
        got = client.get("/v1/knowledge/moving_doc").json()
        assert got["front_matter"]["kind"] == "market"
        hit = client.get("/v1/search", params={"q": "zeppelin harbours container planners", "k": 1}).json()[0]
        assert hit["doc_id"] == "moving_doc" and hit["kind"] == "market" and "Zeppelin" in hit["snippet"]


def test_a_duplicate_id_on_disk_makes_readyz_not_ready(settings, embedder, kb_dir):
    from fastapi.testclient import TestClient

    from advisor.api import create_app

    (kb_dir / "market" / "docker.md").write_text((kb_dir / "skills/docker.md").read_text())
    adv = Advisor(settings, embedder)
    with TestClient(create_app(adv.settings, adv)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "duplicate id 'docker'" in ready.json()["reason"]


def test_written_files_keep_their_mode(settings, kb_dir):
    """Edited documents keep their mode; new documents and history files get the umask's default."""
    from knowledge.store import KnowledgeStore

    path = kb_dir / "skills/docker.md"
    os.chmod(path, 0o644)
    old = os.umask(0o022)
    try:
        store = KnowledgeStore(kb_dir, settings.data_dir)
        doc = store.get("docker")
        store.put("docker", doc.meta.model_dump(mode="json"), doc.body + "\nMode test.\n", doc.version)
        assert oct(path.stat().st_mode & 0o777) == "0o644"
        os.chmod(path, 0o640)
        doc = store.get("docker")
        store.put("docker", doc.meta.model_dump(mode="json"), doc.body + "\nAgain.\n", doc.version)
        assert oct(path.stat().st_mode & 0o777) == "0o640"
        created = _resource_then_market(store, "new_mode_doc")
        assert oct((kb_dir / created.path).stat().st_mode & 0o777) == "0o644"
        for h in (settings.data_dir / "history").rglob("*.md"):
            assert h.stat().st_mode & 0o044, f"{h} is not readable by group and others"
    finally:
        os.umask(old)


def test_frozen_chroma_gives_a_fast_503_and_a_saved_write_is_indexed_when_it_is_back(settings, embedder, tmp_path):
    """SIGSTOP on a real `chroma run`: search and /readyz answer 503 within the Chroma timeout
    (not never); a PUT meanwhile answers 202 with the new version and ETag; once Chroma runs
    again the edit becomes searchable without anyone calling /readyz, and a retry of the PUT with
    the new ETag is a no-op, not a conflict."""
    from fastapi.testclient import TestClient

    from advisor.api import create_app

    port = free_port()
    server = start_chroma(tmp_path / "chroma", port)
    frozen = False
    try:
        changes = {"chroma_url": f"http://127.0.0.1:{port}", "chroma_timeout_s": 1.5, "reindex_retry_s": 0.5, "api_keys": ["k"]}
        adv = Advisor(settings.model_copy(update=changes), embedder)
        key = {"X-API-Key": "k"}
        with TestClient(create_app(adv.settings, adv)) as client:
            assert client.get("/v1/search", params={"q": "k8s"}).status_code == 200
            doc = client.get("/v1/knowledge/docker")
            os.kill(server.pid, signal.SIGSTOP)
            frozen = True
            for url in ("/v1/search?q=docker+images", "/readyz"):
                start = time.perf_counter()
                r = client.get(url)
                assert r.status_code == 503, (url, r.text)
                assert time.perf_counter() - start < 8, f"{url} took {time.perf_counter() - start:.1f} s"
            assert "not reachable" in client.get("/readyz").json()["reason"]

            body = doc.json()
            body["body"] += "\n## Frozen week\nQuokka-shaped container registries.\n"
            put = client.put("/v1/knowledge/docker", json=body, headers={**key, "If-Match": doc.headers["etag"]})
            assert put.status_code == 202, put.text
            saved = put.json()
            assert put.headers["etag"] == f'"{saved["version"]}"' and "not searchable yet" in saved["warning"]
            assert client.get("/v1/knowledge/docker").headers["etag"] == put.headers["etag"]

            os.kill(server.pid, signal.SIGCONT)
            frozen = False
            deadline = time.time() + 30
            while True:  # only searches: no probe triggers the re-indexing
                hits = client.get("/v1/search", params={"q": "quokka-shaped container registries", "k": 1})
                if hits.status_code == 200 and "Quokka" in hits.json()[0]["snippet"]:
                    break
                assert time.time() < deadline, "the saved edit never became searchable"
                time.sleep(0.3)
            history = client.get("/v1/knowledge/docker/history").json()["versions"]
            again = client.put("/v1/knowledge/docker", json=body, headers={**key, "If-Match": put.headers["etag"]})
            assert again.status_code == 200 and again.json()["version"] == saved["version"], again.text
            retry_old = client.put("/v1/knowledge/docker", json=body, headers={**key, "If-Match": doc.headers["etag"]})
            assert retry_old.status_code == 200 and retry_old.json()["version"] == saved["version"]  # its own write, not a conflict
            assert client.get("/v1/knowledge/docker/history").json()["versions"] == history
            assert client.get("/readyz").status_code == 200
    finally:
        if frozen:
            os.kill(server.pid, signal.SIGCONT)
        stop(server)


def test_serve_starts_while_chroma_is_frozen_and_loads_when_it_thaws(kb_dir, tmp_path):
    """`chroma run` SIGSTOPped before `reskill serve` starts: start-up does not hang. The first
    Chroma call gives up after RESKILL_CHROMA_TIMEOUT_S, the API answers (/healthz 200, /readyz and
    search 503 with the reason, each within the timeout), and once Chroma runs again the load is
    retried in the background until /readyz answers 200 and search works."""
    import httpx

    chroma_port, api_port = free_port(), free_port()
    server = start_chroma(tmp_path / "chroma", chroma_port)
    os.kill(server.pid, signal.SIGSTOP)
    frozen = True
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESKILL_")}
    env.update(
        RESKILL_DATA_DIR=str(tmp_path / "data"),
        RESKILL_KNOWLEDGE_DIR=str(kb_dir),
        RESKILL_CHROMA_URL=f"http://127.0.0.1:{chroma_port}",
        RESKILL_CHROMA_TIMEOUT_S="1.5",
        RESKILL_REINDEX_RETRY_S="0.5",
        ANONYMIZED_TELEMETRY="False",
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    log_path = tmp_path / "serve.log"
    url = f"http://127.0.0.1:{api_port}"
    with open(log_path, "wb") as log:
        api = subprocess.Popen(
            [sys.executable, "-c", f"from advisor.cli import main; main(['serve', '--port', '{api_port}'])"],
            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        # the process comes up although Chroma never answers
        assert wait_until_ok(f"{url}/healthz", 120, proc=api, interval=0.3), (
            f"serve did not come up with Chroma frozen (exit code {api.poll()}):\n{log_path.read_text()[-3000:]}"
        )
        for path in ("/readyz", "/v1/search?q=docker"):
            start = time.perf_counter()
            r = httpx.get(f"{url}{path}", timeout=10)
            took = time.perf_counter() - start
            assert r.status_code == 503, (path, r.text)
            assert took < 3, f"{path} took {took:.1f} s"
        ready = httpx.get(f"{url}/readyz", timeout=10).json()
        assert "not reachable" in ready["reason"] and "could not load" in ready["reason"], ready

        os.kill(server.pid, signal.SIGCONT)
        frozen = False
        deadline = time.monotonic() + 120
        while httpx.get(f"{url}/readyz", timeout=10).status_code != 200:
            assert api.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, f"never ready after Chroma came back:\n{log_path.read_text()[-3000:]}"
            time.sleep(0.5)
        hits = httpx.get(f"{url}/v1/search", params={"q": "containers and images"}, timeout=10)
        assert hits.status_code == 200 and hits.json()[0]["doc_id"] in ("docker", "docker_docs"), hits.text
    finally:
        if frozen:
            os.kill(server.pid, signal.SIGCONT)
        stop(api)
        stop(server)
