"""cooc.dense.DenseIndex against brute-force float64 references on the stored vectors.

Two references: ``formula`` scores every row by the documented float64 rule (so rows and similarities
must agree bit for bit, ties included), and ``fsum`` scores every row with correctly rounded sums (an
independent evaluation: similarities agree within 1e-12 and the ranking agrees up to rows whose scores
lie within 1e-12 of each other). The module is pure numpy, so one backend covers both.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cooc import dense
from cooc.dense import DenseIndex, error_bound

DTYPES = [np.float32, np.float64]


def formula(index: DenseIndex, query, k: int, exclude: int = -1):
    """Every row scored by the documented rule, sorted by (score desc, row asc); the first k."""
    unit = dense._unit_rows(np.asarray(query, dtype=np.float64)[None, :])[0]
    x = index.vectors.astype(np.float64)
    n_rows = x.shape[0]
    scores = np.zeros(n_rows)
    if unit.any():
        live = index.norms > 0
        scores[live] = (x[live] * unit).sum(axis=1) / index.norms[live]
    rows = np.arange(n_rows)
    keep = rows != exclude
    order = np.lexsort((rows[keep], -scores[keep]))[:k]
    return rows[keep][order], scores[keep][order]


def fsum_scores(index: DenseIndex, query) -> np.ndarray:
    """The cosine of every stored row with the query, from correctly rounded float64 sums."""
    q = np.asarray(query, dtype=np.float64)
    q = [float(v) for v in (q / np.abs(q).max() if q.any() else q)]  # the cosine does not see the scale
    qn = math.sqrt(math.fsum(v * v for v in q))
    out = []
    for row in index.vectors.astype(np.float64).tolist():
        rn = math.sqrt(math.fsum(v * v for v in row))
        out.append(0.0 if rn == 0 or qn == 0 else math.fsum(a * b for a, b in zip(row, q)) / (rn * qn))
    return np.array(out)


def check_against_fsum(index, query, k, exclude, rows, sims, tol=1e-12):
    ref = fsum_scores(index, query)
    n_rows = ref.size
    assert rows.size == min(k, n_rows - (exclude >= 0))
    assert exclude not in rows.tolist()
    assert len(set(rows.tolist())) == rows.size
    np.testing.assert_allclose(sims, ref[rows], rtol=0, atol=tol)
    if rows.size:
        others = np.setdiff1d(np.arange(n_rows), np.append(rows, exclude))
        if others.size:  # nothing left out scores clearly above the last one kept
            assert ref[others].max() <= ref[rows[-1]] + 2 * tol
        # the order is (score desc, row asc) up to float64 noise
        for a, b, ra, rb in zip(sims[:-1], sims[1:], rows[:-1], rows[1:]):
            assert a >= b
            if ref[ra] == ref[rb] and a == b:
                assert ra < rb


def tricky_matrix(rng, n_rows=400, dim=40):
    """Random rows plus exact ties (duplicates, scaled copies), zero rows and float32 near-ties."""
    x = rng.standard_normal((n_rows, dim))
    x[10] = x[3]                      # duplicate: an exact tie
    x[11] = 4.0 * x[3]                # a power-of-two multiple: the same unit row, another exact tie
    x[20] = 0.0                       # zero rows
    x[21] = 0.0
    for i in range(30, 130):          # near-ties: tiny perturbations of row 3 and row 40
        base = 3 if i % 2 else 40
        x[i] = x[base] + rng.standard_normal(dim) * 10.0 ** rng.uniform(-9, -6)
    x[200] = x[201] * 1e-300          # extreme magnitudes
    x[202] = x[203] * 1e300
    return x


@pytest.mark.parametrize("maxima", [4096, 16, 1])  # one row per set, 25 rows per set, one set
@pytest.mark.parametrize("dtype", DTYPES)
def test_bit_for_bit_against_the_formula_and_close_to_fsum(dtype, maxima, monkeypatch):
    monkeypatch.setattr(dense, "MAXIMA", maxima)
    rng = np.random.default_rng(1)
    x = tricky_matrix(rng)
    index = DenseIndex(x, dtype=dtype)
    assert index.vectors.dtype == dtype and index.vectors.flags.c_contiguous
    queries = [x[3], x[40], x[40] + 1e-7, x[20], x[200], rng.standard_normal(x.shape[1])]
    for q in queries:
        for k in (0, 1, 5, 10, 60, 399, 400, 401, 10_000):
            for exclude in (-1, 3, 40, 20, 399):
                rows, sims = index.query(q, k, exclude)
                assert rows.dtype == np.int64 and sims.dtype == np.float64
                ref_rows, ref_sims = formula(index, q, k, exclude)
                np.testing.assert_array_equal(rows, ref_rows)
                np.testing.assert_array_equal(sims, ref_sims)
                if k in (10, 60):
                    check_against_fsum(index, q, k, exclude, rows, sims)


def test_many_rows_and_sorted_scores():
    """More rows than MAXIMA, and rows sorted by score (the worst case for the maxima's bound)."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((20_000, 8))
    x[5000:5100] = x[7]  # a hundred exact ties
    q = x[7] + 0.01
    index = DenseIndex(x)
    order = np.argsort(index.vectors.astype(np.float64) @ dense._unit_rows(q[None, :])[0])
    for matrix in (x, x[order]):
        index = DenseIndex(matrix)
        for k in (1, 10, 150, 5000):
            for exclude in (-1, 7, 19_999):
                rows, sims = index.query(q, k, exclude)
                ref_rows, ref_sims = formula(index, q, k, exclude)
                np.testing.assert_array_equal(rows, ref_rows)
                np.testing.assert_array_equal(sims, ref_sims)


def test_ties_go_to_the_lower_row_and_zero_rows_score_zero():
    x = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [1.0, 0.0], [0.0, 0.0], [3.0, 3.0]])
    index = DenseIndex(x)
    rows, sims = index.query([5.0, 5.0], 6)
    assert rows.tolist() == [1, 2, 5, 3, 0, 4]
    assert sims[3] == pytest.approx(math.sqrt(0.5)) and sims[4] == sims[5] == 0.0
    assert sims[0] == sims[1] == sims[2]
    rows, sims = index.query([5.0, 5.0], 6, exclude=2)
    assert rows.tolist() == [1, 5, 3, 0, 4]


def test_zero_query_gives_the_first_rows_with_zero():
    index = DenseIndex(np.arange(12.0).reshape(4, 3))
    rows, sims = index.query(np.zeros(3), 3, exclude=1)
    assert rows.tolist() == [0, 2, 3] and sims.tolist() == [0.0, 0.0, 0.0]
    rows, sims, found = index.query_many(np.zeros((2, 3)), 9, np.array([-1, 0]))
    assert found.tolist() == [4, 3]
    assert rows[0].tolist() == [0, 1, 2, 3] and rows[1, :3].tolist() == [1, 2, 3]


def test_empty_and_degenerate_shapes():
    for shape in [(0, 5), (3, 0)]:
        index = DenseIndex(np.zeros(shape))
        rows, sims = index.query(np.zeros(shape[1]), 4)
        assert rows.tolist() == list(range(shape[0])) and sims.tolist() == [0.0] * shape[0]
        rows, sims, found = index.query_many(np.zeros((2, shape[1])), 4)
        assert rows.shape == (2, min(4, shape[0])) and found.tolist() == [shape[0]] * 2
    rows, sims, found = DenseIndex(np.eye(3)).query_many(np.zeros((0, 3)), 2)
    assert rows.shape == (0, 2) and sims.shape == (0, 2) and found.shape == (0,)


def test_the_margin_is_needed_on_this_data():
    """Without the rescoring, float32 scores alone misorder the near-ties that the tests use."""
    rng = np.random.default_rng(1)
    x = tricky_matrix(rng)
    index = DenseIndex(x)
    differs = 0
    for q in (x[3], x[40], x[40] + 1e-7):
        ref_rows, _ = formula(index, q, 60)
        unit = dense._unit_rows(q[None, :])[0].astype(np.float32)
        approx = index.vectors @ unit
        naive = np.lexsort((np.arange(x.shape[0]), -approx))[:60]
        differs += not np.array_equal(naive, ref_rows)
    assert differs > 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_error_bound_holds_and_is_not_vacuous(dtype):
    rng = np.random.default_rng(2)
    for dim in (3, 50, 300):
        index = DenseIndex(rng.standard_normal((3000, dim)) * rng.uniform(1e-3, 1e3, (3000, 1)), dtype=dtype)
        for _ in range(5):
            unit = dense._unit_rows(rng.standard_normal((1, dim)))[0]
            approx = (index.vectors @ unit.astype(dtype)).astype(np.float64)
            exact = (index.vectors.astype(np.float64) * unit).sum(axis=1) / index.norms
            err = np.abs(approx - exact).max()
            assert err <= index.bound
            assert index.bound < 1e-3 if dtype == np.float32 else index.bound < 1e-12


def test_error_bound_values():
    assert error_bound(300) == pytest.approx(2.2576e-05, rel=1e-3)
    assert error_bound(300, np.float64) < 2e-13
    assert error_bound(2**23) == 2.0  # d * u >= 1/2: every row a candidate
    assert error_bound(0) > 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_query_many_equals_query_bit_for_bit(dtype, monkeypatch):
    rng = np.random.default_rng(3)
    x = tricky_matrix(rng, 300, 20)
    queries = np.vstack([x[:6], np.zeros((1, 20)), rng.standard_normal((5, 20)) * 1e5])
    exclude = np.array([0, -1, 2, 299, -1, 5, 4, -1, 0, 1, 2, 3])
    for block_bytes in (dense.BLOCK_BYTES, 300 * 4 * 3, 1):  # one block, blocks of 3 (float32), of 1
        monkeypatch.setattr(dense, "BLOCK_BYTES", block_bytes)
        index = DenseIndex(x, dtype=dtype)
        for k in (0, 1, 7, 299, 300, 500):
            rows, sims, found = index.query_many(queries, k, exclude)
            assert rows.shape == sims.shape == (12, min(k, 300))
            for b in range(12):
                r, s = index.query(queries[b], k, int(exclude[b]))
                assert found[b] == r.size
                np.testing.assert_array_equal(rows[b, : r.size], r)
                np.testing.assert_array_equal(sims[b, : r.size], s)
        one = index.query_many(queries, 4, 2)
        np.testing.assert_array_equal(one[0], index.query_many(queries, 4, np.full(12, 2))[0])


def test_build_in_blocks_gives_the_same_index(monkeypatch):
    x = np.random.default_rng(4).standard_normal((101, 7))
    whole = DenseIndex(x)
    monkeypatch.setattr(dense, "BLOCK_BYTES", 7 * 8 * 10)  # blocks of 10 rows
    parts = DenseIndex(x)
    np.testing.assert_array_equal(whole.vectors, parts.vectors)
    np.testing.assert_array_equal(whole.norms, parts.norms)


def test_stored_rows_are_unit_and_zero_rows_stay_zero():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1e-310, 0.0], [1e308, -1e308]])
    index = DenseIndex(x, dtype=np.float64)
    assert index.vectors[:3].tolist() == [[0.6, 0.8], [0.0, 0.0], [1.0, 0.0]]
    np.testing.assert_allclose(index.vectors[3], [math.sqrt(0.5), -math.sqrt(0.5)], rtol=2**-52)
    assert index.norms[1] == 0.0
    np.testing.assert_allclose(index.norms[[0, 2, 3]], 1.0, atol=1e-15)
    small = DenseIndex(x)
    assert small.vectors.dtype == np.float32
    np.testing.assert_allclose(small.norms[[0, 2, 3]], 1.0, atol=2e-7)
    assert DenseIndex(np.array([[1, 2], [3, 4]])).vectors.dtype == np.float32  # integers are accepted


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    n_rows=st.integers(0, 25),
    dim=st.integers(1, 5),
    dtype=st.sampled_from(DTYPES),
)
def test_property_small_integer_matrices(data, n_rows, dim, dtype):
    """Small integer entries: many exact ties, zero rows and zero queries."""
    cells = st.integers(-2, 2)
    x = np.array(data.draw(st.lists(st.lists(cells, min_size=dim, max_size=dim),
                                    min_size=n_rows, max_size=n_rows)), dtype=np.float64).reshape(n_rows, dim)
    q = np.array(data.draw(st.lists(cells, min_size=dim, max_size=dim)), dtype=np.float64)
    k = data.draw(st.integers(0, n_rows + 2))
    exclude = data.draw(st.integers(-1, n_rows - 1))
    index = DenseIndex(x, dtype=dtype)
    rows, sims = index.query(q, k, exclude)
    ref_rows, ref_sims = formula(index, q, k, exclude)
    np.testing.assert_array_equal(rows, ref_rows)
    np.testing.assert_array_equal(sims, ref_sims)
    check_against_fsum(index, q, k, exclude, rows, sims)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: DenseIndex([1.0, 2.0]), ValueError, "vectors must be two-dimensional"),
        (lambda: DenseIndex([[1.0, np.nan]]), ValueError, "vectors holds NaN"),
        (lambda: DenseIndex([[1.0, np.inf]]), ValueError, "vectors holds NaN"),
        (lambda: DenseIndex([["a", "b"]]), TypeError, "vectors must hold real numbers"),
        (lambda: DenseIndex([[True, False]]), TypeError, "vectors must hold real numbers"),
        (lambda: DenseIndex([[1.0]], dtype=np.float16), ValueError, "dtype must be np.float32 or np.float64"),
        (lambda: DenseIndex([[1.0]], dtype="nonsense"), TypeError, "dtype must be np.float32 or np.float64"),
        (lambda: DenseIndex(np.eye(3)).query([1.0, 2.0], 1), ValueError, "query must have 3 entries"),
        (lambda: DenseIndex(np.eye(3)).query(np.eye(3), 1), ValueError, "query must be one-dimensional"),
        (lambda: DenseIndex(np.eye(3)).query([1.0, np.nan, 0], 1), ValueError, "query holds NaN"),
        (lambda: DenseIndex(np.eye(3)).query([1.0, 0, 0], -1), ValueError, "k must be >= 0"),
        (lambda: DenseIndex(np.eye(3)).query([1.0, 0, 0], 2.0), TypeError, "k must be an integer"),
        (lambda: DenseIndex(np.eye(3)).query([1.0, 0, 0], True), TypeError, "k must be an integer"),
        (lambda: DenseIndex(np.eye(3)).query([1.0, 0, 0], 1, 3), ValueError, "exclude must be -1 or a row"),
        (lambda: DenseIndex(np.eye(3)).query([1.0, 0, 0], 1, -2), ValueError, "exclude must be >= -1"),
        (lambda: DenseIndex(np.eye(3)).query_many([1.0, 0, 0], 1), ValueError, "queries must be two-dim"),
        (lambda: DenseIndex(np.eye(3)).query_many(np.eye(2), 1), ValueError, "queries must have 3 columns"),
        (lambda: DenseIndex(np.eye(3)).query_many([[np.inf, 0, 0]], 1), ValueError, "queries holds NaN"),
        (lambda: DenseIndex(np.eye(3)).query_many(np.eye(3), 1, [0, 1]), ValueError, "one entry per query"),
        (lambda: DenseIndex(np.eye(3)).query_many(np.eye(3), 1, [0.0, 1.0, 2.0]), TypeError, "exclude must hold int"),
        (lambda: DenseIndex(np.eye(3)).query_many(np.eye(3), 1, [0, 1, 3]), ValueError, "exclude must hold -1"),
        (lambda: DenseIndex(np.eye(3)).query_many(np.eye(3), 1, 5), ValueError, "exclude must be -1 or a row"),
        (lambda: DenseIndex(np.eye(3)).query_many(np.eye(3), None), TypeError, "k must be an integer"),
        (lambda: error_bound(-1), ValueError, "dim must be >= 0"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_docstring_examples():
    import doctest

    result = doctest.testmod(dense, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
