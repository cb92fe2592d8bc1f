"""The one object an answer's stages pass along: what each stage found out about the question.

prepare -> understand -> retrieve -> gate -> answer (assistant/service.py runs them in this order). Each stage
reads what the stages before it wrote and writes its own part; none reaches into another stage's internals.
A stage that can already answer (small talk, an empty question, a refusal) sets `reply` and the rest is skipped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from assistant.retrieval import RetrievalResult
    from assistant.schema import AskResult


@dataclass
class QuestionPart:
    """One of the things a question asks, with its own vector and named clusters (assistant/question_parts.py)."""

    text: str
    vector: np.ndarray
    topics: list[str]


@dataclass
class Query:
    """What the understand stage makes of a question for search (written by assistant/understand.py)."""

    searchable: str  # the question with typos mended and an elliptical follow-up completed
    keyword_text: str  # what BM25 searches (a follow-up adds the previous question)
    extra_terms: list[str]  # the other language's glossary terms
    topics: list[str]  # clusters the question itself names
    carried: list[str]  # clusters of the conversation, for a follow-up that names none
    query_vector: np.ndarray  # the question alone
    search_vector: np.ndarray  # the question with the conversation's weight, for passages
    sentence_vector: np.ndarray  # the same with half that weight, for choosing sentences
    enumeration: bool  # asks for a list ("Welche Cluster …?"): lists are quoted whole
    in_domain: bool  # the question or its conversation names a cluster, or the question a glossary term ("KI")
    other_places: list[str] = field(default_factory=list)  # regions other than Hamburg the question names
    parts: list[QuestionPart] = field(default_factory=list)  # a question asking two or more things: each of them

    @property
    def search_topics(self) -> list[str]:
        """The clusters to prefer: named, else carried over, else the policy as a whole."""
        return self.topics or self.carried or ["policy"]


@dataclass
class Gate:
    """The scope gate's decision and the figures behind it (assistant/scope.py), kept for sweeps and logs."""

    best_cosine: float  # the best passage's dense similarity
    required: float  # what it had to reach: MIN_RELEVANCE raised by the share of unknown words
    unknown_share: float
    off_topic: float  # similarity of the closest out-of-scope example
    refused: bool
    other_region: str | None = None  # refused because the question is about this region, not Hamburg
    request: str | None = None  # refused because it asks for live data or a personal decision (request_kind.py)


@dataclass
class Turn:
    """One question on its way through the stages."""

    question: str  # as asked, after cleaning (prepare)
    history: list[str]  # the user's earlier questions that are context, oldest first
    lang: str = "en"
    notes: list[str] = field(default_factory=list)
    query: Query | None = None
    found: RetrievalResult | None = None
    defined: list[str] = field(default_factory=list)  # abbreviations the question asks to be spelled out
    gate: Gate | None = None
    reply: AskResult | None = None  # set by a stage that has answered already
    redo: tuple[str, list[str], str] | None = None  # answer (question, history, language) instead
    started: float = field(default_factory=time.perf_counter)
    timings: dict[str, float] = field(default_factory=dict)

    def timed(self, name: str, since: float) -> None:
        """Record a stage's time in milliseconds."""
        self.timings[name] = (time.perf_counter() - since) * 1000

    def rounded_timings(self) -> dict[str, float]:
        self.timings["total"] = (time.perf_counter() - self.started) * 1000
        return {k: round(v, 2) for k, v in self.timings.items()}
