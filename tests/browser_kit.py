"""Browser test kit: the app in a subprocess, a page of another origin, Debian's Chromium driven by Playwright,
pages that record every request, and helpers to ask, open the widget and run axe-core.

Loaded as a pytest plugin (tests/conftest.py), so every browser test module gets the same fixtures; module-scoped
fixtures start one app process per module.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from assistant.service import Assistant
from assistant.settings import PROJECT_ROOT, Settings
from tests.servers import free_port, start_app, stop

CHROMIUM = "/usr/bin/chromium"
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
ANSWER = '.step[data-step-type="assistant_message"]'


def needs_browser() -> pytest.MarkDecorator:
    """Mark for browser test modules: skipped (with the reason) when Debian's Chromium is missing."""
    return pytest.mark.skipif(
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
    playwright_api = pytest.importorskip("playwright.sync_api")
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

    def __init__(self, browser, locale: str, size: tuple[int, int] = (1280, 900), dark: bool = False) -> None:
        phone = size[0] < 600
        self.context = browser.new_context(
            locale=locale,
            viewport={"width": size[0], "height": size[1]},
            is_mobile=phone,
            has_touch=phone,
            color_scheme="dark" if dark else "light",
        )
        if dark:  # the full chat keeps the chosen theme here (the theme toggle writes it)
            self.context.add_init_script("localStorage.setItem('vite-ui-theme', 'dark')")
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
    page.wait_for_function(f"() => document.querySelectorAll('{ANSWER}').length > {before}", timeout=30000)
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
    # evaluated, not added as an inline <script>: the chat's Content-Security-Policy rightly refuses inline scripts
    page.evaluate(AXE.read_text(encoding="utf-8"))
    context = f"document.getElementById('{root_selector}').shadowRoot" if root_selector else "document"
    result = page.evaluate(
        f"""async () => {{
            const r = await axe.run({context}, {{resultTypes: ['violations']}});
            return r.violations.map(v => ({{id: v.id, impact: v.impact, nodes: v.nodes.length,
                                             targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}}));
        }}"""
    )
    return result


def open_widget(page, demo_host: str, app: str, lang: str, theme: str = "light") -> None:
    page.goto(f"{demo_host}/embed-demo.html?server={app}&lang={lang}&theme={theme}")
    page.wait_for_selector("#chainlit-copilot-button", timeout=30000)
