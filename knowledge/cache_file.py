"""Writing a cache file that other processes may be reading at the same moment."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO


def replace_cache_file(path: Path, dump: Callable[[IO], None], *, binary: bool, others: str) -> None:
    """Replace ``path`` with what ``dump`` writes, through a temporary file in the same directory, so
    a reader sees the old file or the new one and never half of one; then remove the files matching
    the glob ``others`` (the same cache written by another version of its rules or parser)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = "." + path.name.split("-", 1)[0] + "-"
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8") as f:
            dump(f)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    for old in path.parent.glob(others):
        if old != path:
            old.unlink(missing_ok=True)
