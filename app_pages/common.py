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


class IndexBuild:
    """The first start's index build (every chunk embedded), run in a background thread so the
    page opens at once: it shows ``done``/``total`` (and a bar in the terminal), and the chat
    answers from ``keyword`` search (BM25 over the same chunks) until the Advisor is ready."""

    def __init__(self, settings, embedder, why: str, start: bool = True):
        import threading

        from knowledge.store import KnowledgeStore
        from retrieval.hybrid import KeywordRetriever

        self.settings, self.embedder, self.why = settings, embedder, why
        self.kb = KnowledgeStore(settings.knowledge_dir, settings.data_dir).load()
        self.keyword = KeywordRetriever(self.kb.docs.values(), settings.chunk_chars)
        self.done, self.total = 0, len(self.keyword)
        self.stage = "embedding"
        self.advisor = None
        self.error: BaseException | None = None
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reskill-index-build", daemon=True)
        if start:
            self.start()

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        import sys

        from tqdm import tqdm

        from advisor.chat.context import chat_reader
        from advisor.core import Advisor

        bar = tqdm(total=self.total, desc="embedding the knowledge base", unit="chunk", file=sys.stderr)

        def progress(done: int, total: int) -> None:
            self.done, self.total = done, total
            bar.total = total
            bar.update(done - bar.n)

        try:
            adv = Advisor.load(self.settings, embedder=self.embedder, progress=progress)
            self.stage = "reader"  # the chat's question reader: trained once per data dir, then cached
            chat_reader(adv).warm()
            self.advisor = adv
        except BaseException as exc:  # shown on the page; the process keeps serving the keyword chat
            log.exception("building the index failed")
            self.error = exc
        finally:
            bar.close()
            self._finished.set()

    @property
    def ready(self) -> bool:
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    def status(self) -> str:
        if self.stage == "reader":
            return "Search index built; preparing the chat's question reader (once)…"
        if not self.done:
            return f"Building the search index: {self.total:,} passages to embed ({self.why}; once per machine, a minute or two)…"
        return f"Building the search index: {self.done:,} of {self.total:,} passages embedded ({self.why}; once per machine)."


@st.cache_resource(show_spinner=False)
def _startup(settings_json: str) -> IndexBuild | None:
    """None when the index holds this embedder's vectors (the Advisor then loads in seconds);
    else the background build of the whole index, started now."""
    from pathlib import Path

    from advisor.settings import Settings
    from retrieval.embeddings import forget_preload, preload_embedder

    settings = Settings.model_validate_json(settings_json)
    model = (settings.embedding_model, settings.embedding_backend, Path(str(settings.model_cache_dir)))
    # The model loads in a background thread while chromadb is imported (see preload_embedder);
    # _embedder below takes it, and a preload it did not need (already cached) is dropped.
    preload_embedder(model[0], backend=model[1], cache_dir=model[2])
    from retrieval.client import open_chroma
    from retrieval.embeddings import embedding_stamp
    from retrieval.index import needs_full_build
    from retrieval.snapshot import SnapshotFiles

    embedder = _embedder(settings.embedding_model, settings.embedding_backend, str(settings.model_cache_dir))
    forget_preload(model[0], backend=model[1], cache_dir=model[2])
    stamp = embedding_stamp(embedder, settings.embedding_model)
    if not settings.chroma_url and SnapshotFiles(settings.chroma_dir, settings.collection).holds(stamp):
        return None  # an index build of this embedder finished (its vector snapshot says so): no Chroma opened
    client = open_chroma(settings.chroma_dir, settings.chroma_url, settings.chroma_headers, settings.chroma_timeout_s)
    why = needs_full_build(client, settings.collection, stamp)
    if not why:
        return None
    build = IndexBuild(settings, embedder, why, start=False)
    if build.total < settings.background_index_min_chunks:
        return None  # embedded in a few seconds: the Advisor loads before the page, as on a warm start
    build.start()
    return build


@st.cache_resource(
    show_spinner="Loading Reskill…",
    show_time=True,
)
def load_advisor(settings_json: str):
    """One Advisor per configuration, for the whole process (the background build's, when one ran)."""
    from advisor.core import Advisor
    from advisor.settings import Settings

    build = _startup(settings_json)
    if build is not None:
        build.wait()
        if build.error is not None:
            raise build.error
        return build.advisor
    settings = Settings.model_validate_json(settings_json)
    return Advisor.load(settings, embedder=_embedder(settings.embedding_model, settings.embedding_backend, str(settings.model_cache_dir)))


def _settings():
    from advisor.settings import load_settings

    try:
        return load_settings()
    except Exception as exc:  # pydantic's ValidationError names the bad RESKILL_ variable
        st.error(f"Reskill's settings are invalid: {exc}")
        st.stop()


def index_build() -> IndexBuild | None:
    """The index build still running for the current settings (None once the Advisor can load fast)."""
    try:
        build = _startup(_settings().model_dump_json())
    except Exception as exc:
        log.exception("opening the index failed")
        st.error(f"Reskill could not start: {type(exc).__name__}: {exc}")
        st.stop()
    return build if build is not None and not (build.ready and build.error is None) else None


def show_build_progress(build: IndexBuild) -> None:
    """The build's progress, refreshed every second; the whole page reruns once it is done."""

    @st.fragment(run_every=1.0)
    def progress() -> None:
        if build.ready:
            if build.error is not None:
                st.error(f"Building the search index failed: {type(build.error).__name__}: {build.error}")
                return
            st.rerun()
        st.progress(build.done / max(build.total, 1), text=build.status())

    progress()


def advisor():
    """The shared Advisor for the current settings; a readable error (and stop) if it cannot load.
    While the first index build runs, a page says so with its progress and stops here."""
    settings = _settings()
    build = index_build()
    if build is not None:
        st.info("This page opens once the search index is built; the Chat page answers from keyword search meanwhile.", icon=":material/hourglass_top:")
        show_build_progress(build)
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


def show_citations(hits: list[Hit], heading: str = "Sources", kb=None) -> None:
    """Numbered sources, each with the cited passage in an expander (Markdown, no raw HTML), a link
    to the document in the Knowledge base page and links to the document's own sources."""
    if not hits:
        return
    kb = kb if kb is not None else advisor().kb
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
