"""Pure-Python twins of the compiled kernels in ``_kernels_c.pyx``.

Same names, signatures, docstrings and output dtypes as the compiled module; a test checks it. These are
the fallback users really run when no compiler was available, so they are written to be reasonable pure
Python (dict counting, no V x V structure), not a transcription of the C loops.

Floating-point sums are accumulated left to right in column order, exactly like the compiled loops (and
like the reference script on Python 3.11), so both backends give bit-identical floats.

Inputs are trusted: ``cooc._kernels`` validates them before either twin runs.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter

import numpy as np

from .text import _SEPARATORS

__all__ = ["cooccurrence_csr", "normalize_rows_l2", "topk_cosine", "cosine_dense", "WordTable", "csr_add",
           "topk_cosine_sparse", "row_norms", "ppmi_csr",
           "topk_cosine_sparse_many", "topk_cosine_rows", "csr_matmat", "remap_ids"]


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
    ids_list = ids.tolist()
    bounds = offsets.tolist()
    pairs = Counter()
    for s in range(len(bounds) - 1):
        sent = ids_list[bounds[s]:bounds[s + 1]]
        for d in range(1, min(window, len(sent) - 1) + 1):
            pairs.update(zip(sent, sent[d:]))
    rows = [None] * n_words
    for (a, b), c in pairs.items():
        ra = rows[a]
        if ra is None:
            ra = rows[a] = {}
        ra[b] = ra.get(b, 0) + c
        rb = rows[b]
        if rb is None:
            rb = rows[b] = {}
        rb[a] = rb.get(a, 0) + c
    indptr = [0] * (n_words + 1)
    indices = []
    data = []
    for r in range(n_words):
        row = rows[r]
        if row:
            for col in sorted(row):
                indices.append(col)
                data.append(row[col])
        indptr[r + 1] = len(indices)
    return (
        np.array(indptr, dtype=np.int64),
        np.array(indices, dtype=np.int32),
        np.array(data, dtype=np.int64),
    )


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
    del n_threads  # one thread here
    values = [float(x) for x in data.tolist()]
    bounds = indptr.tolist()
    out = [0.0] * len(values)
    for r in range(len(bounds) - 1):
        lo, hi = bounds[r], bounds[r + 1]
        sq = 0.0
        for k in range(lo, hi):
            x = values[k]
            sq += x * x
        norm = math.sqrt(sq)
        if norm > 0.0:
            for k in range(lo, hi):
                out[k] = values[k] / norm
    return np.array(out, dtype=np.float64)


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
    q = query.tolist()
    qsq = 0.0
    for x in q:
        qsq += x * x
    qnorm = math.sqrt(qsq)
    bounds = indptr.tolist()
    cols = indices.tolist()
    vals = data.tolist()
    sims = []
    for r in range(len(bounds) - 1):
        if r == exclude:
            continue
        dot = 0.0
        sq = 0.0
        for j in range(bounds[r], bounds[r + 1]):
            v = vals[j]
            dot += v * q[cols[j]]
            sq += v * v
        rnorm = math.sqrt(sq)
        if qnorm == 0.0 or rnorm == 0.0:
            sims.append((0.0, r))
        else:
            sims.append((dot / (qnorm * rnorm), r))
    best = heapq.nsmallest(k, sims, key=lambda t: (-t[0], t[1]))
    return (
        np.array([r for _, r in best], dtype=np.int64),
        np.array([s for s, _ in best], dtype=np.float64),
    )


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


class WordTable:
    """A growing vocabulary that turns text into word ids, for corpora read in chunks.

    Each call to :meth:`encode` lowercases a chunk of lines (``str.lower``), splits it into maximal runs
    of alphabetic characters (``str.isalpha``) and gives every new word the next id, in order of first
    appearance; every ``"\\n"`` ends a line, and each line is one sentence. Frequencies accumulate over
    calls. One table must not be used by two threads at once; use one table per thread.
    """

    def __init__(self):
        self._index = {}
        self._freq = []

    def __len__(self):
        return len(self._index)

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
        index = self._index
        freq = self._freq
        ids = []
        offsets = [0]
        for line in text.lower().split("\n"):
            for tok in line.translate(_SEPARATORS).split():
                k = index.get(tok)
                if k is None:
                    k = index[tok] = len(index)
                    freq.append(0)
                freq[k] += 1
                ids.append(k)
            offsets.append(len(ids))
        return np.array(ids, dtype=np.int32), np.array(offsets, dtype=np.int64)

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
        other = other_table
        if other is self:
            raise ValueError("a WordTable cannot merge itself")
        index = self._index
        freq = self._freq
        out = np.empty(len(other._index), dtype=np.int32)
        for k, (word, f) in enumerate(zip(other._index, other._freq)):
            i = index.get(word)
            if i is None:
                i = index[word] = len(index)
                freq.append(0)
            freq[i] += f
            out[k] = i
        return out

    def prefix_keys(self):
        """Each word's first 8 bytes of UTF-8 as a big-endian integer, zero-padded.

        The keys of two words are in the words' (code point) order wherever they differ; equal keys
        mean a shared 8-byte prefix.

        Returns
        -------
        uint64 array, shape (len(self),)
        """
        return np.array([int.from_bytes(w.encode("utf-8")[:8].ljust(8, b"\0"), "big") for w in self._index],
                        dtype=np.uint64)

    def words(self, ids=None):
        """The words of the table, ``words()[k]`` having id ``k`` (list of str); with ``ids`` (ints in
        ``[0, len(self))``), the words of those ids, in that order."""
        words = list(self._index)
        if ids is None:
            return words
        sel = np.asarray(ids, dtype=np.int64)
        if sel.ndim != 1:
            raise ValueError(f"ids must be one-dimensional, got shape {sel.shape}")
        out = []
        for k in sel.tolist():
            if k < 0 or k >= len(words):
                raise IndexError(f"word id {k} out of range for a table of {len(words)} words")
            out.append(words[k])
        return out

    def counts(self):
        """How often each word was seen over all :meth:`encode` calls (int64 array, shape (len(self),))."""
        return np.array(self._freq, dtype=np.int64)


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
    pa, ia, da = indptr_a.tolist(), indices_a.tolist(), data_a.tolist()
    pb, ib, db = indptr_b.tolist(), indices_b.tolist(), data_b.tolist()
    indptr = [0]
    indices = []
    data = []
    for r in range(len(pa) - 1):
        row = dict(zip(ia[pa[r]:pa[r + 1]], da[pa[r]:pa[r + 1]]))
        for c, v in zip(ib[pb[r]:pb[r + 1]], db[pb[r]:pb[r + 1]]):
            row[c] = row.get(c, 0) + v
        for c in sorted(row):
            indices.append(c)
            data.append(row[c])
        indptr.append(len(indices))
    return (
        np.array(indptr, dtype=np.int64),
        np.array(indices, dtype=np.int32),
        np.array(data, dtype=np.int64),
    )


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
    tp, ti, td = t_indptr.tolist(), t_indices.tolist(), t_data.tolist()
    norms = row_norms.tolist()
    q = list(zip(q_indices.tolist(), q_data.tolist()))
    qsq = 0.0
    for _, v in q:
        qsq += v * v
    qnorm = math.sqrt(qsq)
    acc = {}
    for c, qc in q:
        for j in range(tp[c], tp[c + 1]):
            r = ti[j]
            acc[r] = acc.get(r, 0.0) + td[j] * qc
    def score(r):
        if qnorm == 0.0 or norms[r] == 0.0:
            return 0.0
        return acc.get(r, 0.0) / (qnorm * norms[r])
    rows = (r for r in range(len(norms)) if r != exclude)
    best = heapq.nsmallest(k, ((score(r), r) for r in rows), key=lambda t: (-t[0], t[1]))
    return (
        np.array([r for _, r in best], dtype=np.int64),
        np.array([s for s, _ in best], dtype=np.float64),
    )



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
    del n_threads, dense_cols, dense, screen  # one thread here; the copies give the same results
    qp, ex = q_indptr.tolist(), exclude.tolist()
    n_queries, kk = len(qp) - 1, int(k)
    rows = np.zeros((n_queries, kk), dtype=np.int64)
    sims = np.zeros((n_queries, kk), dtype=np.float64)
    found = np.zeros(n_queries, dtype=np.int64)
    for b in range(n_queries):
        r, v = topk_cosine_sparse(t_indptr, t_indices, t_data, row_norms, q_indices[qp[b]:qp[b + 1]],
                                  q_data[qp[b]:qp[b + 1]], kk, ex[b])
        found[b] = r.size
        rows[b, :r.size] = r
        sims[b, :r.size] = v
    return rows, sims, found

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
    # the rows as CSR with every cell stored: a stored zero adds nothing to a sum
    n_rows, dim = vectors.shape
    indptr = np.arange(n_rows + 1, dtype=np.int64) * dim
    indices = np.tile(np.arange(dim, dtype=np.int32), n_rows)
    return topk_cosine(indptr, indices, vectors.ravel(), query, k, exclude)

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
    n_rows = indptr.size - 1
    out = np.zeros((n_rows, x.shape[1]), dtype=np.float32)
    if n_rows == 0:
        return out
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
    new = mapping[ids]
    kept = new >= 0
    before = np.concatenate(([0], np.cumsum(kept, dtype=np.int64)))
    return new[kept].astype(np.int32), before[offsets].astype(np.int64)
