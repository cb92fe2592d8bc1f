"""Fake OpenAI-compatible and Ollama-compatible chat servers on 127.0.0.1, over real HTTP.

Tests set `server.scenario` and read `server.requests`; the real LangChain clients talk to it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

REWRITE_MARKERS = ("standalone question", "eigenständige Frage")


@dataclass
class Scenario:
    mode: str = "answer"  # answer | http500 | hang | hang_midstream | malformed | empty | drip | leak
    text: str = "Hamburg hat neun Cluster [1]."
    rewrite: str | None = None  # answer to follow-up rewrite requests (None: echo the question)
    hang_seconds: float = 30.0  # for hang and hang_midstream; for drip: the pause before every piece


@dataclass
class FakeLLM:
    scenario: Scenario = field(default_factory=Scenario)
    requests: list[dict] = field(default_factory=list)
    port: int = 0

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def ollama_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _reply(self, body: dict) -> str:
        messages = body.get("messages") or []
        system = next((m.get("content", "") for m in messages if m.get("role") == "system"), "")
        if any(marker in system for marker in REWRITE_MARKERS):
            question = messages[-1].get("content", "")
            return self.scenario.rewrite if self.scenario.rewrite is not None else question
        if self.scenario.mode == "leak":  # a model that obeys an injection: its instructions, "cited"
            return f"{system} [1]"
        return "" if self.scenario.mode == "empty" else self.scenario.text


def _pieces(text: str, size: int = 6) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


async def _openai_events(fake: FakeLLM, body: dict, text: str):
    """OpenAI-style server-sent events of the reply, failing or hanging as the scenario says."""

    def chunk(delta: dict, finish: str | None = None) -> str:
        data = {
            "id": "cmpl-1",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model"),
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(data)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    for i, piece in enumerate(_pieces(text)):
        if i == 2 and fake.scenario.mode == "malformed":
            yield "data: {not json\n\n"
            return
        if i == 2 and fake.scenario.mode == "hang_midstream":
            await asyncio.sleep(fake.scenario.hang_seconds)
        if fake.scenario.mode == "drip":
            await asyncio.sleep(fake.scenario.hang_seconds)
        yield chunk({"content": piece})
        await asyncio.sleep(0.01)
    yield chunk({}, "stop")
    yield "data: [DONE]\n\n"


async def _ollama_lines(fake: FakeLLM, body: dict, text: str):
    """Ollama-style JSON lines of the reply, failing or hanging as the scenario says."""
    for i, piece in enumerate(_pieces(text)):
        if i == 2 and fake.scenario.mode == "malformed":
            yield "{not json\n"
            return
        if i == 2 and fake.scenario.mode == "hang_midstream":
            await asyncio.sleep(fake.scenario.hang_seconds)
        yield (
            json.dumps({"model": body.get("model"), "message": {"role": "assistant", "content": piece}, "done": False})
            + "\n"
        )
        await asyncio.sleep(0.01)
    yield (
        json.dumps(
            {
                "model": body.get("model"),
                "message": {"role": "assistant", "content": ""},
                "done": True,
                "done_reason": "stop",
                "prompt_eval_count": 10,
                "eval_count": 5,
            }
        )
        + "\n"
    )


def build_app(fake: FakeLLM) -> FastAPI:
    app = FastAPI()

    async def failure_or_hang() -> JSONResponse | None:
        if fake.scenario.mode == "http500":
            return JSONResponse({"error": {"message": "boom", "type": "server_error"}}, status_code=500)
        if fake.scenario.mode == "hang":
            await asyncio.sleep(fake.scenario.hang_seconds)
        return None

    @app.post("/v1/chat/completions")
    async def openai_chat(request: Request):
        body = await request.json()
        fake.requests.append({"api": "openai", **body})
        failed = await failure_or_hang()
        if failed is not None:
            return failed
        text = fake._reply(body)
        if not body.get("stream"):
            return {
                "id": "cmpl-1",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }

        return StreamingResponse(_openai_events(fake, body, text), media_type="text/event-stream")

    @app.post("/api/chat")
    async def ollama_chat(request: Request):
        body = await request.json()
        fake.requests.append({"api": "ollama", **body})
        if fake.scenario.mode == "http500":
            return JSONResponse({"error": "boom"}, status_code=500)
        if fake.scenario.mode == "hang":
            await asyncio.sleep(fake.scenario.hang_seconds)
        text = fake._reply(body)

        return StreamingResponse(_ollama_lines(fake, body, text), media_type="application/x-ndjson")

    return app


def start_fake_llm() -> tuple[FakeLLM, uvicorn.Server]:
    """Start the fake server in a daemon thread on a free port; returns (fake, server) for shutdown."""
    fake = FakeLLM()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        fake.port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(build_app(fake), host="127.0.0.1", port=fake.port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.time() + 10
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    return fake, server


if __name__ == "__main__":  # run standalone: python -m tests.fake_llm  (prints its port, serves until Ctrl+C)
    fake, server = start_fake_llm()
    print(fake.port, flush=True)
    while True:
        time.sleep(3600)
