"""Lexical search: BM25 per language with Snowball stemming (bm25s + PyStemmer).

German and English chunks get separate indexes with their own stemmer, so
"Häfen" finds "Hafen" and "companies" finds "company"; a question is stemmed
for each index and the scores go into the fusion.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_GERMAN

logging.getLogger("bm25s").setLevel(logging.WARNING)

STEMMER_NAMES = {"de": "german", "en": "english"}
# Stop words beyond bm25s's lists, by kind (eval/ablate.py takes out one kind at a time).
EXTRA_STOPWORD_GROUPS: dict[str, str] = {
    "question words the stock German list lacks": "gibt welche welcher welches",
}
STOPWORDS = (
    frozenset(STOPWORDS_GERMAN)
    | frozenset(STOPWORDS_EN)
    | {word for group in EXTRA_STOPWORD_GROUPS.values() for word in group.split()}
)
_WORD = re.compile(r"(?u)\b\w\w+\b")
_YEAR = re.compile(r"1[89]\d\d|20\d\d")  # years are what people ask by: "Was passierte 2011?"


def normalize(text: str) -> str:
    """Unicode-normalised, lower-cased text (so "Ä" and "Ä" compare equal)."""
    return unicodedata.normalize("NFKC", text).casefold()


def words(text: str) -> list[str]:
    """Content words of a text: lower-cased, two characters or more, no stop words; of numbers only years."""
    return [w for w in _WORD.findall(normalize(text)) if w not in STOPWORDS and (not w.isdigit() or _YEAR.fullmatch(w))]


class Tokenizer:
    """Stemming tokenizer for one language, safe to share: PyStemmer objects are not, so each thread that
    uses it gets a stemmer of its own (they are cheap)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._name = STEMMER_NAMES[lang]
        self._local = threading.local()

    def __call__(self, text: str) -> list[str]:
        stemmer = getattr(self._local, "stemmer", None)
        if stemmer is None:
            stemmer = self._local.stemmer = Stemmer.Stemmer(self._name)
        return stemmer.stemWords(words(text))


class LexicalIndex:
    """One BM25 index per language over chunk texts; scores are aligned with `ids[lang]`."""

    def __init__(self, ids: dict[str, list[str]], models: dict[str, bm25s.BM25]) -> None:
        self.ids = ids
        self.models = models
        self.tokenizers = {lang: Tokenizer(lang) for lang in models}

    @classmethod
    def build(cls, items: Iterable[tuple[str, str, str]]) -> LexicalIndex:
        """Index (chunk id, language, text) triples."""
        ids: dict[str, list[str]] = {}
        corpus: dict[str, list[list[str]]] = {}
        tokenizers = {lang: Tokenizer(lang) for lang in STEMMER_NAMES}
        for chunk_id, lang, text in items:
            ids.setdefault(lang, []).append(chunk_id)
            corpus.setdefault(lang, []).append(tokenizers[lang](text) or ["\x00empty"])
        models = {}
        for lang, tokens in corpus.items():
            model = bm25s.BM25()
            model.index(tokens, show_progress=False)
            models[lang] = model
        return cls(ids, models)

    def save(self, folder: Path) -> None:
        for lang, model in self.models.items():
            model.save(str(folder / lang))

    @classmethod
    def load(cls, folder: Path, ids: dict[str, list[str]]) -> LexicalIndex:
        models = {lang: bm25s.BM25.load(str(folder / lang), mmap=True) for lang in ids if (folder / lang).is_dir()}
        missing = set(ids) - set(models)
        if missing:
            raise FileNotFoundError(f"BM25 index for {sorted(missing)} missing in {folder}")
        return cls(ids, models)

    def scores(self, query: str, lang: str, extra_terms: Sequence[str] = ()) -> np.ndarray:
        """BM25 score of every chunk of `lang` for the query (zeros when nothing matches)."""
        model = self.models.get(lang)
        if model is None:
            return np.zeros(0, dtype=np.float32)
        tokens = self.tokenizers[lang](query + " " + " ".join(extra_terms))
        if not tokens:
            return np.zeros(len(self.ids[lang]), dtype=np.float32)
        return np.asarray(model.get_scores(tokens), dtype=np.float32)
