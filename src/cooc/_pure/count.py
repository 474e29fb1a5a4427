"""Pure-Python twins of the compiled counting kernels in ``cooc._ext.count``.

Same names, signatures, docstrings and output dtypes as the compiled module; a test checks it. Written
to be reasonable pure Python (dict counting, no V x V structure), not a transcription of the C loops.
Inputs are trusted: ``cooc._backend`` validates them before either twin runs.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

__all__ = ["cooccurrence_csr", "csr_add"]



def cooccurrence_csr(ids, offsets, n_words, window, n_threads=1):
    """Count symmetric windowed co-occurrences into a CSR matrix.

    For every position ``i`` of every sentence and every other position ``j`` of the same sentence with
    ``|i - j| <= window``, the cell ``(ids[i], ids[j])`` gains 1. A word next to itself adds to the
    diagonal (two per pair of positions); windows never cross a sentence end.

    Parameters
    ----------
    ids : int32 array, shape (n_tokens,)
        Word ids, each in ``[0, n_words)``.
    offsets : int64 array, shape (n_sentences + 1,)
        Sentence ``s`` is ``ids[offsets[s]:offsets[s + 1]]``; starts at 0, ends at ``n_tokens``.
    n_words : int
        Vocabulary size V.
    window : int
        Symmetric window half-width, at least 1.
    n_threads : int, default 1
        Threads to count with (the result does not depend on it; the pure-Python twin ignores it).

    Returns
    -------
    indptr : int64 array, shape (V + 1,)
    indices : int32 array, shape (nnz,)
        Column indices, sorted within each row.
    data : int64 array, shape (nnz,)
        Raw counts; the matrix is symmetric and stores both triangles.
    """
    ids_list = ids.tolist()
    bounds = offsets.tolist()
    pairs = Counter()
    for s in range(len(bounds) - 1):
        sent = ids_list[bounds[s]:bounds[s + 1]]
        for d in range(1, min(window, len(sent) - 1) + 1):
            pairs.update(zip(sent, sent[d:]))
    rows = [None] * n_words
    for (a, b), c in pairs.items():
        ra = rows[a]
        if ra is None:
            ra = rows[a] = {}
        ra[b] = ra.get(b, 0) + c
        rb = rows[b]
        if rb is None:
            rb = rows[b] = {}
        rb[a] = rb.get(a, 0) + c
    indptr = [0] * (n_words + 1)
    indices = []
    data = []
    for r in range(n_words):
        row = rows[r]
        if row:
            for col in sorted(row):
                indices.append(col)
                data.append(row[col])
        indptr[r + 1] = len(indices)
    return (
        np.array(indptr, dtype=np.int64),
        np.array(indices, dtype=np.int32),
        np.array(data, dtype=np.int64),
    )


def csr_add(indptr_a, indices_a, data_a, indptr_b, indices_b, data_b):
    """Sum two CSR matrices of the same shape with sorted indices and int64 values.

    Parameters
    ----------
    indptr_a, indptr_b : int64 arrays, shape (V + 1,)
    indices_a, indices_b : int32 arrays
        Sorted within each row.
    data_a, data_b : int64 arrays

    Returns
    -------
    indptr : int64 array, shape (V + 1,)
    indices : int32 array
        Sorted within each row; the union of both patterns.
    data : int64 array
        Exact integer sums.
    """
    pa, ia, da = indptr_a.tolist(), indices_a.tolist(), data_a.tolist()
    pb, ib, db = indptr_b.tolist(), indices_b.tolist(), data_b.tolist()
    indptr = [0]
    indices = []
    data = []
    for r in range(len(pa) - 1):
        row = dict(zip(ia[pa[r]:pa[r + 1]], da[pa[r]:pa[r + 1]]))
        for c, v in zip(ib[pb[r]:pb[r + 1]], db[pb[r]:pb[r + 1]]):
            row[c] = row.get(c, 0) + v
        for c in sorted(row):
            indices.append(c)
            data.append(row[c])
        indptr.append(len(indices))
    return (
        np.array(indptr, dtype=np.int64),
        np.array(indices, dtype=np.int32),
        np.array(data, dtype=np.int64),
    )
