"""Quality on the labelled sets in ``tests/eval/``: retrieval (queries.jsonl) and the
recommender (personas.jsonl). ``reskill eval`` prints these; the test suite enforces them."""

from __future__ import annotations

import json
from pathlib import Path

THRESHOLDS = {
    "retrieval_hit@3": 0.90,
    "persona_top_role_accuracy": 0.90,
    "skill_precision": 0.90,
    "skill_recall": 0.90,
}
"""Floors that fail the suite; ``negation_errors`` must be 0."""


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path.name} line {n}: {exc.msg}") from None
    return rows


def retrieval_metrics(adv, queries: list[dict], failures: list[str]) -> dict[str, float]:
    hit1 = hit3 = rr = 0.0
    for q in queries:
        docs = list(dict.fromkeys(h.doc_id for h in adv.search(q["query"], k=10)))
        ranks = [i for i, d in enumerate(docs, 1) if d in set(q["relevant"])]
        first = ranks[0] if ranks else None
        hit1 += first == 1
        hit3 += first is not None and first <= 3
        rr += 1.0 / first if first else 0.0
        if not first or first > 3:
            failures.append(f"query {q['query']!r}: wanted {q['relevant']}, got {docs[:3]}")
    n = max(len(queries), 1)
    return {"retrieval_hit@1": hit1 / n, "retrieval_hit@3": hit3 / n, "retrieval_mrr@10": rr / n}


def persona_metrics(adv, personas: list[dict], failures: list[str]) -> dict[str, float]:
    right = decided = tp = detected = labelled = found = negation_errors = 0
    gaps_wanted = gaps_found = 0
    for p in personas:
        profile = adv.profile(p["text"])
        levels = {s.skill_id: s.level for s in profile.skills}
        have = {s for s, lvl in levels.items() if lvl > 0}
        must = set(p.get("must_detect", []))
        tp += len(have & must)
        detected += len(have)
        labelled += len(must)
        found += len(have & must)
        extra, missed = have - must, must - have
        if extra or missed:
            failures.append(f"persona {p['id']}: extra {sorted(extra)}, missed {sorted(missed)}")
        for sid in p.get("must_not_detect", []):
            if levels.get(sid, 0) > 0:
                negation_errors += 1
                failures.append(f"persona {p['id']}: negated skill {sid} detected at level {levels[sid]}")
        fits = {f.role_id: f for f in adv.recommender.fits(profile, ["bi_analyst", "ml_engineer"])}
        expected = p.get("expected_target")
        if expected:
            decided += 1
            other = "ml_engineer" if expected == "bi_analyst" else "bi_analyst"
            if fits[expected].fit > fits[other].fit:
                right += 1
            else:
                failures.append(f"persona {p['id']}: expected {expected}, fits {fits[expected].fit:.2f} vs {fits[other].fit:.2f}")
        target = fits[expected or "ml_engineer"]
        gap_ids = {g.skill_id for g in target.gaps}
        for sid in p.get("expected_gaps", []):
            gaps_wanted += 1
            gaps_found += sid in gap_ids
    return {
        "persona_top_role_accuracy": right / max(decided, 1),
        "skill_precision": tp / max(detected, 1),
        "skill_recall": found / max(labelled, 1),
        "negation_errors": float(negation_errors),
        "expected_gaps_found": gaps_found / max(gaps_wanted, 1),
    }


def evaluate(adv, folder: Path) -> dict:
    failures: list[str] = []
    metrics = {}
    queries, personas = folder / "queries.jsonl", folder / "personas.jsonl"
    if queries.is_file():
        metrics.update(retrieval_metrics(adv, read_jsonl(queries), failures))
    if personas.is_file():
        metrics.update(persona_metrics(adv, read_jsonl(personas), failures))
    passed = all(metrics.get(k, 1.0) >= v for k, v in THRESHOLDS.items()) and metrics.get("negation_errors", 0) == 0
    return {"metrics": metrics, "passed": passed, "failures": failures}
