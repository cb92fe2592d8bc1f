"""Conversation and feedback storage: Chainlit's SQLAlchemy data layer, privacy first.

SQLite by default (a file, no server), PostgreSQL when DATABASE_URL points at one.
Personal data in messages, thread names and feedback comments is replaced before
it reaches the database; `purge` deletes what is older than RETENTION_DAYS; `report`
summarises questions, refusals and negative feedback for staff.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from chainlit.data.sql_alchemy import SQLAlchemyDataLayer
from chainlit.types import Feedback
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from assistant.privacy import redact, redact_all
from assistant.settings import Settings

# Chainlit 2.12's tables (see shared/notes/chainlit-facts.md); SQLite stores JSON and lists as TEXT.
SQLITE_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS users ("id" TEXT PRIMARY KEY, "identifier" TEXT NOT NULL UNIQUE,
       "metadata" TEXT NOT NULL, "createdAt" TEXT)""",
    """CREATE TABLE IF NOT EXISTS threads ("id" TEXT PRIMARY KEY, "createdAt" TEXT, "name" TEXT, "userId" TEXT,
       "userIdentifier" TEXT, "tags" TEXT, "metadata" TEXT,
       FOREIGN KEY ("userId") REFERENCES users("id") ON DELETE CASCADE)""",
    """CREATE TABLE IF NOT EXISTS steps ("id" TEXT PRIMARY KEY, "name" TEXT NOT NULL, "type" TEXT NOT NULL,
       "threadId" TEXT NOT NULL, "parentId" TEXT, "streaming" BOOLEAN NOT NULL, "waitForAnswer" BOOLEAN,
       "isError" BOOLEAN, "metadata" TEXT, "tags" TEXT, "input" TEXT, "output" TEXT, "createdAt" TEXT,
       "command" TEXT, "modes" TEXT, "start" TEXT, "end" TEXT, "generation" TEXT, "showInput" TEXT,
       "language" TEXT, "indent" INT, "defaultOpen" BOOLEAN, "autoCollapse" BOOLEAN,
       FOREIGN KEY ("threadId") REFERENCES threads("id") ON DELETE CASCADE)""",
    """CREATE TABLE IF NOT EXISTS elements ("id" TEXT PRIMARY KEY, "threadId" TEXT, "type" TEXT, "url" TEXT,
       "chainlitKey" TEXT, "name" TEXT NOT NULL, "display" TEXT, "objectKey" TEXT, "size" TEXT, "page" INT,
       "language" TEXT, "forId" TEXT, "mime" TEXT, "props" TEXT, "autoPlay" BOOLEAN, "playerConfig" TEXT,
       FOREIGN KEY ("threadId") REFERENCES threads("id") ON DELETE CASCADE)""",
    """CREATE TABLE IF NOT EXISTS feedbacks ("id" TEXT PRIMARY KEY, "forId" TEXT NOT NULL, "threadId" TEXT NOT NULL,
       "value" INT NOT NULL, "comment" TEXT,
       FOREIGN KEY ("threadId") REFERENCES threads("id") ON DELETE CASCADE)""",
    'CREATE INDEX IF NOT EXISTS steps_thread ON steps ("threadId")',
    'CREATE INDEX IF NOT EXISTS threads_created ON threads ("createdAt")',
]
# The same tables with PostgreSQL types, as Chainlit's SQLAlchemy data layer expects them there.
POSTGRES_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS users ("id" UUID PRIMARY KEY, "identifier" TEXT NOT NULL UNIQUE,
       "metadata" JSONB NOT NULL, "createdAt" TEXT)""",
    """CREATE TABLE IF NOT EXISTS threads ("id" UUID PRIMARY KEY, "createdAt" TEXT, "name" TEXT, "userId" UUID,
       "userIdentifier" TEXT, "tags" TEXT[], "metadata" JSONB,
       FOREIGN KEY ("userId") REFERENCES users("id") ON DELETE CASCADE)""",
    """CREATE TABLE IF NOT EXISTS steps ("id" UUID PRIMARY KEY, "name" TEXT NOT NULL, "type" TEXT NOT NULL,
       "threadId" UUID NOT NULL, "parentId" UUID, "streaming" BOOLEAN NOT NULL, "waitForAnswer" BOOLEAN,
       "isError" BOOLEAN, "metadata" JSONB, "tags" TEXT[], "input" TEXT, "output" TEXT, "createdAt" TEXT,
       "command" TEXT, "modes" JSONB, "start" TEXT, "end" TEXT, "generation" JSONB, "showInput" TEXT,
       "language" TEXT, "indent" INT, "defaultOpen" BOOLEAN, "autoCollapse" BOOLEAN,
       FOREIGN KEY ("threadId") REFERENCES threads("id") ON DELETE CASCADE)""",
    """CREATE TABLE IF NOT EXISTS elements ("id" UUID PRIMARY KEY, "threadId" UUID, "type" TEXT, "url" TEXT,
       "chainlitKey" TEXT, "name" TEXT NOT NULL, "display" TEXT, "objectKey" TEXT, "size" TEXT, "page" INT,
       "language" TEXT, "forId" UUID, "mime" TEXT, "props" JSONB, "autoPlay" BOOLEAN, "playerConfig" JSONB,
       FOREIGN KEY ("threadId") REFERENCES threads("id") ON DELETE CASCADE)""",
    """CREATE TABLE IF NOT EXISTS feedbacks ("id" UUID PRIMARY KEY, "forId" UUID NOT NULL, "threadId" UUID NOT NULL,
       "value" INT NOT NULL, "comment" TEXT,
       FOREIGN KEY ("threadId") REFERENCES threads("id") ON DELETE CASCADE)""",
    'CREATE INDEX IF NOT EXISTS steps_thread ON steps ("threadId")',
    'CREATE INDEX IF NOT EXISTS threads_created ON threads ("createdAt")',
]


def database_url(settings: Settings) -> str:
    """The async SQLAlchemy URL: DATABASE_URL, or a SQLite file in DATA_DIR."""
    if settings.database_url:
        url = settings.database_url
        if url.startswith(("postgres://", "postgresql://")):
            url = "postgresql+asyncpg://" + url.split("://", 1)[1]
        return url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{settings.data_dir / 'chat.db'}"


class PrivateDataLayer(SQLAlchemyDataLayer):
    """Chainlit's data layer, with personal data removed from everything it writes."""

    async def create_step(self, step_dict):
        for key in ("input", "output", "name"):
            if isinstance(step_dict.get(key), str) and step_dict.get("type") in ("user_message", "run"):
                step_dict[key] = redact(step_dict[key])
        metadata = step_dict.get("metadata")
        if isinstance(metadata, dict):
            metadata = redact_all(metadata)
            if isinstance(metadata.get("location"), str):  # the embedding page: no query string or fragment
                metadata["location"] = urlsplit(metadata["location"])._replace(query="", fragment="").geturl()
            step_dict["metadata"] = metadata
        return await super().create_step(step_dict)

    async def update_thread(
        self,
        thread_id: str,
        name: str | None = None,
        user_id: str | None = None,
        metadata: dict | None = None,
        tags: list[str] | None = None,
    ):
        # the session (e.g. the question history) is stored as thread metadata: redact all of it
        return await super().update_thread(thread_id, redact(name), user_id, redact_all(metadata), tags)

    async def upsert_feedback(self, feedback: Feedback) -> str:
        feedback.comment = redact(feedback.comment)
        return await super().upsert_feedback(feedback)


def make_data_layer(settings: Settings) -> PrivateDataLayer | None:
    """The data layer, or None when STORE_CONVERSATIONS is off (nothing is stored at all)."""
    if not settings.store_conversations:
        return None
    return PrivateDataLayer(conninfo=database_url(settings))


async def ensure_schema(settings: Settings) -> None:
    """Create the tables if missing (Chainlit silently drops writes to missing tables)."""
    url = database_url(settings)
    statements = POSTGRES_SCHEMA if url.startswith("postgresql") else SQLITE_SCHEMA
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def purge(settings: Settings, days: int | None = None, now: dt.datetime | None = None) -> int:
    """Delete threads (with their messages, feedback and elements) older than `days`; returns the count."""
    days = settings.retention_days if days is None else days
    cutoff = ((now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S")
    engine = create_async_engine(database_url(settings))
    try:
        async with engine.begin() as conn:
            old = [
                r[0] for r in await conn.execute(text('SELECT "id" FROM threads WHERE "createdAt" < :c'), {"c": cutoff})
            ]
            for table in ("feedbacks", "elements", "steps"):
                for start in range(0, len(old), 500):
                    ids = old[start : start + 500]
                    marks = ", ".join(f":i{n}" for n in range(len(ids)))
                    await conn.execute(
                        text(f'DELETE FROM {table} WHERE "threadId" IN ({marks})'),
                        {f"i{n}": v for n, v in enumerate(ids)},
                    )
            await conn.execute(text('DELETE FROM threads WHERE "createdAt" < :c'), {"c": cutoff})
        return len(old)
    finally:
        await engine.dispose()


@dataclass
class Report:
    """What staff need to see where the corpus has gaps."""

    per_day: dict[str, int] = field(default_factory=dict)
    refused_per_day: dict[str, int] = field(default_factory=dict)
    total: int = 0
    refused: int = 0
    top_refused: list[tuple[str, int]] = field(default_factory=list)
    negative: list[dict] = field(default_factory=list)

    @property
    def refused_share(self) -> float:
        return self.refused / self.total if self.total else 0.0


def _json(value) -> dict:
    if isinstance(value, dict):
        return value
    try:
        return json.loads(value or "{}")
    except (TypeError, ValueError):
        return {}


async def report(settings: Settings, days: int = 30, top: int = 10) -> Report:
    """Questions per day, share refused, most frequent refused questions, answers with negative feedback."""
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S")
    engine = create_async_engine(database_url(settings))
    result = Report()
    per_day: Counter[str] = Counter()
    refused_day: Counter[str] = Counter()
    refused_questions: Counter[str] = Counter()
    answers_by_run: dict[str, dict] = defaultdict(dict)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    'SELECT "parentId", "createdAt", "metadata", "output" FROM steps '
                    'WHERE "type" = \'assistant_message\' AND "createdAt" >= :s'
                ),
                {"s": since},
            )
            for parent, created, metadata, output in rows:
                meta = _json(metadata)
                if "question" not in meta:
                    continue  # not an answer (e.g. an error notice)
                day = str(created)[:10]
                per_day[day] += 1
                if meta.get("refused") and meta.get("mode") != "smalltalk":  # "Hallo" is no gap in the corpus
                    refused_day[day] += 1
                    refused_questions[" ".join(str(meta["question"]).split()).casefold()] += 1
                answers_by_run[str(parent)] = {"question": meta["question"], "answer": output or "", "day": day}
            feedback = await conn.execute(text('SELECT "forId", "value", "comment" FROM feedbacks WHERE "value" = 0'))
            for for_id, _value, comment in feedback:
                answer = answers_by_run.get(str(for_id))
                if answer:
                    result.negative.append({**answer, "comment": comment or ""})
    finally:
        await engine.dispose()
    result.per_day = dict(sorted(per_day.items()))
    result.refused_per_day = dict(sorted(refused_day.items()))
    result.total = sum(per_day.values())
    result.refused = sum(refused_day.values())
    result.top_refused = refused_questions.most_common(top)
    return result
