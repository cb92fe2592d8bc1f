"""Personal data out of user messages before anything is stored or logged.

E-mail addresses, phone numbers, IBANs and street addresses are replaced by
placeholders; names only where a letter puts them (after a salutation, under a
closing formula), since names in running text are not recognised (see
docs/privacy.md for exactly what is removed). Every step is linear in the text: each pattern can only start where a
token starts and has bounded repetitions, phone numbers are found and validated
by `phonenumbers` (Google's metadata), IBANs by `python-stdnum`, and addresses by
a scan over the words. The rules favour catching too much over too little, but
leave years, amounts and counts ("2023", "14.000 Arbeitsplätze") alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import phonenumbers
from stdnum import iban

from assistant.letters import name_spans

PLACEHOLDERS = {
    "email": "[E-Mail]",
    "iban": "[IBAN]",
    "phone": "[Telefon]",
    "address": "[Adresse]",
    "name": "[Name]",
}
PHONE_REGION = "DE"  # numbers without a country code are read as German ones

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
# Printed IBANs: country, check digits, groups of four (any case, spaces or dashes between groups).
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]{4}){2,7}(?:[ -]?[A-Za-z0-9]{1,3})?(?![A-Za-z0-9])"
)
# Phone-like digit runs that phonenumbers does not validate (a number mistyped or of unusual length):
# a leading + / 00 / 0 / (0 and at least seven digits, as people write them with spaces, dots, slashes, dashes.
_PHONE_SHAPE = re.compile(r"(?<![\w.,+/-])(?:\+|\(0|0)\d[\d ()/.\-]{4,24}\d(?![\w]|[.,]\d)")
MIN_PHONE_DIGITS = 7

# Street addresses, found word by word.
_STREET_SUFFIXES = (
    "straße", "strasse", "str.", "str", "weg", "allee", "platz", "damm", "ring", "gasse", "chaussee", "stieg",
    "twiete", "ufer", "kai", "deich", "markt", "brücke", "hof", "berg", "wall", "graben", "kamp", "steig", "pfad",
    "promenade", "brook", "moor", "redder", "koppel", "grund",
)  # fmt: skip
_STREET_WORDS = frozenset("street st st. road rd rd. avenue ave ave. lane drive way place square boulevard".split())
# Words that open a German street name ("Am Alten Markt", "An der Alster", "Große Bleichen")
_STREET_OPENERS = frozenset(
    "am an auf im in zum zur bei beim hinter vor unter über der die das den dem alte alter alten altes große großer "
    "großen kleine kleiner kleinen neue neuer neuen hohe hoher hohen lange langer langen sankt st. st".split()
)
_HOUSE_NUMBER = re.compile(r"\d{1,4}[a-zA-Z]?(?:[-/]\d{1,4}[a-zA-Z]?)?")
_GLUED = re.compile(r"(?:[A-ZÄÖÜ][\wäöüß-]{0,40}?)(?:str\.|straße|strasse|weg|platz|allee)(\d{1,4}[a-zA-Z]?)")
_POSTCODE = re.compile(r"\d{5}")
_YEAR = re.compile(r"1[89]\d\d|20\d\d")
_TOKEN = re.compile(r"\S+")
_EDGE = ",.;:!?()[]\"'„“”»«"
MAX_NAME_WORDS = 3  # words of a street name before the house number


def _bare(token: str) -> str:
    return token.strip(_EDGE)


def _capitalised(word: str) -> bool:
    return bool(word) and word[0].isupper()


def _is_street(word: str) -> bool:
    """A word naming a street by its ending ("Musterstraße", "Steinweg", "Sandtorkai") or an English street word."""
    low = word.lower()
    return _capitalised(word) and (low.endswith(_STREET_SUFFIXES) or low in _STREET_WORDS)


def _is_house_number(word: str, followed_by_postcode: bool) -> bool:
    """1-4 digits with an optional letter or range; a year ("2030") only when a postcode follows."""
    return bool(_HOUSE_NUMBER.fullmatch(word)) and (followed_by_postcode or not _YEAR.fullmatch(word))


def _address_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of street addresses: "Musterstraße 12, 20095 Hamburg", "Am Alten Markt 3", "10 Downing Street"."""
    tokens = [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text)]
    words = [_bare(t) for _, _, t in tokens]
    i = 0
    while i < len(tokens):
        start, end, token = tokens[i]
        glued = _GLUED.fullmatch(words[i])  # "Hauptstr.12"
        if glued:
            last = _postcode_end(tokens, words, i + 1) or i
            yield start, _end_of(tokens, last)
            i = last + 1
            continue
        postcode_after = bool(_postcode_end(tokens, words, i + 1))
        if i and _is_house_number(words[i], postcode_after):
            first = _street_start(words, i, postcode_after)
            if first is not None:
                last = _postcode_end(tokens, words, i + 1) or i
                yield tokens[first][0], _end_of(tokens, last)
                i = last + 1
                continue
        if _HOUSE_NUMBER.fullmatch(words[i]) and not _YEAR.fullmatch(words[i]):  # "10 Downing Street"
            for j in range(i + 1, min(i + 1 + MAX_NAME_WORDS, len(tokens))):
                if not _capitalised(words[j]):
                    break
                if words[j].lower() in _STREET_WORDS and j > i + 1:
                    yield start, _end_of(tokens, j)
                    i = j
                    break
        i += 1


def _end_of(tokens: list[tuple[int, int, str]], k: int) -> int:
    """End of token k without trailing punctuation (the comma or full stop after an address stays)."""
    start, _end, token = tokens[k]
    return start + len(token.rstrip(_EDGE))


def _postcode_end(tokens: list[tuple[int, int, str]], words: list[str], k: int) -> int | None:
    """Index of the last token of ", 20095 Hamburg" starting at token k, if there is one."""
    if k < len(tokens) and _POSTCODE.fullmatch(words[k]):
        return k + 1 if k + 1 < len(tokens) and _capitalised(words[k + 1]) else k
    return None


def _street_start(words: list[str], number: int, postcode_after: bool) -> int | None:
    """Index of the first word of the street name before a house number, or None when there is none.

    The word before the number names a street by its ending ("Steinweg"), or a postcode after the number
    says it is one ("Große Bleichen 3, 20354 Hamburg"); openers before it belong to the name ("Am Alten Markt").
    """
    k = number - 1
    if not _capitalised(words[k]) or not (_is_street(words[k]) or postcode_after):
        return None
    first = k
    for j in range(k - 1, max(-1, k - MAX_NAME_WORDS), -1):
        if words[j].lower() not in _STREET_OPENERS:
            break
        first = j
    while first < k and not _capitalised(words[first]):  # "in der Musterstraße 12": "in der" is no part of it
        first += 1
    return first


def _iban_spans(text: str) -> Iterator[tuple[int, int]]:
    for match in _IBAN.finditer(text):
        compact = re.sub(r"[ -]", "", match.group(0)).upper()
        digits = sum(ch.isdigit() for ch in compact)
        # a valid IBAN, or one shaped like an IBAN whose check digits are mistyped (still somebody's account)
        if iban.is_valid(compact) or (len(compact) >= 15 and digits >= 12):
            yield match.span()


def _phone_spans(text: str) -> Iterator[tuple[int, int]]:
    for found in phonenumbers.PhoneNumberMatcher(text, PHONE_REGION, leniency=phonenumbers.Leniency.VALID):
        yield found.start, found.end
    for match in _PHONE_SHAPE.finditer(text):
        if sum(ch.isdigit() for ch in match.group(0)) >= MIN_PHONE_DIGITS:
            yield match.span()


def _replace(text: str, spans: Iterator[tuple[int, int]], placeholder: str) -> str:
    """The text with every (non-overlapping, first-come) span replaced by the placeholder."""
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out.append(text[last:start])
        out.append(placeholder)
        last = end
    out.append(text[last:])
    return "".join(out)


def redact(text: str | None) -> str | None:
    """The text with personal data replaced by placeholders (None stays None)."""
    if not text:
        return text
    text = _replace(text, iter(name_spans(text)), PLACEHOLDERS["name"])  # in a salutation or signature only
    text = _EMAIL.sub(PLACEHOLDERS["email"], text)
    text = _replace(text, _iban_spans(text), PLACEHOLDERS["iban"])
    text = _replace(text, _address_spans(text), PLACEHOLDERS["address"])
    return _replace(text, _phone_spans(text), PLACEHOLDERS["phone"])


def redact_all(value):
    """`redact` applied to every string inside nested dicts and lists (e.g. stored session data)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_all(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_all(v) for v in value]
    return value
