"""The Streamlit app, driven headlessly with AppTest over the real Advisor (real embedding
model, temporary Chroma store, a temporary copy of the fixture knowledge base)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app_pages.helpers.feedback import FeedbackStore
from advisor.models import Answer, Profile, SkillEvidence

APP = Path(__file__).resolve().parent.parent / "app.py"
KB_PAGE = "app_pages/knowledge.py"
PLAN_PAGE = "app_pages/plan.py"


@pytest.fixture
def app_env(monkeypatch, tmp_path, kb_dir):
    """The app reads its dirs from the environment, like `streamlit run` does."""
    monkeypatch.setenv("RESKILL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RESKILL_KNOWLEDGE_DIR", str(kb_dir))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    st.cache_resource.clear()  # no Advisor from another test's dirs
    yield tmp_path / "data", kb_dir
    st.cache_resource.clear()


def start() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def sidebar_fit(at: AppTest, title: str) -> int:
    texts = [p.text for p in at.sidebar.get("progress")]
    for text in texts:
        if m := re.match(rf"{re.escape(title)}: \*\*(\d+)%\*\*", text):
            return int(m.group(1))
    raise AssertionError(f"no fit for {title} in {texts}")


def open_editor(at: AppTest, doc_id: str) -> AppTest:
    at.switch_page(KB_PAGE).run()
    at.button(key=f"doc:{doc_id}").click().run()
    at.button(key="kb_edit_btn").click().run()
    assert not at.exception, at.exception
    assert at.text_area(key="ed_body").value.startswith("# ")
    return at


def save(at: AppTest) -> AppTest:
    at.button(key="ed_save").click().run()
    assert not at.exception, at.exception
    return at


# -- chat ----------------------------------------------------------------------------------
def test_chat_turn_streams_a_cited_answer_and_stores_feedback(app_env):
    data_dir, _ = app_env
    at = start()
    assert "grounded" in at.caption[0].value
    assert any("BI analyst do day to day" in b.label for b in at.button), "starter questions are offered"

    ask(at, "What does a BI analyst do?")
    user, assistant = at.chat_message
    assert user.name == "user" and assistant.name == "assistant"
    text = assistant.markdown[0].value
    assert "dashboards" in text and "[1]" in text
    labels = [e.label for e in assistant.expander]
    assert labels and labels[0].startswith("[1] Business Intelligence Analyst · role · ")
    assert not any(b.label.startswith("What does a BI analyst do day") for b in at.button), "starters go once the chat starts"

    at.feedback[0].set_value(1).run()
    (row,) = FeedbackStore.in_data_dir(data_dir).all()
    assert (row.rating, row.question) == (1, "What does a BI analyst do?")
    assert row.answer == text and row.citations[0]["doc_id"] == "bi_analyst"
    at.feedback[0].set_value(0).run()
    assert FeedbackStore.in_data_dir(data_dir).counts() == {"up": 0, "down": 1}

    next(b for b in at.button if b.label == "New conversation").click().run()
    assert len(at.chat_message) == 0 and at.session_state["messages"] == []


def test_a_citation_links_its_document_in_the_knowledge_base_and_its_sources(app_env):
    _, kb_dir = app_env
    role = kb_dir / "roles" / "bi_analyst.md"
    onet = "https://www.onetonline.org/link/summary/15-2051.01"
    role.write_text(role.read_text().replace('sources: ["O*NET-SOC 15-2051.01 Business Intelligence Analysts"]', f'sources: ["O*NET OnLine, Business Intelligence Analysts: {onet}", "A book"]'))
    at = ask(start(), "What does a BI analyst do?")
    source = at.chat_message[-1].expander[0]
    (link,) = source.get("page_link")
    assert link.proto.label == "Open “Business Intelligence Analyst” in the knowledge base"
    assert link.proto.page.endswith("knowledge") and "doc=bi_analyst" in link.proto.query_string
    assert f"[O\\*NET OnLine, Business Intelligence Analysts](<{onet}>)" in source.markdown[-1].value

    at.query_params["doc"] = "bi_analyst"  # what following the link does
    at.switch_page(KB_PAGE).run()
    assert not at.exception, at.exception
    assert any(h.value == "Business Intelligence Analyst" for h in at.subheader), "the linked document is open"
    assert any(onet in m.value for m in at.markdown), "with its sources as links"


def test_chat_turn_builds_the_profile_and_a_second_turn_uses_history(app_env):
    at = start()
    ask(at, "I use SQL every day and build Power BI dashboards.")
    profile = at.session_state["profile"]
    assert {"sql", "power_bi"} <= set(profile.levels())
    ask(at, "How do I fit the BI analyst role?")
    assert len(at.chat_message) == 4
    assert "Business Intelligence Analyst" in at.chat_message[-1].markdown[0].value
    assert sidebar_fit(at, "Business Intelligence Analyst") > 0


def test_answer_notes_are_shown(app_env):
    at = start()
    answer = Answer(text="Plain answer.", citations=[], intent="search", profile=Profile(), engine="grounded", grounded=True, notes=["Answered by the grounded engine because the language model failed (TimeoutError)."])
    at.session_state["messages"] = [
        {"id": "1-q", "role": "user", "content": "q"},
        {"id": "1", "role": "assistant", "content": answer.text, "answer": answer, "question": "q"},
    ]
    at.run()
    assert any("language model failed" in i.value for i in at.info)


def test_a_configured_llm_that_cannot_start_shows_the_fallback(app_env, monkeypatch):
    monkeypatch.setenv("RESKILL_LLM", "openai:gpt-4o-mini")
    at = start()
    assert any("Using the grounded engine" in w.value for w in at.warning)
    ask(at, "What does a BI analyst do?")
    assert at.chat_message[-1].expander[0].label.startswith("[1] ")


def test_a_message_over_the_limit_is_not_sent_but_explained_and_can_be_read_as_a_resume(app_env, monkeypatch):
    monkeypatch.setenv("RESKILL_MAX_MESSAGE_CHARS", "200")
    at = start()
    ask(at, "why " * 50)  # exactly 200: answered
    assert len(at.chat_message) == 2
    long = "Data scientist for five years. I write SQL at a working level and build Power BI dashboards daily. " * 3
    assert len(long) > 200
    ask(at, long)
    assert len(at.chat_message) == 2, "not sent"
    (warning,) = [w for w in at.warning if "characters" in w.value]
    assert f"{len(long):,} characters" in warning.value and "at most 200 characters" in warning.value
    assert "Fill from a resume" in warning.value
    at.button(key="long_text_read").click().run()
    assert not at.exception, at.exception
    assert {"sql", "power_bi"} <= set(at.session_state["profile"].levels())
    assert any("Read your text as a resume" in s.value for s in at.success)
    assert not [w for w in at.warning if "characters" in w.value], "the notice goes once the text is used"

    ask(at, long)
    at.button(key="long_text_drop").click().run()
    assert not [w for w in at.warning if "characters" in w.value]


def test_a_message_of_only_spaces_is_treated_as_empty(app_env):
    at = start()
    ask(at, "   \n\t  ")
    assert len(at.chat_message) == 0 and not at.error
    assert at.session_state["messages"] == []


# -- profile -------------------------------------------------------------------------------
def test_resume_upload_fills_the_profile_and_an_edit_rescores_fit(app_env):
    at = start()
    resume = b"Data scientist. I write SQL at a working level and build Power BI dashboards daily. Python expert."
    at.sidebar.file_uploader[0].set_value(("cv.txt", resume, "text/plain")).run()
    assert not at.exception, at.exception
    levels = at.session_state["profile"].levels()
    assert {"sql", "power_bi", "python"} <= set(levels)
    before = sidebar_fit(at, "Business Intelligence Analyst")

    sql = next(s for s in at.sidebar.selectbox if s.label == "SQL")
    sql.set_value(4).run()
    assert at.session_state["profile"].level("sql") == 4
    after = sidebar_fit(at, "Business Intelligence Analyst")
    assert after > before
    sql_skill = next(s for s in at.session_state["profile"].skills if s.skill_id == "sql")
    assert sql_skill.evidence[-1] == "you set level 4 in the profile editor"

    remove = next(b for b in at.sidebar.button if b.help == "Remove SQL")
    remove.click().run()
    assert "sql" not in at.session_state["profile"].levels()
    assert sidebar_fit(at, "Business Intelligence Analyst") < after


def test_skills_are_added_from_the_taxonomy_and_goals_are_edited(app_env):
    at = start()

    def add(skill_id: str, level: int) -> None:
        next(s for s in at.sidebar.selectbox if s.label == "Skill").set_value(skill_id)
        next(s for s in at.sidebar.selectbox if s.label == "Level").set_value(level)
        next(b for b in at.sidebar.button if b.label == "Add skill").click().run()

    add("docker", 3)
    assert at.session_state["profile"].level("docker") == 3
    assert not at.sidebar.get("progress"), "no fit before the person has said enough"
    assert any("can't give you a fit" in i.value for i in at.sidebar.info)
    add("kubernetes", 2)
    add("power_bi", 1)

    at.sidebar.number_input[0].set_value(12.0).run()
    assert at.session_state["profile"].weekly_hours == 12
    at.sidebar.multiselect[0].set_value(["ml_engineer"]).run()
    assert at.session_state["profile"].target_roles == ["ml_engineer"]
    assert [p.text.split(":")[0] for p in at.sidebar.get("progress")] == ["Machine Learning Engineer"]


def test_a_resume_that_cannot_be_read_is_reported(app_env):
    at = start()
    at.sidebar.file_uploader[0].set_value(("cv.txt", b"\xff\xfe\x00 not utf-8 \xff", "text/plain")).run()
    assert not at.exception
    assert any("cannot read resume 'cv.txt'" in e.value for e in at.sidebar.error)


# -- plan ----------------------------------------------------------------------------------
def _profile(*skills: tuple[str, int]) -> Profile:
    return Profile(skills=[SkillEvidence(skill_id=s, name=s, level=lvl, evidence=["test"]) for s, lvl in skills])


def test_plan_page_renders_fit_levels_timeline_compare_and_download(app_env):
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["profile"] = _profile(("sql", 2), ("python", 3), ("statistics", 2))
    at.run()
    at.switch_page(PLAN_PAGE).run()
    assert not at.exception, at.exception
    charts = [e for e in at.main if getattr(e, "type", "") in ("arrow_vega_lite_chart", "vega_lite_chart")]
    assert len(charts) == 3, "fit by role, levels against the target, the plan timeline"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Fit now"].endswith("%")
    assert any(s.value == "Business Intelligence Analyst vs Machine Learning Engineer" for s in at.subheader)
    assert any(e.label.startswith("Stage 1: ") for e in at.expander)
    assert any(e.label.startswith("[1] ") for e in at.expander), "the outlook is cited"
    assert at.get("download_button")[0].proto.label == "Download the plan (Markdown)"


def test_marking_a_skill_learned_updates_fit_and_plan(app_env):
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["profile"] = _profile(("sql", 3), ("power_bi", 3), ("dashboard_design", 1))
    at.run()
    at.switch_page(PLAN_PAGE).run()
    at.selectbox(key="plan_target").set_value("bi_analyst").run()
    fit_before = at.metric[0].value
    picker = at.selectbox(key="learn_pick:bi_analyst")
    assert "dashboard_design" in picker.options or any("Dashboard design" in o for o in picker.options)
    picker.set_value("dashboard_design").run()
    at.button(key="learned").click().run()
    assert not at.exception, at.exception
    assert at.session_state["profile"].level("dashboard_design") == 3
    assert int(at.metric[0].value.rstrip("%")) > int(fit_before.rstrip("%"))
    pickers = [s for s in at.selectbox if s.key == "learn_pick:bi_analyst"]
    assert not pickers or "Dashboard design" not in " ".join(pickers[0].options)


def test_plan_toward_defaults_to_the_best_fit_and_keeps_the_choice_across_pages(app_env):
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["profile"] = _profile(("python", 3), ("docker", 3), ("model_serving", 2), ("sql", 1))
    at.run()
    at.switch_page(PLAN_PAGE).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="plan_target").value == "ml_engineer", "the best fit, not the first in the list"
    assert any("Chosen for you: the best fit" in c.value for c in at.caption)

    at.switch_page("app_pages/chat.py").run()
    at.switch_page(PLAN_PAGE).run()
    assert at.selectbox(key="plan_target").value == "ml_engineer"

    at.selectbox(key="plan_target").set_value("bi_analyst").run()
    assert any("Your choice. The best fit of the two paths is Machine Learning Engineer" in c.value for c in at.caption)
    at.switch_page("app_pages/chat.py").run()
    at.switch_page(KB_PAGE).run()
    at.switch_page(PLAN_PAGE).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="plan_target").value == "bi_analyst", "the person's choice survives other pages"
    assert at.metric[0].label == "Fit now" and at.subheader[1].value == "Business Intelligence Analyst"


# -- knowledge base ------------------------------------------------------------------------
def test_a_kb_edit_is_saved_indexed_and_found_by_search(app_env):
    _, kb_dir = app_env
    at = open_editor(start(), "sql")
    body = at.text_area(key="ed_body").value + "\n## Zebra queries\nZebrafish telemetry needs quantum window functions.\n"
    at.text_area(key="ed_body").set_value(body)
    save(at)
    assert any("Saved 'sql'" in s.value for s in at.success)
    assert "Zebrafish telemetry" in (kb_dir / "skills" / "sql.md").read_text()

    at.text_input(key="kb_query").set_value("zebrafish telemetry quantum").run()
    hits = [b.label for b in at.button if b.key and b.key.startswith("hit:")]
    assert hits and hits[0] == "SQL · Zebra queries"

    at.button(key=next(b.key for b in at.button if b.key and b.key.startswith("hit:0:"))).click().run()
    assert any("Zebrafish telemetry" in m.value for m in at.markdown), "the saved text is rendered"

    ask(at.switch_page("app_pages/chat.py").run(), "Where is zebrafish telemetry data discussed?")
    assert at.chat_message[-1].expander[0].label == "[1] SQL · skill · Zebra queries", "the chat cites the edit at once"


def test_a_body_only_edit_keeps_the_front_matter_and_restore_gives_back_the_same_bytes(app_env):
    from knowledge.document import content_version

    _, kb_dir = app_env
    path = kb_dir / "skills" / "docker.md"
    original = path.read_bytes()
    first = content_version(original.decode())
    at = open_editor(start(), "docker")
    assert at.checkbox(key="ed_stamp").value is False, "'set updated to today' is offered, not ticked"
    at.text_area(key="ed_body").set_value(at.text_area(key="ed_body").value.replace("# Docker", "# Docker\n\nA typo fixed here.", 1))
    save(at)
    edited = path.read_text()
    assert "A typo fixed here." in edited
    assert edited.split("\n---", 1)[0] == original.decode().split("\n---", 1)[0], "the front matter is byte-identical"

    restore = next(b for b in at.button if (b.key or "").startswith(f"restore:docker:{first}:"))
    restore.click().run()
    assert not at.exception, at.exception
    assert path.read_bytes() == original
    assert any(f"version {first}" in c.value for c in at.caption), "the restored file has its original version id"


def test_a_restore_over_a_change_made_elsewhere_is_refused_and_named(app_env):
    from knowledge.document import content_version

    _, kb_dir = app_env
    path = kb_dir / "skills" / "docker.md"
    first = content_version(path.read_text())
    at = open_editor(start(), "docker")
    at.text_area(key="ed_body").set_value(at.text_area(key="ed_body").value + "\nA first edit.\n")
    save(at)
    theirs = path.read_text() + "\nSomeone else's edit, saved from the CLI meanwhile.\n"
    path.write_text(theirs)

    next(b for b in at.button if (b.key or "").startswith(f"restore:docker:{first}:")).click().run()
    assert not at.exception, at.exception
    assert path.read_text() == theirs, "their edit is not overwritten"
    refusal = [e.value for e in at.error]
    assert refusal and "was changed by someone else" in refusal[0], refusal
    assert not any("Restored" in s.value for s in at.success)


def test_a_new_document_is_created_and_its_history_restores(app_env):
    _, kb_dir = app_env
    at = start().switch_page(KB_PAGE).run()
    next(b for b in at.button if b.label == "New document").click().run()
    at.selectbox(key="ed_kind").set_value("market").run()
    assert "roles" in at.text_area(key="ed_yaml").value
    at.text_input(key="ed_id").set_value("bi_hiring_2026")
    at.text_input(key="ed_title").set_value("BI hiring in 2026")
    at.text_area(key="ed_body").set_value("# BI hiring in 2026\n\n## Demand\nTeams hire BI analysts who own semantic layers.\n")
    save(at)
    assert (kb_dir / "market" / "bi_hiring_2026.md").is_file()

    at.button(key="kb_edit_btn").click().run()
    at.text_input(key="ed_title").set_value("BI hiring in 2026, revised")
    save(at)
    assert "revised" in (kb_dir / "market" / "bi_hiring_2026.md").read_text()
    restore = next(b for b in at.button if b.label == "Restore this version")
    restore.click().run()
    assert not at.exception, at.exception
    text = (kb_dir / "market" / "bi_hiring_2026.md").read_text()
    assert "title: BI hiring in 2026\n" in text


def test_an_invalid_edit_is_refused_with_the_field_named(app_env):
    _, kb_dir = app_env
    original = (kb_dir / "skills" / "sql.md").read_text()
    at = open_editor(start(), "sql")
    at.text_input(key="ed_title").set_value("S")
    at.text_area(key="ed_yaml").set_value(at.text_area(key="ed_yaml").value.replace("hours:\n- 10", "hours:\n- -5"))
    save(at)
    errors = [e.value for e in at.error]
    assert any(e.startswith("title: ") for e in errors), errors
    assert any(e.startswith("hours.0: ") for e in errors), errors
    assert any(e.startswith("Not saved: 2 problems") for e in errors)
    assert (kb_dir / "skills" / "sql.md").read_text() == original, "nothing is written"
    assert at.text_input(key="ed_title").value == "S", "the user's input stays on screen"

    at.text_area(key="ed_yaml").set_value("category: [unclosed")
    save(at)
    assert any("not valid YAML" in e.value for e in at.error)

    at.text_area(key="ed_yaml").set_value("category: foundation\nlevels: {1: a b c, 2: a b c, 3: a b c, 4: a b c}\nhours: [1, 2, 3, 4]\nupdated: 2026-01-01\nprerequisites: [no_such_skill]")
    at.text_input(key="ed_title").set_value("SQL")
    save(at)
    assert any("prerequisites: unknown skill id 'no_such_skill'" in e.value for e in at.error)
    assert (kb_dir / "skills" / "sql.md").read_text() == original


def test_concurrent_edits_refuse_the_stale_save_and_keep_its_text(app_env):
    _, kb_dir = app_env
    alice = open_editor(start(), "sql")
    bob = open_editor(start(), "sql")

    bob.text_area(key="ed_body").set_value("# SQL\n\n## Bob's section\nBob saved first.\n")
    save(bob)
    assert any("Saved 'sql'" in s.value for s in bob.success)

    mine = "# SQL\n\n## Alice's section\nAlice's careful rewrite.\n"
    alice.text_area(key="ed_body").set_value(mine)
    save(alice)
    assert any("was changed by someone else" in e.value for e in alice.error)
    assert alice.text_area(key="ed_body").value == mine, "Alice's text is kept on screen"
    on_disk = (kb_dir / "skills" / "sql.md").read_text()
    assert "Bob saved first." in on_disk and "Alice" not in on_disk

    alice.button(key="ed_reload").click().run()
    assert "Bob saved first." in alice.text_area(key="ed_body").value


def test_editing_can_be_turned_off(app_env, monkeypatch):
    monkeypatch.setenv("RESKILL_EDIT_MODE", "off")
    at = start().switch_page(KB_PAGE).run()
    at.button(key="doc:sql").click().run()
    assert not [b for b in at.button if b.key == "kb_edit_btn" or b.label == "New document"]
    assert any("Editing is turned off" in c.value for c in at.caption)


def test_editing_behind_a_password(app_env, monkeypatch):
    monkeypatch.setenv("RESKILL_EDIT_MODE", "password")
    monkeypatch.setenv("RESKILL_EDIT_PASSWORD", "s3cret")
    at = start().switch_page(KB_PAGE).run()
    at.button(key="doc:sql").click().run()
    assert not [b for b in at.button if b.key == "kb_edit_btn"]
    at.text_input(key="kb_password").set_value("wrong")
    next(b for b in at.button if b.label == "Unlock").click().run()
    assert any(e.value == "Wrong password." for e in at.error)
    at.text_input(key="kb_password").set_value("s3cret")
    next(b for b in at.button if b.label == "Unlock").click().run()
    assert [b for b in at.button if b.key == "kb_edit_btn"]


def test_delete_is_refused_while_referenced_and_a_deleted_document_can_be_restored(app_env):
    _, kb_dir = app_env
    at = open_editor(start(), "sql")
    at.checkbox(key="ed_delete_sure").check().run()
    at.button(key="ed_delete").click().run()
    assert any("still referenced by" in e.value and "bi_analyst" in e.value for e in at.error)
    assert (kb_dir / "skills" / "sql.md").is_file()

    at = open_editor(at, "docker_docs")
    at.checkbox(key="ed_delete_sure").check().run()
    at.button(key="ed_delete").click().run()
    assert not (kb_dir / "resources" / "docker_docs.md").exists()
    assert any("Deleted 'docker_docs'" in s.value for s in at.success)
    at.button(key="undelete:docker_docs").click().run()
    assert not at.exception, at.exception
    assert (kb_dir / "resources" / "docker_docs.md").is_file()


def test_restoring_a_deleted_document_that_was_re_created_meanwhile_is_refused(app_env):
    _, kb_dir = app_env
    path = kb_dir / "resources" / "docker_docs.md"
    original = path.read_text()
    at = open_editor(start(), "docker_docs")
    at.checkbox(key="ed_delete_sure").check().run()
    at.button(key="ed_delete").click().run()
    theirs = original.replace("# ", "# Re-created: ", 1)
    path.write_text(theirs)  # someone re-creates it from the CLI while the button is on screen

    at.button(key="undelete:docker_docs").click().run()
    assert not at.exception, at.exception
    assert path.read_text() == theirs, "the re-created file is not overwritten"
    assert any("already exists" in e.value for e in at.error), [e.value for e in at.error]


def test_an_unsaved_edit_survives_a_visit_to_another_page(app_env):
    at = open_editor(start(), "sql")
    at.text_area(key="ed_body").set_value("# SQL\n\n## Draft\nNot saved yet.\n").run()
    assert any("Not saved yet." in m.value for m in at.tabs[1].markdown), "the preview renders the draft"
    at.switch_page("app_pages/chat.py").run()
    at.switch_page(KB_PAGE).run()
    assert at.text_area(key="ed_body").value == "# SQL\n\n## Draft\nNot saved yet.\n"


def test_a_new_document_cannot_take_an_existing_id(app_env):
    _, kb_dir = app_env
    original = (kb_dir / "skills" / "sql.md").read_text()
    at = start().switch_page(KB_PAGE).run()
    next(b for b in at.button if b.label == "New document").click().run()
    at.text_input(key="ed_id").set_value("sql")
    at.text_input(key="ed_title").set_value("Another SQL")
    save(at)
    assert any("'sql' is already used by another document" in e.value for e in at.error)
    assert (kb_dir / "skills" / "sql.md").read_text() == original
    at.text_input(key="ed_id").set_value("Bad Id!")
    save(at)
    assert any("invalid document id 'Bad Id!'" in e.value for e in at.error)
