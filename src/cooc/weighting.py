"""Weightings applied to a co-occurrence model after counting: PPMI / SPPMI, window distance weights,
and truncated SVD to dense vectors.

Counting stays exact and integer (:func:`cooc.pretrain`'s ``counts``); everything here is a separate,
deterministic step on that matrix:

- :func:`ppmi` turns counts into positive pointwise mutual information, with context-distribution
  smoothing ``cds`` and an optional shift ``log k`` (SPPMI), after Levy, Goldberg and Dagan (2015),
  "Improving distributional similarity with lessons learned from word embeddings";
- :func:`distance_weighted_counts` weights a pair ``d`` positions apart by ``w(d)`` ("harmonic": 1/d as
  in GloVe; "linear": (window - d + 1) / window as word2vec's dynamic window does on average), from the
  integer counts of windows 1..window, by the exact identity
  ``M_w = sum_d w(d) * (C_d - C_{d-1})``;
- :func:`svd` gives dense vectors ``U_k * S_k ** p`` of the top ``k`` singular triplets.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import scipy.sparse as sp

from . import _backend
from ._parallel import check_n_jobs, cuts, map_ranges, run
from ._validate import DISTANCES, MAX_P, WEIGHTINGS, check_float_dtype, check_real, is_sparse

__all__ = [
    "DISTANCES",
    "WEIGHTINGS",
    "distance_weighted_counts",
    "distance_weights",
    "l2_rows",
    "ppmi",
    "svd",
    "unit_rows",
]

logger = logging.getLogger(__name__)

R = TypeVar("R")


def unit_rows(a: np.ndarray) -> np.ndarray:
    """Divide every row of the float array ``a`` by its Euclidean norm, in place (zero rows stay zero);
    returns ``a``."""
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    # rows whose norm overflows, or underflows to 0 while the row is not 0: scale by their largest
    # magnitude first (ordinary rows are untouched, bit for bit)
    bad = ~np.isfinite(norms[:, 0]) | ((norms[:, 0] == 0) & np.any(a != 0, axis=1))
    if bad.any():
        rows = a[bad] / np.max(np.abs(a[bad]), axis=1, keepdims=True)
        a[bad] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        norms[bad] = 1.0
    np.divide(a, norms, out=a, where=norms > 0)
    return a


def l2_rows(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, n: int, n_jobs: int = 1) -> Any:
    """The rows of a CSR matrix divided by their Euclidean norms, as a new (n, n) float64 CSR matrix.

    The result shares ``indptr`` and ``indices`` with its input (as scipy's own arithmetic does), so a
    model's ``counts`` and ``vectors`` hold one copy of the sparsity structure; treat them as read-only.
    """
    return sp.csr_matrix((_backend.normalize_rows_l2(indptr, data, n_jobs), indices, indptr), shape=(n, n))


def vectors_from_counts(
    weighted: sp.csr_matrix, weighting: str, cds: float, shift: float | None, dim: int | None, p: float,
    seed: int, add_context: bool, jobs: int, park: Callable[[], Any] | None = None,
) -> Any:
    """A model's vectors from its (possibly distance-weighted) counts, options already checked
    (:func:`cooc._validate.check_weighting`): L2-normalized rows of the counts, of their PPMI / SPPMI,
    or of the SVD of either. The recipe of :func:`cooc.pretrain` and :meth:`cooc.Embeddings.reweight`.

    ``park``, when given, is a context manager factory run around the SVD of a matrix derived from
    the counts (PPMI, distance weights): :func:`cooc.counting.parked` there moves the counts out of
    memory while the SVD, which does not read them, runs."""
    n = weighted.shape[0]
    given = weighted
    if weighting in ("ppmi", "sppmi"):
        k = shift if shift is not None else (5.0 if weighting == "sppmi" else 1.0)
        # float32 values feed the SVD (its products are float32): half the memory of float64
        weighted = _ppmi(_as_csr(weighted), cds, k, np.float64 if dim is None else np.float32)
    if dim is not None:
        k = min(int(dim), n)
        if k < int(dim):
            logger.warning("the vocabulary has %d words, fewer than the %d dimensions asked for: "
                           "the vectors have %d dimensions", n, int(dim), k)
        with park() if park is not None and weighted is not given else contextlib.nullcontext():
            vecs = unit_rows(svd(weighted, k, p=p, seed=int(seed), n_jobs=jobs, add_context=bool(add_context)))
        return np.ascontiguousarray(vecs, dtype=np.float32)   # dense vectors are stored as float32
    w = weighted
    if w.dtype != np.int64 and w.dtype != np.float64:
        w = sp.csr_matrix(w, dtype=np.float64)
    if not w.has_sorted_indices:
        w = w.copy()
        w.sort_indices()
    return l2_rows(w.indptr, w.indices, w.data, n, jobs)


def _as_csr(matrix: Any, name: str = "counts") -> sp.csr_matrix:
    if not is_sparse(matrix):
        raise TypeError(f"{name} must be a scipy.sparse matrix, not {type(matrix).__name__}")
    m: Any = sp.csr_matrix(matrix)
    if m.shape[0] != m.shape[1]:
        raise ValueError(f"{name} must be square (words x contexts over one vocabulary), got {m.shape}")
    return m  # type: ignore[no-any-return]


def ppmi(counts: Any, cds: float = 0.75, shift: float = 1.0, dtype: Any = np.float64) -> sp.csr_matrix:
    """Positive pointwise mutual information of a co-occurrence matrix, optionally shifted (SPPMI).

    For a word ``w`` and a context ``c`` with count ``n(w, c)``::

        PPMI(w, c) = max(0, log(n(w, c) * Z / (n(w) * n(c) ** cds)) - log(shift))

    where ``n(w)`` is the row sum, ``n(c)`` the column sum and ``Z = sum_c n(c) ** cds``. Cells that
    come out zero or negative are not stored, so the result is at most as dense as the counts.

    Parameters
    ----------
    counts : scipy.sparse matrix, shape (V, V)
        Non-negative counts (int64 from :func:`cooc.pretrain`, or float64 distance-weighted counts).
    cds : float, default 0.75
        Context-distribution smoothing exponent in (0, 1]; 1 is plain PMI.
    shift : float, default 1.0
        ``k`` of SPPMI, at least 1; 1 is no shift.
    dtype : np.float64 or np.float32, default np.float64
        Type of the values. float32 is what :func:`svd` computes in (and what ``pretrain(...,
        weighting="ppmi", dim=...)`` hands it): 8 bytes per stored cell with its index instead of 12.
        Each value is computed in float64 and rounded once.

    Returns
    -------
    scipy.sparse CSR matrix of ``dtype``, shape (V, V)

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> m = ppmi(sp.csr_matrix([[0, 2, 1], [2, 0, 0], [1, 0, 0]]), cds=1.0)
    >>> m.toarray().round(3).tolist()
    [[0.0, 0.288, 0.288], [0.693, 0.0, 0.0], [0.693, 0.0, 0.0]]
    """
    m = _as_csr(counts)
    cds = check_real("cds", cds, low=0.0, low_inclusive=False, high=1.0)
    shift = check_real("shift", shift, low=1.0, low_inclusive=True)
    dtype = check_float_dtype(dtype)
    if m.nnz and m.data.min() < 0:
        raise ValueError("counts must be non-negative")
    return _ppmi(m, cds, shift, dtype)


#: Stored cells weighted per call of the PPMI kernel: its float64 copy of the counts and its output
#: are this big, not the size of the matrix.
_PPMI_BLOCK = 1 << 23


def _ppmi(m: sp.csr_matrix, cds: float, shift: float, dtype: Any) -> sp.csr_matrix:
    """:func:`ppmi` of checked counts, with values of ``dtype`` (float32 for an SVD: 8 bytes per stored
    cell with its int32 index), weighted a block of rows at a time."""
    row_sums = np.asarray(m.sum(axis=1), dtype=np.float64).ravel()
    col_sums = np.asarray(m.sum(axis=0), dtype=np.float64).ravel()
    smoothed = np.power(col_sums, cds) if cds != 1.0 else col_sums
    z = float(smoothed.sum())
    col_probs = smoothed / z if z > 0 else smoothed
    n = m.shape[0]
    sizes = np.zeros(n + 1, dtype=np.int64)
    indices, values = [], []
    for lo, hi in cuts(n, max(1, -(-m.nnz // _PPMI_BLOCK)), m.indptr):
        a, b = int(m.indptr[lo]), int(m.indptr[hi])
        ptr, ind, val = _backend.ppmi_csr(m.indptr[lo:hi + 1] - a, m.indices[a:b],
                                          np.asarray(m.data[a:b], dtype=np.float64), row_sums[lo:hi],
                                          col_probs, math.log(shift))
        sizes[lo + 1:hi + 1] = np.diff(ptr)
        indices.append(ind)
        values.append(val.astype(dtype, copy=False))
        del ptr, ind, val
    indptr = np.cumsum(sizes)
    out_ind = np.concatenate(indices) if indices else np.zeros(0, dtype=np.int32)
    indices.clear()
    out_val = np.concatenate(values) if values else np.zeros(0, dtype=dtype)
    values.clear()
    return sp.csr_matrix((out_val, out_ind, indptr), shape=m.shape)


def distance_weights(window: int, distance: str) -> np.ndarray:
    """Weight of a pair ``d = 1..window`` positions apart, as float64 array of shape (window,).

    ``"uniform"``: 1 (the reference); ``"harmonic"``: 1/d (GloVe); ``"linear"``: (window - d + 1) /
    window (word2vec's dynamic window, on average).
    """
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be a positive integer, got {window!r}")
    d = np.arange(1, int(window) + 1, dtype=np.float64)
    if distance == "uniform":
        return np.ones_like(d)
    if distance == "harmonic":
        return 1.0 / d
    if distance == "linear":
        return (window - d + 1.0) / window
    raise ValueError(f"distance must be one of {', '.join(map(repr, DISTANCES))}, not {distance!r}")


def distance_weighted_counts(
    ids: Any, offsets: Any, n_words: int, window: int, distance: str = "harmonic", *,
    counts: sp.csr_matrix | None = None, count: Any = None,
) -> sp.csr_matrix:
    """Distance-weighted co-occurrences, exactly, from integer counts of windows 1..window.

    With ``C_d`` the integer matrix for window ``d`` (``C_0 = 0``),
    ``M = sum_d w(d) * (C_d - C_{d-1}) = sum_d (w(d) - w(d + 1)) * C_d`` with ``w(window + 1) = 0``.

    Parameters
    ----------
    ids, offsets : int arrays
        Token ids and sentence offsets (as :func:`cooc._backend.cooccurrence_csr` takes them).
    n_words, window : int
    distance : {"uniform", "harmonic", "linear"}
    counts : CSR matrix, optional
        ``C_window`` when already counted (saves one pass).
    count : callable, optional
        ``count(d) -> (indptr, indices, data)`` for the window-``d`` counts; by default
        :func:`cooc._backend.cooccurrence_csr`.

    Returns
    -------
    scipy.sparse CSR matrix of float64, shape (n_words, n_words)
    """
    w = distance_weights(window, distance)
    n = int(n_words)
    if count is None:
        def count(d: int) -> tuple[np.ndarray, ...]:
            return _backend.cooccurrence_csr(ids, offsets, n, d)
    steps = w - np.append(w[1:], 0.0)  # w(d) - w(d + 1)
    out: Any = sp.csr_matrix((n, n), dtype=np.float64)
    for d in range(1, int(window) + 1):
        step = float(steps[d - 1])
        if step == 0.0:
            continue
        if d == window and counts is not None:
            c_d: Any = counts
        else:
            ptr, ind, val = count(d)
            c_d = sp.csr_matrix((val, ind, ptr), shape=(n, n))
        out = out + step * c_d.astype(np.float64)
    out = sp.csr_matrix(out)
    out.sort_indices()
    return out  # type: ignore[no-any-return]


def _orthonormalize(y: np.ndarray, passes: int = 2, team: _Team | None = None) -> np.ndarray:
    """An orthonormal basis of the columns of a tall ``y``, by eigen-decomposed Gram matrices, ``passes`` times.

    The fallback of :func:`_cholesky_qr` for a ``y`` too ill-conditioned for a Cholesky factor of its
    float32 Gram matrix; directions whose Gram eigenvalue is negligible are dropped.
    """
    for _ in range(passes):
        gram = np.asarray(y.T @ y, dtype=np.float64) if team is None else team.gram(y)
        w, v = np.linalg.eigh(gram)
        keep = w > max(float(w[-1]), 0.0) * 1e-10 if w.size else np.zeros(0, dtype=bool)
        small = (v[:, keep] / np.sqrt(w[keep])).astype(y.dtype)
        y = y @ small if team is None else team.matmul(y, small)
    return y


def _cholesky_qr(y: np.ndarray, team: _Team) -> tuple[np.ndarray, float]:
    """One pass of Cholesky QR: ``(y @ inv(R), cond)`` with ``R^T R = y^T y``.

    Two BLAS-3 products of the tall ``y`` (its Gram matrix and the product with ``inv(R)``), cheaper
    than a Householder QR; the result's columns are orthonormal up to about ``eps * cond(y) ** 2``,
    and span the columns of ``y`` up to ``eps * cond(y)``. ``cond`` estimates ``cond(y) = cond(R)``
    (infinite when the Gram matrix is not positive definite: then the eigenvalue fallback
    :func:`_orthonormalize` is used).
    """
    gram = team.gram(y)
    try:
        r = np.linalg.cholesky(gram).T
    except np.linalg.LinAlgError:
        return _orthonormalize(y, 2, team), math.inf
    r_inv = np.linalg.inv(r)
    if not np.isfinite(r_inv).all():
        return _orthonormalize(y, 2, team), math.inf
    return team.matmul(y, r_inv.astype(y.dtype)), _norm2(r) * _norm2(r_inv)


def _norm2(r: np.ndarray, steps: int = 20) -> float:
    """The spectral norm of a small square matrix, by power iteration on ``r^T r`` (a slight underestimate)."""
    x = np.linspace(1.0, 2.0, r.shape[1])
    norm = 0.0
    for _ in range(steps):
        x = r.T @ (r @ x)
        norm = float(np.linalg.norm(x))
        if norm == 0.0:
            return 0.0
        x /= norm
    return math.sqrt(norm)


# Columns of a float32 block may grow this far apart (condition number) between two orthonormalizations
# of the power iteration: they then still carry every direction to about 1e-5, and their float32 Gram
# matrix (condition squared, about 1e5) still has an accurate Cholesky factor.
_COND_BUDGET = 300.0


# The dense products with the tall block are summed over this many row ranges, whatever the number of
# threads (the same sums in the same order).
_DENSE_PIECES = 8


def _threadpool_limits() -> Any:
    """threadpoolctl's ``threadpool_limits``, or None when threadpoolctl is not installed (optional)."""
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        return None
    return threadpool_limits


class _Team:
    """The products of one randomized SVD, over row ranges in ``jobs`` threads of :mod:`cooc._parallel`.

    Sparse products are cut into ``jobs`` row ranges of about equal non-zeros (the compiled kernel
    :func:`cooc._backend.csr_matmat` takes float32 CSR matrices whole, with ``jobs`` threads of its own);
    each range writes its own rows, so the result does not depend on ``jobs``. The dense products with
    the tall block are always summed over the same eight row ranges, in one order, whatever ``jobs``.
    While the team works in several threads, BLAS itself is held to one thread when threadpoolctl is
    installed (two levels of threads on the same cores thrash); without threadpoolctl, the dense
    ranges run one after the other on BLAS's own threads.
    """

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.limiter: Any = None
        if jobs > 1:
            limits = _threadpool_limits()
            if limits is not None:
                self.limiter = limits(limits=1, user_api="blas")

    def close(self) -> None:
        if self.limiter is not None:
            self.limiter.restore_original_limits()

    def _dense(self, fn: Callable[[int, int], R], n: int) -> list[R]:
        """``fn(lo, hi)`` over the eight fixed row ranges of ``[0, n)``, in order."""
        pieces = cuts(n, _DENSE_PIECES)
        if self.limiter is None or self.jobs == 1:
            return [fn(lo, hi) for lo, hi in pieces]
        groups = run([lambda a=a, b=b: [fn(*pieces[i]) for i in range(a, b)]  # type: ignore[misc]
                      for a, b in cuts(len(pieces), self.jobs)])
        return [r for group in groups for r in group]

    def operator(self, a: Any) -> Any:
        """``y -> a @ y`` for a CSR matrix or an ndarray ``a``, in the team's threads.

        A float32 CSR matrix goes to the compiled kernel :func:`cooc._backend.csr_matmat` (2x scipy's
        product on one thread); anything else is cut into row blocks (by non-zeros for sparse ones)
        multiplied by scipy or numpy.
        """
        if is_sparse(a) and a.dtype == np.float32:
            ptr, ind, data = a.indptr.astype(np.int64), a.indices.astype(np.int32, copy=False), a.data
            return lambda y: _backend.csr_matmat(ptr, ind, data, np.ascontiguousarray(y, dtype=np.float32), self.jobs)
        if self.jobs == 1:
            return lambda y: np.asarray(a @ y)
        indptr = a.indptr if is_sparse(a) else None

        def product(y: np.ndarray) -> np.ndarray:
            out = np.empty((a.shape[0], y.shape[1]), dtype=np.result_type(a.dtype, y.dtype))

            def one(lo: int, hi: int) -> None:
                out[lo:hi] = a[lo:hi] @ y
            map_ranges(one, a.shape[0], self.jobs, indptr)
            return out
        return product

    def gram(self, y: np.ndarray, dtype: Any = None) -> np.ndarray:
        """``y^T y`` in float64, summed over row ranges (each computed in ``dtype``, by default y's)."""
        def one(lo: int, hi: int) -> np.ndarray:
            part = y[lo:hi] if dtype is None else y[lo:hi].astype(dtype)
            return np.asarray(part.T @ part, dtype=np.float64)
        return np.asarray(sum(self._dense(one, y.shape[0])))

    def matmul(self, y: np.ndarray, small: np.ndarray) -> np.ndarray:
        """``y @ small`` in the dtype of ``small`` (y is cast to it by row ranges)."""
        out = np.empty((y.shape[0], small.shape[1]), dtype=small.dtype)

        def one(lo: int, hi: int) -> None:
            np.matmul(y[lo:hi].astype(small.dtype, copy=False), small, out=out[lo:hi])
        self._dense(one, y.shape[0])
        return out


def svd(
    matrix: Any, dim: int, p: float = 0.5, *, n_iter: int = 2, oversamples: int | None = None, seed: int = 0,
    dtype: Any = np.float32, n_jobs: int = -1, add_context: bool = False,
) -> np.ndarray:
    """Truncated SVD embedding ``U_k * S_k ** p`` of a (sparse) matrix: dense vectors.

    With ``add_context``, the context vectors ``V_k * S_k ** p`` are added to the word vectors, each
    row L2-normalized first (the ``w+c`` of Levy, Goldberg and Dagan, 2015, as their hyperwords
    package computes it): a word is then described by the contexts it occurs in and by the words it
    is a context of.

    A randomized range finder (Halko, Martinsson and Tropp, 2011) with ``n_iter`` power iterations in
    ``dtype`` (float32 by default: the matrices are PPMI values of a few units, where float32 loses
    nothing that changes a neighbour or a similarity score), then an exact eigendecomposition of the
    small projected Gram matrix in float64. The sign of each component is fixed so that its largest
    coordinate (in absolute value) is positive, making the result deterministic for a given ``seed``
    (and independent of ``n_jobs``).

    What makes it fast:

    - a float32 sparse matrix is multiplied by the compiled kernel :func:`cooc._backend.csr_matmat`
      (about twice scipy's speed on one thread), the matrix and its transpose over row ranges in
      ``n_jobs`` threads; the dense products with the tall block are split over the same threads, with
      BLAS held to one thread meanwhile when threadpoolctl is installed (two levels of threads on the
      same cores thrash);
    - the block is orthonormalized by Cholesky QR (two BLAS-3 products with the tall block) and only as
      often as needed: the growth of its condition number per product is measured at each
      orthonormalization, and the block is left to grow up to a condition of about 300 (in float32 it
      still carries every direction to about 1e-5) before the next one; on a PPMI matrix that is every
      second product. The last block is orthonormalized twice. A block whose Gram matrix has no
      Cholesky factor falls back to eigendecomposed Gram matrices and orthonormalization after every
      product.

    Parameters
    ----------
    matrix : scipy.sparse matrix or ndarray, shape (n, m)
    dim : int
        Number of components ``k``, 1 <= k < min(n, m) (smaller matrices fall back to a dense SVD).
    p : float, default 0.5
        Eigenvalue weight: 0 gives ``U`` alone, 1 gives ``U * S``.
    n_iter : int, default 2
        Power iterations (more: slower, closer to the exact top-k subspace). The sparse products are
        most of an SVD's time, ``2 * n_iter + 2`` of them; on the PPMI matrix of 5M tokens of real
        English (V = 42k, k = 300), 5 iterations took 1.5x the time of 2 for a WordSim353 Spearman
        0.004 higher (0.593 against 0.589, means over 2 seeds), both above scikit-learn's
        ``randomized_svd`` with its 7 iterations (0.570; benchmarks/test_bench_route.py).
    oversamples : int or None
        Extra random directions sampled beyond ``dim``; by default ``max(20, dim // 2)`` (the
        spectrum of a PPMI matrix is flat near its k-th value, so oversampling buys more accuracy per
        second than extra power iterations; measured in benchmarks/test_bench_svd.py).
    seed : int
    dtype : numpy float dtype, default float32
        Precision of the products with ``matrix``.
    n_jobs : int, default -1
        Threads for the sparse products; -1 uses every core. The result does not depend on it.
    add_context : bool, default False
        Return ``W / |W| + C / |C|`` (rows normalized) with ``W = U_k S_k^p`` and ``C = V_k S_k^p``;
        the matrix must be square (words and contexts share a vocabulary). On the PPMI matrix of
        the Lee + Wikipedia corpus of ``benchmarks/real_data.py`` it raises WordSim353 Spearman by
        about 0.015.

    Returns
    -------
    float64 ndarray, shape (n, dim)

    Examples
    --------
    >>> import numpy as np
    >>> v = svd(np.diag([3.0, 2.0, 1.0]), 2, p=1.0)
    >>> np.abs(v).round(3).tolist()
    [[3.0, 0.0], [0.0, 2.0], [0.0, 0.0]]
    """
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim!r}")
    p = check_real("p", p, low=0.0, low_inclusive=True, high=MAX_P)
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 0:
        raise ValueError(f"n_iter must be a non-negative integer, got {n_iter!r}")
    jobs = check_n_jobs(n_jobs)
    dtype = check_float_dtype(dtype)
    if not isinstance(add_context, (bool, np.bool_)):
        raise TypeError(f"add_context must be True or False, not {add_context!r}")
    a: Any = sp.csr_matrix(matrix) if is_sparse(matrix) else np.asarray(matrix)
    if a.ndim != 2:
        raise ValueError(f"matrix must be two-dimensional, got shape {a.shape}")
    n, m = a.shape
    if add_context and n != m:
        raise ValueError(f"add_context needs a square matrix (words x contexts of one vocabulary), got shape {a.shape}")
    k = int(dim)
    if k > min(n, m):
        raise ValueError(f"dim must be at most min(matrix.shape) = {min(n, m)}, got {k}")
    l = k + (max(20, k // 2) if oversamples is None else int(oversamples))
    v: np.ndarray | None
    if l >= min(n, m) or min(n, m) <= 500:
        dense = a.toarray() if is_sparse(a) else a
        u, s, vt = np.linalg.svd(np.asarray(dense, dtype=np.float64), full_matrices=False)
        u, s, v = u[:, :k], s[:k], vt[:k].T
    else:
        u, s, v = _randomized(a, k, l, int(n_iter), seed, dtype, jobs, right=add_context)
    return _embedding(u, s, v, p, add_context)


def _embedding(u: np.ndarray, s: np.ndarray, v: np.ndarray | None, p: float, add_context: bool) -> np.ndarray:
    """The vectors of :func:`svd` from its singular triplets: signs fixed, ``S ** p`` applied, and with
    ``add_context`` the normalized context vectors added (``v`` is then not None)."""
    # deterministic signs (the same flip of a component in U and V keeps U S V^T)
    idx = np.argmax(np.abs(u), axis=0)
    signs = np.sign(u[idx, np.arange(u.shape[1])])
    signs[signs == 0] = 1.0
    weight = s ** p if p != 0.0 else np.ones_like(s)
    u *= signs * weight   # in place: u is V x k
    out = np.ascontiguousarray(u, dtype=np.float64)
    if add_context:
        assert v is not None
        out = unit_rows(out) + unit_rows(np.ascontiguousarray(v * (signs * weight), dtype=np.float64))
    return out


def _randomized(
    a: Any, k: int, l: int, n_iter: int, seed: int, dtype: Any, jobs: int, right: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Top ``k`` left singular vectors and values of ``a`` from an ``l``-column randomized range finder,
    and with ``right`` its right singular vectors (else None)."""
    a = a.astype(dtype, copy=False)
    team = _Team(jobs)
    try:
        ops = team.operator(a), team.operator(a.T.tocsr() if is_sparse(a) else np.ascontiguousarray(a.T))
        return _range_finder(ops[0], ops[1], a.shape, k, l, n_iter, seed, dtype, team, right)
    finally:
        team.close()


def _range_finder(
    apply: Callable[[np.ndarray], np.ndarray], apply_t: Callable[[np.ndarray], np.ndarray],
    shape: tuple[int, int], k: int, l: int, n_iter: int, seed: int, dtype: Any, team: _Team,
    right: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The algorithm of :func:`_randomized` for a matrix ``a`` of ``shape`` (n, m) known only by its
    products: ``apply(y) = a @ y`` (y of shape (m, l)) and ``apply_t(q) = a^T @ q`` (q of shape (n, l)),
    in ``dtype``; the dense products with the tall blocks run in ``team``.

    The one loop behind the single-process :func:`svd` and the block-by-block products on a Dask
    cluster (:mod:`cooc.dask_linalg`): the same seed gives the same random start, the same
    orthonormalizations and the same small eigenproblem.
    """
    n, m = shape
    rng = np.random.default_rng(seed)
    # Products 1..P alternate a, a^T, a, ..., a (P = 2 n_iter + 1). The block is orthonormalized
    # after the first product, which measures the growth of its condition per product, then every
    # `every` products (as many as keep the condition within _COND_BUDGET, judged at every
    # orthonormalization), and twice after the last product.
    ops = apply, apply_t
    y = rng.standard_normal((m, l), dtype=np.float32).astype(dtype, copy=False)
    n_products = 2 * n_iter + 1
    every, since = 1, 0
    for j in range(1, n_products + 1):
        y = ops[j % 2 == 0](y)
        since += 1
        if j == n_products:
            y, cond = _cholesky_qr(y, team)
            if math.isfinite(cond):
                y = _cholesky_qr(y, team)[0]
        elif since >= every:
            y, cond = _cholesky_qr(y, team)
            # one product is a poor sample of the growth (the random start hides the tail): margin 2
            growth = cond ** (1.0 / since) * (2.0 if since == 1 else 1.0)
            every = max(1, int(math.log(_COND_BUDGET) / math.log(growth))) if growth > 1.0 else n_products
            since = 0
    q = y
    # B = Q^T A (l x m); its left singular vectors come from the small Gram matrix B B^T (float64).
    b = apply_t(q)
    evals, evecs = np.linalg.eigh(team.gram(b, np.float64))
    order = np.argsort(evals)[::-1][:k]
    s = np.sqrt(np.clip(evals[order], 0.0, None))
    if not right:
        del b   # V x l: not needed for U
    # U in the products' precision (float32 by default): V x k, half the memory of float64
    u = team.matmul(q, np.ascontiguousarray(evecs[:, order], dtype=q.dtype))
    del q, y
    v = None
    if right:  # B^T = A^T Q = V S U_B^T, so V = B^T U_B / S (0 where S is 0)
        inv = np.divide(1.0, s, out=np.zeros_like(s), where=s > 0)
        v = team.matmul(b, np.ascontiguousarray(evecs[:, order] * inv))
    if u.shape[1] < k:  # a matrix of rank < k: the block lost directions; the missing components are 0
        u = np.hstack([u, np.zeros((n, k - u.shape[1]))])
        if v is not None:
            v = np.hstack([v, np.zeros((m, k - v.shape[1]))])
        s = np.concatenate([s, np.zeros(k - s.size)])
    return u, s, v
