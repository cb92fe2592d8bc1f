"""The staff page (/staff) over real HTTP against a real app process: login, CSRF, lock-out, figures matching a
seeded database, exports and purge; with SQLite, and with PostgreSQL when CI provides one (PG_TEST_URL)."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import os
import re
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.datastructures import Headers

from assistant import storage
from assistant.settings import Settings
from assistant.staff_accounts import (
    AccountError,
    hash_password,
    load_accounts,
    read_file,
    remove_account,
    verify,
    write_account,
)
from assistant.staff_auth import LockedOut, StaffAuth
from assistant.staff_page import cell, small_number
from assistant.staff_stats import group_refused, local_day
from tests.servers import EXE, app_env, free_port, start_app, stop
from tests.staff_seed import SEED, Asked, expected_days, local_today, seed

PASSWORD = "ein langes Passwort 42"
SSO_SECRET = "proxy-secret-for-tests"
PG = os.environ.get("PG_TEST_URL", "")


def test_accounts_are_stored_as_hashes_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "staff.json"
    write_account(path, "erika", PASSWORD, purge=True)
    write_account(path, "max", "noch ein langes Passwort", purge=False)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert PASSWORD not in path.read_text(encoding="utf-8")
    accounts = read_file(path)
    assert verify(accounts, "erika", PASSWORD) == accounts["erika"] and accounts["erika"].purge
    assert verify(accounts, "erika", "falsch falsch falsch") is None
    assert verify(accounts, "nobody", PASSWORD) is None
    with pytest.raises(AccountError):
        write_account(path, "kurz", "zu kurz", purge=False)
    with pytest.raises(AccountError):
        write_account(path, "kein name!", PASSWORD, purge=False)
    assert remove_account(path, "max") and not remove_account(path, "max")
    damaged = tmp_path / "damaged.json"
    damaged.write_text("{ not json", encoding="utf-8")
    with pytest.raises(AccountError):  # a damaged file is an error, never "no accounts" to be overwritten
        write_account(damaged, "erika", PASSWORD, purge=False)
    assert damaged.read_text(encoding="utf-8") == "{ not json"
    settings = Settings(
        _env_file=None,
        staff_accounts_file=path,
        staff_accounts={"erika": {"hash": hash_password("ein anderes Passwort"), "purge": False}},
    )
    merged = load_accounts(settings)  # the environment's account wins over the file's of the same name
    assert verify(merged, "erika", "ein anderes Passwort") is not None and not merged["erika"].purge


def test_the_cli_adds_lists_and_removes_accounts_without_showing_a_hash(tmp_path: Path) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path)}
    added = subprocess.run(
        [EXE, "staff", "add", "erika", "--purge", "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    listed = subprocess.run([EXE, "staff", "list"], env=env, capture_output=True, text=True, timeout=60)
    assert "erika" in listed.stdout and "may purge" in listed.stdout and "argon2" not in listed.stdout
    short = subprocess.run(
        [EXE, "staff", "add", "max", "--password-stdin"],
        input="kurz\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert short.returncode == 1 and "at least" in short.stderr
    removed = subprocess.run([EXE, "staff", "remove", "erika"], env=env, capture_output=True, text=True, timeout=60)
    assert removed.returncode == 0 and not read_file(tmp_path / "staff-accounts.json")


def test_near_identical_wordings_are_grouped_and_different_questions_are_not(e5) -> None:
    asked = [
        ("2026-01-02", "Regnet es am Sonntag in Bergedorf?"),
        ("2026-01-03", "Regnet es in Bergedorf am Sonntag?"),
        ("2026-01-01", "Regnet es am Sonntag in Bergedorf?"),
        ("2026-01-02", "Was kostet ein Parkausweis in Altona?"),
        ("2026-01-02", "Wann hat das Bürgeramt geöffnet?"),
    ]
    groups = group_refused(asked, e5.embed_query_vectors, Settings(_env_file=None).staff_same_question)
    assert [(g.question, g.count, g.last) for g in groups] == [
        ("Regnet es am Sonntag in Bergedorf?", 3, "2026-01-03"),
        ("Wann hat das Bürgeramt geöffnet?", 1, "2026-01-02"),
        ("Was kostet ein Parkausweis in Altona?", 1, "2026-01-02"),
    ]
    assert group_refused([], lambda texts: np.zeros((0, 3)), 0.9) == []
    embedded: list[str] = []

    def counting(texts: list[str]) -> np.ndarray:
        embedded.extend(texts)
        return e5.embed_query_vectors(texts)

    limited = group_refused(asked, counting, 0.9625, limit=1)  # only the most frequent wording is embedded
    assert embedded == ["Regnet es am Sonntag in Bergedorf?"]
    assert [(g.question, g.count) for g in limited] == [
        ("Regnet es am Sonntag in Bergedorf?", 2),
        ("Regnet es in Bergedorf am Sonntag?", 1),
        ("Wann hat das Bürgeramt geöffnet?", 1),
        ("Was kostet ein Parkausweis in Altona?", 1),
    ]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def staff_server(request, real_settings, tmp_path_factory) -> Iterator[dict]:
    """An app process with two accounts (one may purge) over a database seeded after it started (its start-up
    purge would otherwise delete the old conversation the purge test needs)."""
    if request.param == "postgresql" and not PG:
        pytest.skip("needs PG_TEST_URL")
    data = tmp_path_factory.mktemp(f"staff-{request.param}")
    accounts = {
        "erika": {"hash": hash_password(PASSWORD), "purge": True},
        "max": {"hash": hash_password(PASSWORD), "purge": False},
        "lena": {"hash": hash_password(PASSWORD), "purge": False},  # the lock-out test's
    }
    extra = {
        "STAFF_ACCOUNTS": json.dumps(accounts),
        "RETENTION_DAYS": "30",
        "STAFF_MAX_FAILURES": "3",
        "AUTH_FAILURE_LIMIT": "100/minute",  # these tests sign in often from one address
        # single sign-on at a reverse proxy: its user header counts only with its secret
        "STAFF_SSO_HEADER": "X-Forwarded-User",
        "STAFF_SSO_SECRET": SSO_SECRET,
        "STAFF_SSO_PURGE": json.dumps(["paula"]),
    }
    if request.param == "postgresql":
        extra["DATABASE_URL"] = PG
    port = free_port()
    env = app_env(real_settings, data, **extra)
    proc = start_app(env, port, log=data / "server.log")
    try:  # the server stops whatever fails, or it would hold the database (and its port) after the tests
        settings = Settings(_env_file=None, data_dir=data, database_url=extra.get("DATABASE_URL"))
        seed(settings)
        seed(settings, [Asked(40, "Eine alte Frage?", cited=("aviation-de",))], clear=False)
        yield {"base": f"http://127.0.0.1:{port}", "settings": settings, "proc": proc, "env": env, "data": data}
    finally:
        log = stop(proc)
    assert PASSWORD not in log and "1234567" not in log


def login(client: httpx.Client, name: str = "erika", password: str = PASSWORD) -> httpx.Response:
    page = client.get("/staff")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    return client.post("/staff/login", data={"csrf": token.group(1), "name": name, "password": password})


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def test_nothing_is_shown_without_a_session(staff_server) -> None:
    with httpx.Client(base_url=staff_server["base"], timeout=30) as client:
        page = client.get("/staff", headers={"Accept-Language": "en-GB,en;q=0.9"})
        assert page.status_code == 200 and "Sign in for city staff" in page.text
        assert "Luftfahrt" not in page.text and "table-days" not in page.text
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        for path in ("/staff/export.json", "/staff/export/days.csv"):
            assert client.get(path).status_code == 401
        assert client.post("/staff/purge", data={"csrf": "x", "confirm": "yes"}).status_code == 401
        assert client.post("/staff/logout", data={"csrf": "x"}).status_code == 401
        client.get("/staff")
        odd = client.post("/staff/login", data={"csrf": "ä€", "name": "erika", "password": PASSWORD})
        assert odd.status_code == 403  # any characters in a token: refused, never a server error


def test_a_login_needs_its_form_token_and_wrong_passwords_are_slowed_and_locked_out(staff_server) -> None:
    with httpx.Client(base_url=staff_server["base"], timeout=60) as client:
        client.get("/staff")
        forged = client.post("/staff/login", data={"csrf": "guessed", "name": "lena", "password": PASSWORD})
        assert forged.status_code == 403 and "staff_session" not in forged.headers.get("set-cookie", "")
        times = []
        for _ in range(3):
            started = time.monotonic()
            wrong = login(client, "lena", "nicht das Passwort")
            times.append(time.monotonic() - started)
            assert wrong.status_code == 401 and "falsch" in wrong.text
        assert times[-1] >= 1.4 and times[-1] > times[0]  # each wrong password waits longer
        locked = login(client, "lena", PASSWORD)  # the right password, but the account is locked for now
        assert locked.status_code == 429 and "staff_session" not in locked.headers.get("set-cookie", "")


def test_the_page_shows_the_seeded_figures_and_the_session_cookie_is_strict(staff_server) -> None:
    with httpx.Client(base_url=staff_server["base"], timeout=60) as client:
        response = login(client)
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/staff" in cookie
        assert "Secure" not in cookie  # plain HTTP here; Secure when served over HTTPS
        page = client.get("/staff?days=7&lang=en")
        assert page.status_code == 200 and "Signed in as erika" in page.text
        days = expected_days()
        questions = sum(q for q, _, _ in days.values())
        refused = sum(r for _, r, _ in days.values())
        unhelpful = sum(u for _, _, u in days.values())
        assert f"Questions: {questions}; not answered: {refused} (" in page.text
        assert f"rated unhelpful: {unhelpful} (" in page.text
        table = page.text.split('id="table-days"')[1].split("</table>")[0]
        for day, (q, r, u) in days.items():
            row = re.search(
                rf"<th scope=\"row\">{day}</th><td>(\d+)</td><td>(\d+)</td><td>[^<]*</td><td>(\d+)</td>", table
            )
            assert row and row.groups() == (str(q), str(r), str(u)), day
        refused_table = page.text.split('id="table-refused"')[1].split("</table>")[0]
        assert "Regnet es am Samstag in Wandsbek?" in refused_table and "<td>2</td>" in refused_table
        unhelpful_table = page.text.split('id="table-unhelpful"')[1].split("</table>")[0]
        assert "Die Zahl fehlt." in unhelpful_table and "[Telefon]" in unhelpful_table and "1234567" not in page.text
        assert "Eine alte Frage?" not in page.text  # outside the period
        assert "/public/vendor/chartjs/chart.umd.min.js" in page.text and "cdn" not in page.text.lower()
        odd = client.get(
            "/staff", params={"refused_page": "abc", "days": "²", "from": "9999-12-30", "to": "9999-12-31"}
        )
        assert odd.status_code == 200  # nonsense in the address: the defaults, never a server error
        german = client.get("/staff?days=7&lang=de")

        assert f"Fragen: {questions}; davon nicht beantwortet: {refused} (" in german.text


def test_exports_hold_the_period_as_shown(staff_server) -> None:
    with httpx.Client(base_url=staff_server["base"], timeout=60) as client:
        login(client)
        today = local_today()
        period = {"from": (today - dt.timedelta(days=6)).isoformat(), "to": today.isoformat(), "lang": "en"}
        exported = client.get("/staff/export/days.csv", params=period)
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert rows[0][:3] == ["Day", "Questions", "Not answered"] and len(rows) == 1 + 7
        by_day = {row[0]: (int(row[1]), int(row[2]), int(row[4])) for row in rows[1:]}
        for day, figures in expected_days().items():
            assert by_day[day] == figures
        everything = client.get("/staff/export.json", params=period).json()
        assert everything["totals"]["questions"] == len(SEED)
        assert {c["cluster"] for c in everything["clusters"]} >= {"aviation", "logistics", "food", "-"}
        assert all("1234567" not in json.dumps(u) for u in everything["unhelpful_answers"])
        refused = list(csv.reader(io.StringIO(client.get("/staff/export/refused.csv", params=period).text)))
        assert refused[1][:2] == ["Regnet es am Samstag in Wandsbek?", "2"]


def test_logout_and_purge_need_the_session_token_and_purge_needs_the_right(staff_server) -> None:
    with httpx.Client(base_url=staff_server["base"], timeout=60) as client:
        login(client, "max")
        page = client.get("/staff")
        assert "Abgelaufene Gespräche jetzt löschen" not in page.text  # max may not purge
        refused = client.post("/staff/purge", data={"csrf": csrf_of(page), "confirm": "yes"})
        assert refused.status_code == 403
    with httpx.Client(base_url=staff_server["base"], timeout=60) as client:
        login(client)
        page = client.get("/staff?lang=de")
        assert "Abgelaufene Gespräche jetzt löschen" in page.text and "wird am" in page.text
        assert client.post("/staff/purge", data={"csrf": "wrong", "confirm": "yes"}).status_code == 403
        confirm = client.post("/staff/purge?lang=de", data={"csrf": csrf_of(page)})
        assert confirm.status_code == 200 and "Ja, endgültig löschen" in confirm.text
        done = client.post("/staff/purge?lang=de", data={"csrf": csrf_of(page), "confirm": "yes"})
        assert done.status_code == 303 and "purged=1" in done.headers["location"]
        assert "Gelöschte Gespräche: 1." in client.get(done.headers["location"]).text
        assert client.post("/staff/logout", data={"csrf": "wrong"}).status_code == 403
        out = client.post("/staff/logout", data={"csrf": csrf_of(client.get("/staff"))})
        assert out.status_code == 303
        assert "Anmeldung" in client.get("/staff?lang=de").text
        assert client.get("/staff/export.json").status_code == 401


def test_a_user_signed_in_by_the_reverse_proxy_needs_no_page_login(staff_server) -> None:
    with httpx.Client(base_url=staff_server["base"], timeout=60) as client:
        forged = client.get("/staff", headers={"X-Forwarded-User": "anna", "X-Staff-Proxy-Secret": "guessed"})
        assert "Anmeldung" in forged.text and "table-days" not in forged.text  # a header alone proves nothing
        proxied = {"X-Forwarded-User": "anna", "X-Staff-Proxy-Secret": SSO_SECRET}
        page = client.get("/staff", headers=proxied)
        assert "Angemeldet als anna" in page.text and "table-days" in page.text
        assert "staff_session" not in page.headers.get("set-cookie", "")
        assert client.get("/staff/export.json", headers=proxied).status_code == 200
        assert client.post("/staff/purge", headers=proxied, data={"csrf": "x"}).status_code == 403
        denied = client.post("/staff/purge", headers=proxied, data={"csrf": csrf_of(page), "confirm": "yes"})
        assert denied.status_code == 403 and "darf keine" in denied.text  # anna has no right to purge
        allowed = {"X-Forwarded-User": "paula", "X-Staff-Proxy-Secret": SSO_SECRET}
        confirm = client.post(
            "/staff/purge", headers=allowed, data={"csrf": csrf_of(client.get("/staff", headers=allowed))}
        )
        assert confirm.status_code == 200 and "Ja, endgültig löschen" in confirm.text


def test_another_app_process_shows_the_same_figures_and_shares_the_login(staff_server) -> None:
    port = free_port()
    other = start_app(staff_server["env"], port, log=staff_server["data"] / "second.log")
    try:
        with httpx.Client(base_url=staff_server["base"], timeout=60) as first:
            login(first)
            cookies = dict(first.cookies)
            mine = first.get("/staff/export.json", params={"days": 30}).json()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, cookies=cookies) as second:
            theirs = second.get("/staff/export.json", params={"days": 30})  # signed in on the first process
            assert theirs.status_code == 200 and theirs.json() == mine
    finally:
        stop(other)


def run_with_auth(tmp_path: Path, scenario, **settings_values):
    """`scenario(auth, accounts_file)` against a SQLite file, with one account "erika" in the accounts file."""
    accounts = tmp_path / "staff.json"
    settings = Settings(_env_file=None, data_dir=tmp_path, staff_accounts_file=accounts, **settings_values)
    write_account(accounts, "erika", PASSWORD, purge=False)

    async def run():
        await storage.ensure_schema(settings)
        engine = create_async_engine(storage.database_url(settings))
        try:
            return await scenario(StaffAuth(settings, engine), accounts)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_a_changed_password_or_a_removed_account_ends_its_sessions(tmp_path: Path) -> None:
    async def scenario(auth: StaffAuth, accounts: Path) -> list[bool]:
        seen = []
        token, _ = await auth.login("erika", PASSWORD)
        seen.append(await auth.session(token) is not None)
        write_account(accounts, "erika", "ein ganz neues Passwort", purge=False)
        seen.append(await auth.session(token) is not None)
        token, _ = await auth.login("erika", "ein ganz neues Passwort")
        seen.append(await auth.session(token) is not None)
        remove_account(accounts, "erika")
        seen.append(await auth.session(token) is not None)
        return seen

    assert run_with_auth(tmp_path, scenario) == [True, False, True, False]


def test_attempts_while_locked_do_not_extend_the_lock(tmp_path: Path) -> None:
    async def scenario(auth: StaffAuth, _accounts: Path) -> list[str]:
        outcomes = []
        for password in ("falsch falsch 1", "falsch falsch 2", PASSWORD, PASSWORD, PASSWORD):
            try:
                await auth.login("erika", password)
                outcomes.append("in")
            except LockedOut:
                outcomes.append("locked")
            except ValueError:
                outcomes.append("wrong")
        async with auth.engine.connect() as conn:
            kept = (await conn.execute(text("SELECT COUNT(*) FROM staff_failures"))).scalar()
        return [*outcomes, str(kept)]

    outcomes = run_with_auth(tmp_path, scenario, staff_max_failures=2)
    assert outcomes == ["wrong", "wrong", "locked", "locked", "locked", "2"]


def test_single_sign_on_counts_only_one_user_header_with_the_secret(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None, staff_sso_header="X-Forwarded-User", staff_sso_secret=SSO_SECRET, staff_sso_purge=["paula"]
    )
    auth = StaffAuth(settings, create_async_engine("sqlite+aiosqlite://"))

    def session(*pairs: tuple[str, str]):
        return auth.sso_session(Headers(raw=[(k.lower().encode(), v.encode()) for k, v in pairs]))

    signed = session(("X-Forwarded-User", "paula"), ("X-Staff-Proxy-Secret", SSO_SECRET))
    assert signed is not None and signed.account.name == "paula" and signed.account.purge and signed.sso
    assert session(("x-forwarded-user", "anna"), ("x-staff-proxy-secret", SSO_SECRET)).account.name == "anna"
    assert session(("X-Forwarded-User", "paula")) is None  # no secret
    assert session(("X-Forwarded-User", "paula"), ("X-Staff-Proxy-Secret", "falsch")) is None
    # a client's own header beside the proxy's: trusted neither
    twice = (("X-Forwarded-User", "paula"), ("X-Forwarded-User", "anna"), ("X-Staff-Proxy-Secret", SSO_SECRET))
    assert session(*twice) is None
    assert session(("X-Forwarded-User", "<b>x</b>"), ("X-Staff-Proxy-Secret", SSO_SECRET)) is None
    with pytest.raises(ValueError):  # a header without a secret would let anybody in: refused at start
        Settings(_env_file=None, staff_sso_header="X-Forwarded-User")


def test_what_an_address_or_the_data_may_hold_is_made_harmless() -> None:
    assert [small_number(v) for v in ("3", "abc", "²", "1" * 5000, "0012", "-1")] == [3, None, None, None, 12, None]
    assert [cell(v) for v in ("=HYPERLINK(1)", "+1", "-x", "@a", "Frage", 5)] == [
        "'=HYPERLINK(1)",
        "'+1",
        "'-x",
        "'@a",
        "Frage",
        5,
    ]
    berlin = ZoneInfo("Europe/Berlin")
    assert local_day("2026-12-07T22:59:59.000Z", berlin) == "2026-12-07"  # 23:59 in Hamburg
    assert local_day("2026-12-07T23:00:00.000Z", berlin) == "2026-12-08"  # midnight in Hamburg
    assert local_day("2026-07-07T22:00:00Z", berlin) == "2026-07-08"  # summer time: UTC+2
    with pytest.raises(ValueError):
        Settings(_env_file=None, staff_timezone="Europe")


def test_an_account_of_the_wrong_shape_is_an_error_not_a_server_failure(tmp_path: Path) -> None:
    damaged = tmp_path / "staff.json"
    for shape in ('{"erika": 5}', '{"erika": ["a"]}', "[1, 2]"):
        damaged.write_text(shape, encoding="utf-8")
        with pytest.raises(AccountError):
            read_file(damaged)
