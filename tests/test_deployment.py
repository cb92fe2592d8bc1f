"""Two app processes on different ports sharing one Chroma server and one PostgreSQL database.

Runs when .ci/run provides both (CHROMA_TEST_SERVER=host:port, PG_TEST_URL=postgresql://...).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import CHROMA_SERVER, chroma_server_settings
from tests.servers import free_port, start_app, stop
from tests.test_index import small_corpus
from tests.test_server import _chat

PG = os.environ.get("PG_TEST_URL", "")
EXE = str(Path(sys.executable).parent / "assistant")
pytestmark = pytest.mark.skipif(not (CHROMA_SERVER and PG), reason="needs CHROMA_TEST_SERVER and PG_TEST_URL")


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[str], dict[str, str]]]:
    from assistant.settings import Settings

    corpus = tmp_path_factory.mktemp("corpus")
    small_corpus(Settings(corpus_dir=corpus, _env_file=None))
    server = chroma_server_settings()
    shared = {
        **os.environ,
        "CORPUS_DIR": str(corpus),
        "CHROMA_HOST": server["chroma_host"],
        "CHROMA_PORT": str(server["chroma_port"]),
        "CHROMA_COLLECTION": server["chroma_collection"],
        "DATABASE_URL": PG,
        "RATE_LIMIT": "0",
    }
    procs, urls = [], []
    for name in ("a", "b"):  # each replica has its own local folder for BM25 and passage records
        env = {**shared, "INDEX_DIR": str(tmp_path_factory.mktemp(f"index-{name}"))}
        port = free_port()
        procs.append(start_app(env, port))
        urls.append(f"http://127.0.0.1:{port}")
    yield urls, shared
    for proc in procs:
        stop(proc)


def test_both_replicas_answer_from_the_shared_chroma_server(replicas) -> None:
    urls, _ = replicas
    answers = [
        httpx.post(f"{u}/api/ask", json={"question": "Womit befasst sich das Food Cluster Hamburg?"}, timeout=60).json()
        for u in urls
    ]
    assert answers[0]["answer"] == answers[1]["answer"] and answers[0]["citations"][0]["doc_id"] == "food-de"
    health = [httpx.get(f"{u}/api/health").json() for u in urls]
    assert all(h["storage"] == "postgresql" for h in health)


def questions_in_report(env: dict[str, str]) -> int:
    report = subprocess.run([EXE, "report", "--days", "1"], env=env, capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    return int(re.search(r"Questions in the last 1 days: (\d+)", report.stdout).group(1))


def test_conversations_from_both_replicas_land_in_one_database(replicas) -> None:
    urls, env = replicas
    before = questions_in_report(env)
    for url, question in zip(urls, ("Was macht das Food Cluster?", "Wann wurde das ZAL eröffnet?"), strict=True):
        events = asyncio.run(_chat(url, question, "de-DE"))
        assert any(e.get("type") == "assistant_message" for e in events)
    assert questions_in_report(env) == before + 2  # one from each replica, in the one database
