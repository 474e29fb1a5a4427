"""The runs of docs/benchmarks.md "At scale": a generated corpus, pretrain in one process with the
peak memory of each stage, and cooc.dask.pretrain on a LocalCluster with every process's peak.

    python benchmarks/scale_runs.py corpus DIR/c200m.txt --tokens 200M --seed 1
    python benchmarks/scale_runs.py one DIR/c200m.txt [--dim 300] [--memory-limit 4GB] [--jobs 2]
    python benchmarks/scale_runs.py dask DIR/c200m.txt[,more.txt] --output DIR/model [--dim 300]
        [--workers 2] [--worker-memory 6GB]
    python benchmarks/scale_runs.py same DIR/model DIR/single.npz   # sharded counts == one-piece counts

Peaks are each process's ``VmHWM`` (Linux), reset between the stages of ``one``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import cooc
from cooc.bench.baselines import write_zipf_text
from cooc.bench.harness import parse_size as parse_tokens


def peak_gb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1048576
    return float("nan")


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def one(args: argparse.Namespace) -> None:
    from cooc.counting import parked
    from cooc.weighting import ppmi, svd

    t = time.perf_counter()
    reset_peak()
    emb = cooc.pretrain(cooc.LineCorpus(args.corpus), min_count=5, memory_limit=args.memory_limit,
                        n_jobs=args.jobs)
    print(f"counts: {time.perf_counter() - t:.1f} s, peak {peak_gb():.2f} GB, V={len(emb)}, "
          f"nnz={emb.counts.nnz}", flush=True)
    if args.dim is None:
        return
    del emb.vectors
    t = time.perf_counter()
    reset_peak()
    m = ppmi(emb.counts, dtype=np.float32)
    print(f"ppmi: {time.perf_counter() - t:.1f} s, peak {peak_gb():.2f} GB, nnz={m.nnz}", flush=True)
    t = time.perf_counter()
    reset_peak()
    with parked(emb.counts):
        svd(m, args.dim, n_jobs=args.jobs)
    print(f"svd: {time.perf_counter() - t:.1f} s, peak {peak_gb():.2f} GB", flush=True)


def dask(args: argparse.Namespace) -> None:
    from distributed import Client, LocalCluster

    import cooc.dask

    kwargs = {} if args.dim is None else {"weighting": "ppmi", "dim": args.dim}
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, memory_limit=args.worker_memory,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        t = time.perf_counter()
        emb = cooc.dask.pretrain(args.corpus.split(","), window=3, min_count=5, client=client,
                                 output=args.output, **kwargs)
        wall = time.perf_counter() - t
        workers = client.run(peak_gb)
    print(f"wall {wall:.1f} s; V={len(emb)} nnz={emb.counts.nnz}; client and scheduler peak "
          f"{peak_gb():.2f} GB; workers peak " + ", ".join(f"{v:.2f} GB" for v in workers.values()))


def same(args: argparse.Namespace) -> None:
    sharded, whole = cooc.load(args.sharded), cooc.load(args.whole)
    assert sharded.index_to_key == whole.index_to_key
    differ = sum((block != whole.counts[lo:hi]).nnz for lo, hi, block in sharded.counts.blocks())
    print(f"V={len(whole)} nnz={whole.counts.nnz}: {differ} cells differ")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    c = sub.add_parser("corpus")
    c.add_argument("path")
    c.add_argument("--tokens", default="200M")
    c.add_argument("--seed", type=int, default=1)
    o = sub.add_parser("one")
    o.add_argument("corpus")
    o.add_argument("--dim", type=int)
    o.add_argument("--memory-limit", default="4GB")
    o.add_argument("--jobs", type=int, default=2)
    d = sub.add_parser("dask")
    d.add_argument("corpus")
    d.add_argument("--output", required=True)
    d.add_argument("--dim", type=int)
    d.add_argument("--workers", type=int, default=2)
    d.add_argument("--worker-memory", default="6GB")
    s = sub.add_parser("same")
    s.add_argument("sharded")
    s.add_argument("whole")
    args = ap.parse_args()
    if args.what == "corpus":
        print(write_zipf_text(args.path, parse_tokens(args.tokens), 1_000_000, seed=args.seed), "bytes")
    else:
        {"one": one, "dask": dask, "same": same}[args.what](args)


if __name__ == "__main__":
    main()
