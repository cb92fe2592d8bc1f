"""Thumbs up/down from the chat: bounded, rate-limited, only for the session's own answers, never
acknowledged when nothing was stored.

These routes take the place of Chainlit's `PUT /feedback` and `DELETE /feedback` (registered before
the chat is mounted, so they answer first) with the same request and response shapes. Chainlit's own
accept a comment of any size from anybody, for any thread id, and say `success` when the write failed.
"""

from __future__ import annotations

import uuid
from typing import Literal

from chainlit.types import Feedback
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from assistant import input_policy
from assistant.api import ApiError
from assistant.ratelimit import RateLimiter
from assistant.settings import Settings
from assistant.storage import PrivateDataLayer, StorageFailed


class FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    forId: str = Field(description="The answer's run step.")
    value: Literal[0, 1]
    threadId: str | None = None
    id: str | None = None
    comment: str | None = None


class FeedbackIn(BaseModel):
    feedback: FeedbackBody
    sessionId: str


class FeedbackDelete(BaseModel):
    feedbackId: str


def _is_uuid(value: str | None) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def check_vote(vote: FeedbackBody, settings: Settings) -> None:
    """The comment within MAX_FEEDBACK_CHARS and the input policy; ids that can name a step at all."""
    if vote.comment is not None and len(vote.comment) > settings.max_feedback_chars:
        raise ApiError(422, "feedback_too_long", limit=settings.max_feedback_chars)
    if vote.comment is not None and input_policy.problem(vote.comment):
        raise ApiError(422, "feedback_invalid")
    if not _is_uuid(vote.forId) or (vote.id is not None and not _is_uuid(vote.id)):
        raise ApiError(404, "feedback_unknown")


def owned_thread(body: FeedbackIn) -> str:
    """The conversation of the caller's chat session, which the vote must be about."""
    from chainlit.session import WebsocketSession

    session = WebsocketSession.get_by_id(body.sessionId)
    thread = session.thread_id if session else None
    if thread is None or (body.feedback.threadId is not None and body.feedback.threadId != thread):
        raise ApiError(403, "feedback_not_yours")
    return thread


def build_feedback_router(settings: Settings, limiter: RateLimiter) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    async def admit(request: Request) -> PrivateDataLayer:
        from chainlit.data import get_data_layer

        data_layer = get_data_layer()
        if not isinstance(data_layer, PrivateDataLayer):
            raise ApiError(404, "storage_off")
        address = request.client.host if request.client else "unknown"
        wait = await limiter.hit(settings.feedback_rate_limit, "feedback", address)
        if wait is not None:
            raise ApiError(429, "rate_limited", headers={"Retry-After": str(wait)}, seconds=wait)
        return data_layer

    @router.put("/feedback")
    async def update_feedback(request: Request, body: FeedbackIn) -> dict:
        """Store a vote (and comment) for an answer of the caller's own conversation."""
        layer = await admit(request)
        check_vote(body.feedback, settings)
        thread = owned_thread(body)
        vote = body.feedback
        try:
            if await layer.step_thread(vote.forId) != thread:
                raise ApiError(404, "feedback_unknown")
            if vote.id is not None and await layer.feedback_thread(vote.id) not in (None, thread):
                raise ApiError(403, "feedback_not_yours")
            feedback_id = await layer.upsert_feedback(
                Feedback(forId=vote.forId, value=vote.value, threadId=thread, id=vote.id, comment=vote.comment)
            )
        except StorageFailed as exc:
            raise ApiError(503, "storage_failed") from exc
        return {"success": True, "feedbackId": feedback_id}

    @router.delete("/feedback")
    async def delete_feedback(request: Request, body: FeedbackDelete) -> dict:
        """Withdraw a vote; its id is known only to the session that made it (Chainlit's client sends no session)."""
        layer = await admit(request)
        if not _is_uuid(body.feedbackId):
            raise ApiError(404, "feedback_unknown")
        try:
            await layer.delete_feedback(body.feedbackId)
        except StorageFailed as exc:
            raise ApiError(503, "storage_failed") from exc
        return {"success": True}

    return router
