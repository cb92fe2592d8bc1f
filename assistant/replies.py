"""Replies without sources: a refusal, the hint for an empty question, or a reply to small talk."""

from __future__ import annotations

from assistant import messages
from assistant.schema import AskResult
from assistant.turn import Turn


def fixed_reply(
    turn: Turn, key: str, *, refused: bool = False, smalltalk: bool = False, notes: bool = False, **values: str
) -> AskResult:
    """The fixed text `key` of prompts/messages.*.yaml in the turn's language; `notes` keeps the turn's notes."""
    return AskResult(
        answer=messages.text(turn.lang, key, **values),
        language=turn.lang,
        refused=refused,
        smalltalk=smalltalk,
        citations=[],
        timings_ms=turn.rounded_timings(),
        notes=list(turn.notes) if notes else [],
        mode="smalltalk" if smalltalk else "extractive",
    )


def refusal(turn: Turn) -> AskResult:
    """The polite refusal of a question the sources do not cover, with the turn's notes; a question about
    another region, for live data or for a personal decision is told why and where to ask instead."""
    region = turn.gate.other_region if turn.gate else None
    if region:
        return fixed_reply(turn, "refusal_other_region", refused=True, notes=True, region=region)
    request = turn.gate.request if turn.gate else None
    if request:  # live data or a personal decision: say why, and where to ask
        return fixed_reply(turn, f"refusal_{request}", refused=True, notes=True)
    return fixed_reply(turn, "refusal", refused=True, notes=True)
