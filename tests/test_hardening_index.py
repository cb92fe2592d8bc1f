"""A damaged or unreachable index, seen at start-up and by /api/health (points 11 and 12 of issue 12).

A small corpus keeps every rebuild to seconds; each damage is one that crashed the start before
(a chromadb traceback, or "Aborted." for an emptied BM25 array).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from assistant.settings import Settings
from tests.servers import EXE, free_port, start_app, stop
from tests.test_index import small_corpus

CHROMA = str(Path(sys.executable).parent / "chroma")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small corpus and its index, built once by `assistant index`."""
    corpus = tmp_path_factory.mktemp("corpus")
    index = tmp_path_factory.mktemp("index")
    small_corpus(Settings(corpus_dir=corpus, _env_file=None))
    env = {**os.environ, "CORPUS_DIR": str(corpus), "INDEX_DIR": str(index)}
    result = subprocess.run([EXE, "index"], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return corpus, index


def _truncate_half(path: Path) -> None:
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)


def _segment_files(index: Path, name: str) -> list[Path]:
    return sorted((index / "chroma").glob(f"*/{name}"))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "Chroma database half truncated": lambda index: _truncate_half(index / "chroma" / "chroma.sqlite3"),
    "Chroma database overwritten": lambda index: (index / "chroma" / "chroma.sqlite3").write_bytes(os.urandom(65536)),
    "BM25 array emptied": lambda index: (index / "bm25" / "de" / "data.csc.index.npy").write_bytes(b""),
}


def damaged_copy(built: tuple[Path, Path], tmp_path: Path, damage: str) -> dict[str, str]:
    corpus, index = built
    copy = tmp_path / "index"
    shutil.copytree(index, copy)
    DAMAGE[damage](copy)
    return {**os.environ, "CORPUS_DIR": str(corpus), "INDEX_DIR": str(copy), "DATA_DIR": str(tmp_path)}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_index_is_rebuilt_at_start(built: tuple[Path, Path], tmp_path: Path, damage: str) -> None:
    env = damaged_copy(built, tmp_path, damage)
    port = free_port()
    proc = start_app(env, port, log=tmp_path / "server.log")
    try:
        health = httpx.get(f"http://127.0.0.1:{port}/api/health").json()
        answer = httpx.post(
            f"http://127.0.0.1:{port}/api/ask", json={"question": "Wer leitet das Luftfahrtcluster?"}, timeout=30
        )
    finally:
        log = stop(proc)
    assert health["index_loaded"] and health["chunks"] > 3 and answer.status_code == 200
    said = [line for line in log.splitlines() if "not usable" in line]
    assert len(said) == 1 and "rebuilt" in said[0], log[-3000:]
    assert "Traceback" not in log and "Aborted" not in log


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_without_auto_index_start_up_says_how_to_rebuild(built: tuple[Path, Path], tmp_path: Path, damage: str) -> None:
    env = {**damaged_copy(built, tmp_path, damage), "AUTO_INDEX": "false"}
    result = subprocess.run(
        [EXE, "serve", "--port", str(free_port())], env=env, capture_output=True, text=True, timeout=120
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout, result.stderr
    assert len(lines) == 1 and "assistant index --rebuild" in lines[0], result.stderr
    rebuilt = subprocess.run([EXE, "index", "--rebuild"], env=env, capture_output=True, text=True, timeout=300)
    assert rebuilt.returncode == 0, rebuilt.stderr


def test_a_truncated_hnsw_file_is_detected_and_rebuilt(
    built: tuple[Path, Path], real_settings: Settings, assistant, tmp_path: Path
) -> None:
    """HNSW files are only written for collections of some size (a small index lives in Chroma's log), so the
    real corpus's index is damaged here: without AUTO_INDEX start-up names the fault in one line; with it,
    the index is rebuilt (for the small corpus, to keep the rebuild short)."""
    copy = tmp_path / "index"
    shutil.copytree(real_settings.index_dir, copy)
    files = _segment_files(copy, "data_level0.bin")
    assert files
    for path in files:
        _truncate_half(path)
    env = {**os.environ, "CORPUS_DIR": str(real_settings.corpus_dir), "INDEX_DIR": str(copy), "DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [EXE, "serve", "--port", str(free_port())], env={**env, "AUTO_INDEX": "false"}, capture_output=True, text=True
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1 and "damaged" in lines[0], result.stderr
    port = free_port()
    proc = start_app({**env, "CORPUS_DIR": str(built[0])}, port, log=tmp_path / "server.log")
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/api/health").json()["index_loaded"]
    finally:
        log = stop(proc)
    assert "Traceback" not in log


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, int]]:
    port = free_port()
    proc = subprocess.Popen(
        [CHROMA, "run", "--path", str(tmp_path / "chroma"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    yield proc, port
    proc.kill()
    proc.wait()


def test_health_reports_an_unreachable_chroma_server(
    built: tuple[Path, Path], tmp_path: Path, chroma_server: tuple[subprocess.Popen, int]
) -> None:
    """Point 11: /api/health said index_loaded: true as a constant."""
    corpus, _ = built
    chroma, chroma_port = chroma_server
    env = {
        **os.environ,
        "CORPUS_DIR": str(corpus),
        "INDEX_DIR": str(tmp_path / "index"),
        "DATA_DIR": str(tmp_path),
        "CHROMA_HOST": "127.0.0.1",
        "CHROMA_PORT": str(chroma_port),
    }
    port = free_port()
    proc = start_app(env, port, log=tmp_path / "server.log")
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/api/health").json()["index_loaded"] is True
        chroma.kill()
        chroma.wait()
        health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=30)
        assert health.status_code == 503 and health.json()["index_loaded"] is False
        assert health.json()["status"] == "degraded" and health.json()["problems"]
    finally:
        stop(proc)


def test_a_broken_document_never_costs_the_index(built: tuple[Path, Path], tmp_path: Path) -> None:
    """The corpus is checked before anything is removed: a bad edit to one document (with a stale index)
    used to lead to a rebuild that deleted the working index and still failed."""
    corpus, index = built
    broken, copy = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(corpus, broken)
    shutil.copytree(index, copy)
    document = broken / "de" / "food.md"
    document.write_text(document.read_text(encoding="utf-8").replace("lang: de", "lang: xx"), encoding="utf-8")
    env = {**os.environ, "CORPUS_DIR": str(broken), "INDEX_DIR": str(copy), "DATA_DIR": str(tmp_path)}
    result = subprocess.run([EXE, "serve", "--port", str(free_port())], env=env, capture_output=True, text=True)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1 and "corpus has errors" in lines[0], result.stderr
    assert (copy / "chroma" / "chroma.sqlite3").stat().st_size > 0 and (copy / "manifest.json").exists()


def test_local_damage_beside_a_chroma_server_keeps_the_shared_vectors(
    built: tuple[Path, Path], tmp_path: Path, chroma_server: tuple[subprocess.Popen, int], e5
) -> None:
    """Replicas share the vectors on a Chroma server: a replica whose own files are damaged rebuilds those
    from the vectors already there, and never drops the collections the others are serving."""
    from assistant.index import chroma_client, update_index
    from assistant.service import Assistant

    corpus, _ = built
    _proc, chroma_port = chroma_server
    settings = Settings(
        corpus_dir=corpus,
        index_dir=tmp_path / "index",
        chroma_host="127.0.0.1",
        chroma_port=chroma_port,
        _env_file=None,
    )
    update_index(settings, e5)
    collection_id = chroma_client(settings).get_collection(settings.chroma_collection).id
    (settings.index_dir / "bm25" / "de" / "data.csc.index.npy").write_bytes(b"")
    repaired = Assistant(settings, embedder=e5)
    assert repaired.index_update is not None and repaired.index_update.added == 0  # nothing embedded again
    assert chroma_client(settings).get_collection(settings.chroma_collection).id == collection_id
    assert not repaired.ask("Wer leitet das Luftfahrtcluster?").refused
