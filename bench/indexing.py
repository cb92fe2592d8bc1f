"""Indexing the real corpus: a cold build, a re-index with nothing changed, and one changed document.

Usage: .venv/bin/python bench/indexing.py
Works on a copy of the corpus and a fresh index folder in a temporary directory.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from _common import EXE, ROOT, machine


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="indexing-"))
    try:
        shutil.copytree(ROOT / "corpus", work / "corpus")
        os.environ.update({"CORPUS_DIR": str(work / "corpus"), "INDEX_DIR": str(work / "index")})
        from assistant.embeddings import make_embedder
        from assistant.index import update_index
        from assistant.settings import Settings

        settings = Settings(_env_file=None)
        embedder = make_embedder(settings.embedder, threads=settings.embedder_threads)
        cold = update_index(settings, embedder)
        unchanged = update_index(settings, embedder)
        cli_runs = []
        for _ in range(3):  # the whole command, a new process each time: start-up, imports, check, exit
            started = time.perf_counter()
            subprocess.run([EXE, "index"], capture_output=True, text=True, check=True)
            cli_runs.append(time.perf_counter() - started)
        doc = work / "corpus" / "de" / "food.md"
        doc.write_text(doc.read_text(encoding="utf-8").replace("2024", "2025", 1), encoding="utf-8")
        changed = update_index(settings, embedder)
        vectors = cold.added + cold.sentences_added
        print(f"machine: {machine()}")
        print("| run | chunks added / unchanged / removed | vectors embedded | seconds | rate |")
        print("|---|---|---|---|---|")
        print(
            f"| cold build | {cold.added} / {cold.unchanged} / {cold.removed} | {vectors} | {cold.seconds:.1f} | "
            f"{cold.added / cold.seconds:.1f} chunks/s ({vectors / cold.seconds:.1f} vectors/s) |"
        )
        print(
            f"| no change (in process) | {unchanged.added} / {unchanged.unchanged} / {unchanged.removed} | 0 | "
            f"{unchanged.seconds:.2f} | |"
        )
        print(
            f"| no change (`assistant index`, whole command, median of 3) | | 0 | {statistics.median(cli_runs):.2f} "
            f"(worst {max(cli_runs):.2f}) | |"
        )
        print(
            f"| one document changed | {changed.added} / {changed.unchanged} / {changed.removed} | "
            f"{changed.added + changed.sentences_added} | {changed.seconds:.2f} | |"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
