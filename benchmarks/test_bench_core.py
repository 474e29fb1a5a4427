"""Counting kernel: compiled against its pure-Python twin and the reference's dense algorithm.

Run: ``python -m pytest benchmarks --benchmark-only`` (group by stage with ``--benchmark-group-by=group``).
Ratios come from one run: compare the ``mean`` column within a group.
"""

from __future__ import annotations

import pytest

from cooc import _backend

_kernels_py = _backend.PURE

from corpora import SMOKE, zipf_ids, zipf_sentences

N_COUNT = 20_000 if SMOKE else 1_000_000
N_REF = 2_000 if SMOKE else 50_000
VOCAB = 2_000 if SMOKE else 50_000


@pytest.fixture(scope="module")
def corpus_1m():
    return zipf_ids(N_COUNT, VOCAB, seed=1)


@pytest.mark.benchmark(group="count-1M")
def test_count_cython(benchmark, corpus_1m):
    mod = _backend.compiled_module()
    assert mod is not None, "the compiled backend is not built"
    ids, offsets = corpus_1m
    indptr, indices, data = benchmark(mod.cooccurrence_csr, ids, offsets, VOCAB, 3)
    assert data.sum() > 0


@pytest.mark.benchmark(group="count-1M")
def test_count_python(benchmark, corpus_1m):
    ids, offsets = corpus_1m
    indptr, indices, data = benchmark.pedantic(
        _kernels_py.cooccurrence_csr, args=(ids, offsets, VOCAB, 3), rounds=1 if SMOKE else 2, iterations=1
    )
    assert data.sum() > 0


def reference_dense_pretrain(sentences: list[str], window: int = 3) -> dict[str, list[float]]:
    """The reference script's algorithm, re-written for comparison: a dense V x V list of lists.

    Tokenize (lowercase letter runs, the 28 stopwords out), sorted vocabulary, a V x V table of floats,
    +1 for every in-window neighbour, rows divided by their norms.
    """
    from cooc.text import preprocess

    docs = [preprocess(s) for s in sentences]
    vocab = sorted({w for d in docs for w in d})
    pos = {w: i for i, w in enumerate(vocab)}
    size = len(vocab)
    table = [[0.0] * size for _ in range(size)]
    for d in docs:
        n = len(d)
        for i in range(n):
            row = table[pos[d[i]]]
            for j in range(max(0, i - window), min(n, i + window + 1)):
                if j != i:
                    row[pos[d[j]]] += 1.0
    out = {}
    for w in vocab:
        row = table[pos[w]]
        norm = sum(x * x for x in row) ** 0.5
        out[w] = [x / norm for x in row] if norm > 0 else row
    return out


@pytest.fixture(scope="module")
def text_50k():
    # V is kept small enough for the dense V x V table (about 10k words, 0.8 GB as Python floats).
    return zipf_sentences(N_REF, 1_000 if SMOKE else 10_000, seed=2)


@pytest.mark.benchmark(group="pretrain-50k")
def test_pretrain_reference_dense(benchmark, text_50k):
    vectors = benchmark.pedantic(reference_dense_pretrain, args=(text_50k,), rounds=1, iterations=1)
    assert vectors


@pytest.mark.benchmark(group="pretrain-50k")
def test_pretrain_cooc(benchmark, text_50k):
    import cooc

    _backend.set_backend("cython")
    emb = benchmark(cooc.pretrain, text_50k, 3)
    assert len(emb) > 0


@pytest.mark.benchmark(group="count-50k")
def test_count_reference_dense(benchmark, text_50k):
    """Counting alone: the dense table fill, on ids (no tokenizing)."""
    import numpy as np

    ids, offsets = zipf_ids(N_REF, 1_000 if SMOKE else 10_000, seed=2)
    V = int(ids.max()) + 1

    def dense_count():
        table = [[0.0] * V for _ in range(V)]
        toks = ids.tolist()
        bounds = offsets.tolist()
        for s in range(len(bounds) - 1):
            lo, hi = bounds[s], bounds[s + 1]
            for i in range(lo, hi):
                row = table[toks[i]]
                for j in range(max(lo, i - 3), min(hi, i + 4)):
                    if j != i:
                        row[toks[j]] += 1.0
        return table

    table = benchmark.pedantic(dense_count, rounds=1, iterations=1)
    assert np.isclose(sum(map(sum, table)), 2 * 3 * N_REF, rtol=0.2)


@pytest.mark.benchmark(group="count-50k")
def test_count_cython_50k(benchmark):
    ids, offsets = zipf_ids(N_REF, 1_000 if SMOKE else 10_000, seed=2)
    mod = _backend.compiled_module()
    assert mod is not None
    benchmark(mod.cooccurrence_csr, ids, offsets, int(ids.max()) + 1, 3)
