"""Cold start with a built index: from process start to the first answer.

Usage: .venv/bin/python bench/cold_start.py [--runs 3]
Measures `assistant ask --json` (a new process each run) and `assistant serve` (process start until the
first POST /api/ask has returned). The index must exist (`assistant index`).
"""

from __future__ import annotations

import argparse
import subprocess
import time

import httpx

from _common import EXE, machine, percentile, start_server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    subprocess.run([EXE, "index"], check=True, capture_output=True)  # make sure the index is built and current
    cli, server = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run([EXE, "ask", "--json", "Welche Cluster hat Hamburg?"], check=True, capture_output=True)
        cli.append(time.perf_counter() - started)
        started = time.perf_counter()
        proc, base = start_server()
        try:
            httpx.post(
                f"{base}/api/ask", json={"question": "Welche Cluster hat Hamburg?"}, timeout=60
            ).raise_for_status()
            server.append(time.perf_counter() - started)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"machine: {machine()}")
    print("| path | median s | worst s |")
    print("|---|---|---|")
    print(f"| `assistant ask --json` (new process → answer) | {percentile(cli, 50):.2f} | {max(cli):.2f} |")
    label = "`assistant serve` (new process → first /api/ask answered)"
    print(f"| {label} | {percentile(server, 50):.2f} | {max(server):.2f} |")


if __name__ == "__main__":
    main()
