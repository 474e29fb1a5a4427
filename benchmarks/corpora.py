"""Deterministic generated corpora for the benchmarks (never committed).

``COOC_BENCH_SMOKE=1`` shrinks every size so CI can run the suite once as a smoke test.
"""

from __future__ import annotations

import os

import numpy as np

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
    words = np.array([_word(i) for i in range(vocab_size)], dtype=object)
    toks = words[ids]
    return [" ".join(toks[offsets[s]:offsets[s + 1]]) for s in range(len(offsets) - 1)]


def _word(i: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    out = "w"
    i += 1
    while i:
        i, r = divmod(i, 26)
        out += letters[r]
    return out


def write_zipf_text(path, n_tokens: int, vocab_size: int, seed: int = 0, block: int = 1_000_000) -> int:
    """Write a Zipf-like corpus, one sentence per line, to ``path``; returns its size in bytes.

    Deterministic in ``seed``; words are made-up letter strings, sentences 5 to 40 tokens long.
    """
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, vocab_size + 1)
    p /= p.sum()
    cdf = np.cumsum(p)
    perm = rng.permutation(vocab_size)
    words = np.array([_word(i).encode() for i in range(vocab_size)], dtype=object)
    written = 0
    with open(path, "wb") as f:
        left = n_tokens
        while left > 0:
            n = min(block, left)
            ranks = np.minimum(np.searchsorted(cdf, rng.random(n)), vocab_size - 1)
            toks = words[perm[ranks]]
            seps = np.full(n, b" ", dtype=object)
            lengths = rng.integers(5, 41, size=n // 5 + 1)
            ends = np.cumsum(lengths) - 1
            seps[ends[ends < n]] = b"\n"
            seps[-1] = b"\n"
            out = np.empty(2 * n, dtype=object)
            out[0::2] = toks
            out[1::2] = seps
            data = b"".join(out.tolist())
            f.write(data)
            written += len(data)
            left -= n
    return written
