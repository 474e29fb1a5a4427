"""Pure-Python twins of the compiled neighbour kernels in ``cooc._ext.neighbors``.

Same names, signatures, docstrings and output dtypes as the compiled module; a test checks it. Sums are
accumulated left to right in column order, exactly like the compiled loops, so both backends give
bit-identical floats. Inputs are trusted: ``cooc.neighbors`` validates them before either twin runs.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

__all__ = ["topk_cosine_sparse_many"]


def _best(k, scored):
    """The k best (sim, row) pairs, best first, ties to the lower row."""
    return heapq.nsmallest(k, scored, key=lambda t: (-t[0], t[1]))


def topk_cosine_sparse_many(t_indptr, t_indices, t_data, row_norms, q_indptr, q_indices, q_data, k,
                            exclude, dense_cols, dense, row_lo, row_hi):
    """Top-k cosine similarities of many sparse queries against the rows of a matrix, via its transpose.

    Query ``b`` is row ``b`` of the CSR matrix ``(q_indptr, q_indices, q_data)``. Only the rows in
    ``[row_lo, row_hi)`` that share a column with a query are visited: for each query column ``c`` (in
    increasing order) the transpose's row ``c`` adds ``q[c] * M[r, c]`` to row ``r``, so every dot
    product is accumulated in column order. ``cos(q, r) = dot(q, r) / (|q| * |r|)``, and 0.0 when
    either norm is 0 (rows sharing no column score 0.0). Results are ordered by decreasing
    similarity, ties by lower row index, with ``exclude[b]`` left out. Columns of the transpose may
    also be given densely (``dense_cols``, ``dense``): the compiled kernel adds them as whole rows of
    floats instead of postings, with the same result (the pure-Python twin ignores them).

    Parameters
    ----------
    t_indptr : int64 array, shape (n_cols + 1,)
    t_indices : int32 array, shape (nnz,)
    t_data : float64 array, shape (nnz,)
        The transpose of the matrix, as CSR with sorted indices.
    row_norms : float64 array, shape (n_rows,)
        Euclidean norm of every row of the matrix, summed in column order.
    q_indptr : int64 array, shape (n_queries + 1,)
        Query ``b`` is ``q_indices[q_indptr[b]:q_indptr[b + 1]]`` (and ``q_data`` likewise); it may be
        a slice of a bigger batch's ``q_indptr``, not starting at 0.
    q_indices : int32 array, shape (q_nnz,)
        Column indices of each query's non-zeros, sorted within each query.
    q_data : float64 array, shape (q_nnz,)
    k : int
        Results per query; at most ``n_rows``.
    exclude : int64 array, shape (n_queries,)
        A row index left out of each query's ranking, or -1 for none.
    dense_cols : int32 array, shape (n_dense,)
        Sorted, distinct rows of the transpose (columns of the matrix) also given in ``dense``.
    dense : float64 array, shape (n_dense, n_rows)
        ``dense[i]`` is row ``dense_cols[i]`` of the transpose with its zeros: the same values.
    row_lo, row_hi : int
        The rows ranked: ``0 <= row_lo <= row_hi <= n_rows``.

    Returns
    -------
    rows : int64 array, shape (n_queries, k)
    sims : float64 array, shape (n_queries, k)
        Best first; only the first ``found[b]`` entries of row ``b`` are meaningful (the others are 0).
    found : int64 array, shape (n_queries,)
        ``min(k, candidates)`` for each query, where ``exclude[b]``, when it is a row of the matrix,
        also counts against ``k`` (at most ``n_rows - 1`` results).
    """
    del dense_cols, dense  # the same values as the postings
    tp, ti, td = t_indptr.tolist(), t_indices.tolist(), t_data.tolist()
    norms = row_norms.tolist()
    qp, qi, qd, ex = q_indptr.tolist(), q_indices.tolist(), q_data.tolist(), exclude.tolist()
    n_queries, kk, lo, hi = len(qp) - 1, int(k), int(row_lo), int(row_hi)
    rows = np.zeros((n_queries, kk), dtype=np.int64)
    sims = np.zeros((n_queries, kk), dtype=np.float64)
    found = np.zeros(n_queries, dtype=np.int64)
    for b in range(n_queries):
        kq = min(kk, len(norms) - 1) if 0 <= ex[b] < len(norms) else kk
        q = list(zip(qi[qp[b]:qp[b + 1]], qd[qp[b]:qp[b + 1]]))
        qsq = 0.0
        for _, v in q:
            qsq += v * v
        qnorm = math.sqrt(qsq)
        acc = {}
        for c, qc in q:
            for j in range(tp[c], tp[c + 1]):
                r = ti[j]
                if lo <= r < hi:
                    acc[r] = acc.get(r, 0.0) + td[j] * qc

        def score(r):
            if qnorm == 0.0 or norms[r] == 0.0:
                return 0.0
            return acc.get(r, 0.0) / (qnorm * norms[r])

        best = _best(kq, ((score(r), r) for r in range(lo, hi) if r != ex[b])) if kq > 0 else []
        found[b] = len(best)
        rows[b, :len(best)] = [r for _, r in best]
        sims[b, :len(best)] = [s for s, _ in best]
    return rows, sims, found
