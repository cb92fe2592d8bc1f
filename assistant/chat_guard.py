"""What the chat's socket accepts: allowed origins, bounded messages, rate limits, and nothing forged.

Chainlit's socket.io server turns off engine.io's origin check (and its CORS headers, which our CORS
middleware sends) and takes any step a client sends (type, metadata and id included) into storage.
This module makes the chat and the widget follow the same rules as the API: ALLOWED_ORIGINS (besides
the chat's own origin) for both transports (`SocketOrigins`); and, wrapping Chainlit's socket
handlers (`ChatGuard`), messages of at most MAX_QUESTION_CHARS characters without control characters,
limits per connection and per address and one question at a time, checked before anything is stored,
a client message always stored as what it is (the user's text, under an id never used before), and
socket events the chat does not use dropped.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from assistant import messages
from assistant.input_policy import clean_text
from assistant.language import ui_language
from assistant.ratelimit import RateLimiter
from assistant.settings import Settings

log = logging.getLogger(__name__)
Handler = Callable[..., Awaitable[Any]]
SOCKET_PATH = "/ws/socket.io"  # where Chainlit mounts its socket.io server (mounted at "/")
CUT_MARK = "truncated"  # message metadata the guard sets when it cut a message to MAX_QUESTION_CHARS
MAX_LOCATION_CHARS = 2048  # the embedding page's address, as the widget reports it


def client_address(environ: dict) -> str:
    """The client's address as the server sees it (after trusted proxies; engine.io's REMOTE_ADDR is fixed)."""
    scope = environ.get("asgi.scope") or {}
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _own_origin(scope: Scope) -> str | None:
    """The origin the chat itself is served from, as the browser names it: scheme and Host header."""
    host = dict(scope.get("headers") or []).get(b"host")
    if not host:
        return None
    scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme", "http"))
    return f"{scheme}://{host.decode('latin-1')}"


class SocketOrigins:
    """ASGI middleware: the chat's socket (polling handshake, polls and WebSocket alike) only for pages of
    ALLOWED_ORIGINS or of the chat's own origin; a request without Origin is no browser's and passes."""

    def __init__(self, app: ASGIApp, allowed: list[str], path: str = SOCKET_PATH) -> None:
        self.app, self.path = app, path
        self.anyone = "*" in allowed
        self.allowed = {o.rstrip("/").lower() for o in allowed}  # scheme and host are case-insensitive

    def allows(self, scope: Scope) -> bool:
        origin = dict(scope.get("headers") or []).get(b"origin")
        if self.anyone or origin is None:
            return True
        name = origin.decode("latin-1").rstrip("/").lower()
        own = _own_origin(scope)
        return name in self.allowed or (own is not None and name == own.lower())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not scope["path"].startswith(self.path) or self.allows(scope):
            return await self.app(scope, receive, send)
        log.info("refused a chat connection from an origin that is not allowed")
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # before accept: the handshake gets 403
            return
        await send({"type": "http.response.start", "status": 403, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"origin not allowed"})


# Socket events the chat does not use: Chainlit would act on them (store a "Task manually stopped." per
# event, keep any chat settings a client sends); they are dropped.
UNUSED_EVENTS = (
    "edit_message",  # editing is switched off in the UI: history is never rewritten
    "window_message",
    "audio_start",
    "audio_chunk",
    "audio_end",
    "chat_settings_change",
    "chat_settings_edit",
    "message_favorite",
    "fetch_favorites",
)
SEEN_IDS = 256  # message ids remembered per connection (an id is never taken twice)


class ChatGuard:
    """Admits chat questions within the limits and cleans what clients send before Chainlit sees (or stores) it."""

    def __init__(self, settings: Settings, limiter: RateLimiter) -> None:
        self.settings = settings
        self.limiter = limiter
        self._answering: set[str] = set()  # session ids with a question in progress
        self._seen: dict[str, deque[str]] = defaultdict(lambda: deque(maxlen=SEEN_IDS))
        self._installed = False

    def install(self) -> None:
        """Wrap Chainlit's socket handlers (once), after Chainlit's server module is imported."""
        from chainlit.server import sio

        if self._installed:
            return
        self._installed = True
        sio.eio.max_http_buffer_size = self.settings.max_body_bytes
        handlers = sio.handlers["/"]
        connect, client_message, stop = handlers["connect"], handlers["client_message"], handlers["stop"]
        disconnect = handlers["disconnect"]

        async def guarded_connect(sid: str, environ: dict, auth: Any = None) -> bool:
            auth = self.clean_auth(auth)
            if auth is None:
                return False
            return await connect(sid, environ, auth)

        async def guarded_message(sid: str, payload: Any) -> None:
            await self._on_client_message(sid, payload, client_message)

        async def guarded_stop(sid: str) -> None:  # only a running answer can be stopped
            from chainlit.session import WebsocketSession

            session = WebsocketSession.get(sid)
            if session is not None and session.id in self._answering:
                await stop(sid)

        async def guarded_disconnect(sid: str, *args: Any) -> None:
            from chainlit.session import WebsocketSession

            session = WebsocketSession.get(sid)
            await disconnect(sid)
            if session is not None:
                self.forget(session.id)

        async def ignored(sid: str, *args: Any) -> None:
            log.debug("ignored a socket event the chat does not use")

        sio.on("connect", guarded_connect)
        sio.on("client_message", guarded_message)
        sio.on("stop", guarded_stop)
        sio.on("disconnect", guarded_disconnect)
        for event in UNUSED_EVENTS:
            sio.on(event, ignored)

    @staticmethod
    def clean_auth(auth: Any) -> dict | None:
        """The connection's auth with what the chat uses; None (refused) when it is not Chainlit's shape.

        A thread id from the client is dropped: threads are not resumed, and a session that named another
        conversation's thread could rate that conversation's answers."""
        if not isinstance(auth, dict) or not isinstance(auth.get("sessionId"), str):
            return None
        try:
            uuid.UUID(auth["sessionId"])
        except ValueError:
            return None
        client_type = auth.get("clientType") if auth.get("clientType") in ("webapp", "copilot") else "webapp"
        return {"sessionId": auth["sessionId"], "clientType": client_type, "userEnv": "{}", "chatProfile": None,
                "threadId": None}  # fmt: skip

    async def admit(self, session) -> str | None:
        """None when the session may ask now, else the notice to show (rate limit or a question in progress)."""
        lang = ui_language((session.environ or {}).get("HTTP_ACCEPT_LANGUAGE"), self.settings.default_language)
        if session.id in self._answering:
            return messages.text(lang, "chat_busy")
        address = client_address(session.environ or {})
        for limit, kind, who in (
            (self.settings.chat_rate_limit, "chat", session.id),
            (self.settings.chat_address_rate_limit, "chat-address", address),
        ):
            wait = await self.limiter.hit(limit, kind, who)
            if wait is not None:
                return messages.text(lang, "chat_rate_limited", seconds=wait)
        return None

    def answering(self, session_id: str) -> _Answering:
        """Context manager marking a session as busy while its question is answered."""
        return _Answering(self._answering, session_id)

    @staticmethod
    async def notify(session, text: str) -> None:
        """Show a notice in the chat without storing it (and without an answer's run)."""
        from chainlit.context import init_ws_context
        from chainlit.message import Message

        context = init_ws_context(session)
        await context.emitter.send_step(Message(content=text).to_dict())

    def clean_payload(self, payload: Any, known_ids: set[str]) -> dict | None:
        """A client message reduced to what a user can say: text, its id, the page it came from; None if malformed.

        Whatever type, author or metadata the client claims, the step is a user message; an id must be a
        UUID4 the connection has not used and nobody has stored (the upsert would overwrite that step).
        """
        if not isinstance(payload, dict) or not isinstance(payload.get("message"), dict):
            return None
        message = payload["message"]
        text, step_id = message.get("output"), message.get("id")
        if not isinstance(text, str) or not isinstance(step_id, str) or step_id in known_ids:
            return None
        try:
            if uuid.UUID(step_id).version != 4:
                return None
        except ValueError:
            return None
        cleaned, cut = clean_text(text, self.settings.max_question_chars)
        metadata: dict[str, Any] = {CUT_MARK: True} if cut else {}
        claimed = message.get("metadata")
        location = claimed.get("location") if isinstance(claimed, dict) else None
        if isinstance(location, str):
            metadata["location"] = clean_text(location, MAX_LOCATION_CHARS)[0]
        return {
            "message": {
                "id": step_id,
                "threadId": "",
                "name": "User",
                "type": "user_message",
                "output": cleaned,
                "createdAt": "",  # Chainlit sets the time itself
                "metadata": metadata,
            },
            "fileReferences": [],  # uploads are switched off
        }

    async def _on_client_message(self, sid: str, payload: Any, original: Handler) -> None:
        """Admit a typed question before Chainlit stores or answers it; a refused one only gets a notice."""
        from chainlit.chat_context import chat_context
        from chainlit.context import init_ws_context
        from chainlit.data import get_data_layer
        from chainlit.session import WebsocketSession

        session = WebsocketSession.get(sid)
        if session is None:
            return
        init_ws_context(session)
        seen = self._seen[session.id]
        clean = self.clean_payload(payload, {m.id for m in chat_context.get()} | set(seen))
        if clean is None:
            log.info("ignored a malformed chat message")
            return
        step_id = clean["message"]["id"]
        seen.append(step_id)  # before any await: the same id twice in one batch is taken once
        layer = get_data_layer()
        if layer is not None and await _stored(layer, step_id):
            log.info("ignored a chat message reusing the id of a stored step")
            return
        notice = await self.admit(session)
        if notice:
            await self.notify(session, notice)
            return
        self._answering.add(session.id)
        try:
            await original(sid, clean)  # starts the answer as a task of its own
        finally:
            task = session.current_task
            if task is not None and not task.done():
                task.add_done_callback(lambda _task: self._answering.discard(session.id))
            else:
                self._answering.discard(session.id)

    def forget(self, session_id: str) -> None:
        """Drop what is remembered of a connection that ended."""
        self._seen.pop(session_id, None)


async def _stored(layer, step_id: str) -> bool:
    step_thread = getattr(layer, "step_thread", None)
    if step_thread is None:
        return False
    try:
        return await step_thread(step_id) is not None
    except Exception:  # noqa: BLE001 - unreadable storage: nothing can be overwritten either
        return False


class _Answering:
    def __init__(self, busy: set[str], session_id: str) -> None:
        self.busy, self.session_id = busy, session_id

    def __enter__(self) -> None:
        self.busy.add(self.session_id)

    def __exit__(self, *exc: object) -> None:
        self.busy.discard(self.session_id)
