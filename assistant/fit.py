"""How well one sentence answers a question: the score that chooses an answer's first sentences.

Dense similarity alone prefers sentences that are about the same topic; a citizen wants the one holding the
asked fact. So the fit adds, with weights from the settings (swept in eval/sweep.py): the share of the question's
terms the sentence contains (stemmed, weighted by how rare each term is among the corpus's sentences), whether
it holds the kind of fact asked for (assistant/question_kind.py), a penalty when it is about another
organisation than the one asked about, and one when it leans on a sentence before it ("Sie …", "This …").
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, replace

from assistant.chunking import Chunk, sentence_id
from assistant.index import LoadedIndex
from assistant.lexical import STEMMER_NAMES, Tokenizer
from assistant.question_kind import fit_of_kinds, founding_terms, offices_named, without_asking
from assistant.settings import Settings

# Sentence openings that refer back to the sentence before ("Sie schafft Räume ...", "This opens ...").
ANAPHORA = re.compile(
    r"^(sie|er|es|dies|diese[rsnm]?|damit|dadurch|dabei|daher|deshalb|so|denn|dort|dazu|dafür|hierzu|außerdem|"
    r"zudem|they|it|its|their|this|these|that|those|thus|so|therefore|because|there|in this way|in addition)\b",
    re.IGNORECASE,
)
# topics about the policy as a whole: a question about the policy names no organisation
GENERAL_TOPICS = frozenset({"policy", "overview"})
COMPOUND_PART = 5  # shorter stems ("bau", "amt") are inside too many unrelated words


def _has(stem: str, stems: frozenset[str]) -> bool:
    return stem in stems or (len(stem) >= COMPOUND_PART and any(stem in word for word in stems))


@dataclass(frozen=True)
class Asked:
    """What the fit needs to know about a question."""

    lang: str
    terms: dict[str, float]  # the question's stems -> weight (rarity among sentences)
    kinds: tuple[str, ...]  # kinds of fact asked for
    topics: frozenset[str]  # the organisations the question (or its conversation) is about
    offices: tuple[str, ...] = ()  # particular offices asked about ("chair"): a who-question wants their holder


class SentenceFit:
    """Scores sentences of the index against a question; stems and their rarity are computed once."""

    def __init__(self, index: LoadedIndex, settings: Settings) -> None:
        self.settings = settings
        self.stems: dict[str, frozenset[str]] = {}
        frequency: dict[str, Counter[str]] = defaultdict(Counter)
        sentences: Counter[str] = Counter()
        tokenizers = {lang: Tokenizer(lang) for lang in STEMMER_NAMES}
        self.context_stems: dict[str, frozenset[str]] = {}
        for chunk in index.chunks:
            tokenizer = tokenizers.get(chunk.lang)
            if tokenizer is None:
                continue
            self.context_stems[chunk.id] = frozenset(tokenizer(chunk.context))
            for k, sentence in enumerate(chunk.sentences):
                stems = frozenset(tokenizer(sentence))
                self.stems[sentence_id(chunk, k)] = stems
                frequency[chunk.lang].update(stems)
                sentences[chunk.lang] += 1
        self.rarity = {
            lang: {stem: math.log(1 + sentences[lang] / df) for stem, df in counts.items()}
            for lang, counts in frequency.items()
        }

    def asked(self, question: str, lang: str, kinds: tuple[str, ...], topics: frozenset[str]) -> Asked:
        """The question's weighted terms (a new stemmer per call: PyStemmer objects are not shared by threads)."""
        rarity = self.rarity.get(lang, {})
        text = f"{without_asking(question)} {founding_terms(question, lang)}"
        stems = Tokenizer(lang)(text) if lang in STEMMER_NAMES else []
        top = max(rarity.values(), default=1.0)
        terms = {stem: rarity.get(stem, top) for stem in stems}
        offices = offices_named(question)
        return Asked(lang=lang, terms=terms, kinds=kinds, topics=topics - GENERAL_TOPICS, offices=offices)

    def lexical(self, asked: Asked, chunk: Chunk, k: int) -> float:
        """Weighted share of the question's terms in the sentence, and at FIT_CONTEXT_SHARE in its chunk's context
        (title, section, a list item's lead-in: what the sentence is about without saying it). A term of
        COMPOUND_PART letters or more also counts inside a longer word, as German compounds hold it ("Luftfahrt" in
        "Luftfahrtclusters")."""
        total = sum(asked.terms.values())
        if not total:
            return 0.0
        stems = self.stems.get(sentence_id(chunk, k), frozenset())
        context = self.context_stems.get(chunk.id, frozenset())
        found = 0.0
        for stem, weight in asked.terms.items():
            if _has(stem, stems):
                found += weight
            elif _has(stem, context):
                found += self.settings.fit_context_share * weight
        return found / total

    def names_own_term(self, asked: Asked, chunk: Chunk, k: int) -> bool:
        """Whether the sentence itself names a question term that its heading does not (the heading names the
        organisation; what else the question asks about must be in the sentence)."""
        stems = self.stems.get(sentence_id(chunk, k), frozenset())
        context = self.context_stems.get(chunk.id, frozenset())
        return any(_has(stem, stems) and not _has(stem, context) for stem in asked.terms)

    def without_terms_of(self, asked: Asked, text: str) -> Asked:
        """The question with the terms a text (a list's lead-in) already has: what else it names."""
        stems = frozenset(Tokenizer(asked.lang)(text)) if asked.lang in STEMMER_NAMES else frozenset()
        kept = {
            stem: weight
            for stem, weight in asked.terms.items()
            if stem not in stems and not (len(stem) >= COMPOUND_PART and any(stem in word for word in stems))
        }
        return replace(asked, terms=kept)

    def contained(self, chunk: Chunk, k: int, other: Chunk, j: int) -> float:
        """Share of a sentence's terms that another sentence has too: near 1 when it says nothing new."""
        mine = self.stems.get(sentence_id(chunk, k), frozenset())
        theirs = self.stems.get(sentence_id(other, j), frozenset())
        return len(mine & theirs) / len(mine) if mine else 1.0

    def score(self, asked: Asked, chunk: Chunk, k: int, dense: float) -> float:
        s = self.settings
        sentence = chunk.sentences[k]
        fit = dense + s.fit_lexical_weight * self.lexical(asked, chunk, k)
        fit += s.fit_kind_weight * fit_of_kinds(asked.kinds, sentence)
        if asked.topics and chunk.topic not in asked.topics:  # the organisation's own sources say it best
            fit -= s.fit_topic_penalty
        if ANAPHORA.match(sentence):
            fit -= s.fit_anaphora_penalty
        return fit
