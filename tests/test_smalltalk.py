"""Greetings, thanks and goodbyes are recognised whole, and peeled off a real question."""

import pytest

from assistant.messages import PROMPTS_DIR
from assistant.prepare import without_form_requests
from assistant.smalltalk import load_smalltalk

TALK = load_smalltalk(PROMPTS_DIR / "smalltalk.yaml")


@pytest.mark.parametrize(
    ("message", "kind", "lang"),
    [
        ("Hallo!", "greeting", "de"),
        ("Moin moin 👋", "greeting", "de"),
        ("Good morning", "greeting", "en"),
        ("hi", "greeting", None),
        ("ok, danke schön!", "thanks", "de"),
        ("Super, vielen Dank für die Antwort!", "thanks", "de"),
        ("Thank you so much.", "thanks", "en"),
        ("Tschüss", "goodbye", "de"),
        ("see you later", "goodbye", "en"),
        ("Vielen Dank, tschüss!", "goodbye", "de"),  # several phrases: the last one answers
        ("Thx, bye", "goodbye", "en"),
        ("Kannst du das auf Englisch sagen?", "language", "en"),  # the language asked for
        ("Could you repeat that in German, please?", "language", "de"),
    ],
)
def test_small_talk_is_recognised(message: str, kind: str, lang: str | None) -> None:
    found = TALK.match(message)
    assert found and (found.kind, found.lang) == (kind, lang)


@pytest.mark.parametrize(
    "message",
    [
        "Hallo, welche Cluster gibt es?",
        "Danke, und was macht Hamburg Aviation?",
        "Hilfe",
        "Hier",
        "na",
        "Was heißt Cluster auf Englisch?",
    ],
)
def test_questions_are_not_small_talk(message: str) -> None:
    assert TALK.match(message) is None


@pytest.mark.parametrize(
    ("message", "core"),
    [
        ("Moin, welche Cluster hat Hamburg denn?", "welche Cluster hat Hamburg denn?"),
        ("Hi there, what clusters are there? Thanks so much!", "what clusters are there?"),
        ("Welche Cluster gibt es? Vielen Dank!", "Welche Cluster gibt es?"),
        ("Highlights der Luftfahrt?", "Highlights der Luftfahrt?"),  # "Hi" only as a word of its own
        ("Hallo", "Hallo"),  # nothing else left: unchanged
    ],
)
def test_greetings_and_thanks_are_peeled_off_a_question(message: str, core: str) -> None:
    assert TALK.strip(message) == core


@pytest.mark.parametrize(
    ("message", "core"),
    [
        ("Wer fördert das Food-Cluster? Bitte ganz kurz.", "Wer fördert das Food-Cluster?"),
        ("In simple words: what does a cluster bridge fund?", "what does a cluster bridge fund?"),
        ("What does the port authority do? Bullet points, please.", "What does the port authority do?"),
        ("Fass dich kurz: Wo sitzt Hamburg Aviation?", "Wo sitzt Hamburg Aviation?"),
        ("Erkläre mir, was ein Cluster ist.", "Erkläre mir, was ein Cluster ist."),  # the request is the question
        ("Please keep it short.", "Please keep it short."),  # nothing else left: unchanged
        ("Warum kurz? Wann kam das Cluster?", "Warum kurz? Wann kam das Cluster?"),  # a question, not a request
        ("Wie tritt man bei? Ist es einfach?", "Wie tritt man bei? Ist es einfach?"),  # a yes/no question of its own
    ],
)
def test_requests_about_the_answers_form_are_peeled_off_a_question(message: str, core: str) -> None:
    assert without_form_requests(message) == core


def test_a_request_about_the_form_does_not_change_what_is_found(assistant) -> None:
    plain = assistant.ask("Which organisation runs the aviation cluster?")
    asked_short = assistant.ask("Which organisation runs the aviation cluster? Answer briefly, please.")
    assert not asked_short.refused and asked_short.answer == plain.answer
