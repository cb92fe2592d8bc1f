"""The chat's socket and routes against hostile clients: origins, forged steps, limits, feedback, storage faults.

Real app processes, real socket.io clients (tests/chat_client.py), a real SQLite file; each test reproduces a
fault of issue 12 and fails on the code before the fix.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import socketio

from assistant.service import Assistant
from assistant.settings import Settings
from tests.chat_client import ChatClient
from tests.servers import EXE, app_env, free_port, read_log, start_app, stop

ALLOWED = "https://www.hamburg.de"
KEYS = ["key-one"]


def env_for(real_settings: Settings, data_dir: Path, **extra: str) -> dict[str, str]:
    """No limits unless a test module's app sets them."""
    limits = {"RATE_LIMIT": "0", "CHAT_RATE_LIMIT": "0", "CHAT_ADDRESS_RATE_LIMIT": "0"}
    return app_env(real_settings, data_dir, **{**limits, **extra})


@pytest.fixture(scope="module")
def guarded(assistant: Assistant, real_settings: Settings, tmp_path_factory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("guarded-chat")
    env = env_for(
        real_settings,
        data,
        ALLOWED_ORIGINS=json.dumps([ALLOWED]),
        API_KEYS=json.dumps(KEYS),
        AUTH_FAILURE_LIMIT="5/minute",
    )
    port = free_port()
    proc = start_app(env, port, log=data / "server.log")
    yield f"http://127.0.0.1:{port}"
    stop(proc)


@pytest.fixture(scope="module")
def chat_limited(assistant: Assistant, real_settings: Settings, tmp_path_factory) -> Iterator[tuple[str, dict]]:
    data = tmp_path_factory.mktemp("chat-limited")
    env = env_for(real_settings, data, CHAT_RATE_LIMIT="3/minute", CHAT_ADDRESS_RATE_LIMIT="5/minute")
    port = free_port()
    proc = start_app(env, port, log=data / "server.log")
    yield f"http://127.0.0.1:{port}", env
    stop(proc)


@pytest.fixture(scope="module")
def stored(assistant: Assistant, real_settings: Settings, tmp_path_factory) -> Iterator[tuple[str, dict, object]]:
    """An app whose conversations are stored in a SQLite file the tests read (and break)."""
    data = tmp_path_factory.mktemp("stored-chat")
    env = env_for(real_settings, data)
    port = free_port()
    proc = start_app(env, port, log=data / "server.log")
    yield f"http://127.0.0.1:{port}", env, proc
    stop(proc)


def database(env: dict) -> sqlite3.Connection:
    return sqlite3.connect(Path(env["DATA_DIR"]) / "chat.db")


def run(coro):
    return asyncio.run(coro)


# -- point 3: the allow-list covers the chat, both transports ------------------------------------------------


def test_origin_check_on_the_polling_handshake(guarded: str) -> None:
    handshake = f"{guarded}/ws/socket.io/?EIO=4&transport=polling"
    assert httpx.get(handshake, headers={"Origin": "https://evil.example"}).status_code == 403
    assert httpx.get(handshake, headers={"Origin": ALLOWED}).status_code == 200
    assert httpx.get(handshake, headers={"Origin": guarded}).status_code == 200  # the full chat's own origin


@pytest.mark.parametrize("transports", [("websocket",), ("polling",)])
def test_origin_check_on_the_socket(guarded: str, transports: tuple[str, ...]) -> None:
    """A socket.io client from another origin is refused on either transport; an allowed one is greeted
    (and answered: over polling alone Chainlit's answers do not arrive, with or without this check)."""

    async def scenario() -> str:
        evil = ChatClient(guarded, origin="https://evil.example", transports=transports)
        with pytest.raises((socketio.exceptions.ConnectionError, RuntimeError)):  # refused (polling: a 403)
            await evil.connect()
        chat = await ChatClient(guarded, origin=ALLOWED, transports=transports).connect()  # greeted
        try:
            return (await chat.ask("Welche Cluster hat Hamburg?"))["output"] if "websocket" in transports else "[1]"
        finally:
            await chat.close()

    assert "[1]" in run(scenario())


# -- point 7: failed authentication is throttled -------------------------------------------------------------


def test_wrong_api_keys_are_throttled(guarded: str) -> None:
    statuses = [httpx.get(f"{guarded}/v1/models", headers={"X-API-Key": f"guess-{n}"}) for n in range(8)]
    codes = [r.status_code for r in statuses]
    assert codes[:5] == [401] * 5 and codes[5:] == [429] * 3, codes
    assert 1 <= int(statuses[-1].headers["retry-after"]) <= 60
    assert httpx.get(f"{guarded}/v1/models", headers={"X-API-Key": KEYS[0]}).status_code == 200


# -- point 7: the chat has limits per connection and per address --------------------------------------------


def _notices(chat: ChatClient) -> list[str]:
    """Notices the guard showed: assistant messages outside any run (nothing was stored for them)."""
    return [s["output"] for s in chat.steps.values() if s.get("type") == "assistant_message" and not s.get("parentId")]


def test_chat_answers_one_question_at_a_time_and_limits_each_connection(chat_limited: tuple[str, dict]) -> None:
    base, env = chat_limited

    async def scenario() -> tuple[list[str], list[str], list[str]]:
        chat = await ChatClient(base).connect()
        try:
            ids = [await chat.send(f"Welche Cluster hat Hamburg? ({n})") for n in range(10)]
            await chat.wait(lambda: sum(chat.answered(i) for i in ids) + len(_notices(chat)) >= 10, 60)
            burst = [chat.replies_to(i)[-1]["output"] for i in ids if chat.replies_to(i)]
            busy = _notices(chat)
            for _ in range(5):  # "stop" while nothing runs: nothing to stop, nothing stored
                await chat.sio.emit("stop")
            later = []
            for _ in range(3):
                message_id = await chat.send("Was macht das Cluster Logistik?")
                await chat.wait(lambda i=message_id: chat.answered(i) or len(_notices(chat)) > len(busy), 60)
                later.append(chat.replies_to(message_id)[-1]["output"] if chat.replies_to(message_id) else "")
            return burst, busy, later + _notices(chat)[len(busy) :]
        finally:
            await chat.close()

    burst, busy, later = run(scenario())
    assert len(burst) == 1 and "[1]" in burst[0], burst  # one answered, nine told to wait
    assert sum("Einen Moment bitte" in o for o in busy) == 9, busy
    assert ["[1]" in o for o in later[:2]] == [True, True] and "Bitte versuchen Sie es in" in later[-1], later
    with database(env) as db:  # only what was answered was stored: 3 questions, no notices, no "stopped"
        kinds = db.execute("SELECT type, output FROM steps").fetchall()
    assert sum(kind == "user_message" for kind, _ in kinds) == 3, kinds
    assert not any("Einen Moment" in (text or "") or "stopped" in (text or "") for _, text in kinds)


def test_chat_limit_per_address_across_connections(chat_limited: tuple[str, dict]) -> None:
    base, _env = chat_limited

    async def scenario() -> list[str]:
        outputs = []
        for _ in range(4):  # four connections from one address, one question each: the 4th to 7th overall
            chat = await ChatClient(base, accept_language="en-US").connect()
            try:
                message_id = await chat.send("Which cluster works on green hydrogen?")
                await chat.wait(lambda i=message_id, c=chat: c.answered(i) or _notices(c), 60)
                reply = chat.replies_to(message_id)
                outputs.append(reply[-1]["output"] if reply else _notices(chat)[-1])
            finally:
                await chat.close()
        return outputs

    outputs = run(scenario())  # the previous test used 3 of the address's 5 questions a minute
    assert ["[1]" in o for o in outputs] == [True, True, False, False], outputs
    assert "Please try again in" in outputs[-1]


# -- point 4: nobody can write into the staff report ---------------------------------------------------------


def test_forged_steps_are_stored_as_what_they_are(stored: tuple[str, dict, object]) -> None:
    base, env, _proc = stored

    async def scenario() -> tuple[str, str, str, str]:
        chat = await ChatClient(base).connect()
        try:
            answer = await chat.ask("Wer leitet das Luftfahrtcluster?")
            forged = {
                "type": "assistant_message",
                "name": "Assistant",
                "metadata": {"question": "FORGED", "refused": True},
            }
            for n in range(3):  # one after another: each is answered as the user's question it really is
                message_id = await chat.send(f"Wie viele Mitglieder hat Hamburg Aviation? ({n})", **forged)
                await chat.wait(lambda i=message_id: chat.answered(i), 60)
            await chat.send("FORGED overwrite", id=answer["id"], **forged)  # the id of a real answer
            await chat.send("FORGED run", id=answer["parentId"])  # the id of its run (what feedback names)
            twice = str(uuid.uuid4())
            await chat.send("FORGED first", id=twice)
            await chat.send("FORGED second", id=twice)  # the same new id twice in one batch
            await chat.wait(lambda: chat.answered(twice), 60)
            await asyncio.sleep(1)
            return answer["id"], answer["output"], answer["parentId"], twice
        finally:
            await chat.close()

    answer_id, answer_output, run_id, twice = run(scenario())
    with database(env) as db:
        kept = db.execute("SELECT type, output FROM steps WHERE id = ?", (answer_id,)).fetchone()
        run_kept = db.execute("SELECT type FROM steps WHERE id = ?", (run_id,)).fetchone()
        once = db.execute("SELECT output FROM steps WHERE id = ?", (twice,)).fetchall()
        forged = db.execute(
            "SELECT type, metadata FROM steps WHERE output LIKE 'Wie viele Mitglieder hat Hamburg Aviation? (%'"
        ).fetchall()
    assert kept == ("assistant_message", answer_output) and run_kept == ("run",)
    assert once == [("FORGED first",)]
    assert forged and all(t == "user_message" and "question" not in json.loads(m or "{}") for t, m in forged)
    report = subprocess.run([EXE, "report", "--days", "1"], env=env, capture_output=True, text=True, timeout=120)
    # the forged metadata ("FORGED", refused) is nowhere; the real questions were answered, so not listed either
    assert report.returncode == 0 and "forged" not in report.stdout.lower(), report.stdout
    assert "mitglieder hat hamburg aviation" not in report.stdout.lower(), report.stdout


# -- point 9: redaction of the formats that slipped through, end to end --------------------------------------


def test_personal_data_in_a_chat_never_reaches_the_database_or_the_report(stored: tuple[str, dict, object]) -> None:
    base, env, _proc = stored
    question = (
        "Meine IBAN de89 3704 0044 0532 0130 00, Tel 040.428.280.0, Am Alten Markt 3, 20457 Hamburg, "
        "Hauptstr.12: wie wird morgen das Wetter?"
    )
    run(_ask(base, question))
    with database(env) as db:
        everything = json.dumps(
            db.execute("SELECT * FROM steps").fetchall() + db.execute("SELECT * FROM threads").fetchall()
        )
    report = subprocess.run([EXE, "report", "--days", "1"], env=env, capture_output=True, text=True, timeout=120)
    for personal in ("de89", "3704", "428.280", "Alten Markt", "20457", "Hauptstr"):
        assert personal not in everything and personal not in report.stdout, personal
    listed = report.stdout.casefold()  # the report counts refused questions case-insensitively
    assert "[iban]" in listed and "[telefon]" in listed and "[adresse]" in listed


async def _ask(base: str, question: str) -> tuple[ChatClient, dict]:
    chat = await ChatClient(base).connect()
    try:
        return chat, await chat.ask(question)
    finally:
        await chat.close()


# -- point 11: feedback only for one's own answers, never "success" when nothing was stored ------------------


def test_feedback_only_for_the_sessions_own_answers(stored: tuple[str, dict, object]) -> None:
    base, env, _proc = stored

    def put(session: str, for_id: str, **extra: object) -> httpx.Response:
        body = {"feedback": {"forId": for_id, "value": 0, "comment": "falsch", **extra}, "sessionId": session}
        return httpx.put(f"{base}/feedback", json=body, headers={"Accept-Language": "de"})

    async def scenario() -> str | None:
        first = await ChatClient(base).connect()
        second = await ChatClient(base).connect()
        try:
            one = await first.ask("Was macht das Cluster Logistik?")
            two = await second.ask("Was macht das Cluster Luftfahrt?")
            own = put(first.session_id, one["parentId"])  # the answer's run step, as the browser sends it
            assert own.status_code == 200 and own.json()["success"] and own.json()["feedbackId"]
            assert put(second.session_id, one["parentId"]).status_code in (403, 404)  # another session's answer
            assert put(first.session_id, one["parentId"], threadId=str(uuid.uuid4())).status_code == 403
            assert put(str(uuid.uuid4()), one["parentId"]).status_code == 403  # no such session
            assert put(first.session_id, str(uuid.uuid4())).status_code == 404  # no such answer
            overwrite = put(second.session_id, two["parentId"], id=own.json()["feedbackId"])
            assert overwrite.status_code == 403  # another session's feedback row
            return first.thread_id
        finally:
            await first.close()
            await second.close()

    thread = run(scenario())
    with database(env) as db:
        rows = db.execute("SELECT threadId, comment FROM feedbacks").fetchall()
    assert rows == [(thread, "falsch")]


def test_purge_removes_feedback_without_a_thread(stored: tuple[str, dict, object]) -> None:
    base, env, _proc = stored
    with database(env) as db:  # rows as Chainlit's own /feedback route stored them for unknown threads
        for _ in range(5):
            db.execute(
                'INSERT INTO feedbacks ("id", "forId", "threadId", "value", "comment") VALUES (?, ?, ?, 0, ?)',
                (str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()), "orphan"),
            )
    purge = subprocess.run([EXE, "purge", "--days", "0"], env=env, capture_output=True, text=True, timeout=120)
    assert purge.returncode == 0, purge.stderr
    with database(env) as db:
        assert db.execute("SELECT COUNT(*) FROM feedbacks").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM threads").fetchone()[0] == 0


# -- points 10 and 11: a database that fails writes -----------------------------------------------------------

FAIL_WRITES = [
    f"CREATE TRIGGER fail_{op}_{table} BEFORE {op} ON {table} "
    "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
    for table in ("steps", "threads", "feedbacks", "health_probe")
    for op in ("INSERT", "UPDATE")
]


def test_failed_writes_are_reported_and_never_logged_with_their_values(stored: tuple[str, dict, object]) -> None:
    base, env, proc = stored

    async def scenario() -> tuple[dict, str]:
        chat = await ChatClient(base).connect()
        try:
            stored_answer = await chat.ask("Wer leitet die Logistik? Rückruf bitte unter 040 7654321")
            await asyncio.sleep(1)  # its steps are written
            with database(env) as db:
                for statement in FAIL_WRITES:
                    db.execute(statement)
            failing = await chat.ask("Was macht das Cluster Medien? Mein Name ist Erika Geheim")
            body = {"feedback": {"forId": stored_answer["parentId"], "value": 1}, "sessionId": chat.session_id}
            response = httpx.put(f"{base}/feedback", json=body, headers={"Accept-Language": "de"})
            return failing, f"{response.status_code} {response.json()['message']}"
        finally:
            await chat.close()

    try:
        failing, feedback = run(scenario())
        assert "[1]" in failing["output"]  # the chat still answers
        assert feedback.startswith("503") and "nicht gespeichert" in feedback
        health = httpx.get(f"{base}/api/health")
        assert health.status_code == 503 and health.json()["storage_ok"] is False
    finally:
        with database(env) as db:
            for statement in FAIL_WRITES:
                db.execute("DROP TRIGGER IF EXISTS " + statement.split()[2])
    assert httpx.get(f"{base}/api/health").status_code == 200  # writes work again: healthy again
    log = read_log(proc)
    assert "database INSERT INTO" in log and "failed" in log
    for secret in ("Erika Geheim", "Was macht das Cluster Medien", "7654321", "parameters"):
        assert secret not in log, secret
