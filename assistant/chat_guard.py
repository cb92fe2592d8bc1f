"""What the chat's socket accepts: allowed origins, bounded messages, rate limits, and nothing forged.

Chainlit's socket.io server turns off engine.io's origin check (and its CORS headers, which our
CORS middleware sends) and takes any step a client sends
(type, metadata and id included) into storage. This module wraps its handlers so that the
chat and the widget follow the same rules as the API: ALLOWED_ORIGINS (besides the chat's own
origin) for both transports, messages of at most MAX_QUESTION_CHARS characters without
control characters, a per-connection and per-address rate limit, one question at a time per
connection, and a client message is always stored as what it is: the user's text.
"""

from __future__ import annotations

import logging
import uuid
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
        self.allowed = {o.rstrip("/") for o in allowed}

    def allows(self, scope: Scope) -> bool:
        origin = dict(scope.get("headers") or []).get(b"origin")
        if self.anyone or origin is None:
            return True
        name = origin.decode("latin-1").rstrip("/")
        return name in self.allowed or name == _own_origin(scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not scope["path"].startswith(self.path) or self.allows(scope):
            return await self.app(scope, receive, send)
        log.info("refused a chat connection from an origin that is not allowed")
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # before accept: the handshake gets 403
            return
        await send({"type": "http.response.start", "status": 403, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"origin not allowed"})


class ChatGuard:
    """Admits chat questions within the limits and cleans what clients send before Chainlit sees it."""

    def __init__(self, settings: Settings, limiter: RateLimiter) -> None:
        self.settings = settings
        self.limiter = limiter
        self._answering: set[str] = set()  # session ids with a question in progress

    def install(self) -> None:
        """Wrap Chainlit's socket handlers; call once, after Chainlit's server module is imported."""
        from chainlit.server import sio

        sio.eio.max_http_buffer_size = self.settings.max_body_bytes
        handlers = sio.handlers["/"]
        original = handlers["client_message"]

        async def client_message(sid: str, payload: Any) -> None:
            await self._on_client_message(sid, payload, original)

        async def edit_message(sid: str, payload: Any) -> None:  # editing is off in the UI: never rewrite history
            log.info("ignored an edit_message event (editing is switched off)")

        sio.on("client_message", client_message)
        sio.on("edit_message", edit_message)

    def admit(self, session) -> str | None:
        """None when the session may ask now, else the notice to show (rate limit or a question in progress).

        Called where the chat answers (typed questions and starter buttons alike)."""
        lang = ui_language((session.environ or {}).get("HTTP_ACCEPT_LANGUAGE"), self.settings.default_language)
        if session.id in self._answering:
            return messages.text(lang, "chat_busy")
        address = client_address(session.environ or {})
        for limit, kind, who in (
            (self.settings.chat_rate_limit, "chat", session.id),
            (self.settings.chat_address_rate_limit, "chat-address", address),
        ):
            wait = self.limiter.hit(limit, kind, who)
            if wait is not None:
                return messages.text(lang, "chat_rate_limited", seconds=wait)
        return None

    def answering(self, session_id: str) -> _Answering:
        """Context manager marking a session as busy while its question is answered."""
        return _Answering(self._answering, session_id)

    def clean_payload(self, payload: Any, known_ids: set[str]) -> dict | None:
        """A client message reduced to what a user can say: text, its id, the page it came from; None if malformed.

        Whatever type, author or metadata the client claims, the step is a user message; an id that is
        not a new UUID4 (e.g. that of an answer, which the upsert would overwrite) is refused.
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
        if isinstance(location, str) and len(location) <= 2048:
            metadata["location"] = location
        return {
            "message": {
                "id": step_id,
                "threadId": "",
                "name": "User",
                "type": "user_message",
                "output": cleaned,
                "createdAt": str(message.get("createdAt") or "")[:40],
                "metadata": metadata,
            },
            "fileReferences": [],  # uploads are switched off
        }

    async def _on_client_message(self, sid: str, payload: Any, original: Handler) -> None:
        from chainlit.chat_context import chat_context
        from chainlit.context import init_ws_context
        from chainlit.session import WebsocketSession

        session = WebsocketSession.get(sid)
        if session is None:
            return
        init_ws_context(session)
        clean = self.clean_payload(payload, {m.id for m in chat_context.get()})
        if clean is None:
            log.info("ignored a malformed chat message")
            return
        await original(sid, clean)


class _Answering:
    def __init__(self, busy: set[str], session_id: str) -> None:
        self.busy, self.session_id = busy, session_id

    def __enter__(self) -> None:
        self.busy.add(self.session_id)

    def __exit__(self, *exc: object) -> None:
        self.busy.discard(self.session_id)
