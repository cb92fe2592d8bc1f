"""The chat and the embeddable widget in a real browser (Debian's Chromium, driven by Playwright).

The app runs as `assistant serve` in a subprocess; the widget demo page is served from a second
port, so the widget really runs cross-origin. Every request the pages make is recorded.
Fixtures and helpers: tests/browser_kit.py.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.browser_kit import ANSWER, Page, ask_full_chat, needs_browser, open_widget, run_axe
from tests.servers import EXE, free_port, start_app, stop

pytestmark = needs_browser()


def test_full_chat_german_answer_with_sources(app: str, page_de: Page) -> None:
    page = page_de.page
    page.goto(app + "/")
    page.wait_for_selector("#chat-input", timeout=30000)
    assert page.locator("#chat-input").get_attribute("placeholder").startswith("Nachricht eingeben")
    page.get_by_text("Moin!").first.wait_for(timeout=10000)  # the greeting, in German
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Welche Cluster gibt es?").click()  # a starter asks its question
    page.locator(ANSWER).nth(1).get_by_text("Quellen", exact=True).wait_for(timeout=30000)
    answer = page.locator(ANSWER).last
    text = answer.inner_text()
    for name in ("Luftfahrt", "Maritime Wirtschaft", "Lebensmittelindustrie", "Quellen"):
        assert name in text
    answer.locator("a", has_text="[1]").first.click()  # the citation opens its passage
    panel = page.get_by_text("Die neun Cluster auf einen Blick").last
    panel.wait_for(timeout=10000)
    assert page.get_by_text("https://jobwoche.tv/gemeinsam-stark-fuer-die-zukunft").last.is_visible()
    assert "nachhaltige Antriebe [1]" not in text  # the items in full are collapsed under "Mehr dazu"
    answer.locator("a", has_text="Mehr dazu").first.click()  # and open from that name
    page.get_by_text("nachhaltige Antriebe [1]", exact=False).last.wait_for(timeout=10000)
    assert page_de.external_requests() == [], page_de.external_requests()
    assert page.evaluate("document.documentElement.lang") == "de"


def test_ui_chrome_follows_browser_language(app: str, page_en: Page) -> None:
    page = page_en.page
    page.goto(app + "/")
    page.wait_for_selector("#chat-input", timeout=30000)
    assert page.locator("#chat-input").get_attribute("placeholder").startswith("Type your message")
    page.get_by_text("Hello! I answer questions").first.wait_for(timeout=10000)
    page.get_by_role("button", name="Which clusters are there?").wait_for(timeout=10000)
    assert page_en.external_requests() == []


def test_chat_small_talk_and_asking_for_the_other_language(app: str, page_en: Page) -> None:
    page = page_en.page
    page.goto(app + "/")
    page.wait_for_selector("#chat-input", timeout=30000)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1000)
    page.fill("#chat-input", "Thanks a lot!")
    page.keyboard.press("Enter")
    reply = page.locator(ANSWER).last.get_by_text("You're welcome", exact=False)
    reply.wait_for(timeout=30000)  # a friendly reply, not the refusal text and no sources
    assert "Sources" not in page.locator(ANSWER).last.inner_text()
    ask_full_chat(page, "Which cluster works on green hydrogen?")
    german = ask_full_chat(page, "Auf Deutsch, bitte")  # the previous question again, in German
    text = german.inner_text()
    assert "Wasserstoff" in text and "Quellen" in text


def test_markup_in_a_message_is_shown_as_text(app: str, page_de: Page) -> None:
    page = page_de.page
    page.goto(app + "/")
    attack = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> Was macht das Luftfahrtcluster?'
    ask_full_chat(page, attack)
    assert page.evaluate("window.__xss") is None
    user = page.locator('.step[data-step-type="user_message"]').last
    assert "<script>" in user.inner_text() and page.locator('img[src="x"]').count() == 0


def test_negative_feedback_with_comment_is_stored_and_survives_restart(
    app: str, page_de: Page, app_env: dict[str, str]
) -> None:
    page = page_de.page
    page.goto(app + "/")
    ask_full_chat(page, "Wer leitet das Luftfahrtcluster Hamburg Aviation?")
    page.locator(".negative-feedback-off").last.click()
    page.locator("textarea").last.fill("Quelle fehlt. Rückfragen an erika.muster@example.org")
    page.locator("#submit-feedback").click()
    page.locator(".negative-feedback-on").last.wait_for(timeout=10000)
    database = Path(app_env["DATA_DIR"]) / "chat.db"
    deadline = time.time() + 10
    rows: list = []
    while time.time() < deadline and not rows:
        rows = sqlite3.connect(database).execute("SELECT value, comment FROM feedbacks").fetchall()
        time.sleep(0.3)
    assert (0, "Quelle fehlt. Rückfragen an [E-Mail]") in rows  # stored, and without the e-mail address
    # a second app process on the same database (a restart) and the staff report still see it
    port = free_port()
    proc = start_app(app_env, port)
    try:
        report = subprocess.run(
            [EXE, "report", "--days", "1"], env=app_env, capture_output=True, text=True, timeout=120
        )
    finally:
        stop(proc)
    assert report.returncode == 0, report.stderr
    assert "Quelle fehlt" in report.stdout and "erika.muster" not in report.stdout
    assert "Wer leitet das Luftfahrtcluster" in report.stdout


def test_widget_cross_origin_english(app: str, demo_host: str, page_en: Page) -> None:
    page = page_en.page
    open_widget(page, demo_host, app, "en")
    page.click("#chainlit-copilot-button")
    page.wait_for_selector("#chat-input", timeout=30000)
    page.wait_for_timeout(2000)  # the widget connects its websocket after opening
    question = "Which cluster works on green hydrogen?"
    page.fill("#chat-input", question)
    page.keyboard.press("Enter")
    page.wait_for_selector(ANSWER, timeout=30000)
    answer = page.locator(ANSWER).last
    answer.get_by_text("Sources", exact=True).wait_for(timeout=30000)
    text = answer.inner_text()
    assert "hydrogen" in text.lower() and "Renewable Energy" in text
    assert page.locator("blockquote").count() == 0  # the passage does not pop up over the host page by itself
    answer.locator("a", has_text="[1]").first.click()
    page.locator("blockquote").first.wait_for(timeout=10000)  # the passage opens from its [1]
    first_source = httpx.post(f"{app}/api/ask", json={"question": question}, timeout=60).json()["citations"][0]["url"]
    page.get_by_text(first_source).last.wait_for(timeout=10000)  # the link of the passage [1] names
    assert page_en.external_requests() == [], page_en.external_requests()
    origins = {f"{urlsplit(u).hostname}:{urlsplit(u).port}" for u in page_en.requests}
    assert len(origins) >= 2  # the page and the assistant really are different origins


def test_widget_by_keyboard_alone(app: str, demo_host: str, page_de: Page) -> None:
    page = page_de.page
    open_widget(page, demo_host, app, "de")
    for _ in range(30):  # tab through the page until the widget button has the focus
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const h = document.getElementById('chainlit-copilot');"
            " return h && h.shadowRoot.activeElement ? h.shadowRoot.activeElement.id : ''; }"
        )
        if focused == "chainlit-copilot-button":
            break
    else:
        pytest.fail("the widget button is not reachable with the Tab key")
    page.keyboard.press("Enter")
    page.wait_for_selector("#chat-input", timeout=30000)
    page.wait_for_timeout(2000)
    for _ in range(30):
        if page.evaluate("document.getElementById('chainlit-copilot').shadowRoot.activeElement?.id") == "chat-input":
            break
        page.keyboard.press("Tab")
    page.keyboard.type("Wann wurde das ZAL eröffnet?")
    page.keyboard.press("Enter")
    page.wait_for_selector(ANSWER, timeout=30000)
    answer = page.locator(ANSWER).last
    answer.get_by_text("Quellen", exact=True).wait_for(timeout=30000)
    assert "2016" in answer.inner_text()


def test_accessibility_axe(app: str, demo_host: str, page_de: Page, page_en: Page, capsys) -> None:
    """axe-core in the page: no serious or critical violations in the chat (after an answer) and on the demo."""
    results = {}
    chat = page_de.page
    chat.goto(app + "/")
    ask_full_chat(chat, "Was macht das Cluster Logistik?")
    results["chat de-DE"] = run_axe(chat)
    demo = page_en.page
    open_widget(demo, demo_host, app, "en")
    results["demo page"] = run_axe(demo)
    demo.click("#chainlit-copilot-button")
    demo.wait_for_selector("#chat-input", timeout=30000)
    demo.wait_for_timeout(1500)
    results["widget open"] = run_axe(demo, "chainlit-copilot")
    with capsys.disabled():
        print("\naxe results:", json.dumps(results, indent=1))
    bad = {name: [v for v in found if v["impact"] in ("serious", "critical")] for name, found in results.items()}
    assert all(not v for v in bad.values()), bad
