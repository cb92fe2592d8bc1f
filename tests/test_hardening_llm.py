"""A configured LLM that misbehaves, seen through the running app: nothing uncited reaches a client, one
deadline bounds each answer, and waiting for the LLM blocks nobody else (points 5, 6 and 13 of issue 12)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from assistant.llm import REASONS
from assistant.service import Assistant
from assistant.settings import PROJECT_ROOT, Settings
from tests.chat_client import ChatClient
from tests.fake_llm import FakeLLM, Scenario, start_fake_llm
from tests.servers import free_port, start_app, stop

UNCITED = "Hamburg hat viele Cluster, ohne Beleg."


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLM]:
    fake, server = start_fake_llm()
    yield fake
    server.should_exit = True


@pytest.fixture(scope="module")
def llm_app(assistant: Assistant, real_settings: Settings, fake: FakeLLM, tmp_path_factory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("llm-app")
    prompts = data / "prompts"  # a prompt with braces of its own, as an editor might write one
    shutil.copytree(PROJECT_ROOT / "prompts", prompts)
    answer = prompts / "answer.de.md"
    answer.write_text(answer.read_text(encoding="utf-8") + '\nFormat: {"antwort": "…"}\n', encoding="utf-8")
    env = {
        **os.environ,
        "INDEX_DIR": str(real_settings.index_dir),
        "CORPUS_DIR": str(real_settings.corpus_dir),
        "DATA_DIR": str(data),
        "RATE_LIMIT": "0",
        "CHAT_RATE_LIMIT": "0",
        "LLM_PROVIDER": "openai",
        "LLM_BASE_URL": fake.openai_url,
        "LLM_MODEL": "fake-model",
        "LLM_TIMEOUT": "20",
        "LLM_TOTAL_TIMEOUT": "3",
        "LLM_MAX_RETRIES": "2",
        "ASK_WORKERS": "2",
        "LLM_PROMPTS_DIR": str(prompts),
    }
    port = free_port()
    proc = start_app(env, port, log=data / "server.log")
    yield f"http://127.0.0.1:{port}"
    stop(proc)


@pytest.fixture(autouse=True)
def reset(fake: FakeLLM) -> None:
    fake.scenario = Scenario()
    fake.requests.clear()


def test_a_generated_answer_with_braces_in_the_prompt(llm_app: str, fake: FakeLLM) -> None:
    fake.scenario.text = "Hamburg hat neun Cluster [1]."
    data = httpx.post(f"{llm_app}/api/ask", json={"question": "Welche Cluster hat Hamburg?"}, timeout=30).json()
    assert data["mode"] == "llm" and data["answer"] == "Hamburg hat neun Cluster [1]."
    assert '{"antwort": "…"}' in fake.requests[-1]["messages"][0]["content"]


def test_uncited_text_is_never_streamed_to_an_openai_client(llm_app: str, fake: FakeLLM) -> None:
    """Point 5: the uncited answer was streamed first and the extractive fallback appended after it."""
    fake.scenario.text = UNCITED
    body = {"stream": True, "messages": [{"role": "user", "content": "Welche Cluster hat Hamburg?"}]}
    content, done, final = "", False, {}
    with httpx.stream("POST", f"{llm_app}/v1/chat/completions", json=body, timeout=60) as response:
        for line in response.iter_lines():
            if line == "data: [DONE]":
                done = True
            elif line.startswith("data: "):
                chunk = json.loads(line[6:])
                content += chunk["choices"][0]["delta"].get("content") or ""
                final = chunk
    assert done and "ohne Beleg" not in content and "Luftfahrt" in content and "[1]" in content
    assert final["citations"] and final["refused"] is False


def test_the_stream_is_the_final_answer_when_numbers_change(llm_app: str, fake: FakeLLM) -> None:
    """Citations are renumbered as sentences go out: a stream whose first citation was [2] was sent twice."""
    fake.scenario.text = "Zuerst das hier [2]. Dann das [1]."
    body = {"stream": True, "messages": [{"role": "user", "content": "Welche Cluster hat Hamburg?"}]}
    with httpx.stream("POST", f"{llm_app}/v1/chat/completions", json=body, timeout=60) as response:
        content = "".join(
            json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
            for line in response.iter_lines()
            if line.startswith("data: {")
        )
    assert content.startswith("Zuerst das hier [1]. Dann das [2].") and content.count("Zuerst") == 1, content


def test_uncited_text_is_never_streamed_into_the_chat(llm_app: str, fake: FakeLLM) -> None:
    fake.scenario.text = UNCITED

    async def scenario() -> tuple[dict, dict[str, str]]:
        chat = await ChatClient(llm_app).connect()
        try:
            return await chat.ask("Welche Cluster hat Hamburg?"), chat.tokens
        finally:
            await chat.close()

    reply, tokens = asyncio.run(scenario())
    assert "ohne Beleg" not in reply["output"] and "ohne Beleg" not in "".join(tokens.values())
    assert "Luftfahrt" in reply["output"]


@pytest.mark.parametrize("scenario", [Scenario(mode="hang", hang_seconds=30), Scenario(mode="drip", hang_seconds=2)])
def test_one_deadline_for_the_whole_answer(llm_app: str, fake: FakeLLM, scenario: Scenario) -> None:
    """Point 6: with history and retries, an endpoint that sleeps 30 s took 81 s, one that drips 120 s."""
    fake.scenario = scenario
    body = {"question": "Und was macht das Cluster Logistik?", "history": ["Welche Cluster hat Hamburg?"]}
    started = time.monotonic()
    data = httpx.post(f"{llm_app}/api/ask", json=body, timeout=120).json()
    elapsed = time.monotonic() - started
    assert data["mode"] == "extractive" and data["fallback_reason"] == "timeout" and data["citations"]
    assert elapsed < 6, elapsed  # LLM_TOTAL_TIMEOUT=3 s, rewrite and retries included


def test_a_slow_llm_blocks_nobody_else(llm_app: str, fake: FakeLLM) -> None:
    """Point 6: six concurrent questions to a hanging LLM with ASK_WORKERS=2 took up to 121 s, and every
    other question waited behind them."""
    fake.scenario = Scenario(mode="hang", hang_seconds=30)

    def ask(question: str) -> tuple[float, dict]:
        started = time.monotonic()
        data = httpx.post(f"{llm_app}/api/ask", json={"question": question}, timeout=120).json()
        return time.monotonic() - started, data

    with ThreadPoolExecutor(8) as pool:
        slow = [pool.submit(ask, "Welche Cluster hat Hamburg?") for _ in range(6)]
        time.sleep(0.5)  # all six are waiting for the LLM now
        quick = pool.submit(ask, "Hallo!").result()
        answers = [f.result() for f in slow]
    assert quick[1]["mode"] == "smalltalk" and quick[0] < 1.5, quick
    assert all(data["mode"] == "extractive" and data["citations"] for _, data in answers)
    assert max(elapsed for elapsed, _ in answers) < 8, [round(e, 1) for e, _ in answers]


@pytest.mark.parametrize("mode", ["http500", "malformed", "empty", "answer"])
def test_fallback_reasons_are_codes(llm_app: str, fake: FakeLLM, mode: str) -> None:
    """Point 13: fallback_reason exposed exception class names ("provider error: InternalServerError: …")."""
    fake.scenario = Scenario(mode=mode, text="Ohne Beleg." if mode == "answer" else "Hamburg hat neun Cluster [1].")
    data = httpx.post(f"{llm_app}/api/ask", json={"question": "Welche Cluster hat Hamburg?"}, timeout=60).json()
    assert data["mode"] == "extractive" and data["fallback_reason"] in REASONS, data["fallback_reason"]
