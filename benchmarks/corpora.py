"""Deterministic generated corpora for the benchmarks (never committed).

The text generator :func:`write_zipf_text` lives in :mod:`cooc.bench.baselines` (``cooc bench --growth``
uses it too); :func:`zipf_ids` and :func:`zipf_sentences` give in-memory corpora.
``COOC_BENCH_SMOKE=1`` shrinks every size so CI can run the suite once as a smoke test.
"""

from __future__ import annotations

import os

import numpy as np

from cooc.bench.baselines import write_zipf_text, zipf_word

__all__ = ["SMOKE", "write_zipf_text", "zipf_ids", "zipf_sentences"]

SMOKE = os.environ.get("COOC_BENCH_SMOKE", "") == "1"


def zipf_ids(n_tokens: int, vocab_size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Zipf-distributed word ids (s = 1) in sentences of 5 to 40 tokens, deterministic in ``seed``."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, vocab_size + 1)
    p /= p.sum()
    # Word ids are alphabetical in cooc, not frequency ranks: shuffle ranks into ids.
    ids = rng.permutation(vocab_size)[rng.choice(vocab_size, size=n_tokens, p=p)].astype(np.int32)
    lengths = rng.integers(5, 41, size=n_tokens // 5 + 1)
    ends = np.cumsum(lengths)
    ends = ends[ends < n_tokens]
    offsets = np.concatenate([[0], ends, [n_tokens]]).astype(np.int64)
    return ids, offsets


def zipf_sentences(n_tokens: int, vocab_size: int, seed: int = 0) -> list[str]:
    """The same corpus as text: one sentence per string, made-up words of letters only."""
    ids, offsets = zipf_ids(n_tokens, vocab_size, seed)
    words = np.array([zipf_word(i) for i in range(vocab_size)], dtype=object)
    toks = words[ids]
    return [" ".join(toks[offsets[s]:offsets[s + 1]]) for s in range(len(offsets) - 1)]
