"""/staff: what citizens asked and where the assistant failed, for city staff behind a login.

Server-rendered pages (Jinja2, texts in prompts/staff.{de,en}.yaml), charts drawn in the browser by Chart.js
served from our own host (public/vendor/chartjs), every chart's figures also as a table. Only GET requests read;
login, logout and purge are POST requests that need a CSRF token (the login form's: a cookie and a field that
must match; afterwards the session's). The public chat and widget stay login-free.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from assistant import storage
from assistant.embeddings import CachedQueries
from assistant.messages import PROMPTS_DIR
from assistant.ratelimit import RateLimiter
from assistant.settings import Settings
from assistant.staff_accounts import AccountError
from assistant.staff_auth import COOKIE, LOGIN_COOKIE, LockedOut, Session, StaffAuth, same
from assistant.staff_stats import NO_SOURCE, Figures, Period, local_day, read_figures

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).resolve().parent / "templates"
LANGUAGES = ("de", "en")
PERIODS = (7, 30)
MAX_PERIOD_DAYS = 3660
EXPORTS = ("days", "clusters", "languages", "refused", "unhelpful")
SORTS: dict[str, dict[str, Callable[[Any], Any]]] = {
    "days": {
        "day": lambda d: d.day,
        "questions": lambda d: d.questions,
        "refused": lambda d: d.refused,
        "unhelpful": lambda d: d.unhelpful,
    },
    "clusters": {"cluster": lambda c: c[0], "questions": lambda c: c[1]},
    "languages": {"language": lambda c: c[0], "questions": lambda c: c[1]},
    "refused": {"count": lambda g: g.count, "question": lambda g: g.question.casefold(), "last": lambda g: g.last},
    "unhelpful": {"day": lambda u: u.day, "question": lambda u: u.question.casefold()},
}
DEFAULT_SORT = {
    "days": ("day", "asc"),
    "clusters": ("questions", "desc"),
    "languages": ("questions", "desc"),
    "refused": ("count", "desc"),
    "unhelpful": ("day", "desc"),
}


@lru_cache(maxsize=2)
def texts(lang: str) -> dict[str, str]:
    return yaml.safe_load((PROMPTS_DIR / f"staff.{lang}.yaml").read_text(encoding="utf-8"))


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def page_language(request: Request) -> str:
    """?lang= when given, else the browser's first of German or English, else German."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "de"


def period_of(request: Request, today: dt.date) -> tuple[Period, bool]:
    """The chosen period: ?days=7|30, or ?from=…&to=… (ISO dates, the end at most today); the last 30 days
    otherwise. The flag says the request asked for a period that was not valid."""
    query = request.query_params
    start, end = query.get("from"), query.get("to")
    fallback = Period(today - dt.timedelta(days=29), today)
    if start or end:
        try:
            first, last = dt.date.fromisoformat(start or ""), min(dt.date.fromisoformat(end or ""), today)
        except ValueError:
            return fallback, True
        if first <= last and (last - first).days <= MAX_PERIOD_DAYS:
            return Period(first, last), False
        return fallback, True
    days = small_number(query.get("days", ""))
    days = days if days in PERIODS else 30
    return Period(today - dt.timedelta(days=days - 1), today), False


def small_number(value: str, most: int = 999_999) -> int | None:
    """A page number or count from the address: plain ASCII digits, not absurdly long; else None."""
    if value.isascii() and value.isdigit() and len(value) <= 6:
        number = int(value)
        return number if number <= most else None
    return None


def current_days(request: Request) -> str | None:
    """Which of the period links names the period shown ("30" when none was chosen; none for from–to)."""
    query = request.query_params
    if query.get("from") or query.get("to"):
        return None
    asked = query.get("days", "")
    return asked if asked in {str(days) for days in PERIODS} else "30"


def _share(value: float, lang: str) -> str:
    shown = f"{value * 100:.1f}"
    return f"{shown.replace('.', ',')} %" if lang == "de" else f"{shown}%"


def _date(value: str | dt.date, lang: str) -> str:
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return day.strftime("%d.%m.%Y") if lang == "de" else day.isoformat()


def cell(value: Any) -> Any:
    """A value safe to open in a spreadsheet: text that would start a formula ("=", "+", "-", "@") is quoted."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@dataclass
class Listing:
    """One list of the page as shown: its rows on this page, the page, the pages and the sort."""

    rows: list
    page: int
    pages: int
    key: str
    direction: str


def listing(name: str, items: list, request: Request, size: int) -> Listing:
    """A list sorted by ?{name}_sort / ?{name}_dir and cut to page ?{name}_page (bad values: the defaults)."""
    query = request.query_params
    default_key, default_dir = DEFAULT_SORT[name]
    key = query.get(f"{name}_sort") or default_key
    key = key if key in SORTS[name] else default_key
    direction = query.get(f"{name}_dir") or default_dir
    direction = direction if direction in ("asc", "desc") else default_dir
    ordered = sorted(items, key=SORTS[name][key], reverse=direction == "desc")
    asked = query.get(f"{name}_page", "1")
    pages = max(1, math.ceil(len(ordered) / size))
    page = min(max(1, small_number(asked) or 1), pages)
    return Listing(ordered[(page - 1) * size : page * size], page, pages, key, direction)


class StaffPage:
    """The routes of /staff over the settings' database, with the cluster names and embedder of `assistant`."""

    def __init__(self, settings: Settings, get_assistant: Callable[[], Any]) -> None:
        self.settings = settings
        self.get_assistant = get_assistant
        self.templates = _environment()
        self._engine: AsyncEngine | None = None
        self._by_doc: dict[str, Any] | None = None
        self._embedder: CachedQueries | None = None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            self._engine = create_async_engine(storage.database_url(self.settings))
        return self._engine

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.staff_timezone)

    def today(self) -> dt.date:
        return dt.datetime.now(self.zone).date()

    @property
    def auth(self) -> StaffAuth:
        return StaffAuth(self.settings, self.engine)

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()

    # --- what the cluster of a source is called, and where it is
    def _sources(self) -> dict[str, Any]:
        """doc id -> its first passage (title, topic, address), read once from the index."""
        if self._by_doc is None:
            found: dict[str, Any] = {}
            for chunk in self.get_assistant().index.chunks:
                found.setdefault(chunk.doc_id, chunk)
            self._by_doc = found
        return self._by_doc

    def topic_of(self, doc_id: str) -> str | None:
        chunk = self._sources().get(doc_id)
        return chunk.topic if chunk else None

    def source_of(self, doc_id: str) -> dict:
        chunk = self._sources().get(doc_id)
        url = chunk.url if chunk else ""
        safe = url if url.startswith(("https://", "http://")) else ""  # never a javascript: or data: link
        return {"doc_id": doc_id, "title": chunk.title if chunk else doc_id, "url": safe}

    def cluster_name(self, topic: str, lang: str) -> str:
        if topic == NO_SOURCE:
            return texts(lang)["no_source"]
        names = self.get_assistant().glossary.names.get(topic)
        return names[lang] if names else topic

    @property
    def embedder(self) -> CachedQueries:
        """The assistant's embedder with a memory of its own for the refused wordings, so that paging, sorting
        and exporting the same period embeds nothing again."""
        if self._embedder is None:
            shared = self.get_assistant().embedder
            model = shared.inner if isinstance(shared, CachedQueries) else shared  # leave the chat's memory alone
            self._embedder = CachedQueries(model, self.settings.staff_group_limit)
        return self._embedder

    async def figures(self, period: Period) -> Figures:
        return await read_figures(
            self.engine,
            period,
            self.topic_of,
            self.source_of,
            self.embedder.embed_query_vectors,
            self.settings.staff_same_question,
            self.zone,
            self.settings.staff_group_limit,
        )

    # --- rendering
    def render(self, request: Request, lang: str, view: str, status: int = 200, **values: Any) -> HTMLResponse:
        t = texts(lang)

        def link(fragment: str = "", **changes: Any) -> str:
            """This page with some parameters changed (a notice of a done purge is not carried on)."""
            query = {k: v for k, v in request.query_params.items() if k not in ("lang", "purged")} | {"lang": lang}
            query.update({k: v for k, v in changes.items() if v is not None})
            return f"/staff?{urlencode(query)}" + (f"#{fragment}" if fragment else "")

        other = "en" if lang == "de" else "de"
        html = self.templates.get_template("staff.html").render(
            t=t, lang=lang, view=view, link=link, other_lang=other, switch=link(lang=other), **values
        )
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    def login_view(self, request: Request, lang: str, status: int = 200, error: str | None = None) -> HTMLResponse:
        token = secrets.token_urlsafe(32)
        response = self.render(request, lang, "login", status=status, csrf=token, error=error)
        self.cookie(response, request, LOGIN_COOKIE, token, max_age=3600)
        return response

    def cookie(self, response: Response, request: Request, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/staff",
            httponly=True,
            secure=request.url.scheme == "https" or self.settings.staff_cookie_secure,
            samesite="strict",
        )

    async def current(self, request: Request) -> Session | None:
        """The proxy's signed-in user (single sign-on), else the page's own session cookie."""
        return self.auth.sso_session(request.headers) or await self.auth.session(request.cookies.get(COOKIE))

    async def dashboard(self, request: Request, session: Session, lang: str, notice: str | None = None) -> Response:
        s, t = self.settings, texts(lang)
        period, invalid = period_of(request, self.today())
        figures = await self.figures(period)
        lists: dict[str, list[Any]] = {
            "days": figures.days,
            "clusters": figures.clusters,
            "languages": figures.languages,
            "refused": figures.refused_groups,
            "unhelpful": figures.unhelpful,
        }
        shown = {name: listing(name, items, request, s.staff_page_size) for name, items in lists.items()}
        totals = figures.totals
        questions = totals["questions"]
        summary = t["summary"].format(
            questions=questions,
            refused=totals["refused"],
            unhelpful=totals["unhelpful"],
            refused_share=_share(totals["refused"] / questions if questions else 0.0, lang),
            unhelpful_share=_share(totals["unhelpful"] / questions if questions else 0.0, lang),
        )
        oldest = figures.oldest
        retention = None
        if oldest:
            first = dt.date.fromisoformat(local_day(oldest, self.zone))
            expires = first + dt.timedelta(days=s.retention_days)
            retention = t["retention_oldest"].format(oldest=_date(first, lang), expires=_date(expires, lang))
        chart = {
            "days": [_date(d.day, lang) for d in figures.days],
            "questions": [d.questions for d in figures.days],
            "refused_share": [round(d.refused_share * 100, 1) for d in figures.days],
            "unhelpful_share": [round(d.unhelpful_share * 100, 1) for d in figures.days],
            "clusters": [self.cluster_name(c, lang) for c, _ in figures.clusters],
            "cluster_counts": [n for _, n in figures.clusters],
            "labels": {k: t[k] for k in ("questions", "refused_share", "unhelpful_share")},
        }
        export_query = urlencode({"from": period.start.isoformat(), "to": period.end.isoformat(), "lang": lang})
        return self.render(
            request,
            lang,
            "dashboard",
            session=session,
            period=period,
            current_days=current_days(request),
            invalid=invalid,
            notice=notice,
            summary=summary,
            figures=figures,
            share=lambda v: _share(v, lang),
            date=lambda v: _date(v, lang),
            cluster_name=lambda c: self.cluster_name(c, lang),
            language_name=lambda code: t.get(f"lang_{code}", code),
            chart=chart,
            lists=shown,
            export_query=export_query,
            retention_days=s.retention_days,
            retention=retention,
        )

    # --- exports
    def table(self, name: str, figures: Figures, lang: str) -> tuple[list[str], list[list[Any]]]:
        """One list of the page as columns and rows (names as on the page, in its language)."""
        t = texts(lang)
        if name == "days":
            header = [t["day"], t["questions"], t["refused"], t["refused_share"], t["unhelpful"], t["unhelpful_share"]]
            rows = [
                [d.day, d.questions, d.refused, round(d.refused_share, 4), d.unhelpful, round(d.unhelpful_share, 4)]
                for d in figures.days
            ]
        elif name == "clusters":
            header, rows = (
                [t["cluster"], t["questions"]],
                [[self.cluster_name(c, lang), n] for c, n in figures.clusters],
            )
        elif name == "languages":
            header = [t["language"], t["questions"]]
            rows = [[t.get(f"lang_{code}", code), n] for code, n in figures.languages]
        elif name == "refused":
            header = [t["question"], t["count"], t["last_asked"], t["wordings"]]
            rows = [[g.question, g.count, g.last, " | ".join(g.wordings)] for g in figures.refused_groups]
        else:
            header = [t["day"], t["question"], t["answer"], t["sources"], t["comment"]]
            rows = [
                [u.day, u.question, u.answer, " | ".join(f"{s['title']} <{s['url']}>" for s in u.sources), u.comment]
                for u in figures.unhelpful
            ]
        return header, rows


class StaffRoutes:
    """The request handlers of /staff: each checks what it needs (storage, account, session, CSRF) first."""

    def __init__(self, settings: Settings, page: StaffPage, limiter: RateLimiter) -> None:
        self.settings = settings
        self.page = page
        self.limiter = limiter

    async def gate(self, request: Request, lang: str) -> Response | Session:
        """The session, or the page to show instead (storage off, accounts unreadable, no account yet, login)."""
        if not self.settings.store_conversations:
            return self.page.render(request, lang, "storage_off")
        try:
            session = await self.page.current(request)
            if session is not None:
                return session
            if not self.page.auth.accounts():
                return self.page.render(request, lang, "setup")
        except AccountError:
            log.error("the staff accounts file is unreadable or damaged")
            return self.page.render(request, lang, "error", status=503, error=texts(lang)["accounts_unreadable"])
        return self.page.login_view(request, lang)

    async def show(self, request: Request) -> Response:
        lang = page_language(request)
        found = await self.gate(request, lang)
        if not isinstance(found, Session):
            return found
        purged = request.query_params.get("purged", "")
        count = small_number(purged)
        notice = texts(lang)["purge_done"].format(count=count) if count is not None else None
        return await self.page.dashboard(request, found, lang, notice)

    async def login(self, request: Request) -> Response:
        lang, page = page_language(request), self.page
        try:
            if not self.settings.store_conversations or not page.auth.accounts():
                return RedirectResponse(f"/staff?lang={lang}", status_code=303)  # the page says why
        except AccountError:
            return page.render(request, lang, "error", status=503, error=texts(lang)["accounts_unreadable"])
        address = request.client.host if request.client else "unknown"
        wait = await self.limiter.hit(self.settings.auth_failure_limit, "staff_login", address)
        if wait is not None:
            minutes = max(1, round(wait / 60))
            return page.login_view(request, lang, 429, texts(lang)["login_locked"].format(minutes=minutes))
        form = await request.form()
        if not same(str(form.get("csrf", "")), request.cookies.get(LOGIN_COOKIE)):
            return page.login_view(request, lang, status=403, error=texts(lang)["login_expired"])
        name, password = str(form.get("name", ""))[:64], str(form.get("password", ""))[:1024]
        try:
            token, _session = await page.auth.login(name, password)
        except AccountError:
            return page.render(request, lang, "error", status=503, error=texts(lang)["accounts_unreadable"])
        except LockedOut as exc:
            return page.login_view(request, lang, 429, texts(lang)["login_locked"].format(minutes=exc.minutes))
        except ValueError:
            return page.login_view(request, lang, status=401, error=texts(lang)["login_wrong"])
        response = RedirectResponse(f"/staff?lang={lang}", status_code=303)
        page.cookie(response, request, COOKIE, token, max_age=self.settings.staff_session_minutes * 60)
        response.delete_cookie(LOGIN_COOKIE, path="/staff")
        return response

    async def checked(self, request: Request, lang: str) -> tuple[Session | None, Response, Any]:
        """The session of a state-changing request whose CSRF token matches (else None and the refusal)."""
        form = await request.form()
        found = await self.gate(request, lang)
        if not isinstance(found, Session):
            if found.status_code == 200:  # the login form (or why there is none) instead: not signed in
                found.status_code = 401
            return None, found, form
        session = found
        if not same(str(form.get("csrf", "")), session.csrf):
            return None, self.page.render(request, lang, "error", status=403, error=texts(lang)["csrf_failed"]), form
        return session, Response(status_code=204), form

    async def logout(self, request: Request) -> Response:
        lang = page_language(request)
        session, refusal, _form = await self.checked(request, lang)
        if session is None:
            return refusal
        await self.page.auth.logout(request.cookies.get(COOKIE))
        signed_out = (self.settings.staff_sso_logout_url if session.sso else "") or f"/staff?lang={lang}"
        response = RedirectResponse(signed_out, status_code=303)
        response.delete_cookie(COOKIE, path="/staff")
        return response

    async def purge(self, request: Request) -> Response:
        lang = page_language(request)
        session, refusal, form = await self.checked(request, lang)
        if session is None:
            return refusal
        if not session.account.purge:
            return self.page.render(request, lang, "error", status=403, error=texts(lang)["purge_not_allowed"])
        if form.get("confirm") != "yes":
            days = self.settings.retention_days
            return self.page.render(request, lang, "purge_confirm", session=session, retention_days=days)
        removed = await storage.purge(self.settings)
        return RedirectResponse(f"/staff?lang={lang}&purged={removed}", status_code=303)

    async def _figures(self, request: Request) -> tuple[Figures | None, Response | None, str]:
        """The period's figures for a signed-in request; otherwise 401 (a plain text, no page)."""
        lang = page_language(request)
        found = await self.gate(request, lang)
        if not isinstance(found, Session):
            if found.status_code != 200:  # accounts unreadable: say so
                return None, found, lang
            return None, Response(texts(lang)["login_heading"], status_code=401, media_type="text/plain"), lang
        period, _invalid = period_of(request, self.page.today())
        return await self.page.figures(period), None, lang

    async def export_json(self, request: Request) -> Response:
        figures, refusal, _lang = await self._figures(request)
        if figures is None:
            return refusal or Response(status_code=401)
        name = f"cluster-assistant-{figures.period.start}-{figures.period.end}.json"
        return Response(
            json.dumps(figures.as_json(), ensure_ascii=False, indent=1),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    async def export_csv(self, request: Request, name: str) -> Response:
        if name not in EXPORTS:
            return Response(status_code=404)
        figures, refusal, lang = await self._figures(request)
        if figures is None:
            return refusal or Response(status_code=401)
        header, rows = await asyncio.to_thread(self.page.table, name, figures, lang)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows([[cell(value) for value in row] for row in rows])
        filename = f"cluster-assistant-{name}-{figures.period.start}-{figures.period.end}.csv"
        return Response(
            "\ufeff" + out.getvalue(),  # the byte order mark lets spreadsheet programs read the umlauts
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
        )


def build_staff_router(
    settings: Settings, get_assistant: Callable[[], Any], limiter: RateLimiter
) -> tuple[APIRouter, StaffPage]:
    """The /staff routes (and the page object, to close its database connections at shutdown)."""
    page = StaffPage(settings, get_assistant)
    routes = StaffRoutes(settings, page, limiter)
    router = APIRouter(include_in_schema=False)
    router.add_api_route("/staff", routes.show, methods=["GET"])
    router.add_api_route("/staff/login", routes.login, methods=["POST"])
    router.add_api_route("/staff/logout", routes.logout, methods=["POST"])
    router.add_api_route("/staff/purge", routes.purge, methods=["POST"])
    router.add_api_route("/staff/export.json", routes.export_json, methods=["GET"])
    router.add_api_route("/staff/export/{name}.csv", routes.export_csv, methods=["GET"])
    return router, page
