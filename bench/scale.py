"""Scale: a synthetic corpus of N chunks (generated here, never committed), indexed and queried.

Usage: .venv/bin/python bench/scale.py --chunks 10000 [--keep /tmp/scale-10k]
Prints index time, start-up (index load) time, question p50/p95 over the full pipeline, resident
memory (now and at its peak) and the index size on disk. With --serve-only a fresh process only loads
the kept index and answers, as a server would. The synthetic documents have the real corpus' shape: German
originals with English translations, sections, paragraphs and list items.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path

from assistant.corpus import TOPICS as CORPUS_TOPICS

from _common import ROOT, folder_mib, machine, percentile, questions, rss_mib

TOPICS = [t for t in CORPUS_TOPICS if t != "policy"]
DE_WORDS = (
    "Forschung Netzwerk Unternehmen Hafen Wasserstoff Luftfahrt Förderung Projekt Zentrum Innovation "
    "Qualifizierung Weiterbildung Logistik Digitalisierung Energie Speicher Medizin Design Finanzierung "
    "Lebensmittel Mitglieder Verein Gesellschaft Standort Technologie Ausbildung Start-up Kooperation "
    "Drohnen Schifffahrt Plattform Daten Sicherheit Nachhaltigkeit Produktion Material Wind Wärme"
).split()
EN_WORDS = (
    "research network companies port hydrogen aviation funding project centre innovation qualification "
    "training logistics digitalisation energy storage medicine design financing food members association "
    "company location technology apprenticeship start-up cooperation drones shipping platform data "
    "security sustainability production material wind heat"
).split()


def sentence(rng: random.Random, words: list[str], n: int) -> str:
    picked = [rng.choice(words) for _ in range(rng.randint(7, 12))]
    return f"Projekt {n}: " + " ".join(picked).capitalize() + f" im Jahr {rng.randint(1990, 2026)}."


def generate(folder: Path, chunks: int, seed: int = 7) -> None:
    """Write German/English document pairs holding about `chunks` chunks in all."""
    rng = random.Random(seed)
    per_doc = 100  # list items per document (plus a few paragraphs)
    pairs = max(1, chunks // (2 * (per_doc + 4)))
    for lang in ("de", "en"):
        (folder / lang).mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "corpus" / "glossary.yaml", folder / "glossary.yaml")
    shutil.copy(ROOT / "corpus" / "out_of_scope.yaml", folder / "out_of_scope.yaml")
    for d in range(pairs):
        topic = TOPICS[d % len(TOPICS)]
        state = rng.getstate()
        for lang, words in (("de", DE_WORDS), ("en", EN_WORDS)):
            rng.setstate(state)  # the translation has the same structure
            body = []
            for s in range(4):
                body.append(f"## {'Abschnitt' if lang == 'de' else 'Section'} {s + 1}\n")
                body.append(" ".join(sentence(rng, words, d * 1000 + s * 10 + k) for k in range(2)) + "\n")
                body.append(("Wichtige Punkte:" if lang == "de" else "Key points:") + "\n")
                body += [f"- {sentence(rng, words, d * 1000 + s * 100 + i)}" for i in range(per_doc // 4)]
                body.append("<!-- src: 1 -->\n")
            extra = f"translation_of: doc{d}-de\n" if lang == "en" else ""
            (folder / lang / f"doc{d}.md").write_text(
                f'---\nid: doc{d}-{lang}\ntitle: "Synthetic {topic} {d}"\nlang: {lang}\ntopic: {topic}\n'
                f"sources:\n  - https://example.org/doc{d}\n{extra}reviewed: 2026-11-25\n---\n\n" + "\n".join(body),
                encoding="utf-8",
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=10000)
    parser.add_argument("--keep", type=Path, help="Work folder to keep (default: a temporary one, deleted).")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--serve-only",
        action="store_true",
        help="Use the index already in --keep: measure a fresh process's start-up, questions and memory.",
    )
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="scale-"))
    os.environ.update(
        {"CORPUS_DIR": str(work / "corpus"), "INDEX_DIR": str(work / "index"), "CHROMA_COLLECTION": "scale"}
    )
    from assistant.embeddings import make_embedder
    from assistant.index import update_index
    from assistant.service import Assistant
    from assistant.settings import Settings

    settings = Settings(_env_file=None)
    if not (work / "corpus").exists():
        generate(work / "corpus", args.chunks)
    embedder = make_embedder(settings.embedder)
    started = time.perf_counter()
    summary = None if args.serve_only else update_index(settings, embedder)
    index_seconds = time.perf_counter() - started
    started = time.perf_counter()
    assistant = Assistant(settings, embedder=embedder)
    load_seconds = time.perf_counter() - started
    rng = random.Random(1)
    asks = [q["question"] for q in questions()] + [sentence(rng, DE_WORDS, i)[12:] for i in range(100)]
    for q in asks[:5]:
        assistant.ask(q)
    latencies = []
    for q in (asks * 10)[: args.queries]:
        t = time.perf_counter()
        assistant.ask(q)
        latencies.append((time.perf_counter() - t) * 1000)
    print(f"machine: {machine()}")
    print(
        "| chunks | index build s | chunks/s | start-up s | question p50 ms | p95 ms | RSS MiB | peak RSS MiB "
        "| index on disk MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    total = summary.total if summary else len(assistant.index.chunks)
    build = f"{index_seconds:.0f} | {summary.added / index_seconds:.0f}" if summary else "(not built here) | –"
    print(
        f"| {total} | {build} | {load_seconds:.1f} | "
        f"{percentile(latencies, 50):.1f} | {percentile(latencies, 95):.1f} | {rss_mib(os.getpid()):.0f} | "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} | "
        f"{folder_mib(work / 'index'):.0f} |"
    )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
