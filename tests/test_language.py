"""Language detection on short questions: German and English stay themselves, other languages are told apart."""

import pytest

from assistant.language import detect_language, is_other_language, vocabulary_vote


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("Was ist Clusterpolitik?", "de"),  # lingua's wider model calls this Dutch (0.52)
        ("Wer ist Ralf Gust?", "de"),
        ("Was ist FinTech?", "de"),
        ("Welche Cluster gibt es in Hamburg?", "de"),
        ("Who is Ralf Gust?", "en"),
        ("which clusters exist?", "en"),  # lingua alone: 0.96 German
        ("Hi there, what clusters are there? Thanks so much!", "en"),
        ("What is EEHH?", "en"),
        ("What does the heading 'Hamburgs Stärkefelder' refer to?", "en"),
    ],
)
def test_german_and_english_questions(question: str, lang: str) -> None:
    assert not is_other_language(question)
    assert detect_language(question) == lang


@pytest.mark.parametrize(
    "question",
    [
        "Quels sont les clusters économiques de Hambourg ?",
        "¿Cuáles son los clústeres de Hamburgo?",
        "Wat is het clusterbeleid van Hamburg?",
        "Hvad er Hamburgs klyngepolitik?",
        "Jakie klastry ma Hamburg?",
        "Какие кластеры есть в Гамбурге?",
    ],
)
def test_other_languages_are_recognised(question: str) -> None:
    assert is_other_language(question)


def test_words_only_one_languages_documents_use_decide_what_grammar_and_lingua_leave_open() -> None:
    words = {"de": frozenset({"mitglieder", "hafen", "hamburg"}), "en": frozenset({"members", "is", "now", "hamburg"})}
    assert vocabulary_vote("Is Hamburg Invest open now?", words) == "en"
    assert vocabulary_vote("Hafen Hamburg Mitglieder", words) == "de"
    assert vocabulary_vote("Hamburg members", words) is None  # one word is too little to overrule the page's language


def test_a_question_of_names_and_a_few_english_words_is_answered_in_english(assistant) -> None:
    question = "Is Hamburg Invest Innovationsagentur open now?"
    assert detect_language(question) is None  # neither its grammar nor lingua tells
    assert assistant.ask(question, fallback_language="de").language == "en"


def test_markup_is_no_language_and_too_few_words_leave_it_open() -> None:
    """Tags, Markdown marks and URLs do not count; one word of its own is too little to tell the language."""
    from assistant.language import detect_language, tells_language, without_markup

    assert detect_language("<b>harbour</b>") is None and detect_language("**~~** ##") is None
    assert detect_language("<i>Was macht</i> das Hafencluster?") == "de"
    assert detect_language("Where is the **harbour** cluster?") == "en"
    assert not tells_language("[Hafen](https://example.org/a-long-english-looking-path) !")
    assert "Hafen" in without_markup("[Hafen](https://example.org/x)") and "example" not in without_markup(
        "[Hafen](https://example.org/x)"
    )
