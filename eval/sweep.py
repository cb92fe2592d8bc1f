"""Sweep the thresholds on the tuning questions and print, per threshold, the metrics against its value.

Usage: .venv/bin/python eval/sweep.py [--part tuning]

For the scope gate (MIN_RELEVANCE, SCOPE_PENALTY, OUT_OF_SCOPE_MARGIN) every question goes through the stages
once; the gate's figures (assistant/turn.py `Gate`) are kept and its decision is re-made for each value, so a
sweep costs one pass. REDUNDANCY_THRESHOLD changes the extractive answer itself, so the composer runs again for
each value. One threshold varies at a time, the others stay at their defaults. The plateau is the run of values
whose score is within one question of the best; a threshold belongs in its middle, not at an edge that one
question decides. Only the tuning part is read (never the test part), unless --part says otherwise.
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from assistant.evaluation import answerable, history_of, part_of_every_set  # noqa: E402

GRIDS = {
    "min_relevance": np.round(np.arange(0.70, 0.861, 0.01), 3),
    "scope_penalty": np.round(np.arange(0.0, 0.301, 0.025), 3),
    "out_of_scope_margin": np.round(np.arange(-0.04, 0.161, 0.01), 3),
    "redundancy_threshold": np.round(np.arange(0.86, 1.001, 0.01), 3),
}


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@dataclass
class Case:
    """One question's fixed outcome, or the gate's figures to decide it again."""

    oos: bool
    phrases: list[str]
    found: int  # phrases in the answer the stages give when the gate lets the question through
    fixed: bool | None  # declined (refused or small talk) before the gate; None when the gate decides
    has_passages: bool = True
    best: float = 0.0
    share: float = 0.0
    in_domain: bool = False
    off_topic: float = 0.0


def collect(assistant, questions: list[dict]) -> list[Case]:
    cases = []
    for item in questions:
        phrases = list(item.get("must_mention") or []) if answerable(item) else []
        result = assistant.ask(item["question"], history_of(item))
        found = sum(_norm(p) in _norm(result.answer) for p in phrases)
        turn = assistant.prepare(item["question"], history_of(item))
        oos = item["kind"] == "out_of_scope"
        if turn.redo or turn.reply:
            cases.append(Case(oos, phrases, found, fixed=result.refused or result.smalltalk))
            continue
        turn = assistant._search(turn)
        gate = turn.gate
        composed = assistant._compose(turn, None) if result.refused else result  # its answer if let through
        found = sum(_norm(p) in _norm(composed.answer) for p in phrases)
        cases.append(
            Case(
                oos,
                phrases,
                found,
                fixed=None,
                has_passages=bool(turn.found and turn.found.passages),
                best=gate.best_cosine,
                share=gate.unknown_share,
                in_domain=turn.query.in_domain,
                off_topic=gate.off_topic,
            )
        )
    return cases


def decide(case: Case, s) -> bool:
    """Declined? The gate's rule (assistant/scope.py ScopeGate) with the thresholds of `s`."""
    if case.fixed is not None:
        return case.fixed
    factor = s.in_domain_penalty_factor if case.in_domain else 1.0
    required = s.min_relevance + s.scope_penalty * case.share * factor
    return not case.has_passages or case.best < required or case.off_topic - case.best > s.out_of_scope_margin


def metrics(cases: list[Case], s) -> dict[str, float]:
    oos = [c for c in cases if c.oos]
    ans = [c for c in cases if not c.oos and c.phrases]
    declined = {id(c): decide(c, s) for c in cases}
    phrases = sum(len(c.phrases) for c in ans)
    mention = sum(0 if declined[id(c)] else c.found for c in ans) / max(phrases, 1)
    recall = sum(declined[id(c)] for c in oos) / max(len(oos), 1)
    false = sum(declined[id(c)] for c in ans) / max(len(ans), 1)
    # decisions right: out-of-scope declined plus answerable answered, as a share of all
    right = (sum(declined[id(c)] for c in oos) + sum(not declined[id(c)] for c in ans)) / max(len(oos) + len(ans), 1)
    return {"mention": mention, "refusal_recall": recall, "false_refusal": false, "decisions_right": right}


def plateau(values, scores: list[float], tolerance: float) -> tuple[float, float, float]:
    """(first, last, middle) of the longest run of values scoring within `tolerance` of the best."""
    best = max(scores)
    good = [abs(score - best) <= tolerance + 1e-9 for score in scores]
    runs, start = [], None
    for i, ok in enumerate([*good, False]):
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            runs.append((start, i - 1))
            start = None
    first, last = max(runs, key=lambda r: r[1] - r[0])
    low, high = float(values[first]), float(values[last])
    return low, high, round((low + high) / 2, 4)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", default="tuning", choices=["tuning", "test", "all"])
    args = parser.parse_args()

    from assistant.service import Assistant

    assistant = Assistant()
    defaults = assistant.settings
    questions = [q for chosen in part_of_every_set(args.part).values() for q in chosen]
    cases = collect(assistant, questions)
    n_decisions = sum(1 for c in cases if c.oos or c.phrases)
    print(f"{len(questions)} questions of the {args.part} parts ({n_decisions} with a right decision)\n")
    for name in ("min_relevance", "scope_penalty", "out_of_scope_margin"):
        values = GRIDS[name]
        rows = [metrics(cases, defaults.model_copy(update={name: float(v)})) for v in values]
        scores = [r["decisions_right"] for r in rows]
        first, last, middle = plateau(values, scores, 1 / n_decisions)
        print(f"### {name.upper()} (default {getattr(defaults, name)}; plateau {first}–{last}, middle {middle})\n")
        print("| value | decisions right | refusal_recall | false_refusal | mention |")
        print("|---|---|---|---|---|")
        for v, r in zip(values, rows, strict=True):
            mark = " (default)" if abs(float(v) - getattr(defaults, name)) < 1e-9 else ""
            print(
                f"| {v}{mark} | {r['decisions_right']:.3f} | {r['refusal_recall']:.3f} | {r['false_refusal']:.3f} "
                f"| {r['mention']:.3f} |"
            )
        print()
    sweep_redundancy(assistant, questions)
    return 0


def sweep_redundancy(assistant, questions: list[dict]) -> None:
    """Mention and answer length against REDUNDANCY_THRESHOLD (the composer runs again for each value)."""
    defaults = assistant.settings
    answerable_questions = [q for q in questions if answerable(q)]
    rows = []
    for v in GRIDS["redundancy_threshold"]:
        assistant.composer.settings = defaults.model_copy(update={"redundancy_threshold": float(v)})
        found = phrases = 0
        lengths = []
        for item in answerable_questions:
            result = assistant.ask(item["question"], history_of(item))
            lengths.append(len(result.answer.split()))
            for p in item["must_mention"]:
                phrases += 1
                found += _norm(p) in _norm(result.answer)
        rows.append((v, found / max(phrases, 1), float(np.median(lengths))))
    assistant.composer.settings = defaults
    scores = [r[1] for r in rows]
    phrase_count = sum(len(q["must_mention"]) for q in answerable_questions)
    first, last, middle = plateau([r[0] for r in rows], scores, 1 / max(phrase_count, 1))
    default = defaults.redundancy_threshold
    print(f"### REDUNDANCY_THRESHOLD (default {default}; plateau {first}–{last}, middle {middle})\n")
    print("| value | mention | median words |")
    print("|---|---|---|")
    for v, mention, words in rows:
        mark = " (default)" if abs(float(v) - default) < 1e-9 else ""
        print(f"| {v}{mark} | {mention:.3f} | {words:.0f} |")
    print()


if __name__ == "__main__":
    sys.exit(main())
