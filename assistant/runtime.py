"""The process-wide services: the Assistant, the rate limiter and the chat guard, created once.

Loading the embedder and the index takes a moment and holds memory, so every
interface in a process uses this single instance; rate limits count across the
API, the chat and feedback, so they share one limiter.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from assistant.chat_guard import ChatGuard
from assistant.ratelimit import RateLimiter
from assistant.service import Assistant
from assistant.settings import get_settings

_lock = threading.Lock()
_instance: Assistant | None = None


def get_assistant() -> Assistant:
    """The shared Assistant, created on first use (building the index if needed)."""
    global _instance
    if _instance is None:
        with _lock:
            if _instance is None:
                _instance = Assistant(get_settings())
    return _instance


def set_assistant(assistant: Assistant | None) -> None:
    """Install a ready Assistant (tests and servers that build their own)."""
    global _instance
    with _lock:
        _instance = assistant


@lru_cache(maxsize=1)
def get_limiter() -> RateLimiter:
    """The process's rate limiter (its counters in memory, or in Redis with RATE_LIMIT_STORAGE)."""
    return RateLimiter(get_settings().rate_limit_storage)


@lru_cache(maxsize=1)
def get_chat_guard() -> ChatGuard:
    """The chat's limits and payload rules, shared by the socket handlers and the chat callbacks."""
    return ChatGuard(get_settings(), get_limiter())
