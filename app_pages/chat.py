"""Chat: streamed, cited answers; the profile they build shows (and can be edited) in the sidebar."""

from __future__ import annotations

import uuid

import streamlit as st

from app_pages.helpers.conversation import STARTERS, history_for
from advisor.errors import BadInput
from app_pages.helpers.feedback import FeedbackStore
from advisor.models import Answer
from app_pages.common import MESSAGES, SESSION_ID, advisor, get_profile, init_state, log, set_profile, show_citations
from app_pages.sidebar import profile_sidebar

adv = advisor()
init_state()


def _ask(question: str) -> None:
    st.session_state["_pending"] = question


def _new_conversation() -> None:
    st.session_state[MESSAGES] = []
    st.session_state.pop("_pending", None)


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
    try:
        for piece in adv.stream(question, history=history, profile=get_profile()):
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
engine = adv.engine_name
st.caption(
    f"Engine: **{engine}**"
    + (" — answers are composed from the knowledge base, every fact cited; no language model." if engine == "grounded" else "")
)
if adv.engine_note:
    st.warning(adv.engine_note, icon=":material/warning:")

prompt = st.chat_input("Ask about BI analyst or ML engineer paths, or tell me about yourself", max_chars=adv.settings.max_message_chars)
question = prompt or st.session_state.pop("_pending", None)

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

new_slot.button("New conversation", icon=":material/add_comment:", on_click=_new_conversation, disabled=not st.session_state[MESSAGES])
profile_sidebar(adv)
