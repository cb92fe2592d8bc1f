"""The security headers over real HTTP: a tiny Starlette app behind the middleware, served by its test client."""

from __future__ import annotations

import base64
import gzip
import hashlib

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from assistant.schema import AskResult, CitationOut, answer_markdown
from assistant.security_headers import SecurityHeaders, script_hashes

PAGE = "<html><head><script>window.x = 1;</script><script src='/a.js'></script></head><body>" + "y" * 2000 + "</body>"


def _client(frame_ancestors: list[str]) -> TestClient:
    app = Starlette(
        routes=[
            Route("/", lambda r: HTMLResponse(PAGE)),
            Route("/api", lambda r: JSONResponse({"ok": True})),
        ],
        middleware=[Middleware(SecurityHeaders, frame_ancestors=frame_ancestors), Middleware(GZipMiddleware)],
    )
    return TestClient(app)


def test_page_policy_allows_exactly_its_own_inline_scripts_also_when_compressed() -> None:
    expected = "'sha256-" + base64.b64encode(hashlib.sha256(b"window.x = 1;").digest()).decode() + "'"
    for encoding in ("gzip", "identity"):
        response = _client(["'self'", "https://www.hamburg.de"]).get("/", headers={"Accept-Encoding": encoding})
        policy = response.headers["content-security-policy"]
        assert f"script-src 'self' {expected};" in policy  # the external script needs no hash
        assert "default-src 'self'" in policy and "frame-ancestors 'self' https://www.hamburg.de" in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.text == PAGE  # the body passes unchanged


def test_other_responses_get_the_policy_without_hashes_and_no_framing_when_none_allowed() -> None:
    response = _client([]).get("/api")
    assert response.json() == {"ok": True}
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "sha256" not in response.headers["content-security-policy"]


def test_script_hashes_read_only_inline_scripts() -> None:
    assert script_hashes(b"<script src='x.js'></script>") == []
    assert len(script_hashes(gzip.decompress(gzip.compress(b"<script>a</script><SCRIPT type=module>b</SCRIPT>")))) == 2


def test_markdown_images_in_an_answer_are_shown_as_text() -> None:
    cited = CitationOut(n=1, doc_id="d", title="T", topic="t", lang="de", url="https://example.org/t", text="x")
    result = AskResult(
        answer="Seht ![Bild](http://other.example/b.png) hier [1].", language="de", refused=False, citations=[cited]
    )
    text = answer_markdown(result)
    assert "![" not in text and "!\\[Bild]" in text
