"""Score enquiries (eval/enquiries.jsonl): each question of an e-mail against the answer given to that question.

Usage: .venv/bin/python eval/enquiries.py [--part test|tuning|all]   (test part first; the test part is only scored)

Per question that the sources cover: hit@3 (a citation among its answer's first three is from an expected topic),
mention (its must_mention phrases in the answer to that question, or in the whole answer when no per-question
answer matches), declined (a covered question answered with "not in the sources"). Per enquiry: refusal_recall
(wholly out-of-scope enquiries refused), false_refusal (enquiries with something covered refused as a whole),
language, and the time per enquiry (warm; p50/p95).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from assistant.evaluation import SPLIT_FILE, _norm  # noqa: E402
from assistant.service import Assistant  # noqa: E402

SET = ROOT / "eval" / "enquiries.jsonl"


def _match(result, question: str):
    """The answer given to a question of the set (the reader may cut or merge sentences differently)."""
    wanted = _norm(question)
    for part in result.questions:
        got = _norm(part.question)
        if got and (got in wanted or wanted in got):
            return part
    return None


def score(assistant: Assistant, items: list[dict]) -> dict:
    hits = mentions = phrases = covered = declined = 0
    oos = refused_oos = answerable = refused_answerable = language_ok = 0
    times = []
    for item in items:
        clear = getattr(assistant.embedder, "clear", None)
        if clear is not None:
            clear()  # each enquiry timed as new: only what it repeats itself is remembered
        started = time.perf_counter()
        result = assistant.ask(item["enquiry"])
        times.append((time.perf_counter() - started) * 1000)
        language_ok += result.language == item["lang"]
        if item["kind"] == "out_of_scope":
            oos += 1
            refused_oos += result.refused
            continue
        answerable += 1
        refused_answerable += result.refused
        for question in item["questions"]:
            if not question["covered"]:
                continue
            covered += 1
            part = _match(result, question["question"])
            text = _norm(part.answer if part else result.answer)
            cites = part.citations if part else result.citations
            hits += any(c.topic in question["expected_topics"] for c in cites[:3])
            declined += bool(part and part.refused)
            for phrase in question["must_mention"]:
                phrases += 1
                mentions += _norm(phrase) in text
    return {
        "enquiries": len(items),
        "questions": covered,
        "hit@3": round(hits / covered, 3) if covered else None,
        "mention": round(mentions / phrases, 3) if phrases else None,
        "declined": round(declined / covered, 3) if covered else None,
        "refusal_recall": round(refused_oos / oos, 3) if oos else None,
        "false_refusal": round(refused_answerable / answerable, 3) if answerable else None,
        "language": round(language_ok / len(items), 3),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(sorted(times)[max(0, int(0.95 * len(times)) - 1)], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("test", "tuning", "all"), default="all")
    args = parser.parse_args()
    items = [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    test_ids = set(json.loads(SPLIT_FILE.read_text(encoding="utf-8"))["sets"][SET.name]["test"])
    assistant = Assistant()
    assistant.ask("Was macht das Luftfahrtcluster?")  # warm
    parts = {"test": [i for i in items if i["id"] in test_ids], "tuning": [i for i in items if i["id"] not in test_ids]}
    names = ["test", "tuning"] if args.part == "all" else [args.part]
    rows = {name: score(assistant, parts[name]) for name in names}
    keys = list(next(iter(rows.values())))
    print("| part | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(str(row[k]) for k in keys) + " |")


if __name__ == "__main__":
    main()
