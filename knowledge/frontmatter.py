"""Writing a document back so that what was not edited stays as it was, byte for byte.

A body-only edit keeps the front matter text exactly as on disk. When fields change, only the
top-level keys whose *validated* value changed are written again (with ruamel.yaml, in the
style the old value had: a flow list stays a flow list); every other key keeps its lines, its
place, its quoting and its comments. New keys go at the end, removed keys disappear. So an
edit never reflows lists, reorders keys, turns level keys ``1`` into ``'1'`` or quotes a date.

A document with no usable old text (a new one, or one whose file did not parse) is written in
the knowledge base's hand-written style: fields in schema order, short lists on one line.
"""

from __future__ import annotations

import difflib
import io
from typing import Any

from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from knowledge.schema import FRONT_MATTER

_MISSING = object()
_FLOW_ITEM_CHARS = 40
"""Lists of scalars no longer than this each are written on one line (``roles: [a, b]``)."""


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never fold a long line: hand-written descriptors are one line each
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _split(text: str) -> tuple[str, str, str] | None:
    """``(opening line rest, head lines, everything after the head)`` or None if there is no
    front matter. ``text == '---' + open + '\\n' + head + after`` and ``after`` starts with ``---``."""
    if not text.startswith("---") or "\n---" not in text:
        return None
    first, rest = text[3:].split("\n", 1) if "\n" in text[3:] else (text[3:], "")
    if rest.startswith("---"):
        return first, "", rest
    if "\n---" not in rest:
        return None
    head, after = rest.split("\n---", 1)
    return first, head + "\n", "---" + after


def _old_meta(text: str):
    from knowledge.document import split_front_matter  # the reader that validation uses

    try:
        data, _ = split_front_matter(text, "old")
        return FRONT_MATTER.validate_python(data)
    except Exception:
        return None


def _scalar(v: Any) -> bool:
    return isinstance(v, (str, int, float, bool)) or v is None


def _node(value: Any, like: Any = None) -> Any:
    """A value ready for ruamel: lists of short scalars in flow style (or in the old value's style)."""
    if isinstance(value, dict):
        return {k: _node(v) for k, v in value.items()}
    if isinstance(value, list):
        seq = CommentedSeq([_node(v) for v in value])
        if isinstance(like, CommentedSeq):
            flow = like.fa.flow_style()
        else:
            flow = all(_scalar(v) and len(str(v)) <= _FLOW_ITEM_CHARS for v in value)
        if flow:
            seq.fa.set_flow_style()
        return seq
    return value


def _dump_key(key: str, value: Any, like: Any = None) -> str:
    out = io.StringIO()
    m = CommentedMap()
    m[key] = value if isinstance(value, (CommentedMap, CommentedSeq)) and like is None else _node(value, like)
    _yaml().dump(m, out)
    return out.getvalue()


def _key(v: Any) -> str:
    return repr(v.model_dump() if isinstance(v, BaseModel) else v)


def _edit_in_place(node: Any, old: Any, new: Any, dumped: Any) -> bool:
    """Change the old list or mapping ``node`` (raw YAML, validated as ``old``) into ``new``
    (``dumped`` is its plain form), touching only the items that differ, so the others keep
    their style and the comments between them stay. False if the shapes do not fit."""
    if isinstance(node, CommentedSeq) and isinstance(old, list) and isinstance(new, list) and len(node) == len(old):
        flow_items = bool(node) and all(getattr(getattr(x, "fa", None), "flow_style", lambda: False)() for x in node)
        ops = difflib.SequenceMatcher(None, [_key(v) for v in old], [_key(v) for v in new], autojunk=False).get_opcodes()
        for tag, i1, i2, j1, j2 in reversed(ops):
            if tag == "equal":
                continue
            for i in reversed(range(i1, i2)):
                del node[i]
            for j in reversed(range(j1, j2)):
                item = _node(dumped[j])
                if flow_items and isinstance(item, dict):
                    item = CommentedMap(item)
                    item.fa.set_flow_style()
                node.insert(i1, item)
        return True
    if isinstance(node, CommentedMap) and isinstance(old, dict) and isinstance(new, dict):
        if set(node) != set(old):
            return False  # keys written another way than they validate ('1' for 1): rewrite it whole
        for k in [k for k in node if k not in new]:
            del node[k]
        for k, v in new.items():
            if k not in old or old[k] != v:
                node[k] = _node(dumped[k], node.get(k))
        return True
    return False


def _values(meta: BaseModel) -> dict[str, Any]:
    return meta.model_dump(mode="python", exclude_none=True)


def _fresh_head(meta: BaseModel) -> str:
    return "".join(_dump_key(k, v) for k, v in _values(meta).items())


def _trailing_notes(lines: list[str]) -> list[str]:
    """Blank lines and column-0 comments at the end of a key's lines: they stay when it changes."""
    keep: list[str] = []
    while lines and (not lines[-1].strip() or lines[-1].startswith("#")):
        keep.insert(0, lines.pop())
    return keep


def _merged_head(head: str, old_meta: BaseModel, meta: BaseModel) -> str | None:
    """The old head with only the changed keys rewritten; None if the old head cannot be mapped."""
    try:
        tree = _yaml().load(head)
    except Exception:
        return None
    if not isinstance(tree, CommentedMap):
        return None
    lines = head.splitlines(keepends=True)
    starts = sorted((tree.lc.key(k)[0], k) for k in tree)
    if any(not isinstance(k, str) for _, k in starts) or len({s for s, _ in starts}) != len(starts):
        return None  # two keys on one line (a flow mapping) or odd keys: not safe to splice
    preamble = lines[: starts[0][0]] if starts else lines
    segments: dict[str, list[str]] = {}
    for i, (start, key) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(lines)
        segments[key] = lines[start:end]
    new = _values(meta)
    fields = set(type(meta).model_fields) | set(type(old_meta).model_fields)
    out = list(preamble)
    for _, key in starts:
        if key not in fields:
            return None  # a key neither model knows: validation would have refused it
        same = getattr(old_meta, key, _MISSING) == getattr(meta, key, _MISSING)
        if same:
            out += segments[key]
            continue
        notes = _trailing_notes(list(segments[key]))
        if key in new:
            if _edit_in_place(tree[key], getattr(old_meta, key, None), getattr(meta, key), new[key]):
                lines_out = _dump_key(key, tree[key]).splitlines(keepends=True)
                _trailing_notes(lines_out)  # comments ruamel hung on the last item: kept in `notes`
                out += lines_out
            else:
                out.append(_dump_key(key, new[key], tree[key]))
        out += notes
    for key, value in new.items():
        if key not in tree and getattr(old_meta, key, _MISSING) != getattr(meta, key):
            out.append(_dump_key(key, value))
    text = "".join(line if line.endswith("\n") else line + "\n" for line in out)
    return text


def render(meta: BaseModel, body: str, old_text: str | None = None) -> str:
    """The file for ``meta`` and ``body``, keeping from ``old_text`` whatever they did not change."""
    body = body.strip() + "\n"
    parts = _split(old_text) if old_text else None
    old_meta = _old_meta(old_text) if parts else None
    if parts is None or old_meta is None:
        return f"---\n{_fresh_head(meta)}---\n\n{body}"
    opening, head, after = parts
    if old_meta == meta:
        new_head = head
    else:
        new_head = _merged_head(head, old_meta, meta)
        if new_head is None:
            new_head = _fresh_head(meta)
    closing, _, old_body = after[3:].partition("\n")
    if old_body.strip() + "\n" == body:
        tail = after  # the body did not change either: keep its spacing as it was
    else:
        lead = old_body[: len(old_body) - len(old_body.lstrip())]
        tail = f"---{closing}\n{lead}{body}"
    return f"---{opening}\n{new_head}{tail}"
