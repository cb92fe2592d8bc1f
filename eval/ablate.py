"""Ablation: take out one component, or one entry of the data files, at a time and count what changes.

Usage: .venv/bin/python eval/ablate.py [--part tuning] [--only settings|glossary|expansions|examples|words]

Runs the chosen part (default: the tuning parts of every set) with the full system, then once per ablation:
- a component switched off by a setting (SENTENCE_WEIGHT=0, TOPIC_BOOST=0, ...);
- one cluster's glossary terms, or one group of other-language expansions (corpus/glossary.yaml);
- one kind of out-of-scope examples (corpus/out_of_scope.yaml);
- one group of generic words of the scope check or of extra BM25 stop words (assistant/scope.py, lexical.py).
For each it prints the pooled metrics and how many questions got worse and better without it: an entry that
only one question needs is tuned to that question, not general.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from assistant import lexical, scope  # noqa: E402
from assistant.evaluation import answerable, compute_metrics, part_of_every_set, run_eval  # noqa: E402
from assistant.scope import OutOfScopeExamples, read_examples  # noqa: E402

SETTINGS: list[tuple[str, dict[str, object]]] = [
    ("no sentence-level dense signal", {"sentence_weight": 0.0}),
    ("no BM25 (dense only)", {"bm25_weight": 0.0, "bm25_other_weight": 0.0}),
    ("no topic boost (glossary routing)", {"topic_boost": 0.0}),
    ("no quoted-phrase boost", {"quote_boost": 0.0}),
    ("no unknown-word scope check", {"scope_penalty": 0.0}),
    ("no out-of-scope examples", {"out_of_scope_margin": 1.0}),
    ("full scope penalty also when a cluster is named", {"in_domain_penalty_factor": 1.0}),
    ("no conversation weight for follow-ups", {"follow_up_weight": 0.0}),
]
COLUMNS = ["hit@3", "mention", "refusal_recall", "false_refusal"]


def outcome(record: dict) -> float:
    """One question's score: phrases found plus a hit for answerable questions, declined for out-of-scope."""
    result = record["result"]
    if record.get("kind") == "out_of_scope":
        return float(bool(result.get("refused") or result.get("smalltalk")))
    if not answerable(record):
        return 0.0
    answer = result.get("answer", "").casefold()
    found = sum(p.casefold() in answer for p in record.get("must_mention") or [])
    hit = any(c.get("topic") in record["expected_topics"] for c in (result.get("citations") or [])[:3])
    return found + (0.0 if result.get("refused") else 0.5 * hit)


def run(assistant, questions: list[dict]) -> list[dict]:
    return run_eval(lambda q, h: assistant.ask(q, h).model_dump(), questions)


@contextmanager
def settings_changed(assistant, update: dict[str, object]) -> Iterator[None]:
    """The stages see changed settings (they all hold the one settings object)."""
    original = assistant.settings
    changed = original.model_copy(update=update)
    holders = [
        assistant,
        assistant.prepare,
        assistant.understand,
        assistant.retriever,
        assistant.composer,
        assistant.gate,
    ]
    for holder in holders:
        holder.settings = changed
    try:
        yield
    finally:
        for holder in holders:
            holder.settings = original


@contextmanager
def glossary_changed(assistant, **changes) -> Iterator[None]:
    original = assistant.understand.glossary
    assistant.understand.glossary = dataclasses.replace(original, **changes)
    try:
        yield
    finally:
        assistant.understand.glossary = original


@contextmanager
def examples_without(assistant, category: str) -> Iterator[None]:
    original = assistant.gate.examples
    path = assistant.settings.corpus_dir / "out_of_scope.yaml"
    assistant.gate.examples = OutOfScopeExamples.from_file(path, assistant.embedder.embed_query_vector, [category])
    try:
        yield
    finally:
        assistant.gate.examples = original


@contextmanager
def generic_without(words: str) -> Iterator[None]:
    original = scope.GENERIC
    scope.GENERIC = original - set(words.split())
    try:
        yield
    finally:
        scope.GENERIC = original


@contextmanager
def stopwords_without(assistant, words: str) -> Iterator[None]:
    """BM25 without these stop words: the keyword index is built again in memory, the vectors stay."""
    original_words, original_index = lexical.STOPWORDS, assistant.index.lexical
    lexical.STOPWORDS = original_words - set(words.split())
    items = ((c.id, c.lang, f"{c.context}\n{c.text}") for c in assistant.index.chunks)
    assistant.index.lexical = lexical.LexicalIndex.build(items)
    try:
        yield
    finally:
        lexical.STOPWORDS, assistant.index.lexical = original_words, original_index


def ablations(assistant, only: str | None) -> Iterator[tuple[str, str, Callable]]:
    """(kind, name, context manager factory) for every ablation."""
    if only in (None, "settings"):
        for name, update in SETTINGS:
            yield "setting", name, lambda u=update: settings_changed(assistant, u)
    glossary = assistant.understand.glossary
    if only in (None, "glossary"):
        for topic in glossary.terms:
            terms = {**glossary.terms, topic: ()}
            yield "glossary terms", topic, lambda t=terms: glossary_changed(assistant, terms=t)
    if only in (None, "expansions"):
        for i, group in enumerate(glossary.expansions):
            expansions = glossary.expansions[:i] + glossary.expansions[i + 1 :]
            expansion_terms = glossary.expansion_terms[:i] + glossary.expansion_terms[i + 1 :]
            yield (
                "expansion",
                " / ".join(group),
                lambda e=expansions, t=expansion_terms: glossary_changed(assistant, expansions=e, expansion_terms=t),
            )
    if only in (None, "examples"):
        for category in read_examples(assistant.settings.corpus_dir / "out_of_scope.yaml"):
            yield "out-of-scope examples", category, lambda c=category: examples_without(assistant, c)
    if only in (None, "words"):
        for name, words in scope.GENERIC_GROUPS.items():
            yield "generic words", name, lambda w=words: generic_without(w)
        for name, words in lexical.EXTRA_STOPWORD_GROUPS.items():
            yield "BM25 stop words", name, lambda w=words: stopwords_without(assistant, w)


def cells(metrics: dict) -> str:
    return " | ".join("–" if metrics[c] is None else f"{metrics[c]:.3f}" for c in COLUMNS)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", default="tuning", choices=["tuning", "test", "all"])
    parser.add_argument("--only", choices=["settings", "glossary", "expansions", "examples", "words"])
    args = parser.parse_args()

    from assistant.service import Assistant

    assistant = Assistant()
    parts = part_of_every_set(args.part)
    questions = [q for chosen in parts.values() for q in chosen]
    base = run(assistant, questions)
    base_scores = [outcome(r) for r in base]
    print(f"{len(questions)} questions ({args.part} parts of {', '.join(parts)})\n")
    print("| taken out | what | " + " | ".join(COLUMNS) + " | worse | better |")
    print("|---|---|" + "---|" * (len(COLUMNS) + 2))
    print(f"| nothing | full system | {cells(compute_metrics(base))} | – | – |", flush=True)
    for kind, name, change in ablations(assistant, args.only):
        with change():
            records = run(assistant, questions)
        scores = [outcome(r) for r in records]
        worse = sum(a < b for a, b in zip(scores, base_scores, strict=True))
        better = sum(a > b for a, b in zip(scores, base_scores, strict=True))
        print(f"| {kind} | {name} | {cells(compute_metrics(records))} | {worse} | {better} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
