"""One web server: our API routes plus the Chainlit chat (and its widget) mounted at "/".

Routes are registered before the mount because a mount at "/" answers every
path; Chainlit's startup hooks run from our lifespan because Starlette does not
run a mounted app's lifespan (see shared/notes/chainlit-facts.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from assistant import storage
from assistant.api import BodyLimit, build_router, install_error_handlers
from assistant.chat_guard import SocketOrigins
from assistant.feedback import build_feedback_router
from assistant.runtime import get_assistant, get_chat_guard, get_limiter
from assistant.security_headers import SecurityHeaders
from assistant.settings import PROJECT_ROOT, get_settings
from assistant.staff_page import build_staff_router
from assistant.webui import configure_chainlit, keep_page_local, logo_path, protect_logs

log = logging.getLogger(__name__)
PURGE_EVERY_SECONDS = 24 * 3600
HEALTH_CHECK_SECONDS = 3.0  # a health check that waits longer for the index or the database reports it unusable


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="'degraded' (with status 503) when a problem is listed.")
    index_loaded: bool = Field(description="The index answers queries and holds every passage.")
    embedder: str
    chunks: int
    llm_mode: str
    storage: str = Field(description="'postgresql', 'sqlite' or 'off' (STORE_CONVERSATIONS=false).")
    storage_ok: bool = Field(description="The database answers and the latest write succeeded.")
    problems: list[str] = Field(default_factory=list)


async def _checked(check, *args) -> bool:
    """A health check's outcome, False when it raises or takes longer than HEALTH_CHECK_SECONDS."""
    try:
        return bool(await asyncio.wait_for(check(*args), HEALTH_CHECK_SECONDS))
    except Exception:  # noqa: BLE001 - any failure of a check means: not usable
        log.exception("health check failed")
        return False


async def health_report() -> Health:
    """The real state of the index and the storage."""
    from chainlit.data import get_data_layer

    settings = get_settings()
    assistant = get_assistant()
    problems = []
    index_ok = await _checked(run_in_threadpool, assistant.index_ok)
    if not index_ok:
        problems.append("index: not answering or incomplete")
    storage_ok = True
    layer = get_data_layer()
    if settings.store_conversations and isinstance(layer, storage.PrivateDataLayer):
        storage_ok = await _checked(layer.usable)
        if not storage_ok:  # the database's error code is in the server log, not in this public answer
            problems.append("storage: writes fail" if layer.last_write.error else "storage: unreachable")
    return Health(
        status="degraded" if problems else "ok",
        index_loaded=index_ok,
        embedder=assistant.embedder.id,
        chunks=assistant.chunk_count,
        llm_mode=assistant.settings.llm_provider if assistant.generator else "extractive",
        storage=("postgresql" if "postgres" in storage.database_url(settings) else "sqlite")
        if settings.store_conversations
        else "off",
        storage_ok=storage_ok,
        problems=problems,
    )


async def _purge_daily() -> None:
    """Delete threads older than RETENTION_DAYS now and once a day."""
    settings = get_settings()
    while True:
        try:
            removed = await storage.purge(settings)
            if removed:
                log.info("retention: deleted %d threads older than %d days", removed, settings.retention_days)
        except Exception:  # noqa: BLE001 - a failed purge must not stop the chat; it runs again tomorrow
            log.exception("retention purge failed")
        await asyncio.sleep(PURGE_EVERY_SECONDS)


@asynccontextmanager
async def lifespan(app: FastAPI):
    settings = get_settings()
    await run_in_threadpool(get_assistant)  # load embedder and index before the first request
    purger = None
    if settings.store_conversations:
        await storage.ensure_schema(settings)
        purger = asyncio.create_task(_purge_daily())
    from chainlit.config import config as cl_config
    from chainlit.data import get_data_layer

    if cl_config.code.on_app_startup:
        await cl_config.code.on_app_startup()
    yield
    if purger:
        purger.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await purger
    if cl_config.code.on_app_shutdown:
        await cl_config.code.on_app_shutdown()
    data_layer = get_data_layer()
    if data_layer:
        await data_layer.close()
    await app.state.staff_page.close()


def create_app() -> FastAPI:
    """The FastAPI application with the chat mounted."""
    settings = get_settings()
    os.environ.setdefault("CHAINLIT_APP_ROOT", str(PROJECT_ROOT))
    protect_logs()
    configure_chainlit(settings)
    limiter = get_limiter()
    app = FastAPI(title="Cluster Assistant", version="0.1.0", lifespan=lifespan)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, frame_ancestors=settings.frame_ancestors, unframed=("/staff",))
    app.add_middleware(SocketOrigins, allowed=settings.allowed_origins)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],  # DELETE: withdrawing a vote in the widget
        allow_headers=["*"],
    )

    @app.api_route(
        "/api/health",
        methods=["GET", "HEAD"],
        response_model=Health,
        tags=["status"],
        responses={503: {"model": Health, "description": "The index or the storage is unusable."}},
    )
    async def health() -> JSONResponse:
        """Whether the index answers, with which embedder and how many passages, and whether storage works
        (503 when either does not); open without an API key."""
        report = await health_report()
        return JSONResponse(report.model_dump(), status_code=503 if report.problems else 200)

    app.include_router(build_router(settings, limiter))
    app.include_router(build_feedback_router(settings, limiter))
    staff_router, staff_page = build_staff_router(settings, get_assistant, limiter)
    app.include_router(staff_router)
    app.state.staff_page = staff_page
    install_error_handlers(app)

    async def api_fallback(request: Request) -> None:
        """Our paths never fall through to the chat: 405 with Allow for a wrong method, else 404."""
        methods = {m.upper() for m in app.openapi()["paths"].get(request.url.path, {})}  # schema is cached
        if methods:
            raise HTTPException(status_code=405, headers={"Allow": ", ".join(sorted(methods))})
        raise HTTPException(status_code=404)

    for prefix in ("/api", "/v1"):
        app.add_api_route(
            f"{prefix}/{{rest:path}}",
            api_fallback,
            include_in_schema=False,
            methods=["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"],
        )

    @app.get("/logo", include_in_schema=False)
    async def logo(theme: str = "light") -> FileResponse:
        return FileResponse(logo_path("dark" if theme == "dark" else "light"))

    from chainlit.utils import mount_chainlit

    mount_chainlit(app=app, target=str(PROJECT_ROOT / "app.py"), path="/")
    keep_page_local()
    get_chat_guard().install()
    return app


def serve(host: str | None = None, port: int | None = None) -> None:
    """Run the server with uvicorn on HOST:PORT."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        create_app(),
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,  # access logs would record client IPs
        # the client address comes from X-Forwarded-For only when a listed proxy sends it
        proxy_headers=bool(settings.forwarded_allow_ips.strip()),
        forwarded_allow_ips=settings.forwarded_allow_ips.strip() or "",
        ws_max_size=settings.max_body_bytes,  # a chat message over the socket is bounded like a request body
        timeout_graceful_shutdown=5,
    )
