"""Time of the staff page's figures for a busy month: how long /staff takes to compute, first and again.

Usage: .venv/bin/python bench/staff_page.py [--questions 3000] [--refused 600]
Writes a month of conversations (generated wordings, `refused` distinct refused ones) into a temporary SQLite
database through the app's data layer, then times the figures of the 30 days: the first time (every refused
wording embedded for grouping) and again (the page remembers their vectors), as paging or sorting does.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from chainlit.context import init_http_context  # noqa: E402

from assistant import storage  # noqa: E402
from assistant.settings import Settings  # noqa: E402

from _common import machine  # noqa: E402

SUBJECTS = [
    "Parkausweis",
    "Wohngeld",
    "Bürgeramt",
    "Hundesteuer",
    "Sperrmüll",
    "Kita-Platz",
    "Reisepass",
    "Baugenehmigung",
]
PLACES = ["Altona", "Wandsbek", "Harburg", "Bergedorf", "Eimsbüttel", "Nord", "Mitte"]
FORMS = [
    "Wie beantrage ich {s} in {p}?",
    "Was kostet {s} in {p}?",
    "Wo bekomme ich {s} in {p}?",
    "{s} in {p} – wie lange dauert das?",
]


async def write(settings: Settings, questions: int, refused: int) -> None:
    init_http_context()
    await storage.ensure_schema(settings)
    layer = storage.make_data_layer(settings)
    assert layer is not None
    rng = random.Random(7)
    wordings = [
        f.format(s=s, p=p) + (f" ({n})" if n else "")
        for n in range(10)
        for f in FORMS
        for s in SUBJECTS
        for p in PLACES
    ]
    now = dt.datetime.now(dt.UTC)
    for i in range(questions):
        created = (now - dt.timedelta(minutes=rng.randrange(30 * 24 * 60))).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        thread, run = str(uuid.uuid4()), str(uuid.uuid4())
        is_refused = i % max(1, questions // refused) == 0
        question = wordings[i % refused] if is_refused else "Wer leitet das Luftfahrtcluster?"
        await layer.update_thread(thread, name=question)
        base = {"threadId": thread, "streaming": False, "createdAt": created}
        await layer.create_step({**base, "id": run, "type": "run", "name": "on_message", "input": question})
        meta = {
            "question": question,
            "refused": is_refused,
            "language": "de",
            "mode": "extractive",
            "citations": [] if is_refused else ["aviation-de"],
        }
        await layer.create_step(
            {
                **base,
                "id": str(uuid.uuid4()),
                "parentId": run,
                "type": "assistant_message",
                "name": "Assistant",
                "output": "…",
                "metadata": meta,
            }
        )
    await layer.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=3000)
    parser.add_argument("--refused", type=int, default=600)
    args = parser.parse_args()
    from assistant.runtime import get_assistant
    from assistant.staff_page import StaffPage
    from assistant.staff_stats import Period

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder))
        started = time.perf_counter()
        asyncio.run(write(settings, args.questions, args.refused))
        print(f"machine: {machine()}; wrote {args.questions} questions in {time.perf_counter() - started:.1f} s")
        page = StaffPage(settings, get_assistant)
        get_assistant()  # loaded before timing, as in a running server
        today = dt.datetime.now(page.zone).date()
        period = Period(today - dt.timedelta(days=29), today)

        async def timed() -> tuple[float, int]:
            started = time.perf_counter()
            figures = await page.figures(period)
            return time.perf_counter() - started, len(figures.refused_groups)

        async def run() -> list[tuple[float, int]]:
            try:
                return [await timed(), await timed()]
            finally:
                await page.close()

        (first, groups), (again, _) = asyncio.run(run())
        print("| figures of 30 days | seconds |\n|---|---|")
        print(f"| first view ({groups} refused groups from {args.refused} wordings) | {first:.2f} |")
        print(f"| again (paging, sorting, export) | {again:.2f} |")


if __name__ == "__main__":
    main()
