"""Language detection on short questions: German and English stay themselves, other languages are told apart."""

import pytest

from assistant.language import detect_language, is_other_language


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
