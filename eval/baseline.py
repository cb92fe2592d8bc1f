"""Our answers beside a tutorial RAG over the same corpus and the same questions, in one run.

Usage: .venv/bin/python eval/baseline.py [FILE.jsonl ...] [--part test|tuning|all]

The baseline is what a RAG tutorial builds: LangChain's RecursiveCharacterTextSplitter (500 characters, 50
overlap) over every corpus document, one Chroma collection (in memory, cosine) with the same embedder, and the
three nearest chunks pasted as the answer. It never refuses and reads no history. For it, hit@3 is a chunk of an
expected topic among the three, mention@3 the share of must_mention phrases found in the three chunks, and lead
the share found in the first 300 characters of the first chunk, the same measure as our `lead`. Without FILE,
every question set's test part and then its tuning part are scored (test figures first).
"""

from __future__ import annotations

import argparse
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from assistant.evaluation import (  # noqa: E402
    LEAD_CHARS,
    answerable,
    cell,
    compute_metrics,
    load_questions,
    median,
    part_of_every_set,
    run_eval,
    select_part,
    word_count,
)

CHUNK_SIZE, CHUNK_OVERLAP, TOP_K = 500, 50, 3


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


class TutorialRag:
    """Split, embed, store, take the top three: nothing else."""

    def __init__(self, settings) -> None:
        import chromadb
        from langchain_chroma import Chroma
        from langchain_core.documents import Document as LcDocument
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from assistant.corpus import load_corpus
        from assistant.embeddings import make_embedder

        report = load_corpus(settings.corpus_dir)
        splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
        docs = [
            LcDocument(page_content=doc.body, metadata={"topic": doc.topic, "lang": doc.lang, "doc": doc.id})
            for doc in report.documents
        ]
        chunks = splitter.split_documents(docs)
        client = chromadb.EphemeralClient(settings=chromadb.Settings(anonymized_telemetry=False))
        self.store = Chroma(
            collection_name="tutorial_baseline",
            embedding_function=make_embedder(settings.embedder),
            client=client,
            collection_configuration={"hnsw": {"space": "cosine"}},
        )
        started = time.perf_counter()
        self.store.add_documents(chunks, ids=[f"c{i}" for i in range(len(chunks))])
        self.chunk_count = len(chunks)
        self.build_s = time.perf_counter() - started

    def score(self, questions: list[dict]) -> dict:
        hits = answerable_n = phrases = found = leading = 0
        lengths = []
        for item in questions:
            top = self.store.similarity_search(item["question"], k=TOP_K)
            pasted = _norm("\n\n".join(d.page_content for d in top))
            first = _norm(top[0].page_content[:LEAD_CHARS]) if top else ""
            lengths.append(word_count(pasted))
            if not answerable(item):
                continue
            answerable_n += 1
            hits += any(d.metadata.get("topic") in set(item["expected_topics"]) for d in top)
            for phrase in item.get("must_mention") or []:
                phrases += 1
                found += _norm(phrase) in pasted
                leading += _norm(phrase) in first
        share = lambda a, b: None if b == 0 else a / b  # noqa: E731
        return {
            "n": len(questions),
            "hit@3": share(hits, answerable_n),
            "mention": share(found, phrases),
            "lead": share(leading, phrases),
            "words": median(lengths),
        }


COLUMNS = ["hit@3", "mention", "lead", "words"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--part", default=None, choices=["test", "tuning", "all"])
    args = parser.parse_args()

    from assistant.service import Assistant
    from assistant.settings import Settings

    settings = Settings()
    baseline = TutorialRag(settings)
    print(f"baseline: {baseline.chunk_count} chunks of {CHUNK_SIZE}/{CHUNK_OVERLAP}, built in {baseline.build_s:.0f} s")
    assistant = Assistant(settings)
    ask = lambda q, h: assistant.ask(q, h).model_dump()  # noqa: E731

    runs: list[tuple[str, str, list[dict]]] = []
    if args.files:
        for path in args.files:
            part = args.part or "all"
            runs.append((path.name, part, select_part(load_questions(path), path.name, part)))
    else:
        for part in [args.part] if args.part else ["test", "tuning"]:
            runs.extend((name, part, chosen) for name, chosen in part_of_every_set(part).items())

    head = " | ".join(f"ours {c} | tutorial {c}" for c in COLUMNS)
    print(f"| set | part | n | {head} | ours refusal_recall | ours false_refusal |")
    print("|---|---|---" + "|---|---" * len(COLUMNS) + "|---|---|")
    for name, part, chosen in runs:
        ours = compute_metrics(run_eval(ask, chosen))
        theirs = baseline.score(chosen)
        pairs = " | ".join(f"{cell(c, ours.get(c))} | {cell(c, theirs.get(c))}" for c in COLUMNS)
        refusal = f"{cell('refusal_recall', ours['refusal_recall'])} | {cell('false_refusal', ours['false_refusal'])}"
        print(f"| {name} | {part} | {len(chosen)} | {pairs} | {refusal} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
