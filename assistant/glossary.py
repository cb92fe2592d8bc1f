"""The bilingual glossary: which cluster a question names, and the other language's terms.

Kept as data (corpus/glossary.yaml) so editors extend it without touching code. Terms match whole words after
Snowball stemming (German and English, as for BM25), so "Häfen" finds "Hafen" and "ships" finds "ship", while
"Windows" is not "wind" and "finanziert" is not "Finanz". German joins words into one; a compound names a
cluster when its last part is a cluster term ("Containerhafen" is a Hafen), or when a cluster term is followed by
a word ("Luftfahrtcluster", "Medienbranche", "Flugzeugbau"): a word for a sector, its making or its organisations,
or a word of four letters or more that the corpus vocabulary knows (`knowing`), but not a grammatical ending
("finanz-iert"). The other-language expansions match whole words only.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import Stemmer
import yaml

from assistant.lexical import normalize

_WORD = re.compile(r"[^\W_]+")
# Words for a sector, its making or its organisations that German puts after the sector's name in one word.
SECTOR_HEADS = frozenset(
    "cluster branche branchen industrie wirtschaft sektor standort unternehmen firmen markt netzwerk initiative "
    "verband verbund szene bau technik forschung".split()
)
MIN_HEAD_TERM = 5  # a compound's last part counts as a cluster term from this length ("hafen"; not "ship", "bank")
MIN_MODIFIER = 3  # letters before that last part ("Seehafen")
MIN_REST = 4  # letters of a known word after a cluster term ("Luftfahrtstandort"); shorter only from SECTOR_HEADS
Known = Callable[[str], bool]
_local = threading.local()


def _stemmers() -> tuple[Stemmer.Stemmer, Stemmer.Stemmer]:
    """German and English stemmers for this thread (PyStemmer objects are not shared across threads)."""
    if not hasattr(_local, "stemmers"):
        _local.stemmers = (Stemmer.Stemmer("german"), Stemmer.Stemmer("english"))
    return _local.stemmers


def stems(word: str) -> frozenset[str]:
    """The word's German and English stems (one word may be either language)."""
    return frozenset(s.stemWord(word) for s in _stemmers())


@dataclass(frozen=True)
class Term:
    """A glossary term: its words as written (normalised) and as stems."""

    words: tuple[str, ...]
    stems: tuple[frozenset[str], ...]

    @classmethod
    def of(cls, text: str) -> Term:
        found = tuple(_WORD.findall(normalize(text)))
        return cls(found, tuple(stems(w) for w in found))

    def _compound(self, word: str, known: Known) -> bool:
        """Whether a one-word term is part of a German compound by the rules in the module docstring."""
        term = self.words[0]
        if len(term) >= MIN_HEAD_TERM and len(word) >= len(term) + MIN_MODIFIER and word.endswith(term):
            return True
        if not word.startswith(term):
            return False
        rest = word[len(term) :]
        parts = {rest, rest.removeprefix("s")}
        return any(part in SECTOR_HEADS or (len(part) >= MIN_REST and known(part)) for part in parts)

    def count(
        self, text_words: list[str], text_stems: list[frozenset[str]], known: Known | None = None
    ) -> list[tuple[int, int]]:
        """(start, end) word positions where the term occurs in a text; `known` (the words compounds may be made
        of) turns compound matching on."""
        n = len(self.words)
        spans = []
        for i in range(len(text_words) - n + 1):
            if n == 1:
                ok = bool(self.stems[0] & text_stems[i]) or (known is not None and self._compound(text_words[i], known))
            else:
                ok = all(self.stems[j] & text_stems[i + j] for j in range(n))
            if ok:
                spans.append((i, i + n))
        return spans


class Words:
    """A text as words and their stems, computed once for all terms."""

    def __init__(self, text: str) -> None:
        self.text = normalize(text)
        self.matches = list(_WORD.finditer(self.text))
        self.words = [m.group(0) for m in self.matches]
        self.stems = [stems(w) for w in self.words]
        self.all_stems: frozenset[str] = frozenset().union(*self.stems)

    def may_contain(self, term: Term, known: Known | None) -> bool:
        """A quick test that rules out most terms before they are matched word by word: a term needs its first
        stem among the text's stems, or, as part of a compound, its word inside the text."""
        if not term.stems:
            return True
        if not term.stems[0].isdisjoint(self.all_stems):
            return True
        return len(term.words) == 1 and known is not None and term.words[0] in self.text

    def spans(self, terms: tuple[Term, ...], known: Known) -> list[tuple[int, int]]:
        return [
            span
            for term in terms
            if self.may_contain(term, known)
            for span in term.count(self.words, self.stems, known)
        ]


@dataclass(frozen=True)
class Glossary:
    names: dict[str, dict[str, str]]  # topic -> {"de": name, "en": name}
    terms: dict[str, tuple[Term, ...]]  # topic -> the terms that name it
    expansions: tuple[tuple[str, ...], ...]
    expansion_terms: tuple[tuple[Term, ...], ...]  # the same groups, as terms
    known: Known = field(default=lambda word: False, repr=False)  # is this a word (a part of a compound)?

    def knowing(self, known: Known) -> Glossary:
        """The glossary with a vocabulary for compounds: "Luftfahrtstandort" is aviation when "standort" is a word."""
        return replace(self, known=known)

    def topics_in(self, text: str) -> list[str]:
        """Topics a text names, most mentions first (clusters before the general policy)."""
        found = Words(text)
        counts = {t: len(found.spans(terms, self.known)) for t, terms in self.terms.items()}
        named = [t for t, n in counts.items() if n]
        return sorted(named, key=lambda t: (t == "policy", -counts[t]))

    def mark_topics(self, text: str, mark: str = " ") -> str:
        """The normalised text with every word that names a cluster replaced by `mark` (one mark per name)."""
        found = Words(text)
        clusters = (terms for topic, terms in self.terms.items() if topic != "policy")
        spans = sorted({span for terms in clusters for span in found.spans(terms, self.known)})
        out, position, covered = [], 0, -1
        for start, end in spans:
            if start < covered:
                continue  # overlapping names ("hamburg aviation" and "aviation"): marked once
            out.append(found.text[position : found.matches[start].start()])
            out.append(mark)
            position, covered = found.matches[end - 1].end(), end
        out.append(found.text[position:])
        return "".join(out)

    def for_topic(self, text: str, name: str) -> str:
        """The text asked about another cluster: ("Wer leitet das Luftfahrtcluster?", "Logistik") -> "wer leitet das
        Logistik?".

        Resolves an elliptical follow-up ("Und die Logistik?") into the question it stands for.
        """
        mark = "\x00"
        marked = self.mark_topics(text, mark)
        first = marked.find(mark)
        if first < 0:
            return f"{marked} {name}"
        marked = marked[:first] + name + marked[first:].replace(mark, "")
        return " ".join(marked.split())

    def expand(self, text: str) -> list[str]:
        """Equivalent terms in the other language for terms the text contains."""
        found = Words(text)
        extra: list[str] = []
        for group, terms in zip(self.expansions, self.expansion_terms, strict=True):
            whole_words = (term for term in terms if term.stems and found.may_contain(term, None))
            if any(term.count(found.words, found.stems) for term in whole_words):
                extra.extend(t for t in group if t not in found.text)
        return extra


@lru_cache(maxsize=4)
def load_glossary(path: Path) -> Glossary:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    topics = data.get("topics") or {}
    names = {t: {"de": v.get("de", t), "en": v.get("en", t)} for t, v in topics.items()}
    terms = {t: tuple(Term.of(term) for term in v.get("terms", [t])) for t, v in topics.items()}
    expansions = tuple(tuple(normalize(term) for term in group) for group in data.get("expansions") or [])
    expansion_terms = tuple(tuple(Term.of(term) for term in group) for group in expansions)
    return Glossary(names=names, terms=terms, expansions=expansions, expansion_terms=expansion_terms)
