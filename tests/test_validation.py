"""The validated kernel wrappers raise the same errors, with the same messages, on both backends."""

from __future__ import annotations

import numpy as np
import pytest

from cooc import _backend

IDS = np.array([0, 1, 2, 1], dtype=np.int64)
OFFSETS = np.array([0, 2, 4], dtype=np.int64)


def cooc_call(ids=IDS, offsets=OFFSETS, n_words=3, window=2):
    return lambda: _backend.cooccurrence_csr(ids, offsets, n_words, window)


CASES = {
    # window
    "window 0": (cooc_call(window=0), ValueError, "window"),
    "window -1": (cooc_call(window=-1), ValueError, "window"),
    "window 1.5": (cooc_call(window=1.5), TypeError, "window"),
    "window True": (cooc_call(window=True), TypeError, "window"),
    "window numpy bool": (cooc_call(window=np.bool_(True)), TypeError, "window"),
    "window str": (cooc_call(window="2"), TypeError, "window"),
    "window None": (cooc_call(window=None), TypeError, "window"),
    # n_words
    "n_words negative": (cooc_call(n_words=-1), ValueError, "n_words"),
    "n_words float": (cooc_call(n_words=3.0), TypeError, "n_words"),
    # ids
    "ids out of range": (cooc_call(ids=[0, 1, 3, 1]), ValueError, "ids"),
    "ids equal n_words": (cooc_call(n_words=2), ValueError, "ids"),
    "ids negative": (cooc_call(ids=[0, -1, 2, 1]), ValueError, "ids"),
    "ids float": (cooc_call(ids=[0.0, 1.0, 2.0, 1.0]), TypeError, "ids"),
    "ids str": (cooc_call(ids=["a", "b", "c", "d"]), TypeError, "ids"),
    "ids 2-d": (cooc_call(ids=[[0, 1], [2, 1]]), ValueError, "ids"),
    # offsets
    "offsets not starting at 0": (cooc_call(offsets=[1, 2, 4]), ValueError, "offsets"),
    "offsets empty": (cooc_call(offsets=[]), ValueError, "offsets"),
    "offsets not ending at len(ids)": (cooc_call(offsets=[0, 2, 3]), ValueError, "offsets"),
    "offsets beyond len(ids)": (cooc_call(offsets=[0, 2, 5]), ValueError, "offsets"),
    "offsets decreasing": (cooc_call(offsets=[0, 3, 1, 4]), ValueError, "offsets"),
    "offsets float": (cooc_call(offsets=[0.0, 2.0, 4.0]), TypeError, "offsets"),
    # cosine_dense
    "cosine mismatched lengths": (
        lambda: _backend.cosine_dense([1.0, 2.0, 3.0], [1.0, 2.0]), ValueError, "length"),
    "cosine NaN": (lambda: _backend.cosine_dense([1.0, np.nan], [1.0, 2.0]), ValueError, "NaN"),
    "cosine inf": (lambda: _backend.cosine_dense([1.0, 2.0], [np.inf, 2.0]), ValueError, "infinite"),
    "cosine strings": (lambda: _backend.cosine_dense(["a"], ["b"]), TypeError, "real numbers"),
    "cosine 2-d": (lambda: _backend.cosine_dense([[1.0]], [[1.0]]), ValueError, "one-dimensional"),
    # normalize_rows_l2
    "normalize length mismatch": (
        lambda: _backend.normalize_rows_l2([0, 2, 3], [1, 2]), ValueError, "data"),
    "normalize NaN": (
        lambda: _backend.normalize_rows_l2([0, 2], [1.0, np.nan]), ValueError, "NaN"),
    "normalize indptr not at 0": (
        lambda: _backend.normalize_rows_l2([1, 2], [1, 2]), ValueError, "indptr"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_same_error_on_both_backends(backend, across_backends, case):
    call, exc_type, pattern = CASES[case]
    with pytest.raises(exc_type, match=pattern) as info:
        call()
    assert type(info.value) is exc_type
    outcomes = across_backends(call)
    assert set(outcomes) >= {"python"}
    for name, outcome in outcomes.items():
        assert outcome == (exc_type, str(info.value)), f"{name} gave {outcome!r}"


def test_valid_call_after_errors_still_works(backend):
    """A rejected call leaves nothing behind: the same wrapper then works."""
    with pytest.raises(ValueError):
        _backend.cooccurrence_csr(IDS, OFFSETS, 3, 0)
    indptr, indices, data = _backend.cooccurrence_csr(IDS, OFFSETS, 3, 2)
    assert indptr.tolist() == [0, 1, 3, 4]
    assert indices.tolist() == [1, 0, 2, 1]
    assert data.tolist() == [1, 1, 1, 1]
