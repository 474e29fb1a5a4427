"""Sparse neighbour queries: the transpose kernels, the checked-once index and the batch API.

Every kernel test runs on both backends (the ``backend`` fixture). The references are a brute-force
ranking over dense rows (ties to the lower row index) and the reference single-query ranking of
``tests/oracle.py`` (the same sums in the same order): the batch answers must equal it bit for bit,
whatever the number of threads.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest
import scipy.sparse as sp

import cooc
from cooc import _backend, neighbors

from conftest import available_backends
from oracle import topk_cosine, topk_cosine_sparse


def random_matrix(seed: int, n_rows: int = 40, n_cols: int = 30, density: float = 0.15,
                  signed: bool = False) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    m = sp.random(n_rows, n_cols, density=density, format="csr", random_state=rng,
                  data_rvs=lambda n: rng.integers(1, 4, n).astype(np.float64))
    if signed:
        m.data *= rng.choice([-1.0, 1.0], m.nnz)
    m.sort_indices()
    m.indptr = m.indptr.astype(np.int64)
    m.indices = m.indices.astype(np.int32)
    return m


def prepared(m: sp.csr_matrix) -> tuple[np.ndarray, ...]:
    t = sp.csr_matrix(m.T)
    t.sort_indices()
    norms = _backend.row_norms(m.indptr.astype(np.int64), m.data)
    return t.indptr.astype(np.int64), t.indices.astype(np.int32), t.data.astype(np.float64), norms


def brute(m: sp.csr_matrix, q: np.ndarray, k: int, exclude: int) -> tuple[list[int], list[float]]:
    dense = m.toarray()
    qn = np.sqrt(q @ q)
    sims = []
    for r in range(dense.shape[0]):
        if r == exclude:
            continue
        rn = np.sqrt(dense[r] @ dense[r])
        sims.append((0.0 if qn == 0 or rn == 0 else float(dense[r] @ q / (qn * rn)), r))
    sims.sort(key=lambda t: (-t[0], t[1]))
    return [r for _, r in sims[:k]], [s for s, _ in sims[:k]]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [0, 1, 5, 40, 100])
def test_single_sparse_query_matches_brute_force(backend, seed, k):
    m = random_matrix(seed, signed=seed % 2 == 1)
    tp, ti, td, norms = prepared(m)
    exclude = seed * 3 % 40 if seed % 3 else -1
    q = m.toarray()[exclude if exclude >= 0 else 0]
    qi = np.flatnonzero(q).astype(np.int32)
    rows, sims = topk_cosine_sparse(tp, ti, td, norms, qi, q[qi], k, exclude)
    want_rows, want_sims = brute(m, q, k, exclude)
    assert rows.tolist() == want_rows
    np.testing.assert_allclose(sims, want_sims, rtol=1e-12, atol=1e-15)


def many_queries(m: sp.csr_matrix, seed: int, n: int) -> tuple[sp.csr_matrix, np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, m.shape[0], n)
    q = m[ids]
    q.sort_indices()
    exclude = np.where(rng.random(n) < 0.7, ids, -1).astype(np.int64)
    return q, exclude


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("k", [0, 3, 39, 40])
def test_batch_equals_single_queries_bit_for_bit(backend, seed, threads, k):
    m = random_matrix(seed, signed=seed == 4)
    tp, ti, td, norms = prepared(m)
    q, exclude = many_queries(m, seed, 17)
    rows, sims, found = neighbors.topk_cosine_sparse_many(
        tp, ti, td, norms, q.indptr.astype(np.int64), q.indices.astype(np.int32), q.data, k, exclude, threads)
    assert rows.shape == sims.shape == (17, k) and rows.dtype == np.int64 and sims.dtype == np.float64
    for b in range(17):
        lo, hi = q.indptr[b], q.indptr[b + 1]
        want_rows, want_sims = topk_cosine_sparse(
            tp, ti, td, norms, q.indices[lo:hi].astype(np.int32), q.data[lo:hi], k, int(exclude[b]))
        assert found[b] == len(want_rows) == min(k, 40 - (exclude[b] >= 0))
        assert rows[b, : found[b]].tolist() == want_rows.tolist()
        assert sims[b, : found[b]].tobytes() == want_sims.tobytes()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("threads", [2, 3, 5])
@pytest.mark.parametrize("n_rows,k", [(40, 3), (300, 10), (300, 299), (7, 4)])
def test_one_query_cut_among_threads_equals_one_thread(backend, seed, threads, n_rows, k):
    """Fewer queries than threads: each query's rows are cut into ranges answered in parallel (on the
    pool's threads) and their top-k lists merged; the answers equal the one-thread kernel bit for bit."""
    m = random_matrix(seed, n_rows=n_rows, n_cols=30, density=0.2, signed=seed == 3)
    tp, ti, td, norms = prepared(m)
    n_queries = 1 + seed % 2   # 1 or 2 queries, fewer than the threads
    q, exclude = many_queries(m, seed, n_queries)
    qp, qi = q.indptr.astype(np.int64), q.indices.astype(np.int32)
    for _ in range(3):  # the pool is reused across calls
        rows, sims, found = neighbors.topk_cosine_sparse_many(tp, ti, td, norms, qp, qi, q.data, k, exclude, threads)
        for b in range(n_queries):
            lo, hi = q.indptr[b], q.indptr[b + 1]
            want_rows, want_sims = topk_cosine_sparse(tp, ti, td, norms, qi[lo:hi], q.data[lo:hi], k,
                                                               int(exclude[b]))
            assert found[b] == len(want_rows)
            assert rows[b, : found[b]].tolist() == want_rows.tolist()
            assert sims[b, : found[b]].tobytes() == want_sims.tobytes()


def test_python_threads_share_the_pool_safely(backend):
    """Several Python threads cutting their queries among the pool's threads at once: every answer
    equals the one-thread kernel's."""
    from concurrent.futures import ThreadPoolExecutor

    m = random_matrix(8, n_rows=500, n_cols=40, density=0.2)
    tp, ti, td, norms = prepared(m)
    q, exclude = many_queries(m, 8, 60)
    qp, qi = q.indptr.astype(np.int64), q.indices.astype(np.int32)

    def one(b):
        lo, hi = q.indptr[b], q.indptr[b + 1]
        out = neighbors.topk_cosine_sparse_many(tp, ti, td, norms, np.array([0, hi - lo], dtype=np.int64),
                                               qi[lo:hi], q.data[lo:hi], 6, exclude[b:b + 1], 2)
        return [a.tobytes() for a in out]

    want = [one(b) for b in range(60)]
    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(one, list(range(60)) * 3))
    assert got == want * 3


def test_batch_backends_agree_bit_for_bit(across_backends):
    m = random_matrix(11, n_rows=60, n_cols=50)
    tp, ti, td, norms = prepared(m)
    q, exclude = many_queries(m, 11, 25)
    out = across_backends(neighbors.topk_cosine_sparse_many, tp, ti, td, norms, q.indptr.astype(np.int64),
                          q.indices.astype(np.int32), q.data, 7, exclude, 2)
    assert set(out) == set(available_backends())
    want = out["python"]
    for got in out.values():
        assert [a.tobytes() for a in got] == [a.tobytes() for a in want]


def test_empty_query_and_zero_rows_rank_by_index(backend):
    m = sp.csr_matrix(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 2.0]]))
    tp, ti, td, norms = prepared(m)
    qp = np.array([0, 0, 1], dtype=np.int64)   # query 0 empty, query 1 = column 0
    rows, sims, found = neighbors.topk_cosine_sparse_many(
        tp, ti, td, norms, qp, np.array([0], dtype=np.int32), np.array([3.0]), 3, np.array([-1, 1]))
    assert rows[0].tolist() == [0, 1, 2] and sims[0].tolist() == [0.0, 0.0, 0.0]
    assert rows[1].tolist() == [0, 2, 3] and sims[1].tolist() == [0.0, 0.0, 0.0]
    assert found.tolist() == [3, 3]


BAD_QUERIES = {
    "unsorted within a query": (dict(q_indices=[1, 0]), ValueError, "sorted"),
    "index beyond columns": (dict(q_indices=[0, 9]), ValueError, "indices"),
    "indptr too long": (dict(q_indptr=[0, 1, 2, 3]), ValueError, "indices"),
    "data length": (dict(q_data=[1.0]), ValueError, "q_data"),
    "NaN in data": (dict(q_data=[1.0, np.nan]), ValueError, "q_data"),
    "exclude wrong length": (dict(exclude=[0, 1]), ValueError, "exclude"),
    "exclude out of range": (dict(exclude=[4]), ValueError, "exclude"),
    "exclude below -1": (dict(exclude=[-2]), ValueError, "exclude"),
    "exclude floats": (dict(exclude=[0.5]), TypeError, "exclude"),
    "k negative": (dict(k=-1), ValueError, "k"),
    "k float": (dict(k=1.0), TypeError, "k"),
    "threads zero": (dict(n_threads=0), ValueError, "n_threads"),
}


@pytest.mark.parametrize("case", sorted(BAD_QUERIES))
def test_bad_queries_are_refused_before_the_kernel(backend, case):
    m = sp.csr_matrix(np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0], [3.0, 0.0]]))
    index = neighbors.TransposeIndex(*prepared(m))
    args = dict(q_indptr=[0, 2], q_indices=[0, 1], q_data=[1.0, 1.0], k=2, exclude=[-1], n_threads=1)
    change, error, word = BAD_QUERIES[case]
    args.update(change)
    with pytest.raises(error, match=word):
        index.query(**args)


def test_bad_index_is_refused():
    with pytest.raises(ValueError, match="indices"):
        neighbors.TransposeIndex([0, 1], [5], [1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="t_data"):
        neighbors.TransposeIndex([0, 1], [0], [np.inf], [1.0])


# -- the public API -------------------------------------------------------------------------------

CORPUS = [
    "the cat sat on the mat with another cat",
    "a dog sat on a log near the cat",
    "cats and dogs chase mice and birds",
    "birds sing in the trees near the river",
    "the river runs past trees and a mill",
]


@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("dim", [None, 3])
def test_most_similar_batch_equals_most_similar(backend, n_jobs, dim):
    emb = cooc.pretrain(CORPUS, stopwords=None, weighting="ppmi" if dim else "count", dim=dim)
    words = list(emb.index_to_key) + ["cat", "cat"]
    for topn in (0, 1, 4, len(emb) + 3):
        got = emb.most_similar_batch(words, topn=topn, n_jobs=n_jobs)
        assert got == [emb.most_similar(w, topn=topn) for w in words]
        assert got == [emb.most_similar(w, topn=topn, n_jobs=n_jobs) for w in words]


def test_most_similar_batch_refuses_bad_input():
    emb = cooc.pretrain(CORPUS, stopwords=None)
    with pytest.raises(TypeError, match="sequence of str"):
        emb.most_similar_batch("cat")
    with pytest.raises(KeyError):
        emb.most_similar_batch(["cat", "zebra"])
    with pytest.raises(ValueError, match="topn"):
        emb.most_similar_batch(["cat"], topn=-1)
    with pytest.raises(ValueError, match="n_jobs"):
        emb.most_similar_batch(["cat"], n_jobs=0)


def test_queries_do_not_rescan_the_matrix(monkeypatch):
    """The whole transpose is checked once, when the index is built; a query checks only itself."""
    emb = cooc.pretrain(CORPUS, stopwords=None)
    emb.most_similar("cat")
    calls = []
    real = neighbors._check_csr
    monkeypatch.setattr(neighbors, "_check_csr", lambda *a: calls.append(len(a[1])) or real(*a))
    emb.most_similar("dog")
    emb.most_similar_batch(["dog", "cat"])
    emb.most_similar(emb.vectors[emb.key_to_index["dog"]].toarray().ravel())  # a vector: checked itself
    assert calls and max(calls) <= 2 * max(np.diff(emb.counts.indptr))


def test_query_rows_equals_query_of_the_same_rows(backend):
    """The model's own rows, checked once with the index, give what the same rows give as queries."""
    m = random_matrix(5, n_rows=60, n_cols=60, density=0.2)
    tp, ti, td, norms = prepared(m)
    index = neighbors.TransposeIndex(tp, ti, td, norms, rows=(m.indptr, m.indices, m.data))
    ids = np.array([3, 0, 59, 3, 17], dtype=np.int64)
    q = m[ids]
    for k in (1, 5, 60):
        for threads in (1, 2):
            got = index.query_rows(ids, k, threads)
            want = index.query(q.indptr, q.indices, q.data, k, ids, threads)
            assert [a.tobytes() for a in got] == [a.tobytes() for a in want]
            one = index.query_rows([17], k, threads)
            assert [a[0].tobytes() for a in one] == [a[4].tobytes() for a in want]


def test_query_rows_refuses_bad_rows():
    m = random_matrix(6, n_rows=10, n_cols=10, density=0.3)
    tp, ti, td, norms = prepared(m)
    with pytest.raises(ValueError, match="without the matrix's rows"):
        neighbors.TransposeIndex(tp, ti, td, norms).query_rows([0], 3)
    index = neighbors.TransposeIndex(tp, ti, td, norms, rows=(m.indptr, m.indices, m.data))
    for bad in ([10], [-1], [[0, 1]]):
        with pytest.raises(ValueError, match="rows must"):
            index.query_rows(bad, 3)
    with pytest.raises(ValueError, match="rows must have 10 rows"):
        neighbors.TransposeIndex(tp, ti, td, norms, rows=(m.indptr[:-1], m.indices[:m.indptr[-2]],
                                                         m.data[:m.indptr[-2]]))


@pytest.mark.parametrize("n_queries,threads", [(1, 2), (1, 3), (2, 3), (1, 7)])
def test_few_queries_split_into_row_ranges(backend, n_queries, threads):
    """Fewer queries than threads: each query's rows are cut into ranges whose heaps are merged."""
    m = random_matrix(3, n_rows=45, n_cols=12, density=0.3)   # dense enough for many ties and zeros
    tp, ti, td, norms = prepared(m)
    q, exclude = many_queries(m, 5, n_queries)
    for k in (1, 4, 44, 45):
        got = neighbors.topk_cosine_sparse_many(tp, ti, td, norms, q.indptr.astype(np.int64),
                                               q.indices.astype(np.int32), q.data, k, exclude, threads)
        want = neighbors.topk_cosine_sparse_many(tp, ti, td, norms, q.indptr.astype(np.int64),
                                                q.indices.astype(np.int32), q.data, k, exclude, 1)
        assert [a.tobytes() for a in got] == [a.tobytes() for a in want]


def test_tall_matrix_cut_into_row_ranges(backend):
    """140k rows cut into ranges by the threads: each range finds its first posting of every query
    column by binary search and stops at its last row."""
    rng = np.random.default_rng(7)
    n_rows, n_cols = 140_000, 16
    rows = np.repeat(np.arange(n_rows), 2)
    cols = rng.integers(0, n_cols, rows.size)
    m = sp.csr_matrix((rng.integers(1, 5, rows.size).astype(np.float64), (rows, cols)), shape=(n_rows, n_cols))
    m.sum_duplicates()
    m.indptr = m.indptr.astype(np.int64)
    m.indices = m.indices.astype(np.int32)
    tp, ti, td, norms = prepared(m)
    ids = np.array([5, 70_000, 139_999])
    q = m[ids]
    for threads in (1, 2, 5):
        rows_, sims, found = neighbors.topk_cosine_sparse_many(
            tp, ti, td, norms, q.indptr.astype(np.int64), q.indices.astype(np.int32), q.data, 25, ids, threads)
        for b, r in enumerate(ids):
            lo, hi = q.indptr[b], q.indptr[b + 1]
            want_rows, want_sims = topk_cosine_sparse(
                tp, ti, td, norms, q.indices[lo:hi].astype(np.int32), q.data[lo:hi], 25, int(r))
            assert found[b] == 25
            assert rows_[b].tolist() == want_rows.tolist()
            assert sims[b].tobytes() == want_sims.tobytes()


# -- dense rows ------------------------------------------------------------------------------------

def test_dense_model_neighbours_unchanged(backend):
    """Dense vectors (an SVD model, float32) rank as the brute force over their rows in float64: the
    same words wherever the scores are not within float32 rounding of each other (cooc.dense)."""
    emb = cooc.pretrain(CORPUS, stopwords=None, weighting="ppmi", dim=3)
    assert emb.vectors.dtype == np.float32
    dense = np.asarray(emb.vectors, dtype=np.float64)
    for word in emb.index_to_key:
        got = emb.most_similar(word, topn=4)
        want_rows, want_sims = brute(sp.csr_matrix(dense), dense[emb.get_index(word)], 4, emb.get_index(word))
        np.testing.assert_allclose([s for _, s in got], want_sims, rtol=0, atol=1e-6)
        for (w, s), r, t in zip(got, want_rows, want_sims):
            assert w == emb.index_to_key[r] or abs(s - t) < 1e-6


def _neighbours_in_child(conn):
    emb = cooc.pretrain(CORPUS, stopwords=None)
    conn.send([emb.most_similar(w, topn=3, n_jobs=2) for w in emb.index_to_key])
    conn.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_threads_work_in_a_forked_child(backend):
    """The kernels' worker threads are started once per process: a child forked after the parent used
    them (as Dask and multiprocessing fork) starts its own instead of waiting forever on the copies."""
    import multiprocessing

    emb = cooc.pretrain(CORPUS, stopwords=None)
    want = [emb.most_similar(w, topn=3, n_jobs=2) for w in emb.index_to_key]  # the parent's pool exists
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_neighbours_in_child, args=(send,))
    child.start()
    try:
        assert recv.poll(60), "the forked child did not answer within 60 s"
        assert recv.recv() == want
    finally:
        child.join(10)
        if child.is_alive():
            child.kill()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_dense_columns_give_the_same_floats(backend, seed, threads):
    """Columns present in most rows are also stored densely and added as whole rows of floats; the
    answers equal the postings-only kernel's bit for bit (signed data and queries included)."""
    m = random_matrix(seed, n_rows=60, n_cols=12, density=0.6, signed=seed % 2 == 1)
    tp, ti, td, norms = prepared(m)
    index = neighbors.TransposeIndex(tp, ti, td, norms)
    assert index.dense_cols.size > 0, "the matrix should have dense columns"
    q, exclude = many_queries(m, seed, 1 + seed)
    if seed == 3:
        q.data = -q.data   # negative query values: products q * 0.0 are -0.0
    args = (q.indptr.astype(np.int64), q.indices.astype(np.int32), q.data, 7, exclude, threads)
    got = index.query(*args)
    plain = neighbors.topk_cosine_sparse_many(tp, ti, td, norms, *args,
                                             np.zeros(0, dtype=np.int32), np.zeros((0, 60)))
    assert [a.tobytes() for a in got] == [a.tobytes() for a in plain]
    for b in range(q.shape[0]):
        lo, hi = q.indptr[b], q.indptr[b + 1]
        want_rows, want_sims = topk_cosine_sparse(tp, ti, td, norms, q.indices[lo:hi].astype(np.int32),
                                                           q.data[lo:hi], 7, int(exclude[b]))
        assert got[0][b, : got[2][b]].tolist() == want_rows.tolist()
        assert got[1][b, : got[2][b]].tobytes() == want_sims.tobytes()


def test_wrong_dense_columns_and_unsorted_transpose_are_refused():
    m = random_matrix(2, n_rows=20, n_cols=6, density=0.7)
    tp, ti, td, norms = prepared(m)
    q = dict(q_indptr=np.array([0, 1]), q_indices=np.array([0], dtype=np.int32), q_data=np.array([1.0]), k=2)
    index = neighbors.TransposeIndex(tp, ti, td, norms)
    cols, dense = index.dense_cols, index.dense
    bad = dense.copy()
    bad[0, 0] += 1.0
    with pytest.raises(ValueError, match="does not hold row"):
        neighbors.topk_cosine_sparse_many(tp, ti, td, norms, **q, dense_cols=cols, dense=bad)
    with pytest.raises(ValueError, match="shape"):
        neighbors.topk_cosine_sparse_many(tp, ti, td, norms, **q, dense_cols=cols, dense=dense[:, :-1])
    with pytest.raises(ValueError, match="together"):
        neighbors.topk_cosine_sparse_many(tp, ti, td, norms, **q, dense_cols=cols)
    with pytest.raises(ValueError, match="sorted"):
        neighbors.topk_cosine_sparse_many(tp, ti, td, norms, **q, dense_cols=np.r_[cols, cols],
                                         dense=np.vstack([dense, dense]))
    swapped = ti.copy()
    swapped[[0, 1]] = swapped[[1, 0]]   # two rows of the first column out of order
    with pytest.raises(ValueError, match="sorted and distinct within each row"):
        neighbors.TransposeIndex(tp, swapped, td, norms)
    dup = ti.copy()
    dup[1] = dup[0]
    with pytest.raises(ValueError, match="sorted and distinct within each row"):
        neighbors.TransposeIndex(tp, dup, td, norms)


def test_from_rows_refuses_bad_input():
    m = random_matrix(2, n_rows=10, n_cols=6, density=0.5)
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 3\)"):
        neighbors.TransposeIndex.from_rows(m.indptr, m.indices, m.data, 3)   # columns beyond n_cols


@pytest.mark.parametrize("seed", range(3))
def test_kernel_ranks_a_range_of_rows(backend, seed):
    """The kernel over rows [lo, hi) gives the full ranking's rows in that range, in order."""
    m = random_matrix(seed, n_rows=50, n_cols=20, density=0.3, signed=seed == 2)
    tp, ti, td, norms = prepared(m)
    q, exclude = many_queries(m, seed, 4)
    kernel = _backend.active().topk_cosine_sparse_many
    args = (tp, ti, td, norms, q.indptr.astype(np.int64), q.indices.astype(np.int32), q.data)
    none = (np.zeros(0, dtype=np.int32), np.zeros((0, 50)))
    full_rows, full_sims, full_found = kernel(*args, 50, exclude, *none, 0, 50)
    for lo, hi in [(0, 17), (17, 18), (18, 50), (5, 5)]:
        for k in (1, 3, 50):
            rows, sims, found = kernel(*args, k, exclude, *none, lo, hi)
            assert rows.shape == sims.shape == (4, k) and rows.dtype == np.int64 and sims.dtype == np.float64
            for b in range(4):
                keep = [i for i in range(full_found[b]) if lo <= full_rows[b, i] < hi]
                kq = min(k, 49) if exclude[b] >= 0 else k
                keep = keep[:kq]
                assert found[b] == len(keep)
                assert rows[b, : found[b]].tolist() == full_rows[b, keep].tolist()
                assert sims[b, : found[b]].tobytes() == full_sims[b, keep].tobytes()
                assert not rows[b, found[b]:].any() and not sims[b, found[b]:].any()
