"""Compiled counting kernels: windowed co-occurrence counts into a CSR matrix, and summing two of them.

Twins of ``cooc._pure.count`` (same names, signatures, docstrings and output dtypes). Inputs are trusted:
``cooc._backend`` validates them first. :func:`cooccurrence_csr` runs its phases on the threads of
``cooc._parallel``; each phase is a single-threaded loop over its thread's share that releases the GIL.
"""

import numpy as np
cimport cython
from libc.stdlib cimport malloc, calloc, free, realloc
from libc.string cimport memset
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t

from cooc._parallel import run as _run

__all__ = ["cooccurrence_csr", "csr_add"]

# ---------------------------------------------------------------------------------------------------
# helpers

cdef uint64_t* _sort_keys(uint64_t* a, Py_ssize_t n, uint64_t* tmp, int colbits, int rowbits) noexcept nogil:
    """Sort pair keys ``(row << 32) | col`` in place, all of whose rows agree above their low
    ``rowbits`` bits and whose columns are below ``2**colbits``: insertion sort when short, else LSD
    radix sort through ``tmp`` (n slots) on the low ``colbits`` bits, then the low ``rowbits`` bits
    of the row (no re-packing pass), in digits of at most 9 bits (11 for long arrays); every pass's
    histogram is counted in one read of the data, and a pass whose digit is the same for every key
    is skipped. Returns where the sorted keys are: ``a`` or ``tmp`` (no copying back)."""
    cdef Py_ssize_t i, j
    cdef uint64_t x
    cdef int64_t cnt[8 * 2048]   # at most 4 column digits + 4 row digits
    cdef int pos[8]
    cdef int64_t* h
    cdef uint64_t* src = a
    cdef uint64_t* dst = tmp
    cdef uint64_t* sw
    cdef int maxd = 9 if n < 65536 else 11, passes = 0, digit, d, p, k, field, fbits, fbase
    cdef uint64_t mask
    cdef int64_t total, c
    if n < 64:
        for i in range(1, n):
            x = a[i]
            j = i - 1
            while j >= 0 and a[j] > x:
                a[j + 1] = a[j]
                j -= 1
            a[j + 1] = x
        return a
    # digits: colbits in ceil(colbits / maxd) equal digits from bit 0, rowbits likewise from bit 32;
    # every digit has the same width (the wider of the two fields' digits) so one mask serves all
    digit = 1
    for field in range(2):
        fbits = colbits if field == 0 else rowbits
        if fbits > 0:
            k = (fbits + maxd - 1) // maxd
            if (fbits + k - 1) // k > digit:
                digit = (fbits + k - 1) // k
    for field in range(2):
        fbits = colbits if field == 0 else rowbits
        fbase = 0 if field == 0 else 32
        k = 0
        while k < fbits:
            pos[passes] = fbase + k
            passes += 1
            k += digit
    mask = (<uint64_t> 1 << digit) - 1
    for p in range(passes):
        memset(&cnt[p * 2048], 0, (<size_t> 1 << digit) * sizeof(int64_t))
    for i in range(n):
        x = src[i]
        for p in range(passes):
            cnt[p * 2048 + <int> ((x >> pos[p]) & mask)] += 1
    for p in range(passes):
        h = &cnt[p * 2048]
        if h[(src[0] >> pos[p]) & mask] == n:
            continue   # one digit value for every key: already in order for this digit
        total = 0
        for d in range(1 << digit):
            c = h[d]
            h[d] = total
            total += c
        for i in range(n):
            d = <int> ((src[i] >> pos[p]) & mask)
            dst[h[d]] = src[i]
            h[d] += 1
        sw = src
        src = dst
        dst = sw
    return src


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

cdef extern from *:
    """
    #if defined(__linux__)
    #include <sys/mman.h>
    #include <stdint.h>
    #endif
    /* Ask for transparent huge pages on a big buffer (Linux, THP in "madvise" mode): first-touch page
       faults of the pair keys and partial counts are a large share of a counting run otherwise. */
    static void cooc_advise_huge(void *p, size_t n) {
    #if defined(__linux__) && defined(MADV_HUGEPAGE)
        const uintptr_t huge = (uintptr_t)2 << 20;
        if (p != NULL && n >= 2 * huge) {
            uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
            uintptr_t e = ((uintptr_t)p + n) & ~(huge - 1);
            if (e > a) (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
        }
    #else
        (void)p; (void)n;
    #endif
    }
    /* Give the pages inside [p, p + n) back to the system (their contents are not needed again). */
    static void cooc_release(void *p, size_t n) {
    #if defined(__linux__) && defined(MADV_DONTNEED)
        const uintptr_t page = (uintptr_t)2 << 20;   /* whole huge pages: splitting one costs more than it frees */
        uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1);
        uintptr_t e = ((uintptr_t)p + n) & ~(page - 1);
        if (p != NULL && e > a) (void)madvise((void *)a, e - a, MADV_DONTNEED);
    #else
        (void)p; (void)n;
    #endif
    }
    static inline int cooc_load_flag(volatile int *p) { return *p; }
    static inline void cooc_store_flag(volatile int *p, int v) { *p = v; }
    """
    int cooc_load_flag(int* p) nogil
    void cooc_advise_huge(void* p, size_t n) nogil
    void cooc_release(void* p, size_t n) nogil
    void cooc_store_flag(int* p, int v) nogil


cdef class _CountJob:
    """Shared state of one counting run; each phase method works on its own slice (thread ``t``).

    Layout: pairs of positions within the window are packed as ``(min_id << 32) | max_id`` keys and
    scattered into coarse buckets of ``2**shift`` rows (phase 1 counts, phase 3 scatters). Phase 4
    takes a range of coarse buckets and radix-sorts each (cache-sized) bucket, then run-length reduces
    it: the upper triangle U, rows in order and columns sorted. U is written in place over the pair
    keys already reduced (an entry never outruns the keys it came from), one 64-bit entry
    ``(count << 32) | column`` each, so counting needs no memory beyond the keys; a count too big for
    32 bits is kept on the side (``_entry_count``). Phase 6 writes M = U + U^T, every thread filling
    disjoint slots.
    """
    cdef const int32_t* tok
    cdef const int64_t* off
    cdef Py_ssize_t V, w, n_coarse
    cdef int T, shift, stop, oom
    cdef int64_t* sent_split
    cdef int64_t* bucket_split
    cdef int64_t* ccount
    cdef int64_t* cstart
    cdef uint64_t* keys
    cdef int64_t* row_nnz
    cdef int64_t* ubase     # thread t's entries of U: keys[ubase[t]:ubase[t] + ulen[t]]
    cdef int64_t* ulen
    cdef uint64_t escape    # a count field of this value: the count is in big_pos / big_val
    cdef int64_t** big_pos  # per thread: entry numbers (ascending) of counts >= escape ...
    cdef int64_t** big_val  # ... and the counts
    cdef int64_t* big_len
    cdef int64_t* big_cap
    cdef int64_t* ndiag
    cdef int64_t* lowcnt
    cdef int64_t* indptr_m
    cdef int32_t* ind_m
    cdef int64_t* dat_m

    def __cinit__(self):
        self.sent_split = NULL
        self.bucket_split = NULL
        self.ccount = NULL
        self.cstart = NULL
        self.keys = NULL
        self.row_nnz = NULL
        self.ubase = NULL
        self.ulen = NULL
        self.big_pos = NULL
        self.big_val = NULL
        self.big_len = NULL
        self.big_cap = NULL
        self.ndiag = NULL
        self.lowcnt = NULL
        self.T = 0

    def __dealloc__(self):
        cdef int t
        if self.big_pos != NULL:
            for t in range(self.T):
                free(self.big_pos[t])
        if self.big_val != NULL:
            for t in range(self.T):
                free(self.big_val[t])
        free(self.big_pos)
        free(self.big_val)
        free(self.big_len)
        free(self.big_cap)
        free(self.ubase)
        free(self.sent_split)
        free(self.bucket_split)
        free(self.ccount)
        free(self.cstart)
        free(self.keys)
        free(self.row_nnz)
        free(self.ulen)
        free(self.ndiag)
        free(self.lowcnt)

    def request_stop(self):
        cooc_store_flag(&self.stop, 1)

    cdef bint _halt(self, int t, Py_ssize_t i) noexcept nogil:
        # Checked every 16k sentences or 1k rows: the stop flag, and Ctrl-C in share 0 (which runs in
        # the calling thread; elsewhere PyErr_CheckSignals does nothing).
        if (i & 0x3FF) != 0:
            return False
        if cooc_load_flag(&self.stop):
            return True
        if t == 0 and _signalled():
            cooc_store_flag(&self.stop, 1)
            return True
        return False

    cdef void _pairs(self, int t, bint scatter) noexcept nogil:
        cdef Py_ssize_t s, i, j, lo, hi, jhi
        cdef int32_t a, b, r, c
        cdef int64_t* cnt = &self.ccount[t * self.n_coarse]
        cdef int shift = self.shift
        cdef Py_ssize_t w = self.w
        for s in range(self.sent_split[t], self.sent_split[t + 1]):
            if ((s & 0x3FFF) == 0) and self._halt(t, 0):
                return
            lo = self.off[s]
            hi = self.off[s + 1]
            for i in range(lo, hi):
                a = self.tok[i]
                jhi = i + w + 1
                if jhi > hi:
                    jhi = hi
                for j in range(i + 1, jhi):
                    b = self.tok[j]
                    if a < b:
                        r = a
                        c = b
                    else:
                        r = b
                        c = a
                    if scatter:
                        self.keys[cnt[r >> shift]] = (<uint64_t> r << 32) | <uint64_t> c
                    cnt[r >> shift] += 1

    def phase_count(self, int t):
        with nogil:
            self._pairs(t, False)

    def phase_scatter(self, int t):
        with nogil:
            self._pairs(t, True)

    cdef inline int _put(self, int t, int64_t k, int32_t c, int64_t count) noexcept nogil:
        # Entry k of thread t: column c, count (kept on the side when it does not fit its field).
        cdef uint64_t field = <uint64_t> count
        cdef int64_t cap
        cdef void* p
        if field >= self.escape:
            field = self.escape
            if self.big_len[t] == self.big_cap[t]:
                cap = self.big_cap[t] * 2 + 16
                p = realloc(self.big_pos[t], cap * sizeof(int64_t))
                if p == NULL:
                    return -1
                self.big_pos[t] = <int64_t*> p
                p = realloc(self.big_val[t], cap * sizeof(int64_t))
                if p == NULL:
                    return -1
                self.big_val[t] = <int64_t*> p
                self.big_cap[t] = cap
            self.big_pos[t][self.big_len[t]] = k
            self.big_val[t][self.big_len[t]] = count
            self.big_len[t] += 1
        self.keys[self.ubase[t] + k] = (field << 32) | <uint32_t> c
        return 0

    cdef inline int64_t _entry_count(self, int t, int64_t k, uint64_t e) noexcept nogil:
        # The count of entry k (value e) of thread t.
        cdef int64_t lo = 0, hi, mid
        if (e >> 32) != self.escape:
            return <int64_t> (e >> 32)
        hi = self.big_len[t]
        while lo < hi:
            mid = (lo + hi) // 2
            if self.big_pos[t][mid] < k:
                lo = mid + 1
            else:
                hi = mid
        return self.big_val[t][lo]

    cdef int _run_length(self, int t, const uint64_t* a, Py_ssize_t n) noexcept nogil:
        # Sorted keys a[:n] -> entries of U. The entries go over keys already read: an entry is written
        # after the keys of its run are read, at or before the first of them.
        cdef Py_ssize_t k = 0
        cdef int64_t run, ndiag = 0
        cdef uint64_t prev
        cdef int32_t r, c
        # locals, not fields: the compiler cannot prove the stores below leave the fields alone
        cdef uint64_t* out = &self.keys[self.ubase[t]]
        cdef uint64_t esc = self.escape
        cdef int64_t ulen = self.ulen[t]
        cdef int64_t* row_nnz = self.row_nnz
        while k < n:
            prev = a[k]
            run = 1
            k += 1
            while k < n and a[k] == prev:
                run += 1
                k += 1
            r = <int32_t> (prev >> 32)
            c = <int32_t> (prev & 0xFFFFFFFFULL)
            if <uint64_t> run < esc:
                out[ulen] = (<uint64_t> run << 32) | <uint32_t> c
            elif self._put(t, ulen, c, run) < 0:
                return -1
            ulen += 1
            row_nnz[r] += 1
            ndiag += c == r
        self.ulen[t] = ulen
        self.ndiag[t] += ndiag
        return 0

    cdef int _dense_row(self, int t, const uint64_t* a, Py_ssize_t n, int64_t* cnt) noexcept nogil:
        # The keys a[:n] of one row r (unsorted; columns c >= r) counted in cnt[c - r] (zeros on entry
        # and on return), then swept in column order into entries of U.
        cdef Py_ssize_t k, c, hi = 0
        cdef int32_t r = <int32_t> (a[0] >> 32)
        cdef int64_t first = self.ulen[t], ulen = first, v
        cdef int rc = 0
        for k in range(n):
            c = <Py_ssize_t> (a[k] & 0xFFFFFFFFULL) - r
            cnt[c] += 1
            if c > hi:
                hi = c
        for c in range(hi + 1):
            v = cnt[c]
            if v != 0:
                cnt[c] = 0
                if rc == 0 and self._put(t, ulen, <int32_t> (r + c), v) < 0:
                    rc = -1
                ulen += 1
        self.row_nnz[r] += ulen - first
        if (self.keys[self.ubase[t] + first] & 0xFFFFFFFFULL) == <uint64_t> r:
            self.ndiag[t] += 1   # the first entry is the diagonal one when the row has it
        self.ulen[t] = ulen
        return rc

    cdef void _reduce(self, int t) noexcept nogil:
        # Each coarse bucket in cache (fewer than 2**16 keys): its keys LSD radix sorted (column bits,
        # then the row bits below the bucket's), then run-length reduced. A bigger bucket (frequent
        # words: a Zipf corpus puts a third of its pairs in the rows of its 100 most frequent words)
        # would be sorted out of cache: its keys are grouped by row first (one counting-sort pass),
        # then a row with at least V / 4 keys is counted in a dense array over its columns and swept,
        # and a smaller row is sorted on its own. Rows come out in order, columns sorted within a row.
        cdef Py_ssize_t V = self.V, b, n, i, lo, m
        cdef int64_t biggest = 0
        cdef int colbits = 1, rowbits = self.shift
        cdef uint64_t* a
        cdef uint64_t* s
        cdef uint64_t* tmp = NULL
        cdef int64_t* cnt = NULL
        cdef int64_t* h = NULL
        cdef Py_ssize_t nrows = <Py_ssize_t> 1 << rowbits
        cdef int64_t total, x
        cdef int d
        while (<uint64_t> 1 << colbits) < <uint64_t> V:
            colbits += 1
        for b in range(self.bucket_split[t], self.bucket_split[t + 1]):
            if self.cstart[b + 1] - self.cstart[b] > biggest:
                biggest = self.cstart[b + 1] - self.cstart[b]
        tmp = <uint64_t*> malloc((biggest + 1) * sizeof(uint64_t))
        h = <int64_t*> malloc((nrows + 1) * sizeof(int64_t))
        if tmp == NULL or h == NULL:
            free(tmp)
            free(h)
            cooc_store_flag(&self.oom, 1)
            return
        for b in range(self.bucket_split[t], self.bucket_split[t + 1]):
            if self._halt(t, 0):
                break
            a = &self.keys[self.cstart[b]]
            n = self.cstart[b + 1] - self.cstart[b]
            if n == 0:
                continue
            if n < 65536 or rowbits == 0:
                if self._run_length(t, _sort_keys(a, n, tmp, colbits, rowbits), n) < 0:
                    cooc_store_flag(&self.oom, 1)
                    break
                continue
            # group by row: counting sort on the row bits, into tmp
            memset(h, 0, (nrows + 1) * sizeof(int64_t))
            for i in range(n):
                h[((a[i] >> 32) & <uint64_t> (nrows - 1)) + 1] += 1
            for d in range(nrows):
                h[d + 1] += h[d]
            for i in range(n):
                d = <int> ((a[i] >> 32) & <uint64_t> (nrows - 1))
                tmp[h[d]] = a[i]
                h[d] += 1
            # h[d] is now the end of row d's keys in tmp; rows in order
            lo = 0
            for d in range(nrows):
                m = h[d] - lo
                if m == 0:
                    continue
                if m >= V // 4 and m >= 4096:
                    if cnt == NULL:
                        cnt = <int64_t*> calloc(V + 1, sizeof(int64_t))
                        if cnt == NULL:
                            cooc_store_flag(&self.oom, 1)
                            break
                    if self._dense_row(t, &tmp[lo], m, cnt) < 0:
                        cooc_store_flag(&self.oom, 1)
                        break
                else:
                    # the bucket's keys are all in tmp now: its own region is scratch, and the entries
                    # written so far end before lo
                    s = _sort_keys(&tmp[lo], m, &a[lo], colbits, 0)
                    if self._run_length(t, s, m) < 0:
                        cooc_store_flag(&self.oom, 1)
                        break
                lo = h[d]
            if self.oom:
                break
        free(tmp)
        free(h)
        free(cnt)

    def phase_reduce(self, int t):
        with nogil:
            self._reduce(t)

    cdef void _lower_counts(self, int t) noexcept nogil:
        cdef int64_t* low = &self.lowcnt[t * self.V]
        cdef Py_ssize_t r, R0, R1
        cdef int64_t k = 0, e
        cdef int32_t c
        cdef const uint64_t* u = &self.keys[self.ubase[t]]   # thread t's entries of U
        R0 = self.bucket_split[t] << self.shift
        R1 = self.bucket_split[t + 1] << self.shift
        if R1 > self.V:
            R1 = self.V
        for r in range(R0, R1):
            e = k + self.row_nnz[r]
            while k < e:
                c = <int32_t> (u[k] & 0xFFFFFFFFULL)
                if c != r:
                    low[c] += 1
                k += 1

    def phase_lower_counts(self, int t):
        with nogil:
            self._lower_counts(t)

    cdef void _fill(self, int t) noexcept nogil:
        cdef int64_t* low = &self.lowcnt[t * self.V]   # next lower slot of each row, for this thread
        cdef Py_ssize_t r, R0, R1
        cdef int64_t k = 0, e, p, q, v
        cdef int32_t c
        cdef const uint64_t* u = &self.keys[self.ubase[t]]   # thread t's entries of U
        R0 = self.bucket_split[t] << self.shift
        R1 = self.bucket_split[t + 1] << self.shift
        if R1 > self.V:
            R1 = self.V
        for r in range(R0, R1):
            if self._halt(t, r):
                return
            p = self.indptr_m[r + 1] - self.row_nnz[r]
            e = k + self.row_nnz[r]
            while k < e:
                c = <int32_t> (u[k] & 0xFFFFFFFFULL)
                v = self._entry_count(t, k, u[k])
                self.ind_m[p] = c
                if c == r:
                    self.dat_m[p] = 2 * v
                else:
                    self.dat_m[p] = v
                    q = low[c]
                    self.ind_m[q] = <int32_t> r
                    self.dat_m[q] = v
                    low[c] = q + 1
                p += 1
                k += 1

    def phase_fill(self, int t):
        with nogil:
            self._fill(t)


#: target pair keys per coarse bucket: one bucket's keys and its sort buffer stay in L2
cdef enum:
    _BUCKET_KEYS = 1 << 15


def _phase(fn, _CountJob job, int T):
    """``fn(t)`` for every share t in 0..T-1, on the threads of cooc._parallel (share 0 in the calling
    thread); Ctrl-C while waiting stops the other shares and is re-raised."""
    _run([lambda t=t: fn(t) for t in range(T)], on_interrupt=job.request_stop)


def cooccurrence_csr(ids, offsets, n_words, window, n_threads=1):
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
    n_threads : int, default 1
        Threads to count with (the result does not depend on it; the pure-Python twin ignores it).

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
    cdef Py_ssize_t V = n_words, n_sent = off.shape[0] - 1, b, r, k
    cdef int T = n_threads, t, shift = 0
    cdef _CountJob job = _CountJob()
    cdef int64_t total, acc_pairs, target, n_pairs, nnz_u = 0, n_diag = 0, pos
    if T < 1:
        T = 1
    if T > n_sent:
        T = max(1, <int> n_sent)
    # Coarse buckets: at most max(2048, pairs / _BUCKET_KEYS) of them, so that one bucket's
    # keys and its sort buffer stay in L2 on large corpora while the scatter streams stay few.
    total = 0
    for b in range(n_sent):
        k = off[b + 1] - off[b]
        r = k if k < window else window
        if r > 0:
            total += r * k - r * (r + 1) // 2
    target = max(2048, total // _BUCKET_KEYS)
    while (V >> shift) > target:
        shift += 1
    job.tok = &tok[0] if tok.shape[0] > 0 else NULL
    job.off = &off[0]
    job.V = V
    job.w = window
    job.T = T
    job.shift = shift
    job.n_coarse = ((V - 1) >> shift) + 1 if V > 0 else 1
    job.stop = 0
    job.oom = 0
    job.sent_split = <int64_t*> calloc(T + 1, sizeof(int64_t))
    job.bucket_split = <int64_t*> calloc(T + 1, sizeof(int64_t))
    job.ccount = <int64_t*> calloc(T * job.n_coarse, sizeof(int64_t))
    job.cstart = <int64_t*> calloc(job.n_coarse + 1, sizeof(int64_t))
    job.row_nnz = <int64_t*> calloc(V + 1, sizeof(int64_t))
    job.ubase = <int64_t*> calloc(T, sizeof(int64_t))
    job.ulen = <int64_t*> calloc(T, sizeof(int64_t))
    job.ndiag = <int64_t*> calloc(T, sizeof(int64_t))
    job.big_pos = <int64_t**> calloc(T, sizeof(int64_t*))
    job.big_val = <int64_t**> calloc(T, sizeof(int64_t*))
    job.big_len = <int64_t*> calloc(T, sizeof(int64_t))
    job.big_cap = <int64_t*> calloc(T, sizeof(int64_t))
    if (job.sent_split == NULL or job.bucket_split == NULL or job.ccount == NULL or job.cstart == NULL
            or job.row_nnz == NULL or job.ubase == NULL or job.ulen == NULL or job.ndiag == NULL
            or job.big_pos == NULL or job.big_val == NULL or job.big_len == NULL or job.big_cap == NULL):
        raise MemoryError("cooccurrence_csr: out of memory")
    job.escape = 0xFFFFFFFFULL
    # Sentences split into T ranges of about equal tokens.
    for t in range(1, T):
        target = (tok.shape[0] * t) // T
        k = job.sent_split[t - 1]
        while k < n_sent and off[k] < target:
            k += 1
        job.sent_split[t] = k
    job.sent_split[T] = n_sent

    # Phase 1: pairs per coarse bucket, per thread.
    _phase(job.phase_count, job, T)
    if job.stop:
        raise KeyboardInterrupt
    # Phase 2: bucket regions, and each thread's first slot in each bucket.
    total = 0
    for b in range(job.n_coarse):
        job.cstart[b] = total
        for t in range(T):
            n_pairs = job.ccount[t * job.n_coarse + b]
            job.ccount[t * job.n_coarse + b] = total
            total += n_pairs
    job.cstart[job.n_coarse] = total
    n_pairs = total
    job.keys = <uint64_t*> malloc((n_pairs + 1) * sizeof(uint64_t))
    if job.keys == NULL:
        raise MemoryError(f"cooccurrence_csr: cannot allocate {n_pairs} pair keys")
    cooc_advise_huge(job.keys, (n_pairs + 1) * sizeof(uint64_t))
    # Phase 3: scatter the packed pairs.
    _phase(job.phase_scatter, job, T)
    if job.stop:
        raise KeyboardInterrupt
    # Phase 4: reduce coarse buckets, split into T ranges of about equal pairs.
    acc_pairs = 0
    t = 1
    for b in range(job.n_coarse):
        while t < T and acc_pairs >= (n_pairs * t) // T:
            job.bucket_split[t] = b
            t += 1
        acc_pairs += job.cstart[b + 1] - job.cstart[b]
    while t < T:
        job.bucket_split[t] = job.n_coarse
        t += 1
    job.bucket_split[T] = job.n_coarse
    for t in range(T):
        job.ubase[t] = job.cstart[job.bucket_split[t]]
    _phase(job.phase_reduce, job, T)
    if job.oom:
        raise MemoryError("cooccurrence_csr: out of memory while reducing counts")
    if job.stop:
        raise KeyboardInterrupt
    for t in range(T):
        nnz_u += job.ulen[t]
        n_diag += job.ndiag[t]
        # the keys after thread t's entries are spent: their memory goes back before M is allocated
        pos = job.ubase[t] + job.ulen[t]
        cooc_release(&job.keys[pos], (job.cstart[job.bucket_split[t + 1]] - pos) * sizeof(uint64_t))

    # Phase 6: M = U + U^T. Count the lower entries of every row, per thread; lay out the rows; each
    # thread then writes its rows' upper parts and its share of every row's lower part.
    job.lowcnt = <int64_t*> calloc(T * V + 1, sizeof(int64_t))
    if job.lowcnt == NULL:
        raise MemoryError("cooccurrence_csr: out of memory")
    _phase(job.phase_lower_counts, job, T)
    nnz_m = 2 * nnz_u - n_diag
    indptr_np = np.zeros(V + 1, dtype=np.int64)
    indices_np = np.empty(nnz_m, dtype=np.int32)
    data_np = np.empty(nnz_m, dtype=np.int64)
    cdef int64_t[::1] indptr = indptr_np
    cdef int32_t[::1] indices = indices_np
    cdef int64_t[::1] data = data_np
    cdef int64_t low_total, slot
    with nogil:
        for r in range(V):
            low_total = 0
            for t in range(T):
                low_total += job.lowcnt[t * V + r]
            indptr[r + 1] = indptr[r] + job.row_nnz[r] + low_total
        for r in range(V):
            slot = indptr[r]
            for t in range(T):
                k = job.lowcnt[t * V + r]
                job.lowcnt[t * V + r] = slot
                slot += k
    job.indptr_m = &indptr[0]
    job.ind_m = &indices[0] if nnz_m > 0 else NULL
    job.dat_m = &data[0] if nnz_m > 0 else NULL
    _phase(job.phase_fill, job, T)
    free(job.keys)
    job.keys = NULL
    if job.stop:
        raise KeyboardInterrupt
    return indptr_np, indices_np, data_np


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


