"""Requests no policy source can answer (live data, a personal decision) are told so, and only those: the same
words in a question the sources do answer ("heute", "should I turn to") are no such request."""

from __future__ import annotations

import pytest

from assistant.request_kind import ADVICE, LIVE, request_kind


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Hat die Werft gerade offene Stellen für Schweißer?", LIVE),
        ("Are any firms in the food cluster hiring right now?", LIVE),
        ("Wie steht die Beispiel-Aktie heute?", LIVE),
        ("What is the share price of the shipyard?", LIVE),
        ("Welche Fähren laufen heute Abend im Hafen ein?", LIVE),
        ("Which cruise ships arrive tomorrow?", LIVE),
        ("Soll ich mein Erspartes in ein Start-up stecken?", ADVICE),
        ("Should I study shipbuilding or logistics?", ADVICE),
        ("Welcher Studiengang ist besser für mich?", ADVICE),
        ("Can you recommend a bank for my company?", ADVICE),
        ("Does the shipyard currently have open positions for welders?", LIVE),
        ("Sucht die Werft gerade Mechaniker?", LIVE),
        ("Do you think I should sell my shares?", ADVICE),
    ],
)
def test_live_data_and_personal_decisions_are_recognised(question: str, kind: str) -> None:
    assert request_kind(question) == kind


@pytest.mark.parametrize(
    "question",
    [
        "Wie viele Firmen gehören heute zum Cluster?",
        "Which person chairs the association at the moment?",
        "Where should I turn to with a start-up idea?",
        "An wen sollte ich mich mit einer Projektidee wenden?",
        "Welche Projekte laufen gerade im Cluster?",
        "Welche Fachkräfte sucht die Branche?",
        "When did the first hydrogen ferry arrive?",
        "Wie viele Arbeitsplätze hängen am Hafen?",
        "Sollte ich mich an die Förderbank wenden, wenn ich Geld brauche?",
        "Could you recommend which cluster deals with batteries?",
        "Würde ich als kleine Firma vom Cluster profitieren?",
        "Was ist der Fahrplan der Strategie bis 2030?",
        "Welche Fachkräfte sucht die Branche heute?",
        "Wie viele Schiffe kommen heute jährlich im Hafen an?",
        "Soll ich Mitglied werden? Was kostet die Mitgliedschaft?",
    ],
)
def test_questions_the_sources_answer_are_no_such_request(question: str) -> None:
    assert request_kind(question) is None
