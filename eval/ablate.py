"""Ablation: run the eval sets with one component switched off at a time and print a Markdown table.

Usage: .venv/bin/python eval/ablate.py [QUESTION_FILE ...]   (default: shared dev set and eval/questions.jsonl)
Each configuration is a set of environment overrides of the settings; figures come from `assistant eval`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXE = str(Path(sys.executable).parent / "assistant")
CONFIGS: list[tuple[str, dict[str, str]]] = [
    ("full system (defaults)", {}),
    ("no sentence-level dense signal", {"SENTENCE_WEIGHT": "0"}),
    ("no BM25 (dense only)", {"BM25_WEIGHT": "0", "BM25_OTHER_WEIGHT": "0"}),
    ("no topic boost (glossary routing)", {"TOPIC_BOOST": "0"}),
    ("no quoted-phrase boost", {"QUOTE_BOOST": "0"}),
    ("no unknown-word scope check", {"SCOPE_PENALTY": "0"}),
    ("no out-of-scope examples", {"OUT_OF_SCOPE_MARGIN": "1"}),
]
COLUMNS = ["hit@3", "mention", "refusal_recall", "false_refusal", "language", "cited", "p95_ms"]


def run(question_file: Path, overrides: dict[str, str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run(
            [EXE, "eval", str(question_file), "--out", str(report)],
            env={**os.environ, **overrides},
            check=True,
            capture_output=True,
        )
        return json.loads(report.read_text(encoding="utf-8"))["metrics"]["overall"]


def main(files: list[Path]) -> None:
    for question_file in files:
        print(f"\n### {question_file.name}\n")
        print("| configuration | " + " | ".join(COLUMNS) + " |")
        print("|---" * (len(COLUMNS) + 1) + "|")
        for name, overrides in CONFIGS:
            metrics = run(question_file, overrides)
            cells = [f"{metrics[c]:.1f}" if c.endswith("_ms") else f"{metrics[c]:.3f}" for c in COLUMNS]
            print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:]] or [
        ROOT.parent / "shared" / "eval" / "dev.jsonl",
        ROOT / "eval" / "questions.jsonl",
    ]
    main([a for a in args if a.exists()])
