"""Load: N concurrent clients against POST /api/ask on 127.0.0.1, each sending questions one after another.

Usage: .venv/bin/python bench/load.py [--clients 10 50 200] [--requests 400] [--url http://127.0.0.1:8000]
Without --url a server is started (RATE_LIMIT=0) and stopped afterwards. Prints throughput, p50/p95, errors,
and whether the chat page still answers while the load runs.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from _common import machine, percentile, questions, start_server


async def run(base: str, clients: int, total: int) -> dict:
    items = [q for q in questions() if not q.get("history")]
    queue: asyncio.Queue[dict] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(items[i % len(items)])
    latencies: list[float] = []
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

        async def worker() -> None:
            while True:
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                try:
                    response = await client.post("/api/ask", json={"question": item["question"]})
                    if response.status_code != 200:
                        errors[str(response.status_code)] = errors.get(str(response.status_code), 0) + 1
                    else:
                        latencies.append(time.perf_counter() - started)
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1

        async def chat_page_probe() -> float:
            await asyncio.sleep(1.0)  # while the load is on: does the chat page still come back?
            async with httpx.AsyncClient(base_url=base, timeout=60) as visitor:  # its own connection
                started = time.perf_counter()
                page = await visitor.get("/")
                return time.perf_counter() - started if page.status_code == 200 else -1.0

        started = time.perf_counter()
        results = await asyncio.gather(chat_page_probe(), chat_answer_probe(base), *(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": total,
        "seconds": elapsed,
        "throughput": len(latencies) / elapsed,
        "p50": percentile(latencies, 50) * 1000 if latencies else None,
        "p95": percentile(latencies, 95) * 1000 if latencies else None,
        "errors": errors,
        "chat_page_s": results[0],
        "chat_answer_s": results[1],
    }


async def chat_answer_probe(base: str) -> float:
    """A citizen in the chat (over its WebSocket) while the API is under load: seconds until the answer."""
    import uuid
    from datetime import UTC, datetime

    import socketio

    await asyncio.sleep(1.5)
    sio = socketio.AsyncClient()
    replies: asyncio.Queue[str] = asyncio.Queue()

    @sio.on("new_message")
    async def on_message(data: dict) -> None:
        if data.get("type") == "assistant_message" and data.get("output"):
            replies.put_nowait(data["output"])

    try:
        await sio.connect(
            base,
            socketio_path="/ws/socket.io",
            transports=["websocket"],
            auth={
                "sessionId": str(uuid.uuid4()),
                "clientType": "webapp",
                "userEnv": "{}",
                "chatProfile": None,
                "threadId": None,
            },
        )
        await sio.emit("connection_successful")
        await asyncio.wait_for(replies.get(), timeout=120)  # the greeting comes first
        started = time.perf_counter()
        await sio.emit(
            "client_message",
            {
                "message": {
                    "id": str(uuid.uuid4()),
                    "threadId": "",
                    "name": "User",
                    "type": "user_message",
                    "output": "Welche Cluster hat Hamburg?",
                    "createdAt": datetime.now(UTC).isoformat(),
                },
                "fileReferences": [],
            },
        )
        await asyncio.wait_for(replies.get(), timeout=120)
        return time.perf_counter() - started
    except (TimeoutError, socketio.exceptions.ConnectionError):
        return -1.0
    finally:
        await sio.disconnect()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--url")
    args = parser.parse_args()
    proc = None
    base = args.url
    if not base:
        proc, base = start_server()
    print(f"machine: {machine()}")
    print(
        "| clients | requests | throughput req/s | p50 ms | p95 ms | errors | chat page during load "
        "| chat answer during load |"
    )
    print("|---|---|---|---|---|---|---|---|")
    try:
        for clients in args.clients:
            r = asyncio.run(run(base, clients, max(args.requests, clients * 2)))
            page = f"{r['chat_page_s'] * 1000:.0f} ms" if r["chat_page_s"] >= 0 else "failed"
            answer = f"{r['chat_answer_s']:.2f} s" if r["chat_answer_s"] >= 0 else "failed"
            print(
                f"| {r['clients']} | {r['requests']} | {r['throughput']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} | "
                f"{sum(r['errors'].values())} {r['errors'] or ''} | {page} | {answer} |",
                flush=True,
            )
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
