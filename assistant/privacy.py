"""Personal data out of user messages before anything is stored or logged.

E-mail addresses, phone numbers, IBANs and street addresses are replaced by
placeholders. The patterns favour catching too much over too little, but leave
years, amounts and counts ("2023", "14.000 Arbeitsplätze") alone.
"""

from __future__ import annotations

import re

PLACEHOLDERS = {"email": "[E-Mail]", "iban": "[IBAN]", "phone": "[Telefon]", "address": "[Adresse]"}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
# +49 40 1234567, 0049-40-..., 040 / 123 45 67, (040) 1234567, 0151 23456789: a leading + / 00 / 0 and 7+ digits
_PHONE = re.compile(r"(?<![\w.,])(?:\+|00|\(?0)\d[\d ()/\-]{5,}\d(?![\w.,]\d)")
_STREET_WORDS = (
    r"stra(?:ß|ss)e|str\.|weg|allee|platz|damm|ring|gasse|chaussee|stieg|twiete|ufer|kai|deich|markt|brücke|"
    r"hof|berg|tor|wall|street|st\.|road|rd\.|avenue|ave\.|lane|drive"
)
# "Alter Steinweg 4", "Am Sandtorkai 32a", "Musterstraße 12, 20095 Hamburg", "10 Downing Street"
_ADDRESS = re.compile(
    rf"\b(?:[A-ZÄÖÜ][\wäöüß.-]*\s+)?[A-ZÄÖÜ][\wäöüß-]*(?:{_STREET_WORDS})\s+\d{{1,4}}\s?[a-zA-Z]?\b"
    rf"(?:,?\s+\d{{5}}(?:\s+[A-ZÄÖÜ][\wäöüß-]+)?)?"
    rf"|\b\d{{1,4}}\s+[A-Z][a-z]+\s+(?:Street|Road|Avenue|Lane|Drive)\b",
)


def redact(text: str | None) -> str | None:
    """The text with personal data replaced by placeholders (None stays None)."""
    if not text:
        return text
    text = _EMAIL.sub(PLACEHOLDERS["email"], text)
    text = _IBAN.sub(PLACEHOLDERS["iban"], text)
    text = _ADDRESS.sub(PLACEHOLDERS["address"], text)
    return _PHONE.sub(
        lambda m: PLACEHOLDERS["phone"] if sum(c.isdigit() for c in m.group(0)) >= 7 else m.group(0), text
    )


def redact_all(value):
    """`redact` applied to every string inside nested dicts and lists (e.g. stored session data)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_all(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_all(v) for v in value]
    return value
