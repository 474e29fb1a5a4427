"""The sparse neighbour index: a matrix prepared for top-k cosine queries through its transpose
(:class:`TransposeIndex`); dense vectors use :class:`cooc.dense.DenseIndex`.

An index validates its matrix once; each query checks only its queries, then calls the active backend's
kernels (:func:`cooc._backend.active`). A batch of queries is cut into ranges of queries of about equal
work, one per thread; fewer queries than threads are each cut into ranges of rows, whose top-k lists
are merged. Both run on :mod:`cooc._parallel`, and the results never depend on the number of threads.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from . import _backend, _parallel
from ._backend import _check_csr, _check_excludes, _check_int, _float_array, _int_array, row_norms

__all__ = ["TransposeIndex", "topk_cosine_sparse_many"]

#: queries handed to the threads at a time (Ctrl-C is seen between two such rounds)
CHUNK_QUERIES = 512


def _check_queries(q_indptr: Any, q_indices: Any, q_data: Any, n_cols: int) -> tuple[np.ndarray, ...]:
    qp, qi, qd = _check_csr(q_indptr, q_indices, q_data, n_cols)
    qd = _float_array("q_data", qd)
    if qd.size != qi.size:
        raise ValueError("q_data and q_indices must have the same length")
    if qi.size > 1:
        starts = np.zeros(qi.size, dtype=bool)
        starts[qp[1:-1][qp[1:-1] < qi.size]] = True
        if np.any((np.diff(qi) <= 0) & ~starts[1:]):
            raise ValueError("q_indices must be sorted and distinct within each query")
    return qp, qi, qd


def topk_cosine_sparse_many(
    t_indptr: Any, t_indices: Any, t_data: Any, row_norms: Any, q_indptr: Any, q_indices: Any,
    q_data: Any, k: int, exclude: Any = -1, n_threads: int = 1, dense_cols: Any = None, dense: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-``k`` rows of a matrix (given by its transpose) for each sparse query, checked: ``(rows,
    sims, found)`` as :func:`cooc._pure.neighbors.topk_cosine_sparse_many` returns them for all rows,
    on ``n_threads`` threads. ``dense_cols`` and ``dense`` (optional, together) are checked to hold
    exactly those rows of the transpose."""
    index = TransposeIndex(t_indptr, t_indices, t_data, row_norms)
    if dense_cols is not None or dense is not None:
        index.dense_cols, index.dense = _check_dense(index, dense_cols, dense)
    return index.query(q_indptr, q_indices, q_data, k, exclude, n_threads)


def _check_dense(index: TransposeIndex, dense_cols: Any, dense: Any) -> tuple[np.ndarray, np.ndarray]:
    """Dense copies of rows of ``index``'s transpose, checked to hold exactly those rows' values."""
    if dense_cols is None or dense is None:
        raise ValueError("dense_cols and dense must be given together")
    cols = _int_array("dense_cols", dense_cols, np.int64)
    vals = _float_array("dense", dense, ndim=2)
    n_cols = index.t_indptr.size - 1
    if cols.size and (int(cols.min()) < 0 or int(cols.max()) >= n_cols or np.any(np.diff(cols) <= 0)):
        raise ValueError(f"dense_cols must be sorted, distinct and in [0, {n_cols})")
    if vals.shape != (cols.size, index.n_rows):
        raise ValueError(f"dense must have shape ({cols.size}, {index.n_rows}), got {vals.shape}")
    want = _rows_with_zeros(index.t_indptr, index.t_indices, index.t_data, index.n_rows, cols)
    wrong = np.flatnonzero(~np.all(vals == want, axis=1))
    if wrong.size:
        raise ValueError(f"dense[{wrong[0]}] does not hold row {cols[wrong[0]]} of the transpose")
    return cols.astype(np.int32), vals


def _check_sorted_rows(name: str, indptr: np.ndarray, indices: np.ndarray) -> None:
    """Refuse a CSR whose column indices are not strictly increasing within each row (the kernels
    search them by bisection and add a row's postings four at a time)."""
    if indices.size > 1:
        rising = np.diff(indices) > 0
        starts = indptr[1:-1]
        rising[starts[(starts > 0) & (starts < indices.size)] - 1] = True   # a new row may start lower
        if not rising.all():
            raise ValueError(f"{name} must be sorted and distinct within each row")


#: A column of the matrix (row of the transpose) is also stored densely when at least this share of
#: the rows has an entry in it, and all of them together take at most DENSE_SHARE of the transpose's
#: own bytes. At V = 200k (10M tokens) six columns (9.6 MB) hold 40 % of a query's postings on average;
#: added as rows of floats they cost a third of their postings.
DENSE_MIN_DENSITY = 0.5
DENSE_SHARE = 0.25


def _dense_columns(
    t_indptr: np.ndarray, t_indices: np.ndarray, t_data: np.ndarray, n_rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """The transpose's densest rows with their zeros, ``(cols, dense)``: int32 sorted row numbers and
    float64 ``(len(cols), n_rows)``; none when no row is dense enough."""
    deg = np.diff(t_indptr)
    cand = np.flatnonzero(deg >= max(1.0, DENSE_MIN_DENSITY * n_rows))
    budget = int(DENSE_SHARE * (t_data.nbytes + t_indices.nbytes) // max(1, 8 * n_rows))
    if cand.size > budget:
        cand = np.sort(cand[np.argsort(-deg[cand], kind="stable")[:budget]])
    return cand.astype(np.int32), _rows_with_zeros(t_indptr, t_indices, t_data, n_rows, cand)


def _rows_with_zeros(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, n_cols: int,
                     rows: np.ndarray) -> np.ndarray:
    """Rows ``rows`` of a CSR matrix as a dense float64 array ``(len(rows), n_cols)``."""
    out = np.zeros((rows.size, n_cols), dtype=np.float64)
    for i, r in enumerate(rows.tolist()):
        lo, hi = int(indptr[r]), int(indptr[r + 1])
        out[i, indices[lo:hi]] = data[lo:hi]
    return out


def _merge(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], k: int, kq: np.ndarray,
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The top-k lists of disjoint row ranges merged: best first, ties to the lower row."""
    rows = np.concatenate([p[0] for p in parts], axis=1)
    sims = np.concatenate([p[1] for p in parts], axis=1)
    valid = np.concatenate([np.arange(k)[None, :] < p[2][:, None] for p in parts], axis=1)
    key_sims = np.where(valid, -sims, np.inf)
    key_rows = np.where(valid, rows, np.iinfo(np.int64).max)
    order = np.lexsort((key_rows, key_sims), axis=-1)[:, :k]
    found = np.minimum(kq, sum(p[2] for p in parts))
    keep = np.arange(k)[None, :] < found[:, None]
    out_rows = np.where(keep, np.take_along_axis(rows, order, axis=1), 0)
    out_sims = np.where(keep, np.take_along_axis(sims, order, axis=1), 0.0)
    return out_rows, out_sims, found


def _run_queries(t: tuple[np.ndarray, ...], qp: np.ndarray, qi: np.ndarray, qd: np.ndarray, k: int,
                 ex: np.ndarray, n_threads: int, dense_cols: np.ndarray, dense: np.ndarray,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The checked queries answered on ``n_threads`` threads (see the module's docstring)."""
    tp, ti, td, rn = t
    n_rows, B = rn.size, qp.size - 1
    if B == 0 or k == 0 or n_rows == 0:
        return np.zeros((B, k), dtype=np.int64), np.zeros((B, k), dtype=np.float64), np.zeros(B, dtype=np.int64)
    kernel = _backend.active().topk_cosine_sparse_many
    if _backend.BACKEND != "cython":
        n_threads = 1   # the pure twins hold the GIL
    if B < n_threads and n_rows >= 2 * n_threads:   # each query over ranges of rows, merged
        ranges = _parallel.cuts(n_rows, n_threads)
        parts = _parallel.run([
            partial(kernel, tp, ti, td, rn, qp, qi, qd, k, ex, dense_cols, dense, lo, hi) for lo, hi in ranges
        ])
        kq = np.where((ex >= 0) & (ex < n_rows), min(k, n_rows - 1), k)
        return _merge(parts, k, kq)
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    # whole queries, in ranges of about equal work: the postings of their columns, plus a scan of the rows
    cost = np.zeros(qi.size + 1, dtype=np.int64)
    np.cumsum(tp[qi + 1] - tp[qi], out=cost[1:])
    step = max(1, CHUNK_QUERIES * n_threads)
    for b0 in range(0, B, step):
        b1 = min(B, b0 + step)
        work = cost[qp[b0:b1 + 1]] - cost[qp[b0]] + (n_rows // 4 + 1) * np.arange(b1 - b0 + 1)
        out.extend(_parallel.run([
            partial(kernel, tp, ti, td, rn, qp[b0 + lo:b0 + hi + 1], qi, qd, k, ex[b0 + lo:b0 + hi], dense_cols,
                    dense, 0, n_rows)
            for lo, hi in _parallel.cuts(b1 - b0, n_threads, work)
        ]))
    if len(out) == 1:
        return out[0]
    return (np.concatenate([o[0] for o in out]), np.concatenate([o[1] for o in out]),
            np.concatenate([o[2] for o in out]))


class TransposeIndex:
    """A matrix prepared for top-k cosine queries: its transpose and row norms, checked once.

    Building it validates the whole transpose (O(nnz)); each :meth:`query` then checks only its
    queries before calling :func:`topk_cosine_sparse_many` of the selected backend, so a query costs
    the postings of its columns, not a pass over the matrix.
    """

    def __init__(self, t_indptr: Any, t_indices: Any, t_data: Any, row_norms: Any, rows: Any = None) -> None:
        self.row_norms = _float_array("row_norms", row_norms)
        self.t_indptr, self.t_indices, td = _check_csr(t_indptr, t_indices, t_data, self.row_norms.size)
        self.t_data = _float_array("t_data", td)
        if self.t_data.size != self.t_indices.size:
            raise ValueError("t_data and t_indices must have the same length")
        _check_sorted_rows("t_indices", self.t_indptr, self.t_indices)
        self.dense_cols, self.dense = _dense_columns(self.t_indptr, self.t_indices, self.t_data, self.n_rows)
        # the matrix's own rows (CSR), checked once like queries, for query_rows
        self.rows: tuple[np.ndarray, ...] | None = None
        if rows is not None:
            m_indptr, m_indices, m_data = rows
            self.rows = _check_queries(m_indptr, m_indices, m_data, self.t_indptr.size - 1)
            if self.rows[0].size - 1 != self.n_rows:
                raise ValueError(f"rows must have {self.n_rows} rows, got {self.rows[0].size - 1}")

    @classmethod
    def from_rows(cls, indptr: Any, indices: Any, data: Any, n_cols: int) -> TransposeIndex:
        """The index of a CSR matrix ``(indptr, indices, data)`` with ``n_cols`` columns, its transpose
        built here."""
        import scipy.sparse as sp

        rows = _check_queries(indptr, indices, data, _check_int("n_cols", n_cols, 0))
        m = sp.csr_matrix((rows[2], rows[1], rows[0]), shape=(rows[0].size - 1, int(n_cols)))
        t = sp.csr_matrix(m.T, dtype=np.float64)
        t.sort_indices()
        index = cls(t.indptr, t.indices, t.data, row_norms(rows[0], rows[2]))
        index.rows = rows   # (checked above: not again)
        return index

    @property
    def _t(self) -> tuple[np.ndarray, ...]:
        return self.t_indptr, self.t_indices, self.t_data, self.row_norms

    @property
    def n_rows(self) -> int:
        return int(self.row_norms.size)

    def query(
        self, q_indptr: Any, q_indices: Any, q_data: Any, k: int, exclude: Any = -1, n_threads: int = 1
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Top-``k`` rows for each query row: ``(rows, sims, found)``, see :func:`topk_cosine_sparse_many`."""
        qp, qi, qd = _check_queries(q_indptr, q_indices, q_data, self.t_indptr.size - 1)
        k = min(_check_int("k", k, 0), self.n_rows)
        ex = _check_excludes(exclude, qp.size - 1, self.n_rows)
        n_threads = _check_int("n_threads", n_threads, 1)
        return _run_queries(self._t, qp, qi, qd, k, ex, n_threads, self.dense_cols, self.dense)

    def query_rows(self, rows: Any, k: int, n_threads: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`query` for rows of the matrix itself, each left out of its own ranking.

        The rows were checked when the index was built (``rows=``): only the row numbers are checked
        here, which makes a single query about 0.1 ms cheaper than :meth:`query`.
        """
        if self.rows is None:
            raise ValueError("this index was built without the matrix's rows (rows=)")
        ids = _int_array("rows", rows, np.int64)
        if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= self.n_rows):
            raise ValueError(f"rows must lie in [0, {self.n_rows})")
        k = min(_check_int("k", k, 0), self.n_rows)
        n_threads = _check_int("n_threads", n_threads, 1)
        mp, mi, md = self.rows
        if ids.size == 1:   # views, no copy
            lo, hi = int(mp[ids[0]]), int(mp[ids[0] + 1])
            qp, qi, qd = np.array([0, hi - lo], dtype=np.int64), mi[lo:hi], md[lo:hi]
        else:
            spans = [(int(mp[r]), int(mp[r + 1])) for r in ids.tolist()]
            qp = np.zeros(ids.size + 1, dtype=np.int64)
            np.cumsum([hi - lo for lo, hi in spans], out=qp[1:])
            qi = np.concatenate([mi[lo:hi] for lo, hi in spans]) if spans else mi[:0]
            qd = np.concatenate([md[lo:hi] for lo, hi in spans]) if spans else md[:0]
        return _run_queries(self._t, qp, qi, qd, k, ids, n_threads, self.dense_cols, self.dense)

