"""Sparse neighbour queries: the transpose kernels, the checked-once index and the batch API.

Every kernel test runs on both backends (the ``backend`` fixture). The references are a brute-force
ranking over dense rows (ties to the lower row index) and, for the batch kernel, the single-query
kernel itself: the batch answers must equal it bit for bit, whatever the number of threads.
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
from cooc import _kernels

from conftest import available_backends


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
    norms = _kernels.row_norms(m.indptr.astype(np.int64), m.data)
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
    rows, sims = _kernels.topk_cosine_sparse(tp, ti, td, norms, qi, q[qi], k, exclude)
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


@pytest.fixture(params=["one block", "blocks of 7 rows"])
def block_rows(request):
    """The compiled kernel accumulates and scans a task's rows in blocks of 131,072: the tests' small
    matrices fit in one; "blocks of 7 rows" cuts them into many (the pure twin has no blocks)."""
    compiled = _kernels.compiled_module()
    if compiled is None or request.param == "one block":
        yield request.param
        return
    saved = compiled._topk_block_rows()
    compiled._topk_block_rows(7)
    try:
        yield request.param
    finally:
        compiled._topk_block_rows(saved)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("k", [0, 3, 39, 40])
def test_batch_equals_single_queries_bit_for_bit(backend, block_rows, seed, threads, k):
    m = random_matrix(seed, signed=seed == 4)
    tp, ti, td, norms = prepared(m)
    q, exclude = many_queries(m, seed, 17)
    rows, sims, found = _kernels.topk_cosine_sparse_many(
        tp, ti, td, norms, q.indptr.astype(np.int64), q.indices.astype(np.int32), q.data, k, exclude, threads)
    assert rows.shape == sims.shape == (17, k) and rows.dtype == np.int64 and sims.dtype == np.float64
    for b in range(17):
        lo, hi = q.indptr[b], q.indptr[b + 1]
        want_rows, want_sims = _kernels.topk_cosine_sparse(
            tp, ti, td, norms, q.indices[lo:hi].astype(np.int32), q.data[lo:hi], k, int(exclude[b]))
        assert found[b] == len(want_rows) == min(k, 40 - (exclude[b] >= 0))
        assert rows[b, : found[b]].tolist() == want_rows.tolist()
        assert sims[b, : found[b]].tobytes() == want_sims.tobytes()


@pytest.fixture(params=["spinning", "sleeping", "patient", "refusing"])
def team_mode(request, backend):
    """The compiled kernels cut one query among threads on a team of spinning workers. "sleeping"
    makes them sleep after every call, so each query wakes them through their Event; "patient"
    makes the caller wait until every worker has taken the call (so workers surely answer some row
    ranges); "refusing" makes the workers take no call, as if never scheduled, so the caller
    answers every range. The team never backs off here (the pure twin has no threads: every mode
    runs it alike)."""
    compiled = _kernels.compiled_module()
    if compiled is None:
        yield request.param
        return
    saved = compiled._team_settings()
    compiled._reset_team()
    compiled._team_settings(backoff=0.0, spin=0.0 if request.param == "sleeping" else saved["spin"],
                            mode={"patient": "patient", "refusing": "refuse"}.get(request.param, ""))
    try:
        yield request.param
    finally:
        compiled._team_settings(**saved)
        compiled._reset_team()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("threads", [2, 3, 5])
@pytest.mark.parametrize("n_rows,k", [(40, 3), (300, 10), (300, 299), (7, 4)])
def test_one_query_cut_among_threads_equals_one_thread(backend, team_mode, block_rows, seed, threads, n_rows, k):
    """Fewer queries than threads: each query's rows are cut into ranges answered in parallel (on the
    team, awake or woken) and their heaps merged; the answers equal the one-thread kernel bit for bit."""
    m = random_matrix(seed, n_rows=n_rows, n_cols=30, density=0.2, signed=seed == 3)
    tp, ti, td, norms = prepared(m)
    n_queries = 1 + seed % 2   # 1 or 2 queries, fewer than the threads
    q, exclude = many_queries(m, seed, n_queries)
    qp, qi = q.indptr.astype(np.int64), q.indices.astype(np.int32)
    for _ in range(3):  # the team is reused across calls
        rows, sims, found = _kernels.topk_cosine_sparse_many(tp, ti, td, norms, qp, qi, q.data, k, exclude, threads)
        for b in range(n_queries):
            lo, hi = q.indptr[b], q.indptr[b + 1]
            want_rows, want_sims = _kernels.topk_cosine_sparse(tp, ti, td, norms, qi[lo:hi], q.data[lo:hi], k,
                                                               int(exclude[b]))
            assert found[b] == len(want_rows)
            assert rows[b, : found[b]].tolist() == want_rows.tolist()
            assert sims[b, : found[b]].tobytes() == want_sims.tobytes()


def test_busy_team_falls_back_to_the_pool(compiled_kernels):
    """A second thread finding the team busy answers through the pool, with the same answers."""
    compiled = compiled_kernels
    m = random_matrix(5, n_rows=200, n_cols=30, density=0.2)
    tp, ti, td, norms = prepared(m)
    q, exclude = many_queries(m, 5, 1)
    args = (tp, ti, td, norms, q.indptr.astype(np.int64), q.indices.astype(np.int32), q.data, 5, exclude)
    want = compiled.topk_cosine_sparse_many(*args, 1)
    compiled.topk_cosine_sparse_many(*args, 2)   # makes the team
    team = compiled._TEAM
    assert team is not None and team.pid == os.getpid()
    with team.lock:   # held by "another caller"
        got = compiled.topk_cosine_sparse_many(*args, 2)
    assert [a.tobytes() for a in got] == [a.tobytes() for a in want]


@pytest.fixture
def team_settings(compiled_kernels):
    """Change the team's settings inside a test (``_team_settings``); all restored (and the team
    reset) afterwards."""
    compiled = compiled_kernels
    saved = compiled._team_settings()
    compiled._reset_team()

    def set_(**changes):
        compiled._team_settings(**changes)
        return compiled

    try:
        yield set_
    finally:
        set_(**saved)
        compiled._reset_team()


@pytest.fixture
def contended_team(team_settings):
    """The team with a zero gap: any spinning worker (or a caller whose offer a spinning worker did
    not take) finds it contended, and one mark makes it back off for 10 s, however many threads are
    runnable; workers refuse calls."""
    return team_settings(gap=0.0, backoff=10.0, marks=1, confirm=False, mode="refuse")


def one_query(compiled, seed):
    """The arguments (without n_threads) of one query of a 300-row matrix to topk_cosine_sparse_many,
    and its one-thread answer as bytes."""
    m = random_matrix(seed, n_rows=300, n_cols=30, density=0.2)
    tp, ti, td, norms = prepared(m)
    q, exclude = many_queries(m, seed, 1)
    args = (tp, ti, td, norms, q.indptr.astype(np.int64), q.indices.astype(np.int32), q.data, 10, exclude)
    return args, [a.tobytes() for a in compiled.topk_cosine_sparse_many(*args, 1)]


def test_contended_team_leaves_queries_to_one_thread(contended_team):
    """A worker that does not take its call leaves its row range to the caller and, having been
    spinning, marks the team contended; then queries run in the caller's thread alone, with no call
    offered to the team, and every answer stays the one-thread kernel's."""
    compiled = contended_team
    args, want = one_query(compiled, 6)
    assert compiled._TEAM is None
    got = compiled.topk_cosine_sparse_many(*args, 3)   # offered, never taken
    team = compiled._TEAM
    assert [a.tobytes() for a in got] == want
    assert (team.gen, team.withdrawn) == (1, 2) and team.contended
    for _ in range(3):
        got = compiled.topk_cosine_sparse_many(*args, 3)
        assert [a.tobytes() for a in got] == want
    assert team.gen == 1   # backing off: not offered again
    compiled._team_settings(backoff=0.0)
    assert not team.contended
    got = compiled.topk_cosine_sparse_many(*args, 3)
    assert [a.tobytes() for a in got] == want and team.gen == 2


def test_range_of_a_stalled_worker_is_redone_by_the_caller(team_settings):
    """A worker that took a row range and then stalls (until the test lets it go on, as if taken off
    its CPU): the caller answers that range again itself and returns without waiting; the answer is
    exact, the team is marked contended and keeps the call's arrays until the worker is done; later
    calls are exact too; the worker, done, lets the call's arrays go without waiting for another
    call. (No timing: nothing here depends on how fast this machine is.)"""
    compiled = team_settings(backoff=10.0, marks=1, confirm=False)
    args, want = one_query(compiled, 7)
    for threads in (2, 3):
        compiled._reset_team()
        compiled._team_settings(mode="slow")
        try:
            got = compiled.topk_cosine_sparse_many(*args, threads)
            team = compiled._TEAM
            assert [a.tobytes() for a in got] == want
            assert (team.gen, team.withdrawn, team.redone) == (1, 0, 1) and team.contended
            assert len(team.lingering) == 1 and team.lingering[0][:2] == ((1 << threads) - 2, 1)
        finally:
            compiled._team_settings(mode="")   # the stalled workers go on
        deadline = time.monotonic() + 30   # they finish, spin, and prune before sleeping
        while team.lingering and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not team.lingering and team.gen == 1
    compiled._team_settings(backoff=0.0)
    got = compiled.topk_cosine_sparse_many(*args, 3)
    assert [a.tobytes() for a in got] == want and team.gen == 2


def test_worker_without_scratch_leaves_its_tasks_to_the_caller(team_settings):
    """A worker that takes a call but cannot allocate its scratch runs none of its tasks and says it
    is done: the caller, taking tasks from the shared counter, answers every range, exactly."""
    compiled = team_settings(backoff=0.0, mode="no-memory")
    args, want = one_query(compiled, 9)
    for threads in (2, 3):
        compiled._reset_team()
        for _ in range(3):
            assert [a.tobytes() for a in compiled.topk_cosine_sparse_many(*args, threads)] == want
        team = compiled._TEAM
        assert (team.gen, team.withdrawn, team.redone) == (3, 0, 0)   # taken every time, never redone


def lone_team(compiled):
    """A team with no workers (none started), whose marks come only from the test."""
    return compiled._SpinTeam(os.getpid())


def test_marks_in_a_row_make_the_team_back_off(team_settings):
    """Two marks, the second within a backoff's length of the first, make the team back off; two
    marks farther apart do not (the host of a virtual machine takes a CPU away now and then)."""
    compiled = team_settings(backoff=10.0, marks=2, confirm=False)
    team = lone_team(compiled)
    team._mark_now()
    assert not team.contended
    team._age(11)
    team._mark_now()
    assert not team.contended
    team._age(9)
    team._mark_now()
    assert team.contended and team.backoff_level == 0


def test_backoffs_that_follow_one_another_double(team_settings):
    """Contention found again within a backoff's length of its end starts the next backoff at once,
    twice as long (at most 16 times the first); found later, the backoff is the first length again;
    marks during a backoff change nothing. Time is moved on with the team's test clock (``_age``)."""
    compiled = team_settings(backoff=10.0, marks=1, confirm=False)
    team = lone_team(compiled)
    team._mark_now()
    assert team.contended and team.backoff_level == 0
    team._mark_now()   # during the backoff
    assert team.backoff_level == 0
    for seconds, level in [(10.5, 1), (20 + 5, 2), (40 + 9.9, 3), (80 + 1, 4), (160 + 1, 4), (160 + 100, 0)]:
        team._age(seconds)   # the backoff ended (seconds - its length) ago
        assert not team.contended
        team._mark_now()
        assert team.contended and team.backoff_level == level


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="runnable threads are read from /proc/loadavg")
def test_contention_counts_only_with_more_runnable_threads_than_cpus(team_settings):
    """A contended mark counts only while more threads are runnable in the system than there are
    CPUs (else the host took the CPU, and one thread would not help): compared with more CPUs than
    any load, a mark is ignored; with more busy processes than the system's CPUs, it counts."""
    compiled = team_settings(backoff=10.0, marks=1, confirm=True, cpus=1 << 30)
    team = lone_team(compiled)
    team._mark_now()
    assert team.unconfirmed == 1 and not team.contended
    n = os.cpu_count() or 1
    compiled._team_settings(cpus=n)
    busy = [subprocess.Popen([sys.executable, "-c", "print('go', flush=True)\nwhile True: pass"],
                             stdout=subprocess.PIPE, text=True) for _ in range(n + 1)]
    try:
        for p in busy:
            assert p.stdout.readline() == "go\n"
        assert compiled._runnable_threads() > n
        team._mark_now()
        assert team.unconfirmed == 1 and team.contended
    finally:
        for p in busy:
            p.kill()
            p.wait()


def test_unknown_team_test_mode_is_refused(compiled_kernels):
    with pytest.raises(ValueError, match="unknown team test mode 'lazy'"):
        compiled_kernels._team_settings(mode="lazy")


def test_team_is_shared_safely_by_python_threads(backend):
    """Several Python threads cutting their queries among kernel threads at once: one uses the team,
    the others the pool; every answer equals the one-thread kernel's."""
    from concurrent.futures import ThreadPoolExecutor

    m = random_matrix(8, n_rows=500, n_cols=40, density=0.2)
    tp, ti, td, norms = prepared(m)
    q, exclude = many_queries(m, 8, 60)
    qp, qi = q.indptr.astype(np.int64), q.indices.astype(np.int32)

    def one(b):
        lo, hi = q.indptr[b], q.indptr[b + 1]
        out = _kernels.topk_cosine_sparse_many(tp, ti, td, norms, np.array([0, hi - lo], dtype=np.int64),
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
    out = across_backends(_kernels.topk_cosine_sparse_many, tp, ti, td, norms, q.indptr.astype(np.int64),
                          q.indices.astype(np.int32), q.data, 7, exclude, 2)
    assert set(out) == set(available_backends())
    want = out["python"]
    for got in out.values():
        assert [a.tobytes() for a in got] == [a.tobytes() for a in want]


def test_empty_query_and_zero_rows_rank_by_index(backend):
    m = sp.csr_matrix(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 2.0]]))
    tp, ti, td, norms = prepared(m)
    qp = np.array([0, 0, 1], dtype=np.int64)   # query 0 empty, query 1 = column 0
    rows, sims, found = _kernels.topk_cosine_sparse_many(
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
    index = _kernels.TransposeIndex(*prepared(m))
    args = dict(q_indptr=[0, 2], q_indices=[0, 1], q_data=[1.0, 1.0], k=2, exclude=[-1], n_threads=1)
    change, error, word = BAD_QUERIES[case]
    args.update(change)
    with pytest.raises(error, match=word):
        index.query(**args)


def test_bad_index_is_refused():
    with pytest.raises(ValueError, match="indices"):
        _kernels.TransposeIndex([0, 1], [5], [1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="t_data"):
        _kernels.TransposeIndex([0, 1], [0], [np.inf], [1.0])


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
    real = _kernels._check_csr
    monkeypatch.setattr(_kernels, "_check_csr", lambda *a: calls.append(len(a[1])) or real(*a))
    emb.most_similar("dog")
    emb.most_similar_batch(["dog", "cat"])
    emb.most_similar(emb.vectors[emb.key_to_index["dog"]].toarray().ravel())  # a vector: checked itself
    assert calls and max(calls) <= 2 * max(np.diff(emb.counts.indptr))


def test_query_rows_equals_query_of_the_same_rows(backend):
    """The model's own rows, checked once with the index, give what the same rows give as queries."""
    m = random_matrix(5, n_rows=60, n_cols=60, density=0.2)
    tp, ti, td, norms = prepared(m)
    index = _kernels.TransposeIndex(tp, ti, td, norms, rows=(m.indptr, m.indices, m.data))
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
        _kernels.TransposeIndex(tp, ti, td, norms).query_rows([0], 3)
    index = _kernels.TransposeIndex(tp, ti, td, norms, rows=(m.indptr, m.indices, m.data))
    for bad in ([10], [-1], [[0, 1]]):
        with pytest.raises(ValueError, match="rows must"):
            index.query_rows(bad, 3)
    with pytest.raises(ValueError, match="rows must have 10 rows"):
        _kernels.TransposeIndex(tp, ti, td, norms, rows=(m.indptr[:-1], m.indices[:m.indptr[-2]],
                                                         m.data[:m.indptr[-2]]))


@pytest.mark.parametrize("n_queries,threads", [(1, 2), (1, 3), (2, 3), (1, 7)])
def test_few_queries_split_into_row_ranges(backend, n_queries, threads):
    """Fewer queries than threads: each query's rows are cut into ranges whose heaps are merged."""
    m = random_matrix(3, n_rows=45, n_cols=12, density=0.3)   # dense enough for many ties and zeros
    tp, ti, td, norms = prepared(m)
    q, exclude = many_queries(m, 5, n_queries)
    for k in (1, 4, 44, 45):
        got = _kernels.topk_cosine_sparse_many(tp, ti, td, norms, q.indptr.astype(np.int64),
                                               q.indices.astype(np.int32), q.data, k, exclude, threads)
        want = _kernels.topk_cosine_sparse_many(tp, ti, td, norms, q.indptr.astype(np.int64),
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
        rows_, sims, found = _kernels.topk_cosine_sparse_many(
            tp, ti, td, norms, q.indptr.astype(np.int64), q.indices.astype(np.int32), q.data, 25, ids, threads)
        for b, r in enumerate(ids):
            lo, hi = q.indptr[b], q.indptr[b + 1]
            want_rows, want_sims = _kernels.topk_cosine_sparse(
                tp, ti, td, norms, q.indices[lo:hi].astype(np.int32), q.data[lo:hi], 25, int(r))
            assert found[b] == 25
            assert rows_[b].tolist() == want_rows.tolist()
            assert sims[b].tobytes() == want_sims.tobytes()


# -- dense rows ------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n_rows", [1, 3, 4, 5, 23])
def test_dense_rows_equal_the_csr_kernel_bit_for_bit(backend, seed, n_rows):
    """topk_cosine_rows on a dense matrix = topk_cosine on the same matrix as CSR (zeros dropped)."""
    rng = np.random.default_rng(seed * 31 + n_rows)
    dense = rng.normal(size=(n_rows, 7)) * 10.0 ** rng.integers(-3, 4, size=(n_rows, 7))
    dense[rng.random(dense.shape) < 0.3] = 0.0
    if n_rows > 2:
        dense[1] = 0.0                                   # a zero row
        dense[2] = dense[0]                              # a tie
    query = dense[0].copy() if seed % 2 else rng.normal(size=7)
    m = sp.csr_matrix(dense)
    m.sort_indices()
    for k in (0, 1, 3, n_rows + 2):
        for exclude in (-1, 0, n_rows - 1):
            want = _kernels.topk_cosine(m.indptr.astype(np.int64), m.indices.astype(np.int32), m.data,
                                        query, k, exclude)
            got = _kernels.topk_cosine_rows(dense, query, k, exclude)
            assert got[0].tolist() == want[0].tolist()
            assert got[1].tobytes() == want[1].tobytes()
            assert got[0].dtype == np.int64 and got[1].dtype == np.float64


def test_dense_zero_query_ranks_by_index(backend):
    rows, sims = _kernels.topk_cosine_rows(np.eye(5), np.zeros(5), 3, 1)
    assert rows.tolist() == [0, 2, 3] and sims.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    "vectors,query,k,exclude,error,word",
    [
        (np.ones(3), np.ones(3), 1, -1, ValueError, "two-dimensional"),
        (np.array([["a", "b"]]), np.ones(2), 1, -1, TypeError, "real numbers"),
        (np.array([[1.0, np.nan]]), np.ones(2), 1, -1, ValueError, "NaN"),
        (np.ones((2, 2)), np.ones(3), 1, -1, ValueError, "query must have 2"),
        (np.ones((2, 2)), np.array([1.0, np.inf]), 1, -1, ValueError, "query"),
        (np.ones((2, 2)), np.ones(2), -1, -1, ValueError, "k"),
        (np.ones((2, 2)), np.ones(2), 1, 2, ValueError, "exclude"),
    ],
)
def test_dense_rows_refuse_bad_input(backend, vectors, query, k, exclude, error, word):
    with pytest.raises(error, match=word):
        _kernels.topk_cosine_rows(vectors, query, k, exclude)


def test_dense_model_neighbours_unchanged(backend):
    """Dense vectors (an SVD model) rank exactly as the brute force over their rows."""
    emb = cooc.pretrain(CORPUS, stopwords=None, weighting="ppmi", dim=3)
    dense = np.asarray(emb.vectors)
    for word in emb.index_to_key:
        got = emb.most_similar(word, topn=4)
        want_rows, want_sims = brute(sp.csr_matrix(dense), dense[emb.get_index(word)], 4, emb.get_index(word))
        assert [w for w, _ in got] == [emb.index_to_key[r] for r in want_rows]
        np.testing.assert_allclose([s for _, s in got], want_sims, rtol=1e-12, atol=1e-15)


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
def test_dense_columns_give_the_same_floats(backend, block_rows, seed, threads):
    """Columns present in most rows are also stored densely and added as whole rows of floats; the
    answers equal the postings-only kernel's bit for bit (signed data and queries included)."""
    m = random_matrix(seed, n_rows=60, n_cols=12, density=0.6, signed=seed % 2 == 1)
    tp, ti, td, norms = prepared(m)
    index = _kernels.TransposeIndex(tp, ti, td, norms)
    assert index.dense_cols.size > 0, "the matrix should have dense columns"
    q, exclude = many_queries(m, seed, 1 + seed)
    if seed == 3:
        q.data = -q.data   # negative query values: products q * 0.0 are -0.0
    args = (q.indptr.astype(np.int64), q.indices.astype(np.int32), q.data, 7, exclude, threads)
    got = index.query(*args)
    plain = _kernels.topk_cosine_sparse_many(tp, ti, td, norms, *args,
                                             np.zeros(0, dtype=np.int32), np.zeros((0, 60)))
    assert [a.tobytes() for a in got] == [a.tobytes() for a in plain]
    screened = _kernels.topk_cosine_sparse_many(tp, ti, td, norms, *args, screen=True)
    assert [a.tobytes() for a in screened] == [a.tobytes() for a in plain]
    for b in range(q.shape[0]):
        lo, hi = q.indptr[b], q.indptr[b + 1]
        want_rows, want_sims = _kernels.topk_cosine_sparse(tp, ti, td, norms, q.indices[lo:hi].astype(np.int32),
                                                           q.data[lo:hi], 7, int(exclude[b]))
        assert got[0][b, : got[2][b]].tolist() == want_rows.tolist()
        assert got[1][b, : got[2][b]].tobytes() == want_sims.tobytes()


def test_wrong_dense_columns_and_unsorted_transpose_are_refused():
    m = random_matrix(2, n_rows=20, n_cols=6, density=0.7)
    tp, ti, td, norms = prepared(m)
    q = dict(q_indptr=np.array([0, 1]), q_indices=np.array([0], dtype=np.int32), q_data=np.array([1.0]), k=2)
    index = _kernels.TransposeIndex(tp, ti, td, norms)
    cols, dense = index.dense_cols, index.dense
    bad = dense.copy()
    bad[0, 0] += 1.0
    with pytest.raises(ValueError, match="does not hold row"):
        _kernels.topk_cosine_sparse_many(tp, ti, td, norms, **q, dense_cols=cols, dense=bad)
    with pytest.raises(ValueError, match="shape"):
        _kernels.topk_cosine_sparse_many(tp, ti, td, norms, **q, dense_cols=cols, dense=dense[:, :-1])
    with pytest.raises(ValueError, match="together"):
        _kernels.topk_cosine_sparse_many(tp, ti, td, norms, **q, dense_cols=cols)
    with pytest.raises(TypeError, match="screen must be a bool"):
        _kernels.topk_cosine_sparse_many(tp, ti, td, norms, **q, screen=(td,))
    with pytest.raises(ValueError, match="sorted"):
        _kernels.topk_cosine_sparse_many(tp, ti, td, norms, **q, dense_cols=np.r_[cols, cols],
                                         dense=np.vstack([dense, dense]))
    swapped = ti.copy()
    swapped[[0, 1]] = swapped[[1, 0]]   # two rows of the first column out of order
    with pytest.raises(ValueError, match="sorted and distinct within each row"):
        _kernels.TransposeIndex(tp, swapped, td, norms)
    dup = ti.copy()
    dup[1] = dup[0]
    with pytest.raises(ValueError, match="sorted and distinct within each row"):
        _kernels.TransposeIndex(tp, dup, td, norms)


def normalized(m: sp.csr_matrix) -> sp.csr_matrix:
    """``m`` with L2-normalized rows (values no longer small integers, as in a model)."""
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    out = sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ m
    out = sp.csr_matrix(out)
    out.sort_indices()
    return out


def screened_and_exact(m: sp.csr_matrix) -> tuple[_kernels.TransposeIndex, _kernels.TransposeIndex]:
    args = (m.indptr, m.indices, m.data, m.shape[1])
    return _kernels.TransposeIndex.from_rows(*args, screen=True), _kernels.TransposeIndex.from_rows(*args)


def near_duplicates(seed: int, n_rows: int = 60, n_cols: int = 8) -> sp.csr_matrix:
    """Rows that differ from one another by about 1e-10 (relative): their float32 copies are equal, so
    only the exact rescoring can rank them."""
    rng = np.random.default_rng(seed)
    base = rng.integers(1, 5, n_cols).astype(np.float64)
    rows = base * (1.0 + 1e-10 * rng.standard_normal((n_rows, n_cols)))
    rows[:, rng.integers(0, n_cols)] = 0.0   # a column no row has
    return sp.csr_matrix(rows)


@pytest.mark.parametrize("case", ["normalized", "integers", "signed", "near-duplicates", "dense-columns"])
@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("k", [1, 4, 30])
def test_screened_index_gives_the_exact_answers(backend, team_mode, block_rows, case, threads, k):
    """The index built by from_rows reads float32 copies first (compiled kernel) and rescores exactly
    the rows within the float32 error bound of the k-th best: the answers equal the float64 index's
    bit for bit, for single queries (cut into row ranges) and batches, with ties and near ties."""
    seed = len(case) + k
    m = {"normalized": lambda: normalized(random_matrix(seed, n_rows=300, n_cols=50, density=0.1)),
         "integers": lambda: random_matrix(seed, n_rows=300, n_cols=50, density=0.1),
         "signed": lambda: normalized(random_matrix(seed, n_rows=200, n_cols=40, density=0.2, signed=True)),
         "near-duplicates": lambda: near_duplicates(seed),
         "dense-columns": lambda: normalized(random_matrix(seed, n_rows=120, n_cols=12, density=0.6)),
         }[case]()
    screened, exact = screened_and_exact(m)
    assert screened.screen is not None and exact.screen is None
    ids = np.random.default_rng(seed).integers(0, m.shape[0], 5)
    for batch in ([int(ids[0])], ids):
        got = screened.query_rows(batch, k, threads)
        want = exact.query_rows(batch, k, threads)
        assert [a.tobytes() for a in got] == [a.tobytes() for a in want]
    q = m[ids[:2]]
    q.data = q.data * -0.5 if case == "signed" else q.data
    args = (q.indptr.astype(np.int64), q.indices.astype(np.int32), q.data, k, -1, threads)
    assert [a.tobytes() for a in screened.query(*args)] == [a.tobytes() for a in exact.query(*args)]
    rows, sims, found = screened.query_rows([int(ids[0])], k)
    _, want_sims = brute(m, m.toarray()[ids[0]], k, int(ids[0]))   # (summed in another order)
    np.testing.assert_allclose(sims[0, : found[0]], want_sims, rtol=1e-12, atol=1e-15)


@pytest.fixture
def compiled_backend(compiled_kernels):
    """The compiled backend selected for one test (also under COOC_PURE_PYTHON=1)."""
    previous = _kernels.BACKEND
    _kernels.set_backend("cython")
    try:
        yield compiled_kernels
    finally:
        _kernels.set_backend(previous)


def test_screening_rescores_only_near_rows_and_falls_back_on_ties(compiled_backend):
    """A query of distinct similarities is answered by screening; one with hundreds of rows tied
    with its k-th best (within the float32 bound of it) is redone from the float64 values."""
    compiled_kernels = compiled_backend
    compiled_kernels._screen_counts(reset=True)
    m = normalized(random_matrix(3, n_rows=400, n_cols=60, density=0.1))
    screened, exact = screened_and_exact(m)
    ids = list(range(0, 400, 7))
    got, want = screened.query_rows(ids, 5), exact.query_rows(ids, 5)
    assert [a.tobytes() for a in got] == [a.tobytes() for a in want]
    nonzero = int(np.count_nonzero(np.diff(m.indptr)[ids]))   # (a zero query is not screened)
    assert 0 < nonzero < len(ids)
    assert compiled_kernels._screen_counts(reset=True) == (nonzero, 0)
    tied = sp.csr_matrix(np.vstack([np.ones((300, 4)), np.eye(4)]))   # 300 equal rows
    screened, exact = screened_and_exact(tied)
    got, want = screened.query_rows([0, 301], 3), exact.query_rows([0, 301], 3)
    assert [a.tobytes() for a in got] == [a.tobytes() for a in want]
    assert got[0][0].tolist() == [1, 2, 3]
    assert compiled_kernels._screen_counts() == (0, 2)   # 299 and 300 rows tied with the 3rd best


@pytest.mark.parametrize("value,kept", [(1e-30, False), (1e20, False), (1e-17, True), (1e17, True)])
def test_screening_needs_values_within_its_bound(value, kept):
    """The float32 error bound holds for magnitudes in [2**-60, 2**60]: a value outside leaves the
    index unscreened (float64 only)."""
    m = normalized(random_matrix(1, n_rows=30, n_cols=10, density=0.3))
    m.data[3] = value
    index = _kernels.TransposeIndex.from_rows(m.indptr, m.indices, m.data, m.shape[1], screen=True)
    assert (index.screen is not None) == kept
    exact = _kernels.TransposeIndex.from_rows(m.indptr, m.indices, m.data, m.shape[1], screen=False)
    assert [a.tobytes() for a in index.query_rows(range(30), 4)] == [a.tobytes() for a in exact.query_rows(range(30), 4)]


def test_from_rows_refuses_bad_input():
    m = random_matrix(2, n_rows=10, n_cols=6, density=0.5)
    with pytest.raises(TypeError, match="screen must be a bool"):
        _kernels.TransposeIndex.from_rows(m.indptr, m.indices, m.data, 6, screen="yes")
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 3\)"):
        _kernels.TransposeIndex.from_rows(m.indptr, m.indices, m.data, 3)   # columns beyond n_cols


def test_screening_makes_room_for_rows_tied_early_in_a_range(compiled_backend):
    """600 equal rows at the start tie with the heap's worst while it fills, so all are kept; the room
    grows (up to an eighth of the range) instead of giving up, and the rows scored higher later leave
    them out of the answer: screened, not redone, and exact."""
    compiled_kernels = compiled_backend
    rng = np.random.default_rng(5)
    tied = np.zeros((600, 21))
    tied[:, 0] = 1.0
    rest = rng.integers(0, 3, (5400, 21)).astype(np.float64)
    m = sp.csr_matrix(np.vstack([tied, rest]))
    q = sp.csr_matrix(np.ones((1, 21)))
    args = (q.indptr.astype(np.int64), q.indices.astype(np.int32), q.data, 3, -1, 1)
    screened, exact = screened_and_exact(m)
    compiled_kernels._screen_counts(reset=True)
    got = screened.query(*args)
    assert compiled_kernels._screen_counts() == (1, 0)
    assert [a.tobytes() for a in got] == [a.tobytes() for a in exact.query(*args)]
    assert got[0].min() >= 600
    compiled_kernels._team_settings(mode="no-memory")   # the room cannot grow: redone in float64
    try:
        got = screened.query(*args)
    finally:
        compiled_kernels._team_settings(mode="")
    assert compiled_kernels._screen_counts() == (1, 1)
    assert [a.tobytes() for a in got] == [a.tobytes() for a in exact.query(*args)]
