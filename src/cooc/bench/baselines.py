"""What ``cooc bench`` measures cooc against: generated corpora, a numpy/scipy baseline, the dense reference.

Three parts, all deterministic:

- :func:`write_corpus` writes a Zipf-like corpus (frequency proportional to 1 / rank, frequent words
  short, sentence lengths log-normal like real text) as one sentence per line; :func:`write_zipf_text`
  writes one over a fixed number of word types with uniform sentence lengths (the corpora of
  ``cooc bench --growth`` and of the pytest-benchmark suites under ``benchmarks/``);
- the ``numpy_*`` functions are a well-written numpy/scipy implementation of each stage: the fastest
  "obvious" way to do the job with the scientific Python stack. Its tokenizer is ``str.split``, which is
  right for the generated corpus (lowercase ASCII letters and spaces) but not Unicode-aware like cooc's;
- the ``reference_*`` functions re-implement the algorithm of the reference script: a dense V x V table
  of Python floats filled word by word, rows divided by their norms into a second dense copy, cosine
  similarity over whole dense rows. They keep its data structures and per-element work (so its memory
  and time grow like V^2) but are written in idiomatic Python (``map``, ``itertools``), so cooc's
  speed-up over them is, if anything, understated. :func:`reference_memory_estimate` predicts their
  memory from V alone, so ``cooc bench`` can skip them before they exhaust the machine.

This module is the benchmark's, not part of the public API.
"""

from __future__ import annotations

import itertools
import math
import operator
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..text import STOPWORDS

__all__ = [
    "numpy_classify",
    "numpy_count",
    "numpy_neighbors",
    "numpy_normalize",
    "numpy_pretrain",
    "numpy_tokenize",
    "reference_classify",
    "reference_count",
    "reference_memory_estimate",
    "reference_neighbors",
    "reference_normalize",
    "reference_pretrain",
    "reference_tokenize",
    "vocabulary_size_for",
    "write_corpus",
    "write_zipf_text",
    "zipf_word",
]

# ------------------------------------------------------------------------------------------------
# corpora

_CONSONANTS = "bcdfghjklmnprstvz"
_VOWELS = "aeiou"
_SYLLABLES = [c + v for c in _CONSONANTS for v in _VOWELS]  # 85 two-letter syllables


def vocabulary_size_for(n_tokens: int) -> int:
    """Words available to a corpus of ``n_tokens`` tokens (Heaps-like growth, about n^0.72).

    The corpus uses fewer distinct words than this (the Zipf tail is not all drawn): about 1k at 10k
    tokens, 5.7k at 100k, 31k at 1M and 164k at 10M.
    """
    return max(100, int(1.5 * n_tokens ** 0.72))


def _words_by_rank(n: int) -> list[str]:
    """``n`` distinct lowercase words, shortest first (the most frequent words are the shortest).

    Words are runs of consonant-vowel syllables in bijective base 85; stopwords are skipped, so removing
    stopwords leaves the generated corpus unchanged and every backend does the same work.
    """
    out: list[str] = []
    k = 0
    base = len(_SYLLABLES)
    while len(out) < n:
        i = k + 1
        parts = []
        while i:
            i, r = divmod(i - 1, base)
            parts.append(_SYLLABLES[r])
        word = "".join(reversed(parts))
        if word not in STOPWORDS:
            out.append(word)
        k += 1
    return out


def write_corpus(path: str | os.PathLike[str], n_tokens: int, seed: int = 0, block: int = 1 << 20) -> dict[str, int]:
    """Write a deterministic Zipf-like corpus of exactly ``n_tokens`` tokens, one sentence per line.

    Word ranks are drawn with probability proportional to 1 / rank among
    :func:`vocabulary_size_for` (``n_tokens``) words; sentence lengths are log-normal (median 18
    tokens, clipped to 3..80), like running text. The file is the same for the same arguments.

    Returns
    -------
    dict
        ``bytes``, ``sentences`` and ``tokens`` written.
    """
    n_tokens = int(n_tokens)
    vocab = vocabulary_size_for(n_tokens)
    rng = np.random.default_rng(seed)
    cdf = np.cumsum(1.0 / np.arange(1, vocab + 1))
    cdf /= cdf[-1]
    words = np.array(_words_by_rank(vocab), dtype=object)
    written = sentences = 0
    left = n_tokens
    with open(path, "w", encoding="ascii", newline="\n") as f:
        while left > 0:
            n = min(block, left)
            ranks = np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), vocab - 1)
            lengths = np.clip(np.rint(rng.lognormal(math.log(18.0), 0.5, size=n // 3 + 2)), 3, 80)
            ends = np.cumsum(lengths.astype(np.int64))
            ends = ends[ends < n]
            seps = np.full(n, " ", dtype=object)
            seps[ends - 1] = "\n"
            seps[-1] = "\n"  # a block ends a sentence, so blocks never depend on each other
            out = np.empty(2 * n, dtype=object)
            out[0::2] = words[ranks]
            out[1::2] = seps
            text = "".join(out.tolist())
            f.write(text)
            written += len(text)
            sentences += ends.size + 1
            left -= n
    return {"bytes": written, "sentences": sentences, "tokens": n_tokens}


def zipf_word(i: int) -> str:
    """The made-up word of id ``i`` in :func:`write_zipf_text`: ``"w"`` and ``i + 1`` in base 26 letters."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    out = "w"
    i += 1
    while i:
        i, r = divmod(i, 26)
        out += letters[r]
    return out


def write_zipf_text(
    path: str | os.PathLike[str], n_tokens: int, vocab_size: int, seed: int = 0, block: int = 1_000_000,
    sentence_lengths: tuple[int, int] = (5, 40),
) -> int:
    """Write a Zipf-like corpus, one sentence per line, to ``path``; returns its size in bytes.

    ``n_tokens`` tokens are drawn with probability proportional to 1 / rank among ``vocab_size`` word
    types (:func:`zipf_word`; a random permutation maps ranks to words); sentence lengths are uniform
    in ``sentence_lengths`` (both ends included, 5 to 40 by default), and each block of ``block``
    tokens ends a sentence. Deterministic in ``seed`` (and ``block``).
    """
    lo, hi = (int(x) for x in sentence_lengths)
    if not 1 <= lo <= hi:
        raise ValueError(f"sentence_lengths must be (low, high) with 1 <= low <= high, got {sentence_lengths!r}")
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, vocab_size + 1)
    p /= p.sum()
    cdf = np.cumsum(p)
    perm = rng.permutation(vocab_size)
    words = np.array([zipf_word(i).encode() for i in range(vocab_size)], dtype=object)
    written = 0
    with open(path, "wb") as f:
        left = n_tokens
        while left > 0:
            n = min(block, left)
            ranks = np.minimum(np.searchsorted(cdf, rng.random(n)), vocab_size - 1)
            toks = words[perm[ranks]]
            seps = np.full(n, b" ", dtype=object)
            lengths = rng.integers(lo, hi + 1, size=n // lo + 1)
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


# ------------------------------------------------------------------------------------------------
# numpy / scipy baseline


def numpy_tokenize(
    text: str, stopwords: frozenset[str] | None = STOPWORDS
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``str.split`` per line, dict ids, stopwords masked out, sorted vocabulary.

    Returns ``(words, ids, offsets)`` like cooc's tokenize stage: sorted words, int32 ids of the kept
    tokens, int64 sentence offsets.
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # a final newline does not start an empty sentence
    index: dict[str, int] = {}
    get = index.setdefault
    ids: list[int] = []
    lengths = np.empty(len(lines), dtype=np.int64)
    for s, line in enumerate(lines):
        toks = line.split()
        ids.extend([get(t, len(index)) for t in toks])
        lengths[s] = len(toks)
    raw = np.array(ids, dtype=np.int32)
    words = list(index)
    keep_word = np.ones(len(words), dtype=bool)
    if stopwords:
        for w in stopwords:
            k = index.get(w)
            if k is not None:
                keep_word[k] = False
    kept_words = [w for w, k in zip(words, keep_word.tolist()) if k]
    order = np.argsort(np.array(kept_words, dtype=object), kind="stable")
    mapping = np.full(len(words), -1, dtype=np.int32)
    mapping[np.flatnonzero(keep_word)[order]] = np.arange(order.size, dtype=np.int32)
    mapped = mapping[raw]
    keep = mapped >= 0
    sent = np.repeat(np.arange(len(lines)), lengths)
    per_sentence = np.bincount(sent[keep], minlength=len(lines))
    offsets = np.concatenate([[0], np.cumsum(per_sentence)]).astype(np.int64)
    return [kept_words[i] for i in order.tolist()], mapped[keep], offsets


def numpy_count(ids: np.ndarray, offsets: np.ndarray, n_words: int, window: int = 3) -> sp.csr_matrix:
    """Pair arrays for each distance 1..window (never across a sentence end), coo -> csr, summed."""
    ids = np.asarray(ids, dtype=np.int32)
    sent = np.repeat(np.arange(offsets.size - 1, dtype=np.int32), np.diff(offsets))
    rows, cols = [], []
    for d in range(1, window + 1):
        same = sent[:-d] == sent[d:]
        a, b = ids[:-d][same], ids[d:][same]
        rows += [a, b]
        cols += [b, a]
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int32)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int32)
    counts = sp.csr_matrix((np.ones(r.size, dtype=np.int64), (r, c)), shape=(n_words, n_words))
    counts.sum_duplicates()  # also sorts the indices of each row
    return counts


def numpy_normalize(counts: sp.csr_matrix) -> sp.csr_matrix:
    """Rows divided by their Euclidean norms (zero rows stay zero), vectorized over the non-zeros."""
    data = counts.data.astype(np.float64)
    row = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    norms = np.sqrt(np.bincount(row, weights=data * data, minlength=counts.shape[0]))
    return sp.csr_matrix((data / norms[row], counts.indices, counts.indptr), shape=counts.shape)


def numpy_neighbors(
    vectors: sp.csr_matrix, words: Sequence[str], queries: Sequence[str], topn: int = 10
) -> list[list[tuple[str, float]]]:
    """Top-``topn`` cosine neighbours of each query word (itself excluded, ties by vocabulary order).

    Each query only touches the columns where its row is non-zero (a CSC copy made once), then
    ``argpartition`` picks the candidates.
    """
    index = {w: i for i, w in enumerate(words)}
    csc = vectors.tocsc()
    csc.sort_indices()
    sq = vectors.multiply(vectors).sum(axis=1)
    norms = np.sqrt(np.asarray(sq, dtype=np.float64).ravel())
    out: list[list[tuple[str, float]]] = []
    for word in queries:
        q = index[word]
        lo, hi = vectors.indptr[q], vectors.indptr[q + 1]
        q_idx, q_val = vectors.indices[lo:hi], vectors.data[lo:hi]
        dots = csc[:, q_idx] @ q_val
        denom = norms * norms[q]
        sims = np.divide(dots, denom, out=np.zeros_like(dots), where=denom > 0)
        sims[q] = -np.inf
        k = min(topn, sims.size - 1)
        if k <= 0:
            out.append([])
            continue
        cand = np.argpartition(-sims, k - 1)[:k] if k < sims.size else np.arange(sims.size)
        # widen to every row tied with the k-th best, then order by (-similarity, row)
        kth = sims[cand].min()
        cand = np.flatnonzero(sims >= kth)
        order = np.lexsort((cand, -sims[cand]))[:k]
        out.append([(words[i], float(sims[i])) for i in cand[order].tolist()])
    return out


def _doc_term(texts: Sequence[str], index: dict[str, int], stopwords: frozenset[str] | None) -> sp.csr_matrix:
    rows, cols = [], []
    for d, text in enumerate(texts):
        ids = [index[t] for t in text.lower().split() if t in index and not (stopwords and t in stopwords)]
        rows.extend([d] * len(ids))
        cols.extend(ids)
    m = sp.csr_matrix(
        (np.ones(len(rows)), (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64))),
        shape=(len(texts), len(index)),
    )
    m.sum_duplicates()
    n = np.asarray(m.sum(axis=1)).ravel()
    return sp.csr_matrix(sp.diags(np.divide(1.0, n, out=np.zeros_like(n), where=n > 0)) @ m)


def numpy_classify(
    vectors: sp.csr_matrix,
    words: Sequence[str],
    train_texts: Sequence[str],
    train_labels: Sequence[Any],
    test_texts: Sequence[str],
    stopwords: frozenset[str] | None = STOPWORDS,
) -> np.ndarray:
    """Nearest centroid by cosine: document vectors as (doc x word mean matrix) @ vectors, sparse."""
    index = {w: i for i, w in enumerate(words)}
    X = sp.csr_matrix(_doc_term(train_texts, index, stopwords) @ vectors)
    T = sp.csr_matrix(_doc_term(test_texts, index, stopwords) @ vectors)
    y = np.asarray(list(train_labels))
    classes = np.unique(y)
    centroids = np.vstack([np.asarray(X[y == c].mean(axis=0)).ravel() for c in classes])
    dots = np.asarray(T @ centroids.T)
    t_norm = np.sqrt(np.asarray(T.multiply(T).sum(axis=1)).ravel())
    c_norm = np.linalg.norm(centroids, axis=1)
    denom = np.outer(t_norm, c_norm)
    sims = np.divide(dots, denom, out=np.zeros_like(dots), where=denom > 0)
    return np.asarray(classes[np.argmax(sims, axis=1)])


def numpy_pretrain(path: str | os.PathLike[str], window: int = 3) -> tuple[list[str], sp.csr_matrix, sp.csr_matrix]:
    """The whole pretraining from a file: read, tokenize, count, normalize."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    words, ids, offsets = numpy_tokenize(text)
    counts = numpy_count(ids, offsets, len(words), window)
    return words, counts, numpy_normalize(counts)


# ------------------------------------------------------------------------------------------------
# the reference's dense algorithm, re-implemented


def _reference_words(line: str, stopwords: frozenset[str]) -> list[str]:
    """Maximal runs of alphabetic characters of the lowercased line, stopwords left out."""
    runs = ("".join(g) for alpha, g in itertools.groupby(line.lower(), key=str.isalpha) if alpha)
    return [w for w in runs if w not in stopwords]


def reference_tokenize(text: str) -> tuple[list[list[str]], list[str], dict[str, int]]:
    """Every line tokenized character by character; the sorted vocabulary and its index."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    docs = [_reference_words(line, STOPWORDS) for line in lines]
    vocab = sorted({w for d in docs for w in d})
    return docs, vocab, {w: i for i, w in enumerate(vocab)}


def reference_count(docs: Sequence[Sequence[str]], index: dict[str, int], window: int = 3) -> list[list[float]]:
    """A dense V x V list of lists of floats; +1.0 for every other token within ``window``."""
    size = len(index)
    table = [[0.0] * size for _ in range(size)]
    for doc in docs:
        ids = [index[w] for w in doc]
        n = len(ids)
        for i, wi in enumerate(ids):
            row = table[wi]
            for j in range(max(0, i - window), min(n, i + window + 1)):
                if j != i:
                    row[ids[j]] += 1.0
    return table


def reference_normalize(table: list[list[float]], vocab: Sequence[str]) -> dict[str, list[float]]:
    """Each word's row divided by its norm, as a new dense list (a zero row is kept as it is)."""
    mul = operator.mul
    vectors = {}
    for word, row in zip(vocab, table):
        norm = math.sqrt(sum(map(mul, row, row)))
        vectors[word] = [x / norm for x in row] if norm > 0 else row
    return vectors


def _reference_cosine(a: list[float], b: list[float]) -> float:
    mul = operator.mul
    dot = sum(map(mul, a, b))
    na = math.sqrt(sum(map(mul, a, a)))
    nb = math.sqrt(sum(map(mul, b, b)))
    return 0.0 if na == 0 or nb == 0 else dot / (na * nb)


def reference_neighbors(
    vectors: dict[str, list[float]], queries: Sequence[str], topn: int = 10
) -> list[list[tuple[str, float]]]:
    """For each query, the cosine with every other word's whole dense row, sorted (stable)."""
    out = []
    for word in queries:
        target = vectors[word]
        sims = [(other, _reference_cosine(target, vec)) for other, vec in vectors.items() if other != word]
        sims.sort(key=operator.itemgetter(1), reverse=True)
        out.append(sims[:topn])
    return out


def _reference_doc_vector(text: str, vectors: dict[str, list[float]], dim: int) -> list[float]:
    acc = [0.0] * dim
    n = 0
    for w in _reference_words(text, STOPWORDS):
        vec = vectors.get(w)
        if vec is not None:
            acc = list(map(operator.add, acc, vec))
            n += 1
    return [x / n for x in acc] if n else acc


def _mean(rows: list[list[float]], dim: int) -> list[float]:
    acc = [0.0] * dim
    for r in rows:
        acc = list(map(operator.add, acc, r))
    return [x / len(rows) for x in acc] if rows else acc


def reference_classify(
    vectors: dict[str, list[float]],
    train_texts: Sequence[str],
    train_labels: Sequence[Any],
    test_texts: Sequence[str],
) -> list[Any]:
    """Nearest centroid over dense mean document vectors (centroids made once, then every test text)."""
    dim = len(next(iter(vectors.values())))
    by_class: dict[Any, list[list[float]]] = {}
    for text, label in zip(train_texts, train_labels):
        by_class.setdefault(label, []).append(_reference_doc_vector(text, vectors, dim))
    classes = sorted(by_class)
    centroids = [_mean(by_class[c], dim) for c in classes]
    out = []
    for text in test_texts:
        v = _reference_doc_vector(text, vectors, dim)
        sims = [_reference_cosine(v, c) for c in centroids]
        out.append(classes[max(range(len(sims)), key=sims.__getitem__)])
    return out


def reference_pretrain(path: str | os.PathLike[str], window: int = 3) -> dict[str, list[float]]:
    """The whole dense pretraining from a file: read, tokenize, fill the table, normalize."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    docs, vocab, index = reference_tokenize(text)
    table = reference_count(docs, index, window)
    return reference_normalize(table, vocab)


#: Bytes of a CPython list object (with its GC header) before its item slots, and of one float object.
_LIST_BYTES = 56 + 16
_FLOAT_BYTES = 24


def reference_memory_estimate(n_words: int, n_tokens: int, window: int = 3, *, normalized: bool = True) -> int:
    """Bytes the dense reference needs for a vocabulary of ``n_words`` words (V), estimated from V.

    The table is V lists of V slots (8 bytes each) whose non-zero cells are float objects (at most
    ``2 * window * n_tokens`` of them); the normalized copy (``normalized=True``, needed by every stage
    after counting) is another V lists of V slots, each holding a new float object.
    """
    v = int(n_words)
    slots = v * (_LIST_BYTES + 8 * v)
    table = slots + _FLOAT_BYTES * min(v * v, 2 * window * int(n_tokens))
    if not normalized:
        return table
    return table + slots + _FLOAT_BYTES * v * v
