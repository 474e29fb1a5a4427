"""An independent oracle for windowed co-occurrence counting, written from the specification.

Specification (issue 2, DESIGN.md rule 2): for every position ``i`` of every sentence and every other
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
