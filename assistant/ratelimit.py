"""Rate limits for every way in: API requests, failed API keys, chat questions, feedback.

One moving-window limiter (the `limits` library, its asyncio API, so a Redis round trip never
blocks the event loop) over one storage: per process in memory, or shared by several app
processes in Redis (RATE_LIMIT_STORAGE; needs the `coredis` package). Clients are counted by a
hash of what identifies them (an API key, a chat connection, an address), so no counter holds a
key or an address in clear. When the storage fails, requests are let through and the failure is
logged: a broken Redis must not take the assistant down with it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

log = logging.getLogger(__name__)


@lru_cache(maxsize=32)
def _parsed(limit: str) -> RateLimitItem | None:
    """'30/minute' parsed once; '' or '0' means no limit."""
    return None if limit.strip() in ("", "0") else parse(limit)


def check_limit(limit: str) -> str:
    """The limit as given, or ValueError for a text `limits` cannot read (used to validate settings)."""
    _parsed(limit)
    return limit


def async_storage_uri(uri: str) -> str:
    """The `limits` asyncio storage for a RATE_LIMIT_STORAGE value ("memory://" -> "async+memory://")."""
    return uri if uri.startswith("async+") else f"async+{uri}"


class RateLimiter:
    """Counts hits per (limit, client) and says how long a client over its limit has to wait."""

    def __init__(self, storage_uri: str = "memory://") -> None:
        try:
            storage = storage_from_string(async_storage_uri(storage_uri))
        except Exception as exc:  # noqa: BLE001 - an unknown scheme or a missing driver: say which
            raise ValueError(f"RATE_LIMIT_STORAGE {storage_uri!r} cannot be used: {exc}") from exc
        self._window = MovingWindowRateLimiter(storage)

    @staticmethod
    def _key(kind: str, who: str) -> str:
        return f"{kind}:{hashlib.sha256(who.encode('utf-8', 'replace')).hexdigest()[:16]}"

    async def hit(self, limit: str, kind: str, who: str) -> int | None:
        """Count one hit; None when within the limit, else the seconds until the next hit is allowed."""
        item = _parsed(limit)
        if item is None:
            return None
        key = self._key(kind, who)
        try:
            if await self._window.hit(item, key):
                return None
            reset, _remaining = await self._window.get_window_stats(item, key)
        except Exception:  # noqa: BLE001 - fail open, loudly
            log.exception("rate-limit storage failed; letting the request through")
            return None
        return max(1, int(reset - time.time()) + 1)
