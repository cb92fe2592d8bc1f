"""Enquiries: an e-mail with several questions, answered one by one over the real corpus, with a draft reply.

The e-mails here are this file's own, written for these tests.
"""

from __future__ import annotations

import re

import pytest

from assistant.business_topic import BusinessTopics
from assistant.enquiry import is_enquiry, read
from assistant.privacy import redact
from assistant.service import Assistant
from tests.fake_embedder import CountingEmbedder

SIGNED_DE = """Sehr geehrte Damen und Herren,

wir betreiben mit zwölf Leuten eine Firma, die Rotorblätter von Windkraftanlagen wartet. Welches Hamburger Cluster
ist für erneuerbare Energien zuständig? Und wie viele Mitglieder hat es?

Mit freundlichen Grüßen
Jana Beispiel
Beispiel Rotorservice GmbH
jana.beispiel@example.org
Tel. 040 1234567
"""

MIXED_EN = """Hi,

I run a small company that builds lightweight cabin parts for aircraft. Who runs Hamburg's aviation cluster
as its managing director? Also, could you tell me how to get a work visa for an engineer from Brazil?

Best regards,
Tom Example
"""

OUTSIDE_DE = """Guten Tag,

ich ziehe mit meiner Familie nach Hamburg. Wo bekomme ich eine Parkerlaubnis für unsere Straße? Und welche Grundschule
ist für die Straße zuständig, in der wir wohnen werden?

Viele Grüße
Lena Probe
"""


def test_questions_are_found_between_greeting_background_and_signature() -> None:
    enquiry = read(SIGNED_DE)
    assert enquiry.questions == [
        "Welches Hamburger Cluster ist für erneuerbare Energien zuständig?",
        "Und wie viele Mitglieder hat es?",
    ]
    assert enquiry.background == [
        "wir betreiben mit zwölf Leuten eine Firma, die Rotorblätter von Windkraftanlagen wartet."
    ]
    assert enquiry.sender == "Jana Beispiel"
    indirect = read("Hallo,\nwir sind ein Start-up. Ich würde gern wissen, ob es Förderprogramme gibt.\nDanke\nKai")
    assert indirect.questions == ["Ich würde gern wissen, ob es Förderprogramme gibt."]
    inverted = read(
        "Guten Tag,\nwir planen eine Messe. Gern würde ich erfahren, wer dort ausstellt. Uns interessiert "
        "auch, wann sie öffnet.\nGruß\nPia"
    )
    assert len(inverted.questions) == 2 and inverted.background == ["wir planen eine Messe."]


def test_what_counts_as_an_enquiry() -> None:
    assert is_enquiry(SIGNED_DE, 35) and is_enquiry("Hallo, wer leitet das Cluster? Und seit wann?\nGruß\nUte", 35)
    assert not is_enquiry("Wer leitet das Cluster? Und seit wann?", 35)  # a two-part question, answered as one
    assert not is_enquiry("Wer leitet das Luftfahrtcluster in Hamburg?", 35)
    assert read("Ich suche Angaben zur Förderung von Wasserstoffprojekten in Hamburg " * 4).questions  # no "?"


@pytest.mark.parametrize(
    ("description", "topic"),
    [
        ("Wir betreiben Windparks vor der Küste und planen einen Elektrolyseur.", "renewable_energy"),
        ("We are a fintech start-up offering payment apps.", "finance"),
        ("Ich studiere Flugzeugbau und suche ein Praktikum.", "aviation"),
    ],
)
def test_the_cluster_is_inferred_from_a_described_business(assistant: Assistant, description: str, topic: str) -> None:
    found = BusinessTopics(assistant.index, assistant.embedder, assistant.settings.enquiry_topic_margin).of(description)
    assert found is not None and found.topic == topic


def test_an_uncovered_question_is_declined_inside_an_answered_enquiry(assistant: Assistant) -> None:
    result = assistant.ask(MIXED_EN)
    assert result.language == "en" and not result.refused
    assert [q.refused for q in result.questions] == [False, True]
    first, second = result.questions
    assert "Ralf Gust" in first.answer[:300] and first.citations
    assert second.citations == [] and "do not cover this" in second.answer
    assert "Brazil" not in result.answer.replace(second.question, "")  # no loosely related quote about it


def test_a_wholly_out_of_scope_enquiry_is_refused(assistant: Assistant) -> None:
    result = assistant.ask(OUTSIDE_DE)
    assert result.refused and result.citations == [] and result.draft_reply is None
    assert all(q.refused for q in result.questions)


def test_an_enquiry_embeds_each_of_its_texts_once(real_settings, e5) -> None:
    """Each question is judged alone and answered again with its context: the second time costs no embedding."""
    counting = CountingEmbedder(e5)
    assistant = Assistant(real_settings, embedder=counting)
    counting.texts.clear()
    result = assistant.ask(SIGNED_DE)
    assert [q.refused for q in result.questions] == [False, False]
    assert counting.texts and len(counting.texts) == len(set(counting.texts))
    embedded = len(counting.texts)
    assistant.settings = real_settings.model_copy(update={"query_cache_size": 0})
    uncached = Assistant(assistant.settings, embedder=counting)
    counting.texts.clear()
    uncached.ask(SIGNED_DE)
    assert len(counting.texts) > embedded  # without the memory the same texts are embedded again


def _sentences(text: str) -> list[str]:
    return [s.strip(" -") for s in re.split(r"(?<=[.!?])\s+|\n", text) if len(s.strip(" -")) > 20]


@pytest.mark.parametrize(
    ("text", "salutation"), [(SIGNED_DE, "Guten Tag Jana Beispiel,"), (MIXED_EN, "Dear Tom Example,")]
)
def test_the_draft_holds_only_cited_facts_and_the_right_salutation(
    assistant: Assistant, text: str, salutation: str
) -> None:
    result = assistant.ask(text)
    draft = result.draft_reply or ""
    assert salutation in draft and ("ENTWURF" in draft or "DRAFT" in draft)
    quoted = " ".join(c.text for c in result.citations)
    templates = "|".join(
        (
            "Zu Ihrer Frage",
            "On your question",
            "Quellen:",
            "Sources:",
            "ENTWURF",
            "DRAFT",
            "vielen Dank",
            "Thank you",
            "Mit freundlichen",
            "Kind regards",
            "Behörde",
            "Ministry",
            salutation,
        )
    )
    for answered in (q for q in result.questions if not q.refused):
        for sentence in _sentences(answered.answer):
            plain = re.sub(r"\s?\[\d+\]", "", sentence).strip("_ ")
            if re.search(templates, plain) or plain.startswith(("Die gefundenen", "The passages found")):
                continue
            assert plain.rstrip(".:") in quoted, plain  # each fact is a cited passage's sentence
            assert plain.rstrip(".:") in draft
    for url in {c.url for q in result.questions for c in q.citations}:
        assert url in draft
    unsigned = assistant.ask(SIGNED_DE.split("Mit freundlichen")[0])
    assert "Sehr geehrte Damen und Herren," in (unsigned.draft_reply or "")


def test_personal_data_of_an_enquiry_is_redacted() -> None:
    cleaned = redact(SIGNED_DE) or ""
    assert "Jana Beispiel" not in cleaned and "jana.beispiel" not in cleaned and "1234567" not in cleaned
    assert "Rotorblätter" in cleaned and "Welches Hamburger Cluster" in cleaned  # the content stays
    assert "Tom Example" not in (redact(MIXED_EN) or "")
