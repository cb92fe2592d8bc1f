"""Staff accounts for /staff: names with argon2 password hashes and rights, from a file and the settings.

The public chat and widget need no login; only the staff page does. Accounts live in STAFF_ACCOUNTS_FILE
(written by `assistant staff add`, readable by the server's user only) and, for deployments that configure
through the environment, in STAFF_ACCOUNTS. No password is ever stored, only its argon2id hash.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from assistant.settings import Settings

NAME = re.compile(r"^[\w.@-]{1,64}$")
MIN_PASSWORD_CHARS = 12
_hasher = PasswordHasher()
# a hash to verify against when the name is unknown, so that a wrong name takes as long as a wrong password
_DUMMY_HASH = _hasher.hash("no account has this password")


class AccountError(ValueError):
    """A name or password that cannot be used (the message says why)."""


@dataclass(frozen=True)
class Account:
    name: str
    hash: str
    purge: bool = False  # may delete stored conversations from the page


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    return _hasher.hash(password)


def _parse(entries: dict) -> dict[str, Account]:
    """Accounts from {name: hash or {"hash", "purge"}}; any other shape is an AccountError."""
    accounts = {}
    for name, entry in entries.items():
        if not isinstance(entry, str | dict):
            raise AccountError(f"the account {name!r} is neither a hash nor an object with one")
        entry = {"hash": entry} if isinstance(entry, str) else dict(entry)
        if NAME.match(str(name)) and str(entry.get("hash", "")).startswith("$argon2"):
            accounts[str(name)] = Account(name=str(name), hash=entry["hash"], purge=bool(entry.get("purge")))
    return accounts


def read_file(path: Path) -> dict[str, Account]:
    """The accounts in a file, none when there is no file; an unreadable or damaged file is an error (it must
    neither lock everybody out unnoticed nor be overwritten by the next account added)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise AccountError(f"cannot read {path}: {exc.strerror}") from None
    try:
        entries = json.loads(text)
        if not isinstance(entries, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        raise AccountError(f"{path} is not a valid accounts file ({exc})") from None
    return _parse(entries)


def load_accounts(settings: Settings) -> dict[str, Account]:
    """Every account: the file's, then STAFF_ACCOUNTS (which wins for a name in both)."""
    return {**read_file(settings.staff_accounts_path), **_parse(settings.staff_accounts)}


def write_account(path: Path, name: str, password: str, purge: bool) -> None:
    """Add or replace an account in the file (created readable by its owner only)."""
    if not NAME.match(name):
        raise AccountError("a name is 1-64 letters, digits or . _ @ -")
    entries = {a.name: {"hash": a.hash, "purge": a.purge} for a in read_file(path).values()}
    entries[name] = {"hash": hash_password(password), "purge": purge}
    _save(path, entries)


def remove_account(path: Path, name: str) -> bool:
    entries = {a.name: {"hash": a.hash, "purge": a.purge} for a in read_file(path).values()}
    if entries.pop(name, None) is None:
        return False
    _save(path, entries)
    return True


def _save(path: Path, entries: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(entries, handle, indent=1)
    os.replace(temporary, path)  # readers never see half a file


def verify(accounts: dict[str, Account], name: str, password: str) -> Account | None:
    """The account when the password is its own; the same work for an unknown name (no timing hint)."""
    account = accounts.get(name)
    try:
        _hasher.verify(account.hash if account else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return account
