"""One stage of ``cooc bench --growth`` (:mod:`cooc.bench.growth`), run in a process of its own.

``python -c "from cooc.bench.growth_stage import main; main()" SPEC`` loads the stage's input from the
directory the JSON ``SPEC`` names, times the stage once, reads the peak resident memory of the stage and
writes the output the next stage loads. It imports only what the stages need (not the ``cooc bench``
harness and its baselines), so the process's memory is the stage's and the interpreter's.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..embeddings import Embeddings
from ..pretrain import pretrain
from ..weighting import ppmi, svd, unit_rows
from .memory import MemoryProbe

__all__ = ["N_QUERIES", "STAGES", "TOPN", "main", "run_stage"]

STAGES = ("count", "ppmi", "svd", "neighbors")
#: Query words of the neighbours stage and neighbours per query.
N_QUERIES = 100
TOPN = 10
#: The file each stage writes for the next one.
_OUTPUT = {"count": "counts.npz", "ppmi": "ppmi.npz", "svd": "vectors.npy"}


def _peak_now(probe: MemoryProbe) -> tuple[int | None, str]:
    """The peak resident memory since the last ``probe.reset()`` (VmHWM), or, where the high-water mark
    cannot be reset, the peak of the whole process (``ru_maxrss``)."""
    if probe.method == "vmhwm":
        return probe.peak(), "vmhwm"
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None, "none"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (rss if sys.platform == "darwin" else rss * 1024), "ru_maxrss"


def run_stage(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one stage of ``spec`` in this process: load its input from ``spec["dir"]``, time the stage,
    read its peak memory, write its output there. Returns the figures (JSON-ready)."""
    stage, d, jobs = spec["stage"], Path(spec["dir"]), int(spec["jobs"])
    words_path = d / "words.txt"
    facts: dict[str, Any] = {}
    probe = MemoryProbe()
    out: Any
    if stage == "count":
        corpus = Path(spec["corpus"])
        rss_before = probe.reset()
        t0 = time.perf_counter()
        emb = pretrain(corpus, int(spec["window"]), min_count=int(spec["min_count"]),
                       memory_limit=spec["memory_limit"], n_jobs=jobs, tmp_dir=spec.get("tmp_dir"))
        seconds = time.perf_counter() - t0
        peak, method = _peak_now(probe)
        counts = emb.counts
        assert counts is not None
        facts = {"vocabulary": len(emb.index_to_key), "nonzeros": int(counts.nnz)}
        sp.save_npz(d / _OUTPUT["count"], counts, compressed=False)
        words_path.write_text("\n".join(emb.index_to_key), encoding="utf-8")
    elif stage == "ppmi":
        loaded = sp.load_npz(d / _OUTPUT["count"])
        rss_before = probe.reset()
        t0 = time.perf_counter()
        out = ppmi(loaded, dtype=np.float32)   # what pretrain(..., dim=) hands the SVD
        seconds = time.perf_counter() - t0
        peak, method = _peak_now(probe)
        facts = {"vocabulary": int(out.shape[0]), "nonzeros": int(out.nnz)}
        del loaded
        sp.save_npz(d / _OUTPUT["ppmi"], out, compressed=False)
    elif stage == "svd":
        m = sp.load_npz(d / _OUTPUT["ppmi"])
        k = min(int(spec["dim"]), int(m.shape[0]))
        rss_before = probe.reset()
        t0 = time.perf_counter()
        out = np.ascontiguousarray(unit_rows(svd(m, k, seed=int(spec["seed"]), n_jobs=jobs)), dtype=np.float32)
        seconds = time.perf_counter() - t0
        peak, method = _peak_now(probe)
        facts = {"vocabulary": int(out.shape[0]), "dim": int(out.shape[1])}
        del m
        np.save(d / _OUTPUT["svd"], out)
    elif stage == "neighbors":
        vectors = np.load(d / _OUTPUT["svd"])
        words = words_path.read_text(encoding="utf-8").split("\n")
        picks = np.unique(np.linspace(0, len(words) - 1, min(N_QUERIES, len(words))).astype(np.int64))
        queries = [words[i] for i in picks.tolist()]
        rss_before = probe.reset()
        t0 = time.perf_counter()
        model = Embeddings(words, vectors)
        out = model.most_similar_batch(queries, topn=TOPN, n_jobs=jobs)
        seconds = time.perf_counter() - t0
        peak, method = _peak_now(probe)
        facts = {"vocabulary": len(words), "dim": int(vectors.shape[1]), "queries": len(queries),
                 "answers": sum(len(a) for a in out)}
    else:
        raise ValueError(f"unknown stage {stage!r}")
    return {"seconds": seconds, "peak_rss_bytes": peak, "rss_before_bytes": rss_before,
            "memory_method": method, **facts}


def main() -> int:
    """Entry point of a stage's process: the spec as JSON in ``argv[1]``, the figures as JSON on the
    last line of stdout."""
    result = run_stage(json.loads(sys.argv[1]))
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    return 0
