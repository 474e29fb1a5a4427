"""PPMI and SVD on a Dask cluster, row block by row block (cooc.dask_linalg), against the
single-process cooc.weighting.ppmi / svd / vectors_from_counts on the same matrix.

One LocalCluster of 2 worker processes serves the module; each test runs on both backends, switched
in the client and in every worker.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
import scipy.sparse as sp

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

import cooc  # noqa: E402
import cooc.dask as cd  # noqa: E402
from cooc import _backend  # noqa: E402
from cooc import dask_linalg as dl  # noqa: E402
from cooc.weighting import ppmi, svd, unit_rows, vectors_from_counts  # noqa: E402

from conftest import available_backends  # noqa: E402


@pytest.fixture(params=available_backends())
def backend(request, client):
    """The backend switched in the client and on every worker for one test."""
    previous = _backend.BACKEND
    _backend.set_backend(request.param)
    client.run(_backend.set_backend, request.param)
    try:
        assert set(client.run(lambda: _backend.BACKEND).values()) == {request.param}
        yield request.param
    finally:
        _backend.set_backend(previous)
        client.run(_backend.set_backend, previous)


def _text(n_lines: int, n_words: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    vocab = [f"w{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}{chr(97 + i // 676)}" for i in range(n_words)]
    p = 1.0 / np.arange(1, n_words + 1) ** 0.9
    p /= p.sum()
    return "\n".join(" ".join(vocab[i] for i in rng.choice(n_words, size=int(rng.integers(3, 30)), p=p))
                     for _ in range(n_lines))


@pytest.fixture(scope="module")
def model():
    """A corpus of about 200k tokens with V > 500 (so svd takes its randomized path)."""
    emb = cooc.pretrain(_text(12_000, 900, 7), window=3, stopwords=None, min_count=2)
    assert len(emb) > 500
    return emb


def _blocks(matrix, bounds):
    return [(int(lo), int(hi), matrix[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])]


def _three(model):
    return cd.block_bounds(model.frequencies, 3, 3)


def _whole(blocks):
    return sp.vstack([f.result() for _, _, f in blocks], format="csr")


def _assert_same_csr(got, ref):
    assert got.shape == ref.shape and got.dtype == ref.dtype
    np.testing.assert_array_equal(got.indptr, ref.indptr)
    np.testing.assert_array_equal(got.indices, ref.indices)
    np.testing.assert_array_equal(got.data, ref.data)  # exact


# ------------------------------------------------------------------------------------------------
# PPMI


@pytest.mark.parametrize("cds, shift", [(0.75, 1.0), (1.0, 5.0), (0.5, 2.0)])
def test_ppmi_blocks_equal_ppmi_of_the_whole_matrix(client, backend, model, cds, shift):
    counts = model.counts
    n = counts.shape[0]
    got = dl.ppmi_blocks(client, _blocks(counts, _three(model)), n, cds, shift)
    assert [(lo, hi) for lo, hi, _ in got] == [(lo, hi) for lo, hi, _ in _blocks(counts, _three(model))]
    _assert_same_csr(_whole(got), ppmi(counts, cds=cds, shift=shift))


def test_ppmi_blocks_float32_and_block_forms(client, backend, model):
    counts = model.counts
    n = counts.shape[0]
    bounds = [0, 1, n // 2, n]  # a one-row block too
    forms = [
        (0, 1, counts[0:1]),  # a matrix in the client
        (1, n // 2, client.scatter([(7, _parts(counts[1:n // 2]))], hash=False)[0]),  # a cooc.dask row block
        (n // 2, n, dask.delayed(_parts)(counts[n // 2:])),  # CSR parts, not yet computed
    ]
    assert [(lo, hi) for lo, hi, _ in forms] == list(zip(bounds[:-1], bounds[1:]))
    got = _whole(dl.ppmi_blocks(client, forms, n, dtype=np.float32, split_every=3))
    ref = ppmi(counts)
    ref32 = sp.csr_matrix((ref.data.astype(np.float32), ref.indices, ref.indptr), shape=ref.shape)
    _assert_same_csr(got, ref32)


def _parts(m):
    m = sp.csr_matrix(m)
    return m.indptr.astype(np.int64), m.indices.astype(np.int32), m.data.astype(np.int64)


# ------------------------------------------------------------------------------------------------
# SVD


def _neighbours(vecs, rows, k=10):
    v = unit_rows(np.array(vecs, dtype=np.float64))
    sims = v[rows] @ v.T
    sims[np.arange(len(rows)), rows] = -np.inf
    return [set(np.argsort(-s, kind="stable")[:k].tolist()) for s in sims]


@pytest.mark.parametrize("opts", [{"p": 0.5}, {"p": 1.0, "add_context": True, "oversamples": 10}])
def test_svd_blocks_equal_svd(client, backend, model, opts):
    pm = ppmi(model.counts)
    n = pm.shape[0]
    blocks = dl.ppmi_blocks(client, _blocks(model.counts, _three(model)), n, dtype=np.float32)
    got = dl.svd_blocks(client, blocks, n, 40, seed=11, n_iter=3, **opts)
    ref = svd(pm, 40, seed=11, n_iter=3, **opts)
    assert got.shape == ref.shape == (n, 40) and got.dtype == np.float64
    diff = np.abs(got - ref).max()
    assert diff < 1e-4, diff
    assert np.abs(ref).max() > 0.1  # the vectors are not all (near) zero
    frequent = np.argsort(-model.frequencies, kind="stable")[:50]
    assert _neighbours(got, frequent) == _neighbours(ref, frequent)


def test_transposed_row_blocks_are_those_of_the_whole_transpose(model):
    m = ppmi(model.counts).astype(np.float32)
    n = m.shape[0]
    bounds = (0, 5, 400, n)
    spans = tuple(zip(bounds[:-1], bounds[1:]))
    pieces = [dl._transposed_pieces(dl._float32_block(m[lo:hi], lo, hi, n), lo, hi, n, bounds) for lo, hi in spans]
    whole = m.T.tocsr()
    for c, (lo, hi) in enumerate(spans):
        ptr, ind, data = dl._transposed_rows(lo, hi, spans, *[p[c] for p in pieces])
        _assert_same_csr(sp.csr_matrix((data, ind, ptr), shape=(hi - lo, n)), whole[lo:hi])


def test_svd_blocks_of_a_small_matrix_is_svd_exactly(client, backend):
    rng = np.random.default_rng(3)
    m = sp.random(120, 120, density=0.1, random_state=4, format="csr") * 5
    m = sp.csr_matrix(m + m.T)
    got = dl.svd_blocks(client, _blocks(m, [0, 50, 51, 120]), 120, 8, p=0.0, seed=int(rng.integers(9)))
    np.testing.assert_array_equal(got, svd(m, 8, p=0.0, seed=0))


def test_svd_blocks_of_counts_with_one_and_many_blocks(client, model):
    counts = model.counts
    n = counts.shape[0]
    ref = svd(counts, 20, seed=1, n_iter=2)
    for bounds in ([0, n], cd.block_bounds(model.frequencies, 3, 7)):
        got = dl.svd_blocks(client, _blocks(counts, bounds), n, 20, seed=1, n_iter=2)
        # counts are large numbers: compare relative to the largest value
        assert np.abs(got - ref).max() < 1e-4 * np.abs(ref).max()


# ------------------------------------------------------------------------------------------------
# the recipe


@pytest.mark.parametrize("weighting, shift", [("count", None), ("ppmi", None), ("sppmi", 3.0)])
def test_sparse_vectors_equal_vectors_from_counts(client, backend, model, weighting, shift):
    counts = model.counts
    n = counts.shape[0]
    got = dl.vectors_on_cluster(client, _blocks(counts, _three(model)), n, weighting, shift=shift)
    assert isinstance(got, list)
    ref = vectors_from_counts(counts, weighting, 0.75, shift, None, 0.5, 0, False, 1)
    _assert_same_csr(_whole(got), ref)


def test_dense_vectors_close_to_vectors_from_counts(client, backend, model):
    counts = model.counts
    n = counts.shape[0]
    got = dl.vectors_on_cluster(client, _blocks(counts, _three(model)), n, "ppmi", dim=30, seed=2,
                                add_context=True)
    ref = vectors_from_counts(counts, "ppmi", 0.75, None, 30, 0.5, 2, True, 1)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.shape == ref.shape == (n, 30)
    assert np.abs(got - ref).max() < 1e-4


# ------------------------------------------------------------------------------------------------
# bad input


def test_bad_blocks_and_parameters(client, model):
    counts = model.counts
    n = counts.shape[0]
    blocks = _blocks(counts, _three(model))
    with pytest.raises(ValueError, match="must start at row"):
        dl.ppmi_blocks(client, blocks[1:], n)
    with pytest.raises(ValueError, match="cover rows 0..*not 0..n_words"):
        dl.ppmi_blocks(client, blocks[:2], n)
    with pytest.raises(TypeError, match="blocks must be"):
        dl.ppmi_blocks(client, [], n)
    with pytest.raises(TypeError, match=r"blocks\[0\] must be"):
        dl.ppmi_blocks(client, [counts], n)
    with pytest.raises(ValueError, match="cds"):
        dl.ppmi_blocks(client, blocks, n, cds=0.0)
    with pytest.raises(ValueError, match="shift"):
        dl.ppmi_blocks(client, blocks, n, shift=0.5)
    with pytest.raises(ValueError, match="dtype"):
        dl.ppmi_blocks(client, blocks, n, dtype=np.int64)
    with pytest.raises(ValueError, match="split_every"):
        dl.ppmi_blocks(client, blocks, n, split_every=1)
    with pytest.raises(ValueError, match="dim"):
        dl.svd_blocks(client, blocks, n, 0)
    with pytest.raises(ValueError, match="dim must be at most"):
        dl.svd_blocks(client, blocks, n, n + 1)
    with pytest.raises(ValueError, match="oversamples"):
        dl.svd_blocks(client, blocks, n, 5, oversamples=-1)
    with pytest.raises(ValueError, match="add_context"):
        dl.vectors_on_cluster(client, blocks, n, "ppmi", add_context=True)
    with pytest.raises(ValueError, match="weighting"):
        dl.vectors_on_cluster(client, blocks, n, "tfidf")
    # a block of the wrong shape, and negative counts: errors from the worker, before any kernel
    wrong = [(0, 2, counts[0:3]), (2, n, counts[2:])]
    with pytest.raises(ValueError, match=r"row block 0..2 must have shape \(2, \d+\)"):
        dl.ppmi_blocks(client, wrong, n)
    negative = [(0, n, -counts)]
    with pytest.raises(ValueError, match="non-negative"):
        dl.ppmi_blocks(client, negative, n)


# ------------------------------------------------------------------------------------------------
# a worker dies


@pytest.mark.parametrize("prefix, stage", [("cooc-ppmi-", "weighting"), ("cooc-svd-atq-", "svd")])
def test_killed_worker_is_a_cluster_error_naming_the_stage(model, prefix, stage):
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, memory_limit="1GiB",
            dashboard_address=None, worker_dashboard_address=None,
        )
    c = distributed.Client(cluster, set_as_default=False)
    counts = model.counts
    n = counts.shape[0]
    try:
        c.register_plugin(_Killer(prefix))
        with pytest.raises(cd.ClusterError) as info:
            dl.vectors_on_cluster(c, _blocks(counts, _three(model)), n, "ppmi", dim=20)
    finally:
        c.close()
        cluster.close()
    msg = str(info.value)
    assert msg.startswith(f"{stage} ("), msg
    # Dask gives up on the task the dead worker ran, or a scatter to it fails first
    assert re.search(r" failed: a worker (holding it died 1 time\(s\), Dask's limit|died while data was sent to it) \(most "
                     r"often out of memory; 2 worker\(s\), memory limit 1.00 GiB each", msg), msg
    assert ("row blocks" in msg) and "\n" not in msg
    if stage == "svd":
        assert "V x l operand of a product (0.00 GiB)" in msg and "lower dim or oversamples" in msg


class _Killer(distributed.WorkerPlugin):
    """Kills its worker process (as an out-of-memory kill would) whenever a task whose key contains
    ``prefix`` starts executing."""

    name = "cooc-test-linalg-kill"

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def transition(self, key, start, finish, **kwargs):
        name = key[0] if isinstance(key, tuple) else str(key)
        if finish == "executing" and self.prefix in name:
            os._exit(1)


@pytest.mark.parametrize("sharded", [False, True])
def test_dask_pretrain_weighting_options_equal_the_single_process(client, tmp_path, sharded):
    import cooc.dask

    def word(x):
        return "w" + chr(97 + x % 26) + chr(97 + x // 26)

    lines = [" ".join(word((i * 7 + j * j) % 131) for j in range(14)) for i in range(900)]
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    kwargs = dict(window=3, min_count=2, weighting="ppmi", dim=12, seed=3)
    local = cooc.pretrain(lines, **kwargs)
    out = str(tmp_path / "model") if sharded else None
    emb = cooc.dask.pretrain(str(path), client=client, n_blocks=3, output=out, **kwargs)
    assert emb.index_to_key == local.index_to_key
    assert emb.recipe == local.recipe
    got = np.asarray(emb.vectors)
    assert got.shape == local.vectors.shape and got.dtype == np.float32
    assert np.abs(got - local.vectors).max() < 1e-4
    sparse = cooc.dask.pretrain(str(path), client=client, n_blocks=3, window=3, min_count=2, weighting="ppmi",
                                output=str(tmp_path / "sparse") if sharded else None)
    want = cooc.pretrain(lines, window=3, min_count=2, weighting="ppmi")
    for w in (word(1), word(5), word(77)):
        assert sparse.most_similar(w, topn=5) == want.most_similar(w, topn=5)
