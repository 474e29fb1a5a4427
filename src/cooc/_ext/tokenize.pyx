"""Compiled tokenizing kernels: the word table that turns text into ids, and re-mapping ids.

Twins of ``cooc._pure.tokenize`` (same names, signatures, docstrings and output dtypes). Inputs are
trusted: ``cooc._backend`` validates them first.
"""

import numpy as np
cimport cython
from libc.stdlib cimport malloc, calloc, free, realloc
from libc.string cimport memset, memcpy
from libc.stdint cimport int32_t, int64_t, uint64_t

__all__ = ["WordTable", "remap_ids"]

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
