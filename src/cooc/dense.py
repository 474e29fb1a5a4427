"""Top-k cosine neighbours of dense vectors: one BLAS product, then an exact float64 finish.

:class:`DenseIndex` stores the rows of a dense matrix once, scaled to unit length (float32 by default,
as gensim and the word2vec formats store vectors), scores a query (or a block of queries) against every
row with one matrix-vector (matrix-matrix) product, keeps the rows whose score lies within a proven
rounding bound of the k-th score, and ranks those few again in float64. The result is therefore exact
(see :class:`DenseIndex`), not merely "what float32 gives".

This module is pure numpy: there is no compiled kernel and no pure-Python twin, so the compiled and the
pure backends give the same results by construction. It starts no threads of its own; the BLAS library
behind numpy uses its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._backend import _check_excludes, _check_int
from ._validate import check_float_dtype

__all__ = ["DenseIndex", "error_bound"]

# Scores kept in memory at once by :meth:`DenseIndex.query_many` (and rows converted at once when
# building or rescoring): at most this many bytes.
BLOCK_BYTES = 64 * 2**20
# The k-th score is first bounded from below by the maxima of this many disjoint sets of rows.
MAXIMA = 4096


def error_bound(dim: int, dtype: Any = np.float32) -> float:
    """The largest difference between a stored-precision score and its float64 reference.

    For a stored row ``x`` (nonzero, unit length up to rounding) and a unit query ``q``, the score that
    BLAS computes in ``dtype`` from ``x`` and the query rounded to ``dtype`` differs from the float64
    reference ``s = fl64(sum(x * q)) / fl64(norm(x))`` by at most::

        e(d) = 1.25 * (gamma_d + 3u) + d * 2**-51 + 4 * d * tiny,    gamma_d = d*u / (1 - d*u)

    with ``u`` the unit roundoff of ``dtype`` (``2**-24`` for float32, ``2**-53`` for float64) and
    ``tiny`` its smallest normal number. Derivation: any summation order (BLAS blocks and FMAs
    included) of a ``d``-term dot product errs by at most ``gamma_d * sum|x_j q_j|`` (Higham, *Accuracy
    and Stability of Numerical Algorithms*, 3.1), and ``sum|x_j q_j| <= |x| |q| <= (1 + 2u)**2`` for
    rows and query rounded from unit float64 vectors; rounding the query to ``dtype`` moves the score by
    at most ``(1 + 2u)(u + d tiny)``, dividing by the stored row's norm (``1 +- 1.02u``) by at most
    ``1.02u``; the float64 reference itself is within ``d * 2**-52`` of the exact value. The factor
    1.25 absorbs the products of small terms. For d = 300 and float32, ``e = 2.3e-5``.

    Parameters
    ----------
    dim : int
        The number of columns ``d``.
    dtype : numpy float dtype
        ``np.float32`` or ``np.float64``: the storage precision.

    Returns
    -------
    float
        ``e(d)``; 2.0 (every row a candidate) once ``d * u >= 1/2``.

    Examples
    --------
    >>> round(error_bound(300), 7)
    2.26e-05
    """
    info = np.finfo(check_float_dtype(dtype))
    u = float(info.eps) / 2
    d = _check_int("dim", dim, 0)
    if d * u >= 0.5:
        return 2.0
    gamma = d * u / (1 - d * u)
    return 1.25 * (gamma + 3 * u) + d * 2.0**-51 + 4 * d * float(info.tiny)


class DenseIndex:
    """Dense vectors prepared for exact top-k cosine queries, scored with BLAS.

    At build, each row ``v`` is checked (finite, real), scaled by its largest magnitude, divided by its
    float64 norm and stored in ``dtype``: ``vectors[i]`` is then a unit row up to one rounding (a zero
    row stays zero), and ``norms[i]`` is the float64 norm of the stored row. Memory: ``d * itemsize +
    8`` bytes per row (1,208 bytes at d = 300 in float32).

    **Exactness.** Let ``x_i`` be stored row ``i`` (its values read in float64), ``q`` the query scaled
    to unit length in float64, and ``s_i = fl64(sum_j x_ij q_j) / norms[i]`` (``0.0`` for a zero row or
    a zero query): the float64 cosine of the stored row and the query. A query returns the first
    ``k`` rows in the order (``s_i`` descending, row ascending) among all rows but ``exclude``, with
    their ``s_i`` as similarities: exactly what a brute-force float64 scan of the stored vectors
    returns, ties (duplicated rows) included. The float64 sums are numpy's pairwise sums along a row,
    so two equal rows always get the same ``s_i``; other float64 evaluations of the same cosines may
    differ from ``s_i`` by a few units of ``d * 2**-53`` and may order such near-equal rows otherwise.

    **How.** Scores ``t_i`` are computed in ``dtype`` by one BLAS product; ``|t_i - s_i| <= e`` with
    ``e =`` :func:`error_bound` ``(d, dtype)``. If ``t_(k)`` is the k-th largest ``t``, at least k rows
    have ``s >= t_(k) - e``, so every row of the exact top-k has ``s >= t_(k) - e`` and ``t >= t_(k) -
    2e``. Those candidates (usually k plus a few) are scored again as ``s_i`` and sorted.

    Parameters
    ----------
    vectors : array_like, shape (n_rows, dim)
        Real, finite values (any float or integer dtype).
    dtype : {np.float32, np.float64}
        The storage and BLAS precision. float32 halves the memory and roughly halves the time.

    Attributes
    ----------
    vectors : ndarray of dtype, shape (n_rows, dim)
        The unit rows (zero rows stay zero), C order.
    norms : float64 array, shape (n_rows,)
        The norm of every stored row, computed in float64 (1.0 up to rounding, or 0.0).
    bound : float
        :func:`error_bound` for ``dim`` and ``dtype``.

    Examples
    --------
    >>> index = DenseIndex([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [2.0, 2.0]])
    >>> rows, sims = index.query([1.0, 1.0], k=3)
    >>> rows.tolist(), [round(s, 6) for s in sims.tolist()]
    ([1, 3, 0], [1.0, 1.0, 0.707107])
    >>> index.query([1.0, 1.0], k=2, exclude=1)[0].tolist()
    [3, 0]
    """

    def __init__(self, vectors: Any, dtype: Any = np.float32) -> None:
        self.dtype = np.dtype(check_float_dtype(dtype))
        a = _real_array("vectors", vectors, 2, check_finite=False)
        n_rows, dim = a.shape
        step = _block_rows(dim, 8)
        for start in range(0, n_rows, step):  # checked in blocks (no n_rows x dim mask), before any work
            if not np.all(np.isfinite(a[start:start + step])):
                raise ValueError("vectors holds NaN or infinite values")
        self.vectors = np.empty((n_rows, dim), dtype=self.dtype)
        self.norms = np.zeros(n_rows, dtype=np.float64)
        for start in range(0, n_rows, step):  # float64 copies of one block at a time
            block = _unit_rows(np.asarray(a[start:start + step], dtype=np.float64))
            stored = block.astype(self.dtype)
            self.vectors[start:start + step] = stored
            s64 = stored.astype(np.float64, copy=False)
            self.norms[start:start + step] = np.sqrt((s64 * s64).sum(axis=1))
        self.bound = error_bound(dim, self.dtype)

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_rows, dim)``."""
        return self.vectors.shape

    def query(self, query: Any, k: int, exclude: int = -1) -> tuple[np.ndarray, np.ndarray]:
        """The top-``k`` rows for one query: ``(rows, sims)``, best first (see the class for the rule).

        Parameters
        ----------
        query : array_like, shape (dim,)
            Real and finite; its scale does not matter; a zero query scores 0.0 with every row.
        k : int
            At least 0; more than the rows available gives them all.
        exclude : int
            A row left out of the ranking (the query word's own row), or -1 for none.

        Returns
        -------
        rows : int64 array, shape (min(k, n_rows - (exclude >= 0)),)
        sims : float64 array, same shape
            Cosine similarities, descending; equal ones by ascending row.
        """
        q = _real_array("query", query, 1)
        n_rows, dim = self.shape
        if q.size != dim:
            raise ValueError(f"query must have {dim} entries, got {q.size}")
        k = _check_int("k", k, 0)
        exclude = _check_int("exclude", exclude, -1)
        if exclude >= n_rows:
            raise ValueError(f"exclude must be -1 or a row index in [0, {n_rows}), got {exclude}")
        unit = _unit_rows(q[None, :])[0]
        if not unit.any():
            return self._zero_query(k, exclude)
        scores = self.vectors @ unit.astype(self.dtype)  # one BLAS matrix-vector product
        return self._finish(scores, unit, k, exclude)

    def query_many(
        self, queries: Any, k: int, exclude: Any = -1
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`query` for many queries, one BLAS matrix-matrix product per block of queries.

        Row ``b`` of the result equals ``query(queries[b], k, exclude[b])``, bit for bit. Queries go in
        blocks whose scores take at most 64 MB (at least one query per block).

        Parameters
        ----------
        queries : array_like, shape (n_queries, dim)
            Real and finite.
        k : int
            At least 0.
        exclude : int or array_like of int, shape (n_queries,)
            A row left out for each query (-1 for none); one int applies to every query.

        Returns
        -------
        rows : int64 array, shape (n_queries, min(k, n_rows))
        sims : float64 array, shape (n_queries, min(k, n_rows))
            Best first; only the first ``found[b]`` entries of row ``b`` are meaningful (the others
            are 0 and 0.0).
        found : int64 array, shape (n_queries,)
            ``min(k, n_rows - (exclude[b] >= 0))``.
        """
        qs = _real_array("queries", queries, 2)
        n_rows, dim = self.shape
        if qs.shape[1] != dim:
            raise ValueError(f"queries must have {dim} columns, got shape {qs.shape}")
        n_queries = qs.shape[0]
        k = _check_int("k", k, 0)
        ex = _check_excludes(exclude, n_queries, n_rows)
        width = min(k, n_rows)
        rows = np.zeros((n_queries, width), dtype=np.int64)
        sims = np.zeros((n_queries, width), dtype=np.float64)
        found = np.zeros(n_queries, dtype=np.int64)
        step = max(1, BLOCK_BYTES // max(1, n_rows * self.dtype.itemsize))
        for start in range(0, n_queries, step):
            units = _unit_rows(qs[start:start + step])
            scores = units.astype(self.dtype) @ self.vectors.T  # one BLAS matrix-matrix product
            for j in range(units.shape[0]):
                b = start + j
                if units[j].any():
                    r, s = self._finish(scores[j], units[j], k, int(ex[b]))
                else:
                    r, s = self._zero_query(k, int(ex[b]))
                found[b] = r.size
                rows[b, : r.size] = r
                sims[b, : r.size] = s
        return rows, sims, found

    # -- the shared finish ------------------------------------------------------------------------

    def _zero_query(self, k: int, exclude: int) -> tuple[np.ndarray, np.ndarray]:
        """A zero query scores 0.0 everywhere: the first ``k`` rows but ``exclude``."""
        n_rows = self.shape[0]
        rows = np.arange(min(k + 1, n_rows), dtype=np.int64)
        rows = rows[rows != exclude][:k]
        return rows, np.zeros(rows.size, dtype=np.float64)

    def _finish(
        self, scores: np.ndarray, unit: np.ndarray, k: int, exclude: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` from approximate ``scores`` (overwritten at ``exclude``): candidates within
        ``2 * bound`` of the k-th score, rescored in float64 against the unit query, sorted."""
        n_rows = scores.size
        kk = min(k, n_rows - (exclude >= 0))
        if kk <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        if exclude >= 0:
            scores[exclude] = -np.inf
        # A lower bound of the k-th score without sorting all of them: the k-th largest of the maxima
        # of m >= kk disjoint sets of rows (kk distinct rows score at least that much).
        m = max(kk, min(n_rows, MAXIMA))
        c = n_rows // m
        maxima = np.concatenate([scores[: c * m].reshape(c, m).max(axis=0), scores[c * m:]])
        low = float(np.partition(maxima, maxima.size - kk)[maxima.size - kk])
        pre = np.flatnonzero(scores >= self._cut(low))  # holds every row scoring >= the k-th score
        top = scores[pre]
        kth = float(np.partition(top, top.size - kk)[top.size - kk])
        cand = pre[top >= self._cut(kth)]
        exact = self._rescore(cand, unit)
        order = np.lexsort((cand, -exact))[:kk]
        return cand[order].astype(np.int64, copy=False), exact[order]

    def _cut(self, score: float) -> Any:
        """``score - 2 * bound`` in the storage dtype, rounded down (never up)."""
        limit = score - 2 * self.bound
        cut = self.dtype.type(limit)
        if float(cut) > limit:
            cut = np.nextafter(cut, self.dtype.type(-np.inf))
        return cut

    def _rescore(self, cand: np.ndarray, unit: np.ndarray) -> np.ndarray:
        """``s_i`` for the rows ``cand``: float64 pairwise sums of ``x_i * unit``, over ``norms[i]``."""
        out = np.zeros(cand.size, dtype=np.float64)
        norms = self.norms[cand]
        live = np.flatnonzero(norms > 0)  # zero rows score 0.0
        step = _block_rows(unit.size, 8)
        for start in range(0, live.size, step):
            sel = live[start:start + step]
            x = self.vectors[cand[sel]].astype(np.float64, copy=False)
            out[sel] = (x * unit).sum(axis=1) / norms[sel]
        return out


# -- checks and helpers ---------------------------------------------------------------------------


def _real_array(name: str, arr: Any, ndim: int, check_finite: bool = True) -> np.ndarray:
    """``arr`` as an array of ``ndim`` dimensions of finite real numbers (its own dtype if float)."""
    a = np.asarray(arr)
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {('one', 'two')[ndim - 1]}-dimensional, got shape {a.shape}")
    if a.size and not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float64)
    if check_finite and not np.all(np.isfinite(a)):
        raise ValueError(f"{name} holds NaN or infinite values")
    return a


def _block_rows(dim: int, itemsize: int) -> int:
    return max(1, BLOCK_BYTES // max(1, dim * itemsize))


def _unit_rows(a: np.ndarray) -> np.ndarray:
    """Each row of ``a`` in float64, scaled by its largest magnitude (no overflow or underflow in the
    squares) and divided by its norm; zero rows stay zero."""
    x = np.array(a, dtype=np.float64)  # a copy
    if x.size == 0:
        return x
    peak = np.abs(x).max(axis=1)
    live = peak > 0
    x[live] /= peak[live, None]
    norm = np.sqrt((x * x).sum(axis=1))
    x[live] /= norm[live, None]
    return x

