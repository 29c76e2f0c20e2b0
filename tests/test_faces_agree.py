"""One person, every face: the CLI table, the HTTP API, the chat answer, the Markdown export and the
Streamlit sidebar show the same fit and weeks to ready for the same words (issue 11: the figures are
consistent wherever they appear). Each face is read as a person reads it, from its printed text
where it has one, over the repository's real knowledge base."""

from __future__ import annotations

import re

import pytest
import streamlit as st
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest

from advisor.api.app import create_app
from advisor.cli import main as cli_main
from advisor.report import recommendation_markdown
from knowledge.base import TARGET_ROLES

from tests.conftest import REAL_KB
from tests.test_app import APP

TEXT = (
    "hi, ive been a data scientist for about 5 years (retail, then a fintech). python and pandas every day, "
    "scikit-learn for churn and propensity models that run as nightly batch jobs, SQL most days in snowflake, "
    "git for everything. i've made a few tableau dashboards for the sales team but nothing fancy. "
    "never touched docker or kubernetes. i can do maybe 8 hours a week"
)
QUESTION = "so which fits me better, BI analyst or ML engineer, and how long would each take?"
Figures = dict[str, tuple[int, float]]


@pytest.fixture(scope="module")
def expected(real_advisor) -> Figures:
    rec = real_advisor.recommend(TEXT, targets=list(TARGET_ROLES))
    assert rec.show_numbers
    return {f.title: (round(f.fit * 100), f.weeks_to_ready) for f in rec.roles}


def _table(text: str, titles) -> Figures:
    """Rows of a table that starts with the role's title, then its fit %, then two counts, then weeks."""
    out = {}
    for title in titles:
        m = re.search(rf"^\|? ?{re.escape(title)}\s*\|?\s*(\d+)%\s*\|?\s*\d+\s*\|?\s*\d+\s*\|?\s*([\d.]+)", text, re.M)
        assert m, f"no row for {title} in:\n{text[:1500]}"
        out[title] = (int(m.group(1)), float(m.group(2)))
    return out


def _same_store(monkeypatch, real_advisor) -> None:
    """Another face in this process opens the real advisor's index instead of building its own."""
    monkeypatch.setenv("RESKILL_DATA_DIR", str(real_advisor.settings.data_dir))
    monkeypatch.setenv("RESKILL_KNOWLEDGE_DIR", str(REAL_KB))


def test_cli_table_and_markdown_export(expected, real_advisor, monkeypatch, capsys):
    _same_store(monkeypatch, real_advisor)
    assert cli_main(["recommend", "--text", TEXT, "--targets", ",".join(TARGET_ROLES)]) == 0
    assert _table(capsys.readouterr().out, expected) == expected
    rec = real_advisor.recommend(TEXT, targets=list(TARGET_ROLES))
    assert _table(recommendation_markdown(rec, real_advisor.kb), expected) == expected


def test_http_api(expected, real_advisor):
    with TestClient(create_app(real_advisor.settings, real_advisor)) as client:
        got = client.post("/v1/recommend", json={"text": TEXT, "targets": list(TARGET_ROLES)})
    assert got.status_code == 200, got.text
    assert {r["title"]: (round(r["fit"] * 100), r["weeks_to_ready"]) for r in got.json()["roles"]} == expected


def test_chat_answer(expected, real_advisor):
    answer = real_advisor.ask(QUESTION, history=[{"role": "user", "content": TEXT}]).text
    got = {}
    for title in expected:
        m = re.search(rf"\*\*{re.escape(title)}: (\d+)% fit\*\*.*?\*\*([\d.]+) weeks to ready to apply\*\*", answer)
        assert m, f"no figures for {title} in:\n{answer}"
        got[title] = (int(m.group(1)), float(m.group(2)))
    assert got == expected


def test_streamlit_sidebar_after_the_same_message(expected, real_advisor, monkeypatch):
    _same_store(monkeypatch, real_advisor)
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(str(APP), default_timeout=180).run()
        at.chat_input[0].set_value(TEXT).run()
        assert not at.exception, at.exception
        got = {}
        for text in (p.text for p in at.sidebar.get("progress")):
            if m := re.match(r"(.+?): \*\*(\d+)%\*\* fit · ([\d.]+) weeks to ready to apply", text):
                got[m.group(1)] = (int(m.group(2)), float(m.group(3)))
        assert got == expected
    finally:
        st.cache_resource.clear()
