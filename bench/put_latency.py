"""Where the time of one knowledge write goes (issue 15, item 12).

An Advisor over a copy of the real knowledge base (embedded Chroma, real model) behind the HTTP
API in this process (TestClient). Times ``n`` warm PUTs that each change one paragraph of one
skill document, and the stages inside one write: validation and the check against the knowledge
base, the file writes, and the refresh (re-reading the Markdown, syncing the index, rebuilding the
keyword index and the parts built from the knowledge base). Then 20 concurrent PUTs on different
documents, as the attack ran them.

    .venv/bin/python bench/put_latency.py                 # 10 warm PUTs, the stage split, 20 concurrent
    .venv/bin/python bench/put_latency.py --profile       # plus the top of a cProfile of one PUT
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import header, pct, temp_data_dir

REPO = Path(__file__).resolve().parent.parent
KEY = "bench-key"


def timed_ms(fn) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--kb", default=str(REPO / "knowledge"))
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--keep", help="a folder to keep the copy and its index in between runs (skips the first build)")
    args = parser.parse_args()
    header("PUT latency: one knowledge write, warm")
    print(f"# load average at start: {os.getloadavg()[0]:.1f}")

    from fastapi.testclient import TestClient

    from advisor.api import create_app
    from advisor.core import Advisor
    from advisor.settings import Settings

    root = Path(args.keep) if args.keep else temp_data_dir()
    if not (root / "kb").exists():
        shutil.copytree(args.kb, root / "kb")
    start = time.perf_counter()
    adv = Advisor.load(Settings(_env_file=None, data_dir=root / "data", knowledge_dir=root / "kb", api_keys=[KEY]))
    print(f"load: {time.perf_counter() - start:.1f} s, {sum(adv.kb.counts().values())} documents")

    stages: dict[str, list[float]] = {}

    def timing(obj, name, label):
        inner = getattr(obj, name)

        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return inner(*a, **k)
            finally:
                stages.setdefault(label, []).append((time.perf_counter() - t) * 1000)

        setattr(obj, name, wrapper)

    timing(adv.store, "load", "store.load (parse + check all Markdown)")
    timing(adv.index, "sync", "index.sync (plan + embed + upsert)")
    timing(adv.retriever, "refresh", "retriever.refresh (BM25)")
    timing(adv, "_domain", "_domain (recommender, extractor, engine)")
    timing(adv, "refresh", "Advisor.refresh (all of the above)")

    with TestClient(create_app(adv.settings, adv)) as client:
        ids = sorted(d.id for d in adv.kb.of_kind("skill"))

        def put(doc_id: str, n: int) -> float:
            got = client.get(f"/v1/knowledge/{doc_id}")
            body = got.json()
            body["body"] += f"\nBench edit {n} of {doc_id}: one more paragraph about practice.\n"
            t = time.perf_counter()
            r = client.put(f"/v1/knowledge/{doc_id}", json=body, headers={"X-API-Key": KEY, "If-Match": got.headers["etag"]})
            took = (time.perf_counter() - t) * 1000
            assert r.status_code == 200, r.text
            return took

        put(ids[0], -1)  # warm-up
        stages.clear()
        ms = [put(ids[i % len(ids)], i) for i in range(args.n)]
        # The floor: embedding the one chunk such an edit changes, timed now (the machine may be shared).
        from retrieval.chunking import embedding_text

        chunk = adv.index.chunks_of(adv.kb.docs[ids[0]])[-1]
        floor = [timed_ms(lambda: adv.embedder.embed_documents([embedding_text(chunk.text, chunk.metadata)])) for _ in range(5)]
        print(f"single PUT, warm: p50 {pct(ms, 50):.0f} ms  p95 {pct(ms, 95):.0f} ms  max {max(ms):.0f} ms  (n={len(ms)})")
        print(f"  the floor, embedding one changed chunk now: p50 {pct(floor, 50):.0f} ms; PUT minus floor: p50 {pct(ms, 50) - pct(floor, 50):.0f} ms")
        for label, values in stages.items():
            per_put = sum(values) / args.n
            print(f"  {label:<46} {per_put:7.0f} ms per PUT ({len(values) / args.n:.1f} calls)")

        if args.profile:
            # The store's write in this thread (the HTTP PUT runs it in a worker thread, which
            # cProfile does not see): validation, checks, history, files and the refresh.
            doc = adv.store.get(ids[1])
            front = doc.meta.model_dump(mode="json", exclude_none=True)
            prof = cProfile.Profile()
            prof.enable()
            adv.store.put(ids[1], front, doc.body + "\nProfiled edit: one more paragraph about practice.\n", doc.version)
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(40)
            print(out.getvalue())

        if args.concurrent:
            stages.clear()
            t = time.perf_counter()
            with ThreadPoolExecutor(args.concurrent) as pool:
                each = list(pool.map(lambda i: put(ids[(i * 7) % len(ids)], 20_000 + i), range(args.concurrent)))
            wall = time.perf_counter() - t
            print(
                f"{args.concurrent} concurrent PUTs on different documents: slowest {max(each) / 1000:.1f} s, "
                f"median {statistics.median(each) / 1000:.1f} s, all done in {wall:.1f} s"
            )
            for label, values in stages.items():
                print(f"  {label:<46} {len(values):3d} calls, {sum(values) / 1000:5.1f} s in all")
            # Their floor: embedding the chunk each of them changed, in one batch, timed now.
            edited = sorted({ids[(i * 7) % len(ids)] for i in range(args.concurrent)})
            changed = [adv.index.chunks_of(adv.kb.docs[d])[-1] for d in edited]
            texts = [embedding_text(c.text, c.metadata) for c in changed]
            batch = timed_ms(lambda: adv.embedder.embed_documents(texts))
            print(f"  the floor, embedding their {len(texts)} changed chunks in one batch now: {batch / 1000:.1f} s")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
