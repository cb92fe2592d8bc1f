"""Generated answers from an LLM (OpenAI-compatible or Ollama), grounded in numbered passages.

The LLM only phrases what the retrieved passages say; its citations are checked
afterwards and any failure (no valid citation, empty text, provider error,
timeout) makes the caller fall back to the extractive answer.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from assistant.messages import PROMPTS_DIR
from assistant.settings import Settings

log = logging.getLogger(__name__)
CITATION = re.compile(r"\[(\d+)\]")


class GenerationFailed(RuntimeError):
    """The LLM gave nothing usable; the message is the fallback reason shown to callers."""


@dataclass(frozen=True)
class Source:
    """A numbered passage handed to the LLM."""

    n: int
    title: str
    section: str
    text: str


def make_chat_model(settings: Settings) -> BaseChatModel | None:
    """The configured chat model, or None for the extractive answerer (LLM_PROVIDER=none)."""
    timeout = httpx.Timeout(settings.llm_timeout, connect=min(settings.llm_timeout, 5.0))
    if settings.llm_provider == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed",
            model=settings.llm_model,
            temperature=settings.llm_temperature,
            max_tokens=settings.llm_max_tokens,
            timeout=timeout,
            max_retries=settings.llm_max_retries,
            default_headers=settings.llm_headers or None,
            disable_streaming=not settings.llm_streaming,
        )
    if settings.llm_provider == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(
            base_url=settings.ollama_base_url,
            model=settings.llm_model,
            temperature=settings.llm_temperature,
            num_predict=settings.llm_max_tokens,
            client_kwargs={"timeout": timeout, "headers": settings.llm_headers or {}},
            disable_streaming=not settings.llm_streaming,
        )
    return None


def _prompt(name: str, lang: str, folder: Path = PROMPTS_DIR) -> str:
    return (folder / f"{name}.{lang}.md").read_text(encoding="utf-8")


def format_sources(sources: Sequence[Source]) -> str:
    return "\n\n".join(f"[{s.n}] {s.title} – {s.section}\n{s.text}" for s in sources)


class CitationFilter:
    """Drops citation markers that name no passage, also while tokens stream in.

    A "[" starts holding text back until the marker closes (or clearly is no marker),
    so an invalid "[7]" never reaches the user even mid-stream.
    """

    def __init__(self, valid: set[int]) -> None:
        self.valid = valid
        self.pending = ""
        self.used: list[int] = []

    def _clean(self, text: str) -> str:
        def keep(match: re.Match[str]) -> str:
            n = int(match.group(1))
            if n in self.valid:
                if n not in self.used:
                    self.used.append(n)
                return match.group(0)
            return ""

        return CITATION.sub(keep, text)

    def feed(self, token: str) -> str:
        text = self.pending + token
        cut = text.rfind("[")
        if cut != -1 and "]" not in text[cut:] and re.fullmatch(r"\[\d{0,3}", text[cut:]):
            self.pending, text = text[cut:], text[:cut]
        else:
            self.pending = ""
        return self._clean(text)

    def flush(self) -> str:
        text, self.pending = self.pending, ""
        return self._clean(text)


def tidy(text: str) -> str:
    """Remove spaces left before punctuation where markers were dropped."""
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


class Generator:
    """Rewrites follow-ups and writes cited answers with a chat model."""

    def __init__(self, settings: Settings, model: BaseChatModel) -> None:
        self.settings = settings
        self.model = model

    def _stream(self, messages: list, on_token: Callable[[str], None] | None = None) -> Iterator[str]:
        deadline = time.monotonic() + self.settings.llm_total_timeout
        try:
            for chunk in self.model.stream(messages):
                text = chunk.content if isinstance(chunk.content, str) else ""
                if text:
                    yield text
                if time.monotonic() > deadline:
                    raise GenerationFailed(f"timeout: no complete answer within {self.settings.llm_total_timeout:g} s")
        except GenerationFailed:
            raise
        except (httpx.TimeoutException, TimeoutError) as exc:
            raise GenerationFailed(f"timeout: {type(exc).__name__}") from exc
        except json.JSONDecodeError as exc:
            raise GenerationFailed(f"malformed response from the LLM server: {exc.msg}") from exc
        except Exception as exc:  # noqa: BLE001 - any provider error means: fall back, and say why
            name = type(exc).__name__
            reason = (
                "timeout" if "Timeout" in name else "LLM server unreachable" if "Connect" in name else "provider error"
            )
            raise GenerationFailed(f"{reason}: {name}: {str(exc)[:200]}") from exc

    def rewrite(self, question: str, history: Sequence[str], lang: str) -> str:
        """A standalone version of a follow-up question (the question itself on any failure)."""
        system = _prompt("rewrite", lang).format(history="\n".join(f"- {h}" for h in history))
        try:
            text = "".join(self._stream([SystemMessage(system), HumanMessage(question)])).strip()
        except GenerationFailed as exc:
            log.info("follow-up rewrite failed (%s); using the question as asked", exc)
            return question
        text = text.strip().strip('"„“”').splitlines()[0].strip() if text.strip() else ""
        return text if 3 <= len(text) <= 4 * max(len(question), 60) else question

    def answer(
        self, question: str, lang: str, sources: Sequence[Source], on_token: Callable[[str], None] | None = None
    ) -> tuple[str, list[int]]:
        """The cited answer text and the passage numbers it cites, streamed through `on_token`.

        Raises GenerationFailed when nothing grounded came back.
        """
        system = _prompt("answer", lang).format(passages=format_sources(sources))
        citations = CitationFilter({s.n for s in sources})
        parts: list[str] = []
        for token in self._stream([SystemMessage(system), HumanMessage(question)]):
            clean = citations.feed(token)
            if clean:
                parts.append(clean)
                if on_token:
                    on_token(clean)
        rest = citations.flush()
        if rest:
            parts.append(rest)
            if on_token:
                on_token(rest)
        text = tidy("".join(parts))
        if not text:
            raise GenerationFailed("empty answer from the LLM")
        if not citations.used:
            raise GenerationFailed("the LLM answer cited no passage")
        return text, citations.used
