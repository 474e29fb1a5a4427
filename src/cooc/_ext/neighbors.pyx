"""Compiled neighbour kernels: the top-k rows by cosine similarity, through a matrix's transpose or over
dense vectors.

Twins of ``cooc._pure.neighbors`` (same names, signatures, docstrings and output dtypes). Inputs are
trusted: ``cooc.neighbors`` validates them first and runs ranges of queries or rows on the threads of
``cooc._parallel``.
"""

import numpy as np
from libc.math cimport sqrt, INFINITY
from libc.stdlib cimport calloc, free
from libc.string cimport memset
from libc.stdint cimport int32_t, int64_t

from cooc._ext._heap cimport _heap_offer, _heap_sort

__all__ = ["topk_cosine_sparse_many"]

_NO_DENSE_COLS = np.zeros(0, dtype=np.int32)
_NO_DENSE = np.zeros((0, 1), dtype=np.float64)

cdef enum:
    # Rows a query accumulates and scans at a time: a 1 MB accumulator, which stays in L2 while the
    # block's postings are added (1 thread at V = 200k: about 0.8 of the time of one block)
    _BLOCK_ROWS = 1 << 17


cdef struct _Index:
    const int64_t* tp
    const int32_t* ti
    const double* td
    const double* rn
    const int32_t* dcols   # sorted columns also stored densely, one row of dvals each
    const double* dvals
    Py_ssize_t n_dense, n_rows


cdef inline void _axpy_rows(double* acc, const int32_t* ti, const double* td, Py_ssize_t lo, Py_ssize_t hi,
                            double qc) noexcept nogil:
    # acc[ti[j]] += td[j] * qc for j in [lo, hi): the rows of one column are distinct, so four
    # read-modify-writes can be in flight at once (each sum is still acc + td * qc, as written)
    cdef Py_ssize_t j = lo
    cdef int32_t i0, i1, i2, i3
    cdef double a0, a1, a2, a3
    while j + 4 <= hi:
        i0 = ti[j]
        i1 = ti[j + 1]
        i2 = ti[j + 2]
        i3 = ti[j + 3]
        a0 = acc[i0] + td[j] * qc
        a1 = acc[i1] + td[j + 1] * qc
        a2 = acc[i2] + td[j + 2] * qc
        a3 = acc[i3] + td[j + 3] * qc
        acc[i0] = a0
        acc[i1] = a1
        acc[i2] = a2
        acc[i3] = a3
        j += 4
    while j < hi:
        acc[ti[j]] = acc[ti[j]] + td[j] * qc
        j += 1


cdef inline void _axpy_dense(double* acc, const double* col, Py_ssize_t lo, Py_ssize_t hi, double qc) noexcept nogil:
    # acc[r] += col[r] * qc for r in [lo, hi): a contiguous loop the compiler vectorizes
    cdef Py_ssize_t r
    for r in range(lo, hi):
        acc[r] = acc[r] + col[r] * qc


cdef inline Py_ssize_t _first_at_least(const int32_t* ti, Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t r) noexcept nogil:
    # the first j in [lo, hi) with ti[j] >= r (ti sorted there), or hi: binary search
    cdef Py_ssize_t mid
    while lo < hi:
        mid = (lo + hi) // 2
        if ti[mid] < r:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef void _accumulate(const _Index* d, const int32_t* qi, const double* qd, Py_ssize_t m, double* acc0,
                      Py_ssize_t r0, Py_ssize_t r1) noexcept nogil:
    # Add the query's m columns, in increasing order, to acc0[r] for the rows r in [r0, r1). A column
    # stored densely too is added over the whole row range (a missing entry adds q * 0.0 = +-0.0,
    # which leaves every accumulator as it is: they start at +0.0 and a sum is -0.0 only when both
    # terms are, so none is ever -0.0; every other sum is the same as the posting's, so the floats
    # are those of the postings).
    cdef Py_ssize_t i, c, lo, hi, di = 0
    for i in range(m):
        c = qi[i]
        while di < d.n_dense and d.dcols[di] < c:
            di += 1
        if di < d.n_dense and d.dcols[di] == c:
            _axpy_dense(acc0, d.dvals + di * d.n_rows, r0, r1, qd[i])
            continue
        lo = d.tp[c]
        hi = d.tp[c + 1]
        if r0 > 0:
            lo = _first_at_least(d.ti, lo, hi, r0)
        if r1 < d.n_rows:
            hi = _first_at_least(d.ti, lo, hi, r1)
        _axpy_rows(acc0, d.ti, d.td, lo, hi, qd[i])


cdef Py_ssize_t _scan(const double* acc0, const double* rn, Py_ssize_t r0, Py_ssize_t r1, Py_ssize_t ex,
                      Py_ssize_t kq, double qnorm, double* hs, int64_t* hr, Py_ssize_t n) noexcept nogil:
    # Scan the rows [r0, r1) once into the heap (hs, hr) of the kq best, n of them kept already
    # (earlier blocks); returns its size. Once the heap is full and its worst score hs[0] is >= 0,
    # a row with acc <= thr * norm cannot enter it (thr = hs[0] * qnorm less a margin far above
    # rounding: a multiplication instead of a division; a later row loses a tie to the lower index
    # already kept, so a row sharing no column, acc = 0, cannot enter a heap of scores >= 0). Until
    # then thr = -inf and every row is offered (-inf * 0 is NaN: a zero row is not skipped). With the
    # gate open, rows are first tested eight at a time, without a branch per row.
    cdef Py_ssize_t r = r0, e
    cdef double a, sim, thr = -INFINITY
    cdef bint gate = False
    if n == kq and hs[0] >= 0.0:
        thr = hs[0] * qnorm * (1.0 - 1e-12)
        gate = True
    while r < r1:
        e = r + 1
        if gate and r + 8 <= r1:
            if not ((acc0[r] > thr * rn[r]) | (acc0[r + 1] > thr * rn[r + 1])
                    | (acc0[r + 2] > thr * rn[r + 2]) | (acc0[r + 3] > thr * rn[r + 3])
                    | (acc0[r + 4] > thr * rn[r + 4]) | (acc0[r + 5] > thr * rn[r + 5])
                    | (acc0[r + 6] > thr * rn[r + 6]) | (acc0[r + 7] > thr * rn[r + 7])):
                r += 8
                continue
            e = r + 8
        while r < e:
            a = acc0[r]
            if a <= thr * rn[r] or r == ex:
                r += 1
                continue
            if qnorm == 0.0 or rn[r] == 0.0:
                sim = 0.0
            else:
                sim = a / (qnorm * rn[r])
            n = _heap_offer(hs, hr, n, kq, sim, r)
            if n == kq and hs[0] >= 0.0:
                thr = hs[0] * qnorm * (1.0 - 1e-12)
                gate = True
            r += 1
    return n


cdef Py_ssize_t _query(const _Index* d, const int32_t* qi, const double* qd, Py_ssize_t m, Py_ssize_t ex,
                       Py_ssize_t kq, Py_ssize_t r0, Py_ssize_t r1, double* acc, double* hs,
                       int64_t* hr) noexcept nogil:
    # One query over the rows [r0, r1), in blocks of at most _BLOCK_ROWS rows of equal size, each
    # accumulated in acc[0 : its length] (left zeroed) and scanned into the heap; each row's sum is
    # the same as without blocks. Returns how many rows the heap holds, sorted best first.
    cdef Py_ssize_t i, nb, b0 = r0, b1, n = 0
    cdef double qsq = 0.0, qnorm
    if kq <= 0 or r1 <= r0:
        return 0
    for i in range(m):
        qsq = qsq + qd[i] * qd[i]
    qnorm = sqrt(qsq)
    nb = (r1 - r0 + _BLOCK_ROWS - 1) // _BLOCK_ROWS
    for i in range(nb):
        b1 = r0 + (r1 - r0) * (i + 1) // nb
        _accumulate(d, qi, qd, m, acc - b0, b0, b1)
        n = _scan(acc - b0, d.rn, b0, b1, ex, kq, qnorm, hs, hr, n)
        memset(acc, 0, (b1 - b0) * sizeof(double))
        b0 = b1
    _heap_sort(hs, hr, n)
    return n


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
    cdef const int64_t[::1] tp = t_indptr
    cdef const int32_t[::1] ti = t_indices
    cdef const double[::1] td = t_data
    cdef const double[::1] rn = row_norms
    cdef const int64_t[::1] qp = q_indptr
    cdef const int32_t[::1] qi = q_indices
    cdef const double[::1] qd = q_data
    cdef const int64_t[::1] ex = exclude
    cdef const int32_t[::1] dc = dense_cols if dense_cols.shape[0] else _NO_DENSE_COLS
    cdef const double[:, ::1] dv = dense if dense_cols.shape[0] else _NO_DENSE
    cdef Py_ssize_t B = qp.shape[0] - 1, kk = k, r0 = row_lo, r1 = row_hi, b, kq, lo, n
    cdef _Index d
    cdef double* acc
    cdef int32_t dummy_i = 0
    cdef double dummy_d = 0.0
    rows_np = np.zeros((B, kk), dtype=np.int64)
    sims_np = np.zeros((B, kk), dtype=np.float64)
    found_np = np.zeros(B, dtype=np.int64)
    if B <= 0 or kk == 0 or r1 <= r0:
        return rows_np, sims_np, found_np
    cdef int64_t[:, ::1] hr = rows_np
    cdef double[:, ::1] hs = sims_np
    cdef int64_t[::1] fd = found_np
    d.tp = &tp[0]
    d.ti = &ti[0] if ti.shape[0] else &dummy_i
    d.td = &td[0] if td.shape[0] else &dummy_d
    d.rn = &rn[0]
    d.n_rows = rn.shape[0]
    d.n_dense = dc.shape[0]
    d.dcols = &dc[0] if dc.shape[0] else NULL
    d.dvals = &dv[0, 0] if dc.shape[0] else NULL
    acc = <double*> calloc(min(<Py_ssize_t> _BLOCK_ROWS, r1 - r0) + 1, sizeof(double))
    if acc == NULL:
        raise MemoryError("topk_cosine_sparse_many: out of memory")
    with nogil:
        for b in range(B):
            kq = kk
            if 0 <= ex[b] < d.n_rows and kq > d.n_rows - 1:
                kq = d.n_rows - 1
            lo = qp[b]
            n = _query(&d, &qi[lo] if qp[b + 1] > qp[b] else &dummy_i,
                       &qd[lo] if qp[b + 1] > qp[b] else &dummy_d, qp[b + 1] - qp[b], ex[b], kq, r0, r1,
                       acc, &hs[b, 0], &hr[b, 0])
            fd[b] = n
    free(acc)
    return rows_np, sims_np, found_np
