"""Generation through any OpenAI-compatible endpoint (llama-index's ``OpenAILike``), streamed.

The context is numbered and fenced: each passage sits between delimiter lines that carry a random
nonce drawn per request, so report text cannot close its fence or pose as instructions.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from rag import prompts
from rag.settings import Settings
from rag.types import Hit

log = logging.getLogger(__name__)

MAX_SENTENCES = 6
_TIMEOUT_S = 120.0


class LLMError(RuntimeError):
    """The configured LLM endpoint failed or could not be reached."""


@dataclass(frozen=True)
class Prompt:
    """The chat messages sent for one question, and the nonce that fences their passages."""

    messages: tuple[dict[str, str], ...]
    nonce: str


def new_nonce(texts: Sequence[str]) -> str:
    """A random fence code that occurs in none of ``texts`` (so no passage can forge a delimiter)."""
    while True:
        nonce = secrets.token_hex(8)
        if not any(nonce in text for text in texts):
            return nonce


def build_prompt(question: str, hits: Sequence[Hit], lang: str, nonce: str | None = None) -> Prompt:
    """System + user messages: rules, then passages ``[1..n]`` fenced with a per-request nonce."""
    texts = [h.chunk.text for h in hits] + [h.chunk.title + h.chunk.section for h in hits] + [question]
    nonce = nonce or new_nonce(texts)
    passages = "\n\n".join(
        prompts.PASSAGE.format(
            n=n, nonce=nonce, title=_one_line(hit.chunk.title), source=_one_line(hit.chunk.source),
            page=hit.chunk.page, section=_one_line(hit.chunk.section) or "-", text=hit.chunk.text.strip(),
        )
        for n, hit in enumerate(hits, start=1)
    )
    fill = {"count": len(hits), "refusal": prompts.REFUSAL[lang], "language": prompts.LANGUAGE_NAME[lang]}
    system = prompts.SYSTEM_PROMPT.format(nonce=nonce, max_sentences=MAX_SENTENCES, **fill)
    user = prompts.USER_PROMPT.format(passages=passages, question=question.strip(), **fill)
    return Prompt(({"role": "system", "content": system}, {"role": "user", "content": user}), nonce)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def make_llm(settings: Settings):  # noqa: ANN201 - an OpenAILike, imported lazily (llama-index loads slowly)
    """The configured endpoint as a llama-index chat LLM (temperature 0: answers should be reproducible)."""
    if not settings.llm_configured:
        raise LLMError("no LLM configured: set REPORTQA_LLM_BASE_URL and REPORTQA_LLM_MODEL")
    from llama_index.llms.openai_like import OpenAILike

    assert settings.llm_model is not None  # llm_configured checked it
    return OpenAILike(
        model=settings.llm_model, api_base=settings.llm_base_url,
        api_key=settings.llm_api_key or "not-needed",  # local servers (Ollama, llama.cpp) take any key
        is_chat_model=True, temperature=0.0, timeout=_TIMEOUT_S, max_retries=1,
        context_window=32768,
    )


def stream(settings: Settings, prompt: Prompt) -> Iterator[str]:
    """Text deltas of the model's reply to ``prompt``; endpoint failures raise :class:`LLMError`."""
    from llama_index.core.llms import ChatMessage
    from openai import OpenAIError

    llm = make_llm(settings)
    messages = [ChatMessage(role=m["role"], content=m["content"]) for m in prompt.messages]
    try:
        for part in llm.stream_chat(messages):
            if part.delta:
                yield part.delta
    except OpenAIError as error:  # connection, timeout, HTTP status: the UI needs one error naming the URL
        log.warning("LLM call to %s failed: %s", settings.llm_base_url, error)
        where = f"LLM endpoint {settings.llm_base_url} (model {settings.llm_model})"
        raise LLMError(f"{where} failed: {error}") from error
