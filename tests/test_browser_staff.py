"""A staff member in a real browser (Debian Chromium): logs in, sees the chart and the tables with the figures of
a seeded database, switches the language, exports a CSV and checks its rows; axe finds no serious violation."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.settings import Settings
from assistant.staff_accounts import hash_password
from tests.browser_kit import Page, needs_browser, run_axe
from tests.servers import app_env, free_port, start_app, stop
from tests.staff_seed import expected_days, seed

pytestmark = needs_browser()
PASSWORD = "ein langes Passwort 42"
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "screenshots" / "staff-page.png"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def staff_app(request, real_settings, tmp_path_factory) -> Iterator[str]:
    pg = os.environ.get("PG_TEST_URL", "")
    if request.param == "postgresql" and not pg:
        pytest.skip("needs PG_TEST_URL")
    data = tmp_path_factory.mktemp(f"staff-browser-{request.param}")
    extra = {"STAFF_ACCOUNTS": json.dumps({"erika": {"hash": hash_password(PASSWORD), "purge": True}})}
    if request.param == "postgresql":
        extra["DATABASE_URL"] = pg
    port = free_port()
    proc = start_app(app_env(real_settings, data, **extra), port, log=data / "server.log")
    try:  # the server stops whatever fails, or it would hold the database (and its port) after the tests
        seed(Settings(_env_file=None, data_dir=data, database_url=extra.get("DATABASE_URL")))
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def sign_in(page, app: str, lang: str) -> None:
    page.goto(f"{app}/staff")
    violations = [v for v in run_axe(page) if v["impact"] in ("serious", "critical")]
    assert violations == [], ("login page", violations)
    labels = {"de": ("Benutzername", "Passwort", "Anmelden"), "en": ("User name", "Password", "Sign in")}[lang]
    page.get_by_label(labels[0]).fill("erika")
    page.get_by_label(labels[1], exact=True).fill(PASSWORD)
    page.get_by_role("button", name=labels[2]).click()
    page.wait_for_selector("#table-days", state="attached")  # inside a closed <details>


def days_table(page) -> dict[str, tuple[int, int, int]]:
    page.get_by_text(re.compile("Zahlen als Tabelle|Figures as a table")).first.click()
    rows = page.locator("#table-days tbody tr")
    found = {}
    for i in range(rows.count()):
        cells = [c.inner_text().strip() for c in rows.nth(i).locator("th, td").all()]
        found[cells[0]] = (int(cells[1]), int(cells[2]), int(cells[4]))
    return found


@pytest.mark.parametrize(("locale", "lang"), [("de-DE", "de"), ("en-GB", "en")])
def test_staff_sign_in_see_the_figures_and_export_them(staff_app: str, browser, locale: str, lang: str) -> None:
    wrapper = Page(browser, locale)
    page = wrapper.page
    try:
        sign_in(page, staff_app, lang)
        assert page.locator("html").get_attribute("lang") == lang
        page.goto(f"{staff_app}/staff?days=7")
        page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('chart-days'))")
        drawn = page.evaluate(
            "() => { const c = Chart.getChart(document.getElementById('chart-days')); return c.data.datasets[0].data; }"
        )
        expected = expected_days()
        assert sum(drawn) == sum(q for q, _, _ in expected.values())
        shown = days_table(page)
        for day, figures in expected.items():
            written = dt.date.fromisoformat(day).strftime("%d.%m.%Y") if lang == "de" else day
            assert shown[written] == figures, day
        assert page.locator("#table-clusters tbody tr").count() >= 4
        violations = [v for v in run_axe(page) if v["impact"] in ("serious", "critical")]
        assert violations == [], violations
        with page.expect_download() as download:
            page.get_by_role("link", name=re.compile("CSV: (Fragen pro Tag|Questions per day)")).click()
        rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
        assert len(rows) == 1 + 7
        exported = {row[0]: (int(row[1]), int(row[2]), int(row[4])) for row in rows[1:]}
        assert all(exported[day] == figures for day, figures in expected.items())
        other = "en" if lang == "de" else "de"
        page.get_by_role("link", name="English" if other == "en" else "Deutsch").click()
        page.wait_for_selector(f"html[lang={other}]")
        assert page.get_by_text("Figures as a table" if other == "en" else "Zahlen als Tabelle").count() >= 1
        assert wrapper.external_requests() == []
        if lang == "de" and os.environ.get("UPDATE_SCREENSHOTS"):
            page.goto(f"{staff_app}/staff?days=7&lang=de")
            page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('chart-days'))")
            page.wait_for_timeout(800)
            page.screenshot(path=str(SCREENSHOT), full_page=False)
    finally:
        wrapper.close()
