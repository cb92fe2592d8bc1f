"""Greetings, thanks, goodbyes and "in English, please": recognised whole, answered without a search.

Without this, "Hallo" or "Danke!" ran through retrieval and ended in the refusal text ("nothing
reliable in my sources"), which reads as an error to someone who only said hello. Patterns are data
(prompts/smalltalk.yaml) so editors can add phrasings without touching code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

KINDS = ("greeting", "thanks", "goodbye", "language")
_NOT_WORD = re.compile(r"[^\w\s]+")
MAX_CHARS = 60  # anything longer carries more than a greeting
EDGE_CHARS = 120  # greetings and thanks are looked for this far into a message and this far from its end


@dataclass(frozen=True)
class SmallTalk:
    kind: str  # greeting | thanks | goodbye | language
    lang: str | None  # "de" or "en" when the phrase tells (for "language": the language asked for), else None


@dataclass(frozen=True)
class SmallTalkPatterns:
    patterns: tuple[tuple[re.Pattern[str], str, str | None], ...]  # (whole-message pattern, kind, language)
    leading: re.Pattern[str]  # a greeting or thanks before a question: "Hallo, welche Cluster ..."
    trailing: re.Pattern[str]  # thanks or a goodbye after it: "... gibt es? Danke!"

    def match(self, message: str) -> SmallTalk | None:
        """The kind of small talk a message is, or None when it is (or contains) anything else."""
        if len(message) > MAX_CHARS:
            return None
        return self._match(" ".join(_NOT_WORD.sub(" ", message.casefold()).split()))

    def _match(self, text: str, depth: int = 0) -> SmallTalk | None:
        """Whole-text match, or a phrase at the end after more small talk ("Vielen Dank, tschüss!")."""
        for pattern, kind, lang in self.patterns:
            if pattern.fullmatch(text):
                return SmallTalk(kind=kind, lang=lang)
        if depth >= 2:
            return None
        for pattern, kind, lang in self.patterns:
            if kind == "language":
                continue
            for start in (i + 1 for i, ch in enumerate(text) if ch == " "):
                if pattern.fullmatch(text[start:]):
                    before = self._match(text[: start - 1], depth + 1)
                    if before and before.kind != "language":
                        return SmallTalk(kind=kind, lang=lang or before.lang)
        return None

    def strip(self, message: str) -> str:
        """The message without a greeting before it or thanks after it; unchanged if nothing else is left.

        "Hallo, welche Cluster gibt es?" was refused: the greeting is no word of the corpus and pulled
        the question towards the out-of-scope examples.
        """
        head, rest = message[:EDGE_CHARS], message[EDGE_CHARS:]
        core = self.leading.sub("", head, count=1) + rest
        # only the end can hold a closing phrase: the pattern tried at every position of "......" was quadratic
        body, tail = core[:-EDGE_CHARS], core[-EDGE_CHARS:]
        core = (body + self.trailing.sub("", tail, count=1)).strip()
        return core if any(ch.isalpha() for ch in core) else message


def _loose(phrase: str) -> str:
    """A pattern written for the normalised message, made to match the original text ("Hallo, zusammen!")."""
    return phrase.replace(" ", r"[\W_]+")


@lru_cache(maxsize=4)
def load_smalltalk(path: Path) -> SmallTalkPatterns:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    fillers = "|".join(re.escape(f) for f in data.get("fillers") or [])
    prefix = rf"(?:(?:{fillers}) )*" if fillers else ""
    patterns = []
    loose: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for kind in KINDS:
        for lang, phrases in (data.get(kind) or {}).items():
            for phrase in phrases or []:
                patterns.append((re.compile(prefix + f"(?:{phrase})"), kind, lang if lang in ("de", "en") else None))
                loose[kind].append(_loose(phrase))
    opening = "|".join(loose["greeting"] + loose["thanks"]) or "(?!)"
    closing = "|".join(loose["thanks"] + loose["goodbye"]) or "(?!)"
    flags = re.IGNORECASE
    return SmallTalkPatterns(
        patterns=tuple(patterns),
        leading=re.compile(rf"^[\W_]*(?:{opening})(?=[\W_])[\W_]*", flags),
        trailing=re.compile(rf"(?<=[.?!,;:])[\W_]*(?:{closing})[\W_]*$", flags),
    )
