"""Personal data is replaced before storing; ordinary numbers and cluster facts stay."""

from __future__ import annotations

import pytest

from assistant.privacy import redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Schreiben Sie mir an max.mustermann@example.org bitte", "Schreiben Sie mir an [E-Mail] bitte"),
        ("Meine IBAN ist DE89 3704 0044 0532 0130 00.", "Meine IBAN ist [IBAN]."),
        ("IBAN DE89370400440532013000", "IBAN [IBAN]"),
        ("Ruf an: +49 40 123456789", "Ruf an: [Telefon]"),
        ("Tel. 040 / 123 45 67 oder 0151-23456789", "Tel. [Telefon] oder [Telefon]"),
        ("call (040) 4282 8000 today", "call [Telefon] today"),
        ("Ich wohne in der Musterstraße 12, 20095 Hamburg.", "Ich wohne in der [Adresse]."),
        ("Büro: Alter Steinweg 4", "Büro: [Adresse]"),
        ("Treffpunkt Am Sandtorkai 32a", "Treffpunkt [Adresse]"),
        ("I live at 10 Downing Street", "I live at [Adresse]"),
    ],
)
def test_personal_data_is_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Wie viele Cluster gibt es seit 2023?",
        "Das ZAL hat 26.000 m² und rund 600 Arbeitsplätze.",
        "Die Förderung beträgt 12,6 Mio. Euro, Drs. 22/5588.",
        "Hamburg Aviation wurde im Januar 2011 gegründet.",
        "114.400 Arbeitsplätze hängen am Hafen, 606.700 bundesweit.",
    ],
)
def test_ordinary_text_is_untouched(text: str) -> None:
    assert redact(text) == text


def test_none_and_empty() -> None:
    assert redact(None) is None and redact("") == ""
