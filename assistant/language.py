"""Which language a question is in (German, English or unsure), and the browser's UI language.

lingua in low-accuracy mode with preloaded models is both the most accurate on
short questions and small (about 21 MB); see shared/notes. Short mixed questions
("FinTech?") are unsure, and the caller falls back to the conversation's language.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from functools import lru_cache

from lingua import Language, LanguageDetectorBuilder

_CODES = {Language.GERMAN: "de", Language.ENGLISH: "en"}
_lock = threading.Lock()
SAMPLE_CHARS = 400  # the start of a text tells its language; reading 2,000 characters only costs time
# A message needs this many words (of two letters or more, outside markup) to tell its own language; with fewer
# ("<b>hydrogen</b>", "**?**") the conversation's language and then the UI's decide. One word is too little:
# names and technical terms are shared by both languages ("Cluster", "FinTech", "Hamburg").
MIN_LANGUAGE_WORDS = 2
# Markup is no language: HTML tags, Markdown image/link syntax (the link text stays), URLs, code and emphasis marks.
_MARKUP = re.compile(r"<[^<>]{0,300}>|!?\[([^\]]{0,300})\]\([^)]{0,500}\)|https?://\S+|`[^`]{0,300}`|[*_~#>|]+")


@lru_cache(maxsize=1)
def _detector():
    return (
        LanguageDetectorBuilder.from_languages(Language.GERMAN, Language.ENGLISH)
        .with_low_accuracy_mode()
        .with_preloaded_language_models()
        .build()
    )


# Short, unambiguous function words: a question's grammar tells its language even when its
# content words are names or quoted titles from the other language.
FUNCTION_WORDS_BY_LANGUAGE = {
    "de": set(
        "der die das den dem des ein eine einen einem einer und oder ist sind wird werden wurde hat haben "
        "gibt es ich wir sie ihr du wer wie wo wann warum welche welcher welches welchen wieso weshalb "
        "womit woran wofür worum nicht auch noch mit von zu für auf aus bei nach über unter zum zur im ins "
        "vom kann können soll sollen muss müssen da dort hier mir mich uns euch ab bitte etwas davon dazu".split()
    ),
    "en": set(
        "the a and or is are were be been has have had does do did it its this that these those what "
        "who how where when why which whose i we you they he she can could should would shall of to for "
        "on from with about into at by not any anything some there here please my our your their tell "
        "me us".split()
    ),
}
FUNCTION_WORDS = frozenset().union(*FUNCTION_WORDS_BY_LANGUAGE.values())
# Function words that no nearby language writes the same way ("ist", not Dutch "is"; "the", not French "des"):
# one of them is enough to know a question is German or English, whatever lingua's wider model thinks
# of a short "Was ist Clusterpolitik?" (Dutch, 0.52).
DISTINCTIVE_WORDS = frozenset(
    "ist sind wird werden wurde wurden gibt nicht auch noch welche welcher welches welchen warum wieso weshalb "
    "womit woran wofür worum über für und ein eine einen einem einer ich wir kann können muss müssen bitte "
    "etwas davon dazu wer "
    "the what who whose which how where when why does did are were been has have this that these those "
    "there about please with from tell could should would any anything".split()
)
_QUOTED = re.compile(  # bounded like retrieval.QUOTE_CHARS, so that unclosed quotes cost no rescans
    r"„[^“”„]{0,200}[“”]|“[^”“]{0,200}”|\"[^\"]{0,200}\"|«[^»«]{0,200}»|»[^«»]{0,200}«|(?<!\w)'[^']{0,200}'(?!\w)"
)
_WORDS = re.compile(r"(?u)\b\w+\b")


def without_markup(text: str) -> str:
    """The message's own words: tags, URLs, code and Markdown marks removed, a link's text kept."""
    return _MARKUP.sub(lambda m: f" {m.group(1) or ''} ", text)


def tells_language(text: str) -> bool:
    """Whether a message has enough words of its own to tell its language (see MIN_LANGUAGE_WORDS)."""
    words = [w for w in _WORDS.findall(without_markup(text)) if len(w) >= 2 and not w.isdigit()]
    return len(words) >= MIN_LANGUAGE_WORDS


def _words(text: str) -> list[str]:
    """Lower-cased words outside quotes: a quoted title does not tell the question's language."""
    return [w.casefold() for w in _WORDS.findall(_QUOTED.sub(" ", text))]


def _function_word_vote(text: str) -> str | None:
    """Two more function words of one language decide; so does one distinctive word ("which") alone.

    lingua puts "which clusters exist?" at 0.96 German: "cluster" outweighs the grammar.
    """
    words = _words(text)
    de = sum(w in FUNCTION_WORDS_BY_LANGUAGE["de"] for w in words)
    en = sum(w in FUNCTION_WORDS_BY_LANGUAGE["en"] for w in words)
    if de >= en + 2:
        return "de"
    if en >= de + 2:
        return "en"
    distinctive = [w for w in words if w in DISTINCTIVE_WORDS]
    if distinctive and not en and all(w in FUNCTION_WORDS_BY_LANGUAGE["de"] for w in distinctive):
        return "de"
    if distinctive and not de and all(w in FUNCTION_WORDS_BY_LANGUAGE["en"] for w in distinctive):
        return "en"
    return None


def detect_language(text: str, unsure_band: tuple[float, float] = (0.35, 0.65)) -> str | None:
    """'de' or 'en', or None when the text gives too little to tell.

    Function words decide first (they ignore quoted titles and names from the other language);
    lingua decides the rest, and a confidence inside `unsure_band` means unsure.
    """
    text = without_markup(text.strip()[:SAMPLE_CHARS])
    if not tells_language(text):
        return None
    vote = _function_word_vote(text)
    if vote:
        return vote
    if is_other_language(text):
        return None
    with _lock:
        confidence = _detector().compute_language_confidence(text, Language.GERMAN)
    low, high = unsure_band
    if confidence >= high:
        return "de"
    if confidence <= low:
        return "en"
    return None


_OTHER = (
    Language.FRENCH,
    Language.SPANISH,
    Language.ITALIAN,
    Language.PORTUGUESE,
    Language.DUTCH,
    Language.POLISH,
    Language.TURKISH,
    Language.RUSSIAN,
    Language.UKRAINIAN,
    Language.ARABIC,
    Language.PERSIAN,
    Language.DANISH,
)


@lru_cache(maxsize=1)
def _wide_detector():
    return (
        LanguageDetectorBuilder.from_languages(Language.GERMAN, Language.ENGLISH, *_OTHER)
        .with_low_accuracy_mode()
        .with_preloaded_language_models()
        .build()
    )


def is_other_language(text: str, min_confidence: float = 0.5) -> bool:
    """True when a text is clearly in a language other than German or English (e.g. French)."""
    text = text[:SAMPLE_CHARS]
    if _function_word_vote(text) or sum(ch.isalpha() for ch in text) < 12:
        return False
    if any(w in DISTINCTIVE_WORDS for w in _words(text)):
        return False
    with _lock:
        values = _wide_detector().compute_language_confidence_values(text)
    if not values:
        return False
    top = values[0]
    return top.language not in _CODES and top.value >= min_confidence


def warm_up() -> None:
    """Load the language models now rather than during the first question."""
    detect_language("Welche Cluster gibt es in Hamburg?")
    is_other_language("Quels clusters existent à Hambourg ?")


def ui_language(value: str | None, default: str = "de") -> str:
    """'de' or 'en' from e.g. "en-US,en;q=0.9,de;q=0.8" or "de-DE"; the first supported one wins."""
    if not value:
        return default
    weighted = []
    for position, part in enumerate(value.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        weighted.append((-q, position, tag.strip().lower()[:2]))
    for _, _, code in sorted(weighted):
        if code in ("de", "en"):
            return code
    return default


def vocabulary_vote(text: str, words_by_lang: Mapping[str, frozenset[str]], margin: int = 2) -> str | None:
    """'de' or 'en' by the words of the corpus's own documents: a word its English documents use and its German
    ones do not ("aircraft", "hiring" beside a company name) counts for English, and the other way round. For
    questions whose grammar and lingua leave the language open, mostly names and nouns."""
    if not tells_language(text):
        return None
    de, en = words_by_lang.get("de", frozenset()), words_by_lang.get("en", frozenset())
    words = [w for w in _words(without_markup(text)) if len(w) >= 2]
    votes = {"de": sum(w in de and w not in en for w in words), "en": sum(w in en and w not in de for w in words)}
    if votes["de"] >= votes["en"] + margin:
        return "de"
    if votes["en"] >= votes["de"] + margin:
        return "en"
    return None


def word_set(texts: Iterable[str]) -> frozenset[str]:
    """The lower-cased words of some texts, as `vocabulary_vote` counts them."""
    return frozenset(w for text in texts for w in _words(text))
