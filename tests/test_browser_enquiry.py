"""Staff paste an e-mail enquiry into the chat: the answers per question, and a draft reply copied with one click.
Also: what the chat stored of it holds no name or e-mail address of the sender."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx

from tests.browser_kit import ANSWER, Page, needs_browser

pytestmark = needs_browser()

ENQUIRY = """Sehr geehrte Damen und Herren,

wir sind ein kleines Ingenieurbüro, das Kabinenteile für Flugzeuge entwickelt. Wer ist Geschäftsführer des
Hamburger Luftfahrtclusters? Und gibt es dort ein Netzwerk für Drohnen?

Mit freundlichen Grüßen
Nora Testfrau
nora.testfrau@example.org
"""


def test_staff_copy_the_draft_reply_and_nothing_personal_is_stored(app: str, browser, app_env: dict[str, str]) -> None:
    wrapper = Page(browser, "de-DE")
    wrapper.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app)
    # what the copy button hands to the clipboard, whichever way it writes (a headless browser may have no clipboard)
    wrapper.context.add_init_script(
        """window.__copied = [];
        if (navigator.clipboard) { const c = navigator.clipboard;
            const writeText = c.writeText.bind(c), write = c.write.bind(c);
            c.writeText = t => { window.__copied.push(t); return writeText(t).catch(() => {}); };
            c.write = async items => { for (const item of items) if (item.types.includes('text/plain'))
                window.__copied.push(await (await item.getType('text/plain')).text());
                return write(items).catch(() => {}); }; }
        document.addEventListener('copy', () => { const s = String(document.getSelection() || '');
            if (s) window.__copied.push(s); }, true);"""
    )
    page = wrapper.page
    try:
        page.goto(app + "/")
        page.wait_for_selector("#chat-input", timeout=30000)
        page.locator(ANSWER).first.wait_for(timeout=30000)
        page.fill("#chat-input", ENQUIRY)
        page.keyboard.press("Enter")
        draft = page.locator(ANSWER).filter(has_text="ENTWURF").last
        draft.wait_for(timeout=60000)
        answers = page.locator(ANSWER).nth(page.locator(ANSWER).count() - 2).inner_text()
        assert "Wer ist Geschäftsführer" in answers and "Ralf Gust" in answers
        page.wait_for_timeout(500)
        draft.hover()
        draft.locator("button:has(svg.lucide-copy)").first.click()
        page.wait_for_function("() => window.__copied.length > 0", timeout=10000)
        copied = page.evaluate("window.__copied[window.__copied.length - 1]")
        expected = httpx.post(f"{app}/api/ask", json={"question": ENQUIRY}, timeout=60).json()["draft_reply"]
        assert copied.strip() == expected.strip()
        assert copied.startswith("ENTWURF") and "Guten Tag Nora Testfrau," in copied and "Ralf Gust" in copied
    finally:
        wrapper.close()
    database = Path(app_env["DATA_DIR"]) / "chat.db"
    deadline, dump = time.time() + 10, ""
    while time.time() < deadline and "Ingenieurbüro" not in dump:
        dump = "\n".join(str(row) for row in sqlite3.connect(database).execute("SELECT input, output FROM steps"))
        time.sleep(0.3)
    assert "Ingenieurbüro" in dump  # the enquiry was stored ...
    assert "Nora Testfrau" not in dump and "nora.testfrau" not in dump  # ... without its sender
