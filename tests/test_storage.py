"""Storage on a real SQLite file: personal data removed on write, retention purge, staff report."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
import uuid
from pathlib import Path

from chainlit.context import init_http_context
from chainlit.types import Feedback

from assistant import storage
from assistant.settings import Settings


def settings_in(tmp_path: Path, **extra) -> Settings:
    return Settings(data_dir=tmp_path, _env_file=None, **extra)


async def write_conversation(
    layer: storage.PrivateDataLayer,
    question: str,
    refused: bool,
    comment: str | None,
    created: str,
    mode: str = "extractive",
) -> str:
    thread = str(uuid.uuid4())
    run = str(uuid.uuid4())
    await layer.update_thread(thread, name=question, metadata={"history": [question]})
    await layer.create_step(
        {
            "id": str(uuid.uuid4()),
            "threadId": thread,
            "type": "user_message",
            "name": "User",
            "output": question,
            "streaming": False,
            "createdAt": created,
            "metadata": {"location": "https://www.hamburg.de/seite?mail=x@y.de#top"},
        }
    )
    await layer.create_step(
        {
            "id": run,
            "threadId": thread,
            "type": "run",
            "name": "on_message",
            "input": question,
            "streaming": False,
            "createdAt": created,
        }
    )
    await layer.create_step(
        {
            "id": str(uuid.uuid4()),
            "threadId": thread,
            "parentId": run,
            "type": "assistant_message",
            "name": "Assistant",
            "output": "Antwort [1].",
            "streaming": False,
            "createdAt": created,
            "metadata": {"question": question, "refused": refused, "mode": mode},
        }
    )
    if comment is not None:
        await layer.upsert_feedback(Feedback(forId=run, threadId=thread, value=0, comment=comment))
    return thread


def test_write_redacts_purge_and_report(tmp_path: Path) -> None:
    settings = settings_in(tmp_path, retention_days=30)

    async def scenario() -> tuple[int, storage.Report]:
        init_http_context()  # Chainlit's data layer writes only inside a Chainlit context, as in the app
        await storage.ensure_schema(settings)
        layer = storage.make_data_layer(settings)
        now = dt.datetime.now(dt.UTC)
        recent = now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        await write_conversation(
            layer, "Wie erreiche ich Sie unter 040 1234567?", True, "falsch, mail an a@b.de", recent
        )
        await write_conversation(layer, "Wie erreiche ich Sie unter 040 7654321?", True, None, recent)
        await write_conversation(layer, "Welche Cluster gibt es?", False, None, recent)
        await write_conversation(layer, "Hallo!", True, None, recent, mode="smalltalk")  # no gap in the corpus
        await layer.close()
        database = tmp_path / "chat.db"
        old = (now - dt.timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        with sqlite3.connect(database) as db:  # age one thread beyond the retention period
            db.execute('UPDATE threads SET "createdAt" = ? WHERE "name" LIKE ?', (old, "Welche Cluster%"))
        removed = await storage.purge(settings)
        return removed, await storage.report(settings, days=7)

    removed, report = asyncio.run(scenario())
    database = sqlite3.connect(tmp_path / "chat.db")
    everything = json.dumps(
        database.execute("SELECT * FROM threads").fetchall()
        + database.execute("SELECT * FROM steps").fetchall()
        + database.execute("SELECT * FROM feedbacks").fetchall()
    )
    for personal in ("1234567", "7654321", "a@b.de", "x@y.de", "mail="):
        assert personal not in everything, personal
    assert "[Telefon]" in everything and "[E-Mail]" in everything
    assert removed == 1
    assert database.execute("SELECT COUNT(*) FROM steps WHERE output LIKE 'Welche Cluster%'").fetchone()[0] == 0
    assert database.execute("SELECT COUNT(*) FROM threads").fetchone()[0] == 3
    assert report.total == 3 and report.refused == 2 and report.refused_share == 2 / 3
    assert report.top_refused == [("wie erreiche ich sie unter [telefon]?", 2)]
    assert report.negative and report.negative[0]["comment"] == "falsch, mail an [E-Mail]"


def test_storage_off_means_no_data_layer(tmp_path: Path) -> None:
    assert storage.make_data_layer(settings_in(tmp_path, store_conversations=False)) is None


def test_postgres_url_uses_the_async_driver(tmp_path: Path) -> None:
    url = storage.database_url(settings_in(tmp_path, database_url="postgresql://u:p@db/assistant"))
    assert url == "postgresql+asyncpg://u:p@db/assistant"
    assert storage.database_url(settings_in(tmp_path)).startswith("sqlite+aiosqlite:///")
