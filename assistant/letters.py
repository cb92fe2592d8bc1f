"""The parts of a letter or e-mail that are not its content: salutation, closing formula, the sender's name.

Shared by the enquiry reader (which questions were asked, whom to address in the reply) and by the privacy
filter (a name in a salutation or under a closing formula is personal data). The patterns are the common
German and English formulas; a letter without them simply has no recognised salutation or signature.
"""

from __future__ import annotations

import re

SALUTATION = re.compile(
    r"^\s*(?:sehr\s+geehrte[rs]?|liebe[rs]?|hallo|guten\s+(?:tag|morgen|abend)|moin|servus|grüß\s+gott|"
    r"dear|hi|hello|hey|good\s+(?:morning|afternoon|evening)|to\s+whom\s+it\s+may\s+concern)\b",
    re.I,
)
CLOSING = re.compile(
    r"^\s*(?:mit\s+(?:freundlichen|besten|herzlichen)\s+grüßen|(?:freundliche|viele|beste|herzliche|liebe|"
    r"sonnige)\s+grüße|(?:viele|beste|liebe|freundliche)?[rn]?\s*gruß|grüße|mfg|lg|vg|(?:best|kind|warm)\s+regards|regards|best\s+wishes|best|"
    r"yours\s+(?:sincerely|faithfully|truly)|sincerely|(?:many\s+)?thanks(?:\s+in\s+advance)?|thank\s+you|cheers|"
    r"(?:vielen\s+)?dank(?:e)?(?:\s+im\s+voraus)?)\b[^\n]{0,40}$",
    re.I,
)
_TITLE = r"(?:(?:dr|prof|dipl\.-ing|ing)\.\s+)*"
_NAME_WORD = r"[A-ZÄÖÜ][a-zäöüßéèáàóòúçñ'-]+"
_PARTICLE = r"(?:von|van|de|der|den|zu|da|di|le|la)"
# One to four capitalised words (particles allowed between them), optionally after an academic title
NAME = re.compile(rf"^{_TITLE}{_NAME_WORD}(?:\s+(?:{_PARTICLE}\s+)?{_NAME_WORD}){{0,3}}$", re.I)
# An honorific before a surname in a salutation ("Frau Muster", "Mr Smith")
_HONORIFIC = r"(?:frau|herr|herrn|mr|mrs|ms|miss|dr|prof)\.?"
SALUTED_NAME = re.compile(
    rf"(?P<head>^[ \t]*(?:sehr\s+geehrte[rs]?\s+{_HONORIFIC}|liebe[rs]?|hallo|guten\s+tag|moin|dear|hi|hello|hey)"
    rf"(?:\s+{_HONORIFIC})?\s+)(?P<name>{_TITLE}{_NAME_WORD}(?:[ \t]+(?:{_PARTICLE}[ \t]+)?{_NAME_WORD}){{0,3}})"
    r"(?=\s*[,!\n]|\s*$)",
    re.I | re.M,
)
_ORGANISATION = re.compile(
    r"\b(?:gmbh|ag|kg|ug|e\.\s?v\.|se|mbh|ohg|gbr|ltd|inc|llc|plc|co|corp|team|abteilung|department|university|"
    r"universität|hochschule)\b",
    re.I,
)
# Words that start a sentence or a greeting but are no one's name
_NOT_NAMES = frozenset("damen herren sir madam team alle all everyone zusammen leute folks there ihnen you".split())


def looks_like_name(line: str) -> bool:
    """Whether a line is just a person's name ("Erika Muster", "Dr. Jan de Vries", "Anna")."""
    line = line.strip().rstrip(",")
    if not line or len(line) > 60 or any(ch.isdigit() for ch in line) or "@" in line:
        return False
    if _ORGANISATION.search(line) or CLOSING.match(line) or SALUTATION.match(line):
        return False
    words = [w.lower().rstrip(".") for w in line.split()]
    return bool(NAME.match(line)) and not any(w in _NOT_NAMES for w in words)


def signature_start(lines: list[str]) -> int | None:
    """Index of the last closing formula ("Mit freundlichen Grüßen", "Best regards") that nothing asked follows."""
    asked_later = False  # one pass from the end: linear in the number of lines
    for i in range(len(lines) - 1, -1, -1):
        if not asked_later and CLOSING.match(lines[i]):
            return i
        asked_later = asked_later or "?" in lines[i]
    return None


def sender_name(lines: list[str]) -> str | None:
    """The name under the closing formula, if the letter is signed with one."""
    start = signature_start(lines)
    if start is None:
        return None
    formula = CLOSING.match(lines[start])
    tail = lines[start][formula.end() :] if formula else ""
    candidates = [tail.strip(" ,")] + [line for line in lines[start + 1 : start + 4] if line.strip()]
    return next((c.strip().rstrip(",") for c in candidates if c and looks_like_name(c)), None)


def name_spans(text: str) -> list[tuple[int, int]]:
    """Where a letter names a person: after a salutation, and on the line(s) under a closing formula."""
    spans = [(m.start("name"), m.end("name")) for m in SALUTED_NAME.finditer(text) if looks_like_name(m.group("name"))]
    offset, lines = 0, []
    for line in text.splitlines(keepends=True):
        lines.append((offset, line))
        offset += len(line)
    plain = [line for _, line in lines]
    start = signature_start(plain)
    if start is not None:
        for begin, line in lines[start + 1 : start + 4]:
            stripped = line.strip()
            if stripped and looks_like_name(stripped):
                at = begin + line.index(stripped)
                spans.append((at, at + len(stripped)))
    return sorted(spans)
