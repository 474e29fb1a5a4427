"""The one place that chooses between the compiled kernels and their pure-Python twins.

The compiled modules ``cooc._ext.*`` are used by default. ``COOC_PURE_PYTHON=1`` in the environment
forces the twins in ``cooc._pure.*``; if the compiled modules cannot be imported, a warning is issued
once and the twins are used. :data:`BACKEND` says which one runs: ``"cython"`` or ``"python"``.

Everything else in cooc calls the functions of this module (the neighbour indexes of
:mod:`cooc.neighbors` call :func:`active`'s after validating their own inputs), which validate their
inputs once, in Python, and then hand trusted arrays to whichever twin is active; both backends
therefore raise the same errors with the same messages, and kernels never see bad input. The kernels
that run on several threads take a range of rows; the wrappers here run the ranges with
:mod:`cooc._parallel`, and the result never depends on the number of threads.
"""

from __future__ import annotations

import importlib
import os
import warnings
from types import SimpleNamespace
from typing import Any

import numpy as np

from . import _parallel
from ._pure import count as _pure_count
from ._pure import linalg as _pure_linalg
from ._pure import neighbors as _pure_neighbors
from ._pure import tokenize as _pure_tokenize

__all__ = [
    "BACKEND",
    "KERNEL_MODULES",
    "KERNEL_NAMES",
    "PURE",
    "active",
    "compiled_module",
    "cooccurrence_csr",
    "cosine_dense",
    "csr_add",
    "csr_matmat",
    "new_word_table",
    "normalize_rows_l2",
    "ppmi_csr",
    "remap_ids",
    "row_norms",
    "set_backend",
]

#: the kernel modules: ``cooc._ext.<name>`` and its twin ``cooc._pure.<name>``
KERNEL_MODULES = ("tokenize", "count", "neighbors", "linalg")
_PURE_MODULES = (_pure_tokenize, _pure_count, _pure_neighbors, _pure_linalg)
#: every kernel, by name (each module's ``__all__``)
KERNEL_NAMES = tuple(name for mod in _PURE_MODULES for name in mod.__all__)
_INT32_MAX = np.iinfo(np.int32).max


def _namespace(modules: tuple[Any, ...]) -> SimpleNamespace:
    return SimpleNamespace(**{name: getattr(mod, name) for mod in modules for name in mod.__all__})


#: the pure-Python twins, every kernel by name
PURE = _namespace(_PURE_MODULES)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def compiled_module() -> SimpleNamespace | None:
    """The compiled kernels, every kernel by name (from ``cooc._ext.*``), or None when not built."""
    try:
        mods = tuple(importlib.import_module(f"cooc._ext.{name}") for name in KERNEL_MODULES)
    except ImportError:
        return None
    return _namespace(mods)


def _choose() -> tuple[SimpleNamespace, str]:
    if _env_flag("COOC_PURE_PYTHON"):
        return PURE, "python"
    mod = compiled_module()
    if mod is None:
        warnings.warn(
            "cooc: the compiled kernels (cooc._ext) are not built; using the pure-Python "
            "backend, which gives the same results much more slowly",
            RuntimeWarning,
            stacklevel=3,
        )
        return PURE, "python"
    return mod, "cython"


_impl, BACKEND = _choose()


def set_backend(name: str) -> None:
    """Switch the active backend to ``"cython"`` or ``"python"`` (used by tests and benchmarks)."""
    global _impl, BACKEND
    if name == "python":
        _impl, BACKEND = PURE, "python"
    elif name == "cython":
        mod = compiled_module()
        if mod is None:
            raise RuntimeError("cooc: the compiled backend is not built in this installation")
        _impl, BACKEND = mod, "cython"
    else:
        raise ValueError(f"backend must be 'cython' or 'python', not {name!r}")


def active() -> Any:
    """The active backend's kernels, by name; they trust their inputs (validate them first)."""
    return _impl


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
    """Divide each CSR row by its Euclidean norm: float64 values in the positions of ``data``.

    The norm of a row is ``sqrt(sum of squares)`` accumulated in column order; a row whose norm is 0
    stays all zeros. The rows are cut into ``n_threads`` ranges of about equal non-zeros, normalized
    in parallel (the result does not depend on it).
    """
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
    out = np.empty(vals.size, dtype=np.float64)
    if vals.size < (1 << 16):
        n_threads = 1
    kernel = _impl.normalize_rows_l2
    _parallel.map_ranges(lambda lo, hi: kernel(ptr[lo:hi + 1], vals, out), ptr.size - 1, n_threads, ptr)
    return out


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


def csr_matmat(indptr: Any, indices: Any, data: Any, x: Any, n_threads: int = 1) -> np.ndarray:
    """Product of a CSR matrix of float32 and a dense row-major float32 matrix: ``A @ x``, float32
    ``(n_rows, n_vecs)``, rounded exactly as the kernel :func:`cooc._pure.linalg.csr_matmat` says;
    the rows are cut into ``n_threads`` ranges of about equal work, multiplied in parallel (the result
    does not depend on it)."""
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
    vals = np.ascontiguousarray(vals)
    xa = np.ascontiguousarray(xa)
    n_rows = ptr.size - 1
    out = np.empty((n_rows, xa.shape[1]), dtype=np.float32)
    kernel = _impl.csr_matmat
    # ranges of about equal work: stored cells plus a row's own cost
    work = ptr + np.arange(n_rows + 1, dtype=np.int64) if n_threads > 1 else None
    _parallel.map_ranges(lambda lo, hi: kernel(ptr[lo:hi + 1], ind, vals, xa, out[lo:hi]), n_rows, n_threads, work)
    return out


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


for _name in ("cooccurrence_csr", "cosine_dense", "csr_add", "row_norms", "ppmi_csr", "remap_ids"):
    globals()[_name].__doc__ = getattr(PURE, _name).__doc__
del _name
