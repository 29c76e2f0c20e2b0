"""The profile in the sidebar: skills with levels and evidence, editable; hours, targets,
seniority and a resume upload. Every edit replaces the profile at once, so fit re-scores."""

from __future__ import annotations

import streamlit as st

from app_pages.helpers import profile_edits
from advisor.errors import BadInput
from advisor.models import Profile
from advisor.profile import MAX_RESUME_BYTES, RESUME_TYPES, read_resume
from advisor.report import LEVEL_NAMES
from app_pages.common import get_profile, set_profile, widget_key
from knowledge.base import TARGET_ROLES
from knowledge.schema import SENIORITIES


def _level_label(level: int) -> str:
    return f"{level} · {LEVEL_NAMES[level]}"


def _apply(change) -> None:
    """Run one profile edit from a widget callback; a bad value becomes a message, not a traceback."""
    try:
        set_profile(change(get_profile()))
    except BadInput as exc:
        st.session_state["_profile_error"] = str(exc)


def _on_level(adv, skill_id: str, key: str) -> None:
    _apply(lambda p: profile_edits.set_level(p, skill_id, st.session_state[key], adv.kb))


def _on_remove(skill_id: str) -> None:
    _apply(lambda p: profile_edits.remove_skill(p, skill_id))


def _on_add(adv, skill_key: str, level_key: str) -> None:
    skill_id = st.session_state.get(skill_key)
    if skill_id:
        _apply(lambda p: profile_edits.set_level(p, skill_id, st.session_state[level_key], adv.kb))


def _on_setting(adv, field: str, key: str) -> None:
    _apply(lambda p: profile_edits.update_settings(p, adv.kb, **{field: st.session_state[key]}))


def _on_clear() -> None:
    set_profile(Profile())
    st.session_state.pop("_resume_done", None)


def _read_resume(adv) -> None:
    upload = st.session_state.get("resume_upload")
    if upload is None or st.session_state.get("_resume_done") == upload.file_id:
        return
    st.session_state["_resume_done"] = upload.file_id
    try:
        text = read_resume(upload.name, upload.getvalue())
        profile = adv.profile(text, base=get_profile())
    except BadInput as exc:
        st.session_state["_profile_error"] = str(exc)
        return
    set_profile(profile)
    # No count here: the caption under the skills says once how many were said, implied or assumed.
    st.session_state["_profile_note"] = f"Read {upload.name}: your profile is updated."


def _fit_summary(adv, profile: Profile) -> None:
    roles = [r for r in (profile.target_roles or TARGET_ROLES) if r in adv.kb.roles]
    if not roles:
        return
    rec = adv.recommend(profile, targets=roles)
    if not rec.show_numbers:
        st.info(rec.ask)
        return
    for fit in rec.roles:
        st.progress(fit.fit, text=f"{fit.title}: **{fit.fit:.0%}** fit · {fit.weeks_to_ready:g} weeks to ready to apply")


def _skill_rows(adv, profile: Profile, skills: list) -> None:
    for s in sorted(skills, key=lambda s: (-s.level, s.name or s.skill_id)):
        key = widget_key(f"level:{s.skill_id}")
        # A horizontal container, not st.columns: columns stack on a phone, which put the remove
        # button on a line of its own, far from the skill it removes.
        row = st.container(horizontal=True, vertical_alignment="bottom", gap="small", wrap=False)
        row.selectbox(
            s.name or s.skill_id,
            options=list(LEVEL_NAMES),
            index=s.level,
            format_func=_level_label,
            key=key,
            on_change=_on_level,
            args=(adv, s.skill_id, key),
            help="Why this level: " + " · ".join(f"“{e}”" for e in s.evidence) if s.evidence else None,
        )
        row.button(
            "", icon=":material/close:", key=widget_key(f"remove:{s.skill_id}"), help=f"Remove {s.name}", on_click=_on_remove, args=(s.skill_id,)
        )
        if s.source != "stated":
            st.caption(s.evidence[-1] if s.evidence else "assumed from your role: confirm or correct")
        elif s.evidence:
            last = s.evidence[-1]
            st.caption(f"from “{last[:110]}{'…' if len(last) > 110 else ''}”")


def _add_skill(adv, profile: Profile) -> None:
    have = {s.skill_id for s in profile.skills}
    choices = sorted((sid for sid in adv.kb.skills if sid not in have), key=lambda sid: adv.kb.skills[sid].title.lower())
    if not choices:
        return
    with st.expander("Add a skill"):
        skill_key, level_key = widget_key("add:skill"), widget_key("add:level")
        st.selectbox("Skill", choices, index=None, key=skill_key, format_func=lambda sid: adv.kb.skills[sid].title, placeholder="Choose a skill")
        st.selectbox("Level", list(LEVEL_NAMES)[1:], index=1, key=level_key, format_func=_level_label)
        st.button("Add skill", key=widget_key("add:go"), on_click=_on_add, args=(adv, skill_key, level_key))


def profile_sidebar(adv) -> None:
    """Render the profile editor in the sidebar (call once per page run)."""
    profile = get_profile()
    with st.sidebar:
        st.header("Your profile")
        if error := st.session_state.pop("_profile_error", None):
            st.error(error)
        if note := st.session_state.pop("_profile_note", None):
            st.success(note)
        _fit_summary(adv, profile)
        ex = profile.extraction
        if ex is not None:
            st.caption(f"Confidence {ex.confidence:.0%}: {ex.reason}")

        st.file_uploader(
            "Fill from a resume",
            type=[t.lstrip(".") for t in RESUME_TYPES],
            key="resume_upload",
            on_change=_read_resume,
            args=(adv,),
            help="Text, Markdown, PDF or Word. The skills found are added to what you already told the chat.",
            max_upload_size=MAX_RESUME_BYTES // 1_000_000,  # the limit read_resume applies, so the box says it
        )

        st.subheader("Skills")
        said = [s for s in profile.skills if s.source == "stated"]
        if not said:
            st.caption("No skills yet: tell the chat about your experience, upload a resume, or add skills below.")
        _skill_rows(adv, profile, said)
        others = [s for s in profile.skills if s.source != "stated"]
        if others:
            with st.expander(f"{len(others)} assumed or implied: confirm or correct"):
                st.caption("Assumed from your role, or implied by a skill you named. Changing a level makes it yours.")
                _skill_rows(adv, profile, others)
        _add_skill(adv, profile)

        st.subheader("Goals")
        hours_key = widget_key("hours")
        st.number_input(
            "Hours a week for learning",
            min_value=1.0,
            max_value=80.0,
            step=1.0,
            format="%g",
            value=float(profile.weekly_hours),
            key=hours_key,
            on_change=_on_setting,
            args=(adv, "weekly_hours", hours_key),
        )
        roles_key = widget_key("targets")
        st.multiselect(
            "Target roles",
            options=sorted(adv.kb.roles),
            default=[r for r in profile.target_roles if r in adv.kb.roles],
            format_func=lambda rid: adv.kb.roles[rid].title,
            key=roles_key,
            on_change=_on_setting,
            args=(adv, "target_roles", roles_key),
            placeholder="BI analyst and ML engineer",
        )
        seniority_key = widget_key("seniority")
        st.selectbox(
            "Seniority you aim for",
            SENIORITIES,
            index=SENIORITIES.index(profile.seniority),
            key=seniority_key,
            on_change=_on_setting,
            args=(adv, "seniority", seniority_key),
        )
        st.button("Clear profile", on_click=_on_clear, disabled=profile == Profile(), help="Forget every skill and goal")
