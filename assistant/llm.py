"""Generated answers from an LLM (OpenAI-compatible or Ollama), grounded in numbered passages.

The LLM only phrases what the retrieved passages say; its citations are checked
afterwards and any failure (no valid citation, empty text, provider error,
timeout) makes the caller fall back to the extractive answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import httpx
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from assistant.messages import PROMPTS_DIR
from assistant.sentences import ends_in_abbreviation
from assistant.settings import Settings

log = logging.getLogger(__name__)
CITATION = re.compile(r"\[(\d+)\]")


# Why a configured LLM's answer was not used (AskResult.fallback_reason); details go to the log only.
REASONS = ("timeout", "unreachable", "provider_error", "malformed_response", "empty_answer", "no_citation")


class GenerationFailed(RuntimeError):
    """The LLM gave nothing usable; `reason` is one of REASONS, `detail` is for the server log."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class Source:
    """A numbered passage handed to the LLM."""

    n: int
    title: str
    section: str
    text: str


class Numbered(Protocol):
    """What the LLM is shown of a passage (a Source, or the composer's Citation)."""

    n: int
    title: str
    section: str
    text: str


N = TypeVar("N", bound=Numbered)


def renumbered(sources: Sequence[N], used: Sequence[int]) -> list[N]:
    """The sources a generated answer cites, numbered 1, 2, … in the order the answer shows them
    (`Generated.used`), as the renumbered answer text does."""
    by_number = {s.n: s for s in sources}
    return [dataclasses.replace(by_number[old], n=new) for new, old in enumerate(used, start=1)]  # type: ignore[type-var]


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


PLACEHOLDERS = {"answer": "passages", "rewrite": "history"}


def _prompt(name: str, lang: str, folder: Path) -> str:
    return (folder / f"{name}.{lang}.md").read_text(encoding="utf-8")


def fill(template: str, name: str, value: str) -> str:
    """The prompt with its one placeholder filled; other braces in the file ("{", JSON examples) stay as written."""
    return template.replace("{" + name + "}", value)


def check_prompts(folder: Path = PROMPTS_DIR) -> None:
    """Every prompt file exists and holds its placeholder; else a ValueError naming the file (said at start-up)."""
    for name, placeholder in PLACEHOLDERS.items():
        for lang in ("de", "en"):
            path = folder / f"{name}.{lang}.md"
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ValueError(f"prompt file {path} is unreadable: {exc.strerror}") from exc
            if "{" + placeholder + "}" not in text:
                raise ValueError(f"prompt file {path} lacks the placeholder {{{placeholder}}}")


def format_sources(sources: Sequence[Numbered]) -> str:
    return "\n\n".join(f"[{s.n}] {s.title} – {s.section}\n{s.text}" for s in sources)


class CitationFilter:
    """Drops citation markers that name no passage, also while tokens stream in.

    A "[" starts holding text back until the marker closes (or clearly is no marker), so an invalid
    "[7]" never reaches the user even mid-stream; removal repeats until nothing changes, so that
    "[1[7]0]" cannot turn into a "[10]" that names no passage.
    """

    def __init__(self, valid: set[int]) -> None:
        self.valid = valid
        self.pending = ""

    def _clean(self, text: str) -> str:
        while True:
            cleaned = CITATION.sub(lambda m: m.group(0) if int(m.group(1)) in self.valid else "", text)
            if cleaned == text:
                return cleaned
            text = cleaned

    def feed(self, token: str) -> str:
        text = self._clean(self.pending + token)
        open_marker = _OPEN_MARKER.search(text)  # "…[1" may still become "[12]": hold it back
        self.pending, text = (text[open_marker.start() :], text[: open_marker.start()]) if open_marker else ("", text)
        return text

    def flush(self) -> str:
        text, self.pending = self.pending, ""
        return self._clean(text)


_OPEN_MARKER = re.compile(r"\[\d{0,3}$")


def tidy(text: str) -> str:
    """Remove spaces left before punctuation where markers were dropped."""
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)
    return re.sub(r"[ \t]{2,}", " ", text)


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def _sentence_ends(text: str) -> list[tuple[int, int]]:
    """(end of sentence, start of the next) for every complete sentence of streamed text: at a line break, or
    after . ! ? followed by white space unless the dot ends an abbreviation ("z. B.", "e.V.")."""
    ends, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if match.group(0).startswith("\n") or not ends_in_abbreviation(text[start : match.start()]):
            ends.append((match.start(), match.end()))
            start = match.end()
    return ends


class CitedRelease:
    """Lets generated text out sentence by sentence, and only sentences that carry a valid citation.

    A sentence is held until it is complete; it goes out if it cites a passage and is dropped if it
    does not (the prompt asks for a citation in every sentence and list item). So a stream can be cut
    off at any point and what the user saw is cited, sentence for sentence. Citation numbers are
    renumbered in order of first use as they go out, so the text a client streamed is the final text.
    """

    def __init__(self) -> None:
        self.pending = ""
        self.released: list[str] = []
        self.renumber: dict[int, int] = {}  # passage number given to the LLM -> number shown

    def feed(self, text: str) -> str:
        """Take more text; return the complete, cited sentences that may go out now."""
        self.pending += text
        out, start = [], 0
        for end, following in _sentence_ends(self.pending):
            out.append(self._take(self.pending[start:end]))
            start = following
        self.pending = self.pending[start:]
        return "".join(out)

    def finish(self) -> str:
        """The last sentence, if it cites a passage."""
        text, self.pending = self.pending, ""
        return self._take(text)

    def _take(self, sentence: str) -> str:
        sentence = tidy(sentence).strip()
        if not CITATION.search(sentence):
            return ""

        def number(match: re.Match[str]) -> str:
            return f"[{self.renumber.setdefault(int(match.group(1)), len(self.renumber) + 1)}]"

        out = ("\n" if sentence.startswith("- ") else " ") + CITATION.sub(number, sentence) if self.released else ""
        out = out or CITATION.sub(number, sentence)
        self.released.append(out)
        return out

    @property
    def text(self) -> str:
        return "".join(self.released)

    @property
    def used(self) -> list[int]:
        """The passage numbers cited, in the order of the numbers shown."""
        return sorted(self.renumber, key=self.renumber.__getitem__)


@dataclass
class Generated:
    """A generated answer: its text, the passage numbers it cites in order, and whether it was cut short."""

    text: str  # citations already renumbered 1, 2, … in order of use
    used: list[int]  # the passage numbers given to the LLM, in the order of the numbers shown
    cut_short: str | None = None  # the reason the stream ended early, if it did after cited text went out


def _reason(exc: BaseException) -> GenerationFailed:
    """A provider exception as a reason code (the class name and message only reach the log)."""
    if isinstance(exc, GenerationFailed):
        return exc
    name = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException | TimeoutError) or "Timeout" in name:
        return GenerationFailed("timeout", name)
    if isinstance(exc, json.JSONDecodeError) or "JSONDecode" in name:
        return GenerationFailed("malformed_response", name)
    if "Connect" in name:
        return GenerationFailed("unreachable", f"{name}: {str(exc)[:200]}")
    return GenerationFailed("provider_error", f"{name}: {str(exc)[:200]}")


class EventLoopThread:
    """An event loop of its own in a daemon thread, where every LLM request of a process runs.

    The async LLM clients keep their connections on one loop; the synchronous `ask` (CLI, tests)
    and the server's loop both hand their requests over to this one, and waiting for an LLM there
    occupies no worker of the CPU pool.
    """

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    async def run(self, coro):
        """Await `coro` on this loop from any other loop; cancelling the caller cancels it there too."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))


class Generator:
    """Rewrites follow-ups and writes cited answers with a chat model, within one deadline per question."""

    def __init__(self, settings: Settings, model: BaseChatModel) -> None:
        self.settings = settings
        self.model = model
        self.prompts = settings.llm_prompts_dir
        check_prompts(self.prompts)
        self._slots = asyncio.Semaphore(settings.llm_concurrency)  # used on the LLM loop only

    async def _stream(self, messages: list, deadline: float) -> AsyncIterator[str]:
        """The model's text as it streams, until `deadline` (loop time); any failure as GenerationFailed."""
        loop = asyncio.get_running_loop()
        if deadline <= loop.time():
            raise GenerationFailed("timeout", "no time left for the LLM")
        try:
            async with asyncio.timeout_at(deadline), self._slots:  # waiting for a slot counts against the deadline
                async for chunk in self.model.astream(messages):
                    text = chunk.content if isinstance(chunk.content, str) else ""
                    if text:
                        yield text
        except Exception as exc:  # noqa: BLE001 - any provider error means: fall back, and say why
            raise _reason(exc) from exc

    async def rewrite(self, question: str, history: Sequence[str], lang: str, deadline: float) -> str:
        """A standalone version of a follow-up question (the question itself on any failure)."""
        system = fill(_prompt("rewrite", lang, self.prompts), "history", "\n".join(f"- {h}" for h in history))
        try:
            text = "".join([t async for t in self._stream([SystemMessage(system), HumanMessage(question)], deadline)])
        except GenerationFailed as exc:
            log.info("follow-up rewrite failed (%s); using the question as asked", exc.reason)
            return question
        text = text.strip().strip('"„“”').splitlines()[0].strip() if text.strip() else ""
        return text if 3 <= len(text) <= 4 * max(len(question), 60) else question

    async def answer(
        self,
        question: str,
        lang: str,
        sources: Sequence[Numbered],
        deadline: float,
        on_token: Callable[[str], None] | None = None,
    ) -> Generated:
        """The cited answer, released to `on_token` sentence by sentence once cited.

        Raises GenerationFailed when nothing cited came back; a stream that fails after cited text
        went out ends there (`cut_short`), since that text already reached the user.
        """
        system = fill(_prompt("answer", lang, self.prompts), "passages", format_sources(sources))
        citations = CitationFilter({s.n for s in sources})
        release = CitedRelease()
        seen_text = False

        def emit(text: str) -> None:
            if text and on_token:
                on_token(text)

        cut_short = None
        try:
            async for token in self._stream([SystemMessage(system), HumanMessage(question)], deadline):
                clean = citations.feed(token)
                seen_text = seen_text or bool(clean.strip())
                emit(release.feed(clean))
            emit(release.feed(citations.flush()))
        except GenerationFailed as exc:
            if not release.released:
                raise
            log.warning("LLM stream ended early (%s: %s); keeping the cited part", exc.reason, exc.detail)
            cut_short = exc.reason
        else:
            emit(release.finish())
        text = release.text
        if not text:
            raise GenerationFailed("no_citation" if seen_text else "empty_answer")
        used = release.used
        return Generated(text=text, used=used, cut_short=cut_short)
