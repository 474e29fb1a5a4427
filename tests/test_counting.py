"""The large-corpus pipeline: compiled tokenizing, vocabulary control, segmented / threaded / spilled
counting. Every configuration must give the same vocabulary and the same integer counts."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import cooc
from cooc import _backend, counting
from cooc._validate import parse_size
from cooc.text import tokenize

from conftest import compiled_or_skip
from oracle import cooccurrence_counts


def make_sentences(n: int, vocab: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    words = [f"w{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}{chr(97 + i // 676)}" for i in range(vocab)]
    p = 1.0 / np.arange(1, vocab + 1)
    p /= p.sum()
    out = []
    for _ in range(n):
        length = int(rng.integers(0, 30))
        out.append(" ".join(words[i] for i in rng.choice(vocab, size=length, p=p)))
    return out


def dense_counts(emb: cooc.Embeddings) -> dict[tuple[str, str], int]:
    coo = emb.counts.tocoo()
    words = emb.index_to_key
    return {(words[r], words[c]): int(v) for r, c, v in zip(coo.row, coo.col, coo.data)}


@pytest.fixture(scope="module")
def sentences():
    return make_sentences(3000, 800, seed=7)


@pytest.fixture(scope="module")
def reference(sentences):
    return cooc.pretrain(sentences, stopwords=None)


def test_pipeline_matches_oracle(backend, sentences):
    emb = cooc.pretrain(sentences[:400], window=2, stopwords=None)
    expected = cooccurrence_counts([tokenize(s) for s in sentences[:400]], 2)
    assert dense_counts(emb) == expected
    assert emb.counts.dtype == np.int64


@pytest.mark.parametrize("jobs", [1, 2, 3])
@pytest.mark.parametrize("chunk_chars", [64, 4096, 1 << 22])
def test_threads_and_chunks_do_not_change_counts(sentences, reference, jobs, chunk_chars):
    emb = cooc.pretrain(sentences, stopwords=None, n_jobs=jobs, chunk_chars=chunk_chars)
    assert emb.index_to_key == reference.index_to_key
    assert (emb.counts != reference.counts).nnz == 0
    assert np.array_equal(emb.vectors.data, reference.vectors.data)


def test_spilled_counts_equal_in_memory(sentences, reference, tmp_path, monkeypatch):
    # A budget far below what the corpus needs (the per-item sizes are inflated so that 1MB is tiny):
    # many segments, many spilled runs, merged a few files at a time.
    monkeypatch.setattr(counting, "BYTES_PER_PAIR", 4000)
    monkeypatch.setattr(counting, "BYTES_PER_NONZERO", 400)
    monkeypatch.setattr(counting, "MAX_OPEN_RUNS", 3)
    spilled = []
    original = counting._Runs._spill

    def spy(self, part):
        path = original(self, part)
        spilled.append(path)
        return path

    monkeypatch.setattr(counting._Runs, "_spill", spy)
    emb = cooc.pretrain(sentences, stopwords=None, memory_limit="1MB", tmp_dir=tmp_path, n_jobs=2)
    assert len(spilled) > 3, "the budget should have forced several spilled runs"
    assert emb.index_to_key == reference.index_to_key
    assert (emb.counts != reference.counts).nnz == 0
    assert list(tmp_path.iterdir()) == [], "temporary runs must be removed"


def test_interrupted_run_leaves_no_temporary_files(sentences, tmp_path, monkeypatch):
    calls = {"n": 0}
    original = counting._Runs._spill

    def interrupt(self, part):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, part)

    monkeypatch.setattr(counting, "BYTES_PER_PAIR", 4000)
    monkeypatch.setattr(counting, "BYTES_PER_NONZERO", 400)
    monkeypatch.setattr(counting._Runs, "_spill", interrupt)
    with pytest.raises(KeyboardInterrupt):
        cooc.pretrain(sentences, stopwords=None, memory_limit="1MB", tmp_dir=tmp_path)
    assert calls["n"] == 3
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("opener,suffix", [(open, ".txt"), (gzip.open, ".gz"), (bz2.open, ".bz2"),
                                           (lzma.open, ".xz")])
def test_compressed_files_equal_plain(sentences, reference, tmp_path, opener, suffix):
    path = tmp_path / f"corpus{suffix}"
    with opener(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(sentences) + "\n")
    emb = cooc.pretrain(path, stopwords=None)
    assert emb.index_to_key == reference.index_to_key
    assert (emb.counts != reference.counts).nnz == 0
    both = cooc.pretrain([path, path], stopwords=None)
    assert (both.counts != 2 * reference.counts).nnz == 0


def test_min_count_and_max_vocab_are_applied_before_windowing():
    text = ["alpha rare beta", "alpha beta gamma", "alpha gamma"]
    emb = cooc.pretrain(text, window=1, min_count=2, stopwords=None)
    assert emb.index_to_key == ["alpha", "beta", "gamma"]
    # "rare" is gone before windowing, so alpha and beta become adjacent in the first sentence
    assert emb.counts[emb.key_to_index["alpha"], emb.key_to_index["beta"]] == 2
    top2 = cooc.pretrain(text, window=1, max_vocab_size=2, stopwords=None)
    assert top2.index_to_key == ["alpha", "beta"]  # alpha 3; beta and gamma 2: ties by word order
    assert list(top2.frequencies) == [3, 2]


def test_vocabulary_errors():
    with pytest.raises(ValueError, match="min_count=5 leaves no vocabulary"):
        cooc.pretrain(["a b c", "b c"], min_count=5, stopwords=None)
    with pytest.raises(ValueError, match="empty corpus"):
        cooc.pretrain(["the and of", "a an"])
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(ValueError):
            cooc.pretrain(["a b"], min_count=bad)
    with pytest.raises(ValueError, match="n_jobs"):
        cooc.pretrain(["a b"], n_jobs=0)
    with pytest.raises(ValueError, match="memory_limit"):
        cooc.pretrain(["a b"], memory_limit="lots")


@pytest.mark.parametrize("value,expected", [("256MB", 256 << 20), ("2GB", 2 << 30), ("1.5GiB", 3 << 29),
                                            (1 << 20, 1 << 20), (None, None)])
def test_parse_size_of_memory(value, expected):
    assert (None if value is None else parse_size("memory_limit", value)) == expected


def test_counts_above_2_to_the_32_stay_exact(backend):
    big = 3 * 2**32 + 5
    indptr = np.array([0, 2, 3], dtype=np.int64)
    a = (indptr, np.array([0, 1, 0], dtype=np.int32), np.array([big, 1, 7], dtype=np.int64))
    b = (indptr, np.array([0, 1, 1], dtype=np.int32), np.array([big, 2, 9], dtype=np.int64))
    p, i, d = _backend.csr_add(*a, *b)
    assert p.tolist() == [0, 2, 4]
    assert i.tolist() == [0, 1, 0, 1]
    assert d.tolist() == [2 * big, 3, 7, 9]
    assert d.dtype == np.int64
    norm = _backend.normalize_rows_l2(p, d)
    assert norm[0] == pytest.approx(2 * big / np.hypot(2 * big, 3))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="abAΣσİß é\n\t1-", max_size=30), max_size=20),
       st.integers(min_value=1, max_value=5))
def test_word_table_matches_tokenize_on_both_backends(texts, window):
    results = []
    previous = _backend.BACKEND
    try:
        for name in ("python", "cython"):
            if name == "cython" and _backend.compiled_module() is None:
                continue
            _backend.set_backend(name)
            table = _backend.new_word_table()
            encoded = [table.encode(t) for t in texts]
            words = table.words()
            for t, (ids, offsets) in zip(texts, encoded):
                lines = t.split("\n")
                assert offsets.size == len(lines) + 1
                for s, line in enumerate(lines):
                    assert [words[k] for k in ids[offsets[s]:offsets[s + 1]]] == tokenize(line)
            results.append((words, table.counts().tolist(), [(a.tolist(), b.tolist()) for a, b in encoded]))
    finally:
        _backend.set_backend(previous)
    assert all(r == results[0] for r in results)


def test_segments_cover_every_sentence_once():
    offsets = np.array([0, 0, 5, 6, 40, 41, 41, 90], dtype=np.int64)
    for max_pairs in (1, 10, 100, 10**9):
        for min_segments in (1, 2, 5):
            bounds = counting.segment_bounds(offsets, 3, max_pairs, min_segments)
            flat = [s for lo, hi in bounds for s in range(lo, hi)]
            assert flat == list(range(offsets.size - 1))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n_threads", [1, 2, 3, 5])
def test_kernel_threads_equal_oracle(backend, seed, n_threads):
    rng = np.random.default_rng(seed)
    vocab = int(rng.integers(1, 3000))
    lengths = rng.integers(0, 40, size=int(rng.integers(1, 120)))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    ids = rng.integers(0, vocab, size=int(offsets[-1])).astype(np.int32)
    window = int(rng.integers(1, 7))
    indptr, indices, data = _backend.cooccurrence_csr(ids, offsets, vocab, window, n_threads)
    got = {}
    for r in range(vocab):
        for k in range(indptr[r], indptr[r + 1]):
            got[(r, int(indices[k]))] = int(data[k])
    sentences = [ids[offsets[s]:offsets[s + 1]].tolist() for s in range(len(lengths))]
    assert got == cooccurrence_counts(sentences, window)
    assert all(np.all(np.diff(indices[indptr[r]:indptr[r + 1]]) > 0) for r in range(vocab))


def _dict_merge(tables):
    """The definition: table 0's words keep their ids, other words get the next ids in table order."""
    index, total = {}, {}
    for table in tables:
        for w, c in zip(table.words(), table.counts().tolist()):
            index.setdefault(w, len(index))
            total[w] = total.get(w, 0) + c
    return list(index), [total[w] for w in index]


@pytest.mark.parametrize("n_tables", [1, 2, 3])
def test_merge_tables_equals_a_dict_merge(backend, n_tables):
    from cooc.counting import _merge_tables

    # packed words, words longer than 8 characters and words above U+00FF (hashed keys), shared and not
    texts = ["the cat sat\nÜber straße ﬁsh extraordinarily", "dog cat ÅNGSTRÖM\nİstanbul sat δέντρο",
             "new words only\ncat extraordinarily 𝔘nicode δέντρο"]
    tables = [_backend.new_word_table() for _ in range(n_tables)]
    encoded = []
    for i, text in enumerate(texts):
        encoded.append((i % n_tables, tables[i % n_tables].encode(text)))
    before = [(t.words(), t.counts().tolist()) for t in tables]
    want_words, want_counts = _dict_merge(tables)
    maps = _merge_tables(tables)
    words, counts = tables[0].words(), tables[0].counts()
    assert words == want_words and counts.tolist() == want_counts
    assert maps[0] is None
    for t, (ids, _) in encoded:  # every token maps to its own word
        mapped = ids if maps[t] is None else maps[t][ids]
        assert [words[i] for i in mapped.tolist()] == [before[t][0][i] for i in ids.tolist()]
    for table, (w, c) in zip(tables[1:], before[1:]):  # the other tables are unchanged
        assert table.words() == w and table.counts().tolist() == c


def test_a_table_cannot_merge_itself(backend):
    table = _backend.new_word_table()
    table.encode("a b")
    with pytest.raises(ValueError, match="itself"):
        table.merge(table)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(categories=("Ll", "Lu", "Lo")), min_size=1, max_size=12),
                min_size=1, max_size=40))
def test_prefix_keys_sort_words_like_sorted(words):
    """Keys are the first 8 UTF-8 bytes: sorting by key, then by word, is Python's sort of the words."""
    _kernels_py = _backend.PURE
    from cooc.counting import _sorted_order

    for mod in [_kernels_py] + ([_backend.compiled_module()] if _backend.compiled_module() else []):
        table = mod.WordTable()
        table.encode("\n".join(words))
        got_words = table.words()
        keys = table.prefix_keys()
        assert keys.dtype == np.uint64 and keys.size == len(got_words)
        want = [int.from_bytes(w.encode()[:8].ljust(8, b"\0"), "big") for w in got_words]
        assert keys.tolist() == want
        tokens = counting.TokenizedCorpus(keys=keys, table=table)
        order = _sorted_order(tokens)
        assert [got_words[i] for i in order] == sorted(got_words)
        assert table.words(order) == sorted(got_words)


def test_sorted_order_breaks_ties_of_shared_prefixes():
    from cooc.counting import _sorted_order

    words = ["internationally", "internal", "internationale", "intern", "international", "b", "a"]
    keys = np.array([int.from_bytes(w.encode()[:8].ljust(8, b"\0"), "big") for w in words], dtype=np.uint64)
    for k in (keys, None):
        order = _sorted_order(counting.TokenizedCorpus(words=words, keys=k))
        assert [words[i] for i in order] == sorted(words)


@pytest.mark.parametrize("n_threads", [1, 2])
def test_big_buckets_of_frequent_words_equal_the_definition(n_threads):
    """Buckets of 2**16 keys or more are grouped by row; a row with at least max(V / 4, 4096) keys is
    counted in a dense array, the other rows of the bucket sorted one by one. A corpus where words 1
    and 3 (bucket 0 at V = 5000: four rows per bucket) take half the tokens goes through both paths,
    next to itself included (the diagonal)."""
    mod = compiled_or_skip()
    rng = np.random.default_rng(11)
    vocab, n = 5000, 120_000
    ids = rng.integers(0, vocab, n)
    pick = rng.random(n)
    ids[pick < 0.3] = 3
    ids[(pick >= 0.3) & (pick < 0.45)] = 1
    ids[(pick >= 0.45) & (pick < 0.47)] = 2   # a lighter row in the same bucket: sorted on its own
    ids = ids.astype(np.int32)
    offsets = np.unique(np.concatenate([[0], rng.integers(0, n, 4000), [n]])).astype(np.int64)
    indptr, indices, data = mod.cooccurrence_csr(ids, offsets, vocab, 3, n_threads)
    sentences = [ids[offsets[s]:offsets[s + 1]].tolist() for s in range(offsets.size - 1)]
    want = cooccurrence_counts(sentences, 3)
    got = {(r, int(indices[k])): int(data[k]) for r in range(vocab) for k in range(indptr[r], indptr[r + 1])}
    assert got == want
    assert all(np.all(np.diff(indices[indptr[r]:indptr[r + 1]]) > 0) for r in range(vocab))
    # the paths were taken: row 1 and row 3 hold enough keys for the dense count
    assert got[(3, 3)] > 0 and sum(v for (r, c), v in got.items() if r == 1 and c >= 1) >= 4096


def test_remap_chunks_needs_one_map_per_chunk(backend):
    chunks = [(np.array([0, 1], np.int32), np.array([0, 2], np.int64))] * 2
    ids, offsets = counting.remap_chunks(chunks, [np.array([1, -1], np.int32), np.array([-1, 0], np.int32)])
    assert ids.tolist() == [1, 0] and offsets.tolist() == [0, 1, 2]
    with pytest.raises(ValueError):
        counting.remap_chunks(chunks, [np.array([1, 0], np.int32)])


def test_word_table_words_of_ids(backend):
    table = _backend.new_word_table()
    table.encode("gamma alpha beta alpha")
    assert table.words() == ["gamma", "alpha", "beta"]
    assert table.words([2, 0, 2]) == ["beta", "gamma", "beta"] and table.words([]) == []
    assert table.words(np.array([1], dtype=np.int32)) == ["alpha"]
    for bad in ([3], [-1]):
        with pytest.raises(IndexError, match="out of range"):
            table.words(bad)


# -- a budget spills every partial matrix and merges the runs block of rows by block of rows ---------


@pytest.fixture(scope="module")
def big_ids():
    """About 150k tokens of Zipf-distributed ids in sentences of 0-60 tokens, and one long sentence."""
    rng = np.random.default_rng(11)
    n_words = 3000
    p = 1.0 / np.arange(1, n_words + 1)
    p /= p.sum()
    lengths = rng.integers(0, 61, size=5000)
    lengths[2500] = 20000
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    ids = rng.choice(n_words, size=int(offsets[-1]), p=p).astype(np.int32)
    return ids, offsets, n_words


def spy_spills(monkeypatch):
    spilled = []
    original = counting._Runs._spill

    def spy(self, part):
        path = original(self, part)
        spilled.append(path)
        return path

    monkeypatch.setattr(counting._Runs, "_spill", spy)
    return spilled


@pytest.mark.parametrize("limit", ["1MB", "2MB", "64MB"])
def test_budget_counts_equal_unlimited_counts(backend, big_ids, tmp_path, monkeypatch, limit):
    ids, offsets, n_words = big_ids
    unlimited = counting.count_pairs(ids, offsets, n_words, 5)
    spilled = spy_spills(monkeypatch)
    limited = counting.count_pairs(ids, offsets, n_words, 5, memory_limit=parse_size("memory_limit", limit),
                                   tmp_dir=tmp_path, n_jobs=2)
    for a, b in zip(unlimited, limited):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    if limit == "64MB":
        assert spilled == []   # one segment: nothing to spill
    else:
        assert len(spilled) > 5, "a small budget must count many segments, each spilled"
    assert list(tmp_path.iterdir()) == []


def test_merge_of_many_runs_in_tiny_blocks_is_exact(backend, big_ids, tmp_path, monkeypatch):
    # blocks far smaller than one row of all runs together (a frequent word's row), and at most two
    # runs' blocks held at once: every path of the block merge
    ids, offsets, n_words = big_ids
    ids, offsets = ids[: offsets[1200]], offsets[:1201]
    unlimited = counting.count_pairs(ids, offsets, n_words, 3)
    monkeypatch.setattr(counting, "BYTES_PER_NONZERO", 20000)
    monkeypatch.setattr(counting, "MAX_OPEN_RUNS", 2)
    spilled = spy_spills(monkeypatch)
    limited = counting.count_pairs(ids, offsets, n_words, 3, memory_limit=200_000, tmp_dir=tmp_path)
    assert len(spilled) > 10
    for a, b in zip(unlimited, limited):
        assert np.array_equal(a, b)
    assert list(tmp_path.iterdir()) == []


def test_budget_with_empty_rows_and_empty_segments(backend, tmp_path):
    # words that never co-occur (one-token sentences, unused ids) leave empty rows in every run
    ids = np.array([5, 5, 0, 7, 7, 7, 2, 9, 2], dtype=np.int32)
    offsets = np.array([0, 1, 1, 2, 5, 6, 9], dtype=np.int64)
    unlimited = counting.count_pairs(ids, offsets, 12, 2)
    limited = counting.count_pairs(ids, offsets, 12, 2, memory_limit=1, tmp_dir=tmp_path)
    for a, b in zip(unlimited, limited):
        assert np.array_equal(a, b)


def test_pretrain_with_a_1mb_budget_equals_unlimited(tmp_path, monkeypatch):
    sentences = make_sentences(6000, 3000, seed=3)
    spilled = spy_spills(monkeypatch)
    limited = cooc.pretrain(sentences, stopwords=None, memory_limit="1MB", tmp_dir=tmp_path)
    assert len(spilled) > 1
    full = cooc.pretrain(sentences, stopwords=None)
    assert limited.index_to_key == full.index_to_key
    assert (limited.counts != full.counts).nnz == 0
    assert np.array_equal(limited.vectors.data, full.vectors.data)


def test_parked_counts_wait_on_disk_and_come_back(tmp_path):
    from cooc.counting import parked

    m = sp.random(50, 50, density=0.2, format="csr", random_state=0)
    m.data = (m.data * 100).astype(np.int64) + 1
    before = m.copy()
    with parked(m, tmp_path) as same:
        assert same is m
        assert all(isinstance(getattr(m, k), np.memmap) for k in ("data", "indices", "indptr"))
        assert (m != before).nnz == 0      # still readable while parked
        assert list(tmp_path.iterdir()) == []   # the file is unlinked at once
    assert not any(isinstance(getattr(m, k), np.memmap) for k in ("data", "indices", "indptr"))
    assert m.data.dtype == np.int64 and (m != before).nnz == 0
    with pytest.raises(RuntimeError, match="boom"):
        with parked(m, tmp_path):
            raise RuntimeError("boom")
    assert not isinstance(m.data, np.memmap) and (m != before).nnz == 0


def test_pretrain_under_a_budget_gives_the_same_svd_vectors(tmp_path):
    lines = [" ".join(f"w{(i * 7 + j * j) % 97}" for j in range(12)) for i in range(400)]
    free = cooc.pretrain(lines, weighting="ppmi", dim=8, n_jobs=1)
    limited = cooc.pretrain(lines, weighting="ppmi", dim=8, n_jobs=1, memory_limit="2MB", tmp_dir=tmp_path)
    assert np.array_equal(free.vectors, limited.vectors)
    assert (free.counts != limited.counts).nnz == 0 and not isinstance(limited.counts.data, np.memmap)
    assert list(tmp_path.iterdir()) == []
