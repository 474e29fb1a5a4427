# Shared inline helpers of the compiled kernels: a heap of the k best (similarity, row) candidates.

from libc.stdint cimport int64_t


cdef inline bint _worse(double s1, Py_ssize_t r1, double s2, Py_ssize_t r2) noexcept nogil:
    # True when (s1, r1) ranks below (s2, r2): lower similarity, or equal and a higher row index.
    return s1 < s2 or (s1 == s2 and r1 > r2)


cdef inline void _sift_down(double* hs, int64_t* hr, Py_ssize_t n, Py_ssize_t i) noexcept nogil:
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


cdef inline Py_ssize_t _heap_offer(double* hs, int64_t* hr, Py_ssize_t n, Py_ssize_t kk, double sim,
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


cdef inline void _heap_sort(double* hs, int64_t* hr, Py_ssize_t n) noexcept nogil:
    """Order the heap best first, in place, by moving the worst to the end repeatedly."""
    cdef Py_ssize_t i = n
    cdef double ts
    cdef int64_t tr
    while i > 1:
        i -= 1
        ts = hs[0]; hs[0] = hs[i]; hs[i] = ts
        tr = hr[0]; hr[0] = hr[i]; hr[i] = tr
        _sift_down(hs, hr, i, 0)

