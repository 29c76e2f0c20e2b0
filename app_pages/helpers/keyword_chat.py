"""The chat while the first index build runs: answers from keyword search (BM25 over the same
chunks), with the build's progress above and the full chat taking over once it is done."""

from __future__ import annotations

import re
import uuid

import streamlit as st

from app_pages.common import MESSAGES, IndexBuild, init_state, show_build_progress, show_citations
from retrieval.hit import Hit

KEYWORD_HITS = 3
NOTE = (
    "*Keyword search only, while the search index was being built:* the knowledge base's best "
    "keyword matches, not a composed answer. Ask again once the index is ready for a full answer."
)


def keyword_reply(build: IndexBuild, question: str) -> tuple[str, list[Hit]]:
    """The text of a keyword-search answer and the passages it cites."""
    hits = build.keyword.search(question, k=KEYWORD_HITS)
    if not hits:
        return "The search index is still being built, and no passage of the knowledge base matches those words. Try other words, or ask again in a minute.", []
    lines = [NOTE, ""]
    for n, hit in enumerate(hits, 1):
        first = re.sub(r"[*_#`>|\[\]]", "", " ".join(hit.snippet.split()))[:240]  # no half-cut emphasis or links
        lines.append(f"{n}. **{hit.title}**, *{hit.section}*: {first}{'…' if len(hit.snippet) > 240 else ''} [{n}]")
    return "\n".join(lines), hits


def keyword_chat(build: IndexBuild, prompt: str | None) -> None:
    """The page below the title and the chat box (``prompt``: what was just sent, if anything)."""
    init_state()
    st.info(
        "Reskill is building its search index (once, on a fresh machine). Meanwhile the chat answers "
        "from keyword search; full answers, the profile and the other pages come when it is done.",
        icon=":material/hourglass_top:",
    )
    show_build_progress(build)
    for message in st.session_state[MESSAGES]:
        with st.chat_message(message["role"]):
            st.markdown(message["content"])
            if message.get("keyword_hits"):
                show_citations(message["keyword_hits"], kb=build.kb)
    if prompt and prompt.strip():
        question = prompt.strip()[:2000]
        text, hits = keyword_reply(build, question)
        ids = uuid.uuid4().hex
        st.session_state[MESSAGES] += [
            {"id": ids + "-q", "role": "user", "content": question},
            {"id": ids, "role": "assistant", "question": question, "content": text, "keyword_hits": hits},
        ]
        with st.chat_message("user"):
            st.markdown(question)
        with st.chat_message("assistant"):
            st.markdown(text)
            show_citations(hits, kb=build.kb)
