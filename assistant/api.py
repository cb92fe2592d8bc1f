"""The HTTP API for staff tools: /api/ask and an OpenAI-compatible /v1, guarded against abuse.

Both are thin shells over the shared Assistant. Optional API keys (wrong ones throttled), a
per-client rate limit, body and question limits, and strict validation turn bad input into
clear 4xx answers in the client's language.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant import input_policy
from assistant.language import ui_language
from assistant.ratelimit import RateLimiter
from assistant.runtime import get_assistant
from assistant.schema import AskResult, answer_markdown
from assistant.settings import Settings, get_settings

MODEL_ID = "cluster-assistant"
MAX_HISTORY = input_policy.MAX_HISTORY_ITEMS

ERRORS = {
    "de": {
        "empty": "Die Frage ist leer.",
        "control": "Die Frage enthält Steuerzeichen (z. B. Nullbytes).",
        "surrogate": "Die Frage enthält ungültige Zeichen (ein einzelnes UTF-16-Surrogat wie \\ud800).",
        "too_long": "Die Frage ist zu lang (höchstens {limit} Zeichen).",
        "too_large": "Die Anfrage ist zu groß (höchstens {limit} Bytes).",
        "invalid": "Die Anfrage ist ungültig: {reason}",
        "unauthorized": "Ein gültiger API-Schlüssel fehlt (Authorization: Bearer … oder X-API-Key).",
        "rate_limited": "Zu viele Anfragen. Bitte in {seconds} Sekunden erneut versuchen.",
        "no_question": "Die Nachrichten enthalten keine Frage des Nutzers.",
        "bad_body": "Der Inhalt der Anfrage ist kein gültiges JSON in UTF-8.",
        "not_found": "Diese Adresse gibt es nicht.",
        "method": "Diese Methode ist hier nicht erlaubt.",
        "http": "Die Anfrage konnte nicht bearbeitet werden.",
        "feedback_too_long": "Der Kommentar ist zu lang (höchstens {limit} Zeichen).",
        "feedback_not_yours": "Zu diesem Gespräch kann in dieser Sitzung keine Bewertung abgegeben werden.",
        "feedback_unknown": "Die bewertete Antwort gibt es nicht (mehr).",
        "storage_failed": "Ihre Bewertung konnte gerade nicht gespeichert werden. Bitte später erneut versuchen.",
        "storage_off": "Bewertungen werden nicht gespeichert (STORE_CONVERSATIONS ist aus).",
        "feedback_invalid": "Der Kommentar enthält ungültige Zeichen (Steuerzeichen oder einzelne Surrogate).",
    },
    "en": {
        "empty": "The question is empty.",
        "control": "The question contains control characters (e.g. null bytes).",
        "surrogate": "The question contains invalid characters (a lone UTF-16 surrogate such as \\ud800).",
        "too_long": "The question is too long (at most {limit} characters).",
        "too_large": "The request is too large (at most {limit} bytes).",
        "invalid": "The request is invalid: {reason}",
        "unauthorized": "A valid API key is missing (Authorization: Bearer … or X-API-Key).",
        "rate_limited": "Too many requests. Please try again in {seconds} seconds.",
        "no_question": "The messages contain no question from the user.",
        "bad_body": "The request body is not valid JSON in UTF-8.",
        "not_found": "There is nothing at this address.",
        "method": "This method is not allowed here.",
        "http": "The request could not be processed.",
        "feedback_too_long": "The comment is too long (at most {limit} characters).",
        "feedback_not_yours": "This session cannot rate answers of that conversation.",
        "feedback_unknown": "The rated answer does not exist (any more).",
        "storage_failed": "Your feedback could not be saved just now. Please try again later.",
        "storage_off": "Feedback is not stored (STORE_CONVERSATIONS is off).",
        "feedback_invalid": "The comment contains invalid characters (control characters or lone surrogates).",
    },
}


class ErrorOut(BaseModel):
    detail: str | list = Field(description="What was wrong (machine-readable where FastAPI validated).")
    message: str = Field(description="The same in the client's language (Accept-Language: de or en).")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The body is not valid JSON."},
    401: {"model": ErrorOut, "description": "API key missing or wrong (only when API_KEYS is set)."},
    413: {"model": ErrorOut, "description": "Request body too large."},
    422: {"model": ErrorOut, "description": "Invalid request."},
    429: {"model": ErrorOut, "description": "Rate limit exceeded; see Retry-After."},
}


class ApiError(Exception):
    """An error answered with `status` and a message in the client's language."""

    def __init__(self, status: int, key: str, headers: dict[str, str] | None = None, **values: object) -> None:
        self.status, self.key, self.headers, self.values = status, key, headers or {}, values


def _put(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str], token: str) -> None:
    """Hand a token from a worker thread to the queue the response streams from."""
    loop.call_soon_threadsafe(queue.put_nowait, token)


def client_language(request: Request) -> str:
    return ui_language(request.headers.get("accept-language"), default="en")


def error_response(request: Request, status: int, key: str, detail=None, headers=None, **values) -> JSONResponse:
    lang = client_language(request)
    message = ERRORS[lang][key].format(**values)
    return JSONResponse(
        {"detail": detail if detail is not None else message, "message": message}, status_code=status, headers=headers
    )


def check_question(text: str, settings: Settings, required: bool = True) -> str:
    """The text stripped, or an ApiError for control characters or lone surrogates, too long, or (if required)
    empty."""
    found = input_policy.problem(text)
    if found:
        raise ApiError(422, found)
    if len(text) > settings.max_question_chars:  # as sent, like the schema's maxLength
        raise ApiError(422, "too_long", limit=settings.max_question_chars)
    text = text.strip()
    if required and not text:
        raise ApiError(422, "empty")
    return text


# What check_question accepts, stated in the OpenAPI schema (the check itself gives the clearer message).
# Lone surrogates are refused too, but a JSON Schema pattern cannot say so: its regex sees UTF-16 code
# units, in which every character beyond U+FFFF is a surrogate pair.
_NOT_CONTROL = r"[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]"
QUESTION_PATTERN = rf"^{_NOT_CONTROL}*[^\s\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]{_NOT_CONTROL}*$"
NO_CONTROL_PATTERN = rf"^{_NOT_CONTROL}*$"


def question_schema(settings: Settings, required: bool = True) -> dict:
    if not required:  # may be blank (then ignored), but no control characters
        return {"maxLength": settings.max_question_chars, "pattern": NO_CONTROL_PATTERN}
    return {"minLength": 1, "maxLength": settings.max_question_chars, "pattern": QUESTION_PATTERN}


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        description="The question, German or English.",
        examples=["Welche Cluster hat Hamburg?"],
        json_schema_extra=lambda s: s.update(question_schema(get_settings())),
    )
    history: list[str] = Field(
        default_factory=list,
        max_length=MAX_HISTORY,
        description="Earlier questions of the conversation, oldest first.",
        json_schema_extra=lambda s: s.update({"items": {"type": "string", **question_schema(get_settings(), False)}}),
    )
    language: Literal["de", "en"] | None = Field(None, description="Force the answer language.")


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | None = None

    @field_validator("content", mode="before")
    @classmethod
    def flatten_parts(cls, value):
        """OpenAI clients may send content as a list of {"type": "text", "text": ...} parts (others are ignored)."""
        if not isinstance(value, list):
            return value
        texts = []
        for part in value:
            if not isinstance(part, dict):
                raise ValueError("each content part must be an object")
            if part.get("type") == "text":
                if not isinstance(part.get("text"), str):
                    raise ValueError("the text of a text part must be a string")
                texts.append(part["text"])
        return " ".join(texts)


def chat_messages_schema(settings: Settings) -> dict:
    """At least one user message with a question; no user message with control characters."""
    return {
        "contains": {
            "type": "object",
            "required": ["role", "content"],
            "properties": {"role": {"const": "user"}, "content": {"type": "string", **question_schema(settings)}},
        },
        "items": {
            "$ref": "#/components/schemas/ChatMessage",
            "if": {"properties": {"role": {"const": "user"}}, "required": ["role"]},
            "then": {
                "properties": {
                    "content": {"anyOf": [{"type": "string", **question_schema(settings, False)}, {"type": "null"}]}
                }
            },
        },
    }


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="allow")  # OpenAI clients send many optional fields; they are ignored

    model: str = Field(MODEL_ID, description="Any value; there is one model.")
    messages: list[ChatMessage] = Field(
        min_length=1,
        max_length=100,
        description="The conversation; the last user message with text is the question.",
        json_schema_extra=lambda s: s.update(chat_messages_schema(get_settings())),
    )
    stream: StrictBool = False


class ChatChoice(BaseModel):
    index: int
    message: dict
    finish_reason: str


class ChatOut(BaseModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChatChoice]
    usage: dict
    citations: list[dict] = Field(description="The cited passages, as in /api/ask.")
    refused: bool
    smalltalk: bool = Field(False, description="A fixed reply to small talk, as in /api/ask.")
    language: Literal["de", "en"]


class ModelOut(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelsOut(BaseModel):
    object: Literal["list"]
    data: list[ModelOut]


class Guard:
    """API keys, throttled wrong keys and the per-client rate limit, as a FastAPI dependency."""

    def __init__(self, settings: Settings, limiter: RateLimiter) -> None:
        self.settings = settings
        self.keys = {k for k in settings.api_keys if k}
        self.limiter = limiter

    async def __call__(self, request: Request) -> None:
        supplied = request.headers.get("x-api-key") or ""
        auth = request.headers.get("authorization") or ""
        if auth.lower().startswith("bearer "):
            supplied = supplied or auth[7:].strip()
        # the client address after trusted proxies only (FORWARDED_ALLOW_IPS); hashed by the limiter
        address = request.client.host if request.client else "unknown"
        if self.keys and supplied not in self.keys:
            wait = await self.limiter.hit(self.settings.auth_failure_limit, "auth-failure", address)
            if wait is not None:  # guessing keys: slowed down like any other excess
                raise ApiError(429, "rate_limited", headers={"Retry-After": str(wait)}, seconds=wait)
            raise ApiError(401, "unauthorized", headers={"WWW-Authenticate": "Bearer"})
        wait = await self.limiter.hit(self.settings.rate_limit, "api", supplied if supplied in self.keys else address)
        if wait is not None:
            raise ApiError(429, "rate_limited", headers={"Retry-After": str(wait)}, seconds=wait)


class BodyLimit:
    """ASGI middleware: every request body (API, chat routes, socket.io polling) is read up to
    MAX_BODY_BYTES before the app sees it; a larger one, declared or chunked, gets 413 without
    reading the rest."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            return await self._reject(scope, send)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return await self._reject(scope, send)
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, scope: Scope, send: Send) -> None:
        async def nothing() -> Message:
            return {"type": "http.disconnect"}

        request = Request(scope, nothing)
        headers = {"Connection": "close"}  # the unread rest of the body is not worth reading
        response = error_response(request, 413, "too_large", headers=headers, limit=self.limit)
        await response(scope, nothing, send)


def build_router(settings: Settings, limiter: RateLimiter) -> APIRouter:
    guard = Guard(settings, limiter)
    router = APIRouter(dependencies=[Depends(guard)], responses=ERROR_RESPONSES)

    @router.post("/api/ask", response_model=AskResult, tags=["ask"])
    async def ask(body: AskIn) -> AskResult:
        """Answer a question with cited passages (the same JSON as `assistant ask --json`)."""
        question = check_question(body.question, settings)
        history = [h for h in (check_question(h, settings, required=False) for h in body.history) if h]
        return await get_assistant().aask(question, history, body.language)

    @router.get("/v1/models", response_model=ModelsOut, tags=["openai"])
    async def models() -> ModelsOut:
        """The one model, for OpenAI-compatible clients."""
        return ModelsOut(object="list", data=[ModelOut(id=MODEL_ID, object="model", created=0, owned_by="hamburg")])

    @router.post(
        "/v1/chat/completions",
        response_model=ChatOut,
        tags=["openai"],
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def chat_completions(body: ChatIn):
        """OpenAI-compatible chat: the last user message is the question, earlier user messages its history.

        System and assistant messages are ignored: they cannot change how the assistant answers."""
        user_turns = [
            t
            for t in (
                check_question(m.content or "", settings, required=False) for m in body.messages if m.role == "user"
            )
            if t
        ]
        if not user_turns:
            raise ApiError(422, "no_question")
        question, history = user_turns[-1], user_turns[:-1][-MAX_HISTORY:]
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        if not body.stream:
            result = await get_assistant().aask(question, history)
            return ChatOut(
                id=completion_id,
                object="chat.completion",
                created=created,
                model=MODEL_ID,
                choices=[
                    ChatChoice(
                        index=0, message={"role": "assistant", "content": answer_markdown(result)}, finish_reason="stop"
                    )
                ],
                usage={"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                citations=[c.model_dump() for c in result.citations],
                refused=result.refused,
                smalltalk=result.smalltalk,
                language=result.language,
            )
        return StreamingResponse(
            stream_completion(question, history, completion_id, created), media_type="text/event-stream"
        )

    return router


async def stream_completion(question: str, history: list[str], completion_id: str, created: int) -> AsyncIterator[str]:
    """Server-sent events in OpenAI's chunk format; generated tokens stream as they arrive."""

    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        data = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    loop = asyncio.get_running_loop()
    tokens: asyncio.Queue[str] = asyncio.Queue()
    task = asyncio.ensure_future(get_assistant().aask(question, history, on_token=lambda t: _put(loop, tokens, t)))
    streamed = ""
    try:
        yield chunk({"role": "assistant", "content": ""})
        while not (task.done() and tokens.empty()):
            try:
                token = await asyncio.wait_for(tokens.get(), timeout=0.1)
            except TimeoutError:
                continue
            streamed += token
            yield chunk({"content": token})
    finally:  # the client went away: so does the answer (an LLM request is cancelled)
        if not task.done():
            task.cancel()
    result = task.result()
    text = answer_markdown(result)
    if result.mode == "llm" and streamed and text.startswith(streamed):
        rest = text[len(streamed) :]
    else:  # extractive answer (or a fallback after streamed tokens): send it, after a separator if needed
        rest = ("\n\n" if streamed else "") + text
    for start in range(0, len(rest), 48):
        yield chunk({"content": rest[start : start + 48]})
    yield chunk(
        {},
        "stop",
        citations=[c.model_dump() for c in result.citations],
        refused=result.refused,
        smalltalk=result.smalltalk,
        language=result.language,
    )
    yield "data: [DONE]\n\n"


def install_error_handlers(app) -> None:
    """Localised 4xx answers for our errors and for FastAPI's validation errors."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(request, exc.status, exc.key, headers=exc.headers, **exc.values)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        key = {400: "bad_body", 404: "not_found", 405: "method"}.get(exc.status_code, "http")
        return error_response(request, exc.status_code, key, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        summary = f"{where}: {first.get('msg', 'invalid')}" if where else first.get("msg", "invalid")
        detail = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in errors]
        return error_response(request, 422, "invalid", detail=detail, reason=summary)
