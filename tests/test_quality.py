"""Answer quality on every question set may not fall below the committed thresholds (eval/thresholds.json).

The thresholds sit a little below the figures in docs/quality.md, so a change that makes answers worse fails
here; the question files themselves are checked against the corpus by eval/validate_questions.py.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from assistant.evaluation import question_sets
from assistant.settings import PROJECT_ROOT

EVAL = PROJECT_ROOT / "eval"


def _report_module():
    spec = importlib.util.spec_from_file_location("report", EVAL / "report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", question_sets(), ids=lambda p: p.name)
def test_question_set_is_valid(path) -> None:
    done = subprocess.run(
        [sys.executable, str(EVAL / "validate_questions.py"), str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:]


def test_quality_at_least_the_thresholds(assistant) -> None:
    report = _report_module()
    figures = report.score(lambda q, h: assistant.ask(q, h).model_dump())
    thresholds = json.loads((EVAL / "thresholds.json").read_text(encoding="utf-8"))
    assert set(thresholds["sets"]) >= {"questions.jsonl", "conversation.jsonl", "fresh.jsonl"}
    print(report.table(figures))
    assert report.failures(figures, thresholds) == []


def test_thresholds_check_fails_on_a_worse_figure() -> None:
    report = _report_module()
    figures = {"a.jsonl": {"test": {"mention": 0.8, "false_refusal": 0.1}}}
    limits = {"sets": {"a.jsonl": {"test": {"mention": 0.85, "false_refusal": 0.05}}}}
    assert len(report.failures(figures, limits)) == 2
    assert report.failures(figures, {"sets": {"a.jsonl": {"test": {"mention": 0.8}}}}) == []


def test_out_of_scope_examples_are_no_copies_of_evaluation_questions() -> None:
    done = subprocess.run(
        [sys.executable, str(EVAL / "check_examples.py")], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:]


def test_no_evaluation_question_is_quoted_in_code_tests_or_data() -> None:
    """Tests use their own small examples, and code and data never carry an evaluation question."""
    from assistant.evaluation import load_questions

    questions = {q["question"].casefold().rstrip("?!. ") for p in question_sets() for q in load_questions(p)}
    questions = {q for q in questions if len(q) > 12}
    root = PROJECT_ROOT
    files = [*root.glob("assistant/*.py"), *root.glob("tests/*.py"), *root.glob("bench/*.py"), root / "app.py"]
    files += [*root.glob("corpus/*.yaml"), *root.glob("prompts/*.yaml"), *root.glob("prompts/*.md")]
    quoted = [
        f"{path.name}: {q}" for path in files for q in questions if q in path.read_text(encoding="utf-8").casefold()
    ]
    assert quoted == []
