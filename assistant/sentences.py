"""Sentence splitting for German and English passages.

The extractive answerer quotes whole sentences, so a wrong split shows up as a
broken quote. German abbreviations ("z. B.", "u. a.", "e.V.") and ordinal
numbers ("26. Mai") must not end a sentence.
"""

from __future__ import annotations

import re

ABBREVIATIONS = {
    # German
    "z",
    "b",
    "u",
    "a",
    "d",
    "h",
    "v",
    "s",
    "o",
    "j",
    "ca",
    "bzw",
    "ggf",
    "inkl",
    "etc",
    "evtl",
    "usw",
    "vgl",
    "nr",
    "dr",
    "prof",
    "st",
    "str",
    "mio",
    "mrd",
    "drs",
    "abs",
    "bzgl",
    "rd",
    "sog",
    "jh",
    "jhd",
    "tel",
    "ehem",
    "gegr",
    "hrsg",
    "mind",
    "max",
    "min",
    "zzgl",
    "ebd",
    # English
    "e.g",
    "i.e",
    "mr",
    "mrs",
    "ms",
    "vs",
    "no",
    "approx",
    "co",
    "dept",
    "est",
    "fig",
    "jr",
    "sr",
    "bn",
    "m",
}
# Legal-form suffixes written with a final dot: inside a sentence ("foodactive e.V. mit 44 Prozent",
# "e.V. (MCN)") they are followed by a lower-case word, a digit or a bracket; before a capital they end it.
SUFFIXES = {"e.v", "ev", "inc", "ltd"}
_CANDIDATE = re.compile(r"[.!?…]+[\"'“”»«)]*\s+")


def _last_word(text: str) -> str:
    """The word before a period, lower-cased, without its dots and opening quotes or brackets."""
    match = re.search(r"(\S+)$", text)
    return match.group(1).rstrip(".").lower().lstrip("(„\"'") if match else ""


def _ends_with_abbreviation(text: str) -> bool:
    """True when the text before a period ends in an abbreviation or a short ordinal number."""
    word = _last_word(text)
    if not word:
        return False
    initial = word.rsplit("-", 1)[-1]
    if word in ABBREVIATIONS or (len(initial) == 1 and initial.isalpha()):  # "z. B.", "E. Porter", "Karl-H. Witte"
        return True
    if re.fullmatch(r"\d{1,2}", word):  # "26. Mai", "2. Halbjahr", "1. Januar"
        return True
    return bool(re.fullmatch(r"(?:[a-zäöü]\.)+[a-zäöü]", word))  # "u.a", "z.b"


def _ends_with_suffix(text: str) -> bool:
    return _last_word(text) in SUFFIXES


def ends_in_abbreviation(sentence: str) -> bool:
    """True when a sentence's final dot belongs to its last word ("... Hamburg e.V.", "... usw.")."""
    sentence = sentence.rstrip()
    return sentence.endswith(".") and (_ends_with_suffix(sentence) or _ends_with_abbreviation(sentence[:-1]))


def split_sentences(text: str) -> list[str]:
    """Split a passage into sentences; list items and short lines stay whole."""
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    for match in _CANDIDATE.finditer(text):
        end = match.end()
        head = text[start : match.start() + 1]
        nxt = text[end : end + 1]
        if match.group(0).startswith(".") and _ends_with_suffix(head):
            if not nxt.isupper():
                continue
        elif match.group(0).startswith(".") and _ends_with_abbreviation(head):
            continue
        if nxt and not (nxt.isupper() or nxt.isdigit() or nxt in "„\"'“(«"):
            continue
        sentences.append(text[start:end].strip())
        start = end
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences
