"""The server's shared embedder (team/encoder.py): questions asked at once are encoded
together, each gets its own vector, and nothing is remembered across users."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from team.encoder import BatchingEmbedder, UserQueries

QUESTIONS = [f"what does clause {i} say about the {w}?" for i, w in
             enumerate("rent notice term audit insurance liability assignment warranty".split())]


def test_questions_asked_at_once_share_an_encode_and_keep_their_own_vectors(embedder) -> None:
    shared = BatchingEmbedder(embedder)
    alone = {q: embedder.embed([q])[0] for q in QUESTIONS}
    got: dict[str, np.ndarray] = {}
    start = threading.Barrier(len(QUESTIONS))

    def ask(q: str) -> None:
        start.wait()
        got[q] = shared.embed_query(q)

    threads = [threading.Thread(target=ask, args=(q,)) for q in QUESTIONS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert shared.questions == len(QUESTIONS) and shared.batches < len(QUESTIONS)
    for q in QUESTIONS:  # padding in a batch changes no question's vector beyond rounding
        assert float(got[q] @ alone[q]) > 0.9999
    assert shared.dimension == len(got[QUESTIONS[0]])


def test_no_question_is_remembered_across_users(embedder) -> None:
    """A cache shared by all users would answer a question someone else asked lately ~10 ms
    sooner: a timing channel across an ethical wall. Each user's worker keeps its own."""
    shared = BatchingEmbedder(embedder)
    alice, bob = UserQueries(shared), UserQueries(shared)
    alice.embed_query("is there a non-compete?")
    alice.embed_query("is there a non-compete?")
    assert shared.questions == 1  # alice's second time: her own cache
    bob.embed_query("is there a non-compete?")
    assert shared.questions == 2  # bob's first time is encoded for him


def test_a_failed_encode_fails_its_questions_only(embedder) -> None:
    class Flaky:
        dimension, name = embedder.dimension, "flaky"

        def embed(self, texts):
            if any("boom" in t for t in texts):
                raise RuntimeError("encoder failed")
            return embedder.embed(texts)

        def embed_query(self, text):
            return self.embed([text])[0]

    shared = BatchingEmbedder(Flaky())
    with pytest.raises(RuntimeError):
        shared.embed_query("boom")
    assert shared.embed_query("still works").shape == (embedder.dimension,)
    assert shared.embed(["a passage", "another"]).shape == (2, embedder.dimension)
