"""Evaluation harness: run a question file through the assistant and compute quality metrics.

Metric definitions (docs/quality.md has them too):
- hit@k: over answerable questions (non-empty expected_topics, kind not out_of_scope), the share whose
  first k citations include a passage whose topic is in expected_topics.
- mention: over answerable questions, the share of all must_mention phrases found in the response: the answer
  and its "more on this" part (case-insensitive, after Unicode NFKC normalisation, as a substring), pooled.
- refusal_recall: share of out_of_scope questions answered with refused=true or a small-talk reply (smalltalk=true):
  either way nothing was answered from the sources.
- false_refusal: share of answerable questions answered with refused=true.
- language: share of answers whose language equals the question's lang.
- lead: over answerable questions, the share of must_mention phrases found in the first LEAD_CHARS (300)
  characters of the answer: whether what was asked comes first, not somewhere further down.
- words: the median length in words (citation markers not counted) of the answers given from the sources
  (neither refused nor small talk), without the "more on this" part, which is a separate field.
- cited: share of answer sentences (of answers that are not refusals) carrying at least one valid citation [n].
- latency p50/p95: of the whole ask call, measured warm (after one warm-up question).
"""

from __future__ import annotations

import json
import math
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from assistant.sentences import split_sentences
from assistant.settings import PROJECT_ROOT

CITATION = re.compile(r"\[(\d+)\]")
EVAL_DIR = PROJECT_ROOT / "eval"
# which questions of each set are the test part (only scored) and which the tuning part: drawn once, committed
SPLIT_FILE = EVAL_DIR / "split.json"
SHARED_DEV = PROJECT_ROOT.parent / "shared" / "eval" / "dev.jsonl"
PARTS = ("all", "tuning", "test")
LEAD_CHARS = 300
WORD = re.compile(r"\w+")


def question_sets() -> list[Path]:
    """Every question set there is: the shared development set (when present) and the sets in eval/."""
    own = [EVAL_DIR / name for name in ("questions.jsonl", "conversation.jsonl", "fresh.jsonl", "probe.jsonl")]
    return [path for path in (SHARED_DEV, *own) if path.exists()]


def select_part(questions: Sequence[dict], set_name: str, part: str, split_file: Path = SPLIT_FILE) -> list[dict]:
    """The tuning or test part of a set by the committed split (keyed by file name); "all" keeps every question.

    A set the split does not know is refused rather than guessed, so that a test figure always means the same.
    """
    if part == "all":
        return list(questions)
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r} (one of {', '.join(PARTS)})")
    sets = json.loads(split_file.read_text(encoding="utf-8"))["sets"] if split_file.exists() else {}
    if set_name not in sets:
        raise ValueError(f"{split_file.name} has no split for {set_name} (run eval/split.py)")
    test = set(sets[set_name]["test"])
    return [item for item in questions if (item["id"] in test) == (part == "test")]


def part_of_every_set(part: str) -> dict[str, list[dict]]:
    """set name -> its questions of `part`, for every set that has any."""
    chosen = {path.name: select_part(load_questions(path), path.name, part) for path in question_sets()}
    return {name: questions for name, questions in chosen.items() if questions}


def load_questions(path: Path) -> list[dict]:
    """Questions from a JSON-lines file; blank lines and lines starting with // are skipped."""
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("//"):
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: not valid JSON ({exc})") from exc
        for field in ("id", "lang", "question", "kind"):
            if field not in item:
                raise ValueError(f"{path}:{number}: missing field {field!r}")
        questions.append(item)
    return questions


def history_of(item: dict) -> list[str]:
    history = item.get("history") or []
    return [history] if isinstance(history, str) else list(history)


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def answerable(item: dict) -> bool:
    return bool(item.get("expected_topics")) and item.get("kind") != "out_of_scope"


def answer_sentences(answer: str) -> list[str]:
    """Sentences of an answer: every line on its own, then split into sentences."""
    sentences: list[str] = []
    for line in answer.splitlines():
        line = line.strip().removeprefix("- ").strip()
        if line:
            sentences.extend(split_sentences(line))
    return sentences


# the columns every report prints, in this order (hit@k is named for k)
def metric_columns(k: int = 3) -> list[str]:
    return [
        "n",
        f"hit@{k}",
        "mention",
        "lead",
        "refusal_recall",
        "false_refusal",
        "language",
        "cited",
        "words",
        "p50_ms",
        "p95_ms",
    ]


def cell(column: str, value: float | None) -> str:
    """One figure as the reports print it: counts whole, words and milliseconds to one decimal, shares to three."""
    if value is None:
        return "–"
    if column == "n":
        return str(int(value))
    return f"{value:.1f}" if column.endswith("_ms") or column == "words" else f"{value:.3f}"


def word_count(answer: str) -> int:
    """Words of an answer as a reader counts them: citation markers like [2] are not words."""
    return len(WORD.findall(CITATION.sub(" ", answer)))


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return float(ordered[middle]) if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _share(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


def compute_metrics(records: Iterable[dict], k: int = 3) -> dict:
    """Metrics over records of the form {question fields..., "result": ask-json, "latency_ms": float}."""
    records = list(records)
    hits = answerable_n = found = phrases = leading = 0
    lengths: list[int] = []
    oos_n = oos_refused = false_refused = 0
    lang_ok = 0
    sentences_total = sentences_cited = 0
    latencies = [r["latency_ms"] for r in records if r.get("latency_ms") is not None]
    for record in records:
        result = record["result"]
        citations = result.get("citations") or []
        valid = {c["n"] for c in citations}
        if result.get("language") == record.get("lang"):
            lang_ok += 1
        if record.get("kind") == "out_of_scope":
            oos_n += 1
            oos_refused += bool(result.get("refused") or result.get("smalltalk"))
        if answerable(record):
            answerable_n += 1
            expected = set(record["expected_topics"])
            if any(c.get("topic") in expected for c in citations[:k]):
                hits += 1
            false_refused += bool(result.get("refused"))
            answer = _norm(result.get("answer", ""))
            whole = answer + "\n" + _norm(result.get("more", ""))
            for phrase in record.get("must_mention") or []:
                phrases += 1
                found += _norm(phrase) in whole
                leading += _norm(phrase) in answer[:LEAD_CHARS]
        if not result.get("refused") and not result.get("smalltalk"):
            lengths.append(word_count(result.get("answer", "")))
        if not result.get("refused"):
            for sentence in answer_sentences(result.get("answer", "")):
                sentences_total += 1
                sentences_cited += any(int(n) in valid for n in CITATION.findall(sentence))
    return {
        "n": len(records),
        f"hit@{k}": _share(hits, answerable_n),
        "mention": _share(found, phrases),
        "lead": _share(leading, phrases),
        "refusal_recall": _share(oos_refused, oos_n),
        "false_refusal": _share(false_refused, answerable_n),
        "language": _share(lang_ok, len(records)),
        "cited": _share(sentences_cited, sentences_total),
        "words": median(lengths),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
    }


def breakdown(records: Sequence[dict], k: int = 3) -> dict[str, dict]:
    """Metrics overall, per kind and per language."""
    table = {"overall": compute_metrics(records, k)}
    for field in ("kind", "lang"):
        for value in sorted({str(r.get(field)) for r in records}):
            table[f"{field}={value}"] = compute_metrics([r for r in records if str(r.get(field)) == value], k)
    return table


def run_eval(ask: Callable[[str, list[str]], dict], questions: Sequence[dict]) -> list[dict]:
    """Ask every question (after one warm-up call) and keep question, full result and latency."""
    if questions:
        ask(questions[0]["question"], history_of(questions[0]))
    records = []
    for item in questions:
        started = time.perf_counter()
        result = ask(item["question"], history_of(item))
        latency = (time.perf_counter() - started) * 1000
        records.append({**item, "result": result, "latency_ms": round(latency, 2)})
    return records
