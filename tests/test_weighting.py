"""PPMI / SPPMI, distance weighting and SVD (cooc.weighting), and their wiring into pretrain."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

import cooc
from cooc import _backend

_kernels_py = _backend.PURE
from cooc.weighting import distance_weighted_counts, distance_weights, ppmi, svd


def _random_counts(n=40, density=0.2, seed=0):
    rng = np.random.default_rng(seed)
    m = sp.random(n, n, density=density, random_state=rng, format="csr")
    m.data = rng.integers(1, 50, size=m.nnz).astype(np.int64)
    m = (m + m.T).tocsr()
    m.data = m.data.astype(np.int64)
    m.sort_indices()
    return m


def _ppmi_oracle(counts, cds, shift):
    """Dense, straight from the definition."""
    c = counts.toarray().astype(np.float64)
    rows = c.sum(axis=1)
    cols = c.sum(axis=0)
    z = sum(x ** cds for x in cols)
    out = np.zeros_like(c)
    for i in range(c.shape[0]):
        for j in range(c.shape[1]):
            if c[i, j] > 0:
                v = math.log(c[i, j] * z / (rows[i] * cols[j] ** cds)) - math.log(shift)
                out[i, j] = max(v, 0.0)
    return out


@pytest.mark.parametrize("cds,shift", [(1.0, 1.0), (0.75, 1.0), (0.75, 5.0)])
def test_ppmi_equals_the_definition(backend, cds, shift):
    counts = _random_counts()
    got = ppmi(counts, cds=cds, shift=shift)
    assert got.dtype == np.float64 and sp.isspmatrix_csr(got)
    np.testing.assert_allclose(got.toarray(), _ppmi_oracle(counts, cds, shift), rtol=1e-12, atol=1e-12)
    assert np.all(got.data > 0)  # non-positive values are not stored


def test_ppmi_float32_is_the_float64_result_rounded_once(backend):
    counts = _random_counts()
    wide, narrow = ppmi(counts, shift=2.0), ppmi(counts, shift=2.0, dtype="float32")
    assert narrow.dtype == np.float32 and sp.isspmatrix_csr(narrow)
    assert np.array_equal(narrow.indptr, wide.indptr) and np.array_equal(narrow.indices, wide.indices)
    assert narrow.data.tobytes() == wide.data.astype(np.float32).tobytes()


@pytest.mark.parametrize("dtype,error", [(np.int64, ValueError), (np.float16, ValueError), ("nonsense", TypeError)])
def test_ppmi_and_svd_reject_a_dtype_other_than_float32_or_float64(dtype, error):
    with pytest.raises(error, match="dtype must be np.float32 or np.float64"):
        ppmi(_random_counts(), dtype=dtype)
    with pytest.raises(error, match="dtype must be np.float32 or np.float64"):
        svd(ppmi(_random_counts()), 2, dtype=dtype)


def test_sppmi_is_sparser_than_ppmi(backend):
    counts = _random_counts()
    assert ppmi(counts, shift=5.0).nnz < ppmi(counts).nnz < counts.nnz


def test_ppmi_twins_are_bit_identical(compiled_kernels):
    counts = _random_counts(n=80, seed=3)
    args = (
        counts.indptr.astype(np.int64), counts.indices.astype(np.int32), counts.data.astype(np.float64),
        np.asarray(counts.sum(axis=1), dtype=np.float64).ravel(),
        np.asarray(counts.sum(axis=0), dtype=np.float64).ravel() / counts.sum(), 0.25,
    )
    py = _kernels_py.ppmi_csr(*args)
    c = compiled_kernels.ppmi_csr(*args)
    assert [a.dtype for a in c] == [a.dtype for a in py] == [np.int64, np.int32, np.float64]
    for a, b in zip(c, py):
        assert a.tobytes() == b.tobytes()


def test_ppmi_zero_rows_and_empty_matrix(backend):
    m = sp.csr_matrix(np.array([[0, 3, 0], [3, 0, 0], [0, 0, 0]], dtype=np.int64))
    out = ppmi(m, cds=1.0)
    assert out.shape == (3, 3)
    assert out[2].nnz == 0
    assert ppmi(sp.csr_matrix((4, 4), dtype=np.int64)).nnz == 0


@pytest.mark.parametrize(
    "kwargs,match",
    [({"cds": 0.0}, "cds"), ({"cds": 1.5}, "cds"), ({"shift": 0.5}, "shift"), ({"cds": "x"}, "cds")],
)
def test_ppmi_rejects_bad_parameters(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ppmi(_random_counts(), **kwargs)


def test_ppmi_rejects_non_square_and_negative():
    with pytest.raises(ValueError, match="square"):
        ppmi(sp.csr_matrix(np.ones((2, 3))))
    with pytest.raises(ValueError, match="non-negative"):
        ppmi(sp.csr_matrix(np.array([[0.0, -1.0], [-1.0, 0.0]])))
    with pytest.raises(TypeError, match="scipy.sparse"):
        ppmi(np.ones((2, 2)))


def test_ppmi_kernel_validation_is_the_same_on_both_backends(across_backends):
    ptr = np.array([0, 1, 2]); ind = np.array([1, 0]); data = np.array([1.0, 1.0])
    res = across_backends(_backend.ppmi_csr, ptr, ind, data, np.array([1.0, 0.0]), np.array([0.5, 0.5]), 0.0)
    assert len(set(res.values())) == 1
    (kind, msg), = set(res.values())
    assert kind is ValueError and "positive" in msg


# -- distance weighting ------------------------------------------------------------------------


def _weighted_oracle(sentences, n, window, w):
    out = np.zeros((n, n))
    for s in sentences:
        for i in range(len(s)):
            for j in range(len(s)):
                d = abs(i - j)
                if 1 <= d <= window:
                    out[s[i], s[j]] += w(d)
    return out


@pytest.mark.parametrize("distance", ["uniform", "harmonic", "linear"])
def test_distance_weighting_equals_the_pairwise_definition(backend, distance):
    rng = np.random.default_rng(1)
    sentences = [rng.integers(0, 12, size=rng.integers(1, 15)).tolist() for _ in range(30)]
    ids = np.array([x for s in sentences for x in s], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in sentences])]).astype(np.int64)
    window = 4
    weights = {"uniform": lambda d: 1.0, "harmonic": lambda d: 1.0 / d, "linear": lambda d: (window - d + 1) / window}
    got = distance_weighted_counts(ids, offsets, 12, window, distance)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got.toarray(), _weighted_oracle(sentences, 12, window, weights[distance]),
                               rtol=1e-12, atol=1e-12)


def test_distance_weights_and_errors():
    np.testing.assert_allclose(distance_weights(3, "harmonic"), [1, 0.5, 1 / 3])
    np.testing.assert_allclose(distance_weights(3, "linear"), [1, 2 / 3, 1 / 3])
    with pytest.raises(ValueError, match="distance"):
        distance_weights(3, "gaussian")


# -- SVD ---------------------------------------------------------------------------------------


def _low_rank(n=700, rank=40, seed=0):
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((n, rank)))
    s = np.geomspace(100, 1, rank)
    m = (u * s) @ u.T
    return m, u, s


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
def test_svd_recovers_the_top_components(p, backend):
    m, u, s = _low_rank()
    got = svd(sp.csr_matrix(m), 10, p=p)  # 700 > 500: the randomized path
    assert got.shape == (700, 10) and got.dtype == np.float64
    want = u[:, :10] * s[:10] ** p
    # equal up to the sign of each component
    signs = np.sign(np.sum(got * want, axis=0))
    np.testing.assert_allclose(got * signs, want, atol=1e-3 * max(1.0, s[0] ** p))


def test_svd_small_matrix_is_exact_and_deterministic():
    m, u, s = _low_rank(n=60, rank=8)
    a = svd(m, 5, p=1.0)
    b = svd(m, 5, p=1.0)
    assert np.array_equal(a, b)
    np.testing.assert_allclose(np.abs(a), np.abs(u[:, :5] * s[:5]), atol=1e-8)


def test_svd_rejects_bad_dim():
    with pytest.raises(ValueError, match="dim"):
        svd(np.eye(3), 0)
    with pytest.raises(ValueError, match="dim"):
        svd(np.eye(3), 4)


def test_svd_rejects_bad_n_jobs():
    with pytest.raises(ValueError, match="n_jobs"):
        svd(np.eye(3), 1, n_jobs=0)


def _matches(got, want, tol):
    signs = np.sign(np.sum(got * want, axis=0))
    return np.max(np.abs(got * signs - want)) <= tol


def test_svd_steep_spectrum_orthonormalizes_after_every_product(backend):
    # singular values 1e5 .. 1e-3: the block's condition grows ~1e4 per product, beyond float32 for two
    m, u, s = _low_rank(n=600, rank=60)
    s = np.geomspace(1e5, 1e-3, 60)
    m = (u * s) @ u.T
    got = svd(sp.csr_matrix(m), 5, p=1.0)
    assert _matches(got, u[:, :5] * s[:5], 1e-5 * s[0])


def test_svd_rank_deficient_matrix_gives_zero_components(backend):
    rng = np.random.default_rng(0)
    u, _ = np.linalg.qr(rng.standard_normal((600, 3)))
    s = np.array([5.0, 2.0, 1.0])
    got = svd(sp.csr_matrix((u * s) @ u.T), 5, p=1.0)
    assert got.shape == (600, 5)
    assert _matches(got[:, :3], u * s, 1e-5)
    # the components beyond the rank are zero up to float32 rounding of the products
    assert np.abs(got[:, 3:]).max() <= 1e-6 * s[0]


@pytest.mark.parametrize("shape", [(900, 620), (620, 900)])
def test_svd_rectangular_sparse_and_dense_agree(shape):
    rng = np.random.default_rng(1)
    m = rng.standard_normal(shape) * (rng.random(shape) < 0.05)
    m[:, :4] *= 30.0  # a clear top 4
    want_u, want_s, _ = np.linalg.svd(m, full_matrices=False)
    want = want_u[:, :4] * want_s[:4]
    for got in (svd(sp.csr_matrix(m), 4, p=1.0), svd(m, 4, p=1.0), svd(sp.csr_matrix(m), 4, p=1.0, dtype=np.float64)):
        assert got.shape == (shape[0], 4)
        assert _matches(got, want, 1e-3 * want_s[0])


def test_svd_threads_do_not_change_the_result():
    m, _, _ = _low_rank(n=800, rank=50, seed=2)
    a = svd(sp.csr_matrix(m), 12, n_jobs=1)
    b = svd(sp.csr_matrix(m), 12, n_jobs=3)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-6 * np.abs(a).max())



def _w_plus_c(m, k, p):
    """The definition: rows of U_k S_k^p and V_k S_k^p, each normalized, summed (exact SVD)."""
    u, s, vt = np.linalg.svd(m, full_matrices=False)
    w, c = u[:, :k] * s[:k] ** p, vt[:k].T * s[:k] ** p
    return w / np.linalg.norm(w, axis=1, keepdims=True) + c / np.linalg.norm(c, axis=1, keepdims=True)


def _asymmetric(n, seed=3):
    """A square matrix with a clear top 6 whose left and right singular vectors differ."""
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((n, 6)))
    v, _ = np.linalg.qr(rng.standard_normal((n, 6)))
    return (u * np.array([60.0, 40, 25, 15, 9, 5])) @ v.T + 0.01 * rng.standard_normal((n, n))


@pytest.mark.parametrize("n", [80, 700], ids=["dense-path", "randomized"])
@pytest.mark.parametrize("p", [0.0, 0.5])
def test_svd_add_context_is_normalized_w_plus_normalized_c(backend, n, p):
    m = _asymmetric(n)
    got = svd(sp.csr_matrix(m), 6, p=p, add_context=True)
    want = _w_plus_c(m, 6, p)
    assert got.shape == (n, 6) and got.dtype == np.float64
    # the sign of a component flips in W and C together; W + C is defined up to that sign
    signs = np.sign(np.sum(got * want, axis=0))
    np.testing.assert_allclose(got * signs, want, atol=2e-3)
    # and it is not W alone: the context half changes the vectors
    w_only = svd(sp.csr_matrix(m), 6, p=p)
    w_only /= np.linalg.norm(w_only, axis=1, keepdims=True)
    assert np.max(np.abs(np.abs(got) - np.abs(w_only))) > 0.1


def test_svd_add_context_of_a_symmetric_matrix_doubles_w():
    m, _, _ = _low_rank(n=700, rank=40)  # symmetric positive semi-definite: V = U
    w = svd(sp.csr_matrix(m), 8, p=0.5)
    wc = svd(sp.csr_matrix(m), 8, p=0.5, add_context=True)
    np.testing.assert_allclose(wc, 2 * w / np.linalg.norm(w, axis=1, keepdims=True), atol=1e-4)


def test_svd_add_context_rejects_rectangular_and_non_bool():
    with pytest.raises(ValueError, match="square"):
        svd(np.ones((5, 4)), 2, add_context=True)
    with pytest.raises(TypeError, match="add_context"):
        svd(np.eye(4), 2, add_context="yes")


# -- csr_matmat kernel -------------------------------------------------------------------------


def _matmat_args(n_rows=60, n_cols=45, n_vecs=13, seed=0):
    """Rows of 0..11 stored cells: every count of groups of four and every remainder."""
    rng = np.random.default_rng(seed)
    rows = [np.sort(rng.choice(n_cols, size=r % 12, replace=False)) for r in range(n_rows)]
    ptr = np.zeros(n_rows + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([r.size for r in rows])
    ind = np.concatenate(rows).astype(np.int32)
    data = rng.standard_normal(ind.size).astype(np.float32)
    x = rng.standard_normal((n_cols, n_vecs)).astype(np.float32)
    return ptr, ind, data, x


def test_csr_matmat_twins_are_bit_identical(compiled_kernels):
    args = _matmat_args()
    py = _kernels_py.csr_matmat(*args, np.empty((60, 13), dtype=np.float32))
    assert py.dtype == np.float32 and py.shape == (60, 13)
    c = compiled_kernels.csr_matmat(*args, np.empty((60, 13), dtype=np.float32))
    assert c.dtype == np.float32 and c.tobytes() == py.tobytes()
    previous = _backend.BACKEND
    try:
        for name in ("python", "cython"):
            _backend.set_backend(name)
            for threads in (1, 2, 5):   # rows cut into ranges, run on threads
                c = _backend.csr_matmat(*args, threads)
                assert c.dtype == np.float32 and c.tobytes() == py.tobytes()
    finally:
        _backend.set_backend(previous)


def test_csr_matmat_is_the_product(backend):
    ptr, ind, data, x = _matmat_args(seed=4)
    a = sp.csr_matrix((data.astype(np.float64), ind, ptr), shape=(60, 45))
    got = _backend.csr_matmat(ptr, ind, data, x, n_threads=2)
    np.testing.assert_allclose(got, a @ x.astype(np.float64), rtol=1e-5, atol=1e-5)
    empty = _backend.csr_matmat(np.zeros(4, dtype=np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32), x)
    assert empty.shape == (3, 13) and not np.any(empty)


@pytest.mark.parametrize(
    "change,kind,match",
    [
        ({"indices": np.array([0, 45], dtype=np.int32)}, ValueError, "indices"),
        ({"data": np.ones(2, dtype=np.float64)}, TypeError, "float32"),
        ({"data": np.ones(3, dtype=np.float32)}, ValueError, "same length"),
        ({"x": np.ones((45, 2))}, TypeError, "float32"),
        ({"x": np.ones(45, dtype=np.float32)}, ValueError, "two-dimensional"),
        ({"n_threads": 0}, ValueError, "n_threads"),
    ],
)
def test_csr_matmat_validation_is_the_same_on_both_backends(across_backends, change, kind, match):
    args = {"indptr": np.array([0, 1, 2]), "indices": np.array([0, 44], dtype=np.int32),
            "data": np.ones(2, dtype=np.float32), "x": np.ones((45, 2), dtype=np.float32), "n_threads": 1}
    args.update(change)
    res = across_backends(_backend.csr_matmat, **args)
    assert len(set(res.values())) == 1
    (got_kind, msg), = set(res.values())
    assert got_kind is kind and match in msg


# -- pretrain ----------------------------------------------------------------------------------

CORPUS = [
    "the good food was great and the wine was good",
    "a bad meal and awful wine ruined the night",
    "great food good wine happy guests",
    "awful service bad food sad guests",
    "the film was good and the music was great",
    "the film was bad and the music was awful",
] * 3


def test_pretrain_default_is_raw_counts(backend):
    a = cooc.pretrain(CORPUS)
    b = cooc.pretrain(CORPUS, weighting="count", distance="uniform", dim=None)
    assert (a.vectors != b.vectors).nnz == 0
    assert a.counts.dtype == np.int64


def test_pretrain_ppmi_vectors_are_normalized_ppmi_rows(backend):
    emb = cooc.pretrain(CORPUS, weighting="ppmi", cds=0.75)
    assert emb.counts.dtype == np.int64  # counts stay the integer matrix
    want = ppmi(emb.counts, cds=0.75).toarray()
    norms = np.linalg.norm(want, axis=1, keepdims=True)
    want = np.divide(want, norms, out=np.zeros_like(want), where=norms > 0)
    np.testing.assert_allclose(emb.vectors.toarray(), want, atol=1e-12)
    assert not np.allclose(emb.vectors.toarray(), cooc.pretrain(CORPUS).vectors.toarray())


def test_pretrain_sppmi_default_shift_is_5(backend):
    a = cooc.pretrain(CORPUS, weighting="sppmi")
    b = cooc.pretrain(CORPUS, weighting="ppmi", shift=5)
    assert abs(a.vectors - b.vectors).max() == 0
    assert a.vectors.nnz < cooc.pretrain(CORPUS, weighting="ppmi").vectors.nnz


def test_pretrain_harmonic_distance(backend):
    emb = cooc.pretrain(CORPUS, window=3, distance="harmonic")
    uniform = cooc.pretrain(CORPUS, window=3)
    assert (emb.counts != uniform.counts).nnz == 0
    assert not np.allclose(emb.vectors.toarray(), uniform.vectors.toarray())


def test_pretrain_dim_gives_dense_unit_rows(backend):
    emb = cooc.pretrain(CORPUS, weighting="ppmi", dim=5)
    assert isinstance(emb.vectors, np.ndarray) and emb.vectors.shape == (len(emb), 5)
    assert emb.vectors.dtype == np.float32   # dense vectors are stored as float32
    norms = np.linalg.norm(emb.vectors.astype(np.float64), axis=1)
    assert np.all((np.abs(norms - 1) < 1e-6) | (norms == 0))
    assert emb.most_similar("good", topn=3)


@pytest.mark.parametrize(
    "kwargs,match",
    [({"weighting": "tfidf"}, "weighting"), ({"distance": "cosine"}, "distance"), ({"dim": 0}, "dim"),
     ({"shift": 2}, "shift"), ({"weighting": "ppmi", "cds": 2}, "cds"), ({"p": -1}, "p")],
)
def test_pretrain_rejects_bad_weighting_parameters(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        cooc.pretrain(CORPUS, **kwargs)



def test_pretrain_add_context(backend):
    wc = cooc.pretrain(CORPUS, weighting="ppmi", dim=5, add_context=True)
    w = cooc.pretrain(CORPUS, weighting="ppmi", dim=5)
    assert wc.index_to_key == w.index_to_key and wc.vectors.shape == w.vectors.shape
    norms = np.linalg.norm(wc.vectors.astype(np.float64), axis=1)
    assert np.all((np.abs(norms - 1) < 1e-6) | (norms == 0))
    assert not np.allclose(np.abs(wc.vectors), np.abs(w.vectors), atol=1e-3)
    with pytest.raises(ValueError, match="needs dim"):
        cooc.pretrain(CORPUS, weighting="ppmi", add_context=True)
    with pytest.raises(TypeError, match="add_context"):
        cooc.pretrain(CORPUS, weighting="ppmi", dim=5, add_context=1)


def _random_corpus(n_words=900, n_sentences=3000, seed=0):
    rng = np.random.default_rng(seed)
    words = [f"w{chr(97 + i // 26 % 26)}{chr(97 + i % 26)}{chr(97 + i // 676)}" for i in range(n_words)]
    ranks = np.minimum(rng.zipf(1.2, (n_sentences, 10)) - 1, n_words - 1)
    return [" ".join(words[r] for r in row) for row in ranks]


def test_pretrain_svd_seed_and_jobs():
    """The randomized path (V > 500): the seed chooses the basis, n_jobs never changes it."""
    corpus = _random_corpus()
    a = cooc.pretrain(corpus, weighting="ppmi", dim=10, seed=3, n_jobs=1)
    assert len(a) > 500
    b = cooc.pretrain(corpus, weighting="ppmi", dim=10, seed=3, n_jobs=2)
    c = cooc.pretrain(corpus, weighting="ppmi", dim=10, seed=4)
    assert a.vectors.tobytes() == b.vectors.tobytes()
    assert not np.allclose(np.abs(a.vectors), np.abs(c.vectors))
    want = svd(ppmi(a.counts), 10, seed=3)
    norms = np.linalg.norm(want, axis=1, keepdims=True)
    unit = np.divide(want, norms, out=np.zeros_like(want), where=norms > 0)
    assert a.vectors.tobytes() == unit.astype(np.float32).tobytes()   # the float64 rows, rounded once
    with pytest.raises(TypeError, match="seed"):
        cooc.pretrain(corpus, weighting="ppmi", dim=10, seed=1.5)


@pytest.mark.parametrize("options", [
    {}, {"weighting": "ppmi"}, {"weighting": "sppmi"}, {"weighting": "ppmi", "cds": 1.0, "shift": 2.0},
    {"weighting": "count", "dim": 4}, {"weighting": "ppmi", "dim": 5, "p": 0.0, "seed": 2},
    {"weighting": "ppmi", "dim": 5, "add_context": True},
])
def test_reweight_equals_pretrain_with_the_same_options(backend, options):
    """Counting once and reweighting gives what pretraining with the options gives, vector for vector."""
    base = cooc.pretrain(CORPUS)
    got = base.reweight(**options)
    want = cooc.pretrain(CORPUS, **options)
    assert got.index_to_key == want.index_to_key and got.window == want.window
    assert got.counts is base.counts and (got.counts != want.counts).nnz == 0
    assert got.stopwords == base.stopwords and np.array_equal(got.frequencies, want.frequencies)
    if sp.issparse(want.vectors):
        assert sp.issparse(got.vectors) and abs(got.vectors - want.vectors).max() == 0
    else:
        assert got.vectors.tobytes() == want.vectors.tobytes()
    assert got.most_similar("good", topn=3) == want.most_similar("good", topn=3)


def test_reweight_refuses_a_model_without_counts_and_bad_options():
    plain = cooc.Embeddings(["a", "b"], np.eye(2))
    with pytest.raises(ValueError, match="no counts"):
        plain.reweight("ppmi")
    emb = cooc.pretrain(CORPUS)
    for kwargs, match in [({"weighting": "tfidf"}, "weighting"), ({"shift": 2}, "shift"),
                          ({"weighting": "ppmi", "add_context": True}, "needs dim"), ({"dim": 0}, "dim"),
                          ({"weighting": "ppmi", "dim": 3, "seed": 1.5}, "seed"), ({"n_jobs": 0}, "n_jobs")]:
        with pytest.raises((ValueError, TypeError), match=match):
            emb.reweight(**kwargs)
