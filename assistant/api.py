"""The HTTP API for staff tools: /api/ask and an OpenAI-compatible /v1, guarded against abuse.

Both are thin shells over the shared Assistant. Optional API keys, a per-client rate
limit, body and question limits, and strict validation turn bad input into clear 4xx
answers in the client's language; nothing here ever needs a 500.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from limits import parse as parse_limit
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.language import ui_language
from assistant.runtime import get_assistant
from assistant.schema import AskResult, answer_markdown
from assistant.settings import Settings, get_settings

MODEL_ID = "cluster-assistant"
MAX_HISTORY = 20
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

ERRORS = {
    "de": {
        "empty": "Die Frage ist leer.",
        "control": "Die Frage enthält Steuerzeichen (z. B. Nullbytes).",
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
    },
    "en": {
        "empty": "The question is empty.",
        "control": "The question contains control characters (e.g. null bytes).",
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
    },
}


class ErrorOut(BaseModel):
    detail: str | list = Field(description="What was wrong (machine-readable where FastAPI validated).")
    message: str = Field(description="The same in the client's language (Accept-Language: de or en).")


ERROR_RESPONSES = {
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


def client_language(request: Request) -> str:
    return ui_language(request.headers.get("accept-language"), default="en")


def error_response(request: Request, status: int, key: str, detail=None, headers=None, **values) -> JSONResponse:
    lang = client_language(request)
    message = ERRORS[lang][key].format(**values)
    return JSONResponse(
        {"detail": detail if detail is not None else message, "message": message}, status_code=status, headers=headers
    )


def check_question(text: str, settings: Settings, required: bool = True) -> str:
    """The text stripped, or an ApiError for control characters, too long, or (if required) empty."""
    if _CONTROL.search(text):
        raise ApiError(422, "control")
    text = text.strip()
    if required and not text:
        raise ApiError(422, "empty")
    if len(text) > settings.max_question_chars:
        raise ApiError(422, "too_long", limit=settings.max_question_chars)
    return text


# What check_question accepts, stated in the OpenAPI schema (the check itself gives the clearer message).
_NOT_CONTROL = r"[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]"
QUESTION_PATTERN = rf"^{_NOT_CONTROL}*[^\s\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]{_NOT_CONTROL}*$"
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
        """OpenAI clients may send content as a list of {"type": "text", "text": ...} parts."""
        if isinstance(value, list):
            return " ".join(p.get("text", "") for p in value if isinstance(p, dict) and p.get("type") == "text")
        return value


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
    """API keys and the per-client rate limit, as a FastAPI dependency."""

    def __init__(self, settings: Settings) -> None:
        self.keys = {k for k in settings.api_keys if k}
        self.limit = parse_limit(settings.rate_limit) if settings.rate_limit not in ("", "0") else None
        self.limiter = MovingWindowRateLimiter(storage_from_string(settings.rate_limit_storage)) if self.limit else None

    async def __call__(self, request: Request) -> None:
        supplied = request.headers.get("x-api-key") or ""
        auth = request.headers.get("authorization") or ""
        if auth.lower().startswith("bearer "):
            supplied = supplied or auth[7:].strip()
        if self.keys and supplied not in self.keys:
            raise ApiError(401, "unauthorized", headers={"WWW-Authenticate": "Bearer"})
        if self.limiter and self.limit:
            # the client is its API key or its address, hashed: neither is stored in clear or logged
            who = supplied if supplied in self.keys else (request.client.host if request.client else "unknown")
            key = hashlib.sha256(who.encode()).hexdigest()[:16]
            if not self.limiter.hit(self.limit, key):
                reset, _remaining = self.limiter.get_window_stats(self.limit, key)
                seconds = max(1, int(reset - time.time()) + 1)
                raise ApiError(429, "rate_limited", headers={"Retry-After": str(seconds)}, seconds=seconds)


class BodyLimit:
    """ASGI middleware: 413 for API request bodies over MAX_BODY_BYTES, counted as they arrive."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(("/api/", "/v1/")):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared and declared.isdigit() and int(declared) > self.limit:
            return await self._reject(scope, receive, send)
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _TooLarge:
            await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        await error_response(request, 413, "too_large", limit=self.limit)(scope, receive, send)


class _TooLarge(Exception):
    pass


def build_router(settings: Settings) -> APIRouter:
    guard = Guard(settings)
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
    task = asyncio.ensure_future(
        get_assistant().aask(question, history, on_token=lambda t: loop.call_soon_threadsafe(tokens.put_nowait, t))
    )
    yield chunk({"role": "assistant", "content": ""})
    streamed = ""
    while not (task.done() and tokens.empty()):
        try:
            token = await asyncio.wait_for(tokens.get(), timeout=0.1)
        except TimeoutError:
            continue
        streamed += token
        yield chunk({"content": token})
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
