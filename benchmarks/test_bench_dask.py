"""cooc.dask on a LocalCluster of 2 worker processes against cooc.pretrain in one process.

    python -m pytest benchmarks/test_bench_dask.py --benchmark-only --benchmark-verbose

A 10M-token generated corpus by default, 50M with ``COOC_BENCH_50M=1``, 20k with ``COOC_BENCH_SMOKE=1``.
Each Dask run is checked against the single-process model (same vocabulary, same integer counts).
``extra_info`` holds the single-process time, the ratio (Dask time / single-process time), the overhead
(Dask time beyond a perfect split of the single-process time over the workers), the time of each pass
and the peak resident memory of each worker process (``resource.getrusage`` via ``Client.run``; each
cluster is started for its benchmark, so the peak is that run's).
"""

from __future__ import annotations

import logging
import os
import resource
import sys
import time

import numpy as np
import pytest

import cooc
from cooc import _backend

from corpora import SMOKE, write_zipf_text

distributed = pytest.importorskip("distributed", reason="the Dask benchmarks need cooc[dask]")
cd = pytest.importorskip("cooc.dask")

N = 20_000 if SMOKE else 50_000_000 if os.environ.get("COOC_BENCH_50M") else 10_000_000
VOCAB = {20_000: 2_000, 10_000_000: 200_000, 50_000_000: 400_000}[N]
LABEL = f"{N // 1_000_000}M" if N >= 1_000_000 else f"{N // 1000}k"
GROUP = f"dask-{LABEL}"


@pytest.fixture(scope="module")
def corpus_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("dask-corpus") / f"zipf-{LABEL}.txt"
    write_zipf_text(path, N, VOCAB, seed=N)
    return path


@pytest.fixture(scope="module")
def single(corpus_path):
    """cooc.pretrain in this process, one thread: (seconds, model)."""
    _backend.set_backend("cython")
    t0 = time.perf_counter()
    emb = cooc.pretrain(cooc.LineCorpus(corpus_path), stopwords=None)
    return time.perf_counter() - t0, emb


class _PassTimes(logging.Handler):
    """Collects the seconds of each pass from cooc.dask's INFO messages."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seconds: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if msg.startswith("cooc.dask: vocabulary"):
            self.seconds["vocabulary"] = round(float(record.args[-1]), 3)
        elif "non-zeros counted" in msg:
            self.seconds["counting"] = round(float(record.args[-1]), 3)


def _peak_rss_mb() -> float:
    """Peak resident memory of this process in MB: VmHWM (reset by exec, unlike ru_maxrss, which a
    spawned worker inherits from the process that forked it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # not Linux
        pass
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux, bytes on macOS
    return maxrss / (1 << 20 if sys.platform == "darwin" else 1024)


def test_single_process(benchmark, corpus_path, single):
    benchmark.group = GROUP
    emb = benchmark.pedantic(cooc.pretrain, args=(cooc.LineCorpus(corpus_path),),
                             kwargs={"stopwords": None}, rounds=1, iterations=1)
    assert emb.index_to_key == single[1].index_to_key
    benchmark.extra_info.update(tokens=N, vocab=len(emb), nnz=int(emb.counts.nnz),
                                size_mb=corpus_path.stat().st_size / 1e6)


@pytest.mark.parametrize("workers", [1, 2])
def test_dask_local_cluster(benchmark, corpus_path, single, workers):
    benchmark.group = GROUP
    single_s, ref = single
    size = corpus_path.stat().st_size
    # one partition per worker (fewer partitions, less overlap to sum), at most 64 MiB each
    partition_size = max(1 << 12, min(64 << 20, size // workers + 1))
    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None, worker_dashboard_address=None)
    client = distributed.Client(cluster, set_as_default=False)
    passes = _PassTimes()
    logging.getLogger("cooc.dask").addHandler(passes)
    logging.getLogger("cooc.dask").setLevel(logging.INFO)
    try:
        times = []

        def run():
            t0 = time.perf_counter()
            emb = cd.pretrain(str(corpus_path), stopwords=None, client=client, partition_size=partition_size)
            times.append(time.perf_counter() - t0)
            return emb

        emb = benchmark.pedantic(run, rounds=1, iterations=1)
        rss = client.run(_peak_rss_mb)
    finally:
        logging.getLogger("cooc.dask").removeHandler(passes)
        client.close()
        cluster.close()
    assert emb.index_to_key == ref.index_to_key
    assert np.array_equal(emb.counts.data, ref.counts.data)
    assert np.array_equal(emb.counts.indices, ref.counts.indices)
    seconds = times[-1]
    benchmark.extra_info.update(
        tokens=N, workers=workers, partitions=-(-size // partition_size),
        seconds=round(seconds, 3), single_process_seconds=round(single_s, 3),
        ratio_to_single=round(seconds / single_s, 3),
        vocabulary_pass_seconds=passes.seconds.get("vocabulary"),
        counting_pass_seconds=passes.seconds.get("counting"),
        overhead_seconds=round(seconds - single_s / workers, 3),
        peak_rss_mb_per_worker=sorted(round(v, 1) for v in rss.values()),
        client_peak_rss_mb=round(_peak_rss_mb(), 1),
    )


@pytest.mark.parametrize("n_blocks", [1, 8])
def test_dask_row_blocks_peak_memory(benchmark, corpus_path, single, n_blocks):
    """Peak resident memory of each of 2 worker processes when the counts are summed as one block
    (one tree over whole matrices) or as 8 row blocks (8 trees, one block per summing task).
    8 partitions, so that every tree has partial sums to add."""
    benchmark.group = f"{GROUP}-row-blocks"
    _, ref = single
    size = corpus_path.stat().st_size
    partition_size = max(1 << 12, size // 8 + 1)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, worker_dashboard_address=None)
    client = distributed.Client(cluster, set_as_default=False)
    try:
        base = client.run(_peak_rss_mb)
        emb = benchmark.pedantic(cd.pretrain, args=(str(corpus_path),),
                                 kwargs={"stopwords": None, "client": client, "n_blocks": n_blocks,
                                         "partition_size": partition_size, "split_every": 2},
                                 rounds=1, iterations=1)
        rss = client.run(_peak_rss_mb)
    finally:
        client.close()
        cluster.close()
    assert emb.index_to_key == ref.index_to_key
    assert np.array_equal(emb.counts.data, ref.counts.data)
    assert np.array_equal(emb.counts.indices, ref.counts.indices)
    benchmark.extra_info.update(
        tokens=N, workers=2, n_blocks=n_blocks, partitions=-(-size // partition_size),
        nnz=int(emb.counts.nnz), matrix_mb=round(emb.counts.nnz * 12 / 1e6, 1),
        peak_rss_mb_per_worker=sorted(round(v, 1) for v in rss.values()),
        max_worker_peak_rss_mb=round(max(rss.values()), 1),
        worker_rss_at_start_mb=sorted(round(v, 1) for v in base.values()),
    )


# ------------------------------------------------------------------------------------------------
# PPMI and SVD on the cluster (cooc.dask_linalg) against cooc.weighting in one process

LINALG_N = 20_000 if SMOKE else int(os.environ.get("COOC_BENCH_DASK_LINALG_TOKENS", "2000000"))
LINALG_VOCAB = max(2_000, LINALG_N // 50)
LINALG_DIM = 20 if SMOKE else 300
LINALG_WORKER_MEMORY = os.environ.get("COOC_BENCH_DASK_LINALG_WORKER_MEMORY", "1.5GB")


@pytest.fixture(scope="module")
def linalg_counts(tmp_path_factory):
    """The counts of a ``LINALG_N``-token corpus (``COOC_BENCH_DASK_LINALG_TOKENS``, default 2M), in
    this process."""
    path = tmp_path_factory.mktemp("dask-linalg") / "zipf.txt"
    write_zipf_text(path, LINALG_N, LINALG_VOCAB, seed=LINALG_N)
    _backend.set_backend("cython")
    return cooc.pretrain(cooc.LineCorpus(path), stopwords=None, min_count=2)


@pytest.fixture(scope="module")
def linalg_single(linalg_counts):
    """PPMI then SVD of the whole matrix in this process (2 threads): (seconds, vectors)."""
    from cooc.weighting import ppmi, svd

    t0 = time.perf_counter()
    vecs = svd(ppmi(linalg_counts.counts), LINALG_DIM, seed=0, n_jobs=2)
    return time.perf_counter() - t0, vecs


def test_dask_ppmi_svd_single_process(benchmark, linalg_counts, linalg_single):
    from cooc.weighting import ppmi, svd

    benchmark.group = f"dask-linalg-{LINALG_N // 1000}k"
    vecs = benchmark.pedantic(lambda: svd(ppmi(linalg_counts.counts), LINALG_DIM, seed=0, n_jobs=2),
                              rounds=1, iterations=1)
    np.testing.assert_array_equal(vecs, linalg_single[1])
    benchmark.extra_info.update(tokens=LINALG_N, vocab=len(linalg_counts), nnz=int(linalg_counts.counts.nnz),
                                dim=LINALG_DIM, process_peak_rss_mb=round(_peak_rss_mb(), 1))


@pytest.mark.parametrize("n_blocks", [2, 6])
def test_dask_ppmi_svd_on_cluster(benchmark, linalg_counts, linalg_single, n_blocks):
    """ppmi_blocks + svd_blocks on 2 workers of 1 thread (``memory_limit`` 1.5GB each, or
    ``COOC_BENCH_DASK_LINALG_WORKER_MEMORY``), the count blocks scattered first (not timed); the
    vectors checked against the single-process ones."""
    from cooc import dask_linalg as dl

    benchmark.group = f"dask-linalg-{LINALG_N // 1000}k"
    single_s, ref = linalg_single
    counts = linalg_counts.counts
    n = counts.shape[0]
    bounds = cd.block_bounds(linalg_counts.frequencies, 3, n_blocks)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       memory_limit=LINALG_WORKER_MEMORY, dashboard_address=None,
                                       worker_dashboard_address=None)
    client = distributed.Client(cluster, set_as_default=False)
    try:
        client.run(_backend.set_backend, "cython")
        blocks = [(int(lo), int(hi), client.scatter([counts[lo:hi]], hash=False)[0])
                  for lo, hi in zip(bounds[:-1], bounds[1:])]
        base = client.run(_peak_rss_mb)
        times = {}

        def run():
            t0 = time.perf_counter()
            weighted = dl.ppmi_blocks(client, blocks, n, dtype=np.float32)
            t1 = time.perf_counter()
            vecs = dl.svd_blocks(client, weighted, n, LINALG_DIM, seed=0, n_jobs=2)
            times.update(ppmi=t1 - t0, svd=time.perf_counter() - t1)
            return vecs

        vecs = benchmark.pedantic(run, rounds=1, iterations=1)
        rss = client.run(_peak_rss_mb)
    finally:
        client.close()
        cluster.close()
    assert np.abs(vecs - ref).max() < 1e-3
    seconds = times["ppmi"] + times["svd"]
    benchmark.extra_info.update(
        tokens=LINALG_N, vocab=n, nnz=int(counts.nnz), dim=LINALG_DIM, workers=2, n_blocks=len(bounds) - 1,
        worker_memory_limit=LINALG_WORKER_MEMORY,
        ppmi_seconds=round(times["ppmi"], 3), svd_seconds=round(times["svd"], 3),
        single_process_seconds=round(single_s, 3), ratio_to_single=round(seconds / single_s, 3),
        max_abs_difference=float(np.abs(vecs - ref).max()),
        peak_rss_mb_per_worker=sorted(round(v, 1) for v in rss.values()),
        worker_rss_at_start_mb=sorted(round(v, 1) for v in base.values()),
        client_peak_rss_mb=round(_peak_rss_mb(), 1),
    )
