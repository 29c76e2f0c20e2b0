"""Reskill's domain layer and faces. ``from advisor import Advisor`` is the Python API."""

__all__ = ["Advisor"]


def __getattr__(name: str):
    # Imported on first use: ``import advisor.models`` (a page, a CLI command) then does not load
    # Chroma and the chat engine, which the Advisor needs (issue 14: nothing heavy at import).
    if name == "Advisor":
        from advisor.core import Advisor

        return Advisor
    raise AttributeError(f"module 'advisor' has no attribute {name!r}")
