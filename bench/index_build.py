"""Where a fresh machine's first start goes: the index build on an empty data dir, by phase.

    .venv/bin/python bench/index_build.py [--threads N]

Phases: the embedder load, the Advisor's load (of which the index sync, i.e. embedding every
chunk in length-sorted batches, and the rest: knowledge base, skill vectors, keyword index), and
training the chat's question reader (cached in the data dir afterwards). Also the keyword-only
retriever the Streamlit page answers from while all this runs.
"""

from __future__ import annotations

import argparse
import os
import time

from common import header, temp_data_dir


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=None, help="ONNX Runtime intra-op threads (default: min(4, CPUs))")
    args = ap.parse_args()
    header("fresh index build, by phase")

    from advisor.chat.context import chat_reader
    from advisor.core import Advisor
    from advisor.settings import load_settings
    from knowledge.store import KnowledgeStore
    from retrieval.hybrid import KeywordRetriever
    from retrieval.onnx_embedder import OnnxEmbeddings
    from retrieval.onnx_export import export_dir
    from retrieval.embeddings import resolve_model

    settings = load_settings(data_dir=temp_data_dir())

    def line(what: str, seconds: float, extra: str = "") -> None:
        print(f"{what:<60}{seconds:8.2f} s  (load {os.getloadavg()[0]:.2f}){extra}", flush=True)

    t = time.perf_counter()
    kb = KnowledgeStore(settings.knowledge_dir, settings.data_dir).load()
    keyword = KeywordRetriever(kb.docs.values(), settings.chunk_chars)
    line("keyword-only retriever (the page's fallback), knowledge base read", time.perf_counter() - t, f"  {len(keyword)} chunks")

    t = time.perf_counter()
    embedder = OnnxEmbeddings(export_dir(settings.model_cache_dir, resolve_model(settings.embedding_model)), threads=args.threads)
    line("embedder load (ONNX)", time.perf_counter() - t)

    t = time.perf_counter()
    adv = Advisor.load(settings, embedder=embedder)
    total = time.perf_counter() - t
    report = adv.last_report
    line("Advisor.load on the empty data dir", total)
    line(f"  of which the index sync ({report.embedded} chunks embedded)", report.seconds, f"  {report.embedded / max(report.seconds, 1e-9):.1f} chunks/s")
    line("  of which the rest (knowledge base, skill vectors, keyword index)", total - report.seconds)

    t = time.perf_counter()
    chat_reader(adv).warm()
    line("chat question reader: embed the examples and train (once per data dir)", time.perf_counter() - t)


if __name__ == "__main__":
    main()
