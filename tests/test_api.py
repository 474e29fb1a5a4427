"""The public API (pretrain, Embeddings, random_embeddings, document_vector, NearestCentroid, classify,
analyze) against independent computations, on both kernel backends."""

from __future__ import annotations

import math
import random
import re

import numpy as np
import pytest
import scipy.sparse as sp

import cooc
from cooc import Embeddings, NearestCentroid, analyze, classify, document_vector, pretrain
from cooc import random_embeddings
from cooc.demo import load_demo_data
from oracle import cooccurrence_counts, cosine, reference_preprocess, words_to_index_counts

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "The dog barks, and the fox runs away; the dog sleeps.",
    "",  # an empty sentence
    "A lazy afternoon with a quick nap",
    "the and of it is",  # only stopwords
    "Brown dogs and brown foxes are quick, quick, quick!",
    "fox",  # a one-word sentence
    "Café au lait: 2 cafés for the fox",
]


def dense_rows(emb: Embeddings) -> dict[str, np.ndarray]:
    return {w: emb[w] for w in emb.index_to_key}


def brute_most_similar(emb: Embeddings, word: str, topn: int) -> list[tuple[str, float]]:
    """The reference's nearest_neighbors: cosine over dense rows, stable sort, descending."""
    rows = dense_rows(emb)
    target = rows[word]
    sims = [(other, cosine(target, vec)) for other, vec in rows.items() if other != word]
    sims.sort(key=lambda x: x[1], reverse=True)
    return sims[:topn]


def assert_neighbours_equal(got, want):
    assert [w for w, _ in got] == [w for w, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=1e-12, atol=1e-15)


def expected_counts(corpus, window, stopwords=cooc.STOPWORDS):
    tokens = [reference_preprocess(s, stopwords) for s in corpus]
    vocab = sorted({t for ts in tokens for t in ts})
    index = {w: i for i, w in enumerate(vocab)}
    return vocab, words_to_index_counts(cooccurrence_counts(tokens, window), index)


def as_dict(m: sp.csr_matrix) -> dict[tuple[int, int], int]:
    coo = m.tocoo()
    return {(int(r), int(c)): int(v) for r, c, v in zip(coo.row, coo.col, coo.data) if v != 0}


# --------------------------------------------------------------------------------------------------
# pretrain and Embeddings


@pytest.mark.parametrize("window", [1, 2, 3, 5])
def test_pretrain_counts_equal_oracle(backend, window):
    emb = pretrain(CORPUS, window=window)
    vocab, counts = expected_counts(CORPUS, window)
    assert emb.index_to_key == vocab
    assert emb.index_to_key == sorted(emb.index_to_key)
    assert emb.key_to_index == {w: i for i, w in enumerate(vocab)}
    assert len(emb) == len(vocab)
    assert sp.issparse(emb.counts) and emb.counts.format == "csr"
    assert emb.counts.dtype == np.int64
    assert emb.counts.shape == (len(vocab), len(vocab))
    assert as_dict(emb.counts) == counts
    assert emb.window == window


def test_pretrain_vectors_are_normalized_rows(backend):
    emb = pretrain(CORPUS, window=2)
    v = emb.vectors
    assert sp.issparse(v) and v.format == "csr" and v.dtype == np.float64
    counts = emb.counts.toarray().astype(np.float64)
    norms = np.linalg.norm(counts, axis=1)
    expected = np.divide(counts, norms[:, None], out=np.zeros_like(counts), where=norms[:, None] > 0)
    np.testing.assert_allclose(v.toarray(), expected, rtol=1e-13, atol=0)
    row_norms = np.sqrt(np.asarray(v.multiply(v).sum(axis=1)).ravel())
    for r, n in enumerate(row_norms):
        assert math.isclose(n, 1.0, rel_tol=1e-12) or (n == 0.0 and norms[r] == 0.0)
    assert np.all(row_norms > 0)  # every word of this corpus has a neighbour


def test_getitem_contains_similarity(backend):
    emb = pretrain(CORPUS, window=2)
    counts = emb.counts.toarray().astype(np.float64)
    for i, word in enumerate(emb.index_to_key):
        vec = emb[word]
        assert isinstance(vec, np.ndarray) and vec.dtype == np.float64 and vec.shape == (len(emb),)
        np.testing.assert_allclose(vec, counts[i] / np.linalg.norm(counts[i]), rtol=1e-13)
        np.testing.assert_array_equal(vec, emb.get_vector(word))
        assert word in emb
    assert "the" not in emb  # a stopword
    assert "zebra" not in emb
    assert 3 not in emb
    for a, b in [("fox", "dog"), ("quick", "brown"), ("lazy", "fox"), ("fox", "fox")]:
        assert math.isclose(emb.similarity(a, b), cosine(emb[a], emb[b]), rel_tol=1e-12, abs_tol=1e-15)
    assert math.isclose(emb.similarity("fox", "fox"), 1.0, rel_tol=1e-14)


@pytest.mark.parametrize("window", [1, 3])
def test_most_similar_equals_brute_force(backend, window):
    emb = pretrain(CORPUS, window=window)
    for word in emb.index_to_key:
        for topn in (0, 1, 5, len(emb) - 1, len(emb) + 10):
            assert_neighbours_equal(emb.most_similar(word, topn=topn), brute_most_similar(emb, word, topn))
    assert len(emb.most_similar("fox")) == 5  # default topn


def test_most_similar_demo_corpus_every_word(backend):
    emb = pretrain(load_demo_data()["corpus"], window=3)
    for word in emb.index_to_key:
        got = emb.most_similar(word, topn=8)
        assert_neighbours_equal(got, brute_most_similar(emb, word, 8))


def test_most_similar_with_a_vector(backend):
    emb = pretrain(CORPUS, window=2)
    query = emb["fox"] + emb["dog"]
    got = emb.most_similar(query, topn=len(emb))
    rows = dense_rows(emb)
    want = sorted(((w, cosine(query, v)) for w, v in rows.items()), key=lambda x: x[1], reverse=True)
    assert_neighbours_equal(got, want)
    with pytest.raises(ValueError):
        emb.most_similar(np.ones(3))


@pytest.mark.parametrize(
    "call",
    [
        lambda emb: emb["zebra"],
        lambda emb: emb.get_vector("zebra"),
        lambda emb: emb.most_similar("zebra"),
        lambda emb: emb.similarity("fox", "zebra"),
        lambda emb: emb.similarity("zebra", "fox"),
    ],
)
def test_unknown_word_keyerror_names_the_word(backend, call):
    emb = pretrain(CORPUS, window=2)
    with pytest.raises(KeyError, match="zebra"):
        call(emb)


def test_pretrain_accepts_a_string_of_lines(backend):
    a = pretrain("\n".join(CORPUS), window=2)
    b = pretrain(CORPUS, window=2)
    assert a.index_to_key == b.index_to_key
    assert (a.counts != b.counts).nnz == 0


def test_pretrain_stopwords_none_keeps_everything(backend):
    emb = pretrain(CORPUS, window=2, stopwords=None)
    vocab, counts = expected_counts(CORPUS, 2, stopwords=None)
    assert "the" in emb and emb.index_to_key == vocab
    assert as_dict(emb.counts) == counts


def random_texts(seed: int) -> list[str]:
    """Seeded random sentences with mixed case, stopwords, digits, punctuation and non-ASCII letters."""
    rng = np.random.default_rng(seed)
    letters = list("abcdefghijklmnopqrstuvwxyz") + list("éßİΣσςœ中文ДЖ")
    pool = ["".join(rng.choice(letters, size=int(rng.integers(1, 6)))) for _ in range(40)]
    pool += sorted(cooc.STOPWORDS)
    seps = [" ", "  ", ", ", "-", "'", "2", "²", "\u0301", "\t", ". ", "!?", "_"]
    texts = []
    for _ in range(int(rng.integers(1, 30))):
        words = [str(rng.choice(pool)) for _ in range(int(rng.integers(0, 20)))]
        words = [w.upper() if rng.random() < 0.2 else w for w in words]
        text = ""
        for w in words:
            text += w + str(rng.choice(seps))
        texts.append(text)
    return texts


@pytest.mark.parametrize("seed", range(12))
def test_pretrain_random_texts_equal_oracle(backend, seed):
    texts = random_texts(seed)
    window = 1 + seed % 6
    vocab, counts = expected_counts(texts, window)
    if not vocab:
        with pytest.raises(ValueError, match="empty corpus"):
            pretrain(texts, window=window)
        return
    emb = pretrain(texts, window=window)
    assert emb.index_to_key == vocab
    assert as_dict(emb.counts) == counts
    assert emb.counts.dtype == np.int64


@pytest.mark.parametrize(("chunk_chars", "n_jobs"), [(1, 1), (17, 2), (1000, 2)])
def test_pretrain_result_independent_of_chunking_and_threads(backend, chunk_chars, n_jobs):
    texts = random_texts(3) + CORPUS
    base = pretrain(texts, window=3)
    other = pretrain(texts, window=3, chunk_chars=chunk_chars, n_jobs=n_jobs)
    assert other.index_to_key == base.index_to_key
    assert (other.counts != base.counts).nnz == 0
    assert as_dict(base.counts) == expected_counts(texts, 3)[1]


# --------------------------------------------------------------------------------------------------
# decided edge cases


@pytest.mark.parametrize(
    "corpus",
    [[], [""], ["", "   "], ["the and of", "A an THE"], ["123 456 !!!"], "", iter([])],
    ids=["no sentences", "one empty", "blank", "all stopwords", "no letters", "empty str", "empty iter"],
)
def test_empty_corpus_raises(backend, corpus):
    with pytest.raises(ValueError, match="empty corpus"):
        pretrain(corpus)


def test_one_word_sentences(backend):
    emb = pretrain(["alpha", "beta", "alpha the", "gamma"], window=3)
    assert emb.index_to_key == ["alpha", "beta", "gamma"]
    assert emb.counts.nnz == 0 and emb.counts.shape == (3, 3)
    assert np.all(emb.vectors.toarray() == 0.0)
    for w in emb.index_to_key:
        assert np.all(emb[w] == 0.0)
    sim = emb.similarity("alpha", "beta")
    assert sim == 0.0 and not math.isnan(sim)
    assert emb.most_similar("alpha", topn=5) == [("beta", 0.0), ("gamma", 0.0)]
    assert emb.most_similar("gamma", topn=1) == [("alpha", 0.0)]


def test_zero_row_next_to_normal_rows(backend):
    emb = pretrain(["solo", "good food", "good wine"], window=1)
    assert np.all(emb["solo"] == 0.0)
    assert emb.similarity("solo", "good") == 0.0
    assert emb.similarity("good", "solo") == 0.0
    # the zero row ranks with similarity 0.0, ties broken by vocabulary order
    assert_neighbours_equal(emb.most_similar("solo", topn=4), brute_most_similar(emb, "solo", 4))
    assert [s for _, s in emb.most_similar("solo", topn=4)] == [0.0, 0.0, 0.0]


def test_window_longer_than_every_sentence(backend):
    tokens = [reference_preprocess(s) for s in CORPUS]
    longest = max(len(t) for t in tokens)
    base = pretrain(CORPUS, window=longest)
    for window in (longest + 1, 10 * longest, 10**9):
        other = pretrain(CORPUS, window=window)
        assert (other.counts != base.counts).nnz == 0
        np.testing.assert_array_equal(other.vectors.toarray(), base.vectors.toarray())
    assert as_dict(base.counts) == expected_counts(CORPUS, longest)[1]
    # and the window matters below that length (so the comparison above is not vacuous)
    assert (pretrain(CORPUS, window=longest - 2).counts != base.counts).nnz > 0


@pytest.mark.parametrize(
    ("text", "window", "diagonal"),
    [("fire fire", 1, 2), ("fire fire", 5, 2), ("fire fire fire", 2, 6), ("fire fire fire", 1, 4)],
)
def test_repeated_words(backend, text, window, diagonal):
    emb = pretrain([text], window=window)
    assert emb.index_to_key == ["fire"]
    assert emb.counts.toarray().tolist() == [[diagonal]]
    assert emb["fire"].tolist() == [1.0]


def test_repeated_stopwords_kept_when_asked(backend):
    with pytest.raises(ValueError, match="empty corpus"):
        pretrain(["the the"])
    emb = pretrain(["the the"], stopwords=None)
    assert emb.counts.toarray().tolist() == [[2]]


@pytest.mark.parametrize("window", [0, -1, 1.5, 2.0, True, False, "3", None, np.float64(3)])
def test_bad_window_raises_valueerror(backend, window):
    with pytest.raises(ValueError, match="window"):
        pretrain(CORPUS, window=window)


def test_numpy_integer_window_accepted(backend):
    a = pretrain(CORPUS, window=np.int64(2))
    assert (a.counts != pretrain(CORPUS, window=2).counts).nnz == 0


def test_min_count_prunes_before_windowing(backend):
    corpus = ["alpha rare beta", "alpha beta gamma", "gamma alpha", "beta rarer alpha"]
    emb = pretrain(corpus, window=1, min_count=2)
    assert emb.index_to_key == ["alpha", "beta", "gamma"]
    # rare words are dropped before windowing: their neighbours become adjacent
    kept = [[t for t in reference_preprocess(s) if t in {"alpha", "beta", "gamma"}] for s in corpus]
    index = {"alpha": 0, "beta": 1, "gamma": 2}
    assert as_dict(emb.counts) == words_to_index_counts(cooccurrence_counts(kept, 1), index)
    assert emb.counts[0, 1] == 3  # alpha-beta: sentences 1 (via "rare"), 2 and 4 (via "rarer")
    assert emb.frequencies.tolist() == [4, 3, 2]
    with pytest.raises(ValueError):
        pretrain(corpus, window=1, min_count=100)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="min_count"):
            pretrain(corpus, min_count=bad)


def test_max_vocab_size_keeps_most_frequent(backend):
    # frequencies: x 3, y 2, z 2, w 1 -> keep x and y (ties broken by word order)
    corpus = ["x y z w", "x y", "z x"]
    emb = pretrain(corpus, window=1, max_vocab_size=2)
    assert emb.index_to_key == ["x", "y"]
    kept = [[t for t in s.split() if t in {"x", "y"}] for s in corpus]
    assert as_dict(emb.counts) == words_to_index_counts(cooccurrence_counts(kept, 1), {"x": 0, "y": 1})
    assert emb.counts[0, 1] == 2
    full = pretrain(corpus, window=1, max_vocab_size=10)
    assert full.index_to_key == ["w", "x", "y", "z"]
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="max_vocab_size"):
            pretrain(corpus, max_vocab_size=bad)


def test_non_text_sentences_rejected(backend):
    with pytest.raises(TypeError):
        pretrain([b"bytes"])
    with pytest.raises(TypeError):
        pretrain(b"bytes")
    with pytest.raises(TypeError):
        pretrain(["fine", 3])


# --------------------------------------------------------------------------------------------------
# random embeddings


def test_random_embeddings_numpy_method():
    words = ["delta", "alpha", "charlie", "bravo"]
    emb = random_embeddings(words, dim=7, seed=3)
    assert emb.index_to_key == words
    assert isinstance(emb.vectors, np.ndarray) and emb.vectors.shape == (4, 7)
    np.testing.assert_allclose(np.linalg.norm(emb.vectors, axis=1), 1.0, rtol=1e-14)
    again = random_embeddings(words, dim=7, seed=3)
    np.testing.assert_array_equal(again.vectors, emb.vectors)
    other = random_embeddings(words, dim=7, seed=4)
    assert not np.allclose(other.vectors, emb.vectors)
    square = random_embeddings(words)
    assert square.vectors.shape == (4, 4)
    np.testing.assert_array_equal(square.vectors, random_embeddings(words, seed=42).vectors)
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError):
            random_embeddings(words, dim=bad)
    with pytest.raises(ValueError):
        random_embeddings([])
    with pytest.raises(ValueError):
        random_embeddings(words, method="torch")


def test_random_embeddings_reference_method_reproduces_random_gauss():
    words = ["bad", "food", "good", "wine", "zebra"]
    emb = random_embeddings(words, seed=42, method="reference")
    rng = random.Random(42)
    expected = []
    for _ in words:  # vocabulary order, dim = V, as the reference script
        vec = [rng.gauss(0, 1) for _ in range(len(words))]
        magnitude = math.sqrt(sum(x * x for x in vec))
        expected.append([x / magnitude for x in vec])
    np.testing.assert_allclose(emb.vectors, np.array(expected), rtol=1e-14, atol=0)
    # the reference seeds the global generator: same stream
    random.seed(42)
    first = [random.gauss(0, 1) for _ in range(len(words))]
    mag = math.sqrt(sum(x * x for x in first))
    np.testing.assert_allclose(emb.vectors[0], [x / mag for x in first], rtol=1e-14)


def test_random_embeddings_from_embeddings(backend):
    emb = pretrain(CORPUS, window=2)
    rnd = random_embeddings(emb, seed=1)
    assert rnd.index_to_key == emb.index_to_key
    assert rnd.vectors.shape == (len(emb), len(emb))
    assert rnd.stopwords == emb.stopwords
    # dense vectors go through the same kernels: neighbours equal the brute force
    for word in ("fox", "dog", "lazy"):
        assert_neighbours_equal(rnd.most_similar(word, topn=6), brute_most_similar(rnd, word, 6))
        assert math.isclose(rnd.similarity(word, "quick"), cosine(rnd[word], rnd["quick"]), rel_tol=1e-12)


# --------------------------------------------------------------------------------------------------
# document vectors, the classifier, classify()


def hand_document_vector(text: str, emb: Embeddings) -> np.ndarray:
    rows = [emb[t] for t in reference_preprocess(text) if t in emb]
    if not rows:
        return np.zeros(emb.vector_size)
    return np.mean(rows, axis=0)


THEMES = [
    "the cat chased the mouse in the house",
    "a cat and a mouse played in the old house",
    "the dog chased the cat across the yard",
    "stocks and bonds fell as markets panicked",
    "investors sold stocks while bonds rallied in markets",
    "the market for bonds and stocks recovered",
    "rain and wind hit the coast during the storm",
    "the storm brought heavy rain and strong wind",
    "sunny weather followed the storm and the rain",
]


def test_document_vector_is_mean_of_rows(backend):
    emb = pretrain(THEMES, window=2)
    for text in ["cat mouse house", "the cat and THE cat, zebra!", "stocks", "storm rain wind rain"]:
        got = document_vector(text, emb)
        assert got.shape == (emb.vector_size,) and got.dtype == np.float64
        np.testing.assert_allclose(got, hand_document_vector(text, emb), rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(
        document_vector("cat cat mouse", emb), (2 * emb["cat"] + emb["mouse"]) / 3, rtol=1e-13
    )


@pytest.mark.parametrize("text", ["", "zebra giraffe", "the and of", "12345"])
def test_document_vector_with_no_known_word_is_zero(backend, text):
    emb = pretrain(THEMES, window=2)
    vec = document_vector(text, emb)
    assert vec.shape == (emb.vector_size,)
    assert np.all(vec == 0.0)


TRAIN = [
    ("cat chased mouse", "zoo"),
    ("mouse house cat", "zoo"),
    ("stocks bonds markets", "finance"),
    ("investors sold bonds", "finance"),
    ("storm rain wind", "weather"),
    ("sunny weather rain", "weather"),
]
TEST = ["the cat and the dog", "bonds fell", "heavy wind", "markets recovered", "mouse"]


def test_nearest_centroid_three_classes(backend):
    emb = pretrain(THEMES, window=2)
    clf = NearestCentroid(emb)
    assert clf.embeddings is emb and clf.get_params() == {"embeddings": emb}
    texts, labels = [t for t, _ in TRAIN], [y for _, y in TRAIN]
    assert clf.fit(texts, labels) is clf
    assert clf.classes_.tolist() == ["finance", "weather", "zoo"]
    assert clf.centroids_.shape == (3, emb.vector_size)
    for c, label in zip(clf.centroids_, clf.classes_):
        members = [hand_document_vector(t, emb) for t, y in TRAIN if y == label]
        np.testing.assert_allclose(c, np.mean(members, axis=0), rtol=1e-13, atol=1e-16)
    scores = clf.decision_function(TEST)
    assert scores.shape == (len(TEST), 3)
    hand = np.array([[cosine(hand_document_vector(t, emb), c) for c in clf.centroids_] for t in TEST])
    np.testing.assert_allclose(scores, hand, rtol=1e-12, atol=1e-15)
    hand_pred = [clf.classes_.tolist()[i] for i in np.argmax(hand, axis=1)]
    assert clf.predict(TEST).tolist() == hand_pred
    truth = ["zoo", "finance", "weather", "finance", "zoo"]
    hand_score = sum(p == t for p, t in zip(hand_pred, truth)) / len(truth)
    assert clf.score(TEST, truth) == pytest.approx(hand_score)
    hand_train = [
        clf.classes_.tolist()[int(np.argmax([cosine(hand_document_vector(t, emb), c) for c in clf.centroids_]))]
        for t in texts
    ]
    assert clf.score(texts, labels) == pytest.approx(np.mean([p == y for p, y in zip(hand_train, labels)]))
    with pytest.raises(ValueError):
        clf.score(TEST, truth[:2])


def test_nearest_centroid_errors_and_zero_document(backend):
    emb = pretrain(THEMES, window=2)
    clf = NearestCentroid(emb)
    with pytest.raises(ValueError, match="fit"):
        clf.predict(["cat"])
    with pytest.raises(ValueError):
        clf.decision_function(["cat"])
    with pytest.raises(ValueError):
        NearestCentroid(emb).fit(["cat", "mouse"], ["zoo", "zoo"])  # one class
    with pytest.raises(ValueError):
        NearestCentroid(emb).fit(["cat", "mouse"], ["zoo"])  # length mismatch
    clf.fit(["stocks", "cat", "rain"], ["b", "a", "c"])
    assert clf.classes_.tolist() == ["a", "b", "c"]
    scores = clf.decision_function(["zebra unknown"])
    assert scores.tolist() == [[0.0, 0.0, 0.0]]
    assert clf.predict(["zebra unknown", ""]).tolist() == ["a", "a"]  # the first of classes_


def test_nearest_centroid_integer_labels(backend):
    emb = pretrain(THEMES, window=2)
    clf = NearestCentroid(emb).fit(["stocks bonds", "cat mouse"], [1, 0])
    assert clf.classes_.tolist() == [0, 1]
    texts = ["bonds markets", "mouse house"]
    centroids = [hand_document_vector("cat mouse", emb), hand_document_vector("stocks bonds", emb)]
    hand = [int(np.argmax([cosine(hand_document_vector(t, emb), c) for c in centroids])) for t in texts]
    assert clf.predict(texts).tolist() == hand


def hand_classify(train, emb, text):
    pos = [hand_document_vector(t, emb) for t, y in train if y == "positive"]
    neg = [hand_document_vector(t, emb) for t, y in train if y != "positive"]
    zero = np.zeros(emb.vector_size)
    pc = np.mean(pos, axis=0) if pos else zero
    nc = np.mean(neg, axis=0) if neg else zero
    test = hand_document_vector(text, emb)
    p, n = cosine(test, pc), cosine(test, nc)
    return ("positive" if p > n else "negative"), p, n


@pytest.mark.parametrize("text", TEST + ["zebra", "cat stocks rain"])
def test_classify_equals_hand_computation(backend, text):
    emb = pretrain(THEMES, window=2)
    train = [(t, "positive" if y == "zoo" else ("negative" if y == "finance" else "neutral"))
             for t, y in TRAIN]
    label, pos, neg = classify(train, emb, text)
    want_label, want_pos, want_neg = hand_classify(train, emb, text)
    assert math.isclose(pos, want_pos, rel_tol=1e-12, abs_tol=1e-15)
    assert math.isclose(neg, want_neg, rel_tol=1e-12, abs_tol=1e-15)
    if abs(want_pos - want_neg) > 1e-12:
        assert label == want_label
    if text == "zebra":  # no known word: both 0.0, not NaN; the tie goes to "negative"
        assert (label, pos, neg) == ("negative", 0.0, 0.0)


def test_classify_with_random_embeddings(backend):
    emb = random_embeddings(pretrain(THEMES, window=2), seed=5, method="reference")
    train = [(t, "positive" if y == "zoo" else "negative") for t, y in TRAIN]
    for text in TEST:
        label, pos, neg = classify(train, emb, text)
        want = hand_classify(train, emb, text)
        assert math.isclose(pos, want[1], rel_tol=1e-12, abs_tol=1e-15)
        assert math.isclose(neg, want[2], rel_tol=1e-12, abs_tol=1e-15)
        assert label == want[0]


# --------------------------------------------------------------------------------------------------
# analyze


def test_analyze_dense_example_by_hand(backend):
    emb = Embeddings(["a", "b", "c", "d"], np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]]))
    res = analyze(emb, {"g1": ["a", "c", "missing"], "g2": ["b", "d"], "g3": ["missing"]})
    assert res.present == {"g1": ["a", "c"], "g2": ["b", "d"], "g3": []}
    # within: g1 = cos(a, c) = 1/sqrt(2); g2 = cos(b, zero) = 0; g3 has < 2 words: absent
    assert set(res.within) == {"g1", "g2"}
    assert math.isclose(res.within["g1"], 1 / math.sqrt(2), rel_tol=1e-15)
    assert res.within["g2"] == 0.0
    # between g1, g2: (cos(a,b) + cos(a,d) + cos(c,b) + cos(c,d)) / 4 = (0 + 0 + 1/sqrt(2) + 0) / 4
    assert list(res.between) == [("g1", "g2"), ("g1", "g3"), ("g2", "g3")]
    assert math.isclose(res.between[("g1", "g2")], 1 / math.sqrt(2) / 4, rel_tol=1e-15)
    assert res.between[("g1", "g3")] == 0.0 and res.between[("g2", "g3")] == 0.0


def test_analyze_pretrained_example_by_hand(backend):
    # window 1: good-food, good-wine, bad-food, great-wine.
    emb = pretrain(["good food", "good wine", "bad food", "great wine"], window=1)
    assert emb.index_to_key == ["bad", "food", "good", "great", "wine"]
    res = analyze(emb, {"adj": ["good", "bad", "great"], "noun": ["food", "wine"]})
    # rows (bad, food, good, great, wine):
    #   bad  = (0,1,0,0,0)           good  = (0,1,0,0,1)/sqrt2     great = (0,0,0,0,1)
    #   food = (1,0,1,0,0)/sqrt2     wine  = (0,0,1,1,0)/sqrt2
    # within adj: cos(good,bad)=1/sqrt2, cos(good,great)=1/sqrt2, cos(bad,great)=0 -> sqrt2/3
    # within noun: cos(food,wine) = 1/2
    # between: every adjective row is orthogonal to every noun row -> 0
    assert math.isclose(res.within["adj"], math.sqrt(2) / 3, rel_tol=1e-14)
    assert math.isclose(res.within["noun"], 0.5, rel_tol=1e-14)
    assert res.between == {("adj", "noun"): 0.0}
    assert res.present == {"adj": ["good", "bad", "great"], "noun": ["food", "wine"]}


def test_analyze_rejects_bad_groups(backend):
    emb = pretrain(THEMES, window=2)
    with pytest.raises(TypeError):
        analyze(emb, {"g": "cat"})
    with pytest.raises(TypeError):
        analyze(emb, [("g", ["cat"])])
    with pytest.raises(TypeError):
        analyze("not embeddings", {"g": ["cat"]})


# -- text in: a custom tokenizer, pre-tokenized input ------------------------------------------------


def test_custom_tokenizer_replaces_the_builtin_one(backend):
    def tok(line):
        return re.findall(r"\w[\w.]*", line.lower())

    emb = pretrain(["E401 on iOS 17.2", "E401 again on iOS"], tokenizer=tok, stopwords=None)
    assert emb.index_to_key == ["17.2", "again", "e401", "ios", "on"]
    assert emb.recipe.tokenizer == "custom" and emb.recipe.lowercase is False
    builtin = pretrain(["E401 on iOS 17.2", "E401 again on iOS"], stopwords=None)
    assert builtin.index_to_key == ["again", "e", "ios", "on"] and builtin.recipe.tokenizer == "builtin"


def test_pretokenized_input_equals_the_same_tokens_as_text(backend):
    lists = [["new", "york", "city"], ["new", "jersey"], ["york", "city", "hall"]]
    a = pretrain(lists, stopwords=None)
    b = pretrain([" ".join(t) for t in lists], stopwords=None)
    assert a.index_to_key == b.index_to_key
    assert (a.counts != b.counts).nnz == 0
    assert a.recipe.tokenizer == "custom"
    kept = pretrain([["New", "York"], ["New", "Jersey"]], stopwords=None)
    assert kept.index_to_key == ["Jersey", "New", "York"]   # tokens kept as given


@pytest.mark.parametrize("tokenizer, error, match", [
    (5, TypeError, "tokenizer must be a callable"),
    (lambda line: 3, TypeError, "tokenizer"),
])
def test_bad_tokenizer_is_refused(tokenizer, error, match):
    with pytest.raises(error, match=match):
        pretrain(["a b c"], tokenizer=tokenizer)
