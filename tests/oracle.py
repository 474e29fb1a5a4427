"""An independent oracle for windowed co-occurrence counting, written from the specification.

Specification: for every position ``i`` of every sentence and every other
position ``j`` of the same sentence with ``|i - j| <= window``, the cell ``(word_i, word_j)`` gains 1.
Windows never cross a sentence end; a word next to itself adds to the diagonal.

Nothing here is derived from the kernels: it is the plain double loop, deliberately slow and obvious.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

import numpy as np


def cooccurrence_counts(
    sentences: Sequence[Sequence[Hashable]], window: int
) -> dict[tuple[Hashable, Hashable], int]:
    """Dict ``(a, b) -> count`` over all sentences; tokens may be ids or words."""
    counts: dict[tuple[Hashable, Hashable], int] = {}
    for sent in sentences:
        n = len(sent)
        for i in range(n):
            # every j with |i - j| <= window inside the sentence, except i itself
            for j in range(max(0, i - window), min(n, i + window + 1)):
                if i == j:
                    continue
                assert abs(i - j) <= window
                key = (sent[i], sent[j])
                counts[key] = counts.get(key, 0) + 1
    return counts


def split_sentences(ids: Sequence[int], offsets: Sequence[int]) -> list[list[int]]:
    """Flat ids + sentence offsets -> list of sentences (lists of ints)."""
    ids = [int(x) for x in ids]
    offsets = [int(x) for x in offsets]
    return [ids[offsets[s]:offsets[s + 1]] for s in range(len(offsets) - 1)]


def csr_to_dict(indptr, indices, data) -> dict[tuple[int, int], int]:
    """A CSR triple -> dict ``(row, col) -> value`` of its stored entries (duplicates summed)."""
    indptr = np.asarray(indptr)
    rows = np.repeat(np.arange(indptr.size - 1), np.diff(indptr)).tolist()
    out: dict[tuple[int, int], int] = {}
    for r, c, v in zip(rows, np.asarray(indices).tolist(), np.asarray(data).tolist()):
        out[(r, c)] = out.get((r, c), 0) + v
    return out


def words_to_index_counts(
    word_counts: dict[tuple[str, str], int], index: dict[str, int]
) -> dict[tuple[int, int], int]:
    """Re-key a word-pair count dict by vocabulary index."""
    return {(index[a], index[b]): c for (a, b), c in word_counts.items()}


def reference_tokenize(text: str) -> list[str]:
    """The reference's tokenizer: maximal runs of ``str.isalpha`` characters of ``text.lower()``."""
    return alpha_runs(text.lower())


def alpha_runs(text: str) -> list[str]:
    """Maximal runs of ``str.isalpha`` characters, by a per-character loop (no lowercasing)."""
    tokens: list[str] = []
    current: list[str] = []
    for ch in text:
        if ch.isalpha():
            current.append(ch)
        elif current:
            tokens.append("".join(current))
            current = []
    if current:
        tokens.append("".join(current))
    return tokens


#: The reference script's 28 stopwords, copied from its text.
REFERENCE_STOPWORDS = frozenset({
    "a", "an", "the", "is", "it", "in", "on", "of", "to", "and",
    "for", "with", "that", "this", "are", "was", "be", "at", "by",
    "or", "from", "but", "not", "we", "all", "had", "has", "have",
})


def reference_preprocess(text: str, stopwords=REFERENCE_STOPWORDS) -> list[str]:
    toks = reference_tokenize(text)
    if stopwords is None:
        return toks
    return [t for t in toks if t not in stopwords]


def cosine(a, b) -> float:
    """Cosine of two dense vectors by plain left-to-right loops; 0.0 when either norm is 0."""
    dot = 0.0
    sa = 0.0
    sb = 0.0
    for x, y in zip([float(v) for v in a], [float(v) for v in b]):
        dot += x * y
        sa += x * x
        sb += y * y
    if sa == 0.0 or sb == 0.0:
        return 0.0
    return dot / (math.sqrt(sa) * math.sqrt(sb))


def topk_cosine(indptr, indices, data, query, k, exclude=-1):
    """Reference top-k cosine of a dense query against every row of a CSR matrix: ``(rows, sims)``.

    ``cos(q, r) = dot(q, r) / (|q| * |r|)`` with every sum accumulated in column order (as the kernels
    do, so the floats are the kernels' own), 0.0 when either norm is 0; best first, ties to the lower
    row index; ``exclude`` is left out.
    """
    q = [float(x) for x in np.asarray(query).tolist()]
    qnorm = math.sqrt(sum_in_order(x * x for x in q))
    bounds, cols, vals = np.asarray(indptr).tolist(), np.asarray(indices).tolist(), np.asarray(data).tolist()
    scored = []
    for r in range(len(bounds) - 1):
        if r == exclude:
            continue
        dot = sq = 0.0
        for j in range(bounds[r], bounds[r + 1]):
            dot += vals[j] * q[cols[j]]
            sq += vals[j] * vals[j]
        rnorm = math.sqrt(sq)
        scored.append((0.0 if qnorm == 0.0 or rnorm == 0.0 else dot / (qnorm * rnorm), r))
    best = sorted(scored, key=lambda t: (-t[0], t[1]))[: max(0, int(k))]
    return (np.array([r for _, r in best], dtype=np.int64), np.array([s for s, _ in best], dtype=np.float64))


def topk_cosine_sparse(t_indptr, t_indices, t_data, row_norms, q_indices, q_data, k, exclude=-1):
    """Reference top-k cosine of a sparse query against every row of a matrix given by its transpose:
    ``(rows, sims)``, the dot products accumulated over the query's columns in increasing order."""
    tp, ti, td = np.asarray(t_indptr).tolist(), np.asarray(t_indices).tolist(), np.asarray(t_data).tolist()
    norms = np.asarray(row_norms).tolist()
    q = list(zip(np.asarray(q_indices).tolist(), np.asarray(q_data).tolist()))
    qnorm = math.sqrt(sum_in_order(v * v for _, v in q))
    acc: dict[int, float] = {}
    for c, qc in q:
        for j in range(tp[c], tp[c + 1]):
            acc[ti[j]] = acc.get(ti[j], 0.0) + td[j] * qc
    scored = [
        (0.0 if qnorm == 0.0 or norms[r] == 0.0 else acc.get(r, 0.0) / (qnorm * norms[r]), r)
        for r in range(len(norms)) if r != exclude
    ]
    best = sorted(scored, key=lambda t: (-t[0], t[1]))[: max(0, int(k))]
    return (np.array([r for _, r in best], dtype=np.int64), np.array([s for s, _ in best], dtype=np.float64))


def sum_in_order(values) -> float:
    """Left-to-right float sum (``sum`` of floats, spelled out)."""
    total = 0.0
    for v in values:
        total += v
    return total
