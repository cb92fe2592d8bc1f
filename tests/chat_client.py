"""A socket.io client that talks to the running chat as the browser does (for the tests)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import socketio


class ChatClient:
    """One chat connection: send messages (or forged steps), follow every step the server emits."""

    def __init__(
        self,
        base: str,
        accept_language: str = "de-DE,de;q=0.9",
        origin: str | None = None,
        transports: tuple[str, ...] = ("websocket",),
    ) -> None:
        self.base, self.accept_language, self.origin, self.transports = base, accept_language, origin, transports
        self.sio = socketio.AsyncClient(reconnection=False)
        self.session_id = str(uuid.uuid4())
        self.steps: dict[str, dict] = {}  # every step emitted, merged over its updates
        self.tokens: dict[str, str] = {}  # streamed text per step id
        self.thread_id: str | None = None
        self.task_ends = 0
        self._changed = asyncio.Event()
        for event in ("new_message", "update_message"):
            self.sio.on(event, self._on_step)
        self.sio.on("stream_token", self._on_token)
        self.sio.on("task_end", self._on_task_end)
        self.sio.on("first_interaction", self._on_first)

    async def _on_step(self, data: dict) -> None:
        self.steps.setdefault(data["id"], {}).update(data)
        self._changed.set()

    async def _on_token(self, data: dict) -> None:
        self.tokens[data["id"]] = self.tokens.get(data["id"], "") + data.get("token", "")
        self._changed.set()

    async def _on_task_end(self, *_: object) -> None:
        self.task_ends += 1
        self._changed.set()

    async def _on_first(self, data: dict) -> None:
        self.thread_id = data.get("thread_id")

    async def connect(self, greeting: bool = True) -> ChatClient:
        headers = {"Accept-Language": self.accept_language}
        if self.origin:
            headers["Origin"] = self.origin
        await self.sio.connect(
            self.base,
            socketio_path="/ws/socket.io",
            transports=list(self.transports),
            headers=headers,
            auth={
                "sessionId": self.session_id,
                "clientType": "webapp",
                "userEnv": "{}",
                "chatProfile": None,
                "threadId": None,
            },
            wait_timeout=10,
        )
        await self.sio.emit("connection_successful")
        if greeting:
            await self.wait(lambda: any(s.get("type") == "assistant_message" for s in self.steps.values()), 30)
        return self

    async def close(self) -> None:
        await self.sio.disconnect()

    async def wait(self, condition, timeout: float) -> None:
        async def until() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(until(), timeout)

    async def send(self, text: str, **step: object) -> str:
        """Emit a client message; `step` overrides fields of the step dict (a forged type, metadata, id)."""
        message = {
            "id": str(uuid.uuid4()),
            "threadId": "",
            "name": "User",
            "type": "user_message",
            "output": text,
            "createdAt": datetime.now(UTC).isoformat(),
            **step,
        }
        await self.sio.emit("client_message", {"message": message, "fileReferences": []})
        return str(message["id"])

    def answered(self, message_id: str) -> bool:
        """Whether the run that answers a message has ended (its reply is complete)."""
        runs = [s for s in self.steps.values() if s.get("type") == "run" and s.get("parentId") == message_id]
        return bool(runs) and all(run.get("end") for run in runs) and bool(self.replies_to(message_id))

    def replies_to(self, message_id: str) -> list[dict]:
        """The assistant messages the server sent in answer to one message (inside its run step)."""
        runs = {i for i, s in self.steps.items() if s.get("type") == "run" and s.get("parentId") == message_id}
        return [s for s in self.steps.values() if s.get("type") == "assistant_message" and s.get("parentId") in runs]

    async def ask(self, text: str, timeout: float = 60) -> dict:
        """Send a question and return its answer step once the task has ended (for an enquiry, the answers;
        the draft reply that follows them is a reply of its own)."""
        message_id = await self.send(text)
        await self.wait(lambda: self.answered(message_id), timeout)
        replies = self.replies_to(message_id)
        answers = [r for r in replies if not (r.get("metadata") or {}).get("draft_reply")]
        return (answers or replies)[-1]


async def ask_once(base: str, question: str, **client: object) -> dict:
    """Connect, ask one question, disconnect."""
    chat = await ChatClient(base, **client).connect()  # type: ignore[arg-type]
    try:
        return await chat.ask(question)
    finally:
        await chat.close()
