"""The bilingual glossary: which cluster a question names, and the other language's terms.

Kept as data (corpus/glossary.yaml) so editors extend it without touching code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from assistant.lexical import normalize


@dataclass(frozen=True)
class Glossary:
    names: dict[str, dict[str, str]]  # topic -> {"de": name, "en": name}
    patterns: dict[str, re.Pattern[str]]  # topic -> word-start pattern
    expansions: tuple[tuple[str, ...], ...]
    expansion_patterns: tuple[re.Pattern[str], ...]  # one whole-word pattern per expansion group

    def topics_in(self, text: str) -> list[str]:
        """Topics a text names, most mentions first (clusters before the general policy)."""
        norm = normalize(text)
        counts = {t: len(p.findall(norm)) for t, p in self.patterns.items()}
        found = [t for t, n in counts.items() if n]
        return sorted(found, key=lambda t: (t == "policy", -counts[t]))

    def mark_topics(self, text: str, mark: str = " ", whole_words: bool = False) -> str:
        """The normalised text with every cluster name (or, with `whole_words`, every word starting with one)
        replaced by `mark`."""
        norm = normalize(text)
        for topic, pattern in self.patterns.items():
            if topic != "policy":
                norm = re.sub(pattern.pattern + r"[\w-]*", mark, norm) if whole_words else pattern.sub(mark, norm)
        return norm

    def for_topic(self, text: str, name: str) -> str:
        """The text asked about another cluster: ("Wer leitet das Luftfahrtcluster?", "Logistik") -> "wer leitet das
        Logistik cluster?".

        Resolves an elliptical follow-up ("Und die Logistik?") into the question it stands for.
        """
        mark = "\x00"
        norm = self.mark_topics(text, mark)
        first = norm.find(mark)
        if first < 0:
            return f"{norm} {name}"
        norm = norm[:first] + f"{name} " + norm[first:].replace(mark, "")
        return " ".join(norm.split())

    def expand(self, text: str) -> list[str]:
        """Equivalent terms in the other language for terms the text contains."""
        norm = normalize(text)
        extra: list[str] = []
        for group, pattern in zip(self.expansions, self.expansion_patterns, strict=True):
            if pattern.search(norm):
                extra.extend(t for t in group if t not in norm)
        return extra


def _pattern(terms: list[str]) -> re.Pattern[str]:
    """Word-start alternatives; a trailing "=" asks for the whole word."""
    parts = [
        re.escape(normalize(term[:-1])) + r"(?!\w)" if term.endswith("=") else re.escape(normalize(term))
        for term in terms
    ]
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + ")")


@lru_cache(maxsize=4)
def load_glossary(path: Path) -> Glossary:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    topics = data.get("topics") or {}
    names = {t: {"de": v.get("de", t), "en": v.get("en", t)} for t, v in topics.items()}
    patterns = {t: _pattern(v.get("patterns", [t])) for t, v in topics.items()}
    expansions = tuple(tuple(normalize(term) for term in group) for group in data.get("expansions") or [])
    expansion_patterns = tuple(
        re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in group) + r")(?!\w)") for group in expansions
    )
    return Glossary(names=names, patterns=patterns, expansions=expansions, expansion_patterns=expansion_patterns)
