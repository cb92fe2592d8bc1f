"""A database of conversations for the staff page's tests, written through the app's own data layer."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from chainlit.context import init_http_context
from chainlit.types import Feedback
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from assistant import storage
from assistant.settings import Settings


@dataclass
class Asked:
    days_ago: int
    question: str
    language: str = "de"
    cited: tuple[str, ...] = ()
    refused: bool = False
    unhelpful: str | None = None  # the comment of a thumbs-down ("" for none)
    smalltalk: bool = False


# Our own examples: three days with questions, refusals (two wordings of one question) and two thumbs-down.
SEED = [
    Asked(0, "Wer leitet das Luftfahrtcluster?", cited=("aviation-de",)),
    Asked(0, "Welche Projekte hat die Logistik-Initiative?", cited=("logistics-de", "aviation-de")),
    Asked(0, "Regnet es am Samstag in Wandsbek?", refused=True),
    Asked(0, "Regnet es in Wandsbek am Samstag?", refused=True, unhelpful="Schade, Tel. 040 1234567"),
    Asked(1, "What does the maritime cluster do?", language="en", cited=("maritime-en",)),
    Asked(1, "Was kostet ein Parkausweis?", refused=True),
    Asked(1, "Hallo!", smalltalk=True),
    Asked(3, "Wer finanziert das Food Cluster?", cited=("food-de",), unhelpful="Die Zahl fehlt."),
]


ZONE = ZoneInfo("Europe/Berlin")  # the page's days (STAFF_TIMEZONE's default)


def local_today() -> dt.date:
    return dt.datetime.now(ZONE).date()


def expected_days(now: dt.datetime | None = None) -> dict[str, tuple[int, int, int]]:
    """Local day -> (questions, refused, unhelpful) of SEED, as written from `now` (UTC) on."""
    now = now or dt.datetime.now(dt.UTC)
    found: dict[str, list[int]] = {}
    for item in SEED:
        day = (now - dt.timedelta(days=item.days_ago)).astimezone(ZONE).date().isoformat()
        row = found.setdefault(day, [0, 0, 0])
        row[0] += 1
        row[1] += int(item.refused and not item.smalltalk)
        row[2] += int(item.unhelpful is not None)
    return {day: (q, r, u) for day, (q, r, u) in found.items()}


async def _write(layer: storage.PrivateDataLayer, item: Asked, now: dt.datetime) -> None:
    created = (now - dt.timedelta(days=item.days_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    thread, run = str(uuid.uuid4()), str(uuid.uuid4())
    await layer.update_thread(thread, name=item.question, metadata={"history": [item.question]})
    await layer.execute_sql('UPDATE threads SET "createdAt" = :c WHERE "id" = :i', {"c": created, "i": thread})
    base = {"threadId": thread, "streaming": False, "createdAt": created}
    await layer.create_step(
        {**base, "id": str(uuid.uuid4()), "type": "user_message", "name": "User", "output": item.question}
    )
    await layer.create_step({**base, "id": run, "type": "run", "name": "on_message", "input": item.question})
    metadata = {
        "question": item.question,
        "refused": item.refused or item.smalltalk,
        "smalltalk": item.smalltalk,
        "language": item.language,
        "mode": "smalltalk" if item.smalltalk else "extractive",
        "citations": list(item.cited),
    }
    answer = "Dazu habe ich nichts gefunden." if item.refused else f"Antwort auf: {item.question} [1]"
    await layer.create_step(
        {
            **base,
            "id": str(uuid.uuid4()),
            "parentId": run,
            "type": "assistant_message",
            "name": "Assistant",
            "output": answer,
            "metadata": metadata,
        }
    )
    if item.unhelpful is not None:
        await layer.upsert_feedback(Feedback(forId=run, threadId=thread, value=0, comment=item.unhelpful))


async def _seed(settings: Settings, items: list[Asked], clear: bool) -> None:
    init_http_context()  # Chainlit's data layer writes only inside a Chainlit context, as in the app
    await storage.ensure_schema(settings)
    if clear:
        engine = create_async_engine(storage.database_url(settings))
        async with engine.begin() as conn:
            for table in ("feedbacks", "elements", "steps", "threads", "staff_sessions", "staff_failures"):
                await conn.execute(text(f"DELETE FROM {table}"))
        await engine.dispose()
    layer = storage.make_data_layer(settings)
    assert layer is not None
    now = dt.datetime.now(dt.UTC)
    for item in items:
        await _write(layer, item, now)
    await layer.close()


def seed(settings: Settings, items: list[Asked] | None = None, clear: bool = True) -> None:
    """Write the conversations (SEED by default) into the settings' database, emptied first unless `clear` is off.

    In a thread of its own: a browser test's Playwright already runs an event loop in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _seed(settings, SEED if items is None else items, clear)).result()
