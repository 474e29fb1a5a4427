"""Pure-Python twins of the compiled linear-algebra kernels in ``cooc._ext.linalg``.

Same names, signatures, docstrings and output dtypes as the compiled module; a test checks it. Sums are
accumulated left to right in column order, exactly like the compiled loops, so both backends give
bit-identical floats.
Inputs are trusted: ``cooc._backend`` validates them before either twin runs.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["normalize_rows_l2", "row_norms", "cosine_dense", "ppmi_csr", "csr_matmat"]



def normalize_rows_l2(indptr, data, out):
    """Divide each CSR row by its Euclidean norm.

    The norm of a row is ``sqrt(sum of squares)`` accumulated in column order; every value is divided
    by it. A row whose norm is 0 stays all zeros.

    Parameters
    ----------
    indptr : int64 array, shape (n_rows + 1,)
        Row ``r`` is ``data[indptr[r]:indptr[r + 1]]``; it may be a slice of a bigger matrix's
        ``indptr`` (a range of its rows), not starting at 0.
    data : int64 or float64 array, shape (nnz,)
    out : float64 array, shape (nnz,)
        Receives the normalized values of the rows, in the same positions as ``data``; other
        positions are left as they are.

    Returns
    -------
    float64 array, shape (nnz,)
        ``out``.
    """
    values = data.tolist()
    bounds = indptr.tolist()
    for r in range(len(bounds) - 1):
        lo, hi = bounds[r], bounds[r + 1]
        sq = 0.0
        for k in range(lo, hi):
            x = float(values[k])
            sq += x * x
        norm = math.sqrt(sq)
        out[lo:hi] = [float(values[k]) / norm if norm > 0.0 else 0.0 for k in range(lo, hi)]
    return out


def row_norms(indptr, data):
    """Euclidean norm of every CSR row, its squares summed in column order.

    Parameters
    ----------
    indptr : int64 array, shape (n_rows + 1,)
    data : float64 array, shape (nnz,)

    Returns
    -------
    float64 array, shape (n_rows,)
    """
    bounds = indptr.tolist()
    vals = data.tolist()
    out = []
    for r in range(len(bounds) - 1):
        sq = 0.0
        for j in range(bounds[r], bounds[r + 1]):
            sq += vals[j] * vals[j]
        out.append(math.sqrt(sq))
    return np.array(out, dtype=np.float64)


def cosine_dense(a, b):
    """Cosine similarity of two dense vectors of equal length.

    ``dot(a, b) / (|a| * |b|)`` with every sum accumulated left to right; 0.0 when either norm is 0,
    never NaN.

    Parameters
    ----------
    a, b : float64 arrays, shape (n,)

    Returns
    -------
    float
    """
    dot = 0.0
    sa = 0.0
    sb = 0.0
    for x, y in zip(a.tolist(), b.tolist()):
        dot += x * y
        sa += x * x
        sb += y * y
    na = math.sqrt(sa)
    nb = math.sqrt(sb)
    if na == 0.0 or nb == 0.0:
        return 0.0
    return dot / (na * nb)


def ppmi_csr(indptr, indices, data, row_sums, col_probs, log_shift):
    """Shifted positive PMI of every stored cell of a CSR matrix of (weighted) counts.

    For the cell ``(r, c)`` holding ``x``, the value is ``log(x / (row_sums[r] * col_probs[c])) -
    log_shift``; cells whose value is not strictly positive (and cells of zero count) are dropped.
    With ``col_probs[c] = count(c) ** cds / sum(count ** cds)`` this is PMI with context-distribution
    smoothing (Levy, Goldberg and Dagan, 2015); ``log_shift = log(k)`` gives SPPMI.

    Parameters
    ----------
    indptr : int64 array, shape (n_rows + 1,)
    indices : int32 array, shape (nnz,)
    data : float64 array, shape (nnz,)
        Non-negative (weighted) counts.
    row_sums : float64 array, shape (n_rows,)
        Positive for every row holding a non-zero count.
    col_probs : float64 array, shape (n_cols,)
        Positive for every column holding a non-zero count.
    log_shift : float
        Subtracted from every PMI value (0.0 for plain PPMI).

    Returns
    -------
    indptr : int64 array, shape (n_rows + 1,)
    indices : int32 array, shape (kept,)
    data : float64 array, shape (kept,)
        The kept cells, in the input's order.
    """
    n_rows = indptr.size - 1
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(indptr))
    positive = data > 0.0
    # The ratio is computed elementwise exactly as the compiled loop does; math.log is the C library's
    # log, so both backends give bit-identical values.
    ratio = data[positive] / (row_sums[rows[positive]] * col_probs[indices[positive]])
    log = math.log
    shift = float(log_shift)
    pmi = np.array([log(x) - shift for x in ratio.tolist()], dtype=np.float64)
    keep = np.zeros(data.size, dtype=bool)
    keep[np.flatnonzero(positive)[pmi > 0.0]] = True
    out_ptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=n_rows), out=out_ptr[1:])
    return (
        out_ptr,
        np.ascontiguousarray(indices[keep], dtype=np.int32),
        np.ascontiguousarray(pmi[pmi > 0.0], dtype=np.float64),
    )


def csr_matmat(indptr, indices, data, x, out):
    """Product of a CSR matrix of float32 and a dense row-major float32 matrix: ``A @ x``.

    Row ``r`` of the result starts at zero and adds the stored cells of row ``r`` of ``A`` in their
    order, four at a time: ``out[r] += (v0 * x[c0] + v1 * x[c1]) + (v2 * x[c2] + v3 * x[c3])``, then
    the one to three left over one at a time: ``out[r] += v * x[c]``; every operation is a float32
    multiply or add, so both backends give bit-identical floats.

    Parameters
    ----------
    indptr : int64 array, shape (n_rows + 1,)
        Row ``r`` of ``A`` is ``indices[indptr[r]:indptr[r + 1]]`` (and ``data`` likewise); it may be a
        slice of a bigger matrix's ``indptr`` (a range of its rows), not starting at 0.
    indices : int32 array, shape (nnz,)
        Column indices, each in ``[0, x.shape[0])``.
    data : float32 array, shape (nnz,)
    x : float32 C-contiguous array, shape (n_cols, n_vecs)
    out : float32 C-contiguous array, shape (n_rows, n_vecs)
        Receives the product (its previous contents are ignored).

    Returns
    -------
    float32 array, shape (n_rows, n_vecs)
        ``out``.
    """
    out[...] = 0.0
    if out.shape[0] == 0:
        return out
    indptr = np.asarray(indptr, dtype=np.int64)
    counts = np.diff(indptr)
    groups = counts // 4
    # step g adds the g-th group of four cells of every row that has one, as the compiled loop does
    for g in range(int(groups.max())):
        rows = np.flatnonzero(groups > g)
        j = indptr[rows] + 4 * g
        t0, t1, t2, t3 = (data[j + i][:, None] * x[indices[j + i]] for i in range(4))
        out[rows] += (t0 + t1) + (t2 + t3)
    left = counts - 4 * groups
    for i in range(3):
        rows = np.flatnonzero(left > i)
        j = indptr[rows] + 4 * groups[rows] + i
        out[rows] += data[j][:, None] * x[indices[j]]
    return out
