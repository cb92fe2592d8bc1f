"""The metric definitions, checked on a small hand-made report whose figures are known."""

from __future__ import annotations

import pytest

from assistant.evaluation import answer_sentences, breakdown, compute_metrics, percentile


def record(kind: str, lang: str, result: dict, expected=(), mention=(), latency: float = 10.0) -> dict:
    return {
        "id": kind,
        "kind": kind,
        "lang": lang,
        "question": "q",
        "expected_topics": list(expected),
        "must_mention": list(mention),
        "result": result,
        "latency_ms": latency,
    }


def cit(n: int, topic: str) -> dict:
    return {"n": n, "topic": topic, "doc_id": "d", "title": "t", "lang": "de", "url": "https://x.org", "text": "x"}


RECORDS = [
    # answerable, hit at rank 2, both phrases found (one after Unicode normalisation), 2 sentences both cited
    record(
        "factual",
        "de",
        {
            "answer": "Es gibt neun Cluster [1]. Die Luftfahrt gehört dazu [2].",
            "language": "de",
            "refused": False,
            "citations": [cit(1, "policy"), cit(2, "aviation")],
        },
        expected=["aviation"],
        mention=["NEUN", "Luftfahrt"],
        latency=10,
    ),
    # answerable, only hit at rank 4 (miss for k=3), one of two phrases, one of two sentences cited, wrong language
    record(
        "factual",
        "en",
        {
            "answer": "Hydrogen is a focus [1]. It matters.",
            "language": "de",
            "refused": False,
            "citations": [cit(1, "policy"), cit(2, "policy"), cit(3, "food"), cit(4, "renewable_energy")],
        },
        expected=["renewable_energy"],
        mention=["hydrogen", "wind"],
        latency=20,
    ),
    # answerable but refused: a false refusal, counts as a miss and its phrase as not found
    record(
        "follow_up",
        "en",
        {"answer": "Sorry.", "language": "en", "refused": True, "citations": []},
        expected=["logistics"],
        mention=["automation"],
        latency=30,
    ),
    # out of scope, refused correctly; an invalid citation number elsewhere would not count
    record(
        "out_of_scope",
        "de",
        {"answer": "Dazu finde ich nichts.", "language": "de", "refused": True, "citations": []},
        latency=40,
    ),
    # out of scope, answered (missed refusal); its sentence cites [9], which names no passage
    record(
        "out_of_scope",
        "en",
        {"answer": "Munich has clusters [9].", "language": "en", "refused": False, "citations": [cit(1, "policy")]},
        latency=1000,
    ),
]


def test_metrics_on_hand_made_report() -> None:
    m = compute_metrics(RECORDS, k=3)
    assert m["n"] == 5
    assert m["hit@3"] == pytest.approx(1 / 3)  # answerable: 3; hit only in the first
    assert m["mention"] == pytest.approx(3 / 5)  # phrases: NEUN, Luftfahrt, hydrogen found; wind, automation not
    assert m["refusal_recall"] == pytest.approx(1 / 2)
    assert m["false_refusal"] == pytest.approx(1 / 3)
    assert m["language"] == pytest.approx(4 / 5)
    assert m["cited"] == pytest.approx(3 / 5)  # sentences of non-refused answers: 2 + 2 + 1; cited: 2 + 1 + 0
    assert m["p50_ms"] == 30 and m["p95_ms"] == 1000


def test_hit_at_k_depends_on_k() -> None:
    assert compute_metrics(RECORDS, k=4)["hit@4"] == pytest.approx(2 / 3)


def test_breakdown_per_kind_and_language() -> None:
    table = breakdown(RECORDS)
    assert set(table) == {"overall", "kind=factual", "kind=follow_up", "kind=out_of_scope", "lang=de", "lang=en"}
    assert table["kind=out_of_scope"]["hit@3"] is None and table["kind=out_of_scope"]["refusal_recall"] == 0.5
    assert table["lang=de"]["n"] == 2


def test_answer_sentences_split_lines_and_sentences() -> None:
    answer = "Lead [1]:\n- Item one [1].\n- Item two. Second sentence [2].\n\nParagraph, z. B. mit Abkürzung [3]."
    assert answer_sentences(answer) == [
        "Lead [1]:",
        "Item one [1].",
        "Item two.",
        "Second sentence [2].",
        "Paragraph, z. B. mit Abkürzung [3].",
    ]


def test_percentile_nearest_rank() -> None:
    assert percentile([5, 1, 3, 2, 4], 50) == 3 and percentile([5, 1, 3, 2, 4], 95) == 5
    assert percentile([], 50) is None


def test_parts_follow_the_committed_split(tmp_path) -> None:
    import json

    from assistant.evaluation import select_part

    split = tmp_path / "split.json"
    split.write_text(json.dumps({"sets": {"mine.jsonl": {"test": ["b", "d"]}}}), encoding="utf-8")
    questions = [{"id": i} for i in "abcde"]
    assert [q["id"] for q in select_part(questions, "mine.jsonl", "test", split)] == ["b", "d"]
    assert [q["id"] for q in select_part(questions, "mine.jsonl", "tuning", split)] == ["a", "c", "e"]
    assert len(select_part(questions, "mine.jsonl", "all", split)) == 5
    with pytest.raises(ValueError, match="no split"):
        select_part(questions, "other.jsonl", "test", split)
    with pytest.raises(ValueError, match="unknown part"):
        select_part(questions, "mine.jsonl", "half", split)


def test_split_draws_a_share_of_every_kind_reproducibly() -> None:
    import importlib.util

    from assistant.settings import PROJECT_ROOT

    spec = importlib.util.spec_from_file_location("split", PROJECT_ROOT / "eval" / "split.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    questions = [{"id": f"{kind}{n}", "kind": kind} for kind in ("x", "y") for n in range(10)]
    test = module.draw(questions, 0.35, 5)
    assert test == module.draw(questions, 0.35, 5)
    assert sum(i.startswith("x") for i in test) == 4 and sum(i.startswith("y") for i in test) == 4


def test_committed_split_covers_a_third_of_every_set() -> None:
    """Every set has a test part of at least 30 %, drawn once; a set missing from the split is an error."""
    import json

    from assistant.evaluation import SPLIT_FILE, load_questions, question_sets

    sets = json.loads(SPLIT_FILE.read_text(encoding="utf-8"))["sets"]
    for path in question_sets():
        ids = {q["id"] for q in load_questions(path)}
        test = set(sets[path.name]["test"])
        assert test <= ids, path.name
        assert len(test) >= 0.3 * len(ids), path.name
