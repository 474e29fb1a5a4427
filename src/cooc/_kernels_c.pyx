# Compiled kernels. Directives are set once, in setup.py.
"""Compiled kernels of cooc: typed memoryviews in, numpy arrays out, loops under ``nogil``.

Each function has a pure-Python twin of the same name, signature, docstring and output dtypes in
``_kernels_py.py``. Inputs are trusted: ``cooc._kernels`` validates them first.
"""

import os
import threading

import numpy as np
cimport cython
cimport numpy as cnp
from libc.math cimport sqrt, log, fabs, INFINITY
from libc.stdlib cimport malloc, calloc, free, realloc
from libc.string cimport memset, memcpy
from libc.stdint cimport int32_t, int64_t, uint64_t

cnp.import_array()

__all__ = ["cooccurrence_csr", "normalize_rows_l2", "topk_cosine", "cosine_dense", "WordTable", "csr_add",
           "topk_cosine_sparse", "row_norms", "ppmi_csr",
           "topk_cosine_sparse_many", "topk_cosine_rows", "csr_matmat", "remap_ids"]


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
    cdef int T, shift, stop, oom, main_thread_checks
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

    cdef bint _halt(self, Py_ssize_t i) noexcept nogil:
        # Checked every 16k sentences or 1k rows: Ctrl-C in the main thread, a stop flag in workers.
        if (i & 0x3FF) != 0:
            return False
        if cooc_load_flag(&self.stop):
            return True
        if self.main_thread_checks and _signalled():
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
            if ((s & 0x3FFF) == 0) and self._halt(0):
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
            if self._halt(0):
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
            if self._halt(r):
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


_POOL = None          # the worker threads of the kernels, started once per process (see _run_threads)
_POOL_KEY = (0, 0)    # (pid, max_workers) of _POOL
_POOL_LOCK = threading.Lock()


def _run_threads(calls, on_interrupt=None, inline_first=False):
    """Run the callables ``calls`` in parallel in a persistent pool of worker threads and wait for all.

    Starting Python threads costs about 0.1 ms each on the machines we measure, as much as a whole
    top-k query; the pool is created once per process (again in a forked child, whose copy has no
    threads) and grows when more workers are asked for. Ctrl-C (or any exception) in the waiting
    thread calls ``on_interrupt`` (which tells the workers to stop), waits for every call to return,
    and is re-raised; an exception raised by a call is re-raised after all calls returned. With
    ``inline_first`` the first call runs in the calling thread (one hand-off less; the call must then
    check for Ctrl-C itself).
    """
    global _POOL, _POOL_KEY
    from concurrent.futures import ThreadPoolExecutor, wait
    import os

    n = len(calls)
    with _POOL_LOCK:
        pid = os.getpid()
        if _POOL is None or _POOL_KEY[0] != pid or _POOL_KEY[1] < n:
            if _POOL is not None and _POOL_KEY[0] == pid:
                _POOL.shutdown(wait=False)
            size = max(n, os.cpu_count() or 1)
            _POOL = ThreadPoolExecutor(max_workers=size, thread_name_prefix="cooc-kernel")
            _POOL_KEY = (pid, size)
        pool = _POOL
    futures = [pool.submit(c) for c in calls[1:]] if inline_first else [pool.submit(c) for c in calls]
    try:
        if inline_first:
            calls[0]()
        for f in futures:
            f.exception()   # waits (interruptibly); errors are raised below, after every call returned
    except BaseException:
        if on_interrupt is not None:
            on_interrupt()
        wait(futures)   # the workers use the caller's arrays: let every call return first
        raise
    for f in futures:
        f.result()


def _run_phase(job, name, int T, bint inline_first=False):
    """Run ``job.<name>(t)`` for t in 0..T-1: inline for one thread, else in T pooled threads (the
    phases release the GIL), or with ``inline_first`` t = 0 in the calling thread and the others
    pooled. Ctrl-C in the waiting thread stops the workers and is re-raised."""
    if T == 1:
        getattr(job, name)(0)
        return
    fn = getattr(job, name)
    _run_threads([lambda t=t: fn(t) for t in range(T)], job.request_stop, inline_first)


# ---------------------------------------------------------------------------------------------------
# a team of spinning threads for short parallel calls (one top-k query cut among threads)

cdef extern from *:
    """
    #if defined(_MSC_VER)
    #include <intrin.h>
    #ifndef WIN32_LEAN_AND_MEAN
    #define WIN32_LEAN_AND_MEAN
    #endif
    #include <windows.h>
    static long long cooc_aload(long long *p) { return _InterlockedOr64((volatile long long *)p, 0); }
    static void cooc_astore(long long *p, long long v) { _InterlockedExchange64((volatile long long *)p, v); }
    static int cooc_cas(long long *p, long long expected, long long desired) {
        return _InterlockedCompareExchange64((volatile long long *)p, desired, expected) == expected;
    }
    static long long cooc_fetch_add(long long *p, long long v) {
        return _InterlockedExchangeAdd64((volatile long long *)p, v);
    }
    static void cooc_relax(void) { YieldProcessor(); }
    static void cooc_yield(void) { SwitchToThread(); }
    static int cooc_runnable(void) { return -1; }
    static long long cooc_now_ns(void) {
        LARGE_INTEGER c, f;
        QueryPerformanceCounter(&c);
        QueryPerformanceFrequency(&f);
        return (long long)((double)c.QuadPart * 1e9 / (double)f.QuadPart);
    }
    #else
    #include <sched.h>
    #include <time.h>
    #include <stdlib.h>
    #include <string.h>
    #if defined(__linux__)
    #include <fcntl.h>
    #include <unistd.h>
    #endif
    /* threads now runnable in the whole system (the fourth field of /proc/loadavg, "running/total",
       this thread included), or -1 where it cannot be read */
    static int cooc_runnable(void) {
    #if defined(__linux__)
        char buf[128];
        char *p = buf;
        int f, fd = open("/proc/loadavg", O_RDONLY);
        ssize_t n;
        if (fd < 0) return -1;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0) return -1;
        buf[n] = 0;
        for (f = 0; f < 3; f++) {
            p = strchr(p, ' ');
            if (p == NULL) return -1;
            p++;
        }
        return atoi(p);
    #else
        return -1;
    #endif
    }
    static long long cooc_aload(long long *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
    static void cooc_astore(long long *p, long long v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
    static int cooc_cas(long long *p, long long expected, long long desired) {
        return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    }
    static long long cooc_fetch_add(long long *p, long long v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
    static void cooc_relax(void) {
    #if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
    #elif defined(__aarch64__) || defined(__arm__)
        __asm__ __volatile__("yield");
    #endif
    }
    static void cooc_yield(void) { (void)sched_yield(); }
    static long long cooc_now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    }
    #endif
    """
    long long cooc_aload(long long* p) nogil
    void cooc_astore(long long* p, long long v) nogil
    bint cooc_cas(long long* p, long long expected, long long desired) nogil
    long long cooc_fetch_add(long long* p, long long v) nogil
    void cooc_relax() nogil
    void cooc_yield() nogil
    long long cooc_now_ns() nogil
    int cooc_runnable() nogil


ctypedef void (*_part_fn)(void* data, int t, double* scratch) noexcept nogil
# with redo false: whether every task of the call is finished; with redo true: do (in the calling
# thread, with scratch) each task not yet finished, whoever took it, and return whether all are
ctypedef bint (*_redo_fn)(void* data, double* scratch, bint redo) noexcept nogil

cdef enum:
    _TEAM_MAX = 64      # threads of one team call, the caller's included


cdef struct _TeamSlot:
    # one worker's mailbox; 128 bytes, so two workers never share a cache line
    long long ticket    # g > 0: call g offered to this worker; -g: it took call g; 0: withdrawn
    long long done      # the last call it took and finished
    long long parked    # 1 while it sleeps on its Event
    long long quit
    double* scratch     # zeroed; each call leaves it zeroed
    Py_ssize_t scratch_n
    char pad[80]


cdef double _TEAM_SPIN_SECONDS = 0.002
cdef double _TEAM_BACKOFF_SECONDS = 0.05
cdef int _TEAM_MARKS = 2
cdef int _TEAM_CONFIRM = 1    # a mark counts only when more threads are runnable than there are CPUs
cdef int _TEAM_CPUS = os.cpu_count() or 1   # CPUs that runnable threads are compared with
cdef long long _TEAM_GAP_NS = 500000    # off its CPU this long while spinning: the CPUs are wanted elsewhere
cdef int _TEAM_REFUSE = 0     # tests: workers take no call (as if never scheduled)
cdef int _TEAM_PATIENT = 0    # tests: the caller waits until every worker has taken the call
cdef long long _TEAM_SLOW = 0  # tests: as patient; a worker stalls in its first top-k task (atomic)
cdef int _NO_MEMORY = 0       # tests: as patient; a worker's scratch and grown candidate room fail


cdef class _SpinTeam:
    """Worker threads that wait for work by spinning, for calls too short for a sleeping thread.

    Waking a sleeping thread costs 0.1-0.3 ms on the virtual machines we measure (the idle virtual
    CPU has to be scheduled again), as much as a whole top-k query; a thread that spins on a memory
    word sees new work within a microsecond (it yields the CPU every 64 turns, to a thread waiting
    for it there, if any). After each call a worker spins for about
    ``_TEAM_SPIN_SECONDS`` (2 ms), then sleeps on a ``threading.Event`` until the next call wakes it.

    A call never waits for a worker that has not started: the caller offers the call to each
    worker, runs tasks itself (the call's function takes tasks from a shared counter until none is
    left), then withdraws the offer from every worker that has not taken it and waits only for
    those that have. A worker that is not on a CPU (the machine busy with other work) costs the
    call nothing but its tasks, which the caller does. Spinning on a busy machine takes CPU time
    from the caller and from others, though. The team is marked contended when a spinning worker
    finds it was off its CPU for ``_TEAM_GAP_NS`` (0.5 ms), when the caller withdraws an offer made
    that long before from a worker that was spinning, or when it waits that long for a worker's
    tasks. The host of a virtual machine takes CPUs away too (a lone spinning thread on this
    project's idle machines is off its CPU for over 0.2 ms about once a second, on a busy host for
    over 0.5 ms several times in 100 queries): running in one thread does not help then, so a mark
    counts only while more threads are runnable in the system than there are CPUs (on Linux, from
    /proc/loadavg; elsewhere every mark counts). ``_TEAM_MARKS`` (2) marks that count, each
    within ``_TEAM_BACKOFF_SECONDS`` (50 ms) of the one before or of the end of the last backoff,
    make the team back off: for 50 ms the workers sleep and one query runs in one thread. A mark
    that counts within 50 ms of a backoff's end starts the next backoff at once, twice as long (up
    to 0.8 s: each backoff ends with a call offered to the workers, which costs the caller on a
    busy machine). One call at a time: a second thread finds the team busy and uses the pool.
    """
    cdef _TeamSlot slots[_TEAM_MAX]
    cdef _part_fn fn
    cdef void* data
    cdef Py_ssize_t scratch_n
    cdef readonly long long gen        # calls offered so far
    cdef readonly long long withdrawn  # offers withdrawn (the worker had not taken them)
    cdef readonly long long redone     # calls whose caller redid a late worker's tasks
    cdef readonly object lingering     # [(workers, call, objects)]: calls a worker is still in
    cdef long long spin_ns
    cdef long long marked_ns      # the last contended mark (0: none)
    cdef long long off_ns         # when the last backoff began (0: never)
    cdef long long streak         # marks in a row, each close to the one before
    cdef long long level          # backoffs right after one another, less one (at most 4)
    cdef int n_workers
    cdef readonly long long unconfirmed   # marks ignored: no more threads runnable than CPUs
    cdef object events, threads
    cdef readonly object pid, lock

    def __cinit__(self, pid):
        memset(self.slots, 0, sizeof(self.slots))
        self.pid = pid
        self.events = [None] * _TEAM_MAX
        self.threads = []
        self.lock = threading.Lock()
        self.lingering = []
        self.spin_ns = <long long> (_TEAM_SPIN_SECONDS * 1e9)
        self.marked_ns = self.off_ns = self.streak = self.level = 0

    def _grow(self, int n):
        # start workers 1..n (the caller is part 0)
        cdef int w
        for w in range(self.n_workers + 1, n + 1):
            self.events[w] = threading.Event()
            th = threading.Thread(target=_team_worker, args=(self, w), name=f"cooc-team-{w}", daemon=True)
            th.start()
            self.threads.append(th)
            self.n_workers = w

    @property
    def contended(self):
        """Whether calls now run on the caller alone (the team was found contended lately)."""
        return self._backing_off(cooc_now_ns())

    cdef long long _backoff_ns(self) noexcept nogil:
        # the length of the current (or last) backoff: 50 ms, doubled for each backoff that follows
        # right on the one before, at most four times (0.8 s)
        return (<long long> (_TEAM_BACKOFF_SECONDS * 1e9)) << cooc_aload(&self.level)

    cdef bint _backing_off(self, long long now) noexcept nogil:
        cdef long long off = cooc_aload(&self.off_ns)
        return off != 0 and now - off < self._backoff_ns()

    cdef bint _mark(self, long long now) noexcept nogil:
        # A sign of contention (from a worker or the caller: racy counts, harmless for a heuristic);
        # ignored when no more threads are runnable than there are CPUs (the virtual machine took the
        # CPU: running in one thread would not help), and during a backoff. False when ignored for
        # the first reason (a spinning worker then goes on spinning).
        cdef long long window = <long long> (_TEAM_BACKOFF_SECONDS * 1e9)
        cdef long long off, end
        cdef int runnable
        if _TEAM_CONFIRM:
            runnable = cooc_runnable()
            if 0 <= runnable <= _TEAM_CPUS:
                cooc_fetch_add(&self.unconfirmed, 1)
                return False
        off = cooc_aload(&self.off_ns)
        end = off + self._backoff_ns() if off != 0 else 0
        if now < end:
            return True
        if off != 0 and now - end < window:
            # contended again right after a backoff: back off again at once, for twice as long
            cooc_astore(&self.level, min(cooc_aload(&self.level) + 1, 4))
            cooc_astore(&self.off_ns, now)
            cooc_astore(&self.marked_ns, now)
            return True
        if cooc_aload(&self.marked_ns) != 0 and now - cooc_aload(&self.marked_ns) < window:
            cooc_astore(&self.streak, cooc_aload(&self.streak) + 1)
        else:
            cooc_astore(&self.streak, 1)
        cooc_astore(&self.marked_ns, now)
        if cooc_aload(&self.streak) >= _TEAM_MARKS:
            cooc_astore(&self.level, 0)
            cooc_astore(&self.off_ns, now)
        return True

    def _mark_now(self):
        """Mark the team contended now, as a worker or caller would (tests)."""
        self._mark(cooc_now_ns())

    def _age(self, seconds):
        """Move the team's clocks ``seconds`` back, as if that much time had passed (tests)."""
        cdef long long ns = <long long> (float(seconds) * 1e9)
        if self.off_ns:
            self.off_ns -= ns
        if self.marked_ns:
            self.marked_ns -= ns

    @property
    def backoff_level(self):
        """How many times the current (or last) backoff was doubled."""
        return self.level

    cdef long long _spin(self, int w, long long seen) noexcept nogil:
        # Run the calls offered to worker w while they come; return after spin_ns idle, or at once
        # when this thread finds it was off its CPU while spinning and the mark counts.
        cdef _TeamSlot* s = &self.slots[w]
        cdef long long g, now, last = cooc_now_ns(), idle_from = last
        cdef int turns = 0
        while True:
            g = cooc_aload(&s.ticket)
            if g > 0 and g != seen:
                seen = g
                if not _TEAM_REFUSE and cooc_cas(&s.ticket, g, -g):
                    # taken: fn, data and scratch_n are this call's until done is stored
                    if s.scratch_n < self.scratch_n:
                        free(s.scratch)
                        s.scratch = NULL if _NO_MEMORY else <double*> calloc(self.scratch_n, sizeof(double))
                        s.scratch_n = self.scratch_n if s.scratch != NULL else 0
                    if s.scratch != NULL:   # else the caller does the tasks
                        self.fn(self.data, w, s.scratch)
                    cooc_astore(&s.done, g)
                last = idle_from = cooc_now_ns()
            elif cooc_aload(&s.quit):
                return seen
            else:
                cooc_relax()
                turns += 1
                if turns >= 64:
                    # give the CPU to a thread waiting for it here (the caller, say), if any
                    turns = 0
                    cooc_yield()
                    now = cooc_now_ns()
                    if now - last > _TEAM_GAP_NS and self._mark(now):
                        return seen
                    if now - idle_from >= self.spin_ns:
                        return seen
                    last = now

    cdef uint64_t _finish(self, int T, long long g, uint64_t asleep, long long offered, _redo_fn redo,
                          void* data, double* acc, long long own_ns) noexcept nogil:
        # Withdraw call g from workers 1..T-1 that have not taken it; wait for those that have:
        # stop waiting once every task is finished, and after max(0.1 ms, the caller's
        # own time own_ns) redo the tasks still unfinished (a worker off its CPU in the middle of
        # one; sooner, a worker merely slower than the caller was redone half the time on a busy
        # host, which cost more than it saved). Returns the workers still in the call (their
        # objects must stay alive).
        cdef int w
        cdef long long turns = 0, spin = 1 << 16, since = 0, now
        cdef long long after = max(100000, own_ns)
        cdef uint64_t taken = 0, busy
        for w in range(1, T):
            if cooc_cas(&self.slots[w].ticket, g, 0):
                self.withdrawn += 1
                if not (asleep >> w) & 1 and cooc_now_ns() - offered > _TEAM_GAP_NS:
                    # spinning when offered, yet it never looked in all this time: off its CPU
                    self._mark(cooc_now_ns())
            else:
                taken |= (<uint64_t> 1) << w
        while True:
            busy = 0
            for w in range(1, T):
                if (taken >> w) & 1 and cooc_aload(&self.slots[w].done) != g:
                    busy |= (<uint64_t> 1) << w
            if busy == 0 or redo(data, acc, False):
                return busy
            if turns < spin:
                cooc_relax()
                turns += 1
            else:
                cooc_yield()
            if (turns & 63) == 0:
                now = cooc_now_ns()
                if since == 0:
                    since = now
                elif now - since > after:
                    # a worker taken off its CPU in the middle of a task: do it here
                    if redo(data, acc, True):
                        self.redone += 1
                        self._mark(now)
                    since = now

    def _prune(self):
        # forget the calls that their late workers have left (under self.lock)
        if self.lingering:
            self.lingering[:] = [e for e in self.lingering if self._still_in(e[0], e[1])]

    cdef bint _still_in(self, uint64_t workers, long long g):
        # whether one of these workers has not finished call g yet
        cdef int w
        for w in range(1, _TEAM_MAX):
            if (workers >> w) & 1 and cooc_aload(&self.slots[w].done) < g:
                return True
        return False

    def _stop(self):
        """Tell the workers to end (tests)."""
        cdef int w
        for w in range(1, self.n_workers + 1):
            cooc_astore(&self.slots[w].quit, 1)
            self.events[w].set()
        for th in self.threads:
            th.join()
        self.threads = []
        self.n_workers = 0
        for w in range(_TEAM_MAX):
            free(self.slots[w].scratch)
        memset(self.slots, 0, sizeof(self.slots))
        self.lingering = []

    def __dealloc__(self):
        cdef int w
        if not self.threads:
            for w in range(_TEAM_MAX):
                free(self.slots[w].scratch)


def _team_worker(_SpinTeam team, int w):
    cdef long long seen = 0, g
    cdef _TeamSlot* s = &team.slots[w]
    ev = team.events[w]
    while True:
        with nogil:
            seen = team._spin(w, seen)
        if cooc_aload(&s.quit):
            return
        # a call this worker was late in may hold big arrays: let them go now, not at the next call
        if team.lingering and team.lock.acquire(False):
            try:
                team._prune()
            finally:
                team.lock.release()
        # sleep until the next offer: the caller stores the ticket, then looks at parked; we store
        # parked, then look at the ticket (both sequentially consistent), so one of us sees the other
        ev.clear()
        cooc_astore(&s.parked, 1)
        g = cooc_aload(&s.ticket)
        if (g <= 0 or g == seen) and not cooc_aload(&s.quit):
            ev.wait()
        cooc_astore(&s.parked, 0)


_TEAM = None
_TEAM_CREATE = threading.Lock()


_TEAM_MODES = ("", "refuse", "patient", "slow", "no-memory")


def _team_settings(**changes):
    """The team's settings as a dict, after setting those given (tests and tuning):

    - ``spin``: seconds a worker spins after a call before it sleeps (0.002; applies to teams made
      after it; 0 makes every call wake sleeping workers);
    - ``backoff``: seconds of a first backoff (0.05; 0 keeps offering calls to the workers);
    - ``gap``: seconds off its CPU that make a contended mark (5e-4);
    - ``marks``: marks in a row that make the team back off (2);
    - ``confirm``: whether a mark counts only while more threads are runnable than ``cpus`` (True);
    - ``cpus``: the CPUs runnable threads are compared with (the system's);
    - ``mode``: ``""`` as in use; ``"refuse"``: workers take no call, as if never scheduled;
      ``"patient"``: the caller waits until every worker has taken the call before taking tasks
      itself; ``"slow"``: as patient, the caller of a top-k call lets every worker take a task
      first, and a worker stalls in its first one, as if taken off its CPU, until the mode changes
      (10 s at most); ``"no-memory"``:
      as patient, and a worker's scratch, and the room a screened top-k task grows for its rows,
      cannot be allocated (as if out of memory).
    """
    global _TEAM_SPIN_SECONDS, _TEAM_BACKOFF_SECONDS, _TEAM_GAP_NS, _TEAM_MARKS, _TEAM_CONFIRM, _TEAM_CPUS
    global _TEAM_REFUSE, _TEAM_PATIENT, _TEAM_SLOW, _NO_MEMORY
    unknown = sorted(set(changes) - {"spin", "backoff", "gap", "marks", "confirm", "cpus", "mode"})
    if unknown:
        raise TypeError(f"unknown team settings: {', '.join(unknown)}")
    mode = changes.get("mode")
    if mode is not None and mode not in _TEAM_MODES:
        raise ValueError(f"unknown team test mode {mode!r}")
    if "spin" in changes:
        _TEAM_SPIN_SECONDS = max(0.0, float(changes["spin"]))
    if "backoff" in changes:
        _TEAM_BACKOFF_SECONDS = max(0.0, float(changes["backoff"]))
    if "gap" in changes:
        _TEAM_GAP_NS = max(0, <long long> (float(changes["gap"]) * 1e9))
    if "marks" in changes:
        _TEAM_MARKS = max(1, int(changes["marks"]))
    if "confirm" in changes:
        _TEAM_CONFIRM = 1 if changes["confirm"] else 0
    if "cpus" in changes:
        _TEAM_CPUS = max(1, int(changes["cpus"]))
    if mode is not None:
        _TEAM_REFUSE = mode == "refuse"
        _TEAM_PATIENT = mode in ("patient", "slow", "no-memory")
        cooc_astore(&_TEAM_SLOW, mode == "slow")
        _NO_MEMORY = mode == "no-memory"
    return {"spin": _TEAM_SPIN_SECONDS, "backoff": _TEAM_BACKOFF_SECONDS, "gap": _TEAM_GAP_NS / 1e9,
            "marks": _TEAM_MARKS, "confirm": bool(_TEAM_CONFIRM), "cpus": _TEAM_CPUS,
            "mode": "refuse" if _TEAM_REFUSE else "slow" if _TEAM_SLOW else "no-memory" if _NO_MEMORY
            else "patient" if _TEAM_PATIENT else ""}


def _runnable_threads():
    """Threads now runnable in the whole system, the caller included (Linux: /proc/loadavg), or -1."""
    return cooc_runnable()


def _reset_team():
    """Stop and forget this process's team (tests)."""
    global _TEAM
    with _TEAM_CREATE:
        team, _TEAM = _TEAM, None
    if team is not None and team.pid == os.getpid():
        with team.lock:
            team._stop()


cdef bint _team_backing_off():
    # whether this process's team was found contended lately
    team = _TEAM
    return team is not None and (<_SpinTeam> team).pid == os.getpid() and (<_SpinTeam> team)._backing_off(cooc_now_ns())


cdef bint _run_on_team(_part_fn fn, void* data, int T, Py_ssize_t scratch_n, _redo_fn redo,
                       object keep) except -1:
    """Run ``fn(data, t, scratch)`` on the process's spinning team: in this thread (t = 0) and in
    each worker t in 1..T-1 that takes the call in time (``scratch``: ``scratch_n`` zeroed doubles
    that ``fn`` leaves zeroed); ``fn`` must take its tasks from a counter shared by all the threads
    and return when none is left, so that the caller alone does them all if no worker comes. With
    ``redo`` the caller does itself the tasks of a worker that is late in them (see ``_redo_fn``)
    and returns without waiting for that worker: everything the worker may still touch must then
    be kept alive by ``keep``, which the team holds until the worker is done. False, having run
    nothing, when another thread is using the team (callers look at ``_team_backing_off()``
    first: while it is true, they had better run in one thread)."""
    global _TEAM
    cdef _SpinTeam team
    cdef int w
    cdef long long g, offered, own
    cdef uint64_t asleep = 0, busy = 0
    if T < 2 or T > _TEAM_MAX:
        return False
    with _TEAM_CREATE:
        pid = os.getpid()
        if _TEAM is None or (<_SpinTeam> _TEAM).pid != pid:   # none yet, or a forked child's copy
            _TEAM = _SpinTeam(pid)
        team = _TEAM
    if not team.lock.acquire(False):
        return False
    try:
        team._prune()
        acc_np = _topk_accumulator(scratch_n)
        acc = <double*> cnp.PyArray_DATA(acc_np)
        team._grow(T - 1)
        team.fn = fn
        team.data = data
        team.scratch_n = scratch_n
        team.gen += 1
        g = team.gen
        offered = cooc_now_ns()
        for w in range(1, T):
            cooc_astore(&team.slots[w].ticket, g)
            if cooc_aload(&team.slots[w].parked):
                asleep |= (<uint64_t> 1) << w
                team.events[w].set()
        with nogil:
            if _TEAM_PATIENT:
                for w in range(1, T):
                    while cooc_aload(&team.slots[w].ticket) == g:
                        cooc_yield()
            own = cooc_now_ns()
            fn(data, 0, acc)
            own = cooc_now_ns() - own
            busy = team._finish(T, g, asleep, offered, redo, data, acc, own)
        if busy:
            team.lingering.append((busy, g, keep))
    finally:
        team.lock.release()
    return True


from time import perf_counter as _perf_counter

#: seconds per phase of the last cooccurrence_csr call (for benchmarks and tuning)
_last_phases = {}

cdef int64_t _COUNT_BUCKET_KEYS = 1 << 15
cdef int _ENTRY_COUNT_BITS = 32


def _entry_count_bits(n=None):
    """Bits of an entry's count field in cooccurrence_csr (32; fewer in tests, to send small counts
    through the side table of big ones); set it when ``n`` is given (1 to 32)."""
    global _ENTRY_COUNT_BITS
    if n is not None:
        _ENTRY_COUNT_BITS = min(32, max(1, int(n)))
    return _ENTRY_COUNT_BITS


def _count_bucket_keys(n=None):
    """Target pair keys per coarse bucket of cooccurrence_csr (for tuning); set it when ``n`` is given."""
    global _COUNT_BUCKET_KEYS
    if n is not None:
        _COUNT_BUCKET_KEYS = max(1, int(n))
    return _COUNT_BUCKET_KEYS


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
    # Coarse buckets: at most max(2048, pairs / _COUNT_BUCKET_KEYS) of them, so that one bucket's
    # keys and its sort buffer stay in L2 on large corpora while the scatter streams stay few.
    total = 0
    for b in range(n_sent):
        k = off[b + 1] - off[b]
        r = k if k < window else window
        if r > 0:
            total += r * k - r * (r + 1) // 2
    target = max(2048, total // _COUNT_BUCKET_KEYS)
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
    job.main_thread_checks = 1 if T == 1 else 0
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
    job.escape = (<uint64_t> 1 << _ENTRY_COUNT_BITS) - 1
    # Sentences split into T ranges of about equal tokens.
    for t in range(1, T):
        target = (tok.shape[0] * t) // T
        k = job.sent_split[t - 1]
        while k < n_sent and off[k] < target:
            k += 1
        job.sent_split[t] = k
    job.sent_split[T] = n_sent

    clock = [("start", _perf_counter())]
    # Phase 1: pairs per coarse bucket, per thread.
    _run_phase(job, "phase_count", T)
    clock.append(("count", _perf_counter()))
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
    clock.append(("allocate", _perf_counter()))
    # Phase 3: scatter the packed pairs.
    _run_phase(job, "phase_scatter", T)
    clock.append(("scatter", _perf_counter()))
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
    _run_phase(job, "phase_reduce", T)
    clock.append(("sort+reduce", _perf_counter()))
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
    _run_phase(job, "phase_lower_counts", T)
    clock.append(("lower counts", _perf_counter()))
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
    clock.append(("layout", _perf_counter()))
    _run_phase(job, "phase_fill", T)
    clock.append(("fill", _perf_counter()))
    free(job.keys)
    job.keys = NULL
    if job.stop:
        raise KeyboardInterrupt
    _last_phases.clear()
    _last_phases.update((name, t1 - t0) for (_, t0), (name, t1) in zip(clock, clock[1:]))
    return indptr_np, indices_np, data_np


# ---------------------------------------------------------------------------------------------------
# normalization and similarity

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


def _normalize_range(indptr, data, out_np, Py_ssize_t r0, Py_ssize_t r1):
    # rows r0..r1-1 of normalize_rows_l2, into their slots of out_np (threads share out_np)
    cdef const int64_t[::1] ptr = indptr
    cdef double[::1] out = out_np
    cdef const int64_t[::1] ivals
    cdef const double[::1] fvals
    if r1 <= r0 or ptr[r1] == ptr[r0]:
        return
    if data.dtype == np.int64:
        ivals = data
        with nogil:
            _normalize(&ptr[r0], &ivals[0], &out[0], r1 - r0)
    else:
        fvals = data
        with nogil:
            _normalize(&ptr[r0], &fvals[0], &out[0], r1 - r0)


def normalize_rows_l2(indptr, data, n_threads=1):
    """Divide each CSR row by its Euclidean norm.

    The norm of a row is ``sqrt(sum of squares)`` accumulated in column order; every value is divided
    by it. A row whose norm is 0 stays all zeros. The rows are shared among ``n_threads`` threads
    (the result does not depend on it; the pure-Python twin ignores it).

    Parameters
    ----------
    indptr : int64 array, shape (V + 1,)
    data : int64 or float64 array, shape (nnz,)
    n_threads : int, default 1

    Returns
    -------
    float64 array, shape (nnz,)
        The normalized values, in the same positions as ``data``.
    """
    cdef const int64_t[::1] ptr = indptr
    cdef Py_ssize_t n = ptr[ptr.shape[0] - 1], n_rows = ptr.shape[0] - 1, t
    out_np = np.empty(n, dtype=np.float64)
    vals = data if data.dtype == np.int64 else np.ascontiguousarray(data, dtype=np.float64)
    cdef int T = max(1, min(int(n_threads), n_rows))
    if T == 1 or n < (1 << 16):
        _normalize_range(indptr, vals, out_np, 0, n_rows)
        return out_np
    # row ranges of about equal non-zeros
    cuts = [0] + [int(np.searchsorted(indptr, n * t // T)) for t in range(1, T)] + [n_rows]
    _run_threads([lambda t=t: _normalize_range(indptr, vals, out_np, cuts[t], cuts[t + 1]) for t in range(T)])
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


cdef Py_ssize_t _heap_offer(double* hs, int64_t* hr, Py_ssize_t n, Py_ssize_t kk, double sim,
                            int64_t r) noexcept nogil:
    """Offer (sim, r) to a heap of at most kk best candidates (root: the worst kept); returns its size."""
    cdef Py_ssize_t i, parent
    cdef double ts
    cdef int64_t tr
    if n < kk:
        i = n
        hs[i] = sim
        hr[i] = r
        while i > 0:
            parent = (i - 1) // 2
            if not _worse(hs[i], hr[i], hs[parent], hr[parent]):
                break
            ts = hs[i]; hs[i] = hs[parent]; hs[parent] = ts
            tr = hr[i]; hr[i] = hr[parent]; hr[parent] = tr
            i = parent
        return n + 1
    if _worse(hs[0], hr[0], sim, r):
        hs[0] = sim
        hr[0] = r
        _sift_down(hs, hr, n, 0)
    return n


cdef void _heap_sort(double* hs, int64_t* hr, Py_ssize_t n) noexcept nogil:
    """Order the heap best first, in place, by moving the worst to the end repeatedly."""
    cdef Py_ssize_t i = n
    cdef double ts
    cdef int64_t tr
    while i > 1:
        i -= 1
        ts = hs[0]; hs[0] = hs[i]; hs[i] = ts
        tr = hr[0]; hr[0] = hr[i]; hr[i] = tr
        _sift_down(hs, hr, i, 0)


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
            n = _heap_offer(&hs[0], &hr[0], n, kk, sim, r)
        _heap_sort(&hs[0], &hr[0], n)
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

from libc.stdint cimport uint8_t, uint16_t, uint32_t
from libc.string cimport memcmp

ctypedef fused char_t:
    uint8_t
    uint16_t
    uint32_t

cdef uint8_t _ALPHA_LATIN1[256]
for _c in range(256):
    _ALPHA_LATIN1[_c] = 1 if chr(_c).isalpha() else 0

cdef struct _Slot:
    # One word of a WordTable, 24 bytes: for a word of at most 8 characters below 256 (most words of
    # most text) the key is the characters themselves, so one cache line answers a lookup with no
    # visit to the arena; for any other word it is a hash, confirmed against the arena.
    uint64_t key       # packed characters (8 bits each), or the FNV-1a hash when tag & _HASHED
    int64_t freq       # occurrences so far
    int32_t id         # -1 marks an empty slot
    int32_t tag        # length, | _HASHED when the key is a hash


cdef int32_t _HASHED = 1 << 30


cdef inline uint64_t _mix64(uint64_t x) noexcept nogil:
    # MurmurHash3's finalizer: spreads packed characters over the table's buckets
    x ^= x >> 33
    x *= 0xff51afd7ed558ccdULL
    x ^= x >> 33
    x *= 0xc4ceb9fe1a85ec53ULL
    x ^= x >> 33
    return x


cdef inline bint _is_alpha(Py_UCS4 ch) noexcept nogil:
    if ch < 256:
        return _ALPHA_LATIN1[ch]
    return Py_UNICODE_ISALPHA(ch)


cdef inline uint64_t _fnv1a(const char_t* s, Py_ssize_t start, Py_ssize_t end) noexcept nogil:
    # The key of a word that is not packable (longer than 8 characters, or one above 255)
    cdef uint64_t key = 14695981039346656037ULL
    cdef Py_ssize_t q
    for q in range(start, end):
        key = (key ^ <uint64_t> s[q]) * 1099511628211ULL
    return key


cdef Py_ssize_t _count_newlines(const char_t* s, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i, count = 0
    for i in range(n):
        count += s[i] == 10
    return count


@cython.final
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
    cdef int64_t freq_cap   # capacity of word_start / word_len
    cdef int64_t* word_start
    cdef int32_t* word_len

    def __cinit__(self):
        cdef int64_t i
        self.cap = 1024
        self.slots = <_Slot*> malloc(self.cap * sizeof(_Slot))
        self.arena_cap = 1 << 16
        self.arena = <Py_UCS4*> malloc(self.arena_cap * sizeof(Py_UCS4))
        self.freq_cap = 512
        self.word_start = <int64_t*> malloc(self.freq_cap * sizeof(int64_t))
        self.word_len = <int32_t*> malloc(self.freq_cap * sizeof(int32_t))
        if (self.slots == NULL or self.arena == NULL or self.word_start == NULL
                or self.word_len == NULL):
            raise MemoryError("WordTable: out of memory")
        for i in range(self.cap):
            self.slots[i].id = -1
        self.n_words = 0
        self.arena_len = 0

    def __dealloc__(self):
        free(self.slots)
        free(self.arena)
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
            new[i].id = -1
        for i in range(self.cap):
            if self.slots[i].id >= 0:
                j = <int64_t> (_mix64(self.slots[i].key ^ <uint64_t> self.slots[i].tag) & <uint64_t> mask)
                while new[j].id >= 0:
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
            p = realloc(self.word_start, new_cap * sizeof(int64_t))
            if p == NULL:
                return -1
            self.word_start = <int64_t*> p
            p = realloc(self.word_len, new_cap * sizeof(int32_t))
            if p == NULL:
                return -1
            self.word_len = <int32_t*> p
            self.freq_cap = new_cap
        self.word_start[self.n_words] = start
        self.word_len[self.n_words] = length
        self.n_words += 1
        return 0

    cdef int64_t _slot(self, const char_t* s, Py_ssize_t start, int32_t length, uint64_t key,
                       int32_t tag) noexcept nogil:
        # The slot of the word s[start:start + length] (key and tag as _scan makes them), added with
        # the next id and frequency 0 if new; -1 when out of memory.
        cdef int64_t j, mask, new_cap
        cdef Py_ssize_t q
        cdef Py_UCS4* stored
        cdef bint same
        cdef void* p
        if 2 * (self.n_words + 1) > self.cap:
            if self._grow_slots() < 0:
                return -1
        mask = self.cap - 1
        j = <int64_t> (_mix64(key ^ <uint64_t> tag) & <uint64_t> mask)
        while self.slots[j].id >= 0:
            if self.slots[j].key == key and self.slots[j].tag == tag:
                if not (tag & _HASHED):
                    return j
                stored = &self.arena[self.word_start[self.slots[j].id]]
                same = True
                for q in range(length):
                    if stored[q] != s[start + q]:
                        same = False
                        break
                if same:
                    return j
            j = (j + 1) & mask
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
        self.slots[j].key = key
        self.slots[j].tag = tag
        self.slots[j].freq = 0
        self.slots[j].id = <int32_t> (self.n_words - 1)
        self.arena_len += length
        return j

    cdef int _scan(self, const char_t* s, Py_ssize_t n, int32_t* ids, int64_t* n_tokens,
                   int64_t* offsets) noexcept nogil:
        cdef Py_ssize_t i = 0, start, q
        cdef int64_t line = 0, j
        cdef uint64_t key, wide
        cdef Py_UCS4 ch
        cdef int32_t length, tag
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
            key = 0
            wide = 0   # any bit above the low 8 of a character: the word is not packable
            while i < n:
                ch = s[i]
                if not _is_alpha(ch):
                    break
                if i - start < 8:
                    key |= (<uint64_t> ch) << (8 * (i - start))
                wide |= <uint64_t> ch
                i += 1
            length = <int32_t> (i - start)
            tag = length
            if length > 8 or (wide >> 8) != 0:
                key = _fnv1a(s, start, i)
                tag = length | _HASHED
            j = self._slot(s, start, length, key, tag)
            if j < 0:
                return -1
            self.slots[j].freq += 1
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
        cdef Py_ssize_t n_lines
        with nogil:
            if kind == 1:
                n_lines = _count_newlines(<const uint8_t*> data, n) + 1
            elif kind == 2:
                n_lines = _count_newlines(<const uint16_t*> data, n) + 1
            else:
                n_lines = _count_newlines(<const uint32_t*> data, n) + 1
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

    def merge(self, other_table):
        """Add the words and frequencies of another table to this one.

        Words new to this table get the next ids, in the other table's id order; this table's ids
        stay. The other table is unchanged.

        Parameters
        ----------
        other_table : WordTable

        Returns
        -------
        int32 array, shape (len(other_table),)
            This table's id of each of the other table's words.
        """
        cdef WordTable other = other_table
        if other is self:
            raise ValueError("a WordTable cannot merge itself")
        out = np.empty(other.n_words, dtype=np.int32)
        cdef int32_t[::1] o = out
        cdef int64_t k, j = 0, word
        # the other table's slots, by id: each word's key, tag and frequency as its own encode made them
        cdef _Slot* by_id = <_Slot*> malloc((other.n_words + 1) * sizeof(_Slot))
        if by_id == NULL:
            raise MemoryError("WordTable.merge: out of memory")
        try:
            with nogil:
                for k in range(other.cap):
                    if other.slots[k].id >= 0:
                        by_id[other.slots[k].id] = other.slots[k]
                for word in range(other.n_words):   # new words get ids in the other table's order
                    j = self._slot(<const uint32_t*> other.arena, other.word_start[word],
                                   other.word_len[word], by_id[word].key, by_id[word].tag)
                    if j < 0:
                        break
                    self.slots[j].freq += by_id[word].freq
                    o[word] = self.slots[j].id
        finally:
            free(by_id)
        if j < 0 and other.n_words > 0:
            raise MemoryError("WordTable.merge: out of memory")
        return out

    def prefix_keys(self):
        """Each word's first 8 bytes of UTF-8 as a big-endian integer, zero-padded.

        The keys of two words are in the words' (code point) order wherever they differ; equal keys
        mean a shared 8-byte prefix.

        Returns
        -------
        uint64 array, shape (len(self),)
        """
        out = np.empty(self.n_words, dtype=np.uint64)
        cdef uint64_t[::1] o = out
        cdef int64_t k, s, e
        cdef int nb, m, u
        cdef uint8_t buf[12]
        cdef uint64_t key
        cdef uint32_t ch
        with nogil:
            for k in range(self.n_words):
                s = self.word_start[k]
                e = s + self.word_len[k]
                key = 0
                nb = 0
                while s < e and nb < 8:
                    ch = self.arena[s]
                    s += 1
                    if ch < 0x80:
                        buf[0] = <uint8_t> ch
                        m = 1
                    elif ch < 0x800:
                        buf[0] = <uint8_t> (0xC0 | (ch >> 6))
                        buf[1] = <uint8_t> (0x80 | (ch & 0x3F))
                        m = 2
                    elif ch < 0x10000:
                        buf[0] = <uint8_t> (0xE0 | (ch >> 12))
                        buf[1] = <uint8_t> (0x80 | ((ch >> 6) & 0x3F))
                        buf[2] = <uint8_t> (0x80 | (ch & 0x3F))
                        m = 3
                    else:
                        buf[0] = <uint8_t> (0xF0 | (ch >> 18))
                        buf[1] = <uint8_t> (0x80 | ((ch >> 12) & 0x3F))
                        buf[2] = <uint8_t> (0x80 | ((ch >> 6) & 0x3F))
                        buf[3] = <uint8_t> (0x80 | (ch & 0x3F))
                        m = 4
                    for u in range(m):
                        if nb < 8:
                            key = (key << 8) | buf[u]
                            nb += 1
                if nb < 8:
                    key <<= 8 * (8 - nb)
                o[k] = key
        return out

    def words(self, ids=None):
        """The words of the table, ``words()[k]`` having id ``k`` (list of str); with ``ids`` (ints in
        ``[0, len(self))``), the words of those ids, in that order."""
        cdef int64_t k
        if ids is None:
            return [PyUnicode_FromKindAndData(4, &self.arena[self.word_start[k]], self.word_len[k])
                    for k in range(self.n_words)]
        sel_np = np.ascontiguousarray(ids, dtype=np.int64)
        if sel_np.ndim != 1:
            raise ValueError(f"ids must be one-dimensional, got shape {sel_np.shape}")
        cdef const int64_t[::1] sel = sel_np
        for k in range(sel.shape[0]):
            if sel[k] < 0 or sel[k] >= self.n_words:
                raise IndexError(f"word id {sel[k]} out of range for a table of {self.n_words} words")
        return [PyUnicode_FromKindAndData(4, &self.arena[self.word_start[sel[k]]], self.word_len[sel[k]])
                for k in range(sel.shape[0])]

    def counts(self):
        """How often each word was seen over all :meth:`encode` calls (int64 array, shape (len(self),))."""
        out = np.zeros(self.n_words, dtype=np.int64)
        cdef int64_t[::1] o = out
        cdef int64_t k
        for k in range(self.cap):
            if self.slots[k].id >= 0:
                o[self.slots[k].id] = self.slots[k].freq
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
            n = _heap_offer(&hs[0], &hr[0], n, kk, sim, r)
        _heap_sort(&hs[0], &hr[0], n)
    return rows_np, sims_np



_TOPK_ACC = threading.local()
_NO_DENSE_COLS = np.zeros(0, dtype=np.int32)
_NO_DENSE = np.zeros((0, 1), dtype=np.float64)


def _topk_accumulator(Py_ssize_t n):
    """A zeroed float64 accumulator of at least ``n`` entries, kept per thread between queries (tasks
    leave it zeroed): a fresh 1.6 MB array per query at V = 200k costs 0.1 ms of page faults. Arrays
    over 64 MB are not kept (a screened query's scratch is two floats per row and column: 32 MB at
    V = 2M)."""
    buf = getattr(_TOPK_ACC, "buf", None)
    if buf is not None and buf.shape[0] >= n:
        return buf
    buf = np.zeros(n, dtype=np.float64)
    if n <= (1 << 23):
        _TOPK_ACC.buf = buf
    return buf


cdef struct _TopkData:
    # one batch of top-k queries, cut into tasks (query b, row range p); see _TopkJob
    const int64_t* tp
    const int32_t* ti
    const double* td
    const double* rn
    const int64_t* qp
    const int32_t* qi
    const double* qd
    const int64_t* ex
    double* hs        # heaps: task t = b * P + p at offset t * kk (a redone task's at (B * P + t) * kk)
    int64_t* hr
    int64_t* found    # per task (a redone task's at B * P + t)
    int64_t* state    # per task, or NULL: 0 running or not begun, 1 finished, 2 finished by a redo
    const int32_t* dcols   # sorted columns also stored densely, one row of dvals each
    const double* dvals
    Py_ssize_t n_dense
    # screening (td32 NULL: none): float32 copies of td and dvals, the matrix's own rows (CSR) for
    # the exact rescoring, and the part of the error bound that the rows' norms bring
    const float* td32
    const float* dv32
    const int64_t* mp
    const int32_t* mi
    const double* md
    double eps_rows
    Py_ssize_t n_cols, cap   # columns (the query map's size); candidates kept per task
    Py_ssize_t n_rows, n_queries, kk
    long long next    # the next task to take (by any thread)
    int T, P, stop


ctypedef fused posting_t:
    double   # the values
    float    # their float32 copies (screening)


cdef inline void _axpy_rows(double* acc, const int32_t* ti, const posting_t* td, Py_ssize_t lo, Py_ssize_t hi,
                            double qc) noexcept nogil:
    # acc[ti[j]] += td[j] * qc for j in [lo, hi): the rows of one column are distinct, so four
    # read-modify-writes can be in flight at once (each sum is still acc + td * qc, as written; a
    # float32 value is widened exactly to float64 before the product)
    cdef Py_ssize_t j = lo
    cdef int32_t i0, i1, i2, i3
    cdef double a0, a1, a2, a3
    while j + 4 <= hi:
        i0 = ti[j]
        i1 = ti[j + 1]
        i2 = ti[j + 2]
        i3 = ti[j + 3]
        a0 = acc[i0] + <double> td[j] * qc
        a1 = acc[i1] + <double> td[j + 1] * qc
        a2 = acc[i2] + <double> td[j + 2] * qc
        a3 = acc[i3] + <double> td[j + 3] * qc
        acc[i0] = a0
        acc[i1] = a1
        acc[i2] = a2
        acc[i3] = a3
        j += 4
    while j < hi:
        acc[ti[j]] = acc[ti[j]] + <double> td[j] * qc
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


#: screening: a float32 value is the float64 one times (1 + d), |d| <= 2**-24 (values in [2**-60,
#: 2**60], checked when the copies are made), and queries with max |q| <= 2**60 and norm >= 2**-60
cdef double _U32 = 5.9604644775390625e-08   # 2**-24
cdef double _U64 = 1.1102230246251565e-16   # 2**-53
cdef double _SCREEN_BIG = 1.152921504606846976e18    # 2**60
cdef double _SCREEN_SMALL = 8.673617379884035e-19    # 2**-60
cdef long long _SCREEN_COUNTS[2]   # tasks screened, and screened tasks redone in float64 (tests)


def _screen_counts(reset=False):
    """(tasks answered by screening, screened tasks whose candidates overflowed and were redone
    exactly); with ``reset``, both start again from 0. For tests."""
    out = (cooc_aload(&_SCREEN_COUNTS[0]), cooc_aload(&_SCREEN_COUNTS[1]))
    if reset:
        cooc_astore(&_SCREEN_COUNTS[0], 0)
        cooc_astore(&_SCREEN_COUNTS[1], 0)
    return out


cdef inline Py_ssize_t _dense_slot(_TopkData* d, Py_ssize_t c, Py_ssize_t* di) noexcept nogil:
    # the row of dvals holding column c, or -1; *di walks the sorted dense columns along with the
    # query's increasing columns
    while di[0] < d.n_dense and d.dcols[di[0]] < c:
        di[0] += 1
    return di[0] if di[0] < d.n_dense and d.dcols[di[0]] == c else -1


cdef inline void _postings_in(_TopkData* d, Py_ssize_t c, Py_ssize_t r0, Py_ssize_t r1, Py_ssize_t* lo,
                              Py_ssize_t* hi) noexcept nogil:
    # [lo, hi): the postings of column c in the rows [r0, r1)
    lo[0] = d.tp[c]
    hi[0] = d.tp[c + 1]
    if r0 > 0:
        lo[0] = _first_at_least(d.ti, lo[0], hi[0], r0)
    if r1 < d.n_rows:
        hi[0] = _first_at_least(d.ti, lo[0], hi[0], r1)


cdef void _topk_accumulate(_TopkData* d, Py_ssize_t qlo, Py_ssize_t qhi, double* acc0, Py_ssize_t r0,
                           Py_ssize_t r1) noexcept nogil:
    # Add the query's columns, in increasing order, to acc0[r] for the rows r in [r0, r1). A column
    # stored densely too is added over the whole row range (a missing entry adds q * 0.0 = +-0.0,
    # which leaves every accumulator as it is: they start at +0.0 and a sum is -0.0 only when both
    # terms are, so none is ever -0.0; every other sum is the same as the posting's, so the floats
    # are those of the postings).
    cdef Py_ssize_t i, k, lo_j, hi_j, di = 0
    for i in range(qlo, qhi):
        k = _dense_slot(d, d.qi[i], &di)
        if k >= 0:
            _axpy_dense(acc0, d.dvals + k * d.n_rows, r0, r1, d.qd[i])
        else:
            _postings_in(d, d.qi[i], r0, r1, &lo_j, &hi_j)
            _axpy_rows(acc0, d.ti, d.td, lo_j, hi_j, d.qd[i])


cdef void _dense4_32(double* acc0, const float** c, const double* q, Py_ssize_t r0, Py_ssize_t r1,
                     bint first) noexcept nogil:
    # acc0[r] (+)= c0[r] q0 + c1[r] q1 + c2[r] q2 + c3[r] q3 for r in [r0, r1): four dense float32
    # columns in one pass over the accumulator (written, not read, when first)
    cdef Py_ssize_t r
    cdef const float* c0 = c[0]
    cdef const float* c1 = c[1]
    cdef const float* c2 = c[2]
    cdef const float* c3 = c[3]
    cdef double q0 = q[0], q1 = q[1], q2 = q[2], q3 = q[3]
    if first:
        for r in range(r0, r1):
            acc0[r] = (<double> c0[r] * q0 + <double> c1[r] * q1) + (<double> c2[r] * q2 + <double> c3[r] * q3)
    else:
        for r in range(r0, r1):
            acc0[r] = acc0[r] + ((<double> c0[r] * q0 + <double> c1[r] * q1)
                                 + (<double> c2[r] * q2 + <double> c3[r] * q3))


cdef void _topk_accumulate32(_TopkData* d, Py_ssize_t qlo, Py_ssize_t qhi, double* acc0, Py_ssize_t r0,
                             Py_ssize_t r1) noexcept nogil:
    # _topk_accumulate from the float32 copies, in another order (the screening's bound holds for
    # any order): the dense columns first, four at a time in one pass over the accumulator (a group
    # short of four is filled up with the first column times 0.0), then the postings
    cdef Py_ssize_t i, k, lo_j, hi_j, di = 0, g = 0
    cdef const float* cols[4]
    cdef double qv[4]
    cdef bint first = True
    for i in range(qlo, qhi):
        k = _dense_slot(d, d.qi[i], &di)
        if k >= 0:
            cols[g] = d.dv32 + k * d.n_rows
            qv[g] = d.qd[i]
            g += 1
            if g == 4:
                _dense4_32(acc0, cols, qv, r0, r1, first)
                first = False
                g = 0
    if g > 0:
        for i in range(g, 4):
            cols[i] = cols[0]
            qv[i] = 0.0
        _dense4_32(acc0, cols, qv, r0, r1, first)
    di = 0
    for i in range(qlo, qhi):
        if _dense_slot(d, d.qi[i], &di) < 0:
            _postings_in(d, d.qi[i], r0, r1, &lo_j, &hi_j)
            _axpy_rows(acc0, d.ti, d.td32, lo_j, hi_j, d.qd[i])


cdef struct _Cands:
    # rows kept by a screened scan: scores s and rows r, n of them; cap of room, in the task's
    # scratch until it is outgrown, then in memory of their own (owned), up to cap_max
    double* s
    int64_t* r
    Py_ssize_t n, cap, cap_max
    bint owned


cdef bint _cands_grow(_Cands* c) noexcept nogil:
    # twice the room (at most cap_max); False when at cap_max already or out of memory
    cdef Py_ssize_t cap = min(2 * c.cap, c.cap_max)
    cdef double* s
    cdef int64_t* r
    if cap <= c.cap or _NO_MEMORY:
        return False
    s = <double*> malloc(cap * sizeof(double))
    r = <int64_t*> malloc(cap * sizeof(int64_t))
    if s == NULL or r == NULL:
        free(s)
        free(r)
        return False
    memcpy(s, c.s, c.n * sizeof(double))
    memcpy(r, c.r, c.n * sizeof(int64_t))
    if c.owned:
        free(c.s)
        free(c.r)
    c.s, c.r, c.cap, c.owned = s, r, cap, True
    return True


cdef Py_ssize_t _topk_scan(const double* acc0, const double* rn, Py_ssize_t r0, Py_ssize_t r1,
                           Py_ssize_t ex, Py_ssize_t kq, double qnorm, double band, double* hs,
                           int64_t* hr, _Cands* cands, Py_ssize_t n0) noexcept nogil:
    # Scan the rows once into the heap (hs, hr) of the kq best, n0 of them kept already (earlier
    # blocks of the range); returns its size. thr: once the heap is full and
    # its worst score less band, hs[0] - band, is >= 0, a row with acc <= thr * norm cannot enter
    # it nor come within band of it (thr = (hs[0] - band) * qnorm less a margin far above rounding:
    # a multiplication instead of a division; a later row loses a tie to the lower index already
    # kept, so a row sharing no column, acc = 0, cannot enter a heap of scores >= 0). Until then
    # thr = -inf and every row is offered (-inf * 0 is NaN: a zero row is not skipped). With the
    # gate open, rows are first tested eight at a time, without a branch per row.
    # With cands (screening, band > 0), every row offered whose score is within band of the heap's
    # worst at that moment is also kept there; when its room is full, those that fell out of the
    # band go, and with over half of it left the room is doubled (rows tied early in a range may
    # fall out later); beyond cap_max: -1 (the scan stops there).
    cdef Py_ssize_t r = r0, e, n = n0, w, kept
    cdef double a, sim, thr = -INFINITY, low
    cdef bint gate = False
    if n == kq and hs[0] - band >= 0.0:
        thr = (hs[0] - band) * qnorm * (1.0 - 1e-12)
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
            if cands != NULL and (n < kq or sim >= hs[0] - band):
                if cands.n == cands.cap:
                    low = hs[0] - band if n == kq else -INFINITY
                    kept = 0
                    for w in range(cands.n):
                        if cands.s[w] >= low:
                            cands.s[kept] = cands.s[w]
                            cands.r[kept] = cands.r[w]
                            kept += 1
                    cands.n = kept
                    if kept > cands.cap // 2 and not _cands_grow(cands):
                        return -1
                cands.s[cands.n] = sim
                cands.r[cands.n] = r
                cands.n += 1
            if n == kq and hs[0] - band >= 0.0:
                thr = (hs[0] - band) * qnorm * (1.0 - 1e-12)
                gate = True
            r += 1
    return n


cdef double _exact_dot(_TopkData* d, Py_ssize_t r, Py_ssize_t qlo, Py_ssize_t qhi, const double* qmap) noexcept nogil:
    # Row r of the matrix times the query, summed over their common columns in increasing order:
    # the float the postings give (the same products in the same order). Few query columns: each is
    # looked for in the row by bisection; otherwise the row is walked against the query's map (a
    # column not in the query adds +-0.0, which changes no sum, see _topk_accumulate).
    cdef Py_ssize_t lo = d.mp[r], hi = d.mp[r + 1], i, j
    cdef double a = 0.0
    cdef const int32_t* mi = d.mi
    cdef const double* md = d.md
    if (qhi - qlo) * 16 < hi - lo:
        for i in range(qlo, qhi):
            lo = _first_at_least(mi, lo, hi, d.qi[i])
            if lo == hi:
                break
            if mi[lo] == d.qi[i]:
                a = a + md[lo] * d.qd[i]
                lo += 1
    else:
        for j in range(lo, hi):
            a = a + md[j] * qmap[mi[j]]
    return a


cdef inline double* _topk_qmap(_TopkData* d, double* acc) noexcept nogil:
    # the scratch after a task's accumulator: the query's map (n_cols), then the candidates
    return acc + d.n_rows // d.P + 1


cdef Py_ssize_t _TOPK_BLOCK_ROWS = 1 << 17


def _topk_block_rows(n=None):
    """Rows a top-k task accumulates and scans at a time (131,072: a 1 MB accumulator, which stays in
    L2); set it when ``n`` is given (tests use a few rows, to cut small matrices into blocks)."""
    global _TOPK_BLOCK_ROWS
    if n is not None:
        _TOPK_BLOCK_ROWS = max(1, int(n))
    return int(_TOPK_BLOCK_ROWS)


cdef Py_ssize_t _topk_blocks(_TopkData* d, Py_ssize_t qlo, Py_ssize_t qhi, double* acc, Py_ssize_t r0,
                             Py_ssize_t r1, Py_ssize_t ex, Py_ssize_t kq, double qnorm, double band,
                             double* hs, int64_t* hr, _Cands* cands) noexcept nogil:
    # Accumulate and scan the rows [r0, r1) in blocks of at most _TOPK_BLOCK_ROWS (of equal size),
    # each in acc[0 : its length], left zeroed: the block's accumulator stays in L2 while the block's
    # postings are added (1 thread at V = 200k: about 0.8 of the time of one block in a C loop), and
    # each row's sum is the same as without blocks. From the float32 copies when cands (screening,
    # see _topk_screened), else from the float64 values. Returns the heap's size, or -1 (cands
    # outgrown).
    cdef Py_ssize_t nb = (r1 - r0 + _TOPK_BLOCK_ROWS - 1) // _TOPK_BLOCK_ROWS, i, b0 = r0, b1, n = 0
    for i in range(nb):
        b1 = r0 + (r1 - r0) * (i + 1) // nb
        if cands != NULL:
            _topk_accumulate32(d, qlo, qhi, acc - b0, b0, b1)
        else:
            _topk_accumulate(d, qlo, qhi, acc - b0, b0, b1)
        n = _topk_scan(acc - b0, d.rn, b0, b1, ex, kq, qnorm, band, hs, hr, cands, n)
        memset(acc, 0, (b1 - b0) * sizeof(double))
        if n < 0:
            return -1
        b0 = b1
    return n


cdef Py_ssize_t _topk_screened(_TopkData* d, Py_ssize_t qlo, Py_ssize_t qhi, double* acc, Py_ssize_t r0,
                               Py_ssize_t r1, Py_ssize_t ex, Py_ssize_t kq, double qnorm, double* hs,
                               int64_t* hr) noexcept nogil:
    # The task on the float32 copies: every row whose float32-based score is within band of the
    # kq-th best such score is rescored exactly, and only those enter the heap; -1 when too many
    # rows are that close (acc is left zeroed either way). band is 2.5 times a bound on the gap
    # between a row's float32-based score and its exact one (E below): a row of the exact top kq
    # scores at least the kq-th best float32-based score less 2 E, so within the band.
    cdef double* qmap = _topk_qmap(d, acc)
    cdef double* cs = qmap + d.n_cols
    cdef int64_t* cr = <int64_t*> (cs + d.cap)
    cdef Py_ssize_t m = qhi - qlo, i, w, n
    cdef double eps, band, low, sim
    cdef _Cands cands
    # room for the rows within the band: the scratch's, then up to an eighth of the range (more
    # rows to rescore than that cost more than the float64 pass)
    cands.s, cands.r, cands.n, cands.cap, cands.owned = cs, cr, 0, d.cap, False
    cands.cap_max = max(d.cap, (r1 - r0) // 8)
    # |float32-based - exact| <= (2**-24 + 2.01 * m * 2**-53) |q| |row| for a row sharing m
    # columns at most (the widened products, and both sums' rounding); the division by the
    # computed norms adds 2 * 2**-53 and their rounding (m and the row's length: eps_rows)
    eps = _U32 * 1.001 + (4.0 * m + 16.0) * _U64 + d.eps_rows
    band = 2.5 * eps
    n = _topk_blocks(d, qlo, qhi, acc, r0, r1, ex, kq, qnorm, band, hs, hr, &cands)
    if n >= 0:
        low = hs[0] - band if n == kq else -INFINITY
        for i in range(qlo, qhi):
            qmap[d.qi[i]] = d.qd[i]
        n = 0
        for w in range(cands.n):
            if cands.s[w] >= low:
                sim = _exact_dot(d, cands.r[w], qlo, qhi, qmap)
                sim = 0.0 if d.rn[cands.r[w]] == 0.0 else sim / (qnorm * d.rn[cands.r[w]])
                n = _heap_offer(hs, hr, n, kq, sim, cands.r[w])
        for i in range(qlo, qhi):
            qmap[d.qi[i]] = 0.0
    if cands.owned:
        free(cands.s)
        free(cands.r)
        memset(cs, 0, d.cap * sizeof(double))
        memset(cr, 0, d.cap * sizeof(int64_t))
    else:
        memset(cs, 0, cands.n * sizeof(double))
        memset(cr, 0, cands.n * sizeof(int64_t))
    return n


cdef void _topk_task(_TopkData* d, Py_ssize_t b, Py_ssize_t p, double* acc, Py_ssize_t slot) noexcept nogil:
    # Query b over the row range p: accumulate its columns' postings in column order, then scan the
    # rows once into the task's heap (slot 0, or 1 for a redo), leaving acc (the range's rows)
    # zeroed; then, with states, record the task finished unless the other slot's run was first.
    # With screening, the postings are first read from their float32 copies (see _topk_screened).
    cdef Py_ssize_t i, n = -1
    cdef Py_ssize_t qlo = d.qp[b], qhi = d.qp[b + 1], ex = d.ex[b]
    cdef Py_ssize_t kq = d.kk
    cdef Py_ssize_t r0 = d.n_rows * p // d.P, r1 = d.n_rows * (p + 1) // d.P
    cdef double qsq = 0.0, qnorm, qmax = 0.0
    cdef Py_ssize_t t = b * d.P + p
    cdef Py_ssize_t at = t + slot * d.n_queries * d.P
    cdef double* hs = d.hs + at * d.kk
    cdef int64_t* hr = d.hr + at * d.kk
    if 0 <= ex < d.n_rows and kq > d.n_rows - 1:
        kq = d.n_rows - 1
    d.found[at] = 0
    if kq <= 0 or r1 <= r0:
        if d.state != NULL:
            cooc_cas(<long long*> &d.state[t], 0, 1 + slot)
        return
    for i in range(qlo, qhi):
        qsq = qsq + d.qd[i] * d.qd[i]
        if fabs(d.qd[i]) > qmax:
            qmax = fabs(d.qd[i])
    qnorm = sqrt(qsq)
    if d.td32 != NULL and qmax <= _SCREEN_BIG and qnorm >= _SCREEN_SMALL:
        n = _topk_screened(d, qlo, qhi, acc, r0, r1, ex, kq, qnorm, hs, hr)
        cooc_fetch_add(&_SCREEN_COUNTS[0 if n >= 0 else 1], 1)
    if n < 0:
        n = _topk_blocks(d, qlo, qhi, acc, r0, r1, ex, kq, qnorm, 0.0, hs, hr, NULL)
    _heap_sort(hs, hr, n)
    d.found[at] = n
    if d.state != NULL:
        cooc_cas(<long long*> &d.state[t], 0, 1 + slot)


cdef void _topk_part(void* data, int t, double* acc) noexcept nogil:
    # A thread's share of a batch: it takes the next task from the shared counter until none is
    # left, so threads that come late or not at all leave their tasks to the others; t = 0 (the
    # caller's thread) also looks for Ctrl-C between tasks.
    cdef _TopkData* d = <_TopkData*> data
    cdef long long task, n_tasks = d.n_queries * d.P, ran = 0
    while not cooc_load_flag(&d.stop):
        if t == 0 and ran > 0 and (ran & 0x3F) == 0 and _signalled():
            cooc_store_flag(&d.stop, 1)
            break
        if _TEAM_SLOW and t == 0:   # tests: let every worker take a task first
            while cooc_load_flag(&d.stop) == 0 and cooc_aload(&d.next) < min(d.T - 1, n_tasks):
                cooc_yield()
        task = cooc_fetch_add(&d.next, 1)
        if task >= n_tasks:
            break
        if _TEAM_SLOW and t != 0 and ran == 0:   # tests: a worker off its CPU in its first task
            _stall_while_slow()
        _topk_task(d, task // d.P, task % d.P, acc, 0)
        ran += 1


cdef bint _topk_redo(void* data, double* acc, bint redo) noexcept nogil:
    # see _redo_fn: a task still running (its thread off its CPU) is answered again in slot 1
    cdef _TopkData* d = <_TopkData*> data
    cdef Py_ssize_t t, n_tasks = d.n_queries * d.P
    cdef bint done = True
    for t in range(n_tasks):
        if cooc_aload(<long long*> &d.state[t]) == 0:
            if redo and not cooc_load_flag(&d.stop):
                _topk_task(d, t // d.P, t % d.P, acc, 1)
            else:
                done = False
    return done


cdef void _stall_while_slow() noexcept nogil:
    # (tests) until the "slow" test mode ends, or 10 s
    cdef long long t0 = cooc_now_ns()
    while cooc_aload(&_TEAM_SLOW) and cooc_now_ns() - t0 < <long long> 10 * 1000000000:
        cooc_yield()


cdef class _TopkJob:
    """Shared state of one batch of top-k queries, cut into tasks (query ``b``, row range ``p``).

    With at least as many queries as threads, a task is a whole query (P = 1); a single query is
    cut into P = T row ranges answered in parallel, whose heaps are merged at the end. A task adds
    each query column's postings (within its row range) to an accumulator over its rows, taking the
    columns in increasing order, so every float equals the single-query kernel's; then it scans its
    rows once, zeroing the accumulator as it goes, in blocks of rows whose accumulator stays in L2
    (see _topk_blocks; an earlier machine, an AMD EPYC, had found cache-sized blocks slower). Each
    thread takes the next task from a shared counter (queries differ in cost, and a thread may come
    late); which thread answers a task does not change its floats. Nothing is allocated per query.
    """
    cdef _TopkData d
    cdef object keep  # the arrays behind the pointers, alive as long as the job

    def request_stop(self):
        cooc_store_flag(&self.d.stop, 1)

    def run(self, int t):
        acc_np = _topk_accumulator(_topk_scratch_n(&self.d))
        cdef double[::1] acc = acc_np
        with nogil:
            _topk_part(&self.d, t, &acc[0])


cdef Py_ssize_t _topk_scratch_n(_TopkData* d) noexcept nogil:
    # a thread's scratch for tasks of d: the accumulator of a row range, and with screening the
    # query's map (a float per column) and the candidates (a float and a row each)
    return d.n_rows // d.P + 1 + (d.n_cols + 2 * d.cap if d.td32 != NULL else 0)


def topk_cosine_sparse_many(t_indptr, t_indices, t_data, row_norms, q_indptr, q_indices, q_data, k,
                            exclude, n_threads=1, dense_cols=None, dense=None, screen=None):
    """Top-k cosine similarities of many sparse queries against every row of a matrix, via its transpose.

    Query ``b`` is row ``b`` of the CSR matrix ``(q_indptr, q_indices, q_data)``; each is answered
    exactly as :func:`topk_cosine_sparse` answers it (the same sums in the same order, so the same
    floats, bit for bit), with ``exclude[b]`` left out. The queries are shared among ``n_threads``
    threads; the result does not depend on it (the pure-Python twin ignores it). Columns of the
    transpose may also be given densely (``dense_cols``, ``dense``): the compiled kernel adds them as
    whole rows of floats instead of postings, with the same result (the pure-Python twin ignores them).
    With ``screen``, the compiled kernel reads float32 copies of the values first (half the bytes)
    and rescores exactly, from the matrix's own rows, every row that a bound on the float32 error
    does not rule out: the same result again (the pure-Python twin ignores it).

    Parameters
    ----------
    t_indptr : int64 array, shape (n_cols + 1,)
    t_indices : int32 array, shape (nnz,)
    t_data : float64 array, shape (nnz,)
        The transpose of the matrix, as CSR with sorted indices.
    row_norms : float64 array, shape (n_rows,)
        Euclidean norm of every row of the matrix, summed in column order.
    q_indptr : int64 array, shape (n_queries + 1,)
    q_indices : int32 array, shape (q_nnz,)
        Column indices of each query's non-zeros, sorted within each query.
    q_data : float64 array, shape (q_nnz,)
    k : int
        Results per query; at most ``n_rows``.
    exclude : int64 array, shape (n_queries,)
        A row index left out of each query's ranking, or -1 for none.
    n_threads : int, default 1
    dense_cols : int32 array, shape (n_dense,), optional
        Sorted, distinct rows of the transpose (columns of the matrix) also given in ``dense``.
    dense : float64 array, shape (n_dense, n_rows), optional
        ``dense[i]`` is row ``dense_cols[i]`` of the transpose with its zeros: the same values.
    screen : tuple, optional
        ``(t_data32, dense32, m_indptr, m_indices, m_data, eps_rows)``: ``t_data`` and ``dense``
        as float32 (every non-zero of magnitude in [2**-60, 2**60]), the matrix itself as CSR
        (int64, int32, float64; sorted indices) and ``4 * (longest row + 16) * 2**-53``.

    Returns
    -------
    rows : int64 array, shape (n_queries, k)
    sims : float64 array, shape (n_queries, k)
        Best first; only the first ``found[b]`` entries of row ``b`` are meaningful.
    found : int64 array, shape (n_queries,)
        ``min(k, candidates)`` for each query.
    """
    cdef const int64_t[::1] tp = t_indptr
    cdef const int32_t[::1] ti = t_indices
    cdef const double[::1] td = t_data
    cdef const double[::1] rn = row_norms
    cdef const int64_t[::1] qp = q_indptr
    cdef const int32_t[::1] qi = q_indices
    cdef const double[::1] qd = q_data
    cdef const int64_t[::1] ex = exclude
    cdef const int32_t[::1] dc = dense_cols if dense_cols is not None else _NO_DENSE_COLS
    cdef const float[::1] td32
    cdef const float[:, ::1] dv32
    cdef const int64_t[::1] mp
    cdef const int32_t[::1] mi
    cdef const double[::1] md
    cdef const double[:, ::1] dv = dense if dense is not None else _NO_DENSE
    cdef Py_ssize_t B = qp.shape[0] - 1, kk = k, b, p, n, P
    cdef int T = max(1, int(n_threads))
    rows_np = np.zeros((B, kk), dtype=np.int64)
    sims_np = np.zeros((B, kk), dtype=np.float64)
    found_np = np.zeros(B, dtype=np.int64)
    if B == 0 or kk == 0 or rn.shape[0] == 0:
        return rows_np, sims_np, found_np
    # enough queries: one task each; fewer queries than threads: each query in T row ranges, unless
    # the team is contended (then the threads are better left to others)
    if B < T and _team_backing_off():
        T = 1
    P = 1 if B >= T else min(T, <int> _TEAM_MAX)
    if P == 1 and T > B:
        T = <int> B
    # one query in row ranges: two heaps per range (the second for a redo), and the ranges' states
    part_rows = rows_np if P == 1 else np.zeros((2 * B * P, kk), dtype=np.int64)
    part_sims = sims_np if P == 1 else np.zeros((2 * B * P, kk), dtype=np.float64)
    part_found = found_np if P == 1 else np.zeros(2 * B * P, dtype=np.int64)
    states = None if P == 1 else np.zeros(B * P, dtype=np.int64)
    cdef int64_t[::1] st = states
    cdef int64_t[:, ::1] hr = part_rows
    cdef double[:, ::1] hs = part_sims
    cdef int64_t[::1] fd = part_found
    job = _TopkJob()
    cdef _TopkJob j = job
    j.d.tp = &tp[0]
    j.d.ti = &ti[0] if ti.shape[0] else NULL
    j.d.td = &td[0] if td.shape[0] else NULL
    j.d.rn = &rn[0]
    j.d.qp = &qp[0]
    j.d.qi = &qi[0] if qi.shape[0] else NULL
    j.d.qd = &qd[0] if qd.shape[0] else NULL
    j.d.ex = &ex[0]
    j.d.hs = &hs[0, 0]
    j.d.hr = &hr[0, 0]
    j.d.found = &fd[0]
    j.d.state = &st[0] if states is not None else NULL
    j.d.n_rows = rn.shape[0]
    j.d.n_queries = B
    j.d.kk = kk
    j.d.T = T
    j.d.P = <int> P
    j.d.stop = 0
    j.d.next = 0
    j.d.n_dense = dc.shape[0]
    j.d.dcols = &dc[0] if dc.shape[0] else NULL
    j.d.dvals = &dv[0, 0] if dc.shape[0] else NULL
    j.d.n_cols = tp.shape[0] - 1
    j.d.cap = 4 * kk + 256
    j.d.td32 = NULL
    if screen is not None:
        td32, dv32, mp, mi, md = screen[0], screen[1], screen[2], screen[3], screen[4]
        j.d.td32 = &td32[0] if td32.shape[0] else NULL
        j.d.dv32 = &dv32[0, 0] if dc.shape[0] else NULL
        j.d.mp = &mp[0]
        j.d.mi = &mi[0] if mi.shape[0] else NULL
        j.d.md = &md[0] if md.shape[0] else NULL
        j.d.eps_rows = float(screen[5])
    j.keep = (t_indptr, t_indices, t_data, row_norms, q_indptr, q_indices, q_data, exclude, dense_cols, dense,
              screen)
    # (a late worker may still be in its range after the call: the team keeps what it touches)
    if P == 1 or not _run_on_team(&_topk_part, &j.d, T, _topk_scratch_n(&j.d), &_topk_redo,
                                  (job, part_rows, part_sims, part_found, states)):
        _run_phase(job, "run", T, True)
    if j.d.stop:
        raise KeyboardInterrupt
    if P > 1:
        _merge_ranges(&hs[0, 0], &hr[0, 0], &fd[0], &st[0], B, P, kk, sims_np, rows_np, found_np)
    return rows_np, sims_np, found_np


cdef void _merge_ranges(const double* ps, const int64_t* pr, const int64_t* pf, const int64_t* state,
                        Py_ssize_t B, Py_ssize_t P, Py_ssize_t kk, double[:, ::1] sims, int64_t[:, ::1] rows,
                        int64_t[::1] found) noexcept:
    # Merge each query's P sorted row-range heaps (best first) into its top kk: best first, ties to
    # the lower row (the ranges are disjoint); a range redone (state 2) is read from its second heap
    cdef Py_ssize_t b, p, best, n
    cdef Py_ssize_t head[_TEAM_MAX]
    cdef const double* hs[_TEAM_MAX]
    cdef const int64_t* hr[_TEAM_MAX]
    cdef Py_ssize_t nf[_TEAM_MAX]
    cdef Py_ssize_t at
    for b in range(B):
        for p in range(P):
            at = b * P + p
            if state[at] == 2:
                at += B * P
            hs[p] = ps + at * kk
            hr[p] = pr + at * kk
            nf[p] = pf[at]
            head[p] = 0
        n = 0
        while n < kk:
            best = -1
            for p in range(P):
                if head[p] < nf[p] and (best < 0 or _worse(hs[best][head[best]], hr[best][head[best]],
                                                           hs[p][head[p]], hr[p][head[p]])):
                    best = p
            if best < 0:
                break
            sims[b, n] = hs[best][head[best]]
            rows[b, n] = hr[best][head[best]]
            head[best] += 1
            n += 1
        found[b] = n


def topk_cosine_rows(vectors, query, k, exclude):
    """Top-k cosine similarities between a dense query and every row of a dense matrix.

    The same ranking and the same floats as :func:`topk_cosine` on the matrix stored as CSR: every
    dot product and squared norm is summed in column order (a stored zero adds nothing). Results are
    ordered by decreasing similarity; ties go to the lower row index; a zero row or query scores 0.0.

    Parameters
    ----------
    vectors : float64 array, shape (n_rows, dim), C-contiguous
    query : float64 array, shape (dim,)
    k : int
    exclude : int
        A row index left out of the ranking, or -1 for none.

    Returns
    -------
    rows : int64 array, shape (min(k, candidates),)
    sims : float64 array, shape (min(k, candidates),)
    """
    cdef const double[:, ::1] m = vectors
    cdef const double[::1] q = query
    cdef Py_ssize_t n_rows = m.shape[0], d = m.shape[1], kk = k, ex = exclude, r, j, t, n = 0, r4
    cdef double qsq = 0.0, qnorm, sim, x, qj
    cdef double dot[4]
    cdef double sq[4]
    cdef Py_ssize_t candidates = n_rows - (1 if 0 <= ex < n_rows else 0)
    if kk > candidates:
        kk = candidates
    if kk < 0:
        kk = 0
    sims_np = np.empty(kk, dtype=np.float64)
    rows_np = np.empty(kk, dtype=np.int64)
    if kk == 0:
        return rows_np, sims_np
    cdef double[::1] hs = sims_np
    cdef int64_t[::1] hr = rows_np
    with nogil:
        for j in range(d):
            qsq = qsq + q[j] * q[j]
        qnorm = sqrt(qsq)
        r = 0
        while r < n_rows:
            # four rows at a time: eight independent sums, each in column order
            r4 = min(4, n_rows - r)
            for t in range(4):
                dot[t] = 0.0
                sq[t] = 0.0
            if r4 == 4:
                for j in range(d):
                    qj = q[j]
                    x = m[r, j]
                    dot[0] = dot[0] + x * qj
                    sq[0] = sq[0] + x * x
                    x = m[r + 1, j]
                    dot[1] = dot[1] + x * qj
                    sq[1] = sq[1] + x * x
                    x = m[r + 2, j]
                    dot[2] = dot[2] + x * qj
                    sq[2] = sq[2] + x * x
                    x = m[r + 3, j]
                    dot[3] = dot[3] + x * qj
                    sq[3] = sq[3] + x * x
            else:
                for t in range(r4):
                    for j in range(d):
                        x = m[r + t, j]
                        dot[t] = dot[t] + x * q[j]
                        sq[t] = sq[t] + x * x
            for t in range(r4):
                if r + t == ex:
                    continue
                if qnorm == 0.0 or sq[t] == 0.0:
                    sim = 0.0
                else:
                    sim = dot[t] / (qnorm * sqrt(sq[t]))
                n = _heap_offer(&hs[0], &hr[0], n, kk, sim, r + t)
            r += r4
        _heap_sort(&hs[0], &hr[0], n)
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
    /* Rows r0..r1 of A @ x, four stored cells at a time (the order the pure-Python twin follows).
       On x86-64 with GCC, an AVX2 clone is chosen at load time on CPUs that have it: same operations,
       eight lanes instead of four, identical results (no fused multiply-add: -ffp-contract=off). glibc
       only: the clone is an IFUNC, which musl (musllinux wheels) does not support. */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__)
    __attribute__((target_clones("avx2", "default")))
    #endif
    static void cooc_csr_matmat_rows(const int64_t *ptr, const int32_t *ind, const float *val,
                                     const float *x, float *out, int64_t r0, int64_t r1, int64_t l) {
        for (int64_t r = r0; r < r1; r++) {
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
                              float* out, int64_t r0, int64_t r1, int64_t l) nogil


cdef class _MatmatJob:
    """Row ranges of one ``csr_matmat``, handed out to the threads one at a time (a thread slowed down
    by another process leaves the rest to the others)."""
    cdef const int64_t* ptr
    cdef const int32_t* ind
    cdef const float* val
    cdef const float* x
    cdef float* out
    cdef int64_t l
    cdef object ranges
    cdef object lock

    def work(self):
        cdef int64_t r0, r1
        while True:
            with self.lock:
                if not self.ranges:
                    return
                r0, r1 = self.ranges.pop()
            with nogil:
                cooc_csr_matmat_rows(self.ptr, self.ind, self.val, self.x, self.out, r0, r1, self.l)


def csr_matmat(indptr, indices, data, x, n_threads=1):
    """Product of a CSR matrix of float32 and a dense row-major float32 matrix: ``A @ x``.

    Row ``r`` of the result starts at zero and adds the stored cells of row ``r`` of ``A`` in their
    order, four at a time: ``out[r] += (v0 * x[c0] + v1 * x[c1]) + (v2 * x[c2] + v3 * x[c3])``, then
    the one to three left over one at a time: ``out[r] += v * x[c]``; every operation is a float32
    multiply or add, so both backends give bit-identical floats.

    Parameters
    ----------
    indptr : int64 array, shape (n_rows + 1,)
    indices : int32 array, shape (nnz,)
        Column indices, each in ``[0, x.shape[0])``.
    data : float32 array, shape (nnz,)
    x : float32 C-contiguous array, shape (n_cols, n_vecs)
    n_threads : int, default 1
        Threads to multiply with, over ranges of rows (the result does not depend on it; the
        pure-Python twin ignores it).

    Returns
    -------
    float32 array, shape (n_rows, n_vecs)
    """
    cdef const int64_t[::1] ptr = indptr
    cdef const int32_t[::1] ind = indices
    cdef const float[::1] val = data
    cdef const float[:, ::1] xv = x
    cdef Py_ssize_t n_rows = ptr.shape[0] - 1, l = xv.shape[1], nnz = ind.shape[0]
    cdef int T = n_threads, t
    cdef float dummy_x = 0.0
    cdef int32_t dummy_i = 0
    cdef _MatmatJob job
    out_np = np.empty((n_rows, l), dtype=np.float32)
    cdef float[:, ::1] ov = out_np
    if n_rows == 0 or l == 0:
        return out_np
    job = _MatmatJob()
    job.ptr = &ptr[0]
    job.ind = &ind[0] if nnz > 0 else &dummy_i
    job.val = &val[0] if nnz > 0 else &dummy_x
    job.x = &xv[0, 0] if xv.shape[0] > 0 else &dummy_x
    job.out = &ov[0, 0]
    job.l = l
    job.lock = threading.Lock()
    if T < 1:
        T = 1
    if T == 1:
        job.ranges = [(0, n_rows)]
        job.work()
        return out_np
    # about four ranges of equal work (stored cells plus a row's own cost) per thread, last first
    pieces = 4 * T
    work = np.asarray(indptr, dtype=np.float64) + np.arange(n_rows + 1, dtype=np.float64)
    cuts = np.unique(np.searchsorted(work, np.linspace(0.0, work[-1], pieces + 1)[1:-1]).clip(0, n_rows))
    bounds = [0] + [int(c) for c in cuts if 0 < c < n_rows] + [n_rows]
    job.ranges = [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)][::-1]
    _run_threads([job.work] * T, inline_first=True)
    return out_np


# ---------------------------------------------------------------------------------------------------
# re-mapping token ids

def remap_ids(ids, offsets, mapping):
    """Map token ids through a table, dropping the tokens it maps below 0.

    Dropped tokens are removed before windowing: their neighbours in a sentence become adjacent.

    Parameters
    ----------
    ids : int32 array, shape (n_tokens,)
        Ids, each in ``[0, len(mapping))``.
    offsets : int64 array, shape (n_sentences + 1,)
        Sentence ``s`` is ``ids[offsets[s]:offsets[s + 1]]``.
    mapping : int32 array
        The new id of each old id; a negative one drops the token.

    Returns
    -------
    ids : int32 array, shape (n_kept,)
        ``mapping[ids]`` without its negative entries, in order.
    offsets : int64 array, shape (n_sentences + 1,)
        Sentence ``s``'s kept tokens are ``ids[offsets[s]:offsets[s + 1]]`` (possibly none).
    """
    cdef const int32_t[::1] a = ids
    cdef const int64_t[::1] off = offsets
    cdef const int32_t[::1] m = mapping
    cdef Py_ssize_t n = a.shape[0], n_sent = off.shape[0] - 1, s, i, k = 0
    out_np = np.empty(n, dtype=np.int32)
    new_off_np = np.empty(n_sent + 1, dtype=np.int64)
    cdef int32_t[::1] out = out_np
    cdef int64_t[::1] new_off = new_off_np
    cdef int32_t v
    with nogil:
        new_off[0] = 0
        for s in range(n_sent):
            for i in range(off[s], off[s + 1]):
                v = m[a[i]]
                out[k] = v          # k <= i: written, and kept only if v >= 0
                k += v >= 0
            new_off[s + 1] = k
    return (out_np if k == n else out_np[:k].copy()), new_off_np
