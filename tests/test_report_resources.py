"""A plan's resources read the same on the My plan page and in the Markdown export (one formatter,
advisor.wording.resource_line), and neither face says a sentence twice (issue 16: 5)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from advisor.models import Profile, SkillEvidence
from advisor.report import recommendation_markdown
from advisor.wording import resource_line

APP = Path(__file__).resolve().parent.parent / "app.py"
SKILLS = (("sql", 2), ("python", 3), ("statistics", 2))


@pytest.fixture
def app_env(monkeypatch, tmp_path, kb_dir):
    monkeypatch.setenv("RESKILL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RESKILL_KNOWLEDGE_DIR", str(kb_dir))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def _profile() -> Profile:
    return Profile(skills=[SkillEvidence(skill_id=s, name=s, level=lvl, evidence=["test"]) for s, lvl in SKILLS])


def _sentences(texts: list[str]) -> list[str]:
    """Sentences of six words or more (a label such as 'Weeks to ready to apply' may repeat)."""
    out = []
    for text in texts:
        for s in re.split(r"(?<=[.!?])\s+|\n+", text):
            s = re.sub(r"\[\d+\]", "", s).strip(" -*")
            if len(s.split()) >= 6 and not s.startswith(("|", "#")):
                out.append(s)
    return out


def test_a_resource_line_names_title_kind_cost_and_link(real_advisor):
    kb = real_advisor.kb
    rid = next(d for d, doc in sorted(kb.docs.items()) if doc.kind == "resource" and getattr(doc.meta, "url", None))
    m = kb.docs[rid].meta
    line = resource_line(kb, rid)
    assert line.startswith(f"[{m.title}]({m.url})") and m.resource_type.replace("practice", "practice site") in line
    assert ("free" if m.cost != "paid" else "paid") in line and f"about {m.effort_hours} hours" in line
    assert rid not in line, "no internal id beside a known resource"
    assert resource_line(kb, "no_such_resource") == "`no_such_resource`"


def test_plan_page_and_markdown_show_each_resource_the_same_and_say_nothing_twice(app_env, advisor):
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["profile"] = _profile()
    at.run()
    at.switch_page("app_pages/plan.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="plan_target").set_value("ml_engineer").run()  # the path the fixture's resource is for
    target = "ml_engineer"
    page_lines = [
        line[2:]
        for md in at.markdown
        if md.value.startswith("**Resources**")
        for line in md.value.splitlines()
        if line.startswith("- ")
    ]
    assert page_lines, "the plan's stages list resources"

    rec = advisor.recommend(_profile(), targets=[target] + [r for r in sorted(advisor.kb.roles) if r != target])
    md = recommendation_markdown(rec, advisor.kb)
    export_lines = [line[2:] for block in md.split("Resources:\n")[1:] for line in block.split("\n\n")[0].splitlines() if line.startswith("- ")]
    assert page_lines == export_lines, "the same resources, in the same words, on the page and in the export"

    # The page's own sentences (main and sidebar); a cited passage is a quotation and may back
    # both paths' outlook.
    quoted = {md.value for ex in at.expander if ex.label.startswith("[") for md in ex.markdown}
    page = [e.value for kind in ("markdown", "caption", "warning", "info", "success") for e in getattr(at, kind) if e.value not in quoted]
    page += [e.value for kind in ("markdown", "caption", "warning", "info") for e in getattr(at.sidebar, kind)]
    said = _sentences(page)
    assert len(said) == len(set(said)), [s for s in said if said.count(s) > 1]
    body = "\n".join(line for line in md.splitlines() if not line.startswith(("- ", "|")))
    said = _sentences([body])
    assert len(said) == len(set(said)), [s for s in said if said.count(s) > 1]


def test_without_figures_the_reason_is_said_once_on_the_page_and_in_the_export(app_env, advisor):
    two = Profile(skills=[SkillEvidence(skill_id=s, name=s, level=2, evidence=["test"]) for s in ("sql", "python")])
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["profile"] = two
    at.run()
    at.switch_page("app_pages/plan.py").run()
    assert not at.exception, at.exception
    main = [e.value for kind in ("warning", "info") for e in getattr(at.main, kind)]
    assert sum("can't give you a fit" in t or "figures are withheld" in t for t in main) == 1, main
    rec = advisor.recommend(two)
    assert not rec.show_numbers
    md = recommendation_markdown(rec, advisor.kb)
    assert "figures are withheld" not in md and md.count("can't give you a fit") == 1, md
