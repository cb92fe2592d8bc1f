"""The `assistant` console script as a user runs it: index, ask --json, eval."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.service import Assistant
from assistant.settings import Settings

EXE = str(Path(sys.executable).parent / "assistant")


@pytest.fixture(scope="module")
def env(assistant: Assistant, real_settings: Settings) -> dict[str, str]:
    """Environment pointing the CLI at the session's already built index."""
    return {**os.environ, "INDEX_DIR": str(real_settings.index_dir), "CORPUS_DIR": str(real_settings.corpus_dir)}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], capture_output=True, text=True, env=env, timeout=300)


def test_index_reports_nothing_to_do(env: dict[str, str]) -> None:
    result = run(env, "index")
    assert result.returncode == 0, result.stderr
    assert "0 added" in result.stderr and "0 removed" in result.stderr


def test_ask_json(env: dict[str, str]) -> None:
    result = run(env, "ask", "--json", "Welche Cluster hat Hamburg?")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["language"] == "de" and data["refused"] is False and data["citations"]
    assert "Luftfahrt" in data["answer"] and "more" in data and "notes" in data  # the list's labels answer
    text = run(env, "ask", "Welche Cluster hat Hamburg?").stdout
    assert "Mehr dazu:" in text and text.index("Luftfahrt") < text.index("Mehr dazu:") < text.index("Quellen:")
    refused = json.loads(run(env, "ask", "--json", "Wie wird das Wetter morgen?").stdout)
    assert refused["refused"] is True and refused["citations"] == []


def test_ask_with_history_and_text_output(env: dict[str, str]) -> None:
    result = run(
        env, "ask", "--history", "What is the Life Sciences cluster about?", "Is there anything digital in it?"
    )
    assert result.returncode == 0, result.stderr
    assert "Sources:" in result.stdout and "[1]" in result.stdout and "https://" in result.stdout


def test_eval_writes_report(env: dict[str, str], tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        "\n".join(
            json.dumps(q)
            for q in [
                {
                    "id": "a",
                    "lang": "en",
                    "question": "Which cluster works on green hydrogen?",
                    "kind": "factual",
                    "expected_topics": ["renewable_energy"],
                    "must_mention": ["hydrogen"],
                },
                {
                    "id": "b",
                    "lang": "de",
                    "question": "Wie wird das Wetter morgen?",
                    "kind": "out_of_scope",
                    "expected_topics": [],
                    "must_mention": [],
                },
            ]
        ),
        encoding="utf-8",
    )
    report = tmp_path / "report.json"
    result = run(env, "eval", str(questions), "--out", str(report))
    assert result.returncode == 0, result.stderr
    assert "hit@3" in result.stdout and "overall" in result.stdout
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["metrics"]["overall"]["hit@3"] == 1.0 and data["metrics"]["overall"]["refusal_recall"] == 1.0
    assert [r["id"] for r in data["results"]] == ["a", "b"] and "citations" in data["results"][0]["result"]


def test_bad_eval_file_is_a_clear_error(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    result = run(env, "eval", str(bad))
    assert result.returncode == 2 and "missing field" in result.stderr and "Traceback" not in result.stderr
