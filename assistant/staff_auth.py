"""Staff logins: sessions and failed attempts kept in the database, so every app process sees the same.

A session is a random token in an HttpOnly, SameSite=Strict cookie (Secure over HTTPS); the database keeps only
its SHA-256, the account name, its CSRF token, when it ends and a hash of the account's password hash (a changed
password ends the account's sessions). Wrong passwords are counted per account name
(as a hash: a mistyped name may be a person's name) and, after STAFF_MAX_FAILURES within STAFF_LOCKOUT_MINUTES,
every login to that name is refused until the oldest of them is that old; each wrong password also waits a
moment longer than the one before. With single sign-on at the reverse proxy (STAFF_SSO_HEADER and
STAFF_SSO_SECRET) the proxy's signed-in user is taken instead, and the page's own login is not used.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import Headers

from assistant.settings import Settings
from assistant.staff_accounts import NAME, Account, load_accounts, verify

COOKIE = "staff_session"
SSO_SECRET_HEADER = "X-Staff-Proxy-Secret"
LOGIN_COOKIE = "staff_login"  # the login form's CSRF token (double submit: cookie and field must match)
WRONG_PASSWORD_DELAY = 0.5  # seconds per failure so far, up to MAX_DELAY
MAX_DELAY = 3.0

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS staff_sessions ("token_hash" TEXT PRIMARY KEY, "name" TEXT NOT NULL,
       "csrf" TEXT NOT NULL, "expires" DOUBLE PRECISION NOT NULL, "account" TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS staff_failures ("key" TEXT NOT NULL, "at" DOUBLE PRECISION NOT NULL)""",
    'CREATE INDEX IF NOT EXISTS staff_failures_key ON staff_failures ("key")',
]


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two tokens (False when either is missing; any characters may be sent)."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode("utf-8"), str(b).encode("utf-8"))


@dataclass(frozen=True)
class Session:
    account: Account
    csrf: str
    sso: bool = False  # signed in by the reverse proxy, not by the page's own login


class LockedOut(Exception):
    def __init__(self, minutes: int) -> None:
        super().__init__(minutes)
        self.minutes = minutes


class StaffAuth:
    """Login, session lookup and logout over the database behind `engine`."""

    def __init__(self, settings: Settings, engine: AsyncEngine) -> None:
        self.settings = settings
        self.engine = engine

    def accounts(self) -> dict[str, Account]:
        """Read on every use: an account added or removed with `assistant staff` counts without a restart."""
        return load_accounts(self.settings)

    async def login(self, name: str, password: str) -> tuple[str, Session]:
        """A new session token for a right password; raises LockedOut, or ValueError for a wrong one.

        Every attempt is written down before the password is checked and counted with those before it, so
        attempts sent at once cannot all pass the count; a right password clears the name's attempts."""
        s, now = self.settings, time.time()
        key = _digest(" ".join(name.split()).casefold())
        window = s.staff_lockout_minutes * 60
        async with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":  # one name's attempts one after another
                await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})
            await conn.execute(text('DELETE FROM staff_failures WHERE "at" < :t'), {"t": now - window})
            await conn.execute(text('INSERT INTO staff_failures ("key", "at") VALUES (:k, :t)'), {"k": key, "t": now})
            rows = (
                await conn.execute(text('SELECT "at" FROM staff_failures WHERE "key" = :k ORDER BY "at"'), {"k": key})
            ).all()
            if len(rows) > s.staff_max_failures:  # locked: this attempt is not kept, so the lock ends when it said
                await conn.execute(
                    text('DELETE FROM staff_failures WHERE "key" = :k AND "at" = :t'), {"k": key, "t": now}
                )
        if len(rows) > s.staff_max_failures:
            raise LockedOut(max(1, round((rows[0][0] + window - now) / 60)))
        account = await asyncio.to_thread(verify, self.accounts(), name, password)  # argon2 is CPU work
        if account is None:
            await asyncio.sleep(min(MAX_DELAY, WRONG_PASSWORD_DELAY * len(rows)))
            raise ValueError("wrong name or password")
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        async with self.engine.begin() as conn:
            await conn.execute(text('DELETE FROM staff_failures WHERE "key" = :k'), {"k": key})
            await conn.execute(text('DELETE FROM staff_sessions WHERE "expires" < :t'), {"t": now})
            await conn.execute(
                text(
                    'INSERT INTO staff_sessions ("token_hash", "name", "csrf", "expires", "account") '
                    "VALUES (:h, :n, :c, :e, :a)"
                ),
                {
                    "h": _digest(token),
                    "n": account.name,
                    "c": csrf,
                    "e": now + s.staff_session_minutes * 60,
                    "a": _digest(account.hash),
                },
            )
        return token, Session(account=account, csrf=csrf)

    def sso_session(self, headers: Headers) -> Session | None:
        """The session of a request the reverse proxy signed in (single sign-on): its user header counts only
        with the proxy's secret, each sent exactly once (a client's own header may sit beside the proxy's). The
        CSRF token is derived from the secret and the name, so no cookie is needed."""
        s = self.settings
        secret = s.staff_sso_secret.get_secret_value()
        if not (s.staff_sso_header and secret):
            return None
        names, sent = headers.getlist(s.staff_sso_header), headers.getlist(SSO_SECRET_HEADER)
        if len(names) != 1 or len(sent) != 1 or not same(sent[0], secret):
            return None
        name = names[0].strip()
        if not NAME.match(name):
            return None
        csrf = hmac.new(secret.encode(), f"csrf:{name}".encode(), hashlib.sha256).hexdigest()
        return Session(account=Account(name=name, hash="", purge=name in s.staff_sso_purge), csrf=csrf, sso=True)

    async def session(self, token: str | None) -> Session | None:
        """The session of a cookie's token, if it is current and its account still exists."""
        if not token:
            return None
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    text('SELECT "name", "csrf", "expires", "account" FROM staff_sessions WHERE "token_hash" = :h'),
                    {"h": _digest(token)},
                )
            ).first()
        if row is None or row[2] < time.time():
            return None
        account = self.accounts().get(row[0])
        if account is None or not same(_digest(account.hash), row[3]):
            return None  # the account was removed, or its password changed since this session began
        return Session(account=account, csrf=row[1])

    async def logout(self, token: str | None) -> None:
        if token:
            async with self.engine.begin() as conn:
                await conn.execute(text('DELETE FROM staff_sessions WHERE "token_hash" = :h'), {"h": _digest(token)})
