"""cooc.weighting.svd against scikit-learn's randomized_svd on the same PPMI matrix (k = 300).

Goal: at least 4x faster, with a WordSim353 Spearman within 0.01. The PPMI matrix is built
from gensim's real test data (Lee corpus + Wikipedia excerpt, window 3, min_count 5) when gensim is
installed (``cooc[eval]``), else from a synthetic Zipf corpus (timing only). scikit-learn is imported
here only; it is not a dependency of cooc.

The Spearman of a 300-dimensional SVD moves by about +-0.01 with the random seed of either method (the
spectrum is flat near the 300th value), so both are compared as means over ``SEEDS`` seeds.

    python -m pytest benchmarks/test_bench_svd.py --benchmark-only -s
    COOC_BENCH_SMOKE=1 python -m pytest benchmarks/test_bench_svd.py -s   # tiny sizes
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
import pytest

import cooc
from cooc.weighting import ppmi, svd

SMOKE = os.environ.get("COOC_BENCH_SMOKE", "") == "1"
K = 20 if SMOKE else 300
SEEDS = 2 if SMOKE else 5

sklearn_extmath = pytest.importorskip("sklearn.utils.extmath")


def _data():
    try:
        from real_data import gensim_test_data, real_corpus

        lines = real_corpus(wiki=not SMOKE)
        pairs = gensim_test_data("wordsim353.tsv")
    except ImportError:
        from corpora import zipf_sentences

        lines = zipf_sentences(20_000 if SMOKE else 300_000, 2_000 if SMOKE else 10_000, seed=5)
        pairs = None
    emb = cooc.pretrain(lines, window=3, min_count=5)
    return emb, ppmi(emb.counts), pairs


@pytest.fixture(scope="module")
def data():
    return _data()


def _spearman(emb, vectors, pairs):
    if pairs is None:
        return float("nan")
    model = cooc.Embeddings(emb.index_to_key, vectors, stopwords=emb.stopwords)
    return model.evaluate_word_pairs(pairs)[1][0]


def _sk(m, seed):
    u, s, _ = sklearn_extmath.randomized_svd(m, K, random_state=seed)
    return u * s ** 0.5


def test_svd_cooc(benchmark, data):
    _, m, _ = data
    benchmark.group = "svd k=%d" % K
    benchmark.pedantic(svd, args=(m, K), rounds=3, iterations=1)


def test_svd_sklearn_randomized(benchmark, data):
    _, m, _ = data
    benchmark.group = "svd k=%d" % K
    benchmark.pedantic(_sk, args=(m, 0), rounds=3, iterations=1)


def test_svd_goal_speed_and_quality(data):
    """The goal: >= 4x faster and WordSim353 Spearman within 0.01 (means over seeds)."""
    emb, m, pairs = data
    t_cooc, t_sk, r_cooc, r_sk = [], [], [], []
    for seed in range(SEEDS):
        t = time.perf_counter()
        v = svd(m, K, seed=seed)
        t_cooc.append(time.perf_counter() - t)
        t = time.perf_counter()
        u = _sk(m, seed)
        t_sk.append(time.perf_counter() - t)
        r_cooc.append(_spearman(emb, v, pairs))
        r_sk.append(_spearman(emb, u, pairs))
    ratio = np.median(t_sk) / np.median(t_cooc)
    best = min(t_sk) / min(t_cooc)  # the least disturbed run of each (the machine may be shared)
    print(f"\nV={m.shape[0]} nnz={m.nnz} k={K}: cooc {np.median(t_cooc):.2f} s, sklearn {np.median(t_sk):.2f} s, "
          f"x{ratio:.1f} (medians; best runs {min(t_cooc):.2f} s and {min(t_sk):.2f} s, x{best:.1f}); "
          f"WordSim353 Spearman cooc {np.mean(r_cooc):.4f} (sd {np.std(r_cooc):.4f}), "
          f"sklearn {np.mean(r_sk):.4f} (sd {np.std(r_sk):.4f})")
    print("  per seed (cooc s, sklearn s): " + ", ".join(f"{a:.2f}/{b:.2f}" for a, b in zip(t_cooc, t_sk)))
    if SMOKE:
        return  # tiny sizes: the goal is not meaningful there
    if ratio < 4.0:
        # a speed goal is reported, not asserted: timings depend on the machine and its load
        warnings.warn(f"SVD speed goal not reached: x{ratio:.1f} against scikit-learn (goal x4)", stacklevel=1)
    if pairs is not None:
        assert abs(np.mean(r_cooc) - np.mean(r_sk)) <= 0.01
