"""Hybrid retrieval: dense (Chroma) and BM25 ranks fused, passages merged across languages.

Every German document has an English translation with the same structure, so a
chunk and its translation form one logical passage: evidence found in either
language counts for both, and the passage is shown in the question's language.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.chunking import Chunk
from assistant.index import LoadedIndex
from assistant.lexical import normalize
from assistant.settings import Settings
from assistant.turn import Turn


@dataclass
class Passage:
    """A logical passage: one chunk per language, scored once."""

    key: str
    chunks: dict[str, Chunk]  # lang -> chunk
    score: float = 0.0
    cosine: float = 0.0  # best dense similarity among its chunks
    bm25: float = 0.0  # best BM25 score among its chunks
    sentence: float = 0.0  # best single-sentence cosine among its chunks

    def in_language(self, lang: str) -> Chunk:
        return self.chunks.get(lang) or next(iter(self.chunks.values()))

    @property
    def topic(self) -> str:
        return next(iter(self.chunks.values())).topic


@dataclass
class RetrievalResult:
    passages: list[Passage]
    best_cosine: float
    best_bm25: float
    timings_ms: dict[str, float] = field(default_factory=dict)


# A quoted phrase is at most QUOTE_CHARS long: unbounded, "„a„a„a…" made every opening quote scan to the end.
QUOTE_CHARS = 200
_Q = f"{{1,{QUOTE_CHARS}}}"
_QUOTES = re.compile(
    rf"„([^“”„]{_Q})[“”]|“([^”“]{_Q})”|\"([^\"]{_Q})\"|«([^»«]{_Q})»|»([^«»]{_Q})«|(?<!\w)'([^']{_Q})'(?!\w)"
)


def quoted_phrases(text: str) -> list[str]:
    """Normalised phrases the question puts in quotes (at least four characters)."""
    found = [next(g for g in m.groups() if g) for m in _QUOTES.finditer(text)]
    return [normalize(f).strip() for f in found if len(f.strip()) >= 4]


# "Wofür steht EEHH?", "what does MCN mean": the passage that spells the abbreviation out is the answer
DEFINITION = re.compile(
    r"stand(s)? for|steht\b.*\bfür|wofür steht|bedeut|hei(ß|ss)t|\bmean|abkürzung|abbreviation|acronym|akronym",
    re.IGNORECASE,
)
_ACRONYM = re.compile(r"(?<![\w@])[A-ZÄÖÜ][A-ZÄÖÜ0-9&]{1,5}(?![\w@])")


def defined_acronyms(text: str, known: set[str]) -> list[str]:
    """Abbreviations a definition question asks about, as the corpus writes them in brackets: "(eehh", " eehh)"."""
    if not DEFINITION.search(text):
        return []
    tokens = {normalize(t) for t in re.findall(r"[\wÄÖÜäöü&]{2,6}", text)}
    return sorted(p for t in tokens & known for p in (f"({t}", f" {t})"))  # "(EEHH)", "(…, EEHH)"


def passage_keys(chunks: Sequence[Chunk]) -> dict[str, str]:
    """Map chunk id -> passage key; a translation shares its original's key when structures match."""
    by_doc: dict[tuple[str, str], list[Chunk]] = defaultdict(list)
    for chunk in chunks:
        by_doc[(chunk.group, chunk.lang)].append(chunk)
    keys: dict[str, str] = {}
    for (group, lang), doc_chunks in by_doc.items():
        original = by_doc.get((group, "de"), [])
        parallel = lang == "de" or [c.kind for c in doc_chunks] == [c.kind for c in original]
        for chunk in doc_chunks:
            keys[chunk.id] = f"{group}#{chunk.position}" if parallel else chunk.id
    return keys


class Retriever:
    """Searches a loaded index; stateless per query, safe to share across threads."""

    def __init__(self, index: LoadedIndex, settings: Settings) -> None:
        self.index = index
        self.settings = settings
        self.keys = passage_keys(index.chunks)
        self.members: dict[str, dict[str, Chunk]] = defaultdict(dict)
        for chunk in index.chunks:
            self.members[self.keys[chunk.id]][chunk.lang] = chunk
        # abbreviations the corpus spells out in brackets ("Cluster Erneuerbare Energien Hamburg (EEHH)")
        self.acronyms = {normalize(a) for c in index.chunks for a in _ACRONYM.findall(c.text) if f"({a}" in c.text}

    def dense(self, query_vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first."""
        found = self.index.collection.query(query_embeddings=query_vector[None, :], n_results=k, include=["distances"])
        distances = found["distances"] or [[]]
        return [(chunk_id, 1.0 - float(d)) for chunk_id, d in zip(found["ids"][0], distances[0], strict=True)]

    def sentences(self, query_vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """(chunk id, best sentence cosine), best first: finds the one sentence that answers a question."""
        vectors = self.index.sentence_vectors
        if not len(vectors):
            return []
        scores = vectors @ query_vector
        top = np.argpartition(-scores, min(k * 2, len(scores) - 1))[: k * 2]
        ranked: list[tuple[str, float]] = []
        seen: set[str] = set()
        for row in top[np.argsort(-scores[top])]:
            chunk_id = self.index.sentence_ids[row].split(":", 1)[0]
            if chunk_id not in seen:
                seen.add(chunk_id)
                ranked.append((chunk_id, float(scores[row])))
        return ranked[:k]

    def lexical(self, text: str, lang: str, extra_terms: Sequence[str], k: int) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) in one language, best first, only real matches."""
        scores = self.index.lexical.scores(text, lang, extra_terms)
        if scores.size == 0:
            return []
        top = np.argsort(-scores)[:k]
        ids = self.index.lexical.ids[lang]
        return [(ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def _fuse(self, passages: dict[str, Passage], ranked: list[tuple[str, float]], weight: float, kind: str) -> None:
        """Add one ranking to the reciprocal-rank fusion; a passage counts once per ranking (its best chunk)."""
        seen: set[str] = set()
        rank = 0
        for chunk_id, score in ranked:
            key = self.keys.get(chunk_id)
            if key is None or key in seen:
                continue
            p = passages.setdefault(key, Passage(key=key, chunks=self.members[key]))
            seen.add(key)
            p.score += weight / (self.settings.rrf_k + rank)
            rank += 1
            if kind == "dense":
                p.cosine = max(p.cosine, score)
            elif kind == "sentence":
                p.sentence = max(p.sentence, score)
            else:
                p.bm25 = max(p.bm25, score)

    def _boost(self, passages: Iterable[Passage], text: str, topics: Sequence[str]) -> None:
        """A quoted heading or term names the passage the user means; a named cluster's passages come first."""
        s = self.settings
        phrases = quoted_phrases(text) if s.quote_boost > 0 else []
        wanted = set(topics)
        for p in passages:
            if phrases and any(
                phrase in normalize(f"{c.context} {c.text}") for c in p.chunks.values() for phrase in phrases
            ):
                p.score *= 1.0 + s.quote_boost
            if p.topic in wanted:
                p.score *= 1.0 + s.topic_boost

    @staticmethod
    def _named_first(ranked: list[Passage], topics: Sequence[str]) -> list[Passage]:
        """With two or more clusters named (a comparison, or "A or B?"), each one's best passage comes right after
        the best passage overall, which may be about neither."""
        if len(set(topics)) < 2 or not ranked:
            return ranked
        leaders = [next((p for p in ranked if p.topic == t), None) for t in dict.fromkeys(topics)]
        front = [ranked[0]] + sorted(
            (p for p in leaders if p is not None and p is not ranked[0]), key=lambda p: -p.score
        )
        return front + [p for p in ranked if p not in front]

    def search(
        self,
        query_vector: np.ndarray,
        text: str,
        lang: str,
        topics: Sequence[str] = (),
        extra_terms: Sequence[str] = (),
        sentence_vector: np.ndarray | None = None,
    ) -> RetrievalResult:
        s, timings = self.settings, {}
        n = s.retrieval_candidates

        started = time.perf_counter()
        dense = self.dense(query_vector, n)
        timings["dense_search"] = (time.perf_counter() - started) * 1000

        started = time.perf_counter()
        sentences = self.sentences(sentence_vector if sentence_vector is not None else query_vector, n)
        timings["sentence_search"] = (time.perf_counter() - started) * 1000

        started = time.perf_counter()
        other = "en" if lang == "de" else "de"
        lexical = {
            lang: self.lexical(text, lang, extra_terms, n),
            other: self.lexical(text, other, extra_terms, n),
        }
        timings["bm25"] = (time.perf_counter() - started) * 1000

        started = time.perf_counter()
        passages: dict[str, Passage] = {}
        self._fuse(passages, dense, s.dense_weight, "dense")
        self._fuse(passages, sentences, s.sentence_weight, "sentence")
        self._fuse(passages, lexical[lang], s.bm25_weight, "bm25")
        self._fuse(passages, lexical[other], s.bm25_other_weight, "bm25")
        self._boost(passages.values(), text, topics)
        ranked = self._named_first(sorted(passages.values(), key=lambda p: -p.score), topics)
        timings["fusion"] = (time.perf_counter() - started) * 1000
        best_bm25 = max((hits[0][1] for hits in lexical.values() if hits), default=0.0)
        return RetrievalResult(
            passages=ranked,
            best_cosine=dense[0][1] if dense else 0.0,
            best_bm25=best_bm25,
            timings_ms=timings,
        )


class Retrieve:
    """The retrieve stage: the passages for the understood question, and the abbreviations it asks about."""

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever

    def __call__(self, turn: Turn) -> Turn:
        query = turn.query
        assert query is not None, "retrieve runs after understand"
        turn.found = self.retriever.search(
            query.search_vector,
            query.keyword_text,
            turn.lang,
            topics=query.search_topics,
            extra_terms=query.extra_terms,
            sentence_vector=query.sentence_vector,
        )
        turn.timings.update(turn.found.timings_ms)
        turn.defined = defined_acronyms(query.searchable, self.retriever.acronyms)
        return turn
