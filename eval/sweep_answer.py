"""Sweep the settings that shape an extractive answer and print lead, mention and median words per value.

Usage: .venv/bin/python eval/sweep_answer.py [--part tuning] [--only fit_kind_weight ...]

The answer's first sentences are chosen by question-sentence fit (assistant/fit.py) within ANSWER_SENTENCES,
ANSWER_WORDS and ANSWER_MARGIN. One setting varies at a time, the others stay at their defaults; every tuning
question is answered again for each value (the composer's settings are swapped, retrieval and gate are not
affected). Figures are the mean over the sets of each set's figure. Only the tuning part is read unless --part
says otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from assistant.evaluation import compute_metrics, part_of_every_set, run_eval  # noqa: E402

GRIDS: dict[str, list[float]] = {
    "fit_lexical_weight": [0.0, 0.025, 0.05, 0.1, 0.2],
    "fit_context_share": [0.0, 0.25, 0.5, 0.75, 1.0],
    "fit_kind_weight": [0.0, 0.03, 0.06, 0.1, 0.15],
    "fit_topic_penalty": [0.0, 0.015, 0.03, 0.06],
    "fit_anaphora_penalty": [0.0, 0.01, 0.02, 0.04],
    "answer_sentences": [1, 2, 3, 4, 5],
    "answer_words": [20, 40, 60, 90, 150],
    "answer_margin": [0.01, 0.02, 0.04, 0.06, 0.1],
    "kind_first_margin": [0.0, 0.02, 0.04, 0.06, 0.1, 0.15, 0.25, 1.0],
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", default="tuning", choices=["tuning", "test", "all"])
    parser.add_argument("--only", nargs="*", choices=sorted(GRIDS))
    args = parser.parse_args()

    from assistant.service import Assistant

    assistant = Assistant()
    defaults = assistant.composer.settings
    sets = part_of_every_set(args.part)
    print(f"| setting | value | lead | mention | words | {' | '.join(f'{name} lead' for name in sets)} |")
    print("|---|---|---|---|---" + "|---" * len(sets) + "|")
    for name in args.only or GRIDS:
        for value in GRIDS[name]:
            settings = defaults.model_copy(update={name: type(getattr(defaults, name))(value)})
            assistant.composer.settings = assistant.composer.fit.settings = settings
            figures = {
                set_name: compute_metrics(run_eval(lambda q, h: assistant.ask(q, h).model_dump(), questions))
                for set_name, questions in sets.items()
            }
            mean = {m: sum(f[m] for f in figures.values()) / len(figures) for m in ("lead", "mention", "words")}
            marker = " (default)" if getattr(defaults, name) == settings.__getattribute__(name) else ""
            per_set = " | ".join(f"{f['lead']:.3f}" for f in figures.values())
            print(
                f"| {name} | {value}{marker} | {mean['lead']:.3f} | {mean['mention']:.3f} | {mean['words']:.1f} | "
                f"{per_set} |",
                flush=True,
            )
    assistant.composer.settings = assistant.composer.fit.settings = defaults
    return 0


if __name__ == "__main__":
    sys.exit(main())
