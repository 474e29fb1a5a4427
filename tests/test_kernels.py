"""The validated kernels of ``cooc._backend`` and ``cooc.neighbors``, on both backends, against independent
computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cooc import _backend, neighbors
from oracle import alpha_runs, cooccurrence_counts, csr_to_dict, split_sentences

# --------------------------------------------------------------------------------------------------
# helpers


def topk_cosine(indptr, indices, data, query, k, exclude=-1):
    """Top-k rows of a CSR matrix for a dense query, through the active backend's kernel (the
    matrix's transpose queried with the query's non-zeros): ``(rows, sims)``."""
    q = np.asarray(query, dtype=np.float64)
    m = sp.csr_matrix((np.asarray(data, dtype=np.float64), np.asarray(indices), np.asarray(indptr)),
                      shape=(len(indptr) - 1, q.size))
    t = sp.csr_matrix(m.T)
    t.sort_indices()
    cols = np.flatnonzero(q)
    rows, sims, found = neighbors.topk_cosine_sparse_many(
        t.indptr, t.indices, t.data, _backend.row_norms(m.indptr, m.data), [0, cols.size], cols, q[cols], k,
        exclude,
    )
    return rows[0, : found[0]], sims[0, : found[0]]


def random_corpus(seed: int, n_words: int, n_sentences: int | None = None, max_len: int = 60):
    """Seeded random corpus: flat int64 ids and sentence offsets, with empty sentences mixed in.

    Half the tokens follow a heavy-tailed (Zipf) law over a random permutation of the vocabulary, so
    some words repeat often (diagonal cells, long rows); the others are uniform over the vocabulary.
    """
    rng = np.random.default_rng(seed)
    if n_sentences is None:
        n_sentences = int(rng.integers(0, 80))
    lengths = rng.integers(0, max_len + 1, size=n_sentences)
    lengths[rng.random(n_sentences) < 0.15] = 0  # plenty of empty sentences
    total = int(lengths.sum())
    perm = rng.permutation(n_words)
    zipf = np.minimum(rng.zipf(1.4, size=total) - 1, n_words - 1)
    uniform = rng.integers(0, n_words, size=total)
    ids = np.where(rng.random(total) < 0.5, perm[zipf], uniform).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return ids, offsets


def check_csr(indptr, indices, data, n_words):
    """Structure every count matrix must have: dtypes, shapes, sorted rows, symmetry, no stored 0."""
    assert indptr.dtype == np.int64
    assert indices.dtype == np.int32
    assert data.dtype == np.int64
    assert indptr.shape == (n_words + 1,)
    assert indptr[0] == 0
    assert np.all(np.diff(indptr) >= 0)
    assert indptr[-1] == indices.size == data.size
    if indices.size:
        assert indices.min() >= 0 and indices.max() < n_words
        assert data.min() > 0, "explicit zeros stored"
    for r in range(n_words):
        row = indices[indptr[r]:indptr[r + 1]]
        assert np.all(np.diff(row) > 0), f"row {r} not strictly sorted: {row}"
    m = sp.csr_matrix((data, indices, indptr), shape=(n_words, n_words))
    assert (m != m.T).nnz == 0, "matrix is not symmetric"


def assert_same_arrays(results: dict, reference: tuple):
    for name, arrays in results.items():
        assert len(arrays) == len(reference)
        for got, want in zip(arrays, reference):
            assert got.dtype == want.dtype, name
            np.testing.assert_array_equal(got, want, err_msg=f"backend {name}")


# --------------------------------------------------------------------------------------------------
# counting: parity with the oracle and across backends

VOCAB_SIZES = [1, 2, 3, 5, 17, 100, 1000, 5000]
PARITY_CASES = [
    (seed, VOCAB_SIZES[seed % len(VOCAB_SIZES)], 1 + seed % 6) for seed in range(24)
]


@pytest.mark.parametrize(("seed", "n_words", "window"), PARITY_CASES)
def test_counts_equal_oracle_and_across_backends(backend, across_backends, seed, n_words, window):
    ids, offsets = random_corpus(seed, n_words)
    out = _backend.cooccurrence_csr(ids, offsets, n_words, window)
    check_csr(*out, n_words)
    expected = cooccurrence_counts(split_sentences(ids, offsets), window)
    assert csr_to_dict(*out) == expected
    assert int(out[2].sum()) == sum(expected.values())
    assert_same_arrays(across_backends(_backend.cooccurrence_csr, ids, offsets, n_words, window), out)


@pytest.mark.parametrize("seed", [100, 101, 102])
def test_counts_wide_rows(backend, across_backends, seed):
    """Rows with many distinct neighbours (the compiled kernel sorts long rows differently)."""
    n_words = 3000
    rng = np.random.default_rng(seed)
    ids, offsets = random_corpus(seed, n_words, n_sentences=120)
    hubs = rng.integers(0, n_words, size=3)
    ids[rng.random(ids.size) < 0.2] = rng.choice(hubs)  # a few hubs see most of the vocabulary
    window = 6
    out = _backend.cooccurrence_csr(ids, offsets, n_words, window)
    check_csr(*out, n_words)
    assert np.diff(out[0]).max() >= 300, "test corpus should have wide rows"
    assert csr_to_dict(*out) == cooccurrence_counts(split_sentences(ids, offsets), window)
    assert_same_arrays(across_backends(_backend.cooccurrence_csr, ids, offsets, n_words, window), out)


def test_counts_large_ids(backend, across_backends):
    """Word ids above 2**22 in a wide row (all digits of a 32-bit id matter when sorting)."""
    n_words = (1 << 22) + 5000
    rng = np.random.default_rng(7)
    hub = 3
    others = rng.choice(np.arange(n_words - 5000, n_words), size=200, replace=False)
    others = np.concatenate([others, rng.integers(0, 5000, size=60)])
    sent = []
    for w in others:
        sent.extend([hub, int(w)])
    ids = np.array(sent, dtype=np.int64)
    offsets = np.array([0, 100, 100, ids.size], dtype=np.int64)
    out = _backend.cooccurrence_csr(ids, offsets, n_words, 2)
    indptr, indices, data = out
    assert indptr.shape == (n_words + 1,)
    assert np.diff(indptr).max() >= 200
    for r in np.flatnonzero(np.diff(indptr)):
        row = indices[indptr[r]:indptr[r + 1]]
        assert np.all(np.diff(row) > 0)
    assert csr_to_dict(*out) == cooccurrence_counts(split_sentences(ids, offsets), 2)
    assert_same_arrays(across_backends(_backend.cooccurrence_csr, ids, offsets, n_words, 2), out)


@pytest.mark.parametrize("window", [61, 1000, 10**12])
def test_window_longer_than_every_sentence(backend, window):
    ids, offsets = random_corpus(5, 40)
    longest = int(np.diff(offsets).max())
    assert longest <= 60 < window
    out = _backend.cooccurrence_csr(ids, offsets, 40, window)
    clamped = _backend.cooccurrence_csr(ids, offsets, 40, longest)
    assert_same_arrays({"clamped": clamped}, out)
    assert csr_to_dict(*out) == cooccurrence_counts(split_sentences(ids, offsets), window)


def test_empty_inputs(backend):
    # no sentences at all
    indptr, indices, data = _backend.cooccurrence_csr([], [0], 4, 3)
    check_csr(indptr, indices, data, 4)
    assert indices.size == 0 and np.all(indptr == 0)
    # only empty sentences, and a vocabulary of zero words
    indptr, indices, data = _backend.cooccurrence_csr(np.array([], np.int64), [0, 0, 0], 0, 1)
    check_csr(indptr, indices, data, 0)
    assert indptr.tolist() == [0]


def test_one_word_sentences_give_zero_rows(backend):
    ids = [0, 1, 2, 1]
    offsets = [0, 1, 2, 3, 4]
    indptr, indices, data = _backend.cooccurrence_csr(ids, offsets, 3, 5)
    check_csr(indptr, indices, data, 3)
    assert data.size == 0


@pytest.mark.parametrize(
    ("tokens", "window", "diagonal"),
    [([0, 0], 1, 2), ([0, 0, 0], 2, 6), ([0, 0, 0], 1, 4), ([0, 0, 0, 0], 10, 12)],
)
def test_repeated_word_diagonal(backend, tokens, window, diagonal):
    expected = cooccurrence_counts([tokens], window)
    assert expected == {(0, 0): diagonal}  # the oracle agrees with the spec's worked examples
    indptr, indices, data = _backend.cooccurrence_csr(tokens, [0, len(tokens)], 1, window)
    assert indptr.tolist() == [0, 1]
    assert indices.tolist() == [0]
    assert data.tolist() == [diagonal]


def test_windows_stop_at_sentence_end(backend):
    # "0 1 | 2 3": nothing links 1 and 2
    out = _backend.cooccurrence_csr([0, 1, 2, 3], [0, 2, 4], 4, 6)
    assert csr_to_dict(*out) == {(0, 1): 1, (1, 0): 1, (2, 3): 1, (3, 2): 1}


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint16, np.uint64, list])
def test_input_dtypes_accepted(backend, dtype):
    ids_ref, offsets = random_corpus(11, 100, n_sentences=20)
    ids = ids_ref.tolist() if dtype is list else ids_ref.astype(dtype)
    out = _backend.cooccurrence_csr(ids, offsets.tolist(), 100, 3)
    check_csr(*out, 100)
    assert csr_to_dict(*out) == cooccurrence_counts(split_sentences(ids_ref, offsets), 3)


# hypothesis: both backends agree with the oracle on small random corpora


@st.composite
def small_corpora(draw):
    n_words = draw(st.integers(1, 12))
    sentences = draw(st.lists(st.lists(st.integers(0, n_words - 1), max_size=15), max_size=8))
    window = draw(st.integers(1, 8))
    return n_words, sentences, window


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(corpus=small_corpora())
def test_property_counts_equal_oracle(backend, across_backends, corpus):
    n_words, sentences, window = corpus
    ids = [t for s in sentences for t in s]
    offsets = [0]
    for s in sentences:
        offsets.append(offsets[-1] + len(s))
    out = _backend.cooccurrence_csr(ids, offsets, n_words, window)
    check_csr(*out, n_words)
    assert csr_to_dict(*out) == cooccurrence_counts(sentences, window)
    assert_same_arrays(across_backends(_backend.cooccurrence_csr, ids, offsets, n_words, window), out)


# --------------------------------------------------------------------------------------------------
# row L2 normalization


def numpy_normalize(indptr, data):
    out = np.zeros(len(data), dtype=np.float64)
    vals = np.asarray(data, dtype=np.float64)
    for r in range(len(indptr) - 1):
        seg = vals[indptr[r]:indptr[r + 1]]
        norm = np.linalg.norm(seg)
        if norm > 0:
            out[indptr[r]:indptr[r + 1]] = seg / norm
    return out


def random_csr_values(seed: int, integer: bool):
    rng = np.random.default_rng(seed)
    n_rows = int(rng.integers(1, 60))
    lengths = rng.integers(0, 12, size=n_rows)
    lengths[rng.random(n_rows) < 0.2] = 0  # empty rows
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    nnz = int(indptr[-1])
    if integer:
        data = rng.integers(1, 10**6, size=nnz).astype(np.int64)
    else:
        data = rng.normal(size=nnz) * 10.0 ** rng.integers(-3, 4, size=nnz)
    # rows holding only stored zeros: their norm is 0, they must stay zero
    zero_rows = [r for r in range(n_rows) if lengths[r] > 0 and rng.random() < 0.2]
    for r in zero_rows:
        data[indptr[r]:indptr[r + 1]] = 0
    return indptr, data, zero_rows


@pytest.mark.parametrize("integer", [True, False], ids=["int64", "float64"])
@pytest.mark.parametrize("seed", range(5))
def test_normalize_matches_numpy_and_is_bit_identical(backend, across_backends, seed, integer):
    indptr, data, zero_rows = random_csr_values(seed, integer)
    out = _backend.normalize_rows_l2(indptr, data)
    assert out.dtype == np.float64
    assert out.shape == data.shape
    np.testing.assert_allclose(out, numpy_normalize(indptr, data), rtol=1e-13, atol=0)
    for r in range(len(indptr) - 1):
        seg = out[indptr[r]:indptr[r + 1]]
        if r in zero_rows or seg.size == 0:
            assert np.all(seg == 0.0) and not np.any(np.isnan(seg))
        else:
            assert math.isclose(float(np.linalg.norm(seg)), 1.0, rel_tol=1e-12)
    for name, other in across_backends(_backend.normalize_rows_l2, indptr, data).items():
        assert other.dtype == np.float64
        assert other.tobytes() == out.tobytes(), f"{name} differs bitwise"


def test_normalize_zero_rows_stay_zero(backend):
    indptr = np.array([0, 0, 2, 2, 3], dtype=np.int64)
    out = _backend.normalize_rows_l2(indptr, np.array([0, 0, 5], dtype=np.int64))
    assert out.tolist() == [0.0, 0.0, 1.0]
    out = _backend.normalize_rows_l2(indptr, np.array([0.0, -0.0, -2.0]))
    assert out.tolist() == [0.0, 0.0, -1.0]
    assert _backend.normalize_rows_l2([0, 0, 0], np.array([], dtype=np.int64)).size == 0


def test_normalize_int64_counts_above_2_to_32(backend, across_backends):
    big = [2**33, 3 * 2**33, 2**40 + 12345, 5 * 10**12 + 1, 7, 2**62 + 2**40]
    indptr = np.array([0, 2, 4, 5, 6], dtype=np.int64)
    data = np.array(big, dtype=np.int64)
    out = _backend.normalize_rows_l2(indptr, data)
    expected = []
    for r in range(4):
        seg = [float(v) for v in big[indptr[r]:indptr[r + 1]]]
        norm = math.sqrt(sum(x * x for x in seg))
        expected.extend(x / norm for x in seg)
    np.testing.assert_allclose(out, expected, rtol=1e-15)
    np.testing.assert_allclose(out[:2], [1 / math.sqrt(10), 3 / math.sqrt(10)], rtol=1e-15)
    assert out[4] == 1.0 and out[5] == 1.0
    for other in across_backends(_backend.normalize_rows_l2, indptr, data).values():
        assert other.tobytes() == out.tobytes()


# --------------------------------------------------------------------------------------------------
# top-k cosine


def brute_topk(dense: np.ndarray, query: np.ndarray, k: int, exclude: int):
    """Rank every row by cosine with the query, descending, ties to the lower row index."""
    qn = math.sqrt(float(query @ query))
    rn = np.sqrt((dense * dense).sum(axis=1))
    dots = dense @ query
    with np.errstate(divide="ignore", invalid="ignore"):
        sims = np.where((rn == 0) | (qn == 0), 0.0, dots / (qn * rn))
    rows = np.arange(dense.shape[0])
    keep = rows != exclude
    rows, sims = rows[keep], sims[keep]
    order = np.lexsort((rows, -sims))  # primary: -sim; secondary: row index
    return rows[order][:k], sims[order][:k]


def tied_matrix(seed: int):
    """Small-integer rows with deliberate exact ties: duplicates, power-of-two multiples, zero rows.

    With small integers every sum is exact, so both the kernel and numpy compute bit-identical
    cosines and the tie-breaking rule decides the order alone.
    """
    rng = np.random.default_rng(seed)
    n_cols = 10
    base = rng.integers(-2, 3, size=(6, n_cols)).astype(np.float64)
    base[rng.random(base.shape) < 0.4] = 0.0
    rows = list(base)
    for _ in range(8):
        src = base[rng.integers(0, len(base))]
        rows.append(src * (2.0 ** int(rng.integers(0, 3))))  # exact tie with src
    rows.append(np.zeros(n_cols))
    rows.append(np.zeros(n_cols))
    rng.shuffle(rows)
    dense = np.array(rows)
    query = rng.integers(-2, 3, size=n_cols).astype(np.float64)
    if seed % 3 == 0:
        query = dense[int(rng.integers(0, len(dense)))].copy()  # a row identical to the query
    return dense, query


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 3, 7, 15, 16, 100])
@pytest.mark.parametrize("exclude", [-1, 0, 5, 15])
def test_topk_exact_ties_match_brute_force(backend, across_backends, seed, k, exclude):
    dense, query = tied_matrix(seed)
    m = sp.csr_matrix(dense)
    m.sort_indices()
    rows, sims = topk_cosine(m.indptr, m.indices, m.data, query, k, exclude)
    want_rows, want_sims = brute_topk(dense, query, k, exclude)
    assert rows.dtype == np.int64 and sims.dtype == np.float64
    assert rows.tolist() == want_rows.tolist()
    np.testing.assert_array_equal(sims, want_sims)
    assert exclude not in rows.tolist()
    # ties really happen within the full ranking
    _, all_sims = brute_topk(dense, query, len(dense), -1)
    assert len(set(all_sims.tolist())) < len(all_sims)
    for name, (r2, s2) in across_backends(
        topk_cosine, m.indptr, m.indices, m.data, query, k, exclude
    ).items():
        assert r2.tolist() == rows.tolist(), name
        assert s2.tobytes() == sims.tobytes(), name


@pytest.mark.parametrize("exclude", [16, 99, -2])
def test_topk_exclude_out_of_range_is_refused(backend, exclude):
    dense, query = tied_matrix(0)
    m = sp.csr_matrix(dense)
    with pytest.raises(ValueError, match="exclude"):
        topk_cosine(m.indptr, m.indices, m.data, query, 3, exclude)


@pytest.mark.parametrize("seed", range(8))
def test_topk_random_floats(backend, seed):
    rng = np.random.default_rng(seed)
    n_rows, n_cols = int(rng.integers(1, 80)), int(rng.integers(1, 40))
    dense = rng.normal(size=(n_rows, n_cols))
    dense[rng.random(dense.shape) < 0.7] = 0.0
    query = rng.normal(size=n_cols)
    k = int(rng.integers(0, n_rows + 3))
    exclude = int(rng.integers(-1, n_rows))
    m = sp.csr_matrix(dense)
    rows, sims = topk_cosine(m.indptr, m.indices, m.data, query, k, exclude)
    candidates = n_rows - (exclude >= 0)
    assert rows.size == sims.size == min(k, candidates)
    _, all_sims = brute_topk(dense, query, n_rows, -1)
    by_row = np.empty(n_rows)
    by_row[brute_topk(dense, query, n_rows, -1)[0]] = all_sims
    np.testing.assert_allclose(sims, by_row[rows], rtol=1e-12, atol=1e-15)
    assert np.all(np.diff(sims) <= 0)
    assert len(set(rows.tolist())) == rows.size and exclude not in rows.tolist()
    rest = np.setdiff1d(np.arange(n_rows), np.append(rows, exclude))
    if rows.size and rest.size:
        assert sims.min() >= by_row[rest].max() - 1e-12


def test_topk_k_zero_and_k_larger_than_candidates(backend):
    dense, query = tied_matrix(1)
    m = sp.csr_matrix(dense)
    rows, sims = topk_cosine(m.indptr, m.indices, m.data, query, 0, -1)
    assert rows.shape == (0,) and sims.shape == (0,)
    assert rows.dtype == np.int64 and sims.dtype == np.float64
    n = dense.shape[0]
    rows, sims = topk_cosine(m.indptr, m.indices, m.data, query, 10**9, 2)
    assert sorted(rows.tolist()) == [r for r in range(n) if r != 2]
    rows, sims = topk_cosine(m.indptr, m.indices, m.data, query, 10**9, -1)
    assert sorted(rows.tolist()) == list(range(n))


def test_topk_zero_query_gives_zeros_in_index_order(backend):
    dense, _ = tied_matrix(2)
    m = sp.csr_matrix(dense)
    rows, sims = topk_cosine(m.indptr, m.indices, m.data, np.zeros(dense.shape[1]), 4, 1)
    assert rows.tolist() == [0, 2, 3, 4]
    assert sims.tolist() == [0.0] * 4


def test_topk_empty_matrix(backend):
    rows, sims = topk_cosine([0], np.array([], np.int32), np.array([]), [1.0, 2.0], 5, -1)
    assert rows.size == 0 and sims.size == 0


# --------------------------------------------------------------------------------------------------
# dense cosine


def test_cosine_dense_zero_vector_is_zero_not_nan(backend):
    z = np.zeros(5)
    v = np.arange(5.0)
    for a, b in [(z, v), (v, z), (z, z)]:
        c = _backend.cosine_dense(a, b)
        assert c == 0.0 and not math.isnan(c)
        assert type(c) is float
    assert _backend.cosine_dense([], []) == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_cosine_dense_matches_numpy(backend, across_backends, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 200))
    a, b = rng.normal(size=n), rng.normal(size=n)
    c = _backend.cosine_dense(a, b)
    assert type(c) is float
    assert math.isclose(c, float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))), rel_tol=1e-11)
    assert math.isclose(_backend.cosine_dense(a, 3.0 * a), 1.0, rel_tol=1e-14)
    assert math.isclose(_backend.cosine_dense(a, -a), -1.0, rel_tol=1e-14)
    for value in across_backends(_backend.cosine_dense, a, b).values():
        assert value == c  # bit-identical across backends


# --------------------------------------------------------------------------------------------------
# the word table (tokenizer kernel) and the CSR sum kernel


def reference_encode(chunks: list[str]):
    """Per chunk: lowercase, split lines at "\\n", isalpha runs; ids by first appearance overall."""
    index: dict[str, int] = {}
    freq: dict[str, int] = {}
    results = []
    for chunk in chunks:
        ids, offsets = [], [0]
        for line in chunk.lower().split("\n"):
            for tok in alpha_runs(line):
                index.setdefault(tok, len(index))
                freq[tok] = freq.get(tok, 0) + 1
                ids.append(index[tok])
            offsets.append(len(ids))
        results.append((ids, offsets))
    words = sorted(index, key=index.__getitem__)
    return results, words, [freq[w] for w in words]


CHUNK_ALPHABET = list("abcxyzİıßẞΣσς²3٣\u0301\u0307中文é \t\r\n\n,.-'")
chunks_strategy = st.lists(
    st.text(alphabet=st.one_of(st.sampled_from(CHUNK_ALPHABET), st.characters()), max_size=40), max_size=5
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=chunks_strategy)
def test_word_table_matches_reference_tokenizer(backend, chunks):
    table = _backend.new_word_table()
    expected, words, counts = reference_encode(chunks)
    for chunk, (want_ids, want_offsets) in zip(chunks, expected):
        ids, offsets = table.encode(chunk)
        assert ids.dtype == np.int32 and offsets.dtype == np.int64
        assert ids.tolist() == want_ids
        assert offsets.tolist() == want_offsets
    assert len(table) == len(words)
    assert table.words() == words
    counts_arr = table.counts()
    assert counts_arr.dtype == np.int64 and counts_arr.tolist() == counts


def test_word_table_long_text(backend):
    """Many distinct words (the table grows) and long lines, against the reference loop."""
    rng = np.random.default_rng(0)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyzäöüß中文"))
    vocab = ["".join(rng.choice(letters, size=int(rng.integers(1, 9)))) for _ in range(5000)]
    lines = [" ".join(rng.choice(vocab, size=int(rng.integers(0, 300)))) for _ in range(60)]
    chunks = ["\n".join(lines[:30]), "\n".join(lines[30:])]
    table = _backend.new_word_table()
    expected, words, counts = reference_encode(chunks)
    for chunk, (want_ids, want_offsets) in zip(chunks, expected):
        ids, offsets = table.encode(chunk)
        assert ids.tolist() == want_ids and offsets.tolist() == want_offsets
    assert table.words() == words and table.counts().tolist() == counts


def random_int_csr(rng, n_rows: int, n_cols: int, big: bool):
    dense = rng.integers(1, 2**40 if big else 50, size=(n_rows, n_cols))
    dense[rng.random((n_rows, n_cols)) < 0.7] = 0
    m = sp.csr_matrix(dense.astype(np.int64))
    m.sort_indices()
    return m


@pytest.mark.parametrize("seed", range(6))
def test_csr_add_equals_scipy(backend, across_backends, seed):
    rng = np.random.default_rng(seed)
    n_rows, n_cols = int(rng.integers(1, 40)), int(rng.integers(1, 40))
    a = random_int_csr(rng, n_rows, n_cols, big=seed % 2 == 1)
    b = random_int_csr(rng, n_rows, n_cols, big=seed % 3 == 0)
    args = (a.indptr, a.indices, a.data, b.indptr, b.indices, b.data)
    indptr, indices, data = out = _backend.csr_add(*args)
    assert (indptr.dtype, indices.dtype, data.dtype) == (np.int64, np.int32, np.int64)
    for r in range(n_rows):
        assert np.all(np.diff(indices[indptr[r]:indptr[r + 1]]) > 0)
    total = a.toarray().astype(object) + b.toarray().astype(object)  # exact integers
    got = sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_cols)).toarray()
    assert got.astype(object).tolist() == total.tolist()
    assert_same_arrays(across_backends(_backend.csr_add, *args), out)


@pytest.mark.parametrize("integer", [True, False], ids=["int64", "float64"])
@pytest.mark.parametrize("threads", [2, 3, 1000])
def test_normalize_threads_give_the_same_bits(backend, integer, threads):
    """Above 65536 values the rows are shared among threads (split by non-zeros); same floats."""
    rng = np.random.default_rng(threads)
    lengths = rng.integers(0, 40, size=9000)
    lengths[:5] = [0, 5000, 0, 1, 20000]   # a few long rows and empty ones around the cuts
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    nnz = int(indptr[-1])
    data = rng.integers(1, 10**6, size=nnz).astype(np.int64) if integer else rng.normal(size=nnz)
    one = _backend.normalize_rows_l2(indptr, data)
    many = _backend.normalize_rows_l2(indptr, data, threads)
    assert nnz > 1 << 16
    assert many.tobytes() == one.tobytes()
    np.testing.assert_allclose(one, numpy_normalize(indptr, data), rtol=1e-13, atol=0)


def test_normalize_refuses_bad_threads():
    with pytest.raises(ValueError, match="n_threads"):
        _backend.normalize_rows_l2(np.array([0, 1], dtype=np.int64), np.array([1], dtype=np.int64), 0)


# ---------------------------------------------------------------------------------------------------
# remap_ids


def _remap_definition(ids, offsets, mapping):
    """Sentence by sentence, in plain Python."""
    out, new_offsets = [], [0]
    for s in range(len(offsets) - 1):
        out.extend(mapping[i] for i in ids[offsets[s]:offsets[s + 1]] if mapping[i] >= 0)
        new_offsets.append(len(out))
    return out, new_offsets


@pytest.mark.parametrize("seed", range(6))
def test_remap_ids_equals_the_definition(backend, across_backends, seed):
    rng = np.random.default_rng(seed)
    n_words = int(rng.integers(1, 50))
    lengths = rng.integers(0, 9, int(rng.integers(0, 30)))
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    ids = rng.integers(0, n_words, int(offsets[-1])).astype(np.int32)
    # drop none, some, or every word
    drop = [0.0, 0.3, 1.0][seed % 3]
    mapping = np.where(rng.random(n_words) < drop, -1, rng.permutation(n_words)).astype(np.int32)
    got_ids, got_offsets = _backend.remap_ids(ids, offsets, mapping)
    want_ids, want_offsets = _remap_definition(ids.tolist(), offsets.tolist(), mapping.tolist())
    assert got_ids.dtype == np.int32 and got_offsets.dtype == np.int64
    assert got_ids.tolist() == want_ids and got_offsets.tolist() == want_offsets
    results = across_backends(lambda: [a.tolist() for a in _backend.remap_ids(ids, offsets, mapping)])
    assert len({repr(r) for r in results.values()}) == 1


@pytest.mark.parametrize(("ids", "offsets", "mapping", "message"), [
    ([0, 3], [0, 2], [0, 1, 2], r"ids must lie in \[0, len\(mapping\)\)"),
    ([0, -1], [0, 2], [0, 1], r"ids must lie"),
    ([0, 1], [0, 1], [0, 1], "offsets must end at len"),
    ([0, 1], [1, 2], [0, 1], "offsets must start at 0"),
    ([0, 1], [0, 2], [[0, 1]], "mapping must be one-dimensional"),
    ([0, 1], [0, 2], [0.5, 1.0], "mapping must hold integers"),
    ([0, 1], [0, 2], [0, 2**40], "mapping must hold int32"),
])
def test_remap_ids_refuses_bad_input(backend, ids, offsets, mapping, message):
    with pytest.raises((ValueError, TypeError), match=message):
        _backend.remap_ids(ids, offsets, mapping)
