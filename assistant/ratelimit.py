"""Rate limits for every way in: API requests, failed API keys, chat questions, feedback.

One moving-window limiter (the `limits` library) over one storage: per process in
memory, or shared by several app processes in Redis (RATE_LIMIT_STORAGE). Clients
are counted by a hash of what identifies them (an API key, a chat connection, an
address), so no counter holds a key or an address in clear.
"""

from __future__ import annotations

import hashlib
import time
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


@lru_cache(maxsize=32)
def _parsed(limit: str) -> RateLimitItem | None:
    """'30/minute' parsed once; '' or '0' means no limit."""
    return None if limit.strip() in ("", "0") else parse(limit)


def check_limit(limit: str) -> str:
    """The limit as given, or ValueError for a text `limits` cannot read (used to validate settings)."""
    _parsed(limit)
    return limit


class RateLimiter:
    """Counts hits per (limit, client) and says how long a client over its limit has to wait."""

    def __init__(self, storage_uri: str = "memory://") -> None:
        self._window = MovingWindowRateLimiter(storage_from_string(storage_uri))

    @staticmethod
    def _key(kind: str, who: str) -> str:
        return f"{kind}:{hashlib.sha256(who.encode('utf-8', 'replace')).hexdigest()[:16]}"

    def hit(self, limit: str, kind: str, who: str) -> int | None:
        """Count one hit; None when within the limit, else the seconds until the next hit is allowed."""
        item = _parsed(limit)
        if item is None:
            return None
        key = self._key(kind, who)
        if self._window.hit(item, key):
            return None
        return self.retry_after(limit, kind, who)

    def exceeded(self, limit: str, kind: str, who: str) -> int | None:
        """Like `hit`, but without counting: the seconds to wait when the client is already over its limit."""
        item = _parsed(limit)
        if item is None or self._window.test(item, self._key(kind, who)):
            return None
        return self.retry_after(limit, kind, who)

    def retry_after(self, limit: str, kind: str, who: str) -> int:
        item = _parsed(limit)
        assert item is not None
        reset, _remaining = self._window.get_window_stats(item, self._key(kind, who))
        return max(1, int(reset - time.time()) + 1)
