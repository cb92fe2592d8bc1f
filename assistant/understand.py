"""The understand stage: what a question asks for, as search needs it.

Typos are mended against the corpus vocabulary (for search only; the answer keeps the question as asked), the
clusters it names are looked up in the glossary, a follow-up that names none carries the conversation's
cluster over, and "Und die Logistik?" after a question about another cluster stands for that question asked
about logistics. The question becomes the vectors and keyword text the retrieve stage searches with.
"""

from __future__ import annotations

import re
import time

import numpy as np

from assistant.answer import ENUMERATION
from assistant.embeddings import Embedder
from assistant.glossary import Glossary
from assistant.language import FUNCTION_WORDS
from assistant.lexical import words
from assistant.places import Places, load_places
from assistant.question_parts import question_parts
from assistant.scope import Vocabulary
from assistant.settings import Settings
from assistant.turn import Query, QuestionPart, Turn

# A short question opening like this, naming a cluster, asks the previous question again for that cluster.
ELLIPSIS = re.compile(
    r"^\W*(und|and|what about|how about|was ist mit|wie (ist|sieht) es (mit|bei)|und (bei|beim|für)|and (for|in))\b",
    re.IGNORECASE,
)
# words that may stand beside the cluster's name in such an opener ("und beim Hamburger Cluster?")
ELLIPSIS_FILLERS = frozenset("cluster clusters clustern hamburg hamburger hamburgs beim bei mit".split())
# the previous question weighs this share of FOLLOW_UP_WEIGHT in the vector that chooses sentences
SENTENCE_FOLLOW_UP_SHARE = 0.5
_TOKENS = re.compile(r"[\w@&.-]+")


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


class Understander:
    """Turns a prepared question into a Query."""

    def __init__(
        self,
        settings: Settings,
        glossary: Glossary,
        vocabulary: Vocabulary,
        embedder: Embedder,
        places: Places | None = None,
    ) -> None:
        self.places = places or load_places()
        self.settings = settings
        self.glossary = glossary
        self.vocabulary = vocabulary
        self.embedder = embedder

    def __call__(self, turn: Turn) -> Turn:
        history, lang = turn.history, turn.lang
        searchable = self.vocabulary.corrected(turn.question)
        topics = self.glossary.topics_in(searchable)
        carried: list[str] = []
        if history and not topics:
            carried = next((found for found in map(self.glossary.topics_in, reversed(history)) if found), [])
        follow_up = bool(history) and not topics
        if history and topics:
            searchable = self.resolve_ellipsis(searchable, history[-1], topics[0], lang)

        t = time.perf_counter()
        texts = question_parts(searchable)  # a question asking several things: each part gets a vector too
        parts_asked = texts if len(texts) >= 2 else []
        previous = [history[-1]] if follow_up else []
        # one embedding call: the question, its parts, and for a follow-up the previous question
        vectors = self.embedder.embed_query_vectors([searchable, *parts_asked, *previous])
        query_vector = vectors[0]
        search_vector, sentence_vector, keyword_text = query_vector, query_vector, searchable
        history_vector: np.ndarray | None = None
        if follow_up:
            weight = self.settings.follow_up_weight
            history_vector = vectors[-1]
            search_vector = _unit(query_vector + weight * history_vector)
            sentence_vector = _unit(query_vector + SENTENCE_FOLLOW_UP_SHARE * weight * history_vector)
            keyword_text = f"{searchable} {history[-1]}"
        parts = self.parts(parts_asked, vectors[1 : 1 + len(parts_asked)], history_vector, topics or carried)
        turn.timed("query_embedding", t)
        extra_terms = self.glossary.expand(keyword_text)
        own_terms = extra_terms if keyword_text == searchable else self.glossary.expand(searchable)
        turn.query = Query(
            searchable=searchable,
            keyword_text=keyword_text,
            extra_terms=extra_terms,
            topics=topics,
            carried=carried,
            query_vector=query_vector,
            search_vector=search_vector,
            sentence_vector=sentence_vector,
            enumeration=bool(ENUMERATION.search(turn.question)),
            in_domain=bool(topics or carried or own_terms),
            other_places=self.places.other_places(turn.question, self.vocabulary.is_word),
            parts=parts,
        )
        return turn

    def parts(
        self, texts: list[str], vectors: np.ndarray, history_vector: np.ndarray | None, topics: list[str]
    ) -> list[QuestionPart]:
        """The things a question asks, each with its vector (a follow-up's with its conversation's share, as the
        whole question's sentence vector) and the clusters it names; none for a question asking one thing (`texts`
        empty)."""
        found: list[QuestionPart] = []
        for text, vector in zip(texts, vectors, strict=True):
            if history_vector is not None:
                vector = _unit(vector + SENTENCE_FOLLOW_UP_SHARE * self.settings.follow_up_weight * history_vector)
            found.append(QuestionPart(text=text, vector=vector, topics=self.glossary.topics_in(text) or topics))
        return found

    def resolve_ellipsis(self, question: str, previous: str, topic: str, lang: str) -> str:
        """An opener ("und", "what about") plus a cluster's name asks the previous question about that cluster.

        Anything with content of its own ("Und welche Projekte hat davon das Finanzcluster?") stays as asked.
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
