"""The chat and the embeddable widget in a real browser (Debian's Chromium, driven by Playwright).

The app runs as `assistant serve` in a subprocess; the widget demo page is served from a second
port, so the widget really runs cross-origin. Every request the pages make is recorded.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from assistant.service import Assistant
from assistant.settings import PROJECT_ROOT, Settings
from tests.servers import EXE, free_port, start_app, stop

CHROMIUM = "/usr/bin/chromium"
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
ANSWER = '.step[data-step-type="assistant_message"]'

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian chromium not installed (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def app_env(assistant: Assistant, real_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data_dir = tmp_path_factory.mktemp("chat-data")
    return {
        **os.environ,
        "INDEX_DIR": str(real_settings.index_dir),
        "CORPUS_DIR": str(real_settings.corpus_dir),
        "DATA_DIR": str(data_dir),
        "LOG_LEVEL": "INFO",
    }


@pytest.fixture(scope="module")
def app(app_env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    proc = start_app(app_env, port)
    yield f"http://127.0.0.1:{port}"
    logs = stop(proc)
    # no client address may end up in the log
    assert "127.0.0.1:" not in logs.replace(f"127.0.0.1:{port}", ""), logs[-2000:]


@pytest.fixture(scope="module")
def demo_host() -> Iterator[str]:
    """public/ served by a plain static server on another port: a page of another origin."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(PROJECT_ROOT / "public"))
    handler.log_message = lambda *a: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_address[1]}"  # "localhost" vs "127.0.0.1": a different site
    server.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield chromium
        chromium.close()


class Page:
    """A browser page that records every request it makes."""

    def __init__(self, browser, locale: str) -> None:
        self.context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))

    def external_requests(self) -> list[str]:
        return sorted(
            {
                u
                for u in self.requests
                if urlsplit(u).hostname not in ("127.0.0.1", "localhost", None) and not u.startswith(("data:", "blob:"))
            }
        )

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def page_de(browser) -> Iterator[Page]:
    page = Page(browser, "de-DE")
    yield page
    page.close()


@pytest.fixture
def page_en(browser) -> Iterator[Page]:
    page = Page(browser, "en-US")
    yield page
    page.close()


def ask_full_chat(page, question: str) -> object:
    page.wait_for_selector("#chat-input", timeout=30000)
    page.wait_for_load_state("networkidle")  # the chat connects its websocket after the page loads
    page.wait_for_timeout(1000)
    before = page.locator(ANSWER).count()
    page.fill("#chat-input", question)
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('{ANSWER}').length > {before}", timeout=30000)
    answer = page.locator(ANSWER).last
    answer.locator("text=/\\[1\\]/").first.wait_for(timeout=30000)
    page.wait_for_function(  # the answer has streamed out when its text stops changing
        """async (sel) => { const a = [...document.querySelectorAll(sel)].pop().innerText;
                             await new Promise(r => setTimeout(r, 400));
                             return a === [...document.querySelectorAll(sel)].pop().innerText; }""",
        arg=ANSWER,
        timeout=30000,
    )
    return answer


def run_axe(page, root_selector: str | None = None) -> list[dict]:
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    context = f"document.getElementById('{root_selector}').shadowRoot" if root_selector else "document"
    result = page.evaluate(
        f"""async () => {{
            const r = await axe.run({context}, {{resultTypes: ['violations']}});
            return r.violations.map(v => ({{id: v.id, impact: v.impact, nodes: v.nodes.length,
                                             targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}}));
        }}"""
    )
    return result


def test_full_chat_german_answer_with_sources(app: str, page_de: Page) -> None:
    page = page_de.page
    page.goto(app + "/")
    page.wait_for_selector("#chat-input", timeout=30000)
    assert page.locator("#chat-input").get_attribute("placeholder").startswith("Nachricht eingeben")
    page.get_by_text("Moin!").first.wait_for(timeout=10000)  # the greeting, in German
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Welche Cluster gibt es?").click()  # a starter asks its question
    page.locator(ANSWER).nth(1).get_by_text("Hinweis: Die Antworten", exact=False).wait_for(timeout=30000)
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
    if os.environ.get("UPDATE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "chat.png"))
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


def open_widget(page, demo_host: str, app: str, lang: str) -> None:
    page.goto(f"{demo_host}/embed-demo.html?server={app}&lang={lang}")
    page.wait_for_selector("#chainlit-copilot-button", timeout=30000)


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
    answer.get_by_text("answers are put together automatically", exact=False).wait_for(timeout=30000)  # streamed out
    text = answer.inner_text()
    assert "hydrogen" in text.lower() and "Renewable Energy" in text
    assert "answers are put together automatically from the documents listed" in text  # the disclaimer
    assert page.locator("blockquote").count() == 0  # the passage does not pop up over the host page by itself
    answer.locator("a", has_text="[1]").first.click()
    page.locator("blockquote").first.wait_for(timeout=10000)  # the passage opens from its [1]
    first_source = httpx.post(f"{app}/api/ask", json={"question": question}, timeout=60).json()["citations"][0]["url"]
    page.get_by_text(first_source).last.wait_for(timeout=10000)  # the link of the passage [1] names
    if os.environ.get("UPDATE_SCREENSHOTS"):
        page.keyboard.press("Escape")
        page.wait_for_timeout(300)
        page.screenshot(path=str(SCREENSHOTS / "widget.png"))
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
    answer.get_by_text("Hinweis: Die Antworten", exact=False).wait_for(timeout=30000)
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
