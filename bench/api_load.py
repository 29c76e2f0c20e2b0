"""Load on the HTTP API over loopback, next to the in-process latency of the same calls.

Starts ``advisor.api.run`` in a subprocess (one worker, the real knowledge base, a fresh data
dir), then for ``/v1/search`` and ``/v1/chat``: a short one-client pass (the cost HTTP adds to
one call) and a bounded load (N concurrent clients for D seconds), printing requests/s and
p50/p95/p99. After the server stops, the same calls are timed on an Advisor in this process
(``adv.search`` / ``adv.ask``) over the same index. Client and server share this machine's CPUs.

    .venv/bin/python bench/api_load.py                       # 8 clients x 20 s per endpoint
    .venv/bin/python bench/api_load.py --clients 16 --seconds 10 --kb tests/fixtures/kb
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from common import header, pct, temp_data_dir, timed

REPO = Path(__file__).resolve().parent.parent

SEARCHES = [
    "serve a model behind an API",
    "SQL window functions",
    "Power BI DAX measures",
    "Docker images for ML services",
    "Kubernetes deployments",
    "dashboard design for executives",
    "feature stores",
    "statistics for A/B tests",
    "dbt data modelling",
    "monitoring models in production",
    "certification for ML engineers",
    "are LLMs replacing NLP jobs",
]
ABOUT = "I'm a data scientist with 4 years of Python, strong pandas and sklearn, some SQL and basic Tableau; no Docker. 6 hours a week."
QUESTIONS = [
    "What does a BI analyst do day to day?",
    "Compare BI analyst vs ML engineer for me",
    "What should I learn first?",
    "Explain Docker and why it matters",
    "Any certifications for Kubernetes?",
    "Are LLMs replacing NLP jobs?",
]
HISTORY = [{"role": "user", "content": ABOUT}, {"role": "assistant", "content": "Noted."}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request_for(endpoint: str, n: int) -> tuple[str, str, dict]:
    if endpoint == "search":
        return "GET", "/v1/search", {"params": {"q": SEARCHES[n % len(SEARCHES)], "k": 5}}
    question = {"role": "user", "content": QUESTIONS[n % len(QUESTIONS)]}
    return "POST", "/v1/chat", {"json": {"messages": [*HISTORY, question]}}


async def load(url: str, endpoint: str, clients: int, seconds: float) -> tuple[list[float], int, float]:
    """``clients`` loops sending requests back to back until the deadline; latencies in ms."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(10**9))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def one_client() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                method, path, kwargs = request_for(endpoint, next(counter))
                start = time.perf_counter()
                try:
                    r = await client.request(method, path, **kwargs)
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - start) * 1000)
                errors += not ok

        began = time.perf_counter()
        deadline = began + seconds
        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    return latencies, errors, elapsed


def row(endpoint: str, mode: str, ms: list[float], errors: int | None = None, seconds: float | None = None) -> str:
    rate = f"{len(ms) / seconds:8.1f}" if seconds else f"{'-':>8}"
    errs = f"{errors:6d}" if errors is not None else f"{'-':>6}"
    return f"{endpoint:<12} {mode:<22} {len(ms):8d} {errs} {rate} {pct(ms, 50):9.1f} {pct(ms, 95):9.1f} {pct(ms, 99):9.1f}"


def start_chroma(path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    exe = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen([str(exe), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(f"{url}/api/v2/heartbeat", timeout=1)
            return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("chroma run did not start")


def start_server(kb: Path, data: Path, port: int, log_path: Path, workers: int = 1, chroma_url: str | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESKILL_")}
    env.update(RESKILL_DATA_DIR=str(data), RESKILL_KNOWLEDGE_DIR=str(kb), ANONYMIZED_TELEMETRY="False", TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1")
    if chroma_url:
        env["RESKILL_CHROMA_URL"] = chroma_url
    code = f"from advisor.api import run; run(None, '127.0.0.1', {port}, workers={workers})"
    log = open(log_path, "wb")
    return subprocess.Popen([sys.executable, "-c", code], cwd=data, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(url: str, proc: subprocess.Popen, log_path: Path, timeout: float = 300) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            sys.exit(f"the server exited:\n{log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return time.perf_counter() - start
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    proc.terminate()
    sys.exit(f"the server was not ready within {timeout:.0f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    ap.add_argument("--seconds", type=float, default=20, help="load duration per endpoint (default 20)")
    ap.add_argument("--single-seconds", type=float, default=5, help="one-client pass per endpoint (default 5)")
    ap.add_argument("--repeat", type=int, default=300, help="in-process calls per endpoint (default 300)")
    ap.add_argument("--kb", type=Path, default=REPO / "knowledge", help="knowledge folder (default: the real one)")
    ap.add_argument("--endpoints", default="search,chat")
    ap.add_argument("--mode", choices=["embedded", "server"], default="embedded", help="Chroma mode (server: starts `chroma run`)")
    ap.add_argument("--workers", type=int, default=1, help="API worker processes (more than 1 needs --mode server)")
    args = ap.parse_args()
    if args.workers > 1 and args.mode != "server":
        ap.error("--workers > 1 needs --mode server (the embedded store takes one writer process)")
    if args.clients < 1 or args.seconds <= 0 or args.repeat < 1:
        ap.error("--clients, --seconds and --repeat must be positive")
    endpoints = [e.strip() for e in args.endpoints.split(",") if e.strip()]
    if not set(endpoints) <= {"search", "chat"}:
        ap.error("--endpoints takes search and/or chat")
    header(f"HTTP API under load on loopback: {args.clients} clients x {args.seconds:g} s per endpoint, vs in-process")

    data = temp_data_dir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = data / "server.log"
    chroma, chroma_url = start_chroma(data / "chroma-server") if args.mode == "server" else (None, None)
    proc = start_server(args.kb.resolve(), data, port, log_path, args.workers, chroma_url)
    results: dict[str, list[str]] = {e: [] for e in endpoints}
    try:
        ready_s = wait_ready(url, proc, log_path)
        info = httpx.get(f"{url}/readyz").json()
        print(f"# server: {args.workers} worker(s), Chroma {args.mode}, ready in {ready_s:.1f} s (index built from scratch), engine {info['engine']}, "
              f"{sum(info['documents'].values())} documents")  # fmt: skip
        for endpoint in endpoints:
            asyncio.run(load(url, endpoint, 2, 2))  # warm-up: query vectors, extractor caches
            ms, errors, elapsed = asyncio.run(load(url, endpoint, 1, args.single_seconds))
            results[endpoint].append(row(endpoint, "HTTP, 1 client", ms, errors, elapsed))
            ms, errors, elapsed = asyncio.run(load(url, endpoint, args.clients, args.seconds))
            results[endpoint].append(row(endpoint, f"HTTP, {args.clients} clients", ms, errors, elapsed))
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    # The same calls in this process, over the index the server built (it has exited: one writer at a time).
    from advisor.core import Advisor
    from advisor.settings import Settings

    adv = Advisor.load(Settings(_env_file=None, data_dir=data, knowledge_dir=args.kb.resolve(), chroma_url=chroma_url))
    counter = iter(range(10**9))
    calls = {
        "search": lambda: adv.search(SEARCHES[next(counter) % len(SEARCHES)], k=5),
        "chat": lambda: adv.ask(QUESTIONS[next(counter) % len(QUESTIONS)], history=HISTORY),
    }
    for endpoint in endpoints:
        timed(calls[endpoint], 20)  # warm-up
        ms = timed(calls[endpoint], args.repeat)
        name = "adv.search" if endpoint == "search" else "adv.ask"
        results[endpoint].append(row(endpoint, f"in-process {name}", ms, None, sum(ms) / 1000))

    print(f"{'endpoint':<12} {'mode':<22} {'requests':>8} {'errors':>6} {'req/s':>8} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9}")
    for endpoint in endpoints:
        for line in results[endpoint]:
            print(line)
    print("# req/s for in-process is calls per second of one thread, back to back.")
    if chroma:
        chroma.terminate()


if __name__ == "__main__":
    main()
