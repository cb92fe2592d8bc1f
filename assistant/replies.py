"""Replies without sources: a refusal, the hint for an empty question, or a reply to small talk."""

from __future__ import annotations

from assistant import messages
from assistant.schema import AskResult
from assistant.turn import Turn


def fixed_reply(
    turn: Turn, key: str, *, refused: bool = False, smalltalk: bool = False, notes: bool = False
) -> AskResult:
    """The fixed text `key` of prompts/messages.*.yaml in the turn's language; `notes` keeps the turn's notes."""
    return AskResult(
        answer=messages.text(turn.lang, key),
        language=turn.lang,
        refused=refused,
        smalltalk=smalltalk,
        citations=[],
        timings_ms=turn.rounded_timings(),
        notes=list(turn.notes) if notes else [],
        mode="smalltalk" if smalltalk else "extractive",
    )


def refusal(turn: Turn) -> AskResult:
    """The polite refusal of a question the sources do not cover, with the turn's notes."""
    return fixed_reply(turn, "refusal", refused=True, notes=True)
