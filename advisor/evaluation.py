"""Quality on the labelled sets in ``tests/eval/``: retrieval (queries.jsonl) and the
recommender (personas.jsonl). ``reskill eval`` prints these; the test suite enforces them."""

from __future__ import annotations

import json
from pathlib import Path

THRESHOLDS = {
    "retrieval_hit@3": 0.95,
    "retrieval_mrr@10": 0.90,
    "dev_band_agreement": 0.80,
    "dev_skill_precision": 0.90,
    "dev_skill_recall": 0.90,
}
"""Floors that fail the suite. Skill precision and recall are at the issue's target (0.9); band
agreement's target is 0.9 and its floor is today's measured figure (a ratchet against
regressions) until the numbers reach it. The held-out split is reported beside the dev split and
never tuned on; its figures are not gated."""
MAX_NEGATION_ERRORS = 0
"""Dev-split negated skills read as held: none (the issue's target)."""


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


def _within(value: float, band: list[float] | None) -> bool:
    return band is None or band[0] <= value <= band[1]


def _checks(labels: dict):
    """(path, figure, band) for every band a labeller gave: fit and weeks to ready per path."""
    for name, key in (("fit", "fit"), ("weeks", "weeks_to_ready")):
        for role_id, band in (labels.get(key) or {}).items():
            if band is not None:
                yield role_id, name, band


def rater_agreement(personas: list[dict], opinions: list[dict]) -> dict[str, float]:
    """How often a second coach, labelling the same texts blind, agrees with the labels: the share of
    checks where the second coach's band midpoint falls inside the label's band. It is the ceiling a
    model can be expected to reach against one labeller (tests/eval/personas_second_opinions.jsonl)."""
    own = {p["id"]: p for p in personas}
    out: dict[str, float] = {}
    for split in ("dev", "heldout"):
        agree = checks = 0
        for o in opinions:
            p = own.get(o["id"])
            if p is None or p.get("split", "dev") != split:
                continue
            theirs = {(r, n): b for r, n, b in _checks(o)}
            for role_id, name, band in _checks(p["expected"]):
                if (role_id, name) in theirs:
                    checks += 1
                    agree += _within(sum(theirs[role_id, name]) / 2, band)
        if checks:
            out[f"{split}_rater_agreement"] = agree / checks
    return out


def persona_metrics(adv, personas: list[dict], all_failures: list[str], baseline: dict | None = None,
                    opinions: list[dict] | None = None) -> dict[str, float]:
    """Skill reading (precision and recall over what the person *stated*, negation errors) and band
    agreement: the share of (persona, path, figure) checks where fit and weeks to ready to apply fall
    inside the bands a career coach would give (tests/eval/personas.jsonl says each one). A persona
    whose bands are null (preferences only) agrees when no figures are shown. Reported per split
    (misses are listed for the dev split only);
    with ``opinions`` (second coaches' blind bands), also the agreement with those bands."""
    by_persona: dict[str, list[dict]] = {}
    for o in opinions or []:
        by_persona.setdefault(o["id"], []).append(o)
    out: dict[str, float] = {}
    for split in ("dev", "heldout"):
        rows = [p for p in personas if p.get("split", "dev") == split]
        if not rows:
            continue
        # The held-out split is read as aggregates only: naming its misses would invite tuning on it.
        failures = all_failures if split == "dev" else []
        tp = detected = labelled = negation_errors = 0
        checks = agree = lean_right = leans = old_agree = old_checks = second_checks = second_agree = 0
        for p in rows:
            profile = adv.profile(p["text"])
            stated = {s.skill_id: s.level for s in profile.skills if s.source == "stated"}
            have = {s for s, lvl in stated.items() if lvl > 0}
            must = set(p.get("must_detect", []))
            tp += len(have & must)
            detected += len(have)
            labelled += len(must)
            if have - must or must - have:
                failures.append(f"persona {p['id']}: extra {sorted(have - must)}, missed {sorted(must - have)}")
            for sid in p.get("must_not_detect", []):
                if stated.get(sid, 0) > 0:
                    negation_errors += 1
                    failures.append(f"persona {p['id']}: negated skill {sid} read at level {stated[sid]}")
            rec = adv.recommend(profile, targets=["bi_analyst", "ml_engineer"])
            fits = {f.role_id: f for f in rec.roles}
            for o in by_persona.get(p["id"], []):
                for role_id, name, band in _checks(o):
                    if role_id in fits:
                        value = round(fits[role_id].fit, 2) if name == "fit" else fits[role_id].weeks_to_ready
                        second_checks += 1
                        second_agree += rec.show_numbers and _within(value, band)
            expected = p["expected"]
            for role_id, f in fits.items():
                fit_band, weeks_band = expected["fit"].get(role_id), expected["weeks_to_ready"].get(role_id)
                old = (baseline or {}).get(p["id"], {}).get(role_id)
                if fit_band is None and weeks_band is None:
                    checks += 1
                    agree += not rec.show_numbers
                    if rec.show_numbers:
                        failures.append(f"persona {p['id']}: figures shown for a profile of preferences only")
                    continue
                # The figures as a person sees them: fit as a whole percentage, weeks to one decimal.
                for name, value, band in (("fit", round(f.fit, 2), fit_band), ("weeks", f.weeks_to_ready, weeks_band)):
                    checks += 1
                    ok = rec.show_numbers and _within(value, band)
                    agree += ok
                    if old is not None:
                        old_checks += 1
                        old_agree += _within(old["fit" if name == "fit" else "weeks_to_ready"], band)
                    if not ok:
                        failures.append(f"persona {p['id']} {role_id}: {name} {value:.2f} outside {band}"
                                        + ("" if rec.show_numbers else " (figures withheld)"))
            if p.get("lean"):
                leans += 1
                top = rec.roles[0].role_id if rec.show_numbers else rec.lean
                lean_right += top == p["lean"]
                if top != p["lean"]:
                    failures.append(f"persona {p['id']}: leans {top}, expected {p['lean']}")
        out.update({
            f"{split}_band_agreement": agree / max(checks, 1),
            # The old model's agreement on the personas it was run on (those with a baseline row).
            f"{split}_band_agreement_before": old_agree / old_checks if old_checks else float("nan"),
            f"{split}_lean_accuracy": lean_right / max(leans, 1),
            f"{split}_skill_precision": tp / max(detected, 1),
            f"{split}_skill_recall": tp / max(labelled, 1),
            f"{split}_negation_errors": float(negation_errors),
        })
        if second_checks:
            out[f"{split}_band_agreement_2nd_coaches"] = second_agree / second_checks
    return out


def reading_probe_metrics(adv, probes: list[dict]) -> dict[str, float]:
    """The reader on texts written by helpers who never saw it (tests/eval/reading_probes.jsonl), never
    used to change it or to train the claim reader: the share of skills a text says the person lacks
    that are read as held, and the share of skills it says they have that are read. Reported, not
    gated: they show what is left to do. (Texts once used to change the reader are training texts
    now, in knowledge/reading/claims.jsonl.)"""
    lacks = lacks_read = has = has_read = 0
    for p in probes:
        stated = {s.skill_id: s.level for s in adv.profile(p["text"]).skills if s.source == "stated"}
        lacks += len(p.get("not", []))
        lacks_read += sum(stated.get(s, 0) > 0 for s in p.get("not", []))
        has += len(p.get("has", []))
        has_read += sum(stated.get(s, 0) > 0 for s in p.get("has", []))
    return {"probe_blind_lacks_read_as_held": lacks_read / max(lacks, 1), "probe_blind_has_recall": has_read / max(has, 1)}


def evaluate(adv, folder: Path, chat: bool = True, probes: bool = True) -> dict:
    """Every labelled set in ``folder``; ``chat=False`` skips the chat turns (tests/test_reading.py gates
    those), ``probes=False`` the reading probes (reported, not gated)."""
    failures: list[str] = []
    metrics = {}
    queries, personas = folder / "queries.jsonl", folder / "personas.jsonl"
    if queries.is_file():
        metrics.update(retrieval_metrics(adv, read_jsonl(queries), failures))
    if personas.is_file():
        baseline_path = folder / "personas_baseline.json"
        baseline = json.loads(baseline_path.read_text())["personas"] if baseline_path.is_file() else None
        opinions_path = folder / "personas_second_opinions.jsonl"
        opinions = read_jsonl(opinions_path) if opinions_path.is_file() else None
        rows = read_jsonl(personas)
        metrics.update(persona_metrics(adv, rows, failures, baseline, opinions))
        if opinions:
            metrics.update(rater_agreement(rows, opinions))
    if probes and (folder / "reading_probes.jsonl").is_file():
        metrics.update(reading_probe_metrics(adv, read_jsonl(folder / "reading_probes.jsonl")))
    chat_ok = True
    if chat and (folder / "chat.jsonl").is_file():
        from advisor.chat_evaluation import chat_metrics, chat_passed

        chat_figures = chat_metrics(adv, read_jsonl(folder / "chat.jsonl"), failures)
        metrics.update(chat_figures)
        chat_ok = chat_passed(chat_figures)
    passed = all(metrics.get(k, 1.0) >= v for k, v in THRESHOLDS.items()) and chat_ok
    passed = passed and metrics.get("dev_negation_errors", 0) <= MAX_NEGATION_ERRORS
    return {"metrics": metrics, "passed": passed, "failures": failures}
