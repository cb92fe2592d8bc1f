"""Staff logins: sessions and failed attempts kept in the database, so every app process sees the same.

A session is a random token in an HttpOnly, SameSite=Strict cookie (Secure over HTTPS); the database keeps only
its SHA-256, the account name, its CSRF token and when it ends. Wrong passwords are counted per account name
(as a hash: a mistyped name may be a person's name) and, after STAFF_MAX_FAILURES within STAFF_LOCKOUT_MINUTES,
every login to that name is refused until the oldest of them is that old; each wrong password also waits a
moment longer than the one before.
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

from assistant.settings import Settings
from assistant.staff_accounts import Account, load_accounts, verify

COOKIE = "staff_session"
LOGIN_COOKIE = "staff_login"  # the login form's CSRF token (double submit: cookie and field must match)
WRONG_PASSWORD_DELAY = 0.5  # seconds per failure so far, up to MAX_DELAY
MAX_DELAY = 3.0

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS staff_sessions ("token_hash" TEXT PRIMARY KEY, "name" TEXT NOT NULL,
       "csrf" TEXT NOT NULL, "expires" DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS staff_failures ("key" TEXT NOT NULL, "at" DOUBLE PRECISION NOT NULL)""",
    'CREATE INDEX IF NOT EXISTS staff_failures_key ON staff_failures ("key")',
]


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two tokens (False when either is missing)."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


@dataclass(frozen=True)
class Session:
    account: Account
    csrf: str


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
        """A new session token for a right password; raises LockedOut, or returns nothing usable (ValueError)."""
        s, now = self.settings, time.time()
        key = _digest(name.casefold())
        window = s.staff_lockout_minutes * 60
        async with self.engine.begin() as conn:
            await conn.execute(text('DELETE FROM staff_failures WHERE "at" < :t'), {"t": now - window})
            rows = (
                await conn.execute(text('SELECT "at" FROM staff_failures WHERE "key" = :k ORDER BY "at"'), {"k": key})
            ).all()
        if len(rows) >= s.staff_max_failures:
            raise LockedOut(max(1, round((rows[0][0] + window - now) / 60)))
        account = await asyncio.to_thread(verify, self.accounts(), name, password)  # argon2 is CPU work
        if account is None:
            async with self.engine.begin() as conn:
                await conn.execute(
                    text('INSERT INTO staff_failures ("key", "at") VALUES (:k, :t)'), {"k": key, "t": now}
                )
            await asyncio.sleep(min(MAX_DELAY, WRONG_PASSWORD_DELAY * (len(rows) + 1)))
            raise ValueError("wrong name or password")
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        async with self.engine.begin() as conn:
            await conn.execute(text('DELETE FROM staff_failures WHERE "key" = :k'), {"k": key})
            await conn.execute(text('DELETE FROM staff_sessions WHERE "expires" < :t'), {"t": now})
            await conn.execute(
                text('INSERT INTO staff_sessions ("token_hash", "name", "csrf", "expires") VALUES (:h, :n, :c, :e)'),
                {"h": _digest(token), "n": account.name, "c": csrf, "e": now + s.staff_session_minutes * 60},
            )
        return token, Session(account=account, csrf=csrf)

    async def session(self, token: str | None) -> Session | None:
        """The session of a cookie's token, if it is current and its account still exists."""
        if not token:
            return None
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    text('SELECT "name", "csrf", "expires" FROM staff_sessions WHERE "token_hash" = :h'),
                    {"h": _digest(token)},
                )
            ).first()
        if row is None or row[2] < time.time():
            return None
        account = self.accounts().get(row[0])
        return Session(account=account, csrf=row[1]) if account else None

    async def logout(self, token: str | None) -> None:
        if token:
            async with self.engine.begin() as conn:
                await conn.execute(text('DELETE FROM staff_sessions WHERE "token_hash" = :h'), {"h": _digest(token)})
