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
from cooc import _kernels
from cooc.text import tokenize

from conftest import compiled_or_skip
from oracle import cooccurrence_counts

EXAMPLES = int(os.environ.get("COOC_FUZZ_EXAMPLES", "60"))

words = st.sampled_from(["fire", "water", "the", "Über", "naïve", "İstanbul", "ΣΟΦΙΑ", "東京", "a", "x2y",
                         "don't", "co-op", "ǅemal", "straße"])
sentence = st.lists(st.one_of(words, st.text(alphabet="abcé ΣΑ.-1\t", max_size=6)), max_size=25).map(" ".join)
corpus = st.lists(sentence, min_size=1, max_size=30)


def build(texts, window, min_count, use_stopwords, name):
    _kernels.set_backend(name)
    try:
        return cooc.pretrain(texts, window=window, min_count=min_count,
                             stopwords=cooc.STOPWORDS if use_stopwords else None)
    except ValueError as exc:
        return str(exc)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpus, st.integers(1, 6), st.integers(1, 3), st.booleans(), st.integers(1, 6))
def test_backends_agree_on_everything(texts, window, min_count, use_stopwords, topn):
    compiled_or_skip()
    previous = _kernels.BACKEND
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
            _kernels.set_backend("cython")
            ra = a.most_similar(word, topn=topn)
            _kernels.set_backend("python")
            rb = b.most_similar(word, topn=topn)
            assert ra == rb
            assert all(np.isfinite(s) for _, s in ra)
    finally:
        _kernels.set_backend(previous)


@st.composite
def screened_cases(draw):
    """A sparse matrix (signed or not, magnitudes over 30 decades within the screening's range,
    duplicate and near-duplicate rows, empty rows), queries (rows of it or random), k, threads and
    the rows per block of the compiled kernel (all in one block, or blocks of 1 or 5 rows)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_rows, n_cols = draw(st.integers(1, 120)), draw(st.integers(1, 25))
    dense = rng.random((n_rows, n_cols)) < draw(st.sampled_from([0.05, 0.3, 0.8]))
    vals = np.exp(rng.uniform(-35, 35, (n_rows, n_cols))) if draw(st.booleans()) else rng.integers(1, 4, (n_rows, n_cols))
    m = np.where(dense, vals, 0.0).astype(np.float64)
    if draw(st.booleans()):
        m *= rng.choice([-1.0, 1.0], m.shape)
    if n_rows > 4 and draw(st.booleans()):   # copies of a row, some nudged by 1e-12
        src = rng.integers(0, n_rows)
        dst = rng.integers(0, n_rows, n_rows // 3)
        m[dst] = m[src] * (1.0 + 1e-12 * rng.integers(0, 2, (dst.size, 1)))
    n_queries = draw(st.integers(1, 4))
    queries = m[rng.integers(0, n_rows, n_queries)] if draw(st.booleans()) else rng.normal(size=(n_queries, n_cols))
    queries *= rng.random(queries.shape) < 0.7
    return m, queries, draw(st.integers(1, n_rows)), draw(st.sampled_from([1, 2, 3])), draw(st.sampled_from([1 << 17, 1, 5]))


@settings(max_examples=EXAMPLES * 3, deadline=None)
@given(screened_cases())
def test_screened_neighbours_equal_the_float64_kernel(case):
    """The compiled kernel's screening (float32 copies, then exact rescoring of the rows within the
    error bound) gives the float64 kernel's answers, bit for bit."""
    import scipy.sparse as sp

    compiled = compiled_or_skip()
    m, queries, k, threads, block_rows = case
    x = sp.csr_matrix(m)
    x.sort_indices()
    q = sp.csr_matrix(queries)
    q.sort_indices()
    previous, saved_rows = _kernels.BACKEND, compiled._topk_block_rows()
    _kernels.set_backend("cython")
    compiled._topk_block_rows(block_rows)
    try:
        args = (x.indptr, x.indices, x.data, x.shape[1])
        screened = _kernels.TransposeIndex.from_rows(*args, screen=True)
        exact = _kernels.TransposeIndex.from_rows(*args)
        assert screened.screen is not None
        qargs = (q.indptr.astype(np.int64), q.indices.astype(np.int32), q.data, k, -1, threads)
        got, want = screened.query(*qargs), exact.query(*qargs)
        assert [a.tobytes() for a in got] == [a.tobytes() for a in want]
        ids = np.arange(min(3, x.shape[0]))
        got, want = screened.query_rows(ids, k, threads), exact.query_rows(ids, k, threads)
        assert [a.tobytes() for a in got] == [a.tobytes() for a in want]
    finally:
        _kernels.set_backend(previous)
        compiled._topk_block_rows(saved_rows)
