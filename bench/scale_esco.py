"""Scale: the ESCO corpus (about 17,600 texts) as an external index.

Prints indexing throughput against the raw embedding throughput on the same texts (goal:
overhead under 15%), search p50/p95 at that size in the embedded store and on a Chroma
server, and peak memory.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request

from common import header, peak_rss_mb, summary, temp_data_dir, timed

QUERIES = ["data analyst reporting", "machine learning engineer", "manage a database", "teach mathematics",
           "software testing", "business intelligence dashboards", "train neural networks", "supervise staff"]


def start_server(path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = os.path.join(os.path.dirname(sys.executable), "chroma")
    proc = subprocess.Popen([exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("chroma run did not start")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=None, help="import only the first N texts (default: all)")
    ap.add_argument("--repeat", type=int, default=100)
    args = ap.parse_args()
    header("ESCO scale: indexing overhead, search latency in both Chroma modes, memory")

    from advisor.core import Advisor
    from advisor.settings import Settings
    from retrieval.embeddings import load_embedder
    from retrieval.external import read_esco

    embedder = load_embedder()
    items = list(read_esco(args.limit))
    texts = [t.text for t in items]
    embedder.embed_documents(texts[:64])
    start = time.perf_counter()
    for i in range(0, len(texts), 128):
        embedder.embed_documents(texts[i : i + 128])
    raw_s = time.perf_counter() - start
    print(f"texts {len(texts)}")
    print(f"raw embedding                       {raw_s:8.1f} s  {len(texts) / raw_s:7.1f} texts/s")

    data = temp_data_dir()
    settings = Settings(data_dir=data, include_external=True)
    adv = Advisor(settings, embedder)
    result = adv.import_esco(limit=args.limit)
    print(f"import (embed + store)              {result['seconds']:8.1f} s  {len(texts) / result['seconds']:7.1f} texts/s"
          f"   overhead {result['seconds'] / raw_s - 1:+.1%} (goal < 15%)")
    adv = Advisor(settings, embedder)
    counter = iter(range(10**9))
    embedded = timed(lambda: adv.search(f"{QUERIES[(n := next(counter)) % len(QUERIES)]} {n}", k=5), args.repeat)
    print(summary(f"search, embedded store ({adv.external.count()} external + curated)", embedded))

    server, url = start_server(data / "server")
    try:
        remote = Settings(data_dir=temp_data_dir(), include_external=True, chroma_url=url)
        radv = Advisor(remote, embedder)
        # Copy the stored vectors rather than embedding the corpus a second time.
        src, dst = adv.external.collection, radv.external.collection
        total = src.count()
        for offset in range(0, total, 1000):
            page = src.get(limit=1000, offset=offset, include=["embeddings", "documents", "metadatas"])
            dst.upsert(ids=page["ids"], embeddings=page["embeddings"], documents=page["documents"], metadatas=page["metadatas"])
        server_ms = timed(lambda: radv.search(f"{QUERIES[(n := next(counter)) % len(QUERIES)]} {n}", k=5), args.repeat)
        print(summary(f"search, Chroma server ({radv.external.count()} external + curated)", server_ms))
        same = [h.doc_id for h in adv.search("data analyst reporting")] == [h.doc_id for h in radv.search("data analyst reporting")]
        print(f"identical results in both modes: {same}")
    finally:
        server.terminate()
    print(f"peak RSS of this process {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
