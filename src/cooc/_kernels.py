"""The one place that chooses between the compiled kernels and their pure-Python twins.

The compiled module ``cooc._kernels_c`` is used by default. ``COOC_PURE_PYTHON=1`` in the environment
forces the twins in ``cooc._kernels_py``; if the compiled module cannot be imported, a warning is issued
once and the twins are used. :data:`BACKEND` says which one runs: ``"cython"`` or ``"python"``.

Everything else in cooc calls the functions of this module, which validate their inputs once, in
Python, and then hand trusted arrays to whichever twin is active; both backends therefore raise the same
errors with the same messages, and kernels never see bad input.
"""

from __future__ import annotations

import os
import warnings
from types import ModuleType
from typing import Any

import numpy as np

from . import _kernels_py

__all__ = [
    "BACKEND",
    "KERNEL_NAMES",
    "compiled_module",
    "cooccurrence_csr",
    "cosine_dense",
    "csr_add",
    "normalize_rows_l2",
    "row_norms",
    "set_backend",
    "new_word_table",
    "topk_cosine",
    "topk_cosine_sparse",
    "topk_cosine_sparse_many",
    "topk_cosine_rows",
    "TransposeIndex",
    "DenseIndex",
]

KERNEL_NAMES = (
    "cooccurrence_csr",
    "normalize_rows_l2",
    "topk_cosine",
    "cosine_dense",
    "WordTable",
    "csr_add",
    "topk_cosine_sparse",
    "row_norms",
    "topk_cosine_sparse_many",
    "topk_cosine_rows",
)
_INT32_MAX = np.iinfo(np.int32).max


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def compiled_module() -> ModuleType | None:
    """Import and return ``cooc._kernels_c``, or None when it is not built."""
    try:
        from . import _kernels_c
    except ImportError:
        return None
    return _kernels_c


def _choose() -> tuple[ModuleType, str]:
    if _env_flag("COOC_PURE_PYTHON"):
        return _kernels_py, "python"
    mod = compiled_module()
    if mod is None:
        warnings.warn(
            "cooc: the compiled kernels (cooc._kernels_c) are not built; using the pure-Python "
            "backend, which gives the same results much more slowly",
            RuntimeWarning,
            stacklevel=3,
        )
        return _kernels_py, "python"
    return mod, "cython"


_impl, BACKEND = _choose()


def set_backend(name: str) -> None:
    """Switch the active backend to ``"cython"`` or ``"python"`` (used by tests and benchmarks)."""
    global _impl, BACKEND
    if name == "python":
        _impl, BACKEND = _kernels_py, "python"
    elif name == "cython":
        mod = compiled_module()
        if mod is None:
            raise RuntimeError("cooc: the compiled backend is not built in this installation")
        _impl, BACKEND = mod, "cython"
    else:
        raise ValueError(f"backend must be 'cython' or 'python', not {name!r}")


# --------------------------------------------------------------------------------------------------
# validation helpers


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, not {type(value).__name__} ({value!r})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_exclude(exclude: Any, n_rows: int) -> int:
    exclude = _check_int("exclude", exclude, -1)
    if exclude >= n_rows:
        raise ValueError(f"exclude must be -1 or a row index in [0, {n_rows}), got {exclude}")
    return int(exclude)


def _int_array(name: str, arr: Any, dtype: type[np.integer]) -> np.ndarray:
    a = np.asarray(arr)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"{name} must hold integers, got dtype {a.dtype}")
    return np.ascontiguousarray(a, dtype=dtype)


def _float_array(name: str, arr: Any, ndim: int = 1) -> np.ndarray:
    a = np.asarray(arr)
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {('one', 'two')[ndim - 1]}-dimensional, got shape {a.shape}")
    if a.size and not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    out = np.ascontiguousarray(a, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} holds NaN or infinite values")
    return out


def _check_csr(indptr: Any, indices: Any, data: Any, n_cols: int | None) -> tuple[np.ndarray, ...]:
    ptr = _int_array("indptr", indptr, np.int64)
    if ptr.size == 0 or ptr[0] != 0:
        raise ValueError("indptr must start at 0")
    if np.any(np.diff(ptr) < 0):
        raise ValueError("indptr must be non-decreasing")
    ind = np.asarray(indices)
    if ind.ndim != 1:
        raise ValueError(f"indices must be one-dimensional, got shape {ind.shape}")
    if ind.size and not np.issubdtype(ind.dtype, np.integer):
        raise TypeError(f"indices must hold integers, got dtype {ind.dtype}")
    if ind.size != ptr[-1]:
        raise ValueError(f"indices has {ind.size} entries but indptr ends at {ptr[-1]}")
    limit = _INT32_MAX + 1 if n_cols is None else n_cols
    if ind.size and (int(ind.min()) < 0 or int(ind.max()) >= limit):
        raise ValueError(f"indices must lie in [0, {limit})")
    return ptr, np.ascontiguousarray(ind, dtype=np.int32), np.asarray(data)


def _check_tokens(ids: Any, offsets: Any, n_words: int, bound: str) -> tuple[np.ndarray, np.ndarray]:
    """Token ids (int32, each in ``[0, n_words)``) and sentence offsets into them (int64)."""
    # the range is checked in the ids' own integer dtype: no int64 copy of a corpus-sized array
    ids_a = np.asarray(ids)
    if ids_a.ndim != 1:
        raise ValueError(f"ids must be one-dimensional, got shape {ids_a.shape}")
    if ids_a.size and not np.issubdtype(ids_a.dtype, np.integer):
        raise TypeError(f"ids must hold integers, got dtype {ids_a.dtype}")
    off = _int_array("offsets", offsets, np.int64)
    if off.size == 0 or off[0] != 0:
        raise ValueError("offsets must start at 0")
    if off[-1] != ids_a.size:
        raise ValueError(f"offsets must end at len(ids) = {ids_a.size}, got {off[-1]}")
    if np.any(np.diff(off) < 0):
        raise ValueError("offsets must be non-decreasing")
    if ids_a.size and (int(ids_a.min()) < 0 or int(ids_a.max()) >= n_words):
        raise ValueError(f"ids must lie in [0, {bound}) = [0, {n_words})")
    return np.ascontiguousarray(ids_a, dtype=np.int32), off


# --------------------------------------------------------------------------------------------------
# the kernels, validated


def cooccurrence_csr(
    ids: Any, offsets: Any, n_words: int, window: int, n_threads: int = 1
) -> tuple[np.ndarray, ...]:
    n_words = _check_int("n_words", n_words, 0)
    window = _check_int("window", window, 1)
    n_threads = _check_int("n_threads", n_threads, 1)
    if n_words > _INT32_MAX:
        raise ValueError(f"n_words must be <= {_INT32_MAX}, got {n_words}")
    ids_a, off = _check_tokens(ids, offsets, n_words, "n_words")
    # A window wider than the longest sentence counts the same pairs; clamp it so no loop bound
    # overflows.
    longest = int(np.max(np.diff(off))) if off.size > 1 else 0
    window = max(1, min(window, longest))
    return _impl.cooccurrence_csr(ids_a, off, n_words, window, n_threads)  # type: ignore[no-any-return]


def normalize_rows_l2(indptr: Any, data: Any, n_threads: int = 1) -> np.ndarray:
    n_threads = _check_int("n_threads", n_threads, 1)
    ptr = _int_array("indptr", indptr, np.int64)
    if ptr.size == 0 or ptr[0] != 0 or np.any(np.diff(ptr) < 0):
        raise ValueError("indptr must start at 0 and be non-decreasing")
    vals = np.asarray(data)
    if vals.ndim != 1 or vals.size != ptr[-1]:
        raise ValueError(f"data must be one-dimensional with indptr[-1] = {ptr[-1]} entries")
    if np.issubdtype(vals.dtype, np.integer):
        if vals.dtype.kind == "u" and vals.size and int(vals.max()) > np.iinfo(np.int64).max:
            vals = np.ascontiguousarray(vals, dtype=np.float64)  # exact as float(x), never wrapped
        else:
            vals = np.ascontiguousarray(vals, dtype=np.int64)
    else:
        vals = _float_array("data", vals)
    return _impl.normalize_rows_l2(ptr, vals, n_threads)  # type: ignore[no-any-return]


def topk_cosine(
    indptr: Any, indices: Any, data: Any, query: Any, k: int, exclude: int = -1
) -> tuple[np.ndarray, np.ndarray]:
    q = _float_array("query", query)
    ptr, ind, vals = _check_csr(indptr, indices, data, q.size)
    vals = _float_array("data", vals)
    if vals.size != ind.size:
        raise ValueError("data and indices must have the same length")
    k = min(_check_int("k", k, 0), ptr.size - 1)
    exclude = _check_exclude(exclude, ptr.size - 1)
    return _impl.topk_cosine(ptr, ind, vals, q, k, exclude)  # type: ignore[no-any-return]


def cosine_dense(a: Any, b: Any) -> float:
    x = _float_array("a", a)
    y = _float_array("b", b)
    if x.shape != y.shape:
        raise ValueError(f"vectors must have the same length, got {x.size} and {y.size}")
    return float(_impl.cosine_dense(x, y))


def new_word_table() -> Any:
    """A new, empty ``WordTable`` of the active backend (its ``encode`` takes one ``str`` chunk)."""
    return _impl.WordTable()


def csr_add(
    indptr_a: Any, indices_a: Any, data_a: Any, indptr_b: Any, indices_b: Any, data_b: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pa, ia, da = _check_csr(indptr_a, indices_a, data_a, None)
    pb, ib, db = _check_csr(indptr_b, indices_b, data_b, None)
    if pa.size != pb.size:
        raise ValueError(f"matrices have {pa.size - 1} and {pb.size - 1} rows")
    for name, d, i in (("data_a", da, ia), ("data_b", db, ib)):
        if d.ndim != 1 or d.size != i.size or (d.size and not np.issubdtype(d.dtype, np.integer)):
            raise ValueError(f"{name} must be integers, one per index")
    return _impl.csr_add(  # type: ignore[no-any-return]
        pa, ia, np.ascontiguousarray(da, dtype=np.int64), pb, ib, np.ascontiguousarray(db, dtype=np.int64)
    )


def row_norms(indptr: Any, data: Any) -> np.ndarray:
    ptr = _int_array("indptr", indptr, np.int64)
    if ptr.size == 0 or ptr[0] != 0 or np.any(np.diff(ptr) < 0):
        raise ValueError("indptr must start at 0 and be non-decreasing")
    vals = _float_array("data", data)
    if vals.size != ptr[-1]:
        raise ValueError(f"data must have indptr[-1] = {ptr[-1]} entries, got {vals.size}")
    return _impl.row_norms(ptr, vals)  # type: ignore[no-any-return]


def topk_cosine_sparse(
    t_indptr: Any, t_indices: Any, t_data: Any, row_norms: Any, q_indices: Any, q_data: Any,
    k: int, exclude: int = -1,
) -> tuple[np.ndarray, np.ndarray]:
    rn = _float_array("row_norms", row_norms)
    tp, ti, td = _check_csr(t_indptr, t_indices, t_data, rn.size)
    td = _float_array("t_data", td)
    if td.size != ti.size:
        raise ValueError("t_data and t_indices must have the same length")
    qi = _int_array("q_indices", q_indices, np.int64)
    qd = _float_array("q_data", q_data)
    if qi.size != qd.size:
        raise ValueError("q_indices and q_data must have the same length")
    if qi.size and (qi.min() < 0 or qi.max() >= tp.size - 1 or np.any(np.diff(qi) <= 0)):
        raise ValueError(f"q_indices must be sorted, distinct and in [0, {tp.size - 1})")
    k = min(_check_int("k", k, 0), rn.size)
    exclude = _check_exclude(exclude, rn.size)
    return _impl.topk_cosine_sparse(  # type: ignore[no-any-return]
        tp, ti, td, rn, qi.astype(np.int32), qd, k, exclude
    )



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


def _check_excludes(exclude: Any, n_queries: int, n_rows: int) -> np.ndarray:
    ex = np.asarray(exclude)
    if ex.ndim == 0:
        ex = np.full(n_queries, _check_exclude(exclude, n_rows), dtype=np.int64)
    if ex.shape != (n_queries,):
        raise ValueError(f"exclude must hold one entry per query ({n_queries}), got shape {ex.shape}")
    if ex.size and not np.issubdtype(ex.dtype, np.integer):
        raise TypeError(f"exclude must hold integers, got dtype {ex.dtype}")
    if ex.size and (int(ex.min()) < -1 or int(ex.max()) >= n_rows):
        raise ValueError(f"exclude must hold -1 or row indices in [0, {n_rows})")
    return np.ascontiguousarray(ex, dtype=np.int64)


def topk_cosine_sparse_many(
    t_indptr: Any, t_indices: Any, t_data: Any, row_norms: Any, q_indptr: Any, q_indices: Any,
    q_data: Any, k: int, exclude: Any = -1, n_threads: int = 1, dense_cols: Any = None, dense: Any = None,
    screen: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked :func:`topk_cosine_sparse_many` of the selected backend; here ``screen`` is a bool:
    True builds the float32 copies and the matrix's rows (from the transpose) that the kernel's
    ``screen`` takes, when the values allow it (see :meth:`TransposeIndex.from_rows`)."""
    index = TransposeIndex(t_indptr, t_indices, t_data, row_norms)
    if dense_cols is not None or dense is not None:
        index.dense_cols, index.dense = _check_dense(index, dense_cols, dense)
    if _check_screen(screen):
        import scipy.sparse as sp

        n_cols = index.t_indptr.size - 1
        m = sp.csr_matrix((index.t_data, index.t_indices, index.t_indptr), shape=(n_cols, index.n_rows)).T.tocsr()
        m.sort_indices()
        index.rows = (m.indptr.astype(np.int64), m.indices.astype(np.int32), m.data)
        index.screen = _screen_copies(index)
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


def _check_screen(screen: Any) -> bool:
    if not isinstance(screen, (bool, np.bool_)):
        raise TypeError(f"screen must be a bool, got {type(screen).__name__}")
    return bool(screen)


def _screen_copies(index: TransposeIndex) -> tuple[Any, ...] | None:
    """The ``screen`` argument of :func:`topk_cosine_sparse_many` for ``index`` (built with its rows),
    or None when a non-zero value lies outside [2**-60, 2**60] (the float32 error bound assumes it)."""
    assert index.rows is not None
    vals = index.t_data.astype(np.float32)   # (the range is checked on the copies: the same limits,
    if vals.size:                            # far inside float32's, within a rounding)
        mag = np.abs(vals)
        low = float(np.min(mag, where=mag != 0, initial=np.inf))
        if float(mag.max()) > 2.0**60 or low < 2.0**-60:
            return None
    mp, mi, md = index.rows
    longest = int(np.diff(mp).max()) if mp.size > 1 else 0
    return (vals, index.dense.astype(np.float32), mp, mi, md, 4.0 * (longest + 16) * 2.0**-53)


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
        # float32 copies for the compiled kernel's screening (from_rows only: it needs the rows to
        # be the matrix the transpose is of)
        self.screen: tuple[Any, ...] | None = None
        if rows is not None:
            m_indptr, m_indices, m_data = rows
            self.rows = _check_queries(m_indptr, m_indices, m_data, self.t_indptr.size - 1)
            if self.rows[0].size - 1 != self.n_rows:
                raise ValueError(f"rows must have {self.n_rows} rows, got {self.rows[0].size - 1}")

    @classmethod
    def from_rows(cls, indptr: Any, indices: Any, data: Any, n_cols: int, screen: bool = False) -> TransposeIndex:
        """The index of a CSR matrix ``(indptr, indices, data)`` with ``n_cols`` columns, its transpose
        built here. With ``screen`` (and every non-zero of magnitude in [2**-60, 2**60]) it also holds
        float32 copies of the values, 4 bytes per non-zero: the compiled kernel then reads two thirds
        of the bytes per posting and rescores exactly the rows the float32 error bound cannot rule
        out, so the results stay those of the float64 values, bit for bit (see
        :func:`topk_cosine_sparse_many`). Off by default: on the machine it was measured on (2 MB of
        L2 per core, 480 MB of L3), with row blocks, it gained 3-6 % with 1 thread at V = 199k and
        lost 2-20 % elsewhere; it may pay where memory bandwidth binds.
        """
        import scipy.sparse as sp

        screen = _check_screen(screen)
        rows = _check_queries(indptr, indices, data, _check_int("n_cols", n_cols, 0))
        m = sp.csr_matrix((rows[2], rows[1], rows[0]), shape=(rows[0].size - 1, int(n_cols)))
        t = sp.csr_matrix(m.T, dtype=np.float64)
        t.sort_indices()
        index = cls(t.indptr, t.indices, t.data, row_norms(rows[0], rows[2]))
        index.rows = rows   # (checked above: not again)
        if screen:
            index.screen = _screen_copies(index)
        return index

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
        return _impl.topk_cosine_sparse_many(  # type: ignore[no-any-return]
            self.t_indptr, self.t_indices, self.t_data, self.row_norms, qp, qi, qd, k, ex, n_threads,
            self.dense_cols, self.dense, self.screen,
        )

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
        return _impl.topk_cosine_sparse_many(  # type: ignore[no-any-return]
            self.t_indptr, self.t_indices, self.t_data, self.row_norms, qp, qi, qd, k, ids, n_threads,
            self.dense_cols, self.dense, self.screen,
        )


def topk_cosine_rows(vectors: Any, query: Any, k: int, exclude: int = -1) -> tuple[np.ndarray, np.ndarray]:
    return DenseIndex(vectors).query(query, k, exclude)


class DenseIndex:
    """Dense vectors prepared for top-k cosine queries: checked (finite, float64, C order) once; each
    :meth:`query` checks only its query before :func:`topk_cosine_rows` of the selected backend."""

    def __init__(self, vectors: Any) -> None:
        self.vectors = _float_array("vectors", vectors, ndim=2)

    def query(self, query: Any, k: int, exclude: int = -1) -> tuple[np.ndarray, np.ndarray]:
        """The top-``k`` rows for ``query``: ``(rows, sims)``, see :func:`topk_cosine_rows`."""
        q = _float_array("query", query)
        if q.size != self.vectors.shape[1]:
            raise ValueError(f"query must have {self.vectors.shape[1]} entries, got {q.size}")
        k = min(_check_int("k", k, 0), self.vectors.shape[0])
        exclude = _check_exclude(exclude, self.vectors.shape[0])
        return _impl.topk_cosine_rows(self.vectors, q, k, exclude)  # type: ignore[no-any-return]

for _name in KERNEL_NAMES:
    if _name in globals():
        globals()[_name].__doc__ = getattr(_kernels_py, _name).__doc__
del _name


# --------------------------------------------------------------------------------------------------
# appended: PPMI weighting (cooc.weighting)

KERNEL_NAMES = KERNEL_NAMES + ("ppmi_csr",)  # type: ignore[assignment]
__all__ += ["ppmi_csr"]


def ppmi_csr(
    indptr: Any, indices: Any, data: Any, row_sums: Any, col_probs: Any, log_shift: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rs = _float_array("row_sums", row_sums)
    cp = _float_array("col_probs", col_probs)
    ptr, ind, vals = _check_csr(indptr, indices, data, cp.size)
    vals = _float_array("data", vals)
    if vals.size != ind.size:
        raise ValueError("data and indices must have the same length")
    if rs.size != ptr.size - 1:
        raise ValueError(f"row_sums must have one entry per row ({ptr.size - 1}), got {rs.size}")
    if np.any(vals < 0):
        raise ValueError("data must hold non-negative counts")
    if np.any(rs < 0) or np.any(cp < 0):
        raise ValueError("row_sums and col_probs must be non-negative")
    if vals.size:
        rows = np.repeat(np.arange(ptr.size - 1), np.diff(ptr))
        nz = vals > 0
        if np.any(rs[rows[nz]] <= 0) or np.any(cp[ind[nz]] <= 0):
            raise ValueError("row_sums and col_probs must be positive wherever a count is")
    if isinstance(log_shift, (bool, np.bool_)) or not isinstance(log_shift, (int, float, np.integer, np.floating)):
        raise TypeError(f"log_shift must be a real number, not {type(log_shift).__name__}")
    if not np.isfinite(log_shift):
        raise ValueError("log_shift must be finite")
    return _impl.ppmi_csr(ptr, ind, vals, rs, cp, float(log_shift))  # type: ignore[no-any-return]


ppmi_csr.__doc__ = _kernels_py.ppmi_csr.__doc__


# --------------------------------------------------------------------------------------------------
# appended: sparse x dense products (cooc.weighting.svd)

KERNEL_NAMES = KERNEL_NAMES + ("csr_matmat",)  # type: ignore[assignment]
__all__ += ["csr_matmat"]


def csr_matmat(indptr: Any, indices: Any, data: Any, x: Any, n_threads: int = 1) -> np.ndarray:
    xa = np.asarray(x)
    if xa.ndim != 2:
        raise ValueError(f"x must be two-dimensional, got shape {xa.shape}")
    if xa.dtype != np.float32:
        raise TypeError(f"x must hold float32, got dtype {xa.dtype}")
    ptr, ind, vals = _check_csr(indptr, indices, data, xa.shape[0])
    if vals.ndim != 1 or vals.size != ind.size:
        raise ValueError("data and indices must have the same length")
    if vals.dtype != np.float32:
        raise TypeError(f"data must hold float32, got dtype {vals.dtype}")
    n_threads = _check_int("n_threads", n_threads, 1)
    return _impl.csr_matmat(  # type: ignore[no-any-return]
        ptr, ind, np.ascontiguousarray(vals), np.ascontiguousarray(xa), n_threads
    )


csr_matmat.__doc__ = _kernels_py.csr_matmat.__doc__


# --------------------------------------------------------------------------------------------------
# appended: re-mapping token ids to the final vocabulary (cooc.counting)

KERNEL_NAMES = KERNEL_NAMES + ("remap_ids",)  # type: ignore[assignment]
__all__ += ["remap_ids"]


def remap_ids(ids: Any, offsets: Any, mapping: Any) -> tuple[np.ndarray, np.ndarray]:
    m = np.asarray(mapping)
    if m.ndim != 1:
        raise ValueError(f"mapping must be one-dimensional, got shape {m.shape}")
    if m.size and not np.issubdtype(m.dtype, np.integer):
        raise TypeError(f"mapping must hold integers, got dtype {m.dtype}")
    if m.size and (int(m.min()) < np.iinfo(np.int32).min or int(m.max()) > _INT32_MAX):
        raise ValueError("mapping must hold int32 values")
    ids_a, off = _check_tokens(ids, offsets, m.size, "len(mapping)")
    return _impl.remap_ids(ids_a, off, np.ascontiguousarray(m, dtype=np.int32))  # type: ignore[no-any-return]


remap_ids.__doc__ = _kernels_py.remap_ids.__doc__
