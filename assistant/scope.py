"""Is a question about something the corpus covers at all?

Embedding similarity alone cannot tell "Wie warm wird es am Sonntag in Hamburg?" from a
real question, because "Hamburg" alone makes it look close. The vocabulary can: a
question whose content words mostly never occur in the corpus (weather, passport,
Munich, system prompt) is out of scope. Typos are forgiven by fuzzy matching and
German compounds by splitting them into known words.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import Stemmer
import yaml

from assistant.language import FUNCTION_WORDS
from assistant.lexical import STOPWORDS, normalize, words
from assistant.request_kind import request_kind
from assistant.settings import Settings
from assistant.turn import Gate, Turn

# Words that are no evidence of being in scope or out of it, by kind (eval/ablate.py takes out one kind at a time).
GENERIC_GROUPS: dict[str, str] = {
    "the city and the word cluster, in nearly every question and passage": (
        "hamburg hamburgs hamburger cluster clusters clustern stadt city"
    ),
    "question words": (
        "welche welcher welches which what wie how warum why wann wer wen wem wo woher wohin wozu wofür woran "
        "worum womit wodurch weshalb wieso where when who whom whose wieviel wieviele"
    ),
    "auxiliary and modal verbs, pronouns, light verbs": (
        "gibt gibts give can you your yours does have has had get got there their them they will shall may might "
        "must ich mir mich mein meine du dein deine sie ihr uns unser euch kannst could would sollte should "
        "machen macht make makes made tun do doing done gehen geht go goes brauchen braucht brauche need needs "
        "needed passiert passierte geschah happened happen happens"
    ),
    "asking to be told": "tell erzähl erzähle sag sage know weißt wissen",
    "fillers and quantity words": (
        "eigentlich actually genau exactly insgesamt total bitte please mal just ganz sehr very mehr more überhaupt "
        "denn halt eben also gerne gern viele many much"
    ),
    "vague placeholders": "something anything etwas",
    "time words (a question about tomorrow is not about the corpus)": (
        "today tomorrow yesterday tonight weekend heute morgen gestern übermorgen wochenende abend jetzt now"
    ),
    "how to answer: form and length": (
        "antworte antworten antwort answer reply satz sätzen sätze sentence sentences kurz kurzen kürzer short "
        "shorter briefly brief einfach einfacher simple simply simpler erkläre erklär erklären explain "
        "stichpunkte stichpunkten stichworten bullet bullets points fasse zusammenfassen summarize summarise "
        "keep halte fass knapp words worte worten wörtern"
    ),
}
GENERIC = frozenset(word for group in GENERIC_GROUPS.values() for word in group.split())
ANSWER_FORM = frozenset(GENERIC_GROUPS["how to answer: form and length"].split())


# a cluster's partners and cooperations abroad belong to the cluster: a place named with them is no other region's
PARTNERSHIP = re.compile(
    r"(?<!\w)(?:partner\w*|kooperation\w*|kooperier\w*|cooperat\w*|collaborat\w*|zusammen\w*|together|"
    r"works? with|working with|arbeite[nt]? mit)(?!\w)"
)
NAME_WEIGHT = 3
# Bounds on the work one question may cause (a question of 2,000 random letters took seconds):
MAX_WORD_CHARS = 40  # longer "words" are no dictionary words; they are not split or spelled against the corpus
MAX_FUZZY_WORDS = 8  # unknown words per text that are spelled against the corpus; the rest stay unknown
SOUND_ALIKE = {"c": "k", "k": "c", "z": "c"}  # initials written either way ("Klustr", "Zentrum"/"Centre")
_TOKEN = re.compile(r"\w+")
_NAME = re.compile(r"(?<=[\w,;:] )[A-ZÄÖÜ][\w-]+")  # capitalised, not the first word of the question


@dataclass(frozen=True)
class ScopeCheck:
    content: tuple[str, ...]
    unknown: tuple[str, ...]

    @property
    def unknown_share(self) -> float:
        return len(self.unknown) / len(self.content) if self.content else 0.0


class Vocabulary:
    """All words of the corpus (both languages), their stems, and a fuzzy index for typos."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.words: set[str] = set()
        for text in texts:
            self.words.update(words(text))
        self._stemmers = [Stemmer.Stemmer("german"), Stemmer.Stemmer("english")]
        self.stems = {stem for s in self._stemmers for stem in s.stemWords(list(self.words))}
        self._by_initial: dict[str, list[str]] = defaultdict(list)
        for word in self.words:
            self._by_initial[word[0]].append(word)

    def is_word(self, word: str) -> bool:
        """Whether the corpus uses this word as a word of its own (as written or by its stem)."""
        return word in self.words or self._stemmed_known(word)

    def _stemmed_known(self, word: str) -> bool:
        return any(s.stemWord(word) in self.stems for s in self._stemmers)

    def _compound_known(self, word: str) -> bool:
        """German compounds: two known parts of four letters or more ("Clusterbrücke")."""
        if len(word) < 8 or len(word) > MAX_WORD_CHARS:
            return False
        for cut in range(4, len(word) - 3):
            head, tail = word[:cut], word[cut:].removeprefix("s")
            if (head in self.words or self._stemmed_known(head)) and (tail in self.words or self._stemmed_known(tail)):
                return True
        return False

    def _spelled_known(self, word: str) -> bool:
        """In the corpus as written: the word, its stem, or a compound of two known words."""
        return word in self.words or self._stemmed_known(word) or self._compound_known(word)

    def knows(self, word: str, fuzzy: bool = True) -> bool:
        return self._spelled_known(word) or (fuzzy and self._closest(word) is not None)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one Vocabulary per process, kept for its lifetime
    def _closest(self, word: str) -> str | None:
        """A typo's corpus word: one close spelling with the same initial, or one sounding alike ("klustr")."""
        if len(word) < 5 or len(word) > MAX_WORD_CHARS:
            return None
        cutoff = 0.85 if len(word) >= 7 else 0.8
        candidates = self._by_initial.get(word[0], []) + self._by_initial.get(SOUND_ALIKE.get(word[0], ""), [])
        found = difflib.get_close_matches(word, candidates, n=1, cutoff=cutoff)
        return found[0] if found else None

    def corrected(self, text: str) -> str:
        """The text with misspelt words replaced by the corpus words they most likely mean.

        "wher does personalised medecine fit" becomes "... medicine ...", so search finds what the
        question meant; known words, compounds of known words and question grammar stay as typed.
        """

        budget = MAX_FUZZY_WORDS

        def mend(match: re.Match[str]) -> str:
            nonlocal budget
            word = normalize(match.group(0))
            if budget <= 0 or word in STOPWORDS or word in GENERIC or self._spelled_known(word):
                return match.group(0)
            budget -= 1
            return self._closest(word) or match.group(0)

        return _TOKEN.sub(mend, text)

    def check(self, question: str) -> ScopeCheck:
        """Content words of a question and those the corpus never uses.

        An unknown name (a capitalised word inside the sentence, e.g. "Munich", "Copenhagen")
        counts NAME_WEIGHT times: it usually names the very thing the question is about.
        """
        names = {w.casefold() for w in _NAME.findall(question)}
        content = tuple(w for w in words(question) if w not in GENERIC and w not in FUNCTION_WORDS and len(w) > 2)
        unknown: list[str] = []
        for w in content:  # only the first MAX_FUZZY_WORDS unknown spellings are matched against the corpus
            if not self.knows(w, fuzzy=len(unknown) < MAX_FUZZY_WORDS):
                unknown.append(w)
        named = [w for w in unknown if w in names] * (NAME_WEIGHT - 1)
        return ScopeCheck(content=content + tuple(named), unknown=tuple(unknown + named))


def read_examples(path: Path) -> dict[str, list[str]]:
    """category -> examples, from corpus/out_of_scope.yaml."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    categories = (data or {}).get("categories") or {}
    return {name: [str(e) for e in (c or {}).get("examples") or []] for name, c in categories.items()}


class OutOfScopeExamples:
    """Embedded examples of requests the assistant does not cover (city services, chit-chat, ...).

    A question far closer to one of them than to any passage is refused even when a few of its
    words occur in the corpus ("Where in Hamburg do I get a new library card?").
    """

    def __init__(self, examples: list[str], embed_query) -> None:
        self.examples = examples
        self.vectors = np.stack([embed_query(t) for t in examples]) if examples else np.zeros((0, 1), np.float32)

    @classmethod
    def from_file(cls, path: Path, embed_query, leave_out: Iterable[str] = ()) -> OutOfScopeExamples:
        """The examples of every category in the file except those in `leave_out` (for the ablation)."""
        skipped = set(leave_out)
        return cls([e for c, found in read_examples(path).items() if c not in skipped for e in found], embed_query)

    def closest(self, query_vector: np.ndarray) -> tuple[float, str | None]:
        if not len(self.examples):
            return 0.0, None
        scores = self.vectors @ query_vector
        best = int(np.argmax(scores))
        return float(scores[best]), self.examples[best]


def owner(place: str, question: str) -> bool:
    """Whether a question names a place as the owner of what it asks about ("the Port of Rotterdam", "Rotterdam's
    port", "der Hafen von Rotterdam"): then it asks about that place's own organisation, even where a cluster's
    passages name the place (as a competitor or a partner)."""
    name = re.escape(place)
    owned = r"port|airport|cluster|government|ministry|hafen|flughafen|senat"  # not "city of": a location
    pattern = rf"(?<!\w)(?:(?:{owned}) (?:of|von) {name}(?!\w)|{name}(?:'s|’s)(?!\w))"
    return bool(re.search(pattern, question, re.IGNORECASE))


class ScopeGate:
    """The gate stage: is the question about something the corpus covers? Runs before any LLM call.

    A question is refused when it asks for live data or a personal decision (assistant/request_kind.py), when
    retrieval found nothing, when the best passage is less similar than
    MIN_RELEVANCE raised by the share of words the corpus never uses (SCOPE_PENALTY, less when a cluster is
    named), or when an out-of-scope example is OUT_OF_SCOPE_MARGIN closer than the best passage.
    """

    def __init__(
        self,
        settings: Settings,
        vocabulary: Vocabulary,
        examples: OutOfScopeExamples,
        places_by_topic: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self.settings = settings
        self.vocabulary = vocabulary
        self.examples = examples
        self.places_by_topic = places_by_topic or {}
        self.corpus_places = frozenset().union(*self.places_by_topic.values())

    def __call__(self, turn: Turn) -> Turn:
        s, query, found = self.settings, turn.query, turn.found
        assert query is not None and found is not None, "the gate runs after understand and retrieve"
        share = self.vocabulary.check(turn.question).unknown_share
        factor = s.in_domain_penalty_factor if query.in_domain else 1.0
        required = s.min_relevance + s.scope_penalty * share * factor
        off_topic, _example = self.examples.closest(query.query_vector)
        other_region = self.other_region(turn)
        request = request_kind(turn.question)
        refused = (
            other_region is not None
            or request is not None
            or not found.passages
            or found.best_cosine < required
            or off_topic - found.best_cosine > s.out_of_scope_margin
        )
        turn.gate = Gate(
            best_cosine=found.best_cosine,
            required=required,
            unknown_share=share,
            off_topic=off_topic,
            refused=refused,
            other_region=other_region,
            request=request,
        )
        return turn

    def other_region(self, turn: Turn) -> str | None:
        """The other region a question is about: it names one and not Hamburg, and the corpus never names that
        region in the passages of the clusters the question (or its conversation) is about. A sector word says
        nothing about whose cluster is meant ("Gibt es in Köln ein Mediencluster?"); a region the cluster's own
        passages name is part of what the corpus can answer (the maritime cluster's office in Kiel)."""
        query = turn.query
        if query is None or not query.other_places or "hamburg" in normalize(turn.question):
            return None
        named = [t for t in (query.topics or query.carried) if t != "policy"]
        if not named:
            return query.other_places[0]
        if PARTNERSHIP.search(normalize(turn.question)):  # "Hat das Luftfahrtcluster Partner in Frankreich?"
            return None
        connected = frozenset().union(*(self.places_by_topic.get(t, frozenset()) for t in named))
        owned = [
            p for p in query.other_places if owner(p, turn.question)
        ]  # "the Port of Rotterdam", "Rotterdam's port"
        if owned:
            return owned[0]
        return next((p for p in query.other_places if p not in connected and not self._word_not_place(p)), None)

    def _word_not_place(self, name: str) -> bool:
        """A gazetteer name that the corpus uses as a word and never as a place: beside a cluster it is that word
        ("Was tut das Food-Cluster für gesundes Essen?")."""
        return name not in self.corpus_places and self.vocabulary.is_word(normalize(name))
