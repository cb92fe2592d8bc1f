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

import numpy as np

from assistant import messages
from assistant.answer import ENUMERATION, Composer
from assistant.embeddings import AnyEmbedder, make_embedder
from assistant.glossary import load_glossary
from assistant.index import (
    IndexUnavailable,
    Progress,
    files_digest,
    load_index,
    read_manifest,
    update_index,
)
from assistant.language import FUNCTION_WORDS, detect_language, is_other_language, warm_up
from assistant.lexical import words
from assistant.llm import CITATION, GenerationFailed, Generator, Source, make_chat_model
from assistant.retrieval import Retriever, defined_acronyms
from assistant.schema import AskResult, CitationOut
from assistant.scope import OutOfScopeExamples, Vocabulary
from assistant.settings import Settings, get_settings
from assistant.smalltalk import load_smalltalk

log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
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
    text = unicodedata.normalize("NFKC", text or "")
    text = _TAG.sub(" ", _SCRIPT.sub(" ", text))
    text = _CONTROL.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > limit:
        return text[:limit].rstrip(), True
    return text, False


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
        self.out_of_scope = OutOfScopeExamples.from_file(
            self.settings.corpus_dir / "out_of_scope.yaml", self.embedder.embed_query_vector
        )
        self._workers = ThreadPoolExecutor(max_workers=self.settings.ask_workers, thread_name_prefix="ask")
        model = make_chat_model(self.settings)
        self.generator = Generator(self.settings, model) if model is not None else None
        warm_up()

    def _open_index(self, progress: Progress | None):
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
        except IndexUnavailable as exc:
            log.warning("Index not usable (%s); rebuilding it", exc)
            self.index_update = update_index(s, self.embedder, progress, rebuild=True)
            return load_index(s, self.embedder)

    async def aask(self, *args, **kwargs) -> AskResult:
        """`ask` for async callers: runs in the bounded worker pool, so the event loop never blocks and
        at most ASK_WORKERS questions compete for the CPU while the rest wait their turn."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._workers, functools.partial(self.ask, *args, **kwargs))

    @property
    def chunk_count(self) -> int:
        return len(self.index.chunks)

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
    ) -> AskResult:
        """Answer one question; `history` holds the user's earlier questions, oldest first.

        `language` forces the answer language; otherwise it follows the question, then the conversation,
        then `fallback_language` (e.g. the browser's language), then DEFAULT_LANGUAGE. With an LLM
        configured, `on_token` receives the generated text as it streams in; the returned result is
        authoritative (it may be the extractive fallback).
        """
        s = self.settings
        started = time.perf_counter()
        timings: dict[str, float] = {}
        question, truncated = clean_question(question, s.max_question_chars)
        history = [h for h in (clean_question(h, s.max_question_chars)[0] for h in history) if h]
        history = [h for h in history if not self.smalltalk.match(h)][-HISTORY_TURNS:]  # "Danke!" is no context
        chat = self.smalltalk.match(question)
        if chat and chat.kind == "language" and history:  # "auf Englisch, bitte": the last question again
            return self.ask(history[-1], history[:-1], language=chat.lang, on_token=on_token)
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
        notes = [messages.text(lang, "question_truncated", limit=s.max_question_chars)] if truncated else []
        if other_language:  # e.g. French: answered in English, and the user is told why
            notes.append(messages.text("en", "other_language_note"))
        if not has_word(question):  # empty, only digits and punctuation ("???"), or no word of two letters
            return self._refusal(lang, started, timings, key="empty_question")
        if chat:  # "Hallo", "Danke!", "bye": a friendly reply, not a search that ends in "nothing found"
            forced = language if language in ("de", "en") else None
            reply_lang = (chat.lang if chat.kind == "language" else forced or chat.lang) or lang
            return self._refusal(reply_lang, started, timings, key=f"smalltalk_{chat.kind}", mode="smalltalk")

        if self.generator and history:  # with an LLM, a follow-up becomes a standalone question first
            t = time.perf_counter()
            rewritten = self.generator.rewrite(question, history, lang)
            timings["rewrite"] = (time.perf_counter() - t) * 1000
            if rewritten != question:
                log.debug("follow-up rewritten for retrieval")
                question, history = rewritten, []

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
            return self._refusal(lang, started, timings, notes=notes)

        fallback_reason = None
        if self.generator:
            t = time.perf_counter()
            try:
                generated = self._generate(question, lang, result.passages, on_token)
            except GenerationFailed as exc:
                fallback_reason = str(exc)
                log.warning("LLM answer not used, falling back to the extractive answer: %s", fallback_reason)
            else:
                timings["generation"] = (time.perf_counter() - t) * 1000
                timings["total"] = (time.perf_counter() - started) * 1000
                return generated.model_copy(
                    update={
                        "language": lang,
                        "notes": notes,
                        "timings_ms": {k: round(v, 2) for k, v in timings.items()},
                    }
                )
            timings["generation"] = (time.perf_counter() - t) * 1000

        t = time.perf_counter()
        composition = self.composer.compose(
            sentence_vector,
            result.passages,
            lang,
            enumeration=bool(ENUMERATION.search(question)),
            topics=own_topics,
            defined=defined_acronyms(searchable, self.retriever.acronyms),
        )
        timings["answer"] = (time.perf_counter() - t) * 1000
        if not composition.citations:
            return self._refusal(lang, started, timings, notes=notes)
        timings["total"] = (time.perf_counter() - started) * 1000
        return AskResult(
            answer=composition.answer,
            language=lang,
            refused=False,
            citations=[CitationOut(**vars(c)) for c in composition.citations],
            timings_ms={k: round(v, 2) for k, v in timings.items()},
            notes=notes,
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
        leftover = words(self.glossary.mark_topics(rest, whole_words=True))
        if not all(w in ELLIPSIS_FILLERS or w in FUNCTION_WORDS for w in leftover):
            return question
        named = [w for w in _TOKENS.findall(rest) if w.casefold() not in FUNCTION_WORDS]
        name = " ".join(named) or self.glossary.names[topic][lang]  # the user's own words: "Food Cluster"
        return self.glossary.for_topic(previous, name)

    def _generate(self, question: str, lang: str, passages, on_token: Callable[[str], None] | None) -> AskResult:
        """A generated answer citing only the passages it was given, renumbered in order of use."""
        sources = self.composer.citations_for(passages, lang, self.settings.llm_passages)
        text, used = self.generator.answer(
            question, lang, [Source(c.n, c.title, c.section, c.text) for c in sources], on_token
        )
        renumber = {old: new for new, old in enumerate(used, start=1)}
        text = CITATION.sub(lambda m: f"[{renumber[int(m.group(1))]}]", text)
        by_number = {c.n: c for c in sources}
        citations = [CitationOut(**{**vars(by_number[old]), "n": new}) for old, new in renumber.items()]
        return AskResult(answer=text, language=lang, refused=False, citations=citations, mode="llm")

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
