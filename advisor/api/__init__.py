"""Reskill's HTTP API (FastAPI): ``create_app(settings, advisor=None)`` and ``run(settings, host, port, workers)``."""

from advisor.api.app import create_app
from advisor.api.server import run

__all__ = ["create_app", "run"]
