"""Split each question set once into a tuning part (looked at while changing the system) and a test part (only scored).

Usage: .venv/bin/python eval/split.py   (writes eval/split.json; run once, then commit; never re-draw)

Within every kind of question, a share TEST_SHARE of the ids (rounded up) is drawn at random with a fixed seed,
so each part holds every kind. Sets listed in ALL_TEST were written as held-out sets and are test entirely.
A set added later gets its split by running the script again: existing splits are kept as they are.
"""

from __future__ import annotations

import json
import math
import random
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from assistant.evaluation import EVAL_DIR, SPLIT_FILE, load_questions, question_sets  # noqa: E402

SEED = 13
TEST_SHARE = 0.35
ALL_TEST = {"fresh.jsonl"}


def draw(questions: list[dict], share: float, seed: int) -> list[str]:
    """Ids of the test part: `share` of each kind, rounded up, drawn with `seed`."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for item in questions:
        by_kind[item["kind"]].append(item["id"])
    rng = random.Random(seed)
    test: list[str] = []
    for kind in sorted(by_kind):
        ids = sorted(by_kind[kind])
        test.extend(rng.sample(ids, math.ceil(share * len(ids))))
    return sorted(test)


def main() -> None:
    split = json.loads(SPLIT_FILE.read_text(encoding="utf-8")) if SPLIT_FILE.exists() else {}
    split.setdefault("seed", SEED)
    split.setdefault("test_share", TEST_SHARE)
    sets = split.setdefault("sets", {})
    for path in [*question_sets(), EVAL_DIR / "enquiries.jsonl"]:  # enquiries: scored by eval/enquiries.py
        if path.name in sets:
            continue
        questions = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if path in question_sets():
            questions = load_questions(path)  # validated as questions
        whole = path.name in ALL_TEST
        test = sorted(item["id"] for item in questions) if whole else draw(questions, TEST_SHARE, SEED)
        sets[path.name] = {"test": test}
        print(f"{path.name}: {len(test)} of {len(questions)} questions in the test part")
    SPLIT_FILE.write_text(json.dumps(split, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
