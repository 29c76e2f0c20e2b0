"""Cold start: process start to the first answer (CLI) and to /readyz and the first /v1/chat
answer (HTTP API), on a fresh data dir (index built) and on a warm one (index reused)."""

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli_first_answer(env: dict) -> float:
    start = time.perf_counter()
    subprocess.run([str(BIN / "reskill"), "ask", "What does a BI analyst do?"], env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def api_ready_and_first_answer(env: dict) -> tuple[float, float]:
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen([str(BIN / "reskill"), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready = None
        while ready is None:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2)
                ready = time.perf_counter() - start
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("reskill serve exited")
                time.sleep(0.1)
        body = json.dumps({"messages": [{"role": "user", "content": "What does a BI analyst do?"}]}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat", data=body, headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=60).read()
        return ready, time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.parse_args()
    header("cold start: process start to first answer and to /readyz")
    data = temp_data_dir()
    env = dict(os.environ, RESKILL_DATA_DIR=str(data), ANONYMIZED_TELEMETRY="False")
    print(f"CLI  `reskill ask`, fresh data dir (index built)   {cli_first_answer(env):6.1f} s to the answer")
    print(f"CLI  `reskill ask`, warm data dir                  {cli_first_answer(env):6.1f} s to the answer")
    ready, first = api_ready_and_first_answer(env)
    print(f"API  `reskill serve`, warm data dir                {ready:6.1f} s to /readyz, {first:6.1f} s to the first /v1/chat answer")
    env2 = dict(env, RESKILL_DATA_DIR=str(temp_data_dir()))
    ready, first = api_ready_and_first_answer(env2)
    print(f"API  `reskill serve`, fresh data dir               {ready:6.1f} s to /readyz, {first:6.1f} s to the first /v1/chat answer")


if __name__ == "__main__":
    main()
