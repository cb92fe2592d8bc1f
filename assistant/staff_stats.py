"""The figures of the staff page for a period, read from what the chat already stores (any app process's).

Questions are the answers the server wrote (an assistant message inside the run of a question, with the
question in its metadata), as in `assistant report`. Refused excludes small talk ("Hallo" is no gap in the
corpus); unhelpful is a thumbs-down on the answer. The cluster of a question is the topic of its first cited
source. Refused questions are grouped by meaning: wordings whose vectors (the assistant's own embedder) are at
least STAFF_SAME_QUESTION similar count as one, under the most frequent wording.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from assistant.storage import json_object

NO_SOURCE = "-"  # the cluster of an answer without a cited source (refused, small talk)


@dataclass
class Period:
    start: dt.date
    end: dt.date  # inclusive

    @property
    def days(self) -> list[str]:
        return [(self.start + dt.timedelta(days=n)).isoformat() for n in range((self.end - self.start).days + 1)]


@dataclass
class Day:
    day: str
    questions: int = 0
    refused: int = 0
    unhelpful: int = 0

    @property
    def refused_share(self) -> float:
        return self.refused / self.questions if self.questions else 0.0

    @property
    def unhelpful_share(self) -> float:
        return self.unhelpful / self.questions if self.questions else 0.0


@dataclass
class RefusedGroup:
    question: str  # the most frequent wording
    count: int
    wordings: list[str]
    last: str  # the latest day it was asked
    lang: str = ""  # the language the most frequent wording was answered in


@dataclass
class Unhelpful:
    day: str
    question: str
    answer: str
    sources: list[dict]  # {"doc_id", "title", "url"}
    comment: str
    lang: str = ""  # the language of the question and its answer


@dataclass
class Figures:
    period: Period
    days: list[Day]
    clusters: list[tuple[str, int]]
    languages: list[tuple[str, int]]
    refused_groups: list[RefusedGroup]
    unhelpful: list[Unhelpful]
    oldest: str | None = None  # when the oldest stored conversation began
    totals: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "period": {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()},
            "totals": self.totals,
            "days": [
                {
                    **asdict(d),
                    "refused_share": round(d.refused_share, 4),
                    "unhelpful_share": round(d.unhelpful_share, 4),
                }
                for d in self.days
            ],
            "clusters": [{"cluster": c, "questions": n} for c, n in self.clusters],
            "languages": [{"language": lang, "questions": n} for lang, n in self.languages],
            "refused_questions": [asdict(g) for g in self.refused_groups],
            "unhelpful_answers": [asdict(u) for u in self.unhelpful],
        }


def group_refused(
    asked: Sequence[tuple[str, str] | tuple[str, str, str]],
    embed: Callable[[list[str]], np.ndarray],
    same: float,
    limit: int | None = None,
) -> list[RefusedGroup]:
    """(day, question[, language]) grouped by meaning: each wording joins the group of the most frequent wording
    it is at least `same` similar to, or starts one. Only the `limit` most frequent wordings are embedded (the
    cost of a page grows with them); rarer ones stay groups of their own."""
    counts = Counter(" ".join(item[1].split()) for item in asked)
    last: dict[str, str] = {}
    langs: dict[str, str] = {}
    for item in asked:
        key = " ".join(item[1].split())
        last[key] = max(item[0], last.get(key, ""))
        langs.setdefault(key, item[2] if len(item) > 2 else "")
    wordings = sorted(counts, key=lambda w: (-counts[w], w))
    if not wordings:
        return []
    grouped = wordings[:limit] if limit is not None else wordings
    vectors = np.asarray(embed(grouped))
    similar = vectors @ vectors.T  # one product for every pair
    groups: list[tuple[int, list[int]]] = []  # (the leading wording, members)
    for i in range(len(grouped)):
        leads = [lead for lead, _ in groups]
        best = int(np.argmax(similar[i, leads])) if leads else -1
        if best >= 0 and similar[i, leads[best]] >= same:
            groups[best][1].append(i)
        else:
            groups.append((i, [i]))
    found = [
        RefusedGroup(
            question=wordings[lead],
            count=sum(counts[wordings[m]] for m in members),
            wordings=[wordings[m] for m in members],
            last=max(last[wordings[m]] for m in members),
            lang=langs[wordings[lead]],
        )
        for lead, members in [*groups, *((i, [i]) for i in range(len(grouped), len(wordings)))]
    ]
    return sorted(found, key=lambda g: (-g.count, g.question))


def _utc(day: dt.date, zone: dt.tzinfo) -> str:
    """The start of a local day as stored timestamps are written (UTC, ISO)."""
    return dt.datetime.combine(day, dt.time.min, zone).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def local_day(created: object, zone: dt.tzinfo) -> str:
    """The local day of a stored timestamp (written in UTC, with or without its "Z")."""
    stamp = (
        created if isinstance(created, dt.datetime) else dt.datetime.fromisoformat(str(created).replace("Z", "+00:00"))
    )
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(zone).date().isoformat()


async def read_figures(
    engine: AsyncEngine,
    period: Period,
    topic_of: Callable[[str], str | None],
    source_of: Callable[[str], dict],
    embed: Callable[[list[str]], np.ndarray],
    same_question: float,
    zone: dt.tzinfo = dt.UTC,
    group_limit: int | None = None,
) -> Figures:
    """Everything the page shows for the period, by days of the time zone `zone` (timestamps are stored in UTC)."""
    start = _utc(period.start, zone)
    after_end = _utc(period.end + dt.timedelta(days=1), zone)
    days = {d: Day(day=d) for d in period.days}
    clusters: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    refused: list[tuple[str, str, str]] = []
    answers: dict[str, dict] = {}
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                'SELECT a."parentId", a."createdAt", a."metadata", a."output" FROM steps a '
                'JOIN steps r ON r."id" = a."parentId" AND r."type" = \'run\' '
                'WHERE a."type" = \'assistant_message\' AND a."createdAt" >= :s AND a."createdAt" < :e'
            ),
            {"s": start, "e": after_end},
        )
        for parent, created, metadata, output in rows:
            meta = json_object(metadata)
            if "question" not in meta:
                continue  # not an answer (an error notice, a draft reply)
            try:
                day = local_day(created, zone)
            except ValueError:
                continue  # a timestamp no clock wrote
            if day not in days:
                continue
            days[day].questions += 1
            cited = [str(c) for c in meta.get("citations") or []]
            clusters[(topic_of(cited[0]) if cited else None) or NO_SOURCE] += 1
            languages[str(meta.get("language") or NO_SOURCE)] += 1
            if meta.get("refused") and not meta.get("smalltalk") and meta.get("mode") != "smalltalk":
                days[day].refused += 1
                refused.append((day, str(meta["question"]), str(meta.get("language") or "")))
            answers[str(parent)] = {
                "day": day,
                "question": str(meta["question"]),
                "answer": output or "",
                "cited": cited,
                "lang": str(meta.get("language") or ""),
            }
        feedback = await conn.execute(text('SELECT "forId", "comment" FROM feedbacks WHERE "value" = 0'))
        unhelpful = []
        for for_id, comment in feedback:
            answer = answers.get(str(for_id))
            if answer is None:
                continue  # outside the period
            days[answer["day"]].unhelpful += 1
            unhelpful.append(
                Unhelpful(
                    day=answer["day"],
                    question=answer["question"],
                    answer=answer["answer"],
                    sources=[source_of(doc) for doc in dict.fromkeys(answer["cited"])],
                    comment=comment or "",
                    lang=answer["lang"],
                )
            )
        oldest = (await conn.execute(text('SELECT MIN("createdAt") FROM threads'))).scalar()
    by_day = [days[d] for d in period.days]
    groups = await asyncio.to_thread(group_refused, refused, embed, same_question, group_limit)  # embedding is CPU work
    totals = {
        "questions": sum(d.questions for d in by_day),
        "refused": sum(d.refused for d in by_day),
        "unhelpful": sum(d.unhelpful for d in by_day),
    }
    return Figures(
        period=period,
        days=by_day,
        clusters=sorted(clusters.items(), key=lambda item: (-item[1], item[0])),
        languages=sorted(languages.items(), key=lambda item: (-item[1], item[0])),
        refused_groups=groups,
        unhelpful=sorted(unhelpful, key=lambda u: u.day, reverse=True),
        oldest=str(oldest) if oldest else None,
        totals=totals,
    )
