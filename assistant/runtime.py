"""The process-wide Assistant: created once, shared by the chat, the API and the CLI server.

Loading the embedder and the index takes a moment and holds memory, so every
interface in a process uses this single instance.
"""

from __future__ import annotations

import threading

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
