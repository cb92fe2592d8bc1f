"""The `Assistant` service: the one object the CLI, the chat, the API and the tests use.

It loads the embedder and the index once per process, and answers a question
(with its conversation history) with a cited, extractive answer or a polite refusal.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from assistant import messages
from assistant.answer import ENUMERATION, Composer
from assistant.embeddings import AnyEmbedder, make_embedder
from assistant.glossary import load_glossary
from assistant.index import (
    CorpusInvalid,
    IndexUnavailable,
    Progress,
    files_digest,
    load_index,
    read_manifest,
    reset_index,
    update_index,
)
from assistant.language import FUNCTION_WORDS, detect_language, is_other_language, warm_up
from assistant.lexical import words
from assistant.llm import EventLoopThread, GenerationFailed, Generator, Source, make_chat_model
from assistant.retrieval import Retriever, defined_acronyms
from assistant.schema import AskResult, CitationOut
from assistant.scope import OutOfScopeExamples, Vocabulary
from assistant.settings import Settings, get_settings
from assistant.smalltalk import load_smalltalk

log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff\ud800-\udfff]")
# Markup pasted into a question (from a web page, or an attack) is noise to search and language detection;
# the chat shows the message as text, so removing it here hides nothing from the user.
_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<!--.*?(?:-->|$)|</?[a-zA-Z][^<>]*>", re.DOTALL)
HISTORY_TURNS = 3
# A short question opening like this, naming a cluster, asks the previous question again for that cluster.
ELLIPSIS = re.compile(
    r"^\W*(und|and|what about|how about|was ist mit|wie (ist|sieht) es (mit|bei)|und (bei|beim|für)|and (for|in))\b",
    re.IGNORECASE,
)
ELLIPSIS_FILLERS = frozenset("cluster clusters clustern hamburg hamburger hamburgs beim bei mit".split())
_TOKENS = re.compile(r"[\w@&.-]+")
_ALNUM_RUN = re.compile(r"[^\W_]+")


def has_word(text: str) -> bool:
    """Whether a text holds a word: two or more letters and digits with a letter ("KI", "5G"), not "???" or "á́́"."""
    return any(len(run) >= 2 and any(ch.isalpha() for ch in run) for run in _ALNUM_RUN.findall(text))


def clean_question(text: str, limit: int) -> tuple[str, bool]:
    """Normalised question without markup or control characters, cut to `limit` characters; True when cut."""
    raw_cut = len(text or "") > 4 * limit  # no normalising or markup removal on megabytes (markup may shrink it)
    text = unicodedata.normalize("NFKC", (text or "")[: 4 * limit])
    text = _TAG.sub(" ", _SCRIPT.sub(" ", text))
    text = _CONTROL.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > limit:
        return text[:limit].rstrip(), True
    return text, raw_cut


@dataclass
class Turn:
    """One question on its way through the stages."""

    question: str
    history: list[str]
    lang: str
    notes: list[str]
    started: float
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class Redo:
    """Answer another question instead: (question, history, language)."""

    args: tuple[str, list[str], str | None]


@dataclass
class Found:
    """What retrieval found for a question in scope, as the answer stages need it."""

    passages: list
    sentence_vector: np.ndarray
    searchable: str
    topics: list[str]


async def _inline(fn: Callable, *args):
    """Run a stage right here (the synchronous `ask`: CLI, evaluation, tests)."""
    return fn(*args)


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


class Assistant:
    """Answers questions about Hamburg's cluster policy from the indexed corpus."""

    def __init__(
        self,
        settings: Settings | None = None,
        embedder: AnyEmbedder | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.embedder = embedder or make_embedder(
            self.settings.embedder,
            self.settings.embedder_prefixes,
            self.settings.embedder_threads,
            self.settings.max_query_tokens,
        )
        self.index_update = None
        self.index = self._open_index(progress)
        self.retriever = Retriever(self.index, self.settings)
        self.composer = Composer(self.index, self.retriever, self.settings)
        self.glossary = load_glossary(self.settings.corpus_dir / "glossary.yaml")
        self.smalltalk = load_smalltalk(messages.PROMPTS_DIR / "smalltalk.yaml")
        # the glossary's terms are domain words too ("who pays" = "financed"), though no passage uses them
        glossary_terms = (" ".join(group) for group in self.glossary.expansions)
        passages = (f"{c.context} {c.text}" for c in self.index.chunks)
        self.vocabulary = Vocabulary(itertools.chain(passages, glossary_terms))
        self.glossary = self.glossary.knowing(self.vocabulary.is_word)
        self.out_of_scope = OutOfScopeExamples.from_file(
            self.settings.corpus_dir / "out_of_scope.yaml", self.embedder.embed_query_vector
        )
        self._workers = ThreadPoolExecutor(max_workers=self.settings.ask_workers, thread_name_prefix="ask")
        model = make_chat_model(self.settings)
        self.generator = Generator(self.settings, model) if model is not None else None
        self._llm = EventLoopThread("llm") if self.generator else None
        warm_up()

    def _open_index(self, progress: Progress | None):
        """The index, built or updated first when AUTO_INDEX allows; a damaged one is rebuilt from scratch."""
        s = self.settings
        if not s.auto_index:
            return load_index(s, self.embedder)
        try:
            manifest = read_manifest(s)
            stale = (
                manifest is None
                or manifest.get("embedder") != self.embedder.id
                or manifest.get("files_digest") != files_digest(s)
            )
            if stale:
                self.index_update = update_index(s, self.embedder, progress)
            return load_index(s, self.embedder)
        except CorpusInvalid:
            raise  # nothing to rebuild from; the index stays as it is
        except IndexUnavailable as exc:
            if s.chroma_host:
                # the vectors on a Chroma server are shared by every replica and the server may only be away for a
                # moment: only this replica's own files are built again (from the vectors already there)
                log.warning("The index's local files are not usable, so they are rebuilt: %s", exc)
                reset_index(s, vectors=False)
                self.index_update = update_index(s, self.embedder, progress)
                self.index_update.rebuilt_because = f"local index files unusable ({exc})"
            else:
                log.warning("The index is not usable, so it is rebuilt: %s", exc)
                self.index_update = update_index(s, self.embedder, progress, rebuild=True)
            return load_index(s, self.embedder)

    @property
    def chunk_count(self) -> int:
        return len(self.index.chunks)

    def index_ok(self) -> bool:
        """Whether the index answers and holds a vector for every passage (for health checks)."""
        try:
            return self.index.collection.count() == len(self.index.chunks) and len(self.index.sentence_ids) > 0
        except Exception:  # noqa: BLE001 - an unreachable Chroma server or a damaged file: not usable
            log.exception("index check failed")
            return False

    def _language(self, question: str, history: Sequence[str], requested: str | None, fallback: str | None) -> str:
        if requested in ("de", "en"):
            return requested
        for text in (question, *reversed(history)):
            lang = detect_language(text)
            if lang:
                return lang
        return fallback if fallback in ("de", "en") else self.settings.default_language

    def ask(
        self,
        question: str,
        history: Sequence[str] = (),
        language: str | None = None,
        fallback_language: str | None = None,
        on_token: Callable[[str], None] | None = None,
        truncated: bool = False,
    ) -> AskResult:
        """Answer one question; `history` holds the user's earlier questions, oldest first.

        `language` forces the answer language; otherwise it follows the question, then the conversation,
        then `fallback_language` (e.g. the browser's language), then DEFAULT_LANGUAGE. With an LLM
        configured, `on_token` receives the generated text as it is released (sentence by sentence, once
        cited); the returned result is authoritative. `truncated` says the caller already cut the question.
        For async callers use `aask`.
        """
        return asyncio.run(self._answer(question, history, language, fallback_language, on_token, truncated, _inline))

    async def aask(
        self,
        question: str,
        history: Sequence[str] = (),
        language: str | None = None,
        fallback_language: str | None = None,
        on_token: Callable[[str], None] | None = None,
        truncated: bool = False,
    ) -> AskResult:
        """`ask` for async callers: the CPU stages run in the bounded worker pool (at most ASK_WORKERS questions
        compete for the CPU, the event loop never blocks), and waiting for an LLM holds no worker."""
        return await self._answer(question, history, language, fallback_language, on_token, truncated, self._in_pool)

    async def _in_pool(self, fn: Callable, *args):
        return await asyncio.get_running_loop().run_in_executor(self._workers, functools.partial(fn, *args))

    async def _answer(
        self,
        question: str,
        history: Sequence[str],
        language: str | None,
        fallback_language: str | None,
        on_token: Callable[[str], None] | None,
        truncated: bool,
        run: Callable,
    ) -> AskResult:
        """The stages of one answer: prepare, (rewrite), retrieve and gate, then generate or compose.

        One deadline (LLM_TOTAL_TIMEOUT from the start) bounds everything an LLM does for the question,
        the follow-up rewrite included; when it passes, the extractive answer is given.
        """
        deadline = time.monotonic() + self.settings.llm_total_timeout
        prepared = await run(self._prepare, question, history, language, fallback_language, truncated)
        if isinstance(prepared, AskResult):
            return prepared
        if isinstance(prepared, Redo):  # "auf Englisch, bitte": the previous question again, in that language
            return await self._answer(*prepared.args, None, on_token, False, run)
        turn = prepared
        if self.generator and turn.history:  # with an LLM, a follow-up becomes a standalone question first
            t = time.perf_counter()
            rewritten = await self._llm.run(self.generator.rewrite(turn.question, turn.history, turn.lang, deadline))
            turn.timings["rewrite"] = (time.perf_counter() - t) * 1000
            if rewritten != turn.question:
                log.debug("follow-up rewritten for retrieval")
                turn.question, turn.history = rewritten, []
        found = await run(self._retrieve, turn)
        if isinstance(found, AskResult):
            return found
        fallback_reason = None
        if self.generator:
            t = time.perf_counter()
            try:
                generated = await self._generate(turn, found, deadline, on_token)
            except GenerationFailed as exc:
                fallback_reason = exc.reason
                log.warning("LLM answer not used (%s), falling back to the extractive answer", exc.reason)
                turn.timings["generation"] = (time.perf_counter() - t) * 1000
            else:
                turn.timings["generation"] = (time.perf_counter() - t) * 1000
                return generated
        return await run(self._compose, turn, found, fallback_reason)

    def _prepare(
        self,
        question: str,
        history: Sequence[str],
        language: str | None,
        fallback_language: str | None,
        truncated: bool,
    ) -> Turn | Redo | AskResult:
        """Clean the question, tell its language, and answer what needs no search (empty input, small talk)."""
        s = self.settings
        started = time.perf_counter()
        timings: dict[str, float] = {}
        question, cut = clean_question(question, s.max_question_chars)
        history = [h for h in (clean_question(h, s.max_question_chars)[0] for h in history) if h]
        history = [h for h in history if not self.smalltalk.match(h)][-HISTORY_TURNS:]  # "Danke!" is no context
        chat = self.smalltalk.match(question)
        if chat and chat.kind == "language" and history:
            return Redo((history[-1], history[:-1], chat.lang))
        message = question  # the whole message tells the language: "Hey there, which clusters exist? Thanks!"
        if not chat:  # "Hallo, welche Cluster ...?": the greeting is no part of the question
            question = self.smalltalk.strip(question)

        t = time.perf_counter()
        other_language = (
            language not in ("de", "en")
            and is_other_language(question)
            # words of our own corpus are German or English, whatever lingua makes of "wasserstoff cluster hamburg"
            and self.vocabulary.check(question).unknown_share > 0.5
        )
        lang = "en" if other_language else self._language(message, history, language, fallback_language)
        timings["language"] = (time.perf_counter() - t) * 1000
        notes = [messages.text(lang, "question_truncated", limit=s.max_question_chars)] if cut or truncated else []
        if other_language:  # e.g. French: answered in English, and the user is told why
            notes.append(messages.text("en", "other_language_note"))
        if not has_word(question):  # empty, only digits and punctuation ("???"), or no word of two letters
            return self._refusal(lang, started, timings, key="empty_question")
        if chat:  # "Hallo", "Danke!", "bye": a friendly reply, not a search that ends in "nothing found"
            forced = language if language in ("de", "en") else None
            reply_lang = (chat.lang if chat.kind == "language" else forced or chat.lang) or lang
            return self._refusal(reply_lang, started, timings, key=f"smalltalk_{chat.kind}", mode="smalltalk")
        return Turn(question=question, history=history, lang=lang, notes=notes, started=started, timings=timings)

    def _retrieve(self, turn: Turn) -> Found | AskResult:
        """Search the index for the question (a follow-up with its context) and refuse what is out of scope."""
        s, question, history, lang, timings = self.settings, turn.question, turn.history, turn.lang, turn.timings
        searchable = self.vocabulary.corrected(question)  # typos mended for search; answers keep the question
        own_topics = self.glossary.topics_in(searchable)
        carried: list[str] = []
        if history and not own_topics:
            for earlier in reversed(history):
                carried = self.glossary.topics_in(earlier)
                if carried:
                    break
        follow_up = bool(history) and not own_topics
        topics = own_topics or carried or ["policy"]  # no cluster named: a question about the policy as a whole
        if history and own_topics:
            searchable = self._resolve_ellipsis(searchable, history[-1], own_topics[0], lang)

        t = time.perf_counter()
        query_vector = self.embedder.embed_query_vector(searchable)
        search_vector, sentence_vector, keyword_text = query_vector, query_vector, searchable
        if follow_up:
            history_vector = self.embedder.embed_query_vector(history[-1])
            search_vector = _unit(query_vector + s.follow_up_weight * history_vector)
            sentence_vector = _unit(query_vector + 0.5 * s.follow_up_weight * history_vector)
            keyword_text = f"{searchable} {history[-1]}"
        timings["query_embedding"] = (time.perf_counter() - t) * 1000

        result = self.retriever.search(
            search_vector,
            keyword_text,
            lang,
            topics=topics,
            extra_terms=self.glossary.expand(keyword_text),
            sentence_vector=sentence_vector,
        )
        timings.update(result.timings_ms)
        scope = self.vocabulary.check(question)
        # a cluster or a glossary term ("KI", "AI", too short to count as a word) is evidence of being in scope
        in_domain = own_topics or carried or self.glossary.expand(searchable)
        required = s.min_relevance + s.scope_penalty * scope.unknown_share * (0.5 if in_domain else 1.0)
        off_topic, _example = self.out_of_scope.closest(query_vector)
        if (
            not result.passages
            or result.best_cosine < required
            or off_topic - result.best_cosine > s.out_of_scope_margin
        ):
            return self._refusal(lang, turn.started, timings, notes=turn.notes)
        return Found(
            passages=result.passages, sentence_vector=sentence_vector, searchable=searchable, topics=own_topics
        )

    def _compose(self, turn: Turn, found: Found, fallback_reason: str | None) -> AskResult:
        """The extractive answer: cited sentences of the passages found."""
        t = time.perf_counter()
        composition = self.composer.compose(
            found.sentence_vector,
            found.passages,
            turn.lang,
            enumeration=bool(ENUMERATION.search(turn.question)),
            topics=found.topics,
            defined=defined_acronyms(found.searchable, self.retriever.acronyms),
        )
        turn.timings["answer"] = (time.perf_counter() - t) * 1000
        if not composition.citations:
            return self._refusal(turn.lang, turn.started, turn.timings, notes=turn.notes)
        turn.timings["total"] = (time.perf_counter() - turn.started) * 1000
        return AskResult(
            answer=composition.answer,
            language=turn.lang,
            refused=False,
            citations=[CitationOut(**vars(c)) for c in composition.citations],
            timings_ms={k: round(v, 2) for k, v in turn.timings.items()},
            notes=turn.notes,
            mode="extractive",
            fallback_reason=fallback_reason,
        )

    def _resolve_ellipsis(self, question: str, previous: str, topic: str, lang: str) -> str:
        """ "Und die Logistik?" after "Wer leitet das Luftfahrtcluster?" stands for "wer leitet das Logistik cluster?".

        Only a question that is an opener ("und", "what about") plus a cluster's name is rewritten; anything
        with its own content ("Und was macht davon das Finanzcluster genau?") stays as asked.
        """
        if not ELLIPSIS.match(question):
            return question
        rest = ELLIPSIS.sub("", question)
        leftover = words(self.glossary.mark_topics(rest))
        if not all(w in ELLIPSIS_FILLERS or w in FUNCTION_WORDS for w in leftover):
            return question
        named = [w for w in _TOKENS.findall(rest) if w.casefold() not in FUNCTION_WORDS]
        name = " ".join(named) or self.glossary.names[topic][lang]  # the user's own words: "Food Cluster"
        return self.glossary.for_topic(previous, name)

    async def _generate(
        self, turn: Turn, found: Found, deadline: float, on_token: Callable[[str], None] | None
    ) -> AskResult:
        """A generated answer citing only the passages it was given, renumbered in order of use."""
        assert self.generator is not None
        sources = self.composer.citations_for(found.passages, turn.lang, self.settings.llm_passages)
        generated = await self._llm.run(
            self.generator.answer(
                turn.question, turn.lang, [Source(c.n, c.title, c.section, c.text) for c in sources], deadline, on_token
            )
        )
        by_number = {c.n: c for c in sources}
        citations = [CitationOut(**{**vars(by_number[old]), "n": new}) for new, old in enumerate(generated.used, 1)]
        notes = list(turn.notes)
        if generated.cut_short:
            notes.append(messages.text(turn.lang, "llm_cut_short"))
        turn.timings["total"] = (time.perf_counter() - turn.started) * 1000
        return AskResult(
            answer=generated.text,
            language=turn.lang,  # type: ignore[arg-type]
            refused=False,
            citations=citations,
            mode="llm",
            notes=notes,
            timings_ms={k: round(v, 2) for k, v in turn.timings.items()},
        )

    def _refusal(
        self,
        lang: str,
        started: float,
        timings: dict[str, float],
        key: str = "refusal",
        notes: list[str] | None = None,
        mode: str = "extractive",
    ) -> AskResult:
        """A reply without sources: a refusal, the empty-question hint, or a reply to small talk."""
        timings["total"] = (time.perf_counter() - started) * 1000
        return AskResult(
            answer=messages.text(lang, key),
            language=lang,  # type: ignore[arg-type]
            refused=True,
            citations=[],
            timings_ms={k: round(v, 2) for k, v in timings.items()},
            notes=notes or [],
            mode=mode,  # type: ignore[arg-type]
        )
