"""Score every question set, test part first, then tuning part, and print one Markdown table.

Usage: .venv/bin/python eval/report.py [--json OUT.json] [--check eval/thresholds.json]
       .venv/bin/python eval/report.py --write-thresholds eval/thresholds.json   (after a change that is kept)

One Assistant (default settings, so the index in INDEX_DIR) answers every question. With --check, the test and
tuning figures are compared with the minimums (and for false_refusal the maximums) in the thresholds file, and
the exit code is 1 when any figure is worse: CI runs this so that a change that makes quality worse fails.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from assistant.evaluation import cell, compute_metrics, metric_columns, part_of_every_set, run_eval  # noqa: E402

COLUMNS = metric_columns(3)
# lower is better for these; every other thresholded metric is a minimum
AT_MOST = {"false_refusal", "words"}
# how far below today's figure a threshold sits: about one question's worth on the smaller sets for the
# refusal shares, less for pooled phrase and citation shares
MARGINS = {
    "hit@3": 0.03,
    "mention": 0.03,
    "refusal_recall": 0.06,
    "false_refusal": 0.06,
    "language": 0.03,
    "cited": 0.02,
    "lead": 0.03,
    "words": 8.0,  # the median answer may grow by a sentence before `make test` fails
}


def score(ask, parts: tuple[str, ...] = ("test", "tuning")) -> dict[str, dict[str, dict]]:
    """set name -> part -> metrics."""
    figures: dict[str, dict[str, dict]] = {}
    for part in parts:
        for name, chosen in part_of_every_set(part).items():
            figures.setdefault(name, {})[part] = compute_metrics(run_eval(ask, chosen))
    return figures


def table(figures: dict[str, dict[str, dict]]) -> str:
    lines = ["| set | part | " + " | ".join(COLUMNS) + " |", "|---|---" + "|---" * len(COLUMNS) + "|"]
    for part in ("test", "tuning"):
        for name, parts in figures.items():
            if part in parts:
                lines.append(f"| {name} | {part} | " + " | ".join(cell(c, parts[part].get(c)) for c in COLUMNS) + " |")
    return "\n".join(lines)


def failures(figures: dict[str, dict[str, dict]], thresholds: dict) -> list[str]:
    """Every figure worse than its threshold, as 'set part metric: value (limit)'."""
    found = []
    for name, parts in thresholds.get("sets", {}).items():
        for part, limits in parts.items():
            metrics = figures.get(name, {}).get(part)
            if metrics is None:
                continue  # a set that is not here (the shared development set outside this workplace)
            for metric, limit in limits.items():
                value = metrics.get(metric)
                worse = value is None or (value > limit if metric in AT_MOST else value < limit)
                if worse:
                    found.append(f"{name} {part} {metric}: {cell(metric, value)} (limit {limit})")
    return found


def thresholds_from(figures: dict[str, dict[str, dict]]) -> dict:
    """Thresholds a margin below (for false_refusal above) the given figures, for every set and part."""
    sets: dict[str, dict[str, dict[str, float]]] = {}
    for name, parts in figures.items():
        for part, metrics in parts.items():
            limits = {}
            for metric, margin in MARGINS.items():
                value = metrics.get(metric)
                if value is not None:
                    bound = value + margin if metric in AT_MOST else value - margin
                    limits[metric] = round(bound if metric == "words" else min(max(bound, 0.0), 1.0), 3)
            sets.setdefault(name, {})[part] = limits
    return {"margins": MARGINS, "sets": sets}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--check", type=Path, help="thresholds file; exit 1 when a figure is worse")
    parser.add_argument("--write-thresholds", type=Path, help="write thresholds a margin below today's figures")
    args = parser.parse_args()

    from assistant.service import Assistant

    assistant = Assistant()
    figures = score(lambda q, h: assistant.ask(q, h).model_dump())
    print(table(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    if args.write_thresholds:
        text = json.dumps(thresholds_from(figures), indent=1) + "\n"
        args.write_thresholds.write_text(text, encoding="utf-8")
    if args.check:
        worse = failures(figures, json.loads(args.check.read_text(encoding="utf-8")))
        for line in worse:
            print("WORSE", line)
        return 1 if worse else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
