"""Chat quality on ``tests/eval/chat.jsonl``: does the chat read the question and answer it?

Every row of the set is held out: the classifier trains on ``knowledge/reading/`` only. Most
rows are written in a different voice (full sentences, formal, British spelling) from the
training messages (lower case, typos, fragments); rows marked ``"voice": "real"`` are written
the way people actually type (typos, rambling, two questions at once, two options to weigh),
never copied or paraphrased into the training files, and get figures of their own. Each row
gives the earlier user messages (``history``), the ``message``, the expected ``type``, documents
of which at least one must be cited (``cite_any``), documents that must all be cited
(``cite_all``: a question naming two options gets a passage for each), documents that must not
be (``cite_none``, the other path's), text the answer must contain (``must``;
``{median:<role>}`` stands for that role's median wage as the knowledge base holds it) and text
it must not contain (``must_not``).

Figures: type accuracy (train-CV on the labelled messages, and on this held-out set), the
answer-check pass rate, out-of-scope precision and recall, the share of answers showing
internal ids or fragments, and how many out-of-scope messages were answered with citations
(must be 0).
"""

from __future__ import annotations

import re

from advisor.chat.compose import fragments, internal_ids
from advisor.chat.context import chat_reader

THRESHOLDS = {
    "chat_type_accuracy_heldout": 0.92,
    "chat_answer_checks": 0.90,
    "chat_type_accuracy_real": 0.85,
    "chat_answer_checks_real": 0.80,
}
"""Floors that fail the suite; ``chat_out_of_scope_cited`` must be 0."""
_MEDIAN = re.compile(r"\{median:([a-z_]+)\}")


def _expand(text: str, kb) -> str:
    def median(m: re.Match) -> str:
        role = kb.roles.get(m.group(1))
        wage = getattr(role, "median_wage", None)
        return f"${wage.amount_usd:,}" if wage else m.group(0)

    return _MEDIAN.sub(median, text)


def _history(messages: list[str]) -> list[dict]:
    out = []
    for text in messages:
        out += [{"role": "user", "content": text}, {"role": "assistant", "content": "(answered)"}]
    return out


def check_answer(adv, row: dict, answer) -> list[str]:
    """What is wrong with one answer (empty when it passes every check of its row)."""
    problems = []
    cited = {h.doc_id for h in answer.citations}
    if row.get("cite_any") and not cited & set(row["cite_any"]):
        problems.append(f"cites none of {row['cite_any']} (cited {sorted(cited)})")
    missing = [d for d in row.get("cite_all", []) if d not in cited]
    if missing:
        problems.append(f"does not cite {missing} (cited {sorted(cited)})")
    wrong = cited & set(row.get("cite_none", []))
    if wrong:
        problems.append(f"cites the other path's {sorted(wrong)}")
    for text in row.get("must", []):
        want = _expand(text, adv.kb)
        if want.lower() not in answer.text.lower():
            problems.append(f"lacks {want!r}")
    for text in row.get("must_not", []):
        if _expand(text, adv.kb).lower() in answer.text.lower():
            problems.append(f"contains {text!r}")
    if row["type"] == "out_of_scope" and answer.citations:
        problems.append("out of scope but cites sources")
    if row.get("no_skill"):
        before = adv.ask(row["history"][-1], history=_history(row["history"][:-1])).profile.levels() if row.get("history") else {}
        gained = {s for s, lvl in answer.profile.levels().items() if lvl > 0 and before.get(s, 0) == 0}
        if gained:
            problems.append(f"a preference set skills {sorted(gained)}")
    ids = internal_ids(answer.text, adv.kb)
    if ids:
        problems.append(f"internal ids in text: {ids[:3]}")
    frags = fragments(answer.text)
    if frags:
        problems.append(f"fragment: {frags[0][:60]!r}")
    if len(answer.citations) > 4 and row["type"] not in ("plan",):
        problems.append(f"{len(answer.citations)} sources for a short question")
    return problems


def chat_metrics(adv, rows: list[dict], failures: list[str]) -> dict[str, float]:
    reader = chat_reader(adv)
    figures = reader.figures
    right = passed = flawed = oos_tp = oos_fp = oos_fn = oos_cited = 0
    real = {"rows": 0, "right": 0, "passed": 0}
    for row in rows:
        is_real = row.get("voice") == "real"
        real["rows"] += is_real
        answer = adv.ask(row["message"], history=_history(row.get("history", [])))
        expected = row["type"]
        if answer.intent == expected:
            right += 1
            real["right"] += is_real
        else:
            failures.append(f"chat {row['id']}: read as {answer.intent}, expected {expected} ({row['message'][:60]!r})")
        problems = check_answer(adv, row, answer)
        if problems:
            failures.append(f"chat {row['id']}: " + "; ".join(problems))
        else:
            passed += 1
            real["passed"] += is_real
        flawed += bool(internal_ids(answer.text, adv.kb) or fragments(answer.text))
        is_oos, said_oos = expected == "out_of_scope", answer.intent == "out_of_scope"
        oos_tp += is_oos and said_oos
        oos_fp += said_oos and not is_oos
        oos_fn += is_oos and not said_oos
        oos_cited += is_oos and bool(answer.citations)
    n = max(len(rows), 1)
    return {
        "chat_type_accuracy_train_cv": figures["cv_accuracy"],
        "chat_type_accuracy_heldout": right / n,
        "chat_answer_checks": passed / n,
        "chat_type_accuracy_real": real["right"] / max(real["rows"], 1),
        "chat_answer_checks_real": real["passed"] / max(real["rows"], 1),
        "chat_real_voice_turns": float(real["rows"]),
        "chat_out_of_scope_precision": oos_tp / max(oos_tp + oos_fp, 1),
        "chat_out_of_scope_recall": oos_tp / max(oos_tp + oos_fn, 1),
        "chat_ids_or_fragments": flawed / n,
        "chat_out_of_scope_cited": float(oos_cited),
        "chat_training_messages": float(figures["examples"]),
        "chat_unsure_below": figures["unsure_below"],
    }


def chat_passed(metrics: dict[str, float]) -> bool:
    return all(metrics.get(k, 1.0) >= v for k, v in THRESHOLDS.items()) and metrics.get("chat_out_of_scope_cited", 0) == 0
