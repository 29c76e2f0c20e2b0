"""Serving the API with uvicorn (``reskill serve``)."""

from __future__ import annotations

from advisor.errors import BadInput
from advisor.settings import Settings, export_to_environ, load_settings


def run(settings: Settings | None = None, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve until interrupted.

    One worker serves an app built here. Several workers are separate processes, each building
    its own app (uvicorn's factory mode, ``advisor.api:create_app``); they get ``settings`` through
    ``RESKILL_*`` variables. They need a Chroma server (``RESKILL_CHROMA_URL``): the embedded store
    takes one writer process only.
    """
    import uvicorn

    from advisor.api.app import create_app

    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise BadInput(f"workers must be a whole number of at least 1, got {workers}")
    if not isinstance(port, int) or not 0 <= port < 65536:
        raise BadInput(f"port must be between 0 and 65535, got {port}")
    settings = settings or load_settings()
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, server_header=False)
        return
    if not settings.chroma_url:
        raise BadInput(
            "several workers need Chroma's server mode: the embedded store is not safe for several processes. "
            "Start `chroma run --path <dir>` and set RESKILL_CHROMA_URL=http://127.0.0.1:8000"
        )
    export_to_environ(settings)  # each worker's create_app() loads settings from these
    uvicorn.run("advisor.api:create_app", factory=True, host=host, port=port, workers=workers, server_header=False)
