"""Security headers on every response: a Content-Security-Policy that keeps the chat page to its own host.

The chat page may load and connect only to this server, so a message or an answer that ever rendered an
image or link preview from elsewhere would be blocked by the browser, not just avoided by our rendering.
Chainlit's page carries two inline scripts (its theme and a global alias); they are allowed by their
SHA-256 hashes, computed from the page actually sent, so no inline script of unknown content can run.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import zlib
from collections.abc import Sequence

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def script_hashes(html: bytes) -> list[str]:
    """CSP source expressions ('sha256-…') for the inline scripts of a page."""
    return [
        f"'sha256-{base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode()}'"
        for m in _INLINE_SCRIPT.finditer(html)
    ]


def content_security_policy(frame_ancestors: Sequence[str], hashes: Sequence[str] = ()) -> str:
    """The policy: everything from this server only; styles may be inline (the UI framework sets style attributes)."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "media-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": list(frame_ancestors) or ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def _decoded(body: bytes, encoding: str) -> bytes:
    """The page as the browser will read it (the chat compresses its pages); unreadable means no inline script runs."""
    if encoding.strip().lower() != "gzip":
        return body if not encoding.strip() else b""
    try:
        return gzip.decompress(body)
    except (OSError, EOFError, zlib.error):
        return b""


class SecurityHeaders:
    """ASGI middleware: nosniff, no referrer to the linked sources, and the CSP (with script hashes on HTML)."""

    def __init__(self, app: ASGIApp, frame_ancestors: list[str], unframed: Sequence[str] = ()) -> None:
        """`unframed`: path prefixes no page may show in a frame, whatever FRAME_ANCESTORS allows (the staff page)."""
        self.app = app
        self.frame_ancestors = frame_ancestors
        self.unframed = tuple(unframed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        body: list[bytes] = []
        path = str(scope.get("path", ""))
        ancestors = [] if any(path == p or path.startswith(p + "/") for p in self.unframed) else self.frame_ancestors

        async def send_with_headers(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                if headers.get("content-type", "").startswith("text/html"):
                    held = message  # the policy needs the page's inline scripts: wait for the body
                    return
                headers["Content-Security-Policy"] = content_security_policy(ancestors)
                await send(message)
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            page = b"".join(body)
            headers = MutableHeaders(scope=held)
            headers["Content-Security-Policy"] = content_security_policy(
                ancestors, script_hashes(_decoded(page, headers.get("content-encoding", "")))
            )
            await send(held)
            await send({"type": "http.response.body", "body": page, "more_body": False})

        await self.app(scope, receive, send_with_headers)
