"""Compiled linear-algebra kernels: row norms and normalization, cosine, PPMI, sparse x dense products.

Twins of ``cooc._pure.linalg`` (same names, signatures, docstrings and output dtypes). Inputs are
trusted: ``cooc._backend`` validates them first. The kernels that ``cooc._backend`` runs on several
threads take a range of rows: an ``indptr`` slice whose entries are positions in the whole matrix's
``indices`` and ``data``, and write their rows into ``out``.
"""

import numpy as np
cimport cython
from libc.math cimport sqrt, log
from libc.stdint cimport int32_t, int64_t

__all__ = ["normalize_rows_l2", "row_norms", "cosine_dense", "ppmi_csr", "csr_matmat"]


ctypedef fused count_t:
    int64_t
    double


cdef void _normalize(const int64_t* ptr, const count_t* vals, double* out, Py_ssize_t n_rows) noexcept nogil:
    cdef Py_ssize_t r, k
    cdef double sq, norm, x
    for r in range(n_rows):
        sq = 0.0
        for k in range(ptr[r], ptr[r + 1]):
            x = <double> vals[k]
            sq = sq + x * x
        norm = sqrt(sq)
        for k in range(ptr[r], ptr[r + 1]):
            out[k] = (<double> vals[k]) / norm if norm > 0.0 else 0.0


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
    cdef const int64_t[::1] ptr = indptr
    cdef double[::1] o = out
    cdef const int64_t[::1] ivals
    cdef const double[::1] fvals
    cdef Py_ssize_t n_rows = ptr.shape[0] - 1
    if n_rows <= 0 or ptr[n_rows] == ptr[0]:
        return out
    if data.dtype == np.int64:
        ivals = data
        with nogil:
            _normalize(&ptr[0], &ivals[0], &o[0], n_rows)
    else:
        fvals = data
        with nogil:
            _normalize(&ptr[0], &fvals[0], &o[0], n_rows)
    return out


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
    cdef const double[::1] x = a
    cdef const double[::1] y = b
    cdef Py_ssize_t i, n = x.shape[0]
    cdef double dot = 0.0, sa = 0.0, sb = 0.0, na, nb
    with nogil:
        for i in range(n):
            dot = dot + x[i] * y[i]
            sa = sa + x[i] * x[i]
            sb = sb + y[i] * y[i]
    na = sqrt(sa)
    nb = sqrt(sb)
    if na == 0.0 or nb == 0.0:
        return 0.0
    return dot / (na * nb)



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
    cdef const int64_t[::1] ptr = indptr
    cdef const double[::1] val = data
    cdef Py_ssize_t r, j, n_rows = ptr.shape[0] - 1
    cdef double sq
    out_np = np.empty(n_rows, dtype=np.float64)
    cdef double[::1] out = out_np
    with nogil:
        for r in range(n_rows):
            sq = 0.0
            for j in range(ptr[r], ptr[r + 1]):
                sq = sq + val[j] * val[j]
            out[r] = sqrt(sq)
    return out_np


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
    cdef const int64_t[::1] ptr = indptr
    cdef const int32_t[::1] ind = indices
    cdef const double[::1] val = data
    cdef const double[::1] rs = row_sums
    cdef const double[::1] cp = col_probs
    cdef double shift = log_shift
    cdef Py_ssize_t r, j, n_rows = ptr.shape[0] - 1, nnz = ind.shape[0]
    cdef int64_t kept = 0
    cdef double x, v
    out_ptr_np = np.zeros(n_rows + 1, dtype=np.int64)
    out_ind_np = np.empty(nnz, dtype=np.int32)
    out_val_np = np.empty(nnz, dtype=np.float64)
    cdef int64_t[::1] optr = out_ptr_np
    cdef int32_t[::1] oind = out_ind_np
    cdef double[::1] oval = out_val_np
    with nogil:
        for r in range(n_rows):
            for j in range(ptr[r], ptr[r + 1]):
                x = val[j]
                if x > 0.0:
                    v = log(x / (rs[r] * cp[ind[j]])) - shift
                    if v > 0.0:
                        oind[kept] = ind[j]
                        oval[kept] = v
                        kept += 1
            optr[r + 1] = kept
    return out_ptr_np, out_ind_np[:kept].copy(), out_val_np[:kept].copy()


cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    /* The n_rows rows of A @ x that ptr delimits, four stored cells at a time (the order the pure-Python twin follows).
       On x86-64 with GCC, an AVX2 clone is chosen at load time on CPUs that have it: same operations,
       eight lanes instead of four, identical results (no fused multiply-add: -ffp-contract=off). glibc
       only: the clone is an IFUNC, which musl (musllinux wheels) does not support. */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__)
    __attribute__((target_clones("avx2", "default")))
    #endif
    static void cooc_csr_matmat_rows(const int64_t *ptr, const int32_t *ind, const float *val,
                                     const float *x, float *out, int64_t n_rows, int64_t l) {
        for (int64_t r = 0; r < n_rows; r++) {
            float *o = out + r * l;
            int64_t j = ptr[r], e = ptr[r + 1];
            memset(o, 0, (size_t)l * sizeof(float));
            for (; j + 3 < e; j += 4) {
                const float v0 = val[j], v1 = val[j + 1], v2 = val[j + 2], v3 = val[j + 3];
                const float *x0 = x + (int64_t)ind[j] * l, *x1 = x + (int64_t)ind[j + 1] * l;
                const float *x2 = x + (int64_t)ind[j + 2] * l, *x3 = x + (int64_t)ind[j + 3] * l;
                for (int64_t c = 0; c < l; c++)
                    o[c] += (v0 * x0[c] + v1 * x1[c]) + (v2 * x2[c] + v3 * x3[c]);
            }
            for (; j < e; j++) {
                const float v = val[j];
                const float *xr = x + (int64_t)ind[j] * l;
                for (int64_t c = 0; c < l; c++)
                    o[c] += v * xr[c];
            }
        }
    }
    """
    void cooc_csr_matmat_rows(const int64_t* ptr, const int32_t* ind, const float* val, const float* x,
                              float* out, int64_t n_rows, int64_t l) nogil



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
    cdef const int64_t[::1] ptr = indptr
    cdef const int32_t[::1] ind = indices
    cdef const float[::1] val = data
    cdef const float[:, ::1] xv = x
    cdef float[:, ::1] ov = out
    cdef Py_ssize_t n_rows = ptr.shape[0] - 1, l = xv.shape[1], nnz = ind.shape[0]
    cdef float dummy_x = 0.0
    cdef int32_t dummy_i = 0
    cdef const int32_t* pi = &dummy_i
    cdef const float* pv = &dummy_x
    cdef const float* px = &dummy_x
    if n_rows <= 0 or l == 0:
        return out
    if nnz > 0:
        pi = &ind[0]
        pv = &val[0]
    if xv.shape[0] > 0:
        px = &xv[0, 0]
    with nogil:
        cooc_csr_matmat_rows(&ptr[0], pi, pv, px, &ov[0, 0], n_rows, l)
    return out
