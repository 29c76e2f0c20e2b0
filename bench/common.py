"""Shared helpers for the bench scripts: timing, percentiles, and printing figures with how to reproduce them."""

from __future__ import annotations

import os
import resource
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds for each of ``repeat`` calls."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(name: str, ms: list[float]) -> str:
    return f"{name:<44} p50 {pct(ms, 50):8.2f} ms   p95 {pct(ms, 95):8.2f} ms   mean {statistics.mean(ms):8.2f} ms   (n={len(ms)})"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def header(title: str) -> None:
    print(f"# {title}")
    print(f"# reproduce: .venv/bin/python {shlex.join(sys.argv)}")
    print(f"# machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")


def temp_data_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="reskill-bench-"))
