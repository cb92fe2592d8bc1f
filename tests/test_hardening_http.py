"""Hostile and careless HTTP clients against the running app: nothing freezes it, nothing gets a 500.

Each test reproduces a fault found by probing the server (issue 12) and fails on the code before the fix.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import string
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.service import Assistant
from assistant.settings import Settings
from tests.chat_client import ChatClient
from tests.servers import EXE, app_env, free_port, start_app, stop

random.seed(12)
ADVERSARIAL = {
    "combining marks": "a" + "\u0301" * 1999,
    "CJK": "".join(chr(random.randint(0x4E00, 0x9FFF)) for _ in range(2000)),
    "random letters": " ".join("".join(random.choices(string.ascii_lowercase, k=8)) for _ in range(222))[:2000],
    "real words": " ".join(random.choice(["Hafen", "Luftfahrt", "Wasserstoff", "Logistik"]) for _ in range(200))[:2000],
    "one long word": "x" * 2000,
    "full stops": "." * 1999 + "?",  # the closing-phrase pattern for small talk was tried at every position
    "open quotes": "„Hafen" * 333,  # so was every unclosed quote
}


@pytest.fixture(scope="module")
def open_app(assistant: Assistant, real_settings: Settings, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """No limits; PROJECT is set in its environment (Chainlit would read it as its configuration)."""
    data = tmp_path_factory.mktemp("open-data")
    env = app_env(real_settings, data, RATE_LIMIT="0", FEEDBACK_RATE_LIMIT="0", PROJECT="cluster-assistant")
    port = free_port()
    proc = start_app(env, port, log=data / "server.log")
    yield f"http://127.0.0.1:{port}", data
    stop(proc)


@pytest.fixture(scope="module")
def limited_app(assistant: Assistant, real_settings: Settings, tmp_path_factory) -> Iterator[str]:
    """No API keys, 3 requests a minute per client, and no proxy configured (the default)."""
    data = tmp_path_factory.mktemp("limited-data")
    port = free_port()
    proc = start_app(app_env(real_settings, data, RATE_LIMIT="3/minute"), port, log=data / "server.log")
    yield f"http://127.0.0.1:{port}"
    stop(proc)


@pytest.fixture(scope="module")
def proxied_app(assistant: Assistant, real_settings: Settings, tmp_path_factory) -> Iterator[str]:
    """As limited_app, behind a reverse proxy at 127.0.0.2 (FORWARDED_ALLOW_IPS)."""
    data = tmp_path_factory.mktemp("proxied-data")
    env = app_env(real_settings, data, RATE_LIMIT="3/minute", FORWARDED_ALLOW_IPS="127.0.0.2")
    port = free_port()
    proc = start_app(env, port, log=data / "server.log")
    yield f"http://127.0.0.1:{port}"
    stop(proc)


class HealthWatch:
    """Polls /api/health every 100 ms in a thread and records each response time."""

    def __init__(self, base: str) -> None:
        self.base, self.times, self.failures = base, [], []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    status = client.get(f"{self.base}/api/health").status_code
                    if status != 200:
                        self.failures.append(status)
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                self.times.append(time.monotonic() - started)
                time.sleep(0.1)

    def __enter__(self) -> HealthWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)


def test_oversized_inputs_do_not_freeze_the_server(open_app: tuple[str, Path]) -> None:
    """Point 1: a 5 MB and a 160,000-character feedback comment, 1 MB and 80,000-character chat messages;
    /api/health answers within 1 s all the while, and the oversized requests are refused or cut."""
    base, data = open_app
    statuses: dict[str, int | str] = {}

    async def oversized_chat() -> str:
        big = ChatClient(base)
        await big.connect()
        try:  # over the socket's message limit: the server closes the connection instead of reading it
            await big.send("Luftfahrt " * 100_000)
            await asyncio.sleep(2)
            statuses["chat 1 MB"] = "connected" if big.sio.connected else "closed"
        finally:
            if big.sio.connected:
                await big.close()
        chat = await ChatClient(base).connect()
        try:  # within the socket limit but far over MAX_QUESTION_CHARS: cut, and the user is told
            return (await chat.ask("Wer leitet das Luftfahrtcluster? " + "Luftfahrt " * 6_000))["output"]
        finally:
            await chat.close()

    with HealthWatch(base) as watch:
        for name, size in (("feedback 5 MB", 5_000_000), ("feedback 160k chars", 160_000)):
            body = json.dumps({"feedback": {"forId": "x", "value": 0, "comment": "a" * size}, "sessionId": "s"})
            statuses[name] = httpx.put(f"{base}/feedback", content=body, timeout=60).status_code
        answer = asyncio.run(oversized_chat())
    assert statuses["feedback 5 MB"] == 413 and statuses["feedback 160k chars"] == 413, statuses
    assert statuses["chat 1 MB"] == "closed", statuses
    assert "2000" in answer  # "… I only used its first 2000 characters"
    with sqlite3.connect(data / "chat.db") as db:  # stored as cut, not as sent
        longest = db.execute("SELECT MAX(LENGTH(output)) FROM steps WHERE type = 'user_message'").fetchone()[0]
    assert longest <= 2000
    assert watch.times and max(watch.times) < 1.0 and not watch.failures, (max(watch.times), watch.failures)


def test_a_long_comment_within_the_body_limit_is_refused_with_a_message(open_app: tuple[str, Path]) -> None:
    base, _ = open_app
    body = {"feedback": {"forId": "x", "value": 0, "comment": "a" * 5000}, "sessionId": "s"}
    response = httpx.put(f"{base}/feedback", json=body, headers={"Accept-Language": "de"})
    assert response.status_code == 422 and "höchstens 2000 Zeichen" in response.json()["message"]


@pytest.mark.parametrize("kind", sorted(ADVERSARIAL))
def test_adversarial_questions_cost_about_as_much_as_normal_ones(open_app: tuple[str, Path], kind: str) -> None:
    """Point 2: 2,000 characters of combining marks, CJK or random letters took 4-10 s; now a few normal ones."""
    base, _ = open_app
    for history in ([], ["Welche Cluster hat Hamburg?", ADVERSARIAL[kind]]):
        response = httpx.post(f"{base}/api/ask", json={"question": ADVERSARIAL[kind], "history": history}, timeout=60)
        assert response.status_code == 200, response.text
        assert response.json()["timings_ms"]["total"] < 1500, (kind, response.json()["timings_ms"])


SURROGATE = '"Was ist \\ud800 Clusterpolitik?"'  # a lone surrogate, valid JSON, no valid UTF-8


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/ask", f'{{"question": {SURROGATE}}}'),
        ("/api/ask", f'{{"question": "Was ist Clusterpolitik?", "history": [{SURROGATE}]}}'),
        ("/v1/chat/completions", f'{{"messages": [{{"role": "user", "content": {SURROGATE}}}]}}'),
        ("/v1/chat/completions", f'{{"stream": true, "messages": [{{"role": "user", "content": {SURROGATE}}}]}}'),
        (
            "/v1/chat/completions",
            f'{{"messages": [{{"role": "user", "content": [{{"type": "text", "text": {SURROGATE}}}]}}]}}',
        ),
        ("/v1/chat/completions", '{"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]}'),
        ("/v1/chat/completions", '{"messages": [{"role": "user", "content": ["just a string part"]}]}'),
    ],
)
def test_lone_surrogates_and_odd_content_parts_get_a_4xx(open_app: tuple[str, Path], path: str, body: str) -> None:
    """Point 8: these gave 500 (or, streamed, 200 and a stream without [DONE])."""
    base, _ = open_app
    response = httpx.post(f"{base}{path}", content=body, headers={"content-type": "application/json"}, timeout=30)
    assert 400 <= response.status_code < 500, response.text
    assert {"detail", "message"} <= set(response.json())


# any code point, lone surrogates often (they are rare among all code points)
CHARACTERS = st.characters(exclude_categories=())
TEXTS = st.text(st.one_of(CHARACTERS, st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)), max_size=40)
PARTS = st.lists(
    st.one_of(
        st.fixed_dictionaries({"type": st.just("text"), "text": st.one_of(TEXTS, st.integers(), st.none())}),
        st.dictionaries(st.text(max_size=5), st.one_of(TEXTS, st.integers()), max_size=3),
        TEXTS,
    ),
    max_size=3,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    question=TEXTS,
    history=st.lists(TEXTS, max_size=3),
    content=st.one_of(TEXTS, PARTS),
    stream=st.booleans(),
)
def test_fuzzing_with_surrogates_and_content_parts(
    open_app: tuple[str, Path], question: str, history: list[str], content, stream: bool
) -> None:
    """The kinds of input the schema fuzzer did not generate: any code point, any shape of content part."""
    base, _ = open_app
    headers = {"content-type": "application/json"}
    with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
        ask = client.post("/api/ask", content=json.dumps({"question": question, "history": history}))
        assert ask.status_code < 500, ask.text
        chat = client.post(
            "/v1/chat/completions",
            content=json.dumps({"stream": stream, "messages": [{"role": "user", "content": content}]}),
        )
        assert chat.status_code < 500, chat.text
        if chat.status_code == 200 and stream:
            assert chat.text.rstrip().endswith("data: [DONE]")


def test_bodies_over_the_limit_get_413_before_they_are_read(open_app: tuple[str, Path]) -> None:
    """Point 13: a chunked body over MAX_BODY_BYTES got 400; a 200 MB upload was read completely first."""
    base, _ = open_app

    def chunks(total: int, size: int = 65536) -> Iterator[bytes]:
        for _ in range(total // size):
            yield b"a" * size

    chunked = httpx.post(f"{base}/api/ask", content=chunks(1_000_000), headers={"content-type": "application/json"})
    assert chunked.status_code == 413 and "too large" in chunked.json()["message"]
    started = time.monotonic()
    try:
        upload = httpx.post(
            f"{base}/project/file?session_id=x",
            content=chunks(200_000_000),
            headers={"content-type": "multipart/form-data; boundary=x"},
            timeout=60,
        )
        status = upload.status_code
    except httpx.HTTPError:  # the server answered 413 and closed the connection while we were still sending
        status = 413
    assert status == 413 and time.monotonic() - started < 20


def test_health_head_and_theme_without_the_host_header(open_app: tuple[str, Path]) -> None:
    """Point 13: HEAD /api/health gave 405; /public/theme.json reflected the Host header."""
    base, _ = open_app
    assert httpx.head(f"{base}/api/health").status_code == 200
    theme = httpx.get(f"{base}/public/theme.json", headers={"Host": "evil.example"})
    assert theme.status_code == 200 and "evil.example" not in theme.text
    # a font entry must exist (without one the widget links Google Fonts) and must load nothing from any host
    assert theme.json()["custom_fonts"] and all(f.startswith("data:text/css") for f in theme.json()["custom_fonts"])


def test_environment_and_logs_stay_clean(open_app: tuple[str, Path]) -> None:
    """Point 13: PROJECT in the environment crashed the start with a traceback; every answer logged
    "create_element error"."""
    base, data = open_app
    answer = httpx.post(f"{base}/api/ask", json={"question": "Was macht das Cluster Logistik?"}, timeout=30)
    assert answer.status_code == 200

    async def chat() -> None:
        client = await ChatClient(base).connect()
        await client.ask("Was macht das Cluster Logistik?")
        await client.close()

    asyncio.run(chat())
    log = (data / "server.log").read_text(encoding="utf-8")
    assert "ignoring the environment variable PROJECT" in log
    assert "create_element" not in log and "Traceback" not in log


@pytest.mark.parametrize(("name", "value"), [("RETENTION_DAYS", "0"), ("RATE_LIMIT", "lots"), ("PORT", "x")])
def test_an_invalid_setting_is_one_line(real_settings: Settings, tmp_path: Path, name: str, value: str) -> None:
    env = app_env(real_settings, tmp_path, **{name: value})
    result = subprocess.run([EXE, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"invalid setting {name}" in lines[0], result.stderr


def test_spoofed_forwarded_for_does_not_escape_the_limit(limited_app: str) -> None:
    """Point 7: X-Forwarded-For from 127.0.0.1 (not a listed proxy) bypassed the per-client limit."""
    statuses = [
        httpx.get(f"{limited_app}/v1/models", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(6)
    ]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429, 429], statuses


def test_clients_behind_a_listed_proxy_have_their_own_limits(proxied_app: str) -> None:
    """Point 7: behind a proxy at another address all clients shared one bucket (FORWARDED_ALLOW_IPS lists it)."""
    proxy = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), base_url=proxied_app)
    with proxy:
        first = [proxy.get("/v1/models", headers={"X-Forwarded-For": "198.51.100.1"}).status_code for _ in range(4)]
        second = proxy.get("/v1/models", headers={"X-Forwarded-For": "198.51.100.2"}).status_code
    assert first == [200, 200, 200, 429] and second == 200, (first, second)
    spoofed = [httpx.get(f"{proxied_app}/v1/models", headers={"X-Forwarded-For": "198.51.100.3"}) for _ in range(4)]
    assert [r.status_code for r in spoofed] == [200, 200, 200, 429]  # 127.0.0.1 is no listed proxy: its own bucket
