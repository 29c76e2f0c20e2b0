"""Indexing overhead and warm search latency against their floors, measured in one run.

Indexing: time to index the knowledge base from scratch vs. the time to embed the same
chunk texts alone (the ratio is the indexing overhead). Search: warm hybrid search latency
vs. the floor of one query embedding plus one Chroma query.
"""

from __future__ import annotations

import argparse

from common import header, peak_rss_mb, summary, temp_data_dir, timed

QUERIES = [
    "how do I get into BI", "docker for ML models", "what is a star schema", "k8s for model serving",
    "power bi certification", "are LLMs replacing NLP jobs", "feature store", "A/B testing basics",
    "how long to learn dbt", "ML engineer interview", "monitoring model drift", "SQL window functions",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=200, help="searches per measurement")
    args = ap.parse_args()
    header("index and search vs floor")

    from advisor.core import Advisor
    from advisor.settings import Settings
    from knowledge.base import load_knowledge
    from retrieval.chunking import chunk_document, embedding_text
    from retrieval.client import open_chroma
    from retrieval.embeddings import load_embedder
    from retrieval.index import VectorIndex

    embedder = load_embedder()
    settings = Settings(data_dir=temp_data_dir())
    kb = load_knowledge(settings.knowledge_dir)
    chunks = [c for d in kb.docs.values() for c in chunk_document(d, settings.chunk_chars)]
    texts = [embedding_text(c.text, c.metadata) for c in chunks]
    embedder.embed_documents(texts[:32])  # warm the model

    embed_ms = timed(lambda: [embedder.embed_documents(texts[i : i + 64]) for i in range(0, len(texts), 64)], 1)[0]
    index = VectorIndex(open_chroma(settings.chroma_dir), settings.collection, embedder, settings.embedding_model, settings.chunk_chars)
    index_ms = timed(lambda: index.sync(kb.docs.values()), 1)[0]
    print(f"documents {len(kb.docs)}, chunks {len(chunks)}")
    print(f"embed chunks alone                            {embed_ms / 1000:8.2f} s   ({len(chunks) / embed_ms * 1000:.0f} chunks/s)")
    print(f"index from scratch (chunk, embed, store)      {index_ms / 1000:8.2f} s   overhead {index_ms / embed_ms - 1:+.1%}")

    adv = Advisor(settings, embedder)
    unchanged_ms = timed(adv.refresh, 3)
    print(summary("re-index with nothing changed", unchanged_ms))

    # Each call gets a distinct text (a number appended) so no cache hides the embedding cost.
    texts = [f"{QUERIES[n % len(QUERIES)]} {n}" for n in range(args.repeat)]
    floor_it, search_it = iter(texts), iter(texts[::-1])
    for q in QUERIES:
        adv.search(q)
    floor = timed(lambda: adv.index.query(embedder.embed_query(next(floor_it) + "?"), 5), args.repeat)
    search = timed(lambda: adv.search(next(search_it) + "!", k=5), args.repeat)
    cached = timed(lambda: adv.search(QUERIES[0], k=5), args.repeat)
    print(summary("floor: one query embedding + one Chroma query", floor))
    print(summary("hybrid search (new query text)", search))
    print(summary("hybrid search (repeated query: vector cached)", cached))
    print(f"search p50 / floor p50: {sorted(search)[len(search) // 2] / sorted(floor)[len(floor) // 2]:.2f}x")
    print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
