"""The index: chunk and sentence vectors in Chroma, BM25 and chunk records on disk.

Chunk ids are content hashes, so an update embeds only new chunks and deletes
vanished ones. The index records which embedder built it; opening it with
another embedder rebuilds it instead of mixing vectors.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
from langchain_core.embeddings import Embeddings

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import chromadb  # noqa: E402
from chromadb.config import Settings as ChromaSettings  # noqa: E402
from langchain_chroma import Chroma  # noqa: E402

from assistant.chunking import Chunk, chunk_corpus, sentence_id  # noqa: E402
from assistant.corpus import load_corpus  # noqa: E402
from assistant.embeddings import Embedder  # noqa: E402
from assistant.lexical import STOPWORDS, LexicalIndex  # noqa: E402
from assistant.settings import Settings  # noqa: E402

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SENTENCE_PAGE = 20000  # sentence vectors loaded per request to Chroma
CHUNKER_VERSION = 7  # bump when chunking, sentence splitting or BM25 tokens change: the index is updated on start
MANIFEST = "manifest.json"
CHUNKS = "chunks.json"
BM25_DIR = "bm25"
CHROMA_DIR = "chroma"

Progress = Callable[[str, int, int], None]  # (stage, done, total)


class IndexUnavailable(RuntimeError):
    """The index is missing, unreadable, or out of date; the message (one line) says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class CorpusInvalid(IndexUnavailable):
    """The corpus has errors: nothing can be indexed until they are fixed (the index is left as it is)."""


# Whatever opening a damaged index raises: chromadb's InternalError, numpy's EOFError for an emptied .npy,
# ValueError for bad JSON or arrays, OSError, KeyError and more, so every exception counts.
DAMAGE = (Exception,)


def reset_index(settings: Settings, vectors: bool = True) -> None:
    """Remove a (damaged) index so that it can be built afresh: the local files (BM25, passages, manifest) and,
    with `vectors`, the local Chroma folder or the collections on a Chroma server."""
    from chromadb.api.shared_system_client import SharedSystemClient

    if vectors and settings.chroma_host:
        _drop(chroma_client(settings), _collection_names(settings))
    elif vectors:
        shutil.rmtree(settings.index_dir / CHROMA_DIR, ignore_errors=True)
        SharedSystemClient.clear_system_cache()  # chromadb keeps one client per path in the process
    shutil.rmtree(settings.index_dir / BM25_DIR, ignore_errors=True)
    for name in (CHUNKS, MANIFEST):
        (settings.index_dir / name).unlink(missing_ok=True)


@dataclass
class UpdateSummary:
    """What an index update did."""

    added: int = 0
    unchanged: int = 0
    removed: int = 0
    sentences_added: int = 0
    seconds: float = 0.0
    rebuilt_because: str | None = None
    total: int = 0


@dataclass
class LoadedIndex:
    """Everything retrieval needs, loaded once per process."""

    chunks: list[Chunk]
    by_id: dict[str, Chunk]
    store: Chroma
    collection: chromadb.Collection  # the same collection, queried directly for ids and distances only
    lexical: LexicalIndex
    sentence_ids: list[str]
    sentence_vectors: np.ndarray
    sentence_row: dict[str, int] = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)


def corpus_digest(chunks: Sequence[Chunk]) -> str:
    """Hash of everything indexed (ids hash the embedded text; urls and topics are added)."""
    h = hashlib.sha256()
    for c in chunks:
        h.update(f"{c.id}|{c.url}|{c.topic}|{c.position}\n".encode())
    return h.hexdigest()


def chroma_client(settings: Settings) -> chromadb.ClientAPI:
    """A Chroma client: the server named by CHROMA_HOST/CHROMA_PORT, else a local folder."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
    path = settings.index_dir / CHROMA_DIR
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def _collection_names(settings: Settings) -> tuple[str, str]:
    return settings.chroma_collection, settings.chroma_collection + "_sentences"


def _open_store(client: chromadb.ClientAPI, name: str, embedder: Embedder) -> Chroma:
    """A LangChain Chroma store that always uses our embedder (never Chroma's downloading default)."""
    return Chroma(
        collection_name=name,
        embedding_function=cast(Embeddings, embedder),  # every embedder here implements LangChain's interface
        client=client,
        collection_metadata={"embedder": embedder.id, "dim": embedder.dim, "schema": SCHEMA_VERSION},
        collection_configuration={"hnsw": {"space": "cosine"}},
    )


def _existing_embedder(client: chromadb.ClientAPI, name: str) -> str | None:
    try:
        collection = client.get_collection(name, embedding_function=None)
    except Exception:  # noqa: BLE001 - chromadb raises different errors for "not found" across versions
        return None
    return (collection.metadata or {}).get("embedder", "unknown")


def _drop(client: chromadb.ClientAPI, names: Sequence[str]) -> None:
    for name in names:
        with contextlib.suppress(Exception):  # absent collections are fine
            client.delete_collection(name)


def _write_json(path: Path, data: object) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def _metadata(chunk: Chunk) -> dict:
    return {
        "doc_id": chunk.doc_id,
        "lang": chunk.lang,
        "topic": chunk.topic,
        "title": chunk.title,
        "section": chunk.section,
        "url": chunk.url,
        "kind": chunk.kind,
    }


def update_index(
    settings: Settings, embedder: Embedder, progress: Progress | None = None, rebuild: bool = False
) -> UpdateSummary:
    """Bring the index in line with the corpus, embedding only what changed (`rebuild`: everything afresh).

    The corpus is checked first, so that a broken document never costs a working index."""
    report = load_corpus(settings.corpus_dir)
    if not report.ok:
        problems = "; ".join(str(e) for e in report.errors[:5])
        raise CorpusInvalid(f"the corpus has errors; fix them first (assistant corpus check): {problems}")
    with _damage_reported(settings):
        if rebuild:
            reset_index(settings)
        return _update_index(settings, embedder, progress, rebuild, report.documents)


@contextlib.contextmanager
def _damage_reported(settings: Settings) -> Iterator[None]:
    """Any error from the index's files or Chroma as one IndexUnavailable line that says what to do."""
    try:
        yield
    except IndexUnavailable:
        raise
    except DAMAGE as exc:
        short = f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"
        raise IndexUnavailable(
            f"the index in {settings.index_dir} is damaged ({short}); run `assistant index --rebuild`"
        ) from exc


def _update_index(
    settings: Settings, embedder: Embedder, progress: Progress | None, rebuild: bool, documents: list
) -> UpdateSummary:
    started = time.perf_counter()
    chunks = chunk_corpus(documents)
    summary = UpdateSummary(total=len(chunks))
    settings.index_dir.mkdir(parents=True, exist_ok=True)

    client = chroma_client(settings)
    chunk_name, sentence_name = _collection_names(settings)
    built_with = _existing_embedder(client, chunk_name)
    if rebuild:
        summary.rebuilt_because = "rebuild requested"
    elif built_with is not None and built_with != embedder.id:
        summary.rebuilt_because = f"index was built with embedder {built_with!r}, configured is {embedder.id!r}"
    if summary.rebuilt_because:
        log.warning("Rebuilding the index: %s", summary.rebuilt_because)
        _drop(client, (chunk_name, sentence_name))
    store = _open_store(client, chunk_name, embedder)
    sentence_store = _open_store(client, sentence_name, embedder)

    existing = set(store.get(include=[])["ids"])
    wanted = {c.id: c for c in chunks}
    to_add = [c for c in chunks if c.id not in existing]
    to_remove = sorted(existing - wanted.keys())
    summary.added, summary.removed = len(to_add), len(to_remove)
    summary.unchanged = len(chunks) - len(to_add)

    if to_remove:
        store.delete(ids=to_remove)
    # sentences are diffed on their own ids (chunk id, position, text hash): a change in sentence
    # splitting alone re-embeds only the affected sentences
    wanted_sentences = {sentence_id(c, k): (text, c) for c in chunks for k, text in enumerate(c.sentences)}
    existing_sentences = set(sentence_store.get(include=[])["ids"])
    stale = sorted(existing_sentences - wanted_sentences.keys())
    for start in range(0, len(stale), 500):
        sentence_store.delete(ids=stale[start : start + 500])
    new_sentences = [(sid, text, c) for sid, (text, c) in wanted_sentences.items() if sid not in existing_sentences]
    total_work = len(to_add) + len(new_sentences)
    done, batch = 0, 32
    for start in range(0, len(to_add), batch):
        part = to_add[start : start + batch]
        store.add_texts(
            texts=[c.embed_text for c in part],
            metadatas=[_metadata(c) for c in part],
            ids=[c.id for c in part],
        )
        done += len(part)
        if progress:
            progress("embedding", done, total_work)
    for start in range(0, len(new_sentences), batch):
        sentence_part = new_sentences[start : start + batch]
        sentence_store.add_texts(
            texts=[s for _, s, _ in sentence_part],
            metadatas=[{"chunk_id": c.id, "lang": c.lang} for _, _, c in sentence_part],
            ids=[sid for sid, _, _ in sentence_part],
        )
        done += len(part)
        if progress:
            progress("embedding", done, total_work)
    summary.sentences_added = len(new_sentences)

    unchanged = [c for c in chunks if c.id in existing]
    for start in range(0, len(unchanged), 500):
        part = unchanged[start : start + 500]
        store._collection.update(ids=[c.id for c in part], metadatas=[_metadata(c) for c in part])

    lexical = LexicalIndex.build((c.id, c.lang, f"{c.context}\n{c.text}") for c in chunks)
    bm25_dir = settings.index_dir / BM25_DIR
    tmp_dir = settings.index_dir / (BM25_DIR + ".tmp")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True)
    lexical.save(tmp_dir)
    shutil.rmtree(bm25_dir, ignore_errors=True)
    os.replace(tmp_dir, bm25_dir)
    _write_json(settings.index_dir / CHUNKS, [c.to_dict() for c in chunks])
    _write_json(
        settings.index_dir / MANIFEST,
        {
            "schema": SCHEMA_VERSION,
            "embedder": embedder.id,
            "dim": embedder.dim,
            "digest": corpus_digest(chunks),
            "files_digest": files_digest(settings),
            "chunks": len(chunks),
            "bm25_ids": lexical.ids,
            "chroma": f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else "local",
            "collection": chunk_name,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    )
    summary.seconds = time.perf_counter() - started
    return summary


def read_manifest(settings: Settings) -> dict | None:
    path = settings.index_dir / MANIFEST
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexUnavailable(
            f"the index manifest {path} is unreadable ({exc}); run `assistant index --rebuild`"
        ) from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA_VERSION:
        raise IndexUnavailable(f"the index in {settings.index_dir} has an old format; run `assistant index --rebuild`")
    return data


def files_digest(settings: Settings) -> str:
    """Hash of the corpus files as they are on disk, and of the chunking rules and BM25 stop words.

    Reading and hashing the files is far cheaper than chunking them, so a start-up can tell in
    milliseconds that the index is current; only a changed digest leads to a real update.
    """
    h = hashlib.sha256(f"chunker-{CHUNKER_VERSION}".encode())
    h.update(" ".join(sorted(STOPWORDS)).encode() + b"\x00")  # the keyword index is built with these
    for path in sorted(settings.corpus_dir.rglob("*.md")):
        h.update(str(path.relative_to(settings.corpus_dir)).encode() + b"\x00")
        h.update(path.read_bytes() + b"\x00")
    return h.hexdigest()


def load_index(settings: Settings, embedder: Embedder) -> LoadedIndex:
    """Open a built index for querying; raises IndexUnavailable with advice when it is missing, inconsistent
    or damaged (every file is read, and the vector index answers a probe query, before it is used)."""
    with _damage_reported(settings):
        return _load_index(settings, embedder)


def _load_index(settings: Settings, embedder: Embedder) -> LoadedIndex:
    manifest = read_manifest(settings)
    if manifest is None:
        raise IndexUnavailable(f"no index in {settings.index_dir}; run `assistant index`")
    if manifest.get("embedder") != embedder.id:
        raise IndexUnavailable(
            f"the index was built with embedder {manifest.get('embedder')!r} but {embedder.id!r} is configured; "
            "run `assistant index` to rebuild it"
        )
    try:
        records = json.loads((settings.index_dir / CHUNKS).read_text(encoding="utf-8"))
        chunks = [Chunk.from_dict(r) for r in records]
        lexical = LexicalIndex.load(settings.index_dir / BM25_DIR, manifest["bm25_ids"])
        for lang in lexical.models:  # the memory-mapped arrays are read only when scoring
            lexical.scores("hamburg cluster", lang)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise IndexUnavailable(
            f"the index in {settings.index_dir} is unreadable ({exc}); run `assistant index --rebuild`"
        ) from exc

    client = chroma_client(settings)
    chunk_name, sentence_name = _collection_names(settings)
    built_with = _existing_embedder(client, chunk_name)
    if built_with != embedder.id:
        raise IndexUnavailable(
            f"the Chroma collection {chunk_name!r} was built with {built_with!r}, configured is {embedder.id!r}; "
            "run `assistant index`"
        )
    store = _open_store(client, chunk_name, embedder)
    sentence_store = _open_store(client, sentence_name, embedder)
    count = store._collection.count()
    if count != len(chunks):
        raise IndexUnavailable(f"the index holds {count} vectors for {len(chunks)} chunks; run `assistant index`")
    ids, parts = [], []
    total = sentence_store._collection.count()
    for offset in range(0, total, SENTENCE_PAGE):  # in pages: Chroma returns float64, we keep float32
        got = sentence_store.get(include=["embeddings"], limit=SENTENCE_PAGE, offset=offset)
        ids += got["ids"]
        parts.append(np.asarray(got["embeddings"], dtype=np.float32).reshape(len(got["ids"]), embedder.dim))
    vectors = np.concatenate(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)
    if len(vectors) != len(ids) or not len(ids):
        raise IndexUnavailable(f"the index in {settings.index_dir} has no sentence vectors; run `assistant index`")
    collection = client.get_collection(chunk_name, embedding_function=None)
    collection.query(query_embeddings=vectors[:1], n_results=1, include=["distances"])  # the HNSW files load
    return LoadedIndex(
        chunks=chunks,
        by_id={c.id: c for c in chunks},
        store=store,
        collection=collection,
        lexical=lexical,
        sentence_ids=ids,
        sentence_vectors=vectors,
        sentence_row={sid: i for i, sid in enumerate(ids)},
        manifest=manifest,
    )
