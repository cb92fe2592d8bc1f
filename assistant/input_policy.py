"""Which characters a user's text may hold, and how long it may be: one policy for API, chat and CLI.

The API refuses text it cannot take as typed (with a 4xx that says why); the chat cannot
refuse what somebody typed, so it cleans the same characters away and cuts to the same
length, and says so. Lone UTF-16 surrogates ("\\ud800", valid in JSON, invalid in UTF-8)
count as unacceptable characters: nothing downstream (tokenizer, database) can encode them.

Every question then goes through `clean_question`, whichever way it came: Unicode-normalised, without
markup and without invisible formatting characters (zero-width, bidirectional marks), which pasted text
often holds and which say nothing about the question.
"""

from __future__ import annotations

import re
import unicodedata

# C0 controls except tab, newline and carriage return; DEL and the C1 controls; lone surrogates
UNACCEPTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# zero-width characters, line and paragraph separators, bidirectional marks, byte order mark
INVISIBLE = re.compile(r"[\u200b-\u200f\u2028-\u202e\ufeff]")
# Markup pasted into a question (from a web page, or an attack) is noise to search and language detection;
# the chat shows the message as text, so removing it here hides nothing from the user.
_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<!--.*?(?:-->|$)|</?[a-zA-Z][^<>]*>", re.DOTALL)
_ALNUM_RUN = re.compile(r"[^\W_]+")
# a text this many times the limit is cut before normalising (markup may shrink it, megabytes are not read)
RAW_FACTOR = 4


def problem(text: str) -> str | None:
    """Why the text cannot be taken as it is ("control" or "surrogate"), or None."""
    found = UNACCEPTABLE.search(text)
    if found is None:
        return None
    return "surrogate" if _SURROGATE.match(found.group(0)) else "control"


def clean_text(text: str, limit: int) -> tuple[str, bool]:
    """The text without unacceptable characters, cut to `limit` characters; True when it was cut."""
    cut = len(text) > limit
    text = UNACCEPTABLE.sub(" ", text[:limit])
    return (text.rstrip(), True) if cut else (text, False)


def clean_question(text: str, limit: int) -> tuple[str, bool]:
    """Normalised question without markup, unacceptable or invisible characters, cut to `limit` characters;
    True when cut."""
    raw_cut = len(text or "") > RAW_FACTOR * limit
    text = unicodedata.normalize("NFKC", (text or "")[: RAW_FACTOR * limit])
    text = _TAG.sub(" ", _SCRIPT.sub(" ", text))
    text = INVISIBLE.sub(" ", UNACCEPTABLE.sub(" ", text))
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > limit:
        return text[:limit].rstrip(), True
    return text, raw_cut


def has_word(text: str) -> bool:
    """Whether a text holds a word: two or more letters and digits with a letter ("KI", "5G"), not "???" or "á́́"."""
    return any(len(run) >= 2 and any(ch.isalpha() for ch in run) for run in _ALNUM_RUN.findall(text))


# earlier questions an API client may send with a question (the answer uses the last HISTORY_TURNS of them)
MAX_HISTORY_ITEMS = 20
