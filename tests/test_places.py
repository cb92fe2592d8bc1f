"""Questions about another region's clusters are refused with a hint where to ask; Hamburg's own are answered."""

from __future__ import annotations

import pytest

from assistant.places import load_places
from assistant.service import Assistant


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("Welche Cluster fördert Sachsen?", ["Sachsen"]),
        ("What is Bavaria's innovation strategy?", ["Bavaria"]),
        ("Wie arbeitet Köln mit Unternehmen?", ["Köln"]),
        ("Clusterpolitik in Österreich", ["Österreich"]),
        ("Was macht Airbus in Finkenwerder?", []),  # a district of Hamburg
        ("Is the port important for Germany?", []),  # Hamburg's own country
        ("a split decision with nice results", []),  # names that are words count only when capitalised
        ("Cluster der Region Sachsen-Thüringen", ["Sachsen", "Thüringen"]),  # a region joined of two places
        ("Schleswig-Holstein und das Rhein-Abkommen", ["Schleswig-Holstein"]),  # a joined word that is no region
    ],
)
def test_places_other_than_hamburg(text: str, places: list[str]) -> None:
    known_words = {"split", "nice", "results", "decision"}
    assert load_places().other_places(text, known_words.__contains__) == places


def test_another_regions_clusters_are_refused_with_where_to_ask(assistant: Assistant) -> None:
    saxony = assistant.ask("Welche Cluster fördert Sachsen?")
    assert saxony.refused and "Sachsen" in saxony.answer and "Wirtschaftsförderung" in saxony.answer
    vienna = assistant.ask("How many clusters does Vienna support?")
    assert vienna.refused and vienna.language == "en" and "Vienna" in vienna.answer
    follow_up = assistant.ask("Und in Sachsen?", ["Welche Cluster hat Hamburg?"])
    assert follow_up.refused and "Sachsen" in follow_up.answer


def test_hamburgs_clusters_with_another_place_are_answered(assistant: Assistant) -> None:
    offices = assistant.ask("In welchen Städten hat das Maritime Cluster Norddeutschland Büros, auch in Kiel?")
    assert not offices.refused and offices.citations[0].topic == "maritime"
    both = assistant.ask("Was verbindet Hamburg in der Clusterpolitik mit Schleswig-Holstein?")
    assert not both.refused


def test_a_sector_named_with_another_region_is_that_regions_cluster(assistant: Assistant) -> None:
    """A sector word does not make a question Hamburg's: the region decides, unless the cluster's own passages
    name that region (the maritime cluster has an office in Kiel; nothing in the corpus ties Köln to media)."""
    for question, region in (
        ("Hat Köln ein eigenes Mediencluster?", "Köln"),
        ("Does Munich run an aviation cluster of its own?", "Munich"),
    ):
        result = assistant.ask(question)
        assert result.refused and region in result.answer, result.answer
    kiel = assistant.ask("Hat das maritime Cluster eine Geschäftsstelle in Kiel?")
    assert not kiel.refused and "Kiel" in kiel.answer
    carried = assistant.ask("And in Munich?", ["Who leads the aviation cluster?"])
    assert carried.refused and "Munich" in carried.answer


def test_a_clusters_partners_abroad_are_the_clusters_own(assistant: Assistant) -> None:
    """Partners and cooperations of one of Hamburg's clusters elsewhere are asked about Hamburg's cluster."""
    result = assistant.ask("Does the aviation cluster cooperate with partners in Canada?")
    assert not result.refused, result.answer


def test_a_place_named_as_an_owner_is_asked_about_itself(assistant: Assistant) -> None:
    """The maritime passages name Rotterdam as a competing port; a question about Rotterdam's own port is still
    about Rotterdam, while "the city of Kiel" only says where an office of Hamburg's cluster is."""
    rotterdam = assistant.ask("What does Rotterdam's port offer young shipping firms?")
    assert rotterdam.refused and "Rotterdam" in rotterdam.answer, rotterdam.answer
    kiel = assistant.ask("Does the maritime cluster have an office in the city of Kiel?")
    assert not kiel.refused
