"""Check an evaluation question file against the corpus.

Usage: python eval/validate_questions.py [QUESTIONS.jsonl] [--corpus CORPUS_DIR]

Checks, per line:
- valid JSON object with the fields id, lang, question, kind, expected_topics, must_mention
  (and a non-empty string `history` for follow_up questions);
- unique ids, known kind, lang de/en, known topics;
- out_of_scope: expected_topics and must_mention are empty;
- answerable: 1-3 must_mention phrases, each found verbatim (case-insensitive, NFKC) in the body of
  at least one corpus document of the question's language whose topic is in expected_topics.

Warnings (not errors): a must_mention phrase that also occurs in a same-language document of a topic
not listed in expected_topics, when every phrase of the question does (a hint that a topic may be missing).
Exit code 1 when there are errors. Prints counts per kind and language at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from assistant.corpus import TOPICS as CORPUS_TOPICS  # noqa: E402

TOPICS = set(CORPUS_TOPICS)
KINDS = {"factual", "paraphrase", "typo", "cross_lingual", "follow_up", "multi_hop", "out_of_scope"}
REQUIRED = ("id", "lang", "question", "kind", "expected_topics", "must_mention")


def norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def load_corpus(corpus: Path) -> dict[str, list[tuple[str, str, str]]]:
    """lang -> [(file name, topic, normalised body)]; the body is the text after the front matter."""
    docs: dict[str, list[tuple[str, str, str]]] = {}
    for path in sorted(corpus.glob("*/*.md")):
        text = path.read_text(encoding="utf-8")
        _, front, body = text.split("---", 2)
        meta = {}
        for line in front.splitlines():
            if ":" in line and not line.startswith(" "):
                key, _, value = line.partition(":")
                meta[key.strip()] = value.strip().strip('"')
        lang = meta.get("lang") or path.parent.name
        docs.setdefault(lang, []).append((path.name, meta.get("topic", ""), norm(body)))
    return docs


def check_item(item: object, where: str, docs, ids: set[str], errors: list[str], warnings: list[str]):
    """Errors and warnings of one question; returns (kind, lang) to count, or None when it is unusable."""
    if not isinstance(item, dict):
        errors.append(f"{where}: not a JSON object")
        return None
    missing = [f for f in REQUIRED if f not in item]
    if missing:
        errors.append(f"{where}: missing {missing}")
        return None
    qid, lang, kind = item["id"], item["lang"], item["kind"]
    where = f"{where} ({qid})"
    if qid in ids:
        errors.append(f"{where}: duplicate id")
    ids.add(qid)
    if lang not in ("de", "en"):
        errors.append(f"{where}: lang {lang!r}")
        return None
    if kind not in KINDS:
        errors.append(f"{where}: kind {kind!r}")
    if not isinstance(item["question"], str) or not item["question"].strip():
        errors.append(f"{where}: empty question")
    topics, phrases = item["expected_topics"], item["must_mention"]
    if not isinstance(topics, list) or not isinstance(phrases, list):
        errors.append(f"{where}: expected_topics/must_mention must be lists")
        return None
    check_kind(item, where, errors)
    if kind == "out_of_scope":
        if topics or phrases:
            errors.append(f"{where}: out_of_scope must have empty expected_topics and must_mention")
    else:
        check_phrases(where, lang, topics, phrases, docs, errors, warnings)
    return kind, lang


def check_kind(item: dict, where: str, errors: list[str]) -> None:
    """Known topics, history exactly on follow-ups, and an id that names the language or out-of-scope."""
    qid, lang, kind = item["id"], item["lang"], item["kind"]
    if unknown := [t for t in item["expected_topics"] if t not in TOPICS]:
        errors.append(f"{where}: unknown topics {unknown}")
    if kind == "follow_up":
        if not isinstance(item.get("history"), str) or not item["history"].strip():
            errors.append(f"{where}: follow_up without history string")
    elif "history" in item:
        errors.append(f"{where}: history on a {kind} question")
    marker = "-oos-" if kind == "out_of_scope" else f"-{lang}-"  # q-de-001, dev-oos-03
    if marker not in qid:
        errors.append(f"{where}: id should contain {marker}")


def check_phrases(where: str, lang: str, topics, phrases, docs, errors: list[str], warnings: list[str]) -> None:
    """Every phrase of an answerable question occurs in a document of its topics and language."""
    if not topics:
        errors.append(f"{where}: answerable question without expected_topics")
    if not 1 <= len(phrases) <= 3:
        errors.append(f"{where}: {len(phrases)} must_mention phrases (want 1-3)")
    elsewhere_all = True
    for phrase in phrases:
        p = norm(phrase)
        inside = [name for name, topic, body in docs[lang] if topic in topics and p in body]
        outside = sorted({topic for _, topic, body in docs[lang] if topic not in topics and p in body})
        if not inside:
            errors.append(f"{where}: {phrase!r} not found in {lang} documents of {topics}")
        if not outside:
            elsewhere_all = False
    if phrases and elsewhere_all:
        warnings.append(f"{where}: all phrases also occur in {lang} documents of unlisted topics")


def print_counts(lines: list[str], errors: list[str], warnings: list[str], counts: Counter[tuple[str, str]]) -> None:
    for message in errors:
        print("ERROR", message)
    for message in warnings:
        print("WARN ", message)
    print(f"\n{len(lines)} questions, {len(errors)} errors, {len(warnings)} warnings")
    print(f"{'kind':<15}{'de':>5}{'en':>5}{'all':>6}")
    for kind in sorted({k for k, _ in counts}):
        de, en = counts[(kind, "de")], counts[(kind, "en")]
        print(f"{kind:<15}{de:>5}{en:>5}{de + en:>6}")
    de_all = sum(v for (_, lang), v in counts.items() if lang == "de")
    en_all = sum(v for (_, lang), v in counts.items() if lang == "en")
    print(f"{'total':<15}{de_all:>5}{en_all:>5}{de_all + en_all:>6}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("questions", nargs="?", default=str(ROOT / "eval" / "questions.jsonl"))
    parser.add_argument("--corpus", default=str(ROOT / "corpus"))
    args = parser.parse_args()

    docs = load_corpus(Path(args.corpus))
    errors: list[str] = []
    warnings: list[str] = []
    ids: set[str] = set()
    counts: Counter[tuple[str, str]] = Counter()
    lines = Path(args.questions).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        where = f"line {number}"
        if not line.strip():
            errors.append(f"{where}: empty line")
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            errors.append(f"{where}: invalid JSON ({exc})")
            continue
        counted = check_item(item, where, docs, ids, errors, warnings)
        if counted:
            counts[counted] += 1
    print_counts(lines, errors, warnings, counts)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
