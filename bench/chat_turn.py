"""Warm latency of a grounded chat turn and of a recommendation from text, next to the floor
(one query embedding + one Chroma query) measured in the same run; optionally the bundled
local model's generation speed (--local)."""

from __future__ import annotations

import argparse
import time

from common import header, pct, summary, temp_data_dir, timed

ABOUT = "I'm a data scientist with 4 years of Python, strong pandas and sklearn, some SQL and basic Tableau; no Docker. {n} hours a week."
LISTED = "Data scientist, four years. Skills: Python, SQL, Tableau, Git and Airflow (team {n})."
TURNS = [
    "What does a BI analyst do day to day? ({n})",
    "Compare BI analyst vs ML engineer for me ({n})",
    "What should I learn first? ({n})",
    "Explain Docker and why it matters ({n})",
    "Any certifications for Kubernetes? ({n})",
    "Are LLMs replacing NLP jobs? ({n})",
    "How much does an ML engineer earn compared to a data scientist? ({n})",
    "How long does it take to learn dbt? ({n})",
    "How are BI analysts interviewed? ({n})",
    "Should I learn Kubernetes or Airflow first? ({n})",
]
"""Mixed question types; each is read by the learned classifier (the reading is part of the turn)."""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=120)
    ap.add_argument("--local", action="store_true", help="also measure SmolLM2 tokens per second")
    args = ap.parse_args()
    header("chat turn and recommendation vs floor")

    from advisor.core import Advisor
    from advisor.settings import Settings
    from retrieval.embeddings import load_embedder

    embedder = load_embedder()
    adv = Advisor(Settings(data_dir=temp_data_dir()), embedder)
    history = [{"role": "user", "content": ABOUT.format(n=6)}, {"role": "assistant", "content": "Noted."}]
    start = time.perf_counter()
    adv.ask("hello", history=history)  # the first turn loads (or trains and caches) the question reader
    print(f"first turn, reader trained and cached: {time.perf_counter() - start:.1f} s")
    for t in TURNS:
        adv.ask(t.format(n=0), history=history)

    counter = iter(range(10**9))
    # Distinct wording every call, so no cached query vector hides the embedding cost.
    # Floor and turn calls alternate, so a machine shared with other work slows both alike.
    floor, turn = [], []
    for _ in range(args.repeat):
        floor += timed(lambda: adv.index.query(embedder.embed_query(f"floor query {next(counter)}"), 5), 1)
        turn += timed(lambda: adv.ask(TURNS[(n := next(counter)) % len(TURNS)].format(n=n), history=history), 1)
    rec = timed(lambda: adv.recommend(ABOUT.format(n=next(counter) % 30 + 2)), args.repeat)
    # Every text new, with five bare names in one clause: the claim reader screens the clause with one vector.
    listed = timed(lambda: adv.recommend(LISTED.format(n=next(counter))), args.repeat)
    embed_only = timed(lambda: embedder.embed_query(f"one embedding {next(counter)}"), args.repeat)
    print(summary("floor: query embedding + Chroma query", floor))
    print(summary("grounded chat turn (mixed intents)", turn))
    print(summary("one embedding call", embed_only))
    print(summary("recommend() from free text", rec))
    print(summary("recommend(), new text, 5 bare names", listed))
    print(f"turn p50 / floor p50: {pct(turn, 50) / pct(floor, 50):.2f}x (goal: within 2x)")

    if args.local:
        from advisor.llm import load_local

        start = time.perf_counter()
        model = load_local(max_new_tokens=128)
        load_s = time.perf_counter() - start
        tokens, start = 0, time.perf_counter()
        for chunk in model.stream("Explain in three sentences what an ML engineer does."):
            tokens += 1 if chunk.content else 0
        gen_s = time.perf_counter() - start
        print(f"SmolLM2 load {load_s:.1f} s; {tokens} streamed pieces in {gen_s:.1f} s = {tokens / gen_s:.1f} tokens/s")


if __name__ == "__main__":
    main()
