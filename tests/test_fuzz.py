"""Property-based fuzzing of the whole pipeline on both backends.

Random corpora (Unicode letters, digits, punctuation, empty and one-word sentences), windows,
vocabulary controls and queries go through ``cooc.pretrain`` and the query API with the compiled
kernels and with their pure-Python twins; the results must be identical (integer counts exactly,
floats bit for bit) and agree with the independent oracle.

A longer run for developers: ``COOC_FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz.py``.
"""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cooc
from cooc import _backend
from cooc.text import tokenize

from conftest import compiled_or_skip
from oracle import cooccurrence_counts

EXAMPLES = int(os.environ.get("COOC_FUZZ_EXAMPLES", "60"))

words = st.sampled_from(["fire", "water", "the", "Über", "naïve", "İstanbul", "ΣΟΦΙΑ", "東京", "a", "x2y",
                         "don't", "co-op", "ǅemal", "straße"])
sentence = st.lists(st.one_of(words, st.text(alphabet="abcé ΣΑ.-1\t", max_size=6)), max_size=25).map(" ".join)
corpus = st.lists(sentence, min_size=1, max_size=30)


def build(texts, window, min_count, use_stopwords, name):
    _backend.set_backend(name)
    try:
        return cooc.pretrain(texts, window=window, min_count=min_count,
                             stopwords=cooc.STOPWORDS if use_stopwords else None)
    except ValueError as exc:
        return str(exc)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpus, st.integers(1, 6), st.integers(1, 3), st.booleans(), st.integers(1, 6))
def test_backends_agree_on_everything(texts, window, min_count, use_stopwords, topn):
    compiled_or_skip()
    previous = _backend.BACKEND
    try:
        a = build(texts, window, min_count, use_stopwords, "cython")
        b = build(texts, window, min_count, use_stopwords, "python")
        if isinstance(a, str) or isinstance(b, str):
            assert a == b  # the same error, word for word
            return
        assert a.index_to_key == b.index_to_key
        assert (a.counts != b.counts).nnz == 0
        assert a.vectors.data.tobytes() == b.vectors.data.tobytes()
        # the oracle, on the same tokens (stopwords and rare words removed before windowing)
        keep = set(a.index_to_key)
        sents = [[t for t in tokenize(s) if t in keep] for s in texts]
        coo = a.counts.tocoo()
        got = {(a.index_to_key[r], a.index_to_key[c]): int(v) for r, c, v in zip(coo.row, coo.col, coo.data)}
        assert got == cooccurrence_counts(sents, window)
        for word in a.index_to_key[:5]:
            _backend.set_backend("cython")
            ra = a.most_similar(word, topn=topn)
            _backend.set_backend("python")
            rb = b.most_similar(word, topn=topn)
            assert ra == rb
            assert all(np.isfinite(s) for _, s in ra)
    finally:
        _backend.set_backend(previous)
