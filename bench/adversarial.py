"""Adversarial questions: what the worst accepted input costs next to a normal question, and what two clients
sending such inputs at the allowed rate do to everybody else.

Usage: .venv/bin/python bench/adversarial.py [--runs 5] [--seconds 30] [--skip-server]
Part 1 answers each input in process (median of --runs, without and with history). Part 2 starts a server
with RATE_LIMIT=60/minute and three API keys (so each client has its own budget on loopback): a normal user
asks one dev question a second, first alone, then while two attackers each send the worst inputs at the
allowed rate; it prints the user's p50/p95 both times.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import string
import threading
import time

import httpx

from _common import forget_queries, machine, percentile, questions, start_server

NORMAL = "Welche Cluster hat Hamburg?"
FOLLOW_UP = "Und wer leitet es?"  # names no cluster: searched together with the question before it
HISTORY = ["Was macht das Luftfahrtcluster?"]


def adversarial_inputs(limit: int = 2000) -> dict[str, str]:
    """Inputs within MAX_QUESTION_CHARS that cost most before the bounds (combining marks, CJK, gibberish...)."""
    rng = random.Random(12)
    letters = " ".join("".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 10))) for _ in range(400))
    words = ["Hafen", "Luftfahrt", "Cluster", "Wasserstoff", "Logistik", "Medien", "Innovation", "Förderung"]
    return {
        "combining marks": ("a" + "\u0301" * limit)[:limit],
        "letters with marks": ("e\u0301\u0302\u0303" * limit)[:limit],
        "CJK": "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(limit)),
        "random letters": letters[:limit],
        "real words": " ".join(rng.choice(words) for _ in range(limit // 5))[:limit],
        "one long word": "x" * limit,
        "digits and dots": ("0." * limit)[:limit],
        "markup": ("<b>Hafen</b>" * limit)[:limit],
        "emoji": "🚢" * (limit // 2),
        "full stops": "." * (limit - 1) + "?",
        "open quotes": ("„Hafen" * limit)[:limit],
    }


def in_process(runs: int) -> tuple[dict[str, tuple[float, float]], float, float]:
    from assistant.service import Assistant

    assistant = Assistant()

    def median_ms(question: str, history: list[str]) -> float:
        assistant.ask(question, history)  # warm: caches, first-call costs
        times = []
        for _ in range(runs):
            forget_queries(assistant)  # the worst case: an attacker varies the input
            started = time.perf_counter()
            assistant.ask(question, history)
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    normal = median_ms(NORMAL, []), median_ms(FOLLOW_UP, HISTORY)
    costs = {kind: (median_ms(q, []), median_ms(q, [*HISTORY, q])) for kind, q in adversarial_inputs().items()}
    return costs, normal[0], normal[1]


def under_attack(seconds: float) -> dict[str, dict[str, float]]:
    keys = ["user", "attacker-1", "attacker-2"]
    proc, base = start_server({"RATE_LIMIT": "60/minute", "API_KEYS": json.dumps(keys)})
    items = [q["question"] for q in questions() if not q.get("history")]
    worst = list(adversarial_inputs().values())
    figures: dict[str, dict[str, float]] = {}
    try:
        for phase in ("alone", "under attack"):
            stop = threading.Event()
            attacked: list[int] = []

            def attacker(key: str, stop: threading.Event = stop, attacked: list[int] = attacked) -> None:
                with httpx.Client(base_url=base, timeout=120, headers={"X-API-Key": key}) as client:
                    n = 0
                    while not stop.is_set():  # one request a second: the allowed rate
                        started = time.monotonic()
                        body = {"question": worst[n % len(worst)], "history": [worst[(n + 1) % len(worst)]]}
                        attacked.append(client.post("/api/ask", json=body).status_code)
                        n += 1
                        stop.wait(max(0.0, 1.0 - (time.monotonic() - started)))

            threads = [threading.Thread(target=attacker, args=(k,)) for k in keys[1:]] if phase != "alone" else []
            for t in threads:
                t.start()
            latencies, errors = [], 0
            with httpx.Client(base_url=base, timeout=120, headers={"X-API-Key": "user"}) as client:
                end = time.monotonic() + seconds
                n = 0
                while time.monotonic() < end:
                    started = time.monotonic()
                    response = client.post("/api/ask", json={"question": items[n % len(items)]})
                    latencies.append((time.monotonic() - started) * 1000)
                    errors += response.status_code != 200
                    n += 1
                    time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
            stop.set()
            for t in threads:
                t.join()
            figures[phase] = {
                "requests": len(latencies),
                "p50": percentile(latencies, 50),
                "p95": percentile(latencies, 95),
                "errors": errors,
                "attack_requests": len(attacked),
                "attack_refused": sum(code != 200 for code in attacked),
            }
    finally:
        proc.terminate()
        proc.wait(30)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--skip-server", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    costs, normal, normal_follow_up = in_process(args.runs)
    print(f"\nnormal question: {normal:.1f} ms; normal follow-up (with history): {normal_follow_up:.1f} ms")
    print(f"{'input (2,000 characters)':28} {'alone ms':>9} {'x normal':>9} {'+history ms':>12} {'x normal':>9}")
    for kind, (alone, with_history) in sorted(costs.items(), key=lambda kv: -kv[1][1]):
        print(
            f"{kind:28} {alone:9.1f} {alone / normal:9.1f} {with_history:12.1f} {with_history / normal_follow_up:9.1f}"
        )
    worst = max(costs.items(), key=lambda kv: kv[1][1])
    print(f"worst: {worst[0]}, {worst[1][1]:.0f} ms with history = {worst[1][1] / normal_follow_up:.1f}x a follow-up")
    if args.skip_server:
        return
    figures = under_attack(args.seconds)
    print(f"\nnormal user, one question a second for {args.seconds:g} s (POST /api/ask):")
    for phase, f in figures.items():
        attack = (
            f" ; attackers sent {f['attack_requests']} ({f['attack_refused']} refused)" if f["attack_requests"] else ""
        )
        print(f"  {phase:13} p50 {f['p50']:7.1f} ms  p95 {f['p95']:7.1f} ms  errors {f['errors']}{attack}")


if __name__ == "__main__":
    main()
