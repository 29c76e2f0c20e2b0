"""The non-Streamlit parts the app is built on: feedback storage, the Markdown report,
profile edits, editor fields and templates, history trimming and the charts."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from app_pages.helpers import profile_edits
from app_pages.helpers.conversation import history_for
from advisor.errors import BadInput
from app_pages.helpers.feedback import FeedbackStore
from app_pages.helpers.kb_editing import (
    EditorFields,
    editing_state,
    errors_by_slot,
    fields_of,
    front_matter,
    matching_docs,
    password_ok,
    template_body,
    template_yaml,
)
from advisor.models import Answer, Profile
from advisor.report import recommendation_markdown
from advisor.settings import Settings
from app_pages.helpers.charts import chart_height, fit_chart, gaps_frame, levels_chart, timeline_chart
from knowledge.document import DocumentInvalid, KnowledgeError
from knowledge.schema import FRONT_MATTER, KINDS


# -- feedback ------------------------------------------------------------------------------
def _answer(advisor) -> Answer:
    return advisor.ask("What does a BI analyst do?")


def test_feedback_is_stored_replaced_and_removed(tmp_path, advisor):
    store = FeedbackStore.in_data_dir(tmp_path / "fb")
    answer = _answer(advisor)
    store.record("a1", "What does a BI analyst do?", answer, 1, session_id="s1")
    store.record("a1", "What does a BI analyst do?", answer, -1, session_id="s1", comment="too short")
    store.record("a2", "again", answer, 1)
    rows = store.all()
    assert [(r.answer_id, r.rating) for r in rows] == [("a1", -1), ("a2", 1)]
    assert rows[0].comment == "too short" and rows[0].citations[0]["doc_id"] == "bi_analyst"
    assert rows[0].answer == answer.text and rows[0].engine == "grounded"
    assert store.counts() == {"up": 1, "down": 1}
    store.remove("a1")
    assert store.counts() == {"up": 1, "down": 0}
    with sqlite3.connect(tmp_path / "fb" / "feedback.sqlite") as db:  # plain SQLite, readable by any tool
        assert db.execute("SELECT COUNT(*) FROM feedback").fetchone() == (1,)


def test_feedback_rejects_a_rating_that_is_not_up_or_down(tmp_path, advisor):
    with pytest.raises(ValueError, match="rating must be 1"):
        FeedbackStore(tmp_path / "f.sqlite").record("a", "q", _answer(advisor), 5)


# -- report --------------------------------------------------------------------------------
def test_recommendation_markdown_has_profile_fit_gaps_plan_and_sources(advisor):
    profile = advisor.profile("I write SQL daily (proficient) | and use Python at a working level, some statistics, basic Power BI")
    rec = advisor.recommend(profile, targets=["ml_engineer", "bi_analyst"], hours=8)
    md = recommendation_markdown(rec, advisor.kb, today=dt.date(2026, 1, 2))
    assert md.startswith("# Reskill plan: toward Machine Learning Engineer\n")
    assert "Generated 2026-01-02 · 8 hours a week" in md
    for heading in ("## Your skills", "## Fit by role", "## Gaps for Machine Learning Engineer", "## Learning plan", "## Sources"):
        assert f"\n{heading}\n" in md
    assert "### Stage 1: " in md and "Portfolio project: " in md
    assert "\\|" in md, "a '|' in evidence is escaped inside the table"
    assert "- Docker documentation and getting-started guide (documentation, beginner, about 15 hours, free)" in md
    assert "- Machine Learning Engineer (`ml_engineer`, role)" in md, "a source without a web address is named by its title"


def test_recommendation_markdown_without_skills_says_so(advisor):
    md = recommendation_markdown(advisor.recommend(Profile(role_prior=False)), None)
    assert "No skills recorded yet" in md and "can't give you a fit" in md
    assert "| Machine Learning Engineer |" not in md, "no figures before the person has said anything"


# -- profile edits -------------------------------------------------------------------------
def test_profile_edits_keep_evidence_and_validate(advisor):
    kb = advisor.kb
    p = advisor.profile("I know SQL well")
    p2 = profile_edits.set_level(p, "sql", 4, kb)
    assert p2.level("sql") == 4 and p.level("sql") != 4, "a new profile; the old one is unchanged"
    sql = next(s for s in p2.skills if s.skill_id == "sql")
    assert sql.evidence[0] == "I know SQL well" and sql.evidence[-1] == "you set level 4 in the profile editor"
    p3 = profile_edits.set_level(p2, "docker", 2, kb)
    assert p3.level("docker") == 2 and next(s for s in p3.skills if s.skill_id == "docker").name == "Docker"
    assert profile_edits.mark_learned(p3, "docker", 1, kb).level("docker") == 2, "never lowers a level"
    assert profile_edits.mark_learned(p3, "docker", 3, kb).level("docker") == 3
    p4 = profile_edits.remove_skill(p3, "sql")
    assert "sql" not in p4.levels() and p4.extraction.reason.startswith("1 skill from what you said")
    with pytest.raises(BadInput, match="unknown skill id 'cobol'"):
        profile_edits.set_level(p, "cobol", 2, kb)
    with pytest.raises(BadInput, match="0 to 4"):
        profile_edits.set_level(p, "sql", 7, kb)


def test_profile_settings_are_validated(advisor):
    kb, p = advisor.kb, Profile()
    p = profile_edits.update_settings(p, kb, weekly_hours=10, target_roles=["bi_analyst", "bi_analyst"], seniority="senior")
    assert (p.weekly_hours, p.target_roles, p.seniority) == (10, ["bi_analyst"], "senior")
    with pytest.raises(BadInput, match="between 1 and 80"):
        profile_edits.update_settings(p, kb, weekly_hours=0)
    with pytest.raises(BadInput, match="unknown role"):
        profile_edits.update_settings(p, kb, target_roles=["astronaut"])
    with pytest.raises(BadInput, match="unknown seniority"):
        profile_edits.update_settings(p, kb, seniority="lead")


# -- editor fields -------------------------------------------------------------------------
def test_editor_fields_round_trip_to_the_same_front_matter(advisor):
    for doc in advisor.kb.docs.values():
        fields = fields_of(doc)
        assert "id:" not in fields.extra_yaml.split("\n")[0]
        assert FRONT_MATTER.validate_python(front_matter(fields)) == doc.meta


@pytest.mark.parametrize("kind", KINDS)
def test_every_template_saves_as_a_valid_document(advisor, kind):
    fields = EditorFields(f"new_{kind}", f"A new {kind}", kind, template_yaml(kind), template_body(f"A new {kind}"))
    doc = advisor.store.put(fields.doc_id, front_matter(fields, stamp_today=True), fields.body, expected_version=None)
    assert doc.kind == kind and doc.meta.updated == dt.date.today()
    assert f"new_{kind}" in advisor.kb.docs


def test_unusable_yaml_and_own_fields_in_yaml_are_named():
    with pytest.raises(DocumentInvalid) as bad:
        front_matter(EditorFields("x", "Title", "skill", "hours: [1, 2", "body"))
    (err,) = bad.value.errors
    assert err.field == "front matter" and "not valid YAML at line" in err.message
    with pytest.raises(DocumentInvalid, match="set id in its own field"):
        front_matter(EditorFields("x", "Title", "skill", "id: y", "body"))
    with pytest.raises(DocumentInvalid, match="must be YAML 'field: value' lines"):
        front_matter(EditorFields("x", "Title", "skill", "- a list", "body"))


def test_errors_go_next_to_their_input():
    errors = [
        KnowledgeError("p", "title", "too short"),
        KnowledgeError("p", "hours.0", "must be >= 1"),
        KnowledgeError("p", "requirements.2.skill", "unknown skill id 'x'"),
        KnowledgeError("p", "front matter", "not valid YAML"),
        KnowledgeError("p", "body", "the document has no Markdown body"),
    ]
    assert errors_by_slot(errors) == {
        "title": ["title: too short"],
        "front matter": ["hours.0: must be >= 1", "requirements.2.skill: unknown skill id 'x'", "not valid YAML"],
        "body": ["body: the document has no Markdown body"],
    }


def test_documents_are_filtered_by_kind_and_role(advisor):
    kb = advisor.kb
    assert {d.id for d in matching_docs(kb, kind="role")} == {"bi_analyst", "data_scientist", "ml_engineer"}
    about_mle = {d.id for d in matching_docs(kb, role="ml_engineer")}
    assert {"ml_engineer", "docker_docs", "data_scientist_to_ml_engineer"} <= about_mle
    assert "power_bi" not in about_mle
    assert [d.kind for d in matching_docs(kb)] == sorted((d.kind for d in kb.docs.values()), key=KINDS.index)


def test_edit_permissions():
    assert editing_state(Settings(edit_mode="open")) == "open"
    assert editing_state(Settings(edit_mode="password")) == "off", "no password configured: locked"
    locked = Settings(edit_mode="password", edit_password="pa55")
    assert editing_state(locked) == "password"
    assert password_ok(locked, "pa55") and not password_ok(locked, "pa5") and not password_ok(locked, None)
    assert not password_ok(Settings(edit_mode="password"), "")


# -- conversation --------------------------------------------------------------------------
def test_history_keeps_recent_answered_turns_within_limits():
    s = Settings(max_messages=4, max_message_chars=10)
    msgs = []
    for n in range(4):
        msgs += [{"role": "user", "content": f"q{n}"}, {"role": "assistant", "content": "a" * 100}]
    msgs += [{"role": "user", "content": "bad", "error": True}, {"role": "assistant", "content": "oops", "error": True}]
    out = history_for(msgs, s)
    assert [m["content"][:2] for m in out] == ["q2", "aa", "q3", "aa"]
    assert len(out[1]["content"]) == 40 and "error" not in out[0]
    assert history_for([{"role": "assistant", "content": "hi"}], s) == []


# -- charts --------------------------------------------------------------------------------
def test_charts_are_valid_vega_lite_for_a_recommendation(advisor):
    rec = advisor.recommend(advisor.profile("I use SQL and Python daily"), targets=["ml_engineer", "bi_analyst"])
    fit = rec.roles[0]
    for chart in (fit_chart(rec.roles, "ml_engineer"), levels_chart(fit), timeline_chart(rec.plan)):
        spec = chart.to_dict()
        assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
        assert chart_height(chart) > 100
    assert list(gaps_frame(fit).columns) == ["skill", "you", "needed", "importance", "hours"]
    assert len(gaps_frame(fit)) == len(fit.gaps)


def test_page_scripts_have_no_bare_strings_that_streamlit_magic_would_show():
    """A string expression at the top level of a page (after its docstring) is written on the page."""
    import ast
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    pages = [root / p for p in re.findall(r'st\.Page\("([^"]+)"', (root / "app.py").read_text())]
    assert len(pages) == 3
    shown = []
    for page in pages:
        body = ast.parse(page.read_text()).body
        for node in body[1:]:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                shown.append(f"{page.name}:{node.lineno}")
    assert not shown, f"Streamlit would show these strings: {shown}"
