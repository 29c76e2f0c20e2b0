"""Process start to first answer of the Streamlit app, measured as a user sees it.

Starts ``streamlit run app.py`` in a subprocess, polls until it serves, then drives one
question through headless Chromium (Playwright) and waits for the answer's first cited
source. Run 1 uses an empty data dir (cold: the index is built); run 2 reuses it (warm).

    .venv/bin/python bench/first_answer.py                 # the real knowledge base
    .venv/bin/python bench/first_answer.py --kb tests/fixtures/kb --runs 1
"""

from __future__ import annotations

import argparse
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-quic", "--no-first-run", "--disable-sync"]  # fmt: skip
QUESTION = "What does a BI analyst do?"
FOLLOW_UP = "What does an ML engineer do day to day?"


@dataclass
class Run:
    label: str
    serving_s: float = 0.0
    page_ready_s: float = 0.0
    first_answer_s: float = 0.0
    turn_s: float = 0.0
    second_turn_s: float = 0.0
    peak_rss_mb: float = 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    """High-water resident memory of a process (Linux), in MB; 0 when unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def wait_until_serving(url: str, proc: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"streamlit exited with code {proc.returncode}")
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"streamlit did not serve within {timeout_s:g} s")


def ask(page, question: str, n: int, timeout_ms: int) -> None:
    """Type a question and wait until the n-th answer shows its first cited source."""
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    answer = page.get_by_test_id("stChatMessage").nth(2 * n - 1)
    answer.get_by_test_id("stExpander").first.wait_for(timeout=timeout_ms)


def measure(label: str, env: dict, timeout_s: float) -> Run:
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true"]  # fmt: skip
    run = Run(label)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_serving(url, proc, timeout_s)
        run.serving_s = time.perf_counter() - t0
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            page = browser.new_page()
            page.goto(url)
            page.get_by_test_id("stChatInputTextArea").wait_for(timeout=timeout_s * 1000)
            page.get_by_text("Engine:").wait_for(timeout=timeout_s * 1000)  # the Advisor is loaded
            run.page_ready_s = time.perf_counter() - t0
            ask(page, QUESTION, 1, int(timeout_s * 1000))
            run.first_answer_s = time.perf_counter() - t0
            run.turn_s = run.first_answer_s - run.page_ready_s
            t1 = time.perf_counter()
            ask(page, FOLLOW_UP, 2, int(timeout_s * 1000))
            run.second_turn_s = time.perf_counter() - t1
            browser.close()
        run.peak_rss_mb = peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    return run


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kb", help="knowledge folder (default: the app's default, the repository's knowledge/)")
    ap.add_argument("--data-dir", help="data dir to use (default: a fresh temporary one, so run 1 is cold)")
    ap.add_argument("--runs", type=int, default=2, help="1 = cold only; 2 = cold, then warm on the same data dir")
    ap.add_argument("--timeout", type=float, default=600, help="seconds to wait for each step")
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} not found: install Debian's chromium (`make browser`)", file=sys.stderr)
        return 2

    data_dir = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="reskill-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESKILL_")}
    env.update(RESKILL_DATA_DIR=str(data_dir), ANONYMIZED_TELEMETRY="False", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    if args.kb:
        env["RESKILL_KNOWLEDGE_DIR"] = str(Path(args.kb).resolve())
    cold = not any(data_dir.iterdir()) if data_dir.exists() else True

    runs = []
    for n in range(args.runs):
        label = "cold (index built)" if n == 0 and cold else "warm (index reused)"
        runs.append(measure(label, env, args.timeout))

    print(f"Reskill Streamlit app: process start -> first answer (knowledge: {args.kb or 'knowledge/'}, data dir: {data_dir})")
    print(f"question: {QUESTION!r}; follow-up: {FOLLOW_UP!r}; cpus: {os.cpu_count()}")
    head = f"{'run':<22}{'serving':>9}{'page ready':>12}{'1st answer':>12}{'1st turn':>10}{'2nd turn':>10}{'peak RSS':>10}"
    print(head)
    for r in runs:
        print(f"{r.label:<22}{r.serving_s:>8.1f}s{r.page_ready_s:>11.1f}s{r.first_answer_s:>11.1f}s{r.turn_s:>9.2f}s{r.second_turn_s:>9.2f}s{r.peak_rss_mb:>7.0f} MB")
    print("serving: HTTP health OK; page ready: chat input and engine shown (Advisor loaded);")
    print("1st answer: from process start until the first cited source is on screen; turns: question -> cited answer.")
    print("reproduce: cd " + shlex.quote(str(REPO)) + " && .venv/bin/python bench/first_answer.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
