"""The knowledge-base editor: front-matter fields, Markdown with preview, save, delete, history.

The version the editor loaded stays in ``st.session_state`` and is sent as
``expected_version``: if someone else saved in between, the store refuses the write and
this editor keeps the user's text on screen. Nothing is saved until the document is valid.
"""

from __future__ import annotations

import streamlit as st

from app_pages.helpers.kb_editing import EditorFields, errors_by_slot, fields_of, front_matter, template_body, template_yaml
from app_pages.common import flash, log
from knowledge.document import DocumentInvalid
from knowledge.schema import KINDS
from knowledge.store import InvalidId, NotFound, VersionConflict

EDIT = "kb_edit"
"""{doc_id (None for a new document), version (the one loaded; None for new), errors, conflict}"""
FIELDS = {"doc_id": "ed_id", "title": "ed_title", "kind": "ed_kind", "extra_yaml": "ed_yaml", "body": "ed_body"}


def _load_fields(fields: EditorFields) -> None:
    for name, key in FIELDS.items():
        st.session_state[key] = getattr(fields, name)


def start_edit(adv, doc_id: str) -> None:
    """Open the editor on the current version of a document."""
    try:
        doc = adv.store.get(doc_id)
    except NotFound as exc:
        flash(str(exc), "error")
        return
    _load_fields(fields_of(doc))
    st.session_state["ed_stamp"] = False  # a typo fix is not a new date; the person ticks it for real updates
    st.session_state[EDIT] = {"doc_id": doc.id, "version": doc.version, "errors": {}, "conflict": None}


def start_new(kind: str = "skill") -> None:
    _load_fields(EditorFields("", "", kind, template_yaml(kind), template_body()))
    st.session_state["ed_stamp"] = False  # the template already says today
    st.session_state["_ed_template"] = st.session_state["ed_yaml"]
    st.session_state[EDIT] = {"doc_id": None, "version": None, "errors": {}, "conflict": None}


def close() -> None:
    st.session_state.pop(EDIT, None)


def _kind_changed() -> None:
    """A new document gets the new kind's template, unless its YAML was already edited."""
    if st.session_state[EDIT]["doc_id"] is None and st.session_state.get("ed_yaml") == st.session_state.get("_ed_template"):
        st.session_state["ed_yaml"] = st.session_state["_ed_template"] = template_yaml(st.session_state["ed_kind"])


def _current_fields() -> EditorFields:
    return EditorFields(**{name: st.session_state.get(key) or "" for name, key in FIELDS.items()})


def _save(adv, expected_version: str | None) -> None:
    edit = st.session_state[EDIT]
    fields = _current_fields()
    edit["errors"], edit["conflict"] = {}, None
    try:
        data = front_matter(fields)
        with st.status(f"Saving '{fields.doc_id}' and updating the search index…") as status:
            doc = adv.store.put(
                fields.doc_id.strip(), data, fields.body, expected_version=expected_version, set_updated=bool(st.session_state.get("ed_stamp", False))
            )
            status.update(label="Saved and indexed", state="complete")
    except DocumentInvalid as exc:
        edit["errors"] = errors_by_slot(exc.errors)
        return
    except InvalidId as exc:
        edit["errors"] = {"id": [str(exc)]}
        return
    except VersionConflict as exc:
        if edit["doc_id"] is None:  # a new document whose id is taken: nothing of theirs to merge
            edit["errors"] = {"id": [f"id: '{fields.doc_id.strip()}' is already used by another document; choose another id"]}
        else:
            edit["conflict"] = {"message": str(exc), "current": exc.current}
        return
    except Exception as exc:
        log.exception("saving %s failed", fields.doc_id)
        if _written(adv, fields.doc_id.strip(), expected_version):
            # The Markdown (the source of truth) is saved; only the index update failed.
            close()
            st.session_state["kb_open"] = fields.doc_id.strip()
            flash(f"Saved '{fields.doc_id.strip()}', but the search index was not updated ({exc}). "
                  "Run `reskill index` to bring it in step.", "warning")  # fmt: skip
        else:
            edit["errors"] = {"body": [f"not saved: {type(exc).__name__}: {exc}"]}
        return
    close()
    st.session_state["kb_open"] = doc.id
    flash(f"Saved '{doc.id}' (version {doc.version}). Index: {adv.last_report.summary()}. The chat uses it from the next question.")


def _written(adv, doc_id: str, expected_version: str | None) -> bool:
    try:
        return adv.store.version_of(doc_id) != expected_version
    except Exception:
        return False


def _delete(adv) -> None:
    edit = st.session_state[EDIT]
    doc_id = edit["doc_id"]
    edit["delete_error"] = None
    try:
        with st.spinner(f"Deleting '{doc_id}' and updating the index…"):
            adv.store.delete(doc_id, edit["version"])
    except DocumentInvalid as exc:
        edit["delete_error"] = "Not deleted: " + "; ".join(e.message for e in exc.errors) + "."
        return
    except VersionConflict as exc:
        edit["conflict"] = {"message": str(exc), "current": exc.current}
        return
    except NotFound as exc:
        edit["conflict"] = {"message": str(exc), "current": None}
        return
    except Exception as exc:
        log.exception("deleting %s failed", doc_id)
        if adv.store.version_of(doc_id) is not None:
            edit["delete_error"] = f"Not deleted: {type(exc).__name__}: {exc}"
            return
        flash(f"Deleted '{doc_id}', but the search index was not updated ({exc}). Run `reskill index`.", "warning")
        close()
        st.session_state.pop("kb_open", None)
        return
    close()
    st.session_state.pop("kb_open", None)
    flash(f"Deleted '{doc_id}'. Its history is kept: restore it from 'Deleted documents'.")


def _errors(slot: str) -> None:
    for message in st.session_state[EDIT]["errors"].get(slot, []):
        st.error(message, icon=":material/error:")


def _conflict(adv) -> None:
    edit = st.session_state[EDIT]
    conflict = edit["conflict"]
    st.error(f"Not saved: {conflict['message']}. Your text is kept below; nothing was overwritten.", icon=":material/sync_problem:")
    if conflict["current"] is not None:
        with st.expander("Their current version"):
            try:
                theirs = adv.store.get(edit["doc_id"])
                st.code(fields_of(theirs).extra_yaml, language="yaml")
                st.markdown(theirs.body)
            except NotFound:
                st.write("It has just been deleted.")
    a, b = st.columns(2)
    if conflict["current"] is not None:
        a.button("Discard my edits and load theirs", key="ed_reload", on_click=start_edit, args=(adv, edit["doc_id"]))
    label = "Save my version over theirs" if conflict["current"] else "Re-create it with my version"
    if b.button(label, key="ed_force", type="primary"):
        _save(adv, conflict["current"])
        st.rerun()


def _keep_draft(edit: dict) -> None:
    """Widget values vanish when another page runs; the draft brings them back unchanged."""
    draft = edit.setdefault("draft", {})
    for key in [*FIELDS.values(), "ed_stamp"]:
        if key in st.session_state:
            draft[key] = st.session_state[key]
        elif key in draft:
            st.session_state[key] = draft[key]


def editor(adv) -> None:
    edit = st.session_state[EDIT]
    _keep_draft(edit)
    is_new = edit["doc_id"] is None
    st.subheader("New document" if is_new else f"Editing '{edit['doc_id']}'")
    if not is_new:
        st.caption(f"Based on version {edit['version']}. To rename a document, create a new one and delete this.")
    if edit["conflict"]:
        _conflict(adv)
    problems = sum(len(v) for v in edit["errors"].values())
    if problems:
        st.error(f"Not saved: {problems} problem{'s' if problems != 1 else ''}, shown next to the fields below.", icon=":material/error:")

    a, b = st.columns([1, 1])
    with a:
        st.text_input("id", key="ed_id", disabled=not is_new, help="Lower-case letters, digits, '_' and '-'; also the file name")
        _errors("id")
    with b:
        st.selectbox("kind", KINDS, key="ed_kind", on_change=_kind_changed)
        _errors("kind")
    st.text_input("title", key="ed_title")
    _errors("title")
    st.text_area("Other front matter (YAML)", key="ed_yaml", height=260, help="Every field except id, title and kind")
    _errors("front matter")
    write, preview = st.tabs(["Markdown", "Preview"])
    with write:
        st.text_area("Body (Markdown)", key="ed_body", height=360, help="Each '##' section becomes a searchable passage")
    with preview:
        st.markdown(st.session_state.get("ed_body") or "_Nothing to preview yet._")
    _errors("body")
    st.checkbox(
        "Set 'updated' to today's date",
        key="ed_stamp",
        help="Tick it when the content is brought up to date; leave it for typo fixes. Fields you did not change are saved exactly as they were.",
    )

    save, cancel, _ = st.columns([1, 1, 3])
    if save.button("Save", key="ed_save", type="primary", icon=":material/save:"):
        _save(adv, edit["version"])
        st.rerun()
    cancel.button("Cancel", key="ed_cancel", on_click=close)
    if not is_new:
        refused = edit.get("delete_error")
        with st.expander("Delete this document", expanded=bool(refused)):
            if refused:
                st.error(refused, icon=":material/block:")
            sure = st.checkbox(f"Yes, delete '{edit['doc_id']}'", key="ed_delete_sure")
            if st.button("Delete", key="ed_delete", disabled=not sure):
                _delete(adv)
                st.rerun()


RESTORE_ERROR = "_kb_restore_error"


def history(adv, doc_id: str, current_version: str | None, can_edit: bool) -> None:
    """Every saved version, newest first, each viewable and (when editing is allowed) restorable."""
    entries = list(reversed(adv.store.history(doc_id)))
    if not entries:
        st.caption("No saved history yet: it starts with the first edit made here, in the CLI or through the API.")
    refused = _pop_refusal({doc_id})
    for n, entry in enumerate(entries):
        when = entry.saved_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        if entry.deleted:
            st.markdown(f"**{when}** · deleted")
            continue
        mark = " · current" if entry.version == current_version else ""
        failed = refused is not None and refused[:2] == (doc_id, entry.version)
        with st.expander(f"{when} · version {entry.version}{mark}", expanded=failed):
            if failed:
                st.error(refused[2], icon=":material/block:")
            st.code(adv.store.history_text(doc_id, entry.version), language="markdown")
            if can_edit and entry.version != current_version:
                st.button(
                    "Restore this version",
                    key=f"restore:{doc_id}:{entry.version}:{n}",
                    on_click=restore,
                    args=(adv, doc_id, entry.version, current_version),
                )


def _pop_refusal(doc_ids) -> tuple[str, str, str] | None:
    """(doc id, version, why) when restoring one of ``doc_ids`` was just refused; shown once."""
    refused = st.session_state.get(RESTORE_ERROR)
    if refused is None or refused[0] not in doc_ids:
        return None
    return st.session_state.pop(RESTORE_ERROR)


def restore_refusal(doc_ids) -> str | None:
    """Why restoring one of ``doc_ids`` was just refused (once), if it was."""
    refused = _pop_refusal(doc_ids)
    return refused[2] if refused else None


def restore(adv, doc_id: str, version: str, expected_version: str | None) -> None:
    """The button's callback, so ``expected_version`` is the version the person saw when the page
    was drawn. An ``if st.button(...)`` block would read the current version again in the run the
    click starts, and a change saved elsewhere meanwhile would be overwritten without a word."""
    try:
        with st.spinner(f"Restoring '{doc_id}' and updating the index…"):
            doc = adv.store.restore(doc_id, version, expected_version)
    except DocumentInvalid as exc:
        message = "This version is not valid any more: " + "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
    except (NotFound, VersionConflict) as exc:
        message = str(exc)
    except Exception as exc:
        log.exception("restoring %s failed", doc_id)
        message = f"Not restored: {type(exc).__name__}: {exc}"
    else:
        close()
        st.session_state["kb_open"] = doc.id
        same = doc.version == version  # the old bytes written back: the same content, the same version
        flash(f"Restored '{doc_id}' to version {version}." + ("" if same else f" (Saved as version {doc.version}.)"))
        return
    st.session_state[RESTORE_ERROR] = (doc_id, version, message)
