"""Glossary matching: stemmed whole words and German compounds, never bare prefixes."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.glossary import load_glossary
from assistant.settings import PROJECT_ROOT

KNOWN = {"standort", "werft", "plan"}  # a stand-in for the corpus vocabulary


@pytest.fixture(scope="module")
def glossary():
    return load_glossary(PROJECT_ROOT / "corpus" / "glossary.yaml").knowing(KNOWN.__contains__)


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        ("Wer finanziert die Cluster?", []),  # a verb of paying, not the finance industry
        ("Was ist die Speicherstadt?", []),  # a Stadt, not energy storage
        ("Windows stürzt ab", []),  # not "wind"
        ("Finanzierung der Projekte", []),
        ("Häfen an der Elbe", ["maritime"]),  # inflected: stem of "Hafen"
        ("Which ships call here?", ["maritime"]),
        ("Der Luftfahrtstandort", ["aviation"]),  # term + a word the vocabulary knows
        ("Das Logistikcluster", ["logistics"]),  # term + a word for a sector
        ("Ein Containerhafen", ["maritime"]),  # the last part says what it is
        ("Luft- und Raumfahrt", ["aviation"]),  # a term of several words
        ("Eine partnership", []),  # "ship" is too short to be the last part of a compound
    ],
)
def test_topics_by_whole_words_and_compounds(glossary, text: str, topics: list[str]) -> None:
    assert glossary.topics_in(text) == topics


def test_the_other_cluster_replaces_whole_words(glossary) -> None:
    assert glossary.for_topic("Which projects does the maritime cluster run?", "logistics") == (
        "which projects does the logistics cluster run?"
    )
    assert glossary.for_topic("Wer leitet das Luftfahrtcluster?", "Logistik") == "wer leitet das Logistik?"
    assert glossary.for_topic("Wie viele Mitglieder?", "Logistik") == "wie viele mitglieder? Logistik"


def test_expansions_match_whole_words_only(glossary) -> None:
    assert "managing director" in glossary.expand("Wer leitet das?")
    assert glossary.expand("Leitungswasser") == []  # "Leitung" only as a word of its own


def test_without_a_vocabulary_only_sector_words_make_compounds(tmp_path: Path) -> None:
    path = tmp_path / "glossary.yaml"
    path.write_text("topics:\n  food:\n    terms: [lebensmittel]\n", encoding="utf-8")
    bare = load_glossary(path)
    assert bare.topics_in("Lebensmittelindustrie") == ["food"]
    assert bare.topics_in("Lebensmittelplan") == []
    assert bare.knowing({"plan"}.__contains__).topics_in("Lebensmittelplan") == ["food"]
