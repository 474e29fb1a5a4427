"""Time the workloads a user runs, in one process, to compare two builds of cooc side by side.

Run it with each build's interpreter in turn, several times, on the same corpus (one sentence per
line), and compare the printed JSON:

    python benchmarks/compare_builds.py CORPUS.txt        # with the old build's python, then the new

Each figure is the best of a few runs within the process (seconds, or milliseconds per query).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import cooc


def best(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(path: Path) -> dict[str, float]:
    emb = cooc.pretrain(path, min_count=5)
    dense = emb.reweight("ppmi", dim=100)
    words = emb.index_to_key[:4000:20]
    out = {
        "pretrain_s": best(lambda: cooc.pretrain(path, min_count=5)),
        "pretrain_2_threads_s": best(lambda: cooc.pretrain(path, min_count=5, n_jobs=2)),
        "reweight_ppmi_svd100_s": best(lambda: emb.reweight("ppmi", dim=100), runs=1),
        "batch200_sparse_2_threads_s": best(lambda: emb.most_similar_batch(words, topn=10, n_jobs=2)),
        "batch200_dense_s": best(lambda: dense.most_similar_batch(words, topn=10)),
    }
    for name, model, jobs in (("sparse_1_thread", emb, 1), ("sparse_2_threads", emb, 2), ("dense", dense, 1)):
        per = best(lambda: [model.most_similar(w, topn=10, n_jobs=jobs) for w in words])
        out[f"single_{name}_ms"] = per / len(words) * 1e3
    return {k: round(v, 4) for k, v in out.items()}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
