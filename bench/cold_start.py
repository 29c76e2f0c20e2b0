"""Cold start: process start to each face's first answer, on a warm data dir (index reused) and
a fresh one (index built), each beside the floor (import chromadb + embedder load + one query)
and the load average of this shared machine.

    .venv/bin/python bench/cold_start.py [--skip-fresh] [--skip-streamlit]
    .venv/bin/python bench/cold_start.py --only serve|ask [--rounds N] [--data-dir DIR]   # one face, warm
    .venv/bin/python bench/cold_start.py --only-browser [--skip-fresh] [--data-dir DIR]   # Streamlit in Chromium
    .venv/bin/python bench/cold_start.py --before DIR [--rounds N] [--data-dir DIR]   # ask and serve, older tree vs this one
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from common import header, temp_data_dir

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
QUESTION = "What does a BI analyst do?"
OLD_RSS_GB = 0.74
"""RSS of the CLI with torch before issue 14 (bench/RESULTS.md)."""


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def timed_run(cmd: list[str], env: dict, cwd: Path = ROOT) -> tuple[float, float]:
    """Seconds from process start to exit, and the child's peak RSS in GB."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{cmd} failed: {err.decode()[-2000:]}")
    return took, usage.ru_maxrss / 1024 / 1024


FLOOR = """
import json, time
t0 = time.perf_counter()
import chromadb
t1 = time.perf_counter()
from retrieval.embeddings import load_embedder
e = load_embedder()
t2 = time.perf_counter()
e.embed_query("What does a BI analyst do?")
t3 = time.perf_counter()
print(json.dumps({"chromadb": t1 - t0, "embedder": t2 - t1, "query": t3 - t2}))
"""


def floor(env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", FLOOR], env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def python_pass(env: dict) -> float:
    return timed_run([sys.executable, "-c", "pass"], env)[0]


def cli(args: list[str], env: dict) -> tuple[float, float]:
    return timed_run([str(BIN / "reskill"), *args], env)


def rss_gb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def chat(port: int) -> None:
    body = json.dumps({"messages": [{"role": "user", "content": QUESTION}]}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat", data=body, headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=300).read()


def wait_for(url: str, proc: subprocess.Popen, start: float, timeout: float = 600) -> float:
    while time.perf_counter() - start < timeout:
        try:
            urllib.request.urlopen(url, timeout=2)
            return time.perf_counter() - start
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args} exited")
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def serve(env: dict, warm_chats: int = 20, cwd: Path = ROOT, cmd: list[str] | None = None) -> tuple[float, float, float]:
    """(s to /readyz 200, s to the first /v1/chat answer, RSS in GB after ``warm_chats`` more chats)."""
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen([*(cmd or [str(BIN / "reskill")]), "serve", "--port", str(port)], env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready = wait_for(f"http://127.0.0.1:{port}/readyz", proc, start)
        chat(port)
        first = time.perf_counter() - start
        for _ in range(warm_chats):
            chat(port)
        return ready, first, rss_gb(proc.pid)
    finally:
        proc.terminate()
        proc.wait()


APPTEST = f"""
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("app.py", default_timeout=600).run()
assert not at.exception, at.exception
at.chat_input[0].set_value({QUESTION!r}).run()
assert not at.exception and len(at.chat_message) >= 2, at.exception
"""


def streamlit_apptest(env: dict) -> float:
    """Process start to the first chat answer, the app run headlessly by Streamlit's AppTest
    (the page's script, the cached Advisor and one chat turn; no browser or websocket)."""
    return timed_run([sys.executable, "-c", APPTEST], env)[0]


def streamlit_health(env: dict) -> float:
    """`streamlit run app.py` to its health endpoint (the server is up; the Advisor loads with the first page)."""
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(BIN / "streamlit"), "run", "app.py", "--server.headless", "true", "--server.port", str(port)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        return wait_for(f"http://127.0.0.1:{port}/_stcore/health", proc, start)
    finally:
        proc.terminate()
        proc.wait()


CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"]


def streamlit_browser(env: dict, script: str = "app.py", cwd: Path = ROOT) -> tuple[float, float, float]:
    """`streamlit run app.py` in a real browser (Debian's Chromium, already open, as a person's is):
    seconds from process start to the server's health, to the chat input being usable, and to the
    full chat (its 'Engine:' caption; on a fresh data dir the keyword chat comes first)."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
        start = time.perf_counter()
        proc = subprocess.Popen(
            [str(BIN / "streamlit"), "run", script, "--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            health = wait_for(f"http://127.0.0.1:{port}/_stcore/health", proc, start, timeout=600)
            page.goto(f"http://127.0.0.1:{port}")
            box = page.get_by_test_id("stChatInputTextArea")
            box.wait_for(timeout=600_000)
            page.wait_for_function(
                "() => { const b = document.querySelector('[data-testid=stChatInputTextArea]'); return b && !b.disabled; }", timeout=600_000
            )
            usable = time.perf_counter() - start
            page.get_by_text("Engine:").first.wait_for(timeout=600_000)
            full = time.perf_counter() - start
            return health, usable, full
        finally:
            proc.terminate()
            proc.wait()
            browser.close()


MINIMAL_APP = 'import streamlit as st\nst.title("floor")\nst.caption("Engine: none")\nst.chat_input("type")\n'
"""The Streamlit floor: a page with a title and a chat box and nothing else."""


def browser_figures(env: dict, base: dict, line, floor_now, warm: bool = True, fresh: bool = True) -> None:
    """The real-browser Streamlit figures: the floor (a chat-box-only app), warm, fresh."""
    if warm:
        app = temp_data_dir() / "minimal_app.py"
        app.write_text(MINIMAL_APP)
        _, usable, _ = streamlit_browser(env, str(app))
        line("Streamlit floor: a chat-box-only app, browser: chat input usable", usable)
        fl = floor_now()
        _, usable, full = streamlit_browser(env)
        line("warm: `streamlit run app.py`, browser: chat input usable", usable, fl)
        line("warm: `streamlit run app.py`, browser: full chat shown", full, fl)
    if fresh:
        fl = floor_now()
        _, usable, full = streamlit_browser(dict(base, RESKILL_DATA_DIR=str(temp_data_dir())))
        line("fresh: `streamlit run app.py`, browser: chat input usable (keyword search)", usable, fl)
        line("fresh: `streamlit run app.py`, browser: full chat (index and reader built)", full, fl)


def before_after(before: Path, base: dict, line, floor_now, rounds: int, shared: Path | None = None) -> None:
    """`reskill ask` and `reskill serve` to /readyz with the code in ``before`` (a tree of an older
    commit: `git archive <commit> | tar -x -C DIR`) and with this tree, alternating, each on its own
    warm data dir (the same embedder export), so both see the same load. With ``shared`` (an
    indexed data dir), both use it and the knowledge base the environment names (no index built).
    The floor is measured before each round, beside both figures."""
    models = str(base.get("RESKILL_MODEL_CACHE_DIR") or ROOT / ".reskill" / "models")
    sides = {}
    for name, tree in (("before", before), ("after", ROOT)):
        data = shared or temp_data_dir()
        kb = (base.get("RESKILL_KNOWLEDGE_DIR") or str(ROOT / "knowledge")) if shared else str(tree / "knowledge")
        env = dict(base, RESKILL_DATA_DIR=str(data), RESKILL_MODEL_CACHE_DIR=models, RESKILL_KNOWLEDGE_DIR=kb)
        env["PYTHONPATH"] = str(tree)  # the tree's own code first, ahead of the editable install
        sides[name] = (tree, env)
        if not shared:
            timed_run([sys.executable, "-m", "advisor.cli", "index"], env, cwd=tree)  # build, and warm the caches
        timed_run([sys.executable, "-m", "advisor.cli", "ask", QUESTION], env, cwd=tree)
    took: dict[tuple[str, str], list[float]] = {}
    floors: list[float] = []
    for n in range(rounds):
        floors.append(fl := floor_now())
        for name, (tree, env) in sides.items():
            t, rss = timed_run([sys.executable, "-m", "advisor.cli", "ask", QUESTION], env, cwd=tree)
            took.setdefault((name, "ask"), []).append(t)
            line(f"{name}: warm `reskill ask` (round {n + 1})", t, fl, f"  peak RSS {rss:.2f} GB")
    for n in range(rounds):
        floors.append(fl := floor_now())
        for name, (tree, env) in sides.items():
            ready, _, _ = serve(env, warm_chats=0, cwd=tree, cmd=[sys.executable, "-m", "advisor.cli"])
            took.setdefault((name, "serve"), []).append(ready)
            line(f"{name}: warm `reskill serve` to /readyz 200 (round {n + 1})", ready, fl)
    median_floor = sorted(floors)[len(floors) // 2]
    for (name, face), times in took.items():
        line(f"{name}: median of {rounds}, `reskill {face}`", sorted(times)[len(times) // 2], median_floor)
    line(f"median floor of the {len(floors)} rounds", median_floor)


def only(face: str, env: dict, line, floor_now, rounds: int) -> None:
    """One face, warm, ``rounds`` times, each beside a floor measured just before it; then the median."""
    took = []
    for n in range(rounds):
        fl = floor_now()
        if face == "ask":
            t, rss = cli(["ask", QUESTION], env)
            line(f"warm: `reskill ask` (round {n + 1})", t, fl, f"  peak RSS {rss:.2f} GB")
        else:
            t, _, _ = serve(env, warm_chats=0)
            line(f"warm: `reskill serve` to /readyz 200 (round {n + 1})", t, fl)
        took.append(t)
    took.sort()
    line(f"median of {rounds}", took[len(took) // 2])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-fresh", action="store_true", help="only the warm data dir")
    ap.add_argument("--skip-streamlit", action="store_true")
    ap.add_argument("--only-browser", action="store_true", help="only the real-browser Streamlit figures (warm, and fresh unless --skip-fresh)")
    ap.add_argument("--before", type=Path, help="only: before/after of `reskill ask` and serve, alternating, with the older code in this tree")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", choices=("ask", "serve"), help="only this face, warm, --rounds times (with --data-dir: that index, not built here)")
    ap.add_argument("--data-dir", type=Path, help="with --only, --only-browser or --before: an existing data dir (e.g. .reskill) instead of a temporary one indexed first")
    args = ap.parse_args()
    header("cold start: process start to first answer, warm data dir and fresh, beside the floor")
    base = dict(os.environ, ANONYMIZED_TELEMETRY="False", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    base.pop("RESKILL_DATA_DIR", None)
    backend = base.get("RESKILL_EMBEDDING_BACKEND", "onnx")
    print(f"# embedding backend: {backend}")

    def line(what: str, seconds: float, fl: float | None = None, extra: str = "") -> None:
        ratio = f"{seconds / fl:6.1f}x floor" if fl else " " * 13
        print(f"{what:<58}{seconds:7.2f} s  {ratio}  ({load()}){extra}", flush=True)

    def floor_now() -> float:
        """The floor measured just before a figure: the load of this shared machine changes by the minute."""
        f = floor(base)
        return f["chromadb"] + f["embedder"] + f["query"]

    line("python -c pass", python_pass(base))
    f = floor(base)
    line("import chromadb", f["chromadb"])
    line(f"embedder load ({backend})", f["embedder"])
    line("one query embedding", f["query"])
    line("floor = import chromadb + embedder load + one query", f["chromadb"] + f["embedder"] + f["query"])
    print("# each figure below is followed by its ratio to a floor measured just before it")
    if args.before:
        before_after(args.before.resolve(), base, line, floor_now, args.rounds, args.data_dir.resolve() if args.data_dir else None)
        line("floor, again", floor_now())
        return

    given = (args.only or args.only_browser) and args.data_dir
    warm = args.data_dir.resolve() if given else temp_data_dir()
    env = dict(base, RESKILL_DATA_DIR=str(warm))
    if not given:
        fl = floor_now()
        took, _ = cli(["index"], env)
        line("fresh data dir: `reskill index` (builds the index)", took, fl)
    if args.only:
        only(args.only, env, line, floor_now, args.rounds)
        return
    if args.only_browser:
        browser_figures(env, base, line, floor_now, fresh=not args.skip_fresh)
        return
    for what in ("warm: `reskill ask` to the printed answer", "warm: `reskill ask` again"):
        fl = floor_now()
        took, rss = cli(["ask", QUESTION], env)
        line(what, took, fl, f"  peak RSS {rss:.2f} GB")
    fl = floor_now()
    ready, first, rss = serve(env)
    line("warm: `reskill serve` to /readyz 200", ready, fl)
    line("warm: `reskill serve` to the first /v1/chat answer", first, fl, f"  RSS after 21 chats {rss:.2f} GB (was {OLD_RSS_GB} GB for the CLI with torch)")
    if not args.skip_streamlit:
        fl = floor_now()
        line("warm: `streamlit run app.py` to /_stcore/health", streamlit_health(env), fl)
        fl = floor_now()
        line("warm: Streamlit app (AppTest) to the first chat answer", streamlit_apptest(env), fl)
        if Path(CHROMIUM).exists():
            browser_figures(env, base, line, floor_now, fresh=False)

    if not args.skip_fresh:
        env = dict(base, RESKILL_DATA_DIR=str(temp_data_dir()))
        fl = floor_now()
        took, rss = cli(["ask", QUESTION], env)
        line("fresh: `reskill ask` (index built first)", took, fl, f"  peak RSS {rss:.2f} GB")
        fl = floor_now()
        ready, first, _ = serve(dict(base, RESKILL_DATA_DIR=str(temp_data_dir())))
        line("fresh: `reskill serve` to /readyz 200 (index built first)", ready, fl)
        line("fresh: `reskill serve` to the first /v1/chat answer", first, fl)
        if not args.skip_streamlit and Path(CHROMIUM).exists():
            browser_figures(env, base, line, floor_now, warm=False)

if __name__ == "__main__":
    main()
