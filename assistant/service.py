"""The `Assistant` service: the one object the CLI, the chat, the API and the tests use.

It loads the embedder and the index once per process and answers a question (with its conversation history)
in named stages, each in the module named for its job, passing one `Turn` along (assistant/turn.py):

    prepare (prepare.py) -> understand (understand.py) -> retrieve (retrieval.py) -> gate (scope.py)
    -> answer: generated with citations (llm.py) when an LLM is configured, else extractive (answer.py)

The gate decides before any LLM call, the follow-up rewrite included. Collaborators can be injected
(tests pass their own embedder, index or chat model); by default they are built from the settings.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from langchain_core.language_models.chat_models import BaseChatModel

from assistant import messages
from assistant.answer import Composer
from assistant.business_topic import BusinessTopics
from assistant.embeddings import CachedQueries, Embedder, make_embedder
from assistant.enquiry import Enquiry, EnquiryAnswerer, as_enquiry
from assistant.glossary import load_glossary
from assistant.index import (
    CorpusInvalid,
    IndexUnavailable,
    LoadedIndex,
    Progress,
    UpdateSummary,
    files_digest,
    load_index,
    read_manifest,
    reset_index,
    update_index,
)
from assistant.language import warm_up, word_set
from assistant.llm import EventLoopThread, GenerationFailed, Generator, make_chat_model, renumbered
from assistant.places import places_by_topic
from assistant.prepare import Preparer
from assistant.replies import refusal
from assistant.retrieval import Retrieve, Retriever
from assistant.schema import AskResult, CitationOut
from assistant.scope import OutOfScopeExamples, ScopeGate, Vocabulary
from assistant.settings import Settings, get_settings
from assistant.smalltalk import load_smalltalk
from assistant.turn import Turn
from assistant.understand import Understander

log = logging.getLogger(__name__)
_UNSET = object()


async def _inline(fn: Callable, *args):
    """Run a stage right here (the synchronous `ask`: CLI, evaluation, tests)."""
    return fn(*args)


class Assistant:
    """Answers questions about Hamburg's cluster policy from the indexed corpus."""

    def __init__(
        self,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        progress: Progress | None = None,
        *,
        index: LoadedIndex | None = None,
        chat_model: BaseChatModel | None | object = _UNSET,
    ) -> None:
        """`index` is used as it is (no build or update); `chat_model` None means extractive answers only,
        unset means the one LLM_PROVIDER configures."""
        self.settings = s = settings or get_settings()
        model = embedder or make_embedder(s.embedder, s.embedder_prefixes, s.embedder_threads, s.max_query_tokens)
        self.embedder: Embedder = CachedQueries(model, s.query_cache_size) if s.query_cache_size else model
        self.index_update: UpdateSummary | None = None
        self.index = index or self._open_index(progress)
        self.retriever = Retriever(self.index, s)
        self.composer = Composer(self.index, self.retriever, s)
        self.business_topics = BusinessTopics(self.index, self.embedder, s.enquiry_topic_margin)
        glossary = load_glossary(s.corpus_dir / "glossary.yaml")
        # the glossary's terms are domain words too ("who pays" = "financed"), though no passage uses them
        glossary_terms = (" ".join(group) for group in glossary.expansions)
        passages = (f"{c.context} {c.text}" for c in self.index.chunks)
        self.vocabulary = Vocabulary(itertools.chain(passages, glossary_terms))
        self.glossary = glossary.knowing(self.vocabulary.is_word)
        examples = OutOfScopeExamples.from_file(s.corpus_dir / "out_of_scope.yaml", self.embedder.embed_query_vector)
        lang_words = {lang: word_set(c.text for c in self.index.chunks if c.lang == lang) for lang in ("de", "en")}
        self.prepare = Preparer(s, load_smalltalk(messages.PROMPTS_DIR / "smalltalk.yaml"), self.vocabulary, lang_words)
        self.understand = Understander(s, self.glossary, self.vocabulary, self.embedder)
        self.retrieve = Retrieve(self.retriever)
        places = places_by_topic(((c.topic, c.text) for c in self.index.chunks), is_word=self.vocabulary.is_word)
        self.gate = ScopeGate(s, self.vocabulary, examples, places)
        chat = make_chat_model(s) if chat_model is _UNSET else chat_model
        self.generator = Generator(s, chat) if isinstance(chat, BaseChatModel) else None
        self._llm = EventLoopThread("llm") if self.generator else None
        self._workers = ThreadPoolExecutor(max_workers=s.ask_workers, thread_name_prefix="ask")
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
        part_of_enquiry: bool = False,
    ) -> AskResult:
        """The stages of one answer. One deadline (LLM_TOTAL_TIMEOUT from the start) bounds everything an LLM
        does for the question, the follow-up rewrite included; when it passes, the extractive answer is given."""
        if not part_of_enquiry:
            # an enquiry over MAX_QUESTION_CHARS is cut like a question (its line breaks kept: they mark the signature)
            limit = self.settings.max_question_chars
            enquiry = as_enquiry(question[:limit], self.settings.enquiry_min_words)
            if enquiry is not None:
                cut = truncated or len(question) > limit
                return await self._answer_enquiry(enquiry, question[:limit], language, fallback_language, run, cut)
        deadline = time.monotonic() + self.settings.llm_total_timeout
        turn: Turn = await run(self.prepare, question, history, language, fallback_language, truncated)
        if turn.redo:  # "auf Englisch, bitte": the previous question again, in that language
            return await self._answer(*turn.redo, None, on_token, False, run)
        if turn.reply:
            return turn.reply
        turn = await run(self._search, turn)
        if turn.gate is None or turn.gate.refused:
            return refusal(turn)
        fallback_reason = None
        if self.generator:
            try:
                return await self._generate(turn, deadline, on_token, run)
            except GenerationFailed as exc:
                fallback_reason = exc.reason
                log.warning("LLM answer not used (%s), falling back to the extractive answer", exc.reason)
        return await run(self._compose, turn, fallback_reason)

    async def _answer_enquiry(
        self,
        enquiry: Enquiry,
        text: str,
        language: str | None,
        fallback_language: str | None,
        run: Callable,
        cut: bool,
    ) -> AskResult:
        """Each question of an enquiry through the same stages, its background as context; then the draft reply."""
        started = time.perf_counter()

        async def answer_one(question: str, history: list[str], lang: str) -> AskResult:
            return await self._answer(question, history, lang, fallback_language, None, False, run, True)

        def language_of(body: str, fallback: str | None) -> str:  # the same rule as for a question
            return self.prepare.language(body, (), None, fallback)

        def cluster_of(background: str) -> str | None:
            found = self.business_topics.of(background)
            return found.title if found else None

        answerer = EnquiryAnswerer(answer_one, language_of, cluster_of)
        result = await answerer.answer(enquiry, text, language, fallback_language)
        if cut:
            limit = self.settings.max_question_chars
            result.notes.append(messages.text(result.language, "question_truncated", limit=limit))
        result.timings_ms["total"] = round((time.perf_counter() - started) * 1000, 2)
        return result

    def _search(self, turn: Turn) -> Turn:
        """understand -> retrieve -> gate, one hop in the worker pool."""
        return self.gate(self.retrieve(self.understand(turn)))

    def _compose(self, turn: Turn, fallback_reason: str | None) -> AskResult:
        """The extractive answer: cited sentences of the passages found."""
        t = time.perf_counter()
        composition = self.composer.answer(turn)
        turn.timed("answer", t)
        if not composition.citations:
            return refusal(turn)
        return AskResult(
            answer=composition.answer,
            language=turn.lang,
            refused=False,
            more=composition.more,
            citations=[CitationOut(**vars(c)) for c in composition.citations],
            timings_ms=turn.rounded_timings(),
            notes=[*turn.notes, *composition.gaps],
            mode="extractive",
            fallback_reason=fallback_reason,
        )

    async def _generate(
        self, turn: Turn, deadline: float, on_token: Callable[[str], None] | None, run: Callable
    ) -> AskResult:
        """A generated answer citing only the passages it was given; a follow-up is first rewritten into a
        standalone question and searched again (the gate has already let it through)."""
        assert self.generator is not None and self._llm is not None
        t = time.perf_counter()
        try:
            if turn.history:
                rewritten = await self._llm.run(
                    self.generator.rewrite(turn.question, turn.history, turn.lang, deadline)
                )
                turn.timed("rewrite", t)
                if rewritten != turn.question:
                    log.debug("follow-up rewritten for retrieval")
                    again = await run(self._research, turn, rewritten)
                    if again.found and again.found.passages:
                        turn = again
            assert turn.found is not None
            sources = self.composer.citations_for(turn.found.passages, turn.lang, self.settings.llm_passages)
            generated = await self._llm.run(
                self.generator.answer(turn.question, turn.lang, sources, deadline, on_token)
            )
        finally:
            turn.timed("generation", t)
        notes = list(turn.notes)
        if generated.cut_short:
            notes.append(messages.text(turn.lang, "llm_cut_short"))
        return AskResult(
            answer=generated.text,
            language=turn.lang,
            refused=False,
            citations=[CitationOut(**vars(c)) for c in renumbered(sources, generated.used)],
            mode="llm",
            notes=notes,
            timings_ms=turn.rounded_timings(),
        )

    def _research(self, turn: Turn, question: str) -> Turn:
        """The turn searched again for a standalone question (no history), keeping its language and notes."""
        again = Turn(question=question, history=[], lang=turn.lang, notes=turn.notes, started=turn.started)
        again.timings = turn.timings
        return self.retrieve(self.understand(again))
