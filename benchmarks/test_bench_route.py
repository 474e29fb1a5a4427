"""PPMI -> SVD 300 from raw text: cooc against the numpy + scikit-learn route, one thread, by stage.

The route a user would write without cooc: ``str.lower`` and a regular expression for runs of letters
per line, dict ids, the same stopwords and ``min_count``, pair arrays summed by scipy (coo -> csr,
:func:`cooc.bench.baselines.numpy_count`), PPMI with numpy (cds 0.75), then scikit-learn's
``randomized_svd`` with its defaults. cooc's route is one call: ``cooc.pretrain(corpus,
weighting="ppmi", dim=300, n_jobs=1)``. BLAS is held to one thread for both (threadpoolctl).

The corpus: a text file named by ``COOC_BENCH_ROUTE_CORPUS`` (one sentence or paragraph per line;
real English, with quality measured on WordSim353 from gensim's test data when gensim is installed),
else a generated Zipf corpus of ``COOC_BENCH_ROUTE_TOKENS`` tokens (default 1M). Goal: cooc at least 4x
faster end to end, at equal quality on real text: its WordSim353 Spearman at most 0.01 below the
route's (means over ``SEEDS`` seeds). On any corpus the test prints the sum of each route's top-300
singular-value estimates (lower bounds of the true values, so larger is closer; it needs no meaning in
the words) and fails below 95 % of the route's.

    COOC_BENCH_ROUTE_CORPUS=real.txt python -m pytest benchmarks/test_bench_route.py -s
    COOC_BENCH_ROUTE_TOKENS=50M python -m pytest benchmarks/test_bench_route.py -s
"""

from __future__ import annotations

import os
import re
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import cooc
from cooc.bench.baselines import numpy_count
from cooc.text import STOPWORDS
from cooc.weighting import ppmi, svd, unit_rows

sklearn_extmath = pytest.importorskip("sklearn.utils.extmath")
threadpoolctl = pytest.importorskip("threadpoolctl")

SMOKE = os.environ.get("COOC_BENCH_SMOKE", "") == "1"
K = 20 if SMOKE else 300
SEEDS = 1 if SMOKE else int(os.environ.get("COOC_BENCH_ROUTE_SEEDS", "3"))
MIN_COUNT = 5
_LETTERS = re.compile(r"[^\W\d_]+")


def _tokens(size: str) -> int:
    units = {"k": 1_000, "M": 1_000_000}
    return int(float(size[:-1]) * units[size[-1]]) if size[-1] in units else int(size)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = os.environ.get("COOC_BENCH_ROUTE_CORPUS")
    if path:
        return Path(path)
    from corpora import write_zipf_text

    n = 50_000 if SMOKE else _tokens(os.environ.get("COOC_BENCH_ROUTE_TOKENS", "1M"))
    out = tmp_path_factory.mktemp("route") / "corpus.txt"
    write_zipf_text(out, n, max(1_000, min(1_000_000, n // 50)), seed=3)
    return out


def _wordsim():
    try:
        from real_data import gensim_test_data

        return gensim_test_data("wordsim353.tsv")
    except ImportError:
        return None


# -- the numpy + scikit-learn route --------------------------------------------------------------


def baseline_tokenize(path):
    """Lowercased runs of letters per line, stopwords dropped, ``min_count``, sorted vocabulary."""
    index: dict[str, int] = {}
    get = index.setdefault
    ids, lengths = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            toks = [t for t in _LETTERS.findall(line.lower()) if t not in STOPWORDS]
            ids.extend([get(t, len(index)) for t in toks])
            lengths.append(len(toks))
    raw = np.array(ids, dtype=np.int64)
    freq = np.bincount(raw, minlength=len(index))
    words = np.array(list(index), dtype=object)
    kept = np.flatnonzero(freq >= MIN_COUNT)
    order = kept[np.argsort(words[kept], kind="stable")]
    mapping = np.full(len(index), -1, dtype=np.int64)
    mapping[order] = np.arange(order.size)
    mapped = mapping[raw]
    keep = mapped >= 0
    sent = np.repeat(np.arange(len(lengths)), lengths)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(sent[keep], minlength=len(lengths)))])
    return list(words[order]), mapped[keep].astype(np.int32), offsets.astype(np.int64)


def baseline_ppmi(counts, cds=0.75):
    c = counts.tocoo()
    row = np.asarray(counts.sum(axis=1)).ravel().astype(np.float64)
    col = np.asarray(counts.sum(axis=0)).ravel().astype(np.float64) ** cds
    pmi = np.log(c.data * col.sum() / (row[c.row] * col[c.col]))
    keep = pmi > 0
    return sp.csr_matrix((pmi[keep], (c.row[keep], c.col[keep])), shape=counts.shape)


def baseline_route(path, seed, times):
    t = time.perf_counter()
    words, ids, offsets = baseline_tokenize(path)
    times["tokenize"] = time.perf_counter() - t
    t = time.perf_counter()
    counts = numpy_count(ids, offsets, len(words), 3)
    times["count"] = time.perf_counter() - t
    t = time.perf_counter()
    m = baseline_ppmi(counts)
    times["ppmi"] = time.perf_counter() - t
    t = time.perf_counter()
    u, s, _ = sklearn_extmath.randomized_svd(m, K, random_state=seed)
    times["svd"] = time.perf_counter() - t
    return words, unit_rows(u * s ** 0.5), s


# -- cooc ----------------------------------------------------------------------------------------


def cooc_stages(path, seed, times):
    """The same work as ``pretrain(weighting="ppmi", dim=K)``, stage by stage; returns the singular-value
    estimates (the column norms of ``U S``: U's columns are orthonormal)."""
    t = time.perf_counter()
    emb = cooc.pretrain(cooc.LineCorpus(path), window=3, min_count=MIN_COUNT, n_jobs=1)
    times["tokenize + count"] = time.perf_counter() - t
    t = time.perf_counter()
    m = ppmi(emb.counts, dtype=np.float32)
    times["ppmi"] = time.perf_counter() - t
    t = time.perf_counter()
    us = svd(m, K, p=1.0, seed=seed, n_jobs=1)
    times["svd"] = time.perf_counter() - t
    return np.linalg.norm(us, axis=0)


def cooc_route(path, seed):
    return cooc.pretrain(cooc.LineCorpus(path), window=3, min_count=MIN_COUNT, weighting="ppmi", dim=K,
                         n_jobs=1, seed=seed)


def test_route_goal_speed_and_quality(corpus):
    pairs = _wordsim() if os.environ.get("COOC_BENCH_ROUTE_CORPUS") else None
    t_cooc, t_base, r_cooc, r_base, s_cooc, s_base = [], [], [], [], [], []
    stages_base: dict[str, list[float]] = {}
    stages_cooc: dict[str, list[float]] = {}
    with threadpoolctl.threadpool_limits(limits=1):
        for seed in range(SEEDS):
            t = time.perf_counter()
            emb = cooc_route(corpus, seed)
            t_cooc.append(time.perf_counter() - t)
            times: dict[str, float] = {}
            t = time.perf_counter()
            words, vecs, s = baseline_route(corpus, seed, times)
            s_base.append(float(np.sum(s)))
            t_base.append(time.perf_counter() - t)
            for k, v in times.items():
                stages_base.setdefault(k, []).append(v)
            times = {}
            s_cooc.append(float(np.sum(cooc_stages(corpus, seed, times))))
            for k, v in times.items():
                stages_cooc.setdefault(k, []).append(v)
            if pairs is not None:
                r_cooc.append(emb.evaluate_word_pairs(pairs)[1][0])
                r_base.append(cooc.Embeddings(words, vecs).evaluate_word_pairs(pairs)[1][0])
    if pairs is None:  # a generated corpus has only letters and spaces: both routes see one vocabulary
        assert len(words) == len(emb)
    ratio = float(np.median(t_base) / np.median(t_cooc))
    print(f"\n{corpus.name}: V={len(emb)}, nnz={emb.counts.nnz}, k={K}, 1 thread")
    print(f"  end to end: cooc {np.median(t_cooc):.2f} s, numpy + scikit-learn {np.median(t_base):.2f} s: x{ratio:.1f}")
    print("  stages, numpy + scikit-learn: " + ", ".join(f"{k} {np.median(v):.2f} s" for k, v in stages_base.items()))
    print("  stages, cooc: " + ", ".join(f"{k} {np.median(v):.2f} s" for k, v in stages_cooc.items()))
    captured = float(np.mean(s_cooc) / np.mean(s_base))
    print(f"  sum of the top-{K} singular-value estimates: cooc {np.mean(s_cooc):.6g}, "
          f"numpy + scikit-learn {np.mean(s_base):.6g}: ratio {captured:.4f}")
    if pairs is not None:
        print(f"  WordSim353 Spearman: cooc {np.mean(r_cooc):.4f} (sd {np.std(r_cooc):.4f}), "
              f"numpy + scikit-learn {np.mean(r_base):.4f} (sd {np.std(r_base):.4f})")
    if SMOKE:
        return
    if ratio < 4.0:
        warnings.warn(f"route speed goal not reached: x{ratio:.1f} against numpy + scikit-learn (goal x4)",
                      stacklevel=1)
    # The estimates of a randomized SVD are lower bounds of the true singular values, so a larger sum is
    # a closer approximation. svd's 2 power iterations reach about 97 % of the sum of scikit-learn's 7
    # (99.9 % with n_iter=4, at 1.5x the SVD's time) with equal word similarity on real text; below
    # 95 % something is wrong.
    assert captured >= 0.95
    if pairs is not None:   # and on real text: WordSim353 not worse than the route's by more than 0.01
        assert np.mean(r_cooc) >= np.mean(r_base) - 0.01
