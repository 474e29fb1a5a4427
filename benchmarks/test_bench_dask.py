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
