"""Knowledge base: browse and search documents, read one, and (when allowed) edit it."""

from __future__ import annotations

import streamlit as st

from advisor.errors import BadInput
from app_pages.helpers.kb_editing import deleted_ids, editing_state, fields_of, matching_docs, password_ok
from app_pages import kb_editor
from app_pages.common import DOC_PARAM, advisor, init_state, links_markdown, show_flash
from knowledge.links import source_links
from knowledge.schema import KINDS

adv = advisor()
init_state()
kb = adv.kb
mode = editing_state(adv.settings)
ALL = "all"


def _open(doc_id: str) -> None:
    st.session_state["kb_open"] = doc_id
    kb_editor.close()
    st.query_params[DOC_PARAM] = st.session_state["_kb_linked"] = doc_id  # the address opens it again


def _follow_link() -> None:
    """A citation's link (``?doc=<id>``) opens that document, once per link followed; an edit in
    progress is kept, not discarded."""
    wanted = st.query_params.get(DOC_PARAM)
    if not wanted:
        st.session_state.pop("_kb_linked", None)
        return
    if wanted == st.session_state.get("_kb_linked"):
        return
    st.session_state["_kb_linked"] = wanted
    st.session_state["kb_open"] = wanted
    if st.session_state.get(kb_editor.EDIT):
        st.info(f"You are editing a document: save or cancel it to read '{wanted}'.", icon=":material/edit_note:")


def _unlock() -> None:
    if password_ok(adv.settings, st.session_state.get("kb_password", "")):
        st.session_state["kb_unlocked"] = True
    else:
        st.session_state["_kb_bad_password"] = True
    st.session_state["kb_password"] = ""


def _can_edit() -> bool:
    return mode == "open" or (mode == "password" and st.session_state.get("kb_unlocked", False))


def _browse() -> None:
    query = st.text_input("Search", key="kb_query", placeholder="e.g. dashboard design, MLOps, certifications")
    kind = st.selectbox("Kind", [ALL, *KINDS], key="kb_kind")
    role = st.selectbox("Role", [ALL, *sorted(kb.roles)], key="kb_role", format_func=lambda r: r if r == ALL else kb.roles[r].title)
    kind, role = (None if kind == ALL else kind), (None if role == ALL else role)
    if query.strip():
        try:
            hits = adv.search(query, k=10, kind=kind, role=role)
        except BadInput as exc:
            st.error(str(exc))
            return
        st.caption(f"{len(hits)} passage{'s' if len(hits) != 1 else ''} found")
        for n, hit in enumerate(hits):
            st.button(f"{hit.title} · {hit.section}", key=f"hit:{n}:{hit.doc_id}", on_click=_open, args=(hit.doc_id,), width="stretch")
            st.caption(f"{hit.kind} · " + " ".join(hit.snippet.split())[:160] + "…")
        return
    docs = matching_docs(kb, kind, role)
    st.caption(f"{len(docs)} document{'s' if len(docs) != 1 else ''}")
    with st.container(height=480, border=True):
        for doc in docs:
            st.button(
                f"{doc.title} · {doc.kind}",
                key=f"doc:{doc.id}",
                on_click=_open,
                args=(doc.id,),
                type="primary" if doc.id == st.session_state.get("kb_open") else "tertiary",
            )


def _access() -> None:
    if mode == "off" and adv.settings.edit_mode == "password":
        st.caption("Editing is locked: RESKILL_EDIT_MODE=password, but no RESKILL_EDIT_PASSWORD is set.")
    elif mode == "off":
        st.caption("Editing is turned off on this deployment.")
    elif mode == "password" and not st.session_state.get("kb_unlocked"):
        with st.expander("Unlock editing"):
            st.text_input("Editing password", type="password", key="kb_password")
            st.button("Unlock", on_click=_unlock)
            if st.session_state.pop("_kb_bad_password", False):
                st.error("Wrong password.")
    if _can_edit():
        st.button("New document", icon=":material/add:", on_click=kb_editor.start_new, width="stretch")
        gone = deleted_ids(adv.store.history_dir, kb)
        if gone:
            refused = kb_editor.restore_refusal(gone)
            with st.expander(f"Deleted documents ({len(gone)})", expanded=refused is not None):
                if refused is not None:
                    st.error(refused, icon=":material/block:")
                for doc_id in gone:
                    kept = [e for e in adv.store.history(doc_id) if not e.deleted]
                    if kept:
                        st.button(f"Restore {doc_id}", key=f"undelete:{doc_id}", on_click=kb_editor.restore, args=(adv, doc_id, kept[-1].version, None))


def _document(doc_id: str) -> None:
    doc = kb.docs.get(doc_id)
    if doc is None:
        st.info(f"'{doc_id}' is not in the knowledge base any more.")
        return
    head, action = st.columns([4, 1], vertical_alignment="bottom")
    head.subheader(doc.title)
    if _can_edit():
        action.button("Edit", key="kb_edit_btn", icon=":material/edit:", on_click=kb_editor.start_edit, args=(adv, doc.id), width="stretch")
    st.caption(f"{doc.kind} · `{doc.id}` · {doc.path} · version {doc.version}")
    content, meta, past = st.tabs(["Document", "Front matter", "History"])
    with content:
        st.markdown(doc.body)
        links = source_links(doc.meta)
        if links:
            st.markdown("**Sources**\n\n" + links_markdown(links, limit=len(links)))
    with meta:
        st.code(f"id: {doc.id}\ntitle: {doc.title}\nkind: {doc.kind}\n{fields_of(doc).extra_yaml}", language="yaml")
        users = kb.referrers(doc.id)
        if users:
            st.caption("Referred to by: " + ", ".join(users))
    with past:
        kb_editor.history(adv, doc.id, adv.store.version_of(doc.id), _can_edit())


# -- page ----------------------------------------------------------------------------------
st.title("Knowledge base")
counts = kb.counts()
st.caption(f"{sum(counts.values())} documents: " + ", ".join(f"{n} {k}" for k, n in counts.items()) + f" · `{kb.root}`")
if kb.errors:
    with st.expander(f"{len(kb.errors)} invalid document(s) left out", icon=":material/warning:"):
        for err in kb.errors:
            st.markdown(f"- `{err.path}` · **{err.field}**: {err.message}")
show_flash()
_follow_link()

left, right = st.columns([1, 2], gap="large")
with left:
    _browse()
    _access()
with right:
    if st.session_state.get(kb_editor.EDIT) and _can_edit():
        kb_editor.editor(adv)
    elif st.session_state.get("kb_open"):
        _document(st.session_state["kb_open"])
    else:
        st.info("Search or choose a document on the left" + (", or create a new one." if _can_edit() else "."))
