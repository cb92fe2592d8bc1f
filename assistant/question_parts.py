"""The parts of a question that asks two or more things ("Wer leitet X, und wo sitzt Y?").

Each part is answered by its own best sentence: the sentence closest to the whole question is often the one for
the part asked most emphatically, and the other part then comes late or not at all. A question is split where a
new question begins: after a question mark or semicolon, or where "und" / "and" (or "sowie") is followed by an
interrogative. The interrogatives are a closed class of German and English; nothing here knows a cluster or a
question of any set.
"""

from __future__ import annotations

import re

from assistant.question_kind import kinds_asked

# interrogatives that open a second question after "und" / "and" ("… und wann wurde es gegründet?")
_INTERROGATIVES = (
    r"wer|wem|wen|wessen|wann|seit wann|wie|wo|woher|wohin|was|welche[rsmn]?|warum|weshalb|wieso|wozu|womit|"
    r"woran|worüber|in welche[rmns]?|mit welche[rmns]?|an wen|"
    r"who|whom|whose|when|since when|how|where|what|which|why|in which|with which|to whom"
)
_NEW_QUESTION = re.compile(
    rf"(?:,?\s+(?:und|and|sowie)\s+|;\s*)(?=(?:{_INTERROGATIVES})\b)|(?<=[?])\s+(?=\S)",
    re.IGNORECASE,
)
MIN_PART_WORDS = 3  # "und wo?" alone is no question of its own to search for
MAX_PARTS = 4  # each part is embedded and scored: a message asking more is answered for its first four


def question_parts(question: str) -> list[str]:
    """The questions a question asks, in its order; one part when it asks one thing (or a part is too short
    to stand alone)."""
    parts = [part.strip(" ,;") for part in _NEW_QUESTION.split(question.strip())]
    # a part is a question or asks for a kind of fact ("Nenne das Gründungsjahr."); "Thanks!" or "Keep it short."
    # beside a question is none
    parts = [part for part in parts if part.endswith("?") or kinds_asked(part)]
    if len(parts) < 2 or any(len(part.split()) < MIN_PART_WORDS for part in parts):
        return [question.strip()]
    return parts[:MAX_PARTS]
