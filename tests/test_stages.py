"""Each stage of an answer on its own, with a fake embedder and small data instead of the real model and index."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.embeddings import Embedder
from assistant.glossary import load_glossary
from assistant.messages import PROMPTS_DIR
from assistant.prepare import Preparer
from assistant.retrieval import RetrievalResult
from assistant.scope import OutOfScopeExamples, ScopeGate, Vocabulary
from assistant.settings import PROJECT_ROOT, Settings
from assistant.smalltalk import load_smalltalk
from assistant.turn import Query, Turn
from assistant.understand import Understander
from tests.fake_embedder import HashEmbedder

TEXTS = [
    "Das Luftfahrtcluster Hamburg Aviation wurde 2011 gegründet und hat viele Mitglieder.",
    "The logistics cluster is run by the Logistik-Initiative Hamburg, a public-private partnership.",
    "Welche Cluster gibt es? Neun Cluster bündeln Unternehmen und Forschung.",
]


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(_env_file=None)


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary(TEXTS)


@pytest.fixture(scope="module")
def prepare(settings: Settings, vocabulary: Vocabulary) -> Preparer:
    return Preparer(settings, load_smalltalk(PROMPTS_DIR / "smalltalk.yaml"), vocabulary)


@pytest.fixture(scope="module")
def understand(settings: Settings, vocabulary: Vocabulary) -> Understander:
    glossary = load_glossary(PROJECT_ROOT / "corpus" / "glossary.yaml").knowing(vocabulary.is_word)
    return Understander(settings, glossary, vocabulary, HashEmbedder())


def test_the_fake_embedder_is_an_embedder() -> None:
    fake = HashEmbedder()
    assert isinstance(fake, Embedder)
    same = fake.embed_query_vector("Luftfahrt Hamburg") @ fake.embed_query_vector("luftfahrt hamburg")
    assert same == pytest.approx(1.0)


def test_prepare_answers_small_talk_and_empty_input_itself(prepare: Preparer) -> None:
    hello = prepare("Moin!", [])
    assert hello.reply is not None and hello.reply.smalltalk and not hello.reply.refused
    assert hello.reply.mode == "smalltalk" and hello.lang == "de"
    empty = prepare("  ???  ", [])
    assert empty.reply is not None and empty.reply.refused and not empty.reply.smalltalk


def test_prepare_cleans_cuts_and_keeps_only_real_history(prepare: Preparer, settings: Settings) -> None:
    turn = prepare("<b>Wer</b> leitet\u200b das\x85 Cluster? " + "x" * (settings.max_question_chars + 10), ["Danke!"])
    assert turn.reply is None and turn.question.startswith("Wer leitet das Cluster?")
    assert len(turn.question) <= settings.max_question_chars and turn.notes  # the user is told it was cut
    assert turn.history == []  # "Danke!" is no context
    many = prepare("Und wann?", [f"Frage {n} zur Luftfahrt?" for n in range(10)])
    assert len(many.history) == settings.history_turns


def test_prepare_asks_the_previous_question_again_in_the_other_language(prepare: Preparer) -> None:
    turn = prepare("in english please", ["Wer leitet das Luftfahrtcluster?"])
    assert turn.redo == ("Wer leitet das Luftfahrtcluster?", [], "en")


def test_understand_carries_the_cluster_of_a_follow_up(understand: Understander) -> None:
    turn = understand(Turn(question="Wann wurde es gegründet?", history=["Was macht das Luftfahrtcluster?"], lang="de"))
    assert turn.query is not None
    assert turn.query.topics == [] and turn.query.carried == ["aviation"]
    assert "Luftfahrtcluster" in turn.query.keyword_text  # the previous question joins the keyword search
    assert not np.allclose(turn.query.search_vector, turn.query.query_vector)


def test_understand_completes_an_elliptical_follow_up(understand: Understander) -> None:
    turn = understand(Turn(question="what about logistics?", history=["Who runs the aviation cluster?"], lang="en"))
    assert turn.query is not None and turn.query.topics == ["logistics"]
    assert turn.query.searchable == "who runs the logistics cluster?"
    listing = understand(Turn(question="Welche Cluster gibt es?", history=[], lang="de"))
    assert listing.query is not None and listing.query.enumeration and listing.query.search_topics == ["policy"]


def _gated(
    settings: Settings, vocabulary: Vocabulary, best: float, off_topic_text: str, question: str, in_domain: bool
):
    fake = HashEmbedder()
    examples = OutOfScopeExamples([off_topic_text], fake.embed_query_vector)
    vector = fake.embed_query_vector(question)
    turn = Turn(question=question, history=[], lang="de")
    turn.query = Query(question, question, [], [], [], vector, vector, vector, False, in_domain)
    turn.found = RetrievalResult(passages=[object()], best_cosine=best, best_bm25=1.0)  # type: ignore[list-item]
    return ScopeGate(settings, vocabulary, examples)(turn).gate


def test_gate_weighs_unknown_words_and_out_of_scope_examples(settings: Settings, vocabulary: Vocabulary) -> None:
    known = _gated(
        settings, vocabulary, settings.min_relevance + 0.01, "Regnet es heute?", "Luftfahrtcluster Mitglieder", False
    )
    assert known is not None and not known.refused and known.unknown_share == 0
    unknown = _gated(
        settings, vocabulary, settings.min_relevance + 0.01, "Regnet es heute?", "Quarkstrudel Rezept", False
    )
    assert unknown is not None and unknown.refused and unknown.unknown_share == 1.0
    named = _gated(settings, vocabulary, settings.min_relevance + 0.01, "Regnet es heute?", "Quarkstrudel Rezept", True)
    assert named is not None and named.required < unknown.required  # a named cluster halves the penalty
    example = _gated(settings, vocabulary, 0.5, "Regnet es morgen in Hamburg?", "Regnet es morgen in Hamburg?", True)
    assert example is not None and example.refused and example.off_topic == pytest.approx(1.0)
