# Compiled kernels. Directives are set once, in setup.py.
"""Compiled kernels of cooc: typed memoryviews in, numpy arrays out, loops under ``nogil``.

Each function has a pure-Python twin of the same name, signature, docstring and output dtypes in
``_kernels_py.py``. Inputs are trusted: ``cooc._kernels`` validates them first.
"""

import numpy as np
cimport numpy as cnp
from libc.math cimport sqrt
from libc.stdlib cimport malloc, free, realloc
from libc.string cimport memset
from libc.stdint cimport int32_t, int64_t

cnp.import_array()

__all__ = ["cooccurrence_csr", "normalize_rows_l2", "topk_cosine", "cosine_dense", "WordTable", "csr_add",
           "topk_cosine_sparse", "row_norms"]


# ---------------------------------------------------------------------------------------------------
# helpers

cdef inline void _sort_int32(int32_t* a, Py_ssize_t n) noexcept nogil:
    """In-place sort: insertion sort for short runs, else an LSD radix sort on 11-bit digits."""
    cdef Py_ssize_t i, j
    cdef int32_t x
    if n < 48:
        for i in range(1, n):
            x = a[i]
            j = i - 1
            while j >= 0 and a[j] > x:
                a[j + 1] = a[j]
                j -= 1
            a[j + 1] = x
        return
    _radix_sort_int32(a, n)


cdef void _radix_sort_int32(int32_t* a, Py_ssize_t n) noexcept nogil:
    # Values are non-negative word ids < 2**31. LSD radix sort on 8-bit digits for short arrays (a
    # small histogram to clear per call) and 11-bit digits for long ones; only the digits the largest
    # value needs are sorted.
    cdef int32_t* tmp = <int32_t*> malloc(n * sizeof(int32_t))
    cdef int64_t cnt[2048]
    cdef int32_t* src = a
    cdef int32_t* dst = tmp
    cdef int32_t* sw
    cdef int32_t mx = 0
    cdef Py_ssize_t i
    cdef int shift, d, bits = 8 if n < 65536 else 11
    cdef int nbins = 1 << bits
    cdef int32_t mask = nbins - 1
    cdef int64_t total, c
    if tmp == NULL:
        _heapsort_int32(a, n)
        return
    for i in range(n):
        if a[i] > mx:
            mx = a[i]
    shift = 0
    while shift < 32 and (mx >> shift) > 0:
        memset(cnt, 0, nbins * sizeof(int64_t))
        for i in range(n):
            cnt[(src[i] >> shift) & mask] += 1
        total = 0
        for d in range(nbins):
            c = cnt[d]
            cnt[d] = total
            total += c
        for i in range(n):
            d = (src[i] >> shift) & mask
            dst[cnt[d]] = src[i]
            cnt[d] += 1
        sw = src
        src = dst
        dst = sw
        shift += bits
    if src != a:
        for i in range(n):
            a[i] = src[i]
    free(tmp)


cdef void _heapsort_int32(int32_t* a, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t start, end, root, child
    cdef int32_t t
    start = n // 2 - 1
    end = n - 1
    while True:
        if start >= 0:
            root = start
            start -= 1
        elif end > 0:
            t = a[end]
            a[end] = a[0]
            a[0] = t
            end -= 1
            root = 0
        else:
            return
        while True:
            child = 2 * root + 1
            if child > end:
                break
            if child + 1 <= end and a[child] < a[child + 1]:
                child += 1
            if a[root] < a[child]:
                t = a[root]
                a[root] = a[child]
                a[child] = t
                root = child
            else:
                break


# ---------------------------------------------------------------------------------------------------
# counting

cdef extern from "Python.h":
    int PyErr_CheckSignals()


cdef bint _signalled() noexcept nogil:
    # Ctrl-C reaches long loops: take the GIL briefly and run the signal handlers. True when one raised
    # (the exception is then replaced by the caller's KeyboardInterrupt).
    cdef int rc
    with gil:
        rc = PyErr_CheckSignals()
        if rc != 0:
            PyErr_Clear()
    return rc != 0


cdef extern from "Python.h":
    void PyErr_Clear()

def cooccurrence_csr(ids, offsets, n_words, window):
    """Count symmetric windowed co-occurrences into a CSR matrix.

    For every position ``i`` of every sentence and every other position ``j`` of the same sentence with
    ``|i - j| <= window``, the cell ``(ids[i], ids[j])`` gains 1. A word next to itself adds to the
    diagonal (two per pair of positions); windows never cross a sentence end.

    Parameters
    ----------
    ids : int32 array, shape (n_tokens,)
        Word ids, each in ``[0, n_words)``.
    offsets : int64 array, shape (n_sentences + 1,)
        Sentence ``s`` is ``ids[offsets[s]:offsets[s + 1]]``; starts at 0, ends at ``n_tokens``.
    n_words : int
        Vocabulary size V.
    window : int
        Symmetric window half-width, at least 1.

    Returns
    -------
    indptr : int64 array, shape (V + 1,)
    indices : int32 array, shape (nnz,)
        Column indices, sorted within each row.
    data : int64 array, shape (nnz,)
        Raw counts; the matrix is symmetric and stores both triangles.
    """
    cdef const int32_t[::1] tok = ids
    cdef const int64_t[::1] off = offsets
    cdef Py_ssize_t V = n_words
    cdef Py_ssize_t w = window
    cdef Py_ssize_t n_sent = off.shape[0] - 1
    cdef Py_ssize_t s, i, j, lo, hi, jhi, r, k, p, nd, pos
    cdef int32_t a, b, c
    cdef int64_t n_pairs = 0, nnz_u = 0, nnz_m, n_diag = 0, cap, v

    # Pass 1: bucket sizes of the upper triangle (each pair of positions goes to row min(a, b)).
    start_np = np.zeros(V + 1, dtype=np.int64)
    cdef int64_t[::1] start = start_np
    cdef bint interrupted = False
    with nogil:
        for s in range(n_sent):
            if (s & 0x3FFF) == 0 and _signalled():
                interrupted = True
                break
            lo = off[s]
            hi = off[s + 1]
            for i in range(lo, hi):
                a = tok[i]
                jhi = i + w + 1
                if jhi > hi:
                    jhi = hi
                for j in range(i + 1, jhi):
                    b = tok[j]
                    start[(a if a < b else b) + 1] += 1
        for r in range(V):
            start[r + 1] += start[r]
    if interrupted:
        raise KeyboardInterrupt
    n_pairs = start[V]

    # Pass 2: scatter the partner of each pair into its row's bucket.
    cols_np = np.empty(n_pairs, dtype=np.int32)
    cdef int32_t[::1] cols = cols_np
    fill_np = start_np[:V].copy()
    cdef int64_t[::1] fill = fill_np
    with nogil:
        for s in range(n_sent):
            if (s & 0x3FFF) == 0 and _signalled():
                interrupted = True
                break
            lo = off[s]
            hi = off[s + 1]
            for i in range(lo, hi):
                a = tok[i]
                jhi = i + w + 1
                if jhi > hi:
                    jhi = hi
                for j in range(i + 1, jhi):
                    b = tok[j]
                    if a < b:
                        cols[fill[a]] = b
                        fill[a] += 1
                    else:
                        cols[fill[b]] = a
                        fill[b] += 1
    del fill_np
    if interrupted:
        raise KeyboardInterrupt

    # Pass 3: reduce each bucket with a dense accumulator (a sparse accumulator over V), in place.
    # The distinct sorted columns of row r overwrite the start of its own bucket region.
    acc_np = np.zeros(max(V, 1), dtype=np.int64)
    cdef int64_t[::1] acc = acc_np
    uptr_np = np.zeros(V + 1, dtype=np.int64)
    cdef int64_t[::1] uptr = uptr_np
    cap = n_pairs if n_pairs < 1024 else (n_pairs // 4 + 1024)
    cdef int64_t* udata = <int64_t*> malloc(cap * sizeof(int64_t) + 8)
    cdef int64_t* grown
    if udata == NULL:
        raise MemoryError("cooccurrence_csr: cannot allocate the count buffer")
    cdef bint oom = False
    with nogil:
        pos = 0
        for r in range(V):
            if (r & 0x3FF) == 0 and _signalled():
                interrupted = True
                break
            lo = start[r]
            hi = start[r + 1]
            nd = 0
            for k in range(lo, hi):
                c = cols[k]
                if acc[c] == 0:
                    cols[lo + nd] = c      # distinct columns, in first-seen order
                    nd += 1
                acc[c] += 1
            if nd * 16 > V - r:
                # Dense enough: a sequential scan of acc[r:V] is cheaper than sorting.
                k = lo
                for c in range(r, V):
                    if acc[c] != 0:
                        cols[k] = c
                        k += 1
            else:
                _sort_int32(&cols[lo], nd)
            if pos + nd > cap:
                while pos + nd > cap:
                    cap = cap * 2
                grown = <int64_t*> realloc(udata, cap * sizeof(int64_t) + 8)
                if grown == NULL:
                    oom = True
                    break
                udata = grown
            for k in range(nd):
                c = cols[lo + k]
                cols[pos + k] = c
                udata[pos + k] = acc[c]
                acc[c] = 0
                if c == r:
                    n_diag += 1
            pos += nd
            uptr[r + 1] = pos
    if oom or interrupted:
        free(udata)
        if interrupted:
            raise KeyboardInterrupt
        raise MemoryError("cooccurrence_csr: cannot grow the count buffer")
    nnz_u = pos
    del acc_np

    # Pass 4: full symmetric matrix M = U + U^T. Row r of M is [column r of U above the diagonal,
    # read as a row, in row order] + [row r of U], which is already sorted; the diagonal is doubled.
    nnz_m = 2 * nnz_u - n_diag
    indptr_np = np.zeros(V + 1, dtype=np.int64)
    cdef int64_t[::1] indptr = indptr_np
    indices_np = np.empty(nnz_m, dtype=np.int32)
    cdef int32_t[::1] indices = indices_np
    data_np = np.empty(nnz_m, dtype=np.int64)
    cdef int64_t[::1] data = data_np
    lower_np = np.zeros(V + 1, dtype=np.int64)
    cdef int64_t[::1] lower = lower_np
    with nogil:
        for r in range(V):
            for k in range(uptr[r], uptr[r + 1]):
                if cols[k] != r:
                    lower[cols[k] + 1] += 1
        for r in range(V):
            indptr[r + 1] = indptr[r] + (uptr[r + 1] - uptr[r]) + lower[r + 1]
        for r in range(V):
            lower[r] = indptr[r]          # next free slot of row r's lower part
        for r in range(V):
            if (r & 0x3FF) == 0 and _signalled():
                interrupted = True
                break
            p = indptr[r + 1] - (uptr[r + 1] - uptr[r])
            for k in range(uptr[r], uptr[r + 1]):
                c = cols[k]
                v = udata[k]
                indices[p] = c
                if c == r:
                    data[p] = 2 * v
                else:
                    data[p] = v
                    indices[lower[c]] = <int32_t> r
                    data[lower[c]] = v
                    lower[c] += 1
                p += 1
    free(udata)
    if interrupted:
        raise KeyboardInterrupt
    return indptr_np, indices_np, data_np


# ---------------------------------------------------------------------------------------------------
# normalization and similarity

def normalize_rows_l2(indptr, data):
    """Divide each CSR row by its Euclidean norm.

    The norm of a row is ``sqrt(sum of squares)`` accumulated in column order; every value is divided
    by it. A row whose norm is 0 stays all zeros.

    Parameters
    ----------
    indptr : int64 array, shape (V + 1,)
    data : int64 or float64 array, shape (nnz,)

    Returns
    -------
    float64 array, shape (nnz,)
        The normalized values, in the same positions as ``data``.
    """
    cdef const int64_t[::1] ptr = indptr
    vals_np = np.ascontiguousarray(data, dtype=np.float64)
    cdef const double[::1] vals = vals_np
    out_np = np.zeros(vals.shape[0], dtype=np.float64)
    cdef double[::1] out = out_np
    cdef Py_ssize_t r, k, n_rows = ptr.shape[0] - 1
    cdef double sq, norm, x
    with nogil:
        for r in range(n_rows):
            sq = 0.0
            for k in range(ptr[r], ptr[r + 1]):
                x = vals[k]
                sq = sq + x * x
            norm = sqrt(sq)
            if norm > 0.0:
                for k in range(ptr[r], ptr[r + 1]):
                    out[k] = vals[k] / norm
    return out_np


cdef inline bint _worse(double s1, Py_ssize_t r1, double s2, Py_ssize_t r2) noexcept nogil:
    # True when (s1, r1) ranks below (s2, r2): lower similarity, or equal and a higher row index.
    return s1 < s2 or (s1 == s2 and r1 > r2)


cdef void _sift_down(double* hs, int64_t* hr, Py_ssize_t n, Py_ssize_t i) noexcept nogil:
    # Min-heap on rank: the root is the worst of the kept candidates.
    cdef Py_ssize_t child
    cdef double ts
    cdef int64_t tr
    while True:
        child = 2 * i + 1
        if child >= n:
            return
        if child + 1 < n and _worse(hs[child + 1], hr[child + 1], hs[child], hr[child]):
            child += 1
        if _worse(hs[child], hr[child], hs[i], hr[i]):
            ts = hs[i]; hs[i] = hs[child]; hs[child] = ts
            tr = hr[i]; hr[i] = hr[child]; hr[child] = tr
            i = child
        else:
            return


def topk_cosine(indptr, indices, data, query, k, exclude):
    """Top-k cosine similarities between a dense query and every row of a CSR matrix.

    ``cos(q, r) = dot(q, r) / (|q| * |r|)`` with every sum accumulated in column order, and 0.0 when
    either norm is 0. Results are ordered by decreasing similarity; ties go to the lower row index.

    Parameters
    ----------
    indptr : int64 array, shape (V + 1,)
    indices : int32 array, shape (nnz,)
    data : float64 array, shape (nnz,)
    query : float64 array, shape (n_cols,)
        Dense query vector.
    k : int
        How many rows to return (fewer when the matrix has fewer candidate rows).
    exclude : int
        A row index left out of the ranking (the query word itself), or -1 for none.

    Returns
    -------
    rows : int64 array, shape (min(k, candidates),)
    sims : float64 array, shape (min(k, candidates),)
    """
    cdef const int64_t[::1] ptr = indptr
    cdef const int32_t[::1] ind = indices
    cdef const double[::1] val = data
    cdef const double[::1] q = query
    cdef Py_ssize_t n_rows = ptr.shape[0] - 1
    cdef Py_ssize_t kk = k
    cdef Py_ssize_t ex = exclude
    cdef Py_ssize_t r, j, n = 0, i
    cdef double qsq = 0.0, qnorm, dot, sq, rnorm, sim, x
    cdef Py_ssize_t candidates = n_rows - (1 if 0 <= ex < n_rows else 0)
    if kk > candidates:
        kk = candidates
    if kk < 0:
        kk = 0
    sims_np = np.empty(kk, dtype=np.float64)
    rows_np = np.empty(kk, dtype=np.int64)
    cdef double[::1] hs = sims_np
    cdef int64_t[::1] hr = rows_np
    if kk == 0:
        return rows_np, sims_np
    with nogil:
        for j in range(q.shape[0]):
            qsq = qsq + q[j] * q[j]
        qnorm = sqrt(qsq)
        for r in range(n_rows):
            if r == ex:
                continue
            dot = 0.0
            sq = 0.0
            for j in range(ptr[r], ptr[r + 1]):
                x = val[j]
                dot = dot + x * q[ind[j]]
                sq = sq + x * x
            rnorm = sqrt(sq)
            if qnorm == 0.0 or rnorm == 0.0:
                sim = 0.0
            else:
                sim = dot / (qnorm * rnorm)
            if n < kk:
                # sift up
                i = n
                hs[i] = sim
                hr[i] = r
                n += 1
                while i > 0 and _worse(hs[i], hr[i], hs[(i - 1) // 2], hr[(i - 1) // 2]):
                    hs[i], hs[(i - 1) // 2] = hs[(i - 1) // 2], hs[i]
                    hr[i], hr[(i - 1) // 2] = hr[(i - 1) // 2], hr[i]
                    i = (i - 1) // 2
            elif _worse(hs[0], hr[0], sim, r):
                hs[0] = sim
                hr[0] = r
                _sift_down(&hs[0], &hr[0], n, 0)
        # Heap-sort in place: repeatedly move the worst to the end.
        i = n
        while i > 1:
            i -= 1
            hs[0], hs[i] = hs[i], hs[0]
            hr[0], hr[i] = hr[i], hr[0]
            _sift_down(&hs[0], &hr[0], i, 0)
    return rows_np, sims_np


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


# ---------------------------------------------------------------------------------------------------
# tokenizing

cdef extern from "Python.h":
    object PyUnicode_FromKindAndData(int kind, const void* buffer, Py_ssize_t size)
    int PyUnicode_KIND(object o)
    void* PyUnicode_DATA(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    bint Py_UNICODE_ISALPHA(Py_UCS4 ch) nogil

from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcmp

ctypedef fused char_t:
    uint8_t
    uint16_t
    uint32_t

cdef uint8_t _ALPHA_LATIN1[256]
for _c in range(256):
    _ALPHA_LATIN1[_c] = 1 if chr(_c).isalpha() else 0

cdef struct _Slot:
    int64_t start      # offset of the word's characters in the arena; -1 marks an empty slot
    uint64_t hash
    int32_t length
    int32_t id


cdef inline bint _is_alpha(Py_UCS4 ch) noexcept nogil:
    if ch < 256:
        return _ALPHA_LATIN1[ch]
    return Py_UNICODE_ISALPHA(ch)


cdef class WordTable:
    """A growing vocabulary that turns text into word ids, for corpora read in chunks.

    Each call to :meth:`encode` lowercases a chunk of lines (``str.lower``), splits it into maximal runs
    of alphabetic characters (``str.isalpha``) and gives every new word the next id, in order of first
    appearance; every ``"\\n"`` ends a line, and each line is one sentence. Frequencies accumulate over
    calls. One table must not be used by two threads at once; use one table per thread.
    """

    cdef _Slot* slots
    cdef int64_t cap
    cdef int64_t n_words
    cdef Py_UCS4* arena
    cdef int64_t arena_len
    cdef int64_t arena_cap
    cdef int64_t* freq
    cdef int64_t freq_cap
    cdef int64_t* word_start
    cdef int32_t* word_len

    def __cinit__(self):
        cdef int64_t i
        self.cap = 1024
        self.slots = <_Slot*> malloc(self.cap * sizeof(_Slot))
        self.arena_cap = 1 << 16
        self.arena = <Py_UCS4*> malloc(self.arena_cap * sizeof(Py_UCS4))
        self.freq_cap = 512
        self.freq = <int64_t*> malloc(self.freq_cap * sizeof(int64_t))
        self.word_start = <int64_t*> malloc(self.freq_cap * sizeof(int64_t))
        self.word_len = <int32_t*> malloc(self.freq_cap * sizeof(int32_t))
        if (self.slots == NULL or self.arena == NULL or self.freq == NULL or self.word_start == NULL
                or self.word_len == NULL):
            raise MemoryError("WordTable: out of memory")
        for i in range(self.cap):
            self.slots[i].start = -1
        self.n_words = 0
        self.arena_len = 0

    def __dealloc__(self):
        free(self.slots)
        free(self.arena)
        free(self.freq)
        free(self.word_start)
        free(self.word_len)

    def __len__(self):
        return self.n_words

    cdef int _grow_slots(self) noexcept nogil:
        cdef int64_t new_cap = self.cap * 2, i, j, mask = new_cap - 1
        cdef _Slot* new = <_Slot*> malloc(new_cap * sizeof(_Slot))
        if new == NULL:
            return -1
        for i in range(new_cap):
            new[i].start = -1
        for i in range(self.cap):
            if self.slots[i].start >= 0:
                j = <int64_t> (self.slots[i].hash & <uint64_t> mask)
                while new[j].start >= 0:
                    j = (j + 1) & mask
                new[j] = self.slots[i]
        free(self.slots)
        self.slots = new
        self.cap = new_cap
        return 0

    cdef int _add_word(self, int64_t start, int32_t length) noexcept nogil:
        cdef int64_t new_cap
        cdef void* p
        if self.n_words == self.freq_cap:
            new_cap = self.freq_cap * 2
            p = realloc(self.freq, new_cap * sizeof(int64_t))
            if p == NULL:
                return -1
            self.freq = <int64_t*> p
            p = realloc(self.word_start, new_cap * sizeof(int64_t))
            if p == NULL:
                return -1
            self.word_start = <int64_t*> p
            p = realloc(self.word_len, new_cap * sizeof(int32_t))
            if p == NULL:
                return -1
            self.word_len = <int32_t*> p
            self.freq_cap = new_cap
        self.freq[self.n_words] = 0
        self.word_start[self.n_words] = start
        self.word_len[self.n_words] = length
        self.n_words += 1
        return 0

    cdef int _scan(self, const char_t* s, Py_ssize_t n, int32_t* ids, int64_t* n_tokens,
                   int64_t* offsets) noexcept nogil:
        cdef Py_ssize_t i = 0, start, q
        cdef int64_t line = 0, j, mask, new_cap
        cdef uint64_t h
        cdef Py_UCS4 ch
        cdef Py_UCS4* stored
        cdef int32_t length
        cdef bint same
        cdef void* p
        offsets[0] = 0
        while i < n:
            ch = s[i]
            if not _is_alpha(ch):
                if ch == 10:
                    line += 1
                    offsets[line] = n_tokens[0]
                i += 1
                continue
            start = i
            h = 14695981039346656037ULL
            while i < n:
                ch = s[i]
                if not _is_alpha(ch):
                    break
                h = (h ^ <uint64_t> ch) * 1099511628211ULL
                i += 1
            length = <int32_t> (i - start)
            if 2 * (self.n_words + 1) > self.cap:
                if self._grow_slots() < 0:
                    return -1
            mask = self.cap - 1
            j = <int64_t> (h & <uint64_t> mask)
            while self.slots[j].start >= 0:
                if self.slots[j].hash == h and self.slots[j].length == length:
                    stored = &self.arena[self.slots[j].start]
                    same = True
                    for q in range(length):
                        if stored[q] != s[start + q]:
                            same = False
                            break
                    if same:
                        break
                j = (j + 1) & mask
            if self.slots[j].start < 0:
                if self.arena_len + length > self.arena_cap:
                    new_cap = self.arena_cap * 2
                    while self.arena_len + length > new_cap:
                        new_cap *= 2
                    p = realloc(self.arena, new_cap * sizeof(Py_UCS4))
                    if p == NULL:
                        return -1
                    self.arena = <Py_UCS4*> p
                    self.arena_cap = new_cap
                for q in range(length):
                    self.arena[self.arena_len + q] = s[start + q]
                if self._add_word(self.arena_len, length) < 0:
                    return -1
                self.slots[j].start = self.arena_len
                self.slots[j].length = length
                self.slots[j].hash = h
                self.slots[j].id = <int32_t> (self.n_words - 1)
                self.arena_len += length
            self.freq[self.slots[j].id] += 1
            ids[n_tokens[0]] = self.slots[j].id
            n_tokens[0] += 1
        offsets[line + 1] = n_tokens[0]
        return 0

    def encode(self, text):
        """Tokenize a chunk of lines into word ids of this table.

        Parameters
        ----------
        text : str
            One or more lines joined by ``"\\n"``.

        Returns
        -------
        ids : int32 array, shape (n_tokens,)
            The id of every token, in text order; new words get the next ids.
        offsets : int64 array, shape (n_lines + 1,)
            Line ``s`` is ``ids[offsets[s]:offsets[s + 1]]``.
        """
        lowered = text.lower()
        cdef Py_ssize_t n = PyUnicode_GET_LENGTH(lowered)
        cdef int kind = PyUnicode_KIND(lowered)
        cdef const void* data = PyUnicode_DATA(lowered)
        cdef Py_ssize_t n_lines = lowered.count("\n") + 1
        ids_np = np.empty(n // 2 + 1, dtype=np.int32)
        offsets_np = np.empty(n_lines + 1, dtype=np.int64)
        cdef int32_t[::1] ids = ids_np
        cdef int64_t[::1] offsets = offsets_np
        cdef int64_t n_tokens = 0
        cdef int rc
        with nogil:
            if kind == 1:
                rc = self._scan(<const uint8_t*> data, n, &ids[0], &n_tokens, &offsets[0])
            elif kind == 2:
                rc = self._scan(<const uint16_t*> data, n, &ids[0], &n_tokens, &offsets[0])
            else:
                rc = self._scan(<const uint32_t*> data, n, &ids[0], &n_tokens, &offsets[0])
        if rc < 0:
            raise MemoryError("WordTable.encode: out of memory")
        return ids_np[:n_tokens].copy(), offsets_np

    def words(self):
        """The words of the table, ``words()[k]`` having id ``k`` (list of str)."""
        cdef int64_t k
        return [PyUnicode_FromKindAndData(4, &self.arena[self.word_start[k]], self.word_len[k])
                for k in range(self.n_words)]

    def counts(self):
        """How often each word was seen over all :meth:`encode` calls (int64 array, shape (len(self),))."""
        out = np.empty(self.n_words, dtype=np.int64)
        cdef int64_t[::1] o = out
        cdef int64_t k
        for k in range(self.n_words):
            o[k] = self.freq[k]
        return out


# ---------------------------------------------------------------------------------------------------
# merging partial counts

def csr_add(indptr_a, indices_a, data_a, indptr_b, indices_b, data_b):
    """Sum two CSR matrices of the same shape with sorted indices and int64 values.

    Parameters
    ----------
    indptr_a, indptr_b : int64 arrays, shape (V + 1,)
    indices_a, indices_b : int32 arrays
        Sorted within each row.
    data_a, data_b : int64 arrays

    Returns
    -------
    indptr : int64 array, shape (V + 1,)
    indices : int32 array
        Sorted within each row; the union of both patterns.
    data : int64 array
        Exact integer sums.
    """
    cdef const int64_t[::1] pa = indptr_a
    cdef const int32_t[::1] ia = indices_a
    cdef const int64_t[::1] da = data_a
    cdef const int64_t[::1] pb = indptr_b
    cdef const int32_t[::1] ib = indices_b
    cdef const int64_t[::1] db = data_b
    cdef Py_ssize_t n_rows = pa.shape[0] - 1, r
    cdef int64_t ka, kb, ea, eb, k = 0
    indptr_np = np.zeros(n_rows + 1, dtype=np.int64)
    cdef int64_t[::1] ptr = indptr_np
    indices_np = np.empty(ia.shape[0] + ib.shape[0], dtype=np.int32)
    data_np = np.empty(ia.shape[0] + ib.shape[0], dtype=np.int64)
    cdef int32_t[::1] ind = indices_np
    cdef int64_t[::1] dat = data_np
    with nogil:
        for r in range(n_rows):
            ka = pa[r]
            ea = pa[r + 1]
            kb = pb[r]
            eb = pb[r + 1]
            while ka < ea and kb < eb:
                if ia[ka] < ib[kb]:
                    ind[k] = ia[ka]
                    dat[k] = da[ka]
                    ka += 1
                elif ib[kb] < ia[ka]:
                    ind[k] = ib[kb]
                    dat[k] = db[kb]
                    kb += 1
                else:
                    ind[k] = ia[ka]
                    dat[k] = da[ka] + db[kb]
                    ka += 1
                    kb += 1
                k += 1
            while ka < ea:
                ind[k] = ia[ka]
                dat[k] = da[ka]
                ka += 1
                k += 1
            while kb < eb:
                ind[k] = ib[kb]
                dat[k] = db[kb]
                kb += 1
                k += 1
            ptr[r + 1] = k
    if k < ind.shape[0]:
        return indptr_np, indices_np[:k].copy(), data_np[:k].copy()
    return indptr_np, indices_np, data_np


# ---------------------------------------------------------------------------------------------------
# neighbours through the transpose

def topk_cosine_sparse(t_indptr, t_indices, t_data, row_norms, q_indices, q_data, k, exclude):
    """Top-k cosine similarities between a sparse query and every row of a matrix, via its transpose.

    Only the rows that share a column with the query are visited: for each query column ``c`` (in
    increasing order) the transpose's row ``c`` adds ``q[c] * M[r, c]`` to row ``r``. The sums are
    therefore accumulated in column order and equal :func:`topk_cosine` bit for bit. Rows sharing no
    column score 0.0; results are ordered by decreasing similarity, ties by lower row index.

    Parameters
    ----------
    t_indptr : int64 array, shape (n_cols + 1,)
    t_indices : int32 array, shape (nnz,)
    t_data : float64 array, shape (nnz,)
        The transpose of the matrix, as CSR with sorted indices.
    row_norms : float64 array, shape (n_rows,)
        Euclidean norm of every row of the matrix, summed in column order.
    q_indices : int32 array, shape (q_nnz,)
        Sorted column indices of the query's non-zeros.
    q_data : float64 array, shape (q_nnz,)
    k : int
    exclude : int
        A row index left out of the ranking, or -1 for none.

    Returns
    -------
    rows : int64 array, shape (min(k, candidates),)
    sims : float64 array, shape (min(k, candidates),)
    """
    cdef const int64_t[::1] tp = t_indptr
    cdef const int32_t[::1] ti = t_indices
    cdef const double[::1] td = t_data
    cdef const double[::1] rn = row_norms
    cdef const int32_t[::1] qi = q_indices
    cdef const double[::1] qd = q_data
    cdef Py_ssize_t n_rows = rn.shape[0], kk = k, ex = exclude, i, j, r, n = 0
    cdef double qsq = 0.0, qnorm, qc, sim
    cdef Py_ssize_t candidates = n_rows - (1 if 0 <= ex < n_rows else 0)
    if kk > candidates:
        kk = candidates
    if kk < 0:
        kk = 0
    sims_np = np.empty(kk, dtype=np.float64)
    rows_np = np.empty(kk, dtype=np.int64)
    if kk == 0:
        return rows_np, sims_np
    acc_np = np.zeros(n_rows, dtype=np.float64)
    cdef double[::1] acc = acc_np
    cdef double[::1] hs = sims_np
    cdef int64_t[::1] hr = rows_np
    with nogil:
        for i in range(qi.shape[0]):
            qsq = qsq + qd[i] * qd[i]
        qnorm = sqrt(qsq)
        for i in range(qi.shape[0]):
            qc = qd[i]
            for j in range(tp[qi[i]], tp[qi[i] + 1]):
                acc[ti[j]] = acc[ti[j]] + td[j] * qc
        for r in range(n_rows):
            if r == ex:
                continue
            if qnorm == 0.0 or rn[r] == 0.0:
                sim = 0.0
            else:
                sim = acc[r] / (qnorm * rn[r])
            if n < kk:
                i = n
                hs[i] = sim
                hr[i] = r
                n += 1
                while i > 0 and _worse(hs[i], hr[i], hs[(i - 1) // 2], hr[(i - 1) // 2]):
                    hs[i], hs[(i - 1) // 2] = hs[(i - 1) // 2], hs[i]
                    hr[i], hr[(i - 1) // 2] = hr[(i - 1) // 2], hr[i]
                    i = (i - 1) // 2
            elif _worse(hs[0], hr[0], sim, r):
                hs[0] = sim
                hr[0] = r
                _sift_down(&hs[0], &hr[0], n, 0)
        i = n
        while i > 1:
            i -= 1
            hs[0], hs[i] = hs[i], hs[0]
            hr[0], hr[i] = hr[i], hr[0]
            _sift_down(&hs[0], &hr[0], i, 0)
    return rows_np, sims_np


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
