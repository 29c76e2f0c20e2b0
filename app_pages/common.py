"""Shared pieces of the Streamlit pages: the cached Advisor, per-user state, citations.

The Advisor (model, index, knowledge) is loaded once per process with ``st.cache_resource``
and shared by every session; it holds nothing about a user. Everything about a user (the
profile, the conversation, the editor) lives in ``st.session_state``.
"""

from __future__ import annotations

import logging
import uuid

import streamlit as st

from advisor.models import Profile
from knowledge.links import SourceLink, source_links
from retrieval.hit import Hit

log = logging.getLogger("reskill.app")

PROFILE = "profile"
PROFILE_REV = "profile_rev"
MESSAGES = "messages"
SESSION_ID = "session_id"


@st.cache_resource(show_spinner=False)
def _embedder(model_name: str, backend: str = "onnx", cache_dir: str | None = None):
    from pathlib import Path

    from retrieval.embeddings import load_embedder

    return load_embedder(model_name, backend=backend, cache_dir=Path(cache_dir) if cache_dir else None)


@st.cache_resource(
    show_spinner="Loading Reskill. On the very first start the knowledge base is indexed (a minute or two); later starts take seconds…",
    show_time=True,
)
def load_advisor(settings_json: str):
    """One Advisor per configuration, for the whole process."""
    from advisor.core import Advisor
    from advisor.settings import Settings

    settings = Settings.model_validate_json(settings_json)
    return Advisor.load(settings, embedder=_embedder(settings.embedding_model, settings.embedding_backend, str(settings.model_cache_dir)))


def advisor():
    """The shared Advisor for the current settings; a readable error (and stop) if it cannot load."""
    from advisor.settings import load_settings

    try:
        settings = load_settings()
    except Exception as exc:  # pydantic's ValidationError names the bad RESKILL_ variable
        st.error(f"Reskill's settings are invalid: {exc}")
        st.stop()
    try:
        return load_advisor(settings.model_dump_json())
    except Exception as exc:
        log.exception("loading the advisor failed")
        st.error(f"Reskill could not start: {type(exc).__name__}: {exc}")
        st.stop()


def init_state() -> None:
    st.session_state.setdefault(PROFILE, Profile())
    st.session_state.setdefault(PROFILE_REV, 0)
    st.session_state.setdefault(MESSAGES, [])
    st.session_state.setdefault(SESSION_ID, uuid.uuid4().hex)


def get_profile() -> Profile:
    init_state()
    return st.session_state[PROFILE]


def set_profile(profile: Profile) -> None:
    """Replace the profile; the sidebar's inputs are rebuilt from it on this run."""
    st.session_state[PROFILE] = profile
    st.session_state[PROFILE_REV] = st.session_state.get(PROFILE_REV, 0) + 1


def widget_key(name: str) -> str:
    """A key for an input that shows a profile value; it changes whenever the profile does."""
    return f"{name}@{st.session_state.get(PROFILE_REV, 0)}"


def citation_label(n: int, hit: Hit) -> str:
    return f"[{n}] {hit.title} · {hit.kind} · {hit.section}"


KB_PAGE = "app_pages/knowledge.py"
DOC_PARAM = "doc"
"""The query parameter that opens a document in the Knowledge base page: ``/knowledge?doc=sql``."""
MAX_LINKS = 6


def _md_text(text: str) -> str:
    """Text that Markdown shows as written (no links, emphasis or HTML made from it)."""
    return "".join("\\" + c if c in "\\`*_[]<>#|~$" else c for c in text)


def links_markdown(links: list[SourceLink], limit: int = MAX_LINKS) -> str:
    """A Markdown list of external links; the rest counted, not dropped without a word."""
    lines = [f"- [{_md_text(link.label)}](<{link.url}>)" for link in links[:limit]]
    if len(links) > limit:
        lines.append(f"- … and {len(links) - limit} more in the document's front matter")
    return "\n".join(lines)


def show_citations(hits: list[Hit], heading: str = "Sources") -> None:
    """Numbered sources, each with the cited passage in an expander (Markdown, no raw HTML), a link
    to the document in the Knowledge base page and links to the document's own sources."""
    if not hits:
        return
    kb = advisor().kb
    st.caption(heading)
    for n, hit in enumerate(hits, 1):
        with st.expander(citation_label(n, hit)):
            st.markdown(hit.snippet)
            st.page_link(KB_PAGE, label=f"Open “{hit.title}” in the knowledge base", icon=":material/menu_book:", query_params={DOC_PARAM: hit.doc_id})
            doc = kb.docs.get(hit.doc_id)
            links = source_links(doc.meta) if doc is not None else []
            if links:
                st.markdown("**Where this comes from**\n\n" + links_markdown(links))


def flash(message: str, kind: str = "success") -> None:
    """A message to show once on the next run (after ``st.rerun``)."""
    st.session_state["_flash"] = (kind, message)


def show_flash() -> None:
    kind, message = st.session_state.pop("_flash", (None, None))
    if message:
        getattr(st, kind)(message)
