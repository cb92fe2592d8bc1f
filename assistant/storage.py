"""Conversation and feedback storage: Chainlit's SQLAlchemy data layer, privacy first.

SQLite by default (a file, no server), PostgreSQL when DATABASE_URL points at one.
Personal data in messages, thread names and feedback comments is replaced before
it reaches the database; `purge` deletes what is older than RETENTION_DAYS; `report`
summarises questions, refusals and negative feedback for staff.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import json
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
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
    'CREATE TABLE IF NOT EXISTS health_probe ("id" INT PRIMARY KEY, "at" DOUBLE PRECISION)',  # see usable()
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
    'CREATE TABLE IF NOT EXISTS health_probe ("id" INT PRIMARY KEY, "at" DOUBLE PRECISION)',  # see usable()
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


log = logging.getLogger(__name__)
# Thread metadata worth keeping (Chainlit stores the whole session, chat settings a client sent included)
THREAD_METADATA = ("history", "client_type")
USER_STEP_METADATA = ("location", "truncated")  # what a user's message may carry (the chat guard sets these)


class StorageFailed(RuntimeError):
    """A write the caller must not report as done (feedback) failed; the message names the error class only."""


_strict: contextvars.ContextVar[bool] = contextvars.ContextVar("strict_storage", default=False)


@contextlib.contextmanager
def strict() -> Iterator[None]:
    """Inside this block a failed database statement raises StorageFailed instead of being logged and ignored."""
    token = _strict.set(True)
    try:
        yield
    finally:
        _strict.reset(token)


def _error_code(exc: BaseException) -> str:
    """The database's own error code ("SQLITE_FULL", SQLSTATE "53100"), never the statement or its values."""
    orig = getattr(exc, "orig", None) or exc
    code = getattr(orig, "sqlite_errorname", None) or getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return f"{type(orig).__name__}{f' {code}' if code else ''}"


@dataclass
class WriteState:
    """The outcome of the latest write, for /api/health."""

    ok: bool = True
    error: str | None = None
    at: float | None = None


class PrivateDataLayer(SQLAlchemyDataLayer):
    """Chainlit's data layer, with personal data removed from everything it writes (off the event loop),
    errors logged without the statement's values, and failed writes visible to health checks."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.last_write = WriteState()

    async def execute_sql(self, query: str, parameters: dict):
        """Chainlit's execute_sql, but a failure is logged by error class only (SQLAlchemy's message holds the
        values: questions, comments) and raises StorageFailed inside `strict()`."""
        writing = not query.lstrip().upper().startswith("SELECT")
        async with self.async_session() as session:
            try:
                await session.begin()
                result = await session.execute(text(query), parameters)
                await session.commit()
                rows = [dict(row._mapping) for row in result.fetchall()] if result.returns_rows else None
            except Exception as exc:  # noqa: BLE001 - as Chainlit: a failed write must not end the chat
                await session.rollback()
                operation = " ".join(query.split()[:3])
                code = _error_code(exc)
                log.error("database %s failed: %s", operation, code)
                if writing:
                    self.last_write = WriteState(ok=False, error=code, at=time.time())
                if _strict.get():
                    raise StorageFailed(code) from None
                return None
        if writing:
            self.last_write = WriteState(ok=True, at=time.time())
        return self.clean_result(rows) if rows is not None else result.rowcount

    async def create_step(self, step_dict):
        step_dict = await asyncio.to_thread(self._private_step, dict(step_dict))  # redaction is CPU work
        return await super().create_step(step_dict)

    @staticmethod
    def _private_step(step_dict: dict) -> dict:
        """The step as stored: its texts without personal data, a user message's metadata reduced to the
        embedding page's address without its query string."""
        for key in ("input", "output", "name"):  # answers too: a generated one may repeat the user's number
            if isinstance(step_dict.get(key), str):
                step_dict[key] = redact(step_dict[key])
        metadata = step_dict.get("metadata")
        if isinstance(metadata, dict):
            if step_dict.get("type") == "user_message":
                metadata = {k: v for k, v in metadata.items() if k in USER_STEP_METADATA}
            metadata = redact_all(metadata)
            if isinstance(metadata.get("location"), str):  # the embedding page: no query string or fragment
                metadata["location"] = urlsplit(metadata["location"])._replace(query="", fragment="").geturl()
            step_dict["metadata"] = metadata
        return step_dict

    async def create_element(self, element) -> None:
        """Source elements are not stored: the answer text keeps its citations, and there is no file storage."""
        return None

    async def update_thread(
        self,
        thread_id: str,
        name: str | None = None,
        user_id: str | None = None,
        metadata: dict | None = None,
        tags: list[str] | None = None,
    ):
        # the session is stored as thread metadata: only the question history, without personal data
        if metadata is not None:
            metadata = {k: v for k, v in metadata.items() if k in THREAD_METADATA}
        if name or metadata:  # Chainlit calls this with neither before every step
            name, metadata = await asyncio.to_thread(lambda: (redact(name), redact_all(metadata)))
        return await super().update_thread(thread_id, name, user_id, metadata, tags)

    async def upsert_feedback(self, feedback: Feedback) -> str:
        """Store a vote; raises StorageFailed when it was not stored (the user is told, not thanked)."""
        feedback.comment = await asyncio.to_thread(redact, feedback.comment)
        with strict():
            return await super().upsert_feedback(feedback)

    async def delete_feedback(self, feedback_id: str) -> bool:
        with strict():
            return await super().delete_feedback(feedback_id)

    async def step_thread(self, step_id: str) -> str | None:
        """The thread a step belongs to, or None when there is no such step (StorageFailed if unreadable)."""
        with strict():
            rows = await self.execute_sql('SELECT "threadId" FROM steps WHERE "id" = :id', {"id": step_id})
        return str(rows[0]["threadId"]) if rows else None

    async def feedback_thread(self, feedback_id: str) -> str | None:
        """The thread a stored feedback belongs to, or None (StorageFailed if unreadable)."""
        with strict():
            rows = await self.execute_sql('SELECT "threadId" FROM feedbacks WHERE "id" = :id', {"id": feedback_id})
        return str(rows[0]["threadId"]) if rows else None

    async def usable(self) -> bool:
        """Whether the database answers, and takes writes again if the latest one failed (for health checks).

        Writing is probed only after a failure, so a health check on a working database stays a read;
        without the probe an instance taken out of rotation would never see a write succeed again.
        """
        try:
            async with self.engine.begin() as conn:
                await conn.execute(text("SELECT 1"))
                if not self.last_write.ok:  # one upsert: two checks at once must not collide on the key
                    await conn.execute(
                        text(
                            'INSERT INTO health_probe ("id", "at") VALUES (1, :at) '
                            'ON CONFLICT ("id") DO UPDATE SET "at" = excluded."at"'
                        ),
                        {"at": time.time()},
                    )
        except Exception as exc:  # noqa: BLE001 - whatever the driver raises: not usable
            log.error("database check failed: %s", _error_code(exc))
            return False
        if not self.last_write.ok:
            self.last_write = WriteState(ok=True, at=time.time())
        return True


def make_data_layer(settings: Settings) -> PrivateDataLayer | None:
    """The data layer, or None when STORE_CONVERSATIONS is off (nothing is stored at all)."""
    if not settings.store_conversations:
        return None
    return PrivateDataLayer(conninfo=database_url(settings))


async def ensure_schema(settings: Settings) -> None:
    """Create the tables if missing (Chainlit silently drops writes to missing tables)."""
    url = database_url(settings)
    from assistant.staff_auth import SCHEMA as STAFF_SCHEMA  # the staff page's logins, in the same database

    statements = (POSTGRES_SCHEMA if url.startswith("postgresql") else SQLITE_SCHEMA) + STAFF_SCHEMA
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
            # rows whose thread is gone (or never was): nothing would ever purge them otherwise
            for table in ("feedbacks", "elements", "steps"):
                await conn.execute(text(f'DELETE FROM {table} WHERE "threadId" NOT IN (SELECT "id" FROM threads)'))
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


def json_object(value) -> dict:
    """Stored metadata as a dict: PostgreSQL returns JSONB as one, SQLite as text; anything else is empty."""
    if isinstance(value, dict):
        return value
    try:
        found = json.loads(value or "{}")
    except (TypeError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


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
                # only answers the server wrote: an assistant message inside the run of a question
                text(
                    'SELECT a."parentId", a."createdAt", a."metadata", a."output" FROM steps a '
                    'JOIN steps r ON r."id" = a."parentId" AND r."type" = \'run\' '
                    'WHERE a."type" = \'assistant_message\' AND a."createdAt" >= :s'
                ),
                {"s": since},
            )
            for parent, created, metadata, output in rows:
                meta = json_object(metadata)
                if "question" not in meta:
                    continue  # not an answer (e.g. an error notice)
                day = str(created)[:10]
                per_day[day] += 1
                # "Hallo" is no gap in the corpus (older rows mark small talk by mode and refused)
                if meta.get("refused") and not meta.get("smalltalk") and meta.get("mode") != "smalltalk":
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
