"""PPMI weighting and the randomized SVD on a Dask cluster, row block by row block: the distributed
twin of :func:`cooc.weighting.ppmi` and :func:`cooc.weighting.svd`.

Needs the optional extra ``cooc[dask]``, like :mod:`cooc.dask`; this module imports without it.

The matrix is never in one process. It is a list of row blocks ``(lo, hi, block)``, ``block`` a Dask
future (or a ``dask.delayed`` object, or a matrix in the client, which is scattered) of the rows
``lo..hi`` with all ``V`` columns: a scipy CSR matrix of shape ``(hi - lo, V)``, CSR parts
``(indptr, indices, data)``, or a row block of :mod:`cooc.dask` (``(b, (indptr, indices, data))``).
The blocks cover ``0..V`` in order.

- :func:`ppmi_blocks`: the row sums are local to a block; the column sums are a small reduction (each
  block's column sums, a ``V``-vector, summed in a tree); the client smooths them into the context
  probabilities, broadcasts that ``V``-vector, and every block is weighted where it lives by the
  kernel of :func:`cooc.weighting.ppmi` (:func:`cooc._backend.ppmi_csr`). For integer counts the
  float64 result is :func:`cooc.weighting.ppmi` of the whole matrix, cell for cell.
- :func:`svd_blocks`: the algorithm of :func:`cooc.weighting.svd` (the same function,
  ``cooc.weighting._range_finder``, with the same random start for a seed) whose two sparse
  products run block by block on the workers. Before the first product, each block's transpose is cut
  by the same row ranges and the pieces of a range are put side by side (one exchange of the matrix
  between the workers): ``A^T`` is then held by row blocks too, each row's cells in the order of the
  whole matrix's transpose. A product, ``A @ Y`` or ``A^T @ Q``, broadcasts the tall ``V x l`` float32
  operand to the workers and fetches each block's rows of the result into the client, computed by
  the compiled kernel :func:`cooc._backend.csr_matmat` exactly as in one process: the vectors equal
  :func:`~cooc.weighting.svd`'s of the whole matrix. The tall dense ``V x l`` blocks (Cholesky QR,
  Gram matrices, the final projection) stay in the client.
- :func:`vectors_on_cluster`: the recipe of :func:`cooc.weighting.vectors_from_counts` on row blocks:
  dense vectors (in the client) or L2-normalized sparse rows (blocks on the workers).

Memory per worker (``nnz_b`` the non-zeros of one row block, ``nnz_t`` those of the same columns,
``h = hi - lo`` its rows, ``V`` words, ``l = dim + oversamples`` columns of the range finder, ``s`` =
``split_every``; 4 bytes per float32 or int32, 8 per float64 or int64)::

    stage               held by one task                                          bytes
    counts block        int32 column + int64 count per non-zero                   12 nnz_b
    column sums         the block and its V-vector of sums; a tree-sum task       12 nnz_b + 8 V; (s+1) 8 V
    weighting           counts block, a float64 copy of its counts, the kernel's  about 40 nnz_b
                        kept cells (int32 + float64), the result
    PPMI block          int32 + float64 (sparse vectors) / int32 + float32 (SVD)  12 / 8 nnz_b
    SVD operands        the float32 block and the rows lo..hi of A^T, kept for    8 nnz_b + 8 nnz_t
                        the whole SVD (on average 16 nnz_b)
    building A^T        the block's transpose, cut into pieces, then one range's  about 24 nnz_b
                        pieces put side by side
    a product           the V x l operand (one copy per worker, shared by its     4 V l + 4 h l
                        tasks) and the block's h x l rows of the result

A worker thus needs about ``16 nnz_b`` for each block it holds during the SVD (plus the PPMI
blocks the caller keeps; ``ppmi_blocks(dtype=np.float32)`` makes them 8 bytes per non-zero) and
``4 V l`` for the operand of a product. The client holds about four ``V x l`` float32 copies (the
operand, the product, the Cholesky QR's result and its Gram temporaries) and the float64 result
``8 V dim`` (twice with ``add_context``). At ``V = 1M``, ``l = 450``: ``4 V l`` = 1.8 GB.
docs/dask.md has the same table.

When a worker dies (most often out of memory) these functions raise :class:`cooc.dask.ClusterError`
naming the stage (``weighting`` or ``svd``), the memory each worker had and what to change.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import scipy.sparse as sp

from . import _backend
from ._parallel import check_n_jobs
from ._validate import MAX_P, check_positive, check_real, check_weighting, is_sparse
from ._cluster import ClusterError, _Cluster, _gib, require_dask
from .weighting import _embedding, _range_finder, _Team, svd, unit_rows

__all__ = ["ppmi_blocks", "svd_blocks", "vectors_on_cluster"]

#: Partial ``V x l`` products (or column-sum vectors) summed per reduction task.
DEFAULT_SPLIT_EVERY = 2

#: One row block: its first row, the row after its last, and a Dask future of its CSR matrix.
RowBlock = tuple[int, int, Any]


# ------------------------------------------------------------------------------------------------
# tasks (run on the workers)


def _csr_of(obj: Any, lo: int, hi: int, n_words: int) -> Any:
    """A row block as a scipy CSR matrix of shape ``(hi - lo, n_words)``, whatever form it came in."""
    if isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], (int, np.integer)):
        obj = obj[1]  # a row block of cooc.dask: (block id, CSR parts)
    if isinstance(obj, tuple) and len(obj) == 3:
        indptr, indices, data = obj
        if np.asarray(indptr).size != hi - lo + 1:
            raise ValueError(f"the row block {lo}..{hi} has {np.asarray(indptr).size - 1} rows, not {hi - lo}")
        m = sp.csr_matrix((data, indices, indptr), shape=(hi - lo, n_words))
    elif is_sparse(obj):
        m = sp.csr_matrix(obj)
    else:
        raise TypeError(f"the row block {lo}..{hi} must be a scipy.sparse matrix or CSR parts "
                        f"(indptr, indices, data), not {type(obj).__name__}")
    if m.shape != (hi - lo, n_words):
        raise ValueError(f"the row block {lo}..{hi} must have shape {(hi - lo, n_words)}, got {m.shape}")
    return m


def _column_sums(obj: Any, lo: int, hi: int, n_words: int) -> np.ndarray:
    """A block's column sums (int64 for integer counts: exact), a ``V``-vector; the counts are checked
    to be non-negative."""
    m = _csr_of(obj, lo, hi, n_words)
    if m.nnz and m.data.min() < 0:
        raise ValueError(f"counts must be non-negative (row block {lo}..{hi})")
    return np.asarray(m.sum(axis=0)).ravel()


def _sum_arrays(*parts: np.ndarray) -> np.ndarray:
    """The sum of equal-shaped arrays, in the order given (a new array: the inputs are not written)."""
    out = parts[0].copy()
    for part in parts[1:]:
        out += part
    return out


def _ppmi_block(obj: Any, lo: int, hi: int, n_words: int, col_probs: np.ndarray, log_shift: float,
                dtype: Any) -> Any:
    """The PPMI of one row block, by the kernel of :func:`cooc.weighting.ppmi` (rows are independent)."""
    m = _csr_of(obj, lo, hi, n_words)
    data = np.asarray(m.data, dtype=np.float64)
    row_sums = np.asarray(m.sum(axis=1), dtype=np.float64).ravel()
    ptr, ind, val = _backend.ppmi_csr(m.indptr, m.indices, data, row_sums, col_probs, log_shift)
    del m, data
    return sp.csr_matrix((val.astype(dtype, copy=False), ind, ptr), shape=(hi - lo, n_words))


def _l2_block(obj: Any, lo: int, hi: int, n_words: int) -> Any:
    """One row block's rows divided by their Euclidean norms (as :func:`cooc.weighting.l2_rows`)."""
    m = _csr_of(obj, lo, hi, n_words)
    if m.dtype != np.int64 and m.dtype != np.float64:
        m = sp.csr_matrix(m, dtype=np.float64)
    if not m.has_sorted_indices:
        m = m.copy()
        m.sort_indices()
    data = _backend.normalize_rows_l2(m.indptr, m.data, 1)
    return sp.csr_matrix((data, m.indices, m.indptr), shape=m.shape)


def _float32_block(obj: Any, lo: int, hi: int, n_words: int) -> Any:
    """A row block as float32 CSR with int64 indptr and int32 indices (the operand of the products)."""
    m = _csr_of(obj, lo, hi, n_words)
    return (m.indptr.astype(np.int64), m.indices.astype(np.int32), m.data.astype(np.float32))


def _transposed_pieces(parts: tuple[np.ndarray, ...], lo: int, hi: int, n_words: int,
                       bounds: tuple[int, ...]) -> tuple[tuple[np.ndarray, ...], ...]:
    """``A_b^T`` (``V x (hi - lo)``, float32) cut into the row ranges of ``bounds``: piece ``c`` holds
    rows ``bounds[c]..bounds[c + 1]`` (copies: no piece keeps the others alive)."""
    indptr, indices, data = parts
    t = sp.csr_matrix((data, indices, indptr), shape=(hi - lo, n_words)).T.tocsr()
    ptr = t.indptr.astype(np.int64)
    out = []
    for c in range(len(bounds) - 1):
        a, z = int(ptr[bounds[c]]), int(ptr[bounds[c + 1]])
        out.append((ptr[bounds[c]:bounds[c + 1] + 1] - a, t.indices[a:z].astype(np.int32), t.data[a:z].copy()))
    return tuple(out)


def _item(pieces: tuple[Any, ...], c: int) -> Any:
    return pieces[c]


def _transposed_rows(lo: int, hi: int, spans: tuple[tuple[int, int], ...],
                     *pieces: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """Rows ``lo..hi`` of ``A^T`` from the pieces of every row block, in block order: each row's
    cells in increasing order of the rows of ``A`` they come from, as in the whole matrix's
    transpose (``a.T.tocsr()``)."""
    mats = [sp.csr_matrix((d, i, p), shape=(hi - lo, h - l)) for (p, i, d), (l, h) in zip(pieces, spans)]
    m = sp.hstack(mats, format="csr") if len(mats) > 1 else mats[0]
    return (m.indptr.astype(np.int64), m.indices.astype(np.int32), m.data.astype(np.float32, copy=False))


def _matmat(parts: tuple[np.ndarray, ...], y: np.ndarray) -> np.ndarray:
    """``A_b @ y`` in float32 by :func:`cooc._backend.csr_matmat` (one thread: a worker runs one task
    per thread)."""
    return _backend.csr_matmat(parts[0], parts[1], parts[2], y, 1)


# ------------------------------------------------------------------------------------------------
# the client's side


def _check_n_words(n_words: Any) -> int:
    n = check_positive("n_words", n_words)
    assert n is not None
    return int(n)


def _check_spans(blocks: Any, n_words: int) -> list[tuple[int, int]]:
    """The ``(lo, hi)`` of each block, checked to cover ``0..n_words`` in order."""
    if isinstance(blocks, (str, bytes)) or not isinstance(blocks, Sequence) or not blocks:
        raise TypeError("blocks must be a non-empty list of (lo, hi, block) row blocks")
    spans = []
    at = 0
    for i, item in enumerate(blocks):
        if not isinstance(item, tuple) or len(item) != 3:
            raise TypeError(f"blocks[{i}] must be a (lo, hi, block) tuple, not {type(item).__name__}")
        lo, hi = item[0], item[1]
        if any(isinstance(x, bool) or not isinstance(x, (int, np.integer)) for x in (lo, hi)):
            raise TypeError(f"blocks[{i}]: lo and hi must be integers, got {lo!r}, {hi!r}")
        if int(lo) != at or int(hi) <= int(lo):
            raise ValueError(f"blocks[{i}] covers rows {lo}..{hi}: the blocks must cover 0..n_words "
                             f"in order without gaps (this block must start at row {at} and be non-empty)")
        spans.append((int(lo), int(hi)))
        at = int(hi)
    if at != n_words:
        raise ValueError(f"the blocks cover rows 0..{at}, not 0..n_words = {n_words}")
    return spans


def _futures(client: Any, blocks: Sequence[Any]) -> list[Any]:
    """Every block as a future on the cluster: futures as they are, dask collections computed,
    matrices in the client scattered."""
    import distributed

    out: list[Any] = []
    for _, _, obj in blocks:
        if isinstance(obj, distributed.Future):
            out.append(obj)
        elif hasattr(obj, "__dask_graph__"):
            out.append(client.compute(obj))
        else:
            [f] = client.scatter([obj], hash=False)
            out.append(f)
    return out


def _tree(client: Any, parts: list[Any], fn: Callable[..., Any], split_every: int, name: str,
          token: str) -> Any:
    """The root future of a tree of ``split_every``-way ``fn(*parts)`` tasks (a fixed order of sums,
    whatever the scheduling)."""
    level, depth = parts, 0
    while len(level) > 1:
        level = [client.submit(fn, *level[j:j + split_every], key=f"{name}-{token}-{depth}-{j}", pure=False)
                 for j in range(0, len(level), split_every)]
        depth += 1
    return level[0]


@contextmanager
def _stage(client: Any, cluster: _Cluster, stage: str, advice: str) -> Iterator[None]:
    """Cluster failures during ``stage`` as :class:`cooc.dask.ClusterError` (a dead worker: with the
    workers' memory and ``advice``; the other failures as :meth:`cooc._cluster._Cluster.failure` says)."""
    import distributed
    from distributed.comm.core import CommClosedError

    died = (f"(most often out of memory; {cluster.memory()}); {advice}, give each worker more memory, "
            "or add workers")
    try:
        yield
    except Exception as exc:
        if isinstance(exc, distributed.KilledWorker):
            raise ClusterError(
                f"{stage} failed: a worker holding it died {exc.allowed_failures + 1} time(s), Dask's "
                f"limit {died}"
            ) from exc
        if isinstance(exc, (CommClosedError, OSError)) and _scheduler_alive(client):
            # data sent straight to a worker (scatter) that died meanwhile: the scheduler is fine
            raise ClusterError(f"{stage} failed: a worker died while data was sent to it {died}") from exc
        mapped = cluster.failure(exc, stage)
        if mapped is None:
            raise
        raise mapped from exc


def _scheduler_alive(client: Any) -> bool:
    try:
        client.scheduler_info()
    except Exception:
        return False
    return str(getattr(client, "status", "")) == "running"


def _token() -> str:
    return f"{os.getpid()}-{time.perf_counter_ns()}"


def _check_split_every(split_every: Any) -> int:
    s = check_positive("split_every", split_every)
    assert s is not None
    if s < 2:
        raise ValueError(f"split_every must be at least 2, got {s}")
    return int(s)


def ppmi_blocks(
    client: Any, blocks: Sequence[RowBlock], n_words: int, cds: float = 0.75, shift: float = 1.0, *,
    dtype: Any = np.float64, split_every: int = DEFAULT_SPLIT_EVERY,
) -> list[RowBlock]:
    """PPMI / SPPMI of a co-occurrence matrix held as row blocks on a Dask cluster.

    Parameters
    ----------
    client : distributed.Client
    blocks : list of (lo, hi, block)
        The matrix's rows ``lo..hi`` for blocks covering ``0..n_words`` in order: ``block`` a Dask
        future, a ``dask.delayed`` object or a matrix in the client, of non-negative counts: a CSR
        matrix ``(hi - lo, n_words)``, CSR parts or a row block of :mod:`cooc.dask`.
    n_words : int
        ``V``, the number of rows and columns.
    cds, shift : float
        As in :func:`cooc.weighting.ppmi`.
    dtype : numpy.float64 or numpy.float32
        Of the result's values: float64 (the sparse vectors; equal to :func:`cooc.weighting.ppmi` of
        the whole matrix, cell for cell, for integer counts) or float32 (what :func:`svd_blocks`
        multiplies: 8 bytes per non-zero instead of 12).
    split_every : int, default 2
        Column-sum vectors summed per reduction task.

    Returns
    -------
    list of (lo, hi, future)
        Futures of the weighted blocks, scipy CSR matrices ``(hi - lo, n_words)``, computed when this
        returns.

    Raises
    ------
    ValueError, TypeError
        For a bad parameter or block (a block's own errors come back from the worker).
    cooc.dask.ClusterError
        When a worker died (most often out of memory): the message names the stage "weighting".
    """
    require_dask()
    n = _check_n_words(n_words)
    cds = check_real("cds", cds, low=0.0, low_inclusive=False, high=1.0)
    shift = check_real("shift", shift, low=1.0, low_inclusive=True)
    if np.dtype(dtype) not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"dtype must be float64 or float32, not {dtype!r}")
    split_every = _check_split_every(split_every)
    spans = _check_spans(blocks, n)
    cluster = _Cluster.of(client)
    token = _token()
    stage = f"weighting (PPMI of {len(spans)} row block(s))"
    advice = "cut the counts into more row blocks (n_blocks= of cooc.dask.pretrain)"
    with _stage(client, cluster, stage, advice):
        futures = _futures(client, blocks)
        sums = [client.submit(_column_sums, f, lo, hi, n, key=f"cooc-colsums-{token}-{b}", pure=False)
                for b, (f, (lo, hi)) in enumerate(zip(futures, spans))]
        col_sums = np.asarray(_tree(client, sums, _sum_arrays, split_every, "cooc-colsum", token).result(),
                              dtype=np.float64)
        del sums
        # as cooc.weighting.ppmi computes them from the whole matrix's column sums
        smoothed = np.power(col_sums, cds) if cds != 1.0 else col_sums
        z = float(smoothed.sum())
        col_probs = smoothed / z if z > 0 else smoothed
        [probs] = client.scatter([col_probs], broadcast=True, hash=False)
        out = [client.submit(_ppmi_block, f, lo, hi, n, probs, math.log(shift), np.dtype(dtype),
                             key=f"cooc-ppmi-{token}-{b}", pure=False)
               for b, (f, (lo, hi)) in enumerate(zip(futures, spans))]
        _wait(out)
    return [(lo, hi, f) for (lo, hi), f in zip(spans, out)]


def _wait(futures: list[Any]) -> None:
    """Wait for every future (without fetching it); the first that failed raises its error here."""
    for f in futures:
        if f.exception() is not None:
            f.result()


def _gather_rows(client: Any, spans: list[tuple[int, int]], futures: list[Any], n_words: int) -> Any:
    """The whole matrix in the client (for matrices small enough for :func:`cooc.weighting.svd`'s
    dense path)."""
    parts = [_csr_of(client.gather(f), lo, hi, n_words) for f, (lo, hi) in zip(futures, spans)]
    return sp.vstack(parts, format="csr")


def svd_blocks(
    client: Any, blocks: Sequence[RowBlock], n_words: int, dim: int, p: float = 0.5, *, seed: int = 0,
    n_iter: int = 2, oversamples: int | None = None, add_context: bool = False, n_jobs: int = -1,
) -> np.ndarray:
    """Truncated SVD embedding ``U_k * S_k ** p`` of a square matrix held as row blocks on a Dask
    cluster: :func:`cooc.weighting.svd` with its sparse products run on the workers.

    Parameters
    ----------
    client : distributed.Client
    blocks : list of (lo, hi, block)
        As in :func:`ppmi_blocks` (e.g. its result): float32 blocks are multiplied as they are, others
        are converted (as :func:`cooc.weighting.svd` converts the whole matrix).
    n_words : int
        ``V``, the number of rows and columns.
    dim, p, seed, n_iter, oversamples, add_context
        As in :func:`cooc.weighting.svd` (products in float32).
    n_jobs : int, default -1
        Threads of the client for the dense products with the tall blocks.

    Returns
    -------
    float64 ndarray, shape (n_words, dim)
        :func:`cooc.weighting.svd` of the whole matrix with the same options: every product's row is
        the same sum in the same order as in one process (``A^T`` is built by the same row blocks,
        each row's cells in the order of the whole matrix's transpose).

    Raises
    ------
    ValueError, TypeError
        For a bad parameter or block.
    cooc.dask.ClusterError
        When a worker died (most often out of memory): the message names the stage "svd".
    """
    require_dask()
    n = _check_n_words(n_words)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim!r}")
    p = check_real("p", p, low=0.0, low_inclusive=True, high=MAX_P)
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 0:
        raise ValueError(f"n_iter must be a non-negative integer, got {n_iter!r}")
    if oversamples is not None and (isinstance(oversamples, bool) or not isinstance(oversamples, (int, np.integer))
                                    or oversamples < 0):
        raise ValueError(f"oversamples must be a non-negative integer or None, got {oversamples!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, not {type(seed).__name__} ({seed!r})")
    if not isinstance(add_context, (bool, np.bool_)):
        raise TypeError(f"add_context must be True or False, not {add_context!r}")
    jobs = check_n_jobs(n_jobs)
    spans = _check_spans(blocks, n)
    k = int(dim)
    if k > n:
        raise ValueError(f"dim must be at most n_words = {n}, got {k}")
    l = k + (max(20, k // 2) if oversamples is None else int(oversamples))
    cluster = _Cluster.of(client)
    stage = f"svd ({k} components, {l} columns per product, {len(spans)} row block(s), V = {n})"
    advice = (f"every worker holds the V x l operand of a product ({_gib(4 * n * l)}) besides its "
              "blocks (16 bytes per non-zero): cut the matrix into more row blocks, or lower dim or "
              "oversamples")
    token = _token()
    with _stage(client, cluster, stage, advice):
        futures = _futures(client, blocks)
        if l >= n or n <= 500:  # svd's dense path: the matrix is small
            return svd(_gather_rows(client, spans, futures, n), k, p, n_iter=n_iter, oversamples=oversamples,
                       seed=int(seed), n_jobs=n_jobs, add_context=bool(add_context))
        a = [client.submit(_float32_block, f, lo, hi, n, key=f"cooc-svd-a-{token}-{b}", pure=False)
             for b, (f, (lo, hi)) in enumerate(zip(futures, spans))]
        # A^T by row blocks of the same ranges: each block's transpose cut by those ranges, and the
        # pieces of a range put side by side (a one-time exchange, then no V x l partial sums)
        cuts = (spans[0][0],) + tuple(hi for _, hi in spans)
        pieces = [client.submit(_transposed_pieces, f, lo, hi, n, cuts, key=f"cooc-svd-cut-{token}-{b}",
                                pure=False) for b, (f, (lo, hi)) in enumerate(zip(a, spans))]
        at = []
        for c, (lo, hi) in enumerate(spans):
            mine = [client.submit(_item, pf, c, key=f"cooc-svd-piece-{token}-{b}-{c}", pure=False)
                    for b, pf in enumerate(pieces)]
            at.append(client.submit(_transposed_rows, lo, hi, tuple(spans), *mine,
                                    key=f"cooc-svd-at-{token}-{c}", pure=False))
        del mine
        _wait(at)
        del pieces
        products = _Products(client, spans, a, at, n, token)
        team = _Team(jobs)
        try:
            u, s, v = _range_finder(products.apply, products.apply_t, (n, n), k, l, int(n_iter), int(seed),
                                    np.float32, team, right=bool(add_context))
        finally:
            team.close()
            del a, at, products
    return _embedding(u, s, v, p, bool(add_context))


class _Products:
    """The two products of :func:`cooc.weighting._range_finder` over the row blocks on the workers:
    the tall operand broadcast to the workers, each row block's rows of the product fetched in turn."""

    def __init__(self, client: Any, spans: list[tuple[int, int]], a: list[Any], at: list[Any], n: int,
                 token: str) -> None:
        self.client, self.spans, self.a, self.at, self.n, self.token = client, spans, a, at, n, token
        self.count = 0

    def _rows(self, blocks: list[Any], y: np.ndarray, name: str) -> np.ndarray:
        self.count += 1
        y = np.ascontiguousarray(y, dtype=np.float32)
        [yf] = self.client.scatter([y], broadcast=True, hash=False)
        parts = [self.client.submit(_matmat, f, yf, key=f"cooc-svd-{name}-{self.token}-{self.count}-{b}",
                                    pure=False) for b, f in enumerate(blocks)]
        del yf
        out = np.empty((self.n, y.shape[1]), dtype=np.float32)
        for (lo, hi), f in zip(self.spans, parts):
            out[lo:hi] = f.result()
            f.release()
        return out

    def apply(self, y: np.ndarray) -> np.ndarray:
        """``A @ y``."""
        return self._rows(self.a, y, "ay")

    def apply_t(self, q: np.ndarray) -> np.ndarray:
        """``A^T @ q``."""
        return self._rows(self.at, q, "atq")


def vectors_on_cluster(
    client: Any, blocks: Sequence[RowBlock], n_words: int, weighting: str = "count", *, cds: float = 0.75,
    shift: float | None = None, dim: int | None = None, p: float = 0.5, seed: int = 0,
    add_context: bool = False, n_jobs: int = -1, split_every: int = DEFAULT_SPLIT_EVERY,
    release_counts: bool = False,
) -> np.ndarray | list[RowBlock]:
    """A model's vectors from its integer counts held as row blocks on a Dask cluster: the recipe of
    :func:`cooc.weighting.vectors_from_counts` (and :func:`cooc.pretrain`'s weighting options).

    Parameters
    ----------
    client, blocks, n_words
        As in :func:`ppmi_blocks` (e.g. the row blocks counted by :mod:`cooc.dask`).
    weighting, cds, shift, dim, p, seed, add_context
        As in :func:`cooc.pretrain` (``distance`` is always "uniform" on a cluster).
    n_jobs : int
        Threads of the client for the SVD's dense products.
    split_every : int
        Column-sum vectors summed per reduction task (PPMI).
    release_counts : bool, default False
        Release the futures of ``blocks`` as soon as their PPMI is computed (the caller has written
        them out): the workers then hold the PPMI blocks during the SVD, not the counts too.

    Returns
    -------
    numpy.ndarray or list of (lo, hi, future)
        With ``dim``: the dense vectors, float32 ``(n_words, dim)`` with unit rows (as
        ``vectors_from_counts`` computes them, see :func:`svd_blocks`). Without: the L2-normalized rows of the counts
        or of their PPMI, as futures of float64 CSR blocks (equal to ``vectors_from_counts``'s rows,
        cell for cell).
    """
    check_weighting(weighting, cds, shift, "uniform", dim, p, add_context, seed)
    n = _check_n_words(n_words)
    spans = _check_spans(blocks, n)
    weighted: list[RowBlock] = list(blocks)
    if weighting in ("ppmi", "sppmi"):
        k = shift if shift is not None else (5.0 if weighting == "sppmi" else 1.0)
        weighted = ppmi_blocks(client, blocks, n, cds, k, dtype=np.float32 if dim is not None else np.float64,
                               split_every=split_every)
        if release_counts:
            for _, _, f in blocks:
                if hasattr(f, "release"):
                    f.release()
    if dim is not None:
        d = min(int(dim), n)
        vecs = svd_blocks(client, weighted, n, d, p, seed=int(seed), add_context=bool(add_context),
                          n_jobs=n_jobs)
        return np.ascontiguousarray(unit_rows(vecs), dtype=np.float32)
    cluster = _Cluster.of(client)
    token = _token()
    with _stage(client, cluster, f"weighting (L2-normalized rows of {len(spans)} row block(s))",
                "cut the counts into more row blocks (n_blocks= of cooc.dask.pretrain)"):
        futures = _futures(client, weighted)
        out = [client.submit(_l2_block, f, lo, hi, n, key=f"cooc-l2-{token}-{b}", pure=False)
               for b, (f, (lo, hi)) in enumerate(zip(futures, spans))]
        _wait(out)
    return [(lo, hi, f) for (lo, hi), f in zip(spans, out)]
