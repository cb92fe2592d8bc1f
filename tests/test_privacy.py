"""Personal data is replaced before storing; ordinary numbers and cluster facts stay; the filter is linear."""

from __future__ import annotations

import time

import pytest

from assistant.privacy import redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # e-mail
        ("Schreiben Sie mir an max.mustermann@example.org bitte", "Schreiben Sie mir an [E-Mail] bitte"),
        ("Mail: A.B@Example.DE, danke", "Mail: [E-Mail], danke"),
        # IBAN: spaced, compact, lower case, dashed, mistyped check digits
        ("Meine IBAN ist DE89 3704 0044 0532 0130 00.", "Meine IBAN ist [IBAN]."),
        ("IBAN DE89370400440532013000", "IBAN [IBAN]"),
        ("iban de89 3704 0044 0532 0130 00 bitte", "iban [IBAN] bitte"),
        ("account DE89-3704-0044-0532-0130-00", "account [IBAN]"),
        ("Konto DE12 3704 0044 0532 0130 00", "Konto [IBAN]"),
        # phone numbers: international, spaced, slashed, bracketed, dotted, mobile
        ("Ruf an: +49 40 123456789", "Ruf an: [Telefon]"),
        ("Tel. 040 / 123 45 67 oder 0151-23456789", "Tel. [Telefon] oder [Telefon]"),
        ("call (040) 4282 8000 today", "call [Telefon] today"),
        ("Zentrale 040.428.280.0", "Zentrale [Telefon]"),
        ("phone +44 20 7946 0958", "phone [Telefon]"),
        ("Ich bin unter 0176 12345678 erreichbar", "Ich bin unter [Telefon] erreichbar"),
        # street addresses, German and English
        ("Ich wohne in der Musterstraße 12, 20095 Hamburg.", "Ich wohne in der [Adresse]."),
        ("Büro: Alter Steinweg 4", "Büro: [Adresse]"),
        ("Treffpunkt Am Sandtorkai 32a", "Treffpunkt [Adresse]"),
        ("Am Alten Markt 3, 20457 Hamburg", "[Adresse]"),
        ("Firmensitz Hauptstr.12", "Firmensitz [Adresse]"),
        ("Große Bleichen 3, 20354 Hamburg", "[Adresse]"),
        ("I live at 10 Downing Street", "I live at [Adresse]"),
        ("office at 221B Baker Street, London", "office at [Adresse], London"),
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
        "Im Jahr 2011 gegründet, Strategie 2030 der Stadt",
        "Spring 2024 conference with 3 panels",
        "Der Sektor 3 wächst, wir haben 20 Mitarbeiter und 3 Standorte",
        "Max Mustermann fragt nach dem Hafen",  # names are not recognised (docs/privacy.md)
    ],
)
def test_ordinary_text_is_untouched(text: str) -> None:
    assert redact(text) == text


def test_none_and_empty() -> None:
    assert redact(None) is None and redact("") == ""


@pytest.mark.parametrize("unit", ["a", "A", "0", "1 ", "a@", "0 ", "Musterstraße 1 ", "DE89 ", "(0"])
def test_cost_grows_linearly(unit: str) -> None:
    """Long runs that made the old patterns quadratic: eight times the text may take at most ~8x as long."""

    def seconds(n: int) -> float:
        text = unit * (n // len(unit))
        started = time.perf_counter()
        redact(text)
        return time.perf_counter() - started

    small = min(seconds(2_000) for _ in range(3))
    large = min(seconds(16_000) for _ in range(3))
    assert large < 20 * small + 0.01, (unit, small, large)  # quadratic would be 64x
