"""Which characters a user's text may hold, and how long it may be: one policy for API, chat and CLI.

The API refuses text it cannot take as typed (with a 4xx that says why); the chat cannot
refuse what somebody typed, so it cleans the same characters away and cuts to the same
length, and says so. Lone UTF-16 surrogates ("\\ud800", valid in JSON, invalid in UTF-8)
count as unacceptable characters: nothing downstream (tokenizer, database) can encode them.
"""

from __future__ import annotations

import re

# C0 controls except tab, newline and carriage return; DEL; lone surrogates
UNACCEPTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


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
