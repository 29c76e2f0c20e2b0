"""Reskill's domain layer and faces. ``from advisor import Advisor`` is the Python API."""

from advisor.core import Advisor

__all__ = ["Advisor"]
