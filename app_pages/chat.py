"""Chat: streamed, cited answers; the profile they build shows (and can be edited) in the sidebar."""

from __future__ import annotations

import uuid

import streamlit as st

from app_pages.helpers.conversation import STARTERS, history_for
from advisor.errors import BadInput
from app_pages.helpers.feedback import FeedbackStore
from advisor.models import Answer, Profile
from app_pages.common import MESSAGES, SESSION_ID, advisor, get_profile, index_build, init_state, log, set_profile, show_citations
from app_pages.sidebar import profile_sidebar

init_state()
LONG_TEXT = "_long_text"  # a message over the length limit, kept until it is read as a resume or dismissed


def _ask(question: str) -> None:
    st.session_state["_pending"] = question


def _new_conversation() -> None:
    st.session_state[MESSAGES] = []
    st.session_state.pop("_pending", None)


def _accepted(prompt: str | None) -> str | None:
    """The message to answer: None for nothing or only spaces; a message over the limit is kept
    aside (see :func:`_long_text_notice`), never answered cut short and never dropped silently."""
    if prompt is None or not prompt.strip():
        return None
    if len(prompt) > adv.settings.max_message_chars:
        st.session_state[LONG_TEXT] = prompt
        return None
    st.session_state.pop(LONG_TEXT, None)
    return prompt


def _read_long_text() -> None:
    text = st.session_state.pop(LONG_TEXT, "")
    try:
        profile = adv.profile(text, base=get_profile())
    except BadInput as exc:
        st.session_state[LONG_TEXT] = text
        st.session_state["_long_text_error"] = str(exc)
        return
    set_profile(profile)
    # No count here: the sidebar says once how many skills came from the text, were implied or assumed.
    st.session_state["_long_text_note"] = (
        "Read your text as a resume: your profile is updated (see the sidebar). "
        "Ask away: for example, which path fits me better?"
    )


def _long_text_notice() -> None:
    """Say why a long paste was not sent, and offer to read it as a resume instead."""
    if note := st.session_state.pop("_long_text_note", None):
        st.success(note, icon=":material/person_check:")
    text = st.session_state.get(LONG_TEXT)
    if not text:
        return
    limit = adv.settings.max_message_chars
    with st.container(border=True, key="long_text"):
        st.warning(
            f"Your message is {len(text):,} characters long; the chat takes at most {limit:,} characters a message, "
            "so it was not sent. If it is your resume or a job history, read it into your profile instead; "
            "'Fill from a resume' in the sidebar also takes a file (text, PDF or Word). For a question, shorten it.",
            icon=":material/content_cut:",
        )
        if error := st.session_state.pop("_long_text_error", None):
            st.error(error)
        read, drop = st.columns(2)
        read.button("Read it as my resume", key="long_text_read", icon=":material/upload_file:", on_click=_read_long_text, type="primary", width="stretch")
        drop.button("Dismiss", key="long_text_drop", on_click=lambda: st.session_state.pop(LONG_TEXT, None), width="stretch")


def _rate(message: dict) -> None:
    value = st.session_state.get(f"fb:{message['id']}")
    message["rating"] = value
    try:
        store = FeedbackStore.in_data_dir(adv.settings.data_dir)
        if value is None:
            store.remove(message["id"])
        else:
            store.record(message["id"], message["question"], message["answer"], 1 if value == 1 else -1, st.session_state[SESSION_ID])
            st.toast("Thanks: your feedback is saved.")
    except Exception as exc:  # a full disk or locked file must not break the chat
        log.exception("saving feedback failed")
        st.toast(f"Your feedback could not be saved: {exc}")


def _show_assistant(message: dict, body=None) -> None:
    """An answer with its notes, numbered sources and thumbs; ``body`` is where its text goes."""
    answer: Answer | None = message.get("answer")
    body = body or st.empty()
    if message.get("error"):
        body.error(message["content"], icon=":material/error:")
    else:
        body.markdown(message["content"])
    if answer is None:
        if message.get("keyword_hits"):  # a keyword-search turn from while the index was being built
            show_citations(message["keyword_hits"])
        return
    for note in answer.notes:
        st.info(note, icon=":material/info:")
    show_citations(answer.citations)
    st.feedback("thumbs", key=f"fb:{message['id']}", default=message.get("rating"), on_change=_rate, args=(message,))


def _stream(question: str, body) -> dict:
    """Stream one answer into ``body``; the final Answer's text replaces the streamed text."""
    messages = st.session_state[MESSAGES]
    history = history_for(messages, adv.settings)
    shown, answer = "", None
    profile = get_profile()
    if profile == Profile() and any("keyword_hits" in m for m in messages):
        # What the person said while the index was being built was answered by keyword search, with no
        # advisor to read it: an untouched profile is left to the advisor to rebuild from the conversation.
        profile = None
    try:
        for piece in adv.stream(question, history=history, profile=profile):
            if isinstance(piece, Answer):
                answer = piece
            else:
                shown += piece
                body.markdown(shown + " ▌")
    except BadInput as exc:
        return {"content": str(exc), "error": True}
    except Exception as exc:
        log.exception("answering failed")
        return {"content": f"Sorry, something went wrong while answering ({type(exc).__name__}: {exc}). Please try again.", "error": True}
    if answer is None:
        return {"content": "Sorry, no answer came back. Please try again.", "error": True}
    set_profile(answer.profile)
    return {"content": answer.text, "answer": answer}


# -- page ----------------------------------------------------------------------------------
title, button = st.columns([3, 1], vertical_alignment="bottom")
title.title("Reskill chat")
new_slot = button.empty()  # filled at the end, once this run's turn is in the conversation

# No max_chars: Streamlit's chat box silently ignores a paste longer than max_chars (the box stays
# empty), so the length is checked here, where the person can be told what to do instead.
# The box comes before the Advisor loads, so it is usable while a cold process loads (issue 14);
# a message sent meanwhile is answered as soon as the load is done.
prompt = st.chat_input("Ask about BI analyst or ML engineer paths, or tell me about yourself")
if (build := index_build()) is not None:  # a fresh machine: answer from keyword search while the index is built
    from app_pages.helpers.keyword_chat import keyword_chat

    keyword_chat(build, prompt)
    st.stop()
adv = advisor()
engine = adv.engine_name
st.caption(
    f"Engine: **{engine}**"
    + (" — answers are composed from the knowledge base, every fact cited; no language model." if engine == "grounded" else "")
)
if adv.engine_note:
    st.warning(adv.engine_note, icon=":material/warning:")

question = _accepted(prompt) or st.session_state.pop("_pending", None)

if not st.session_state[MESSAGES] and not question:
    st.markdown("I help data scientists choose between **BI analyst** and **ML engineer** and plan the move. Try one of these:")
    for n, starter in enumerate(STARTERS):
        st.button(starter, key=f"starter:{n}", on_click=_ask, args=(starter,), icon=":material/chat_bubble:")

for message in st.session_state[MESSAGES]:
    with st.chat_message(message["role"]):
        if message["role"] == "user":
            st.markdown(message["content"])
        else:
            _show_assistant(message)

if question:
    with st.chat_message("user"):
        st.markdown(question)
    with st.chat_message("assistant"):
        body = st.empty()
        body.markdown("_Thinking…_")
        reply = _stream(question, body)
        ids = uuid.uuid4().hex
        user = {"id": ids + "-q", "role": "user", "content": question, "error": reply.get("error", False)}
        assistant = {"id": ids, "role": "assistant", "question": question, **reply}
        st.session_state[MESSAGES] += [user, assistant]
        _show_assistant(assistant, body)

_long_text_notice()
new_slot.button("New conversation", icon=":material/add_comment:", on_click=_new_conversation, disabled=not st.session_state[MESSAGES])
profile_sidebar(adv)
