"""Top-10 neighbours of dense vectors: cooc.dense.DenseIndex against gensim.

Random normal float32 vectors (d = 300), 100 query rows, each query leaving its own row out (as
``most_similar(word)`` does). Two implementations answer the same 100 queries:

* ``new``: :class:`cooc.dense.DenseIndex` (float32 BLAS scores, exact float64 finish), one query at a
  time (``single``) or all 100 in one :meth:`~cooc.dense.DenseIndex.query_many` (``batch``);
* ``gensim``: ``KeyedVectors.most_similar(word, topn=10)`` on the same vectors, one call per query in
  both modes (gensim has no batch query); left out when gensim is not installed.

The column-order float64 kernel this index replaced is measured against it with
``benchmarks/compare_builds.py`` under an older build.

Each round answers all 100 queries; divide by 100 for the time per query. The ``new`` batch benchmark
also records in ``extra_info`` how many of the 100 top-10 lists equal gensim's.

    python -m pytest benchmarks/test_bench_dense.py --benchmark-only --benchmark-columns=mean,min,rounds
    COOC_BENCH_SMOKE=1 python -m pytest benchmarks/test_bench_dense.py   # tiny sizes
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from cooc.dense import DenseIndex

SMOKE = os.environ.get("COOC_BENCH_SMOKE", "") == "1"
SIZES = [2_000, 5_000] if SMOKE else [50_000, 200_000, 1_000_000]
DIM = 30 if SMOKE else 300
N_QUERIES = 100
TOPN = 10


class Data:
    def __init__(self, n_rows: int) -> None:
        rng = np.random.default_rng(n_rows)
        self.n_rows = n_rows
        self.vectors = rng.standard_normal((n_rows, DIM), dtype=np.float32)
        self.rows = np.sort(rng.choice(n_rows, N_QUERIES, replace=False)).astype(np.int64)
        self.keys = [f"w{i}" for i in range(n_rows)]
        self.new = DenseIndex(self.vectors)
        self._kv = None

    def gensim(self):
        models = pytest.importorskip("gensim.models")
        if self._kv is None:
            kv = models.KeyedVectors(DIM, count=0, dtype=np.float32)
            kv.vectors = self.vectors
            kv.index_to_key = self.keys
            kv.key_to_index = {w: i for i, w in enumerate(self.keys)}
            kv.fill_norms()
            self._kv = kv
        return self._kv


@pytest.fixture(scope="module", params=SIZES, ids=lambda n: f"V{n}")
def data(request):
    d = Data(request.param)
    yield d
    d._kv = None


def _rounds(data, impl):
    return 1 if SMOKE else 3


def _run_new_single(data):
    return [data.new.query(data.vectors[r], TOPN, int(r))[0] for r in data.rows]


def _run_new_batch(data):
    rows, _, found = data.new.query_many(data.vectors[data.rows], TOPN, data.rows)
    return [rows[b, :n] for b, n in enumerate(found.tolist())]


def _run_gensim(data):
    kv = data.gensim()
    return [[kv.key_to_index[w] for w, _ in kv.most_similar(data.keys[r], topn=TOPN)] for r in data.rows]


@pytest.mark.parametrize("impl", ["new", "gensim"])
def test_single(benchmark, data, impl):
    run = {"new": _run_new_single, "gensim": _run_gensim}[impl]
    benchmark.group = f"dense top-10, 100 single queries, V={data.n_rows}, d={DIM}"
    benchmark.extra_info.update(n_rows=data.n_rows, dim=DIM, queries=N_QUERIES)
    run(data)  # build lazily outside the timing
    out = benchmark.pedantic(run, args=(data,), rounds=_rounds(data, impl), iterations=1)
    assert len(out) == N_QUERIES


@pytest.mark.parametrize("impl", ["new", "gensim"])
def test_batch(benchmark, data, impl):
    run = {"new": _run_new_batch, "gensim": _run_gensim}[impl]
    benchmark.group = f"dense top-10, a batch of 100 queries, V={data.n_rows}, d={DIM}"
    benchmark.extra_info.update(n_rows=data.n_rows, dim=DIM, queries=N_QUERIES)
    run(data)
    out = benchmark.pedantic(run, args=(data,), rounds=_rounds(data, impl), iterations=1)
    assert len(out) == N_QUERIES
    if impl == "new":
        singles = _run_new_single(data)
        assert all(np.array_equal(a, b) for a, b in zip(out, singles))  # the batch = the single queries
        try:
            ref = _run_gensim(data)
        except pytest.skip.Exception:
            ref = None
        if ref is not None:
            same = sum(list(a) == list(b) for a, b in zip(out, ref))
            benchmark.extra_info["same_top10_as_gensim"] = same
            assert same >= 90, f"only {same} of {N_QUERIES} top-10 lists equal gensim's"
