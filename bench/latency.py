"""Warm `ask` latency on the real corpus: p50/p95/p99 overall and per stage.

Usage: .venv/bin/python bench/latency.py [--rounds 3]
Every evaluation question (ours and the shared dev set) is asked `rounds` times after a warm-up,
in one process, one at a time; the stages are the `timings_ms` the assistant reports.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

from _common import forget_queries, machine, percentile, questions

STAGES = [
    "language",
    "rewrite",
    "query_embedding",
    "dense_search",
    "sentence_search",
    "bm25",
    "fusion",
    "answer",
    "generation",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from assistant.service import Assistant

    assistant = Assistant()
    items = questions()
    for item in items[:10]:
        assistant.ask(item["question"])
    wall: list[float] = []
    stages: dict[str, list[float]] = defaultdict(list)
    for _ in range(args.rounds):
        for item in items:
            history = [item["history"]] if isinstance(item.get("history"), str) else item.get("history") or []
            forget_queries(assistant)  # a question asked again would find its vector remembered
            started = time.perf_counter()
            result = assistant.ask(item["question"], history)
            wall.append((time.perf_counter() - started) * 1000)
            for stage, ms in result.timings_ms.items():
                stages[stage].append(ms)
    print(f"machine: {machine()}; {len(wall)} questions ({len(items)} distinct), warm, one at a time")
    print("| stage | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|")
    for stage in [s for s in STAGES if s in stages] + ["total"]:
        values = stages[stage]
        print(
            f"| {stage} | {percentile(values, 50):.2f} | {percentile(values, 95):.2f} | {percentile(values, 99):.2f} |"
        )
    print(
        f"| whole `ask` call | {percentile(wall, 50):.1f} | {percentile(wall, 95):.1f} | {percentile(wall, 99):.1f} |"
    )


if __name__ == "__main__":
    main()
