"""A model's recipe, and domain adaptation: update, merge, restrict_vocab, pretrain(vocabulary=).

Every equality is exact (same words, same integers, same floats) and runs on both backends.
"""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp

import cooc
from cooc.embeddings import Recipe, load_word2vec_format, merge, vocabulary_digest

A = [
    "the cat sat on the mat with another cat",
    "a dog sat on the log and the dog barked",
    "good food and good wine make a good evening",
    "Zoë ate café food; the café was good",
]
B = [
    "the cat chased the dog across the mat",
    "bad food and bad wine make a bad evening",
    "a new word appears: zebra zebra",
    "",
]
C = ["wine and food again", "the zebra sat on the mat"]


def _random_corpus(seed: int, n: int = 300, n_words: int = 60) -> list[str]:
    rng = np.random.default_rng(seed)
    words = [f"w{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(n_words)]
    return [" ".join(words[k] for k in rng.integers(0, n_words, int(rng.integers(0, 12)))) for _ in range(n)]


def assert_same_model(got: cooc.Embeddings, want: cooc.Embeddings) -> None:
    assert got.index_to_key == want.index_to_key
    np.testing.assert_array_equal(got.frequencies, want.frequencies)
    assert got.counts.dtype == np.int64
    assert (got.counts != want.counts).nnz == 0
    got_c, want_c = sp.csr_matrix(got.counts), sp.csr_matrix(want.counts)
    np.testing.assert_array_equal(got_c.indptr, want_c.indptr)
    np.testing.assert_array_equal(got_c.indices, want_c.indices)
    np.testing.assert_array_equal(got_c.data, want_c.data)
    if sp.issparse(want.vectors):
        assert sp.issparse(got.vectors)
        g, w = sp.csr_matrix(got.vectors), sp.csr_matrix(want.vectors)
        np.testing.assert_array_equal(g.indptr, w.indptr)
        np.testing.assert_array_equal(g.indices, w.indices)
        assert g.data.tobytes() == w.data.tobytes()
    else:
        assert got.vectors.tobytes() == want.vectors.tobytes()
    assert got.recipe == want.recipe


# ------------------------------------------------------------------------------------------------
# the recipe


def test_pretrain_records_its_recipe():
    emb = cooc.pretrain(A, window=2, weighting="sppmi", cds=0.5, min_count=1, max_vocab_size=100)
    r = emb.recipe
    assert (r.tokenizer, r.lowercase, r.window, r.distance, r.min_count, r.max_vocab_size) == (
        "builtin", True, 2, "uniform", 1, 100)
    assert r.stopwords == tuple(sorted(cooc.STOPWORDS)) and r.vocabulary is None
    assert (r.weighting, r.cds, r.shift, r.dim, r.p, r.seed, r.add_context) == (
        "sppmi", 0.5, 5.0, None, None, None, None)
    assert r.unknown == frozenset() and r.pruned is False
    # options that do not apply are not recorded: two models made the same way have equal recipes
    assert cooc.pretrain(A, cds=0.3, p=2.0, seed=9).recipe == cooc.pretrain(A).recipe
    svd = cooc.pretrain(A, weighting="ppmi", dim=3, seed=4, add_context=True).recipe
    assert (svd.shift, svd.dim, svd.p, svd.seed, svd.add_context) == (1.0, 3, 0.5, 4, True)


def test_recipe_is_saved_and_loaded(tmp_path):
    emb = cooc.pretrain(A, window=4, weighting="ppmi", distance="harmonic", stopwords=["the", "a"],
                        vocabulary=["cat", "dog", "mat", "log", "sat", "food"])
    loaded = cooc.load(emb.save(tmp_path / "m.npz"))
    assert loaded.recipe == emb.recipe
    with zipfile.ZipFile(tmp_path / "m.npz") as z:
        meta = json.loads(np.lib.format.read_array(z.open("meta.npy")).tobytes())
    assert meta["recipe"]["distance"] == "harmonic" and meta["recipe"]["window"] == 4
    assert meta["recipe"]["stopwords"] == ["a", "the"]


def test_a_file_without_a_recipe_knows_only_window_and_stopwords(tmp_path):
    emb = cooc.pretrain(A)
    emb.recipe = Recipe.unknown_recipe(emb.window, emb.stopwords)  # what an older file holds
    loaded = cooc.load(emb.save(tmp_path / "old.npz"))
    assert loaded.recipe.window == 3 and loaded.recipe.stopwords == tuple(sorted(cooc.STOPWORDS))
    assert "distance" in loaded.recipe.unknown and "window" not in loaded.recipe.unknown
    with pytest.raises(ValueError, match="does not record 'distance'"):
        loaded.reweight("ppmi")
    with pytest.raises(ValueError, match="does not record 'tokenizer'"):
        loaded.update(B)
    with pytest.raises(ValueError, match="does not record"):
        merge(loaded, cooc.pretrain(B))
    # what the user knows can be stated
    loaded.recipe = loaded.recipe.assume(distance="uniform")
    assert loaded.reweight("ppmi").recipe.weighting == "ppmi"
    loaded.recipe = loaded.recipe.assume(tokenizer="builtin", lowercase=True, min_count=1, max_vocab_size=None,
                                         vocabulary=None, weighting="count", cds=None, shift=None, dim=None,
                                         p=None, seed=None, add_context=None)
    got = loaded.update(B)
    want = cooc.pretrain(A + B)
    assert got.index_to_key == want.index_to_key and (got.counts != want.counts).nnz == 0
    with pytest.raises(TypeError, match="no field 'colour'"):
        loaded.recipe.assume(colour="red")
    with pytest.raises(ValueError, match="'distance'"):
        loaded.recipe.assume(distance="cubic")


def test_a_corrupt_recipe_in_a_file_is_refused(tmp_path):
    from cooc import io

    emb = cooc.pretrain(A)
    for bad, match in [({"window": "3"}, "window"), ({"weighting": "tfidf"}, "weighting"),
                       ({"colour": 1}, "colour"), ({"stopwords": "the"}, "stopwords")]:
        data = io.ModelData(emb.index_to_key, emb.vectors, emb.counts, emb.frequencies, emb.window,
                            emb.stopwords, {}, bad)
        path = io.write_model(tmp_path / "bad.npz", data)
        with pytest.raises(cooc.ModelFileError, match=match):
            cooc.load(path)


def test_window_and_stopwords_follow_the_recipe():
    emb = cooc.pretrain(A)
    emb.window = 5
    assert emb.recipe.window == 5
    emb.stopwords = None
    assert emb.recipe.stopwords is None and emb.stopwords is None
    with pytest.raises(ValueError, match="window"):
        cooc.Embeddings(emb.index_to_key, emb.vectors, emb.counts, window=2, stopwords=None, recipe=emb.recipe)
    with pytest.raises(TypeError, match="recipe"):
        cooc.Embeddings(["a"], np.eye(1), recipe={"window": 3})


# ------------------------------------------------------------------------------------------------
# reweight follows the recipe


@pytest.mark.parametrize("distance", ["harmonic", "linear"])
def test_reweight_refuses_a_distance_weighted_model(distance):
    emb = cooc.pretrain(A, distance=distance)
    with pytest.raises(ValueError, match=f"distance='{distance}'"):
        emb.reweight("ppmi")
    with pytest.raises(ValueError, match="distance"):
        emb.update(B)
    with pytest.raises(ValueError, match="distance"):
        emb.restrict_vocab(min_count=2)


def test_reweight_keeps_the_counting_recipe(backend):
    emb = cooc.pretrain(A, window=2, min_count=1, stopwords=None)
    got = emb.reweight("ppmi", dim=3, seed=1)
    want = cooc.pretrain(A, window=2, stopwords=None, weighting="ppmi", dim=3, seed=1)
    assert got.recipe == want.recipe
    assert got.reweight("count").recipe == emb.recipe


# ------------------------------------------------------------------------------------------------
# update and merge equal pretraining on all the text


OPTIONS = [
    {},
    {"window": 1, "stopwords": None},
    {"weighting": "ppmi", "cds": 0.5},
    {"weighting": "sppmi", "window": 5},
    {"weighting": "ppmi", "dim": 4, "seed": 3},
    {"weighting": "count", "dim": 3, "add_context": True, "p": 1.0},
]


@pytest.mark.parametrize("options", OPTIONS, ids=[str(o) for o in OPTIONS])
def test_update_and_merge_equal_pretrain_on_all_the_text(backend, options):
    want = cooc.pretrain(A + B + C, **options)
    assert_same_model(cooc.pretrain(A, **options).update(B).update(C), want)
    assert_same_model(merge(cooc.pretrain(A, **options), cooc.pretrain(B, **options),
                            cooc.pretrain(C, **options)), want)
    # merge order does not matter
    assert_same_model(merge(cooc.pretrain(C, **options), cooc.pretrain(A + B, **options)), want)


def test_update_and_merge_on_random_corpora(backend):
    a, b = _random_corpus(1), _random_corpus(2, n_words=80)
    want = cooc.pretrain(a + b, window=4, stopwords=None)
    assert_same_model(cooc.pretrain(a, window=4, stopwords=None).update(b, n_jobs=2), want)
    assert_same_model(merge(cooc.pretrain(a, window=4, stopwords=None),
                            cooc.pretrain(b, window=4, stopwords=None)), want)


def test_update_reads_files_and_spills(tmp_path):
    path = tmp_path / "b.txt"
    path.write_text("\n".join(_random_corpus(5, n=2000)), encoding="utf-8")
    a = _random_corpus(4)
    want = cooc.pretrain(a + _random_corpus(5, n=2000))
    got = cooc.pretrain(a).update(cooc.LineCorpus(path), memory_limit="1MB", chunk_chars=4096)
    assert_same_model(got, want)


def test_update_leaves_the_model_unchanged():
    emb = cooc.pretrain(A)
    words, counts = list(emb.index_to_key), emb.counts.copy()
    emb.update(B)
    assert emb.index_to_key == words and (emb.counts != counts).nnz == 0


def test_merge_of_saved_models_equals_pretrain(tmp_path):
    a = cooc.load(cooc.pretrain(A, weighting="ppmi").save(tmp_path / "a.npz"))
    b = cooc.load(cooc.pretrain(B, weighting="ppmi").save(tmp_path / "b.npz"))
    assert_same_model(merge(a, b), cooc.pretrain(A + B, weighting="ppmi"))


@pytest.mark.parametrize("field, a, b", [
    ("window", {"window": 2}, {"window": 3}),
    ("stopwords", {"stopwords": None}, {}),
    ("min_count", {"min_count": 2}, {}),
    ("max_vocab_size", {"max_vocab_size": 5}, {}),
    ("weighting", {"weighting": "ppmi"}, {}),
    ("cds", {"weighting": "ppmi", "cds": 0.5}, {"weighting": "ppmi"}),
    ("dim", {"dim": 2}, {"dim": 3}),
    ("seed", {"dim": 2, "seed": 1}, {"dim": 2}),
    ("vocabulary", {"vocabulary": ["cat", "dog", "food"]}, {}),
])
def test_merge_refuses_different_recipes_naming_the_field(field, a, b):
    with pytest.raises(ValueError, match=f"models 1 and 2 were made differently: {field} is"):
        merge(cooc.pretrain(A, **a), cooc.pretrain(B, **b))


def test_merge_and_update_validate_their_input():
    emb = cooc.pretrain(A)
    with pytest.raises(ValueError, match="at least two"):
        merge(emb)
    with pytest.raises(TypeError, match="model 2 must be a cooc.Embeddings"):
        merge(emb, "b.npz")
    with pytest.raises(ValueError, match="no counts"):
        merge(emb, cooc.random_embeddings(emb, dim=3))
    with pytest.raises(ValueError, match="n_jobs"):
        merge(emb, emb, n_jobs=0)
    with pytest.raises(ValueError, match="no counts"):
        cooc.random_embeddings(emb, dim=3).update(B)
    for kwargs, match in [({"min_count": 0}, "min_count"), ({"n_jobs": 0}, "n_jobs"),
                          ({"memory_limit": "lots"}, "memory_limit"), ({"chunk_chars": 0}, "chunk_chars"),
                          ({"vocabulary": ["cat"]}, "vocabulary")]:
        with pytest.raises((ValueError, TypeError), match=match):
            emb.update(B, **kwargs)
    with pytest.raises(ValueError, match="empty corpus"):
        emb.update(["the a", ""])
    with pytest.raises(TypeError, match="chunks must be str|str"):
        emb.update([b"bytes"])


def test_update_with_min_count_drops_rare_words_after_counting(backend):
    emb = cooc.pretrain(A).update(B, min_count=2)
    full = cooc.pretrain(A + B)
    keep = [w for w, f in zip(full.index_to_key, full.frequencies.tolist()) if f >= 2]
    assert emb.index_to_key == keep
    ids = [full.key_to_index[w] for w in keep]
    assert (emb.counts != full.counts[ids][:, ids]).nnz == 0
    assert emb.recipe.pruned is True and emb.recipe.min_count == 1
    # not the same as removing the rare words before windowing
    before = cooc.pretrain(A + B, min_count=2)
    assert before.index_to_key == keep and (before.counts != emb.counts).nnz > 0


def test_merge_keeps_each_models_min_count_and_every_word():
    a, b = cooc.pretrain(A, min_count=2), cooc.pretrain(B, min_count=2)
    m = merge(a, b)
    assert m.index_to_key == sorted(set(a.index_to_key) | set(b.index_to_key))
    assert m.recipe.min_count == 2
    freq = dict(zip(m.index_to_key, m.frequencies.tolist()))
    for model in (a, b):
        for w, f in zip(model.index_to_key, model.frequencies.tolist()):
            assert freq[w] >= f


# ------------------------------------------------------------------------------------------------
# vocabulary= and restrict_vocab


def test_pretrain_with_a_vocabulary_removes_other_words_before_windowing(backend):
    words = ["cat", "dog", "mat", "sat", "zebra", "unicorn"]
    emb = cooc.pretrain(A + B, vocabulary=words, window=1)
    assert emb.index_to_key == ["cat", "dog", "mat", "sat", "zebra"]  # 'unicorn' never occurs
    # the same as a corpus where the other words were never written
    kept = [" ".join(t for t in cooc.tokenize(s) if t in words) for s in A + B]
    ref = cooc.pretrain(kept, window=1)
    assert ref.index_to_key == emb.index_to_key and (ref.counts != emb.counts).nnz == 0
    assert emb.recipe.vocabulary == vocabulary_digest(words) == vocabulary_digest(reversed(words))
    # update needs the same words again
    got = cooc.pretrain(A, vocabulary=words).update(B, vocabulary=set(words))
    assert_same_model(got, cooc.pretrain(A + B, vocabulary=words))
    with pytest.raises(ValueError, match="vocabulary: these words differ"):
        cooc.pretrain(A, vocabulary=words).update(B, vocabulary=words[:-1])
    with pytest.raises(ValueError, match="give the same words"):
        cooc.pretrain(A, vocabulary=words).update(B)


def test_pretrain_vocabulary_is_validated():
    for bad, err, match in [("cat", TypeError, "single str"), ([], ValueError, "empty"),
                            ([1, 2], TypeError, "must hold str"), (5, TypeError, "collection"),
                            (["unicorn"], ValueError, "none of its 1 word")]:
        with pytest.raises(err, match=match):
            cooc.pretrain(A, vocabulary=bad)


def test_restrict_vocab(backend):
    emb = cooc.pretrain(A + B, weighting="ppmi")
    small = emb.restrict_vocab(["cat", "dog", "mat", "food", "nonexistent"], min_count=2)
    assert small.index_to_key == ["cat", "dog", "food", "mat"]
    ids = [emb.key_to_index[w] for w in small.index_to_key]
    assert (small.counts != emb.counts[ids][:, ids]).nnz == 0
    np.testing.assert_array_equal(small.frequencies, emb.frequencies[ids])
    want = cooc.weighting.ppmi(emb.counts[ids][:, ids]).toarray()
    norms = np.linalg.norm(want, axis=1, keepdims=True)
    np.testing.assert_allclose(small.vectors.toarray(),
                               np.divide(want, norms, out=np.zeros_like(want), where=norms > 0), rtol=1e-12)
    assert small.recipe.pruned is True and small.recipe.weighting == "ppmi"
    top = emb.restrict_vocab(max_vocab_size=3)
    order = sorted(range(len(emb)), key=lambda i: (-emb.frequencies[i], emb.index_to_key[i]))[:3]
    assert top.index_to_key == sorted(emb.index_to_key[i] for i in order)
    with pytest.raises(ValueError, match="no word of the vocabulary is left"):
        emb.restrict_vocab(["unicorn"])
    with pytest.raises(ValueError, match="min_count"):
        emb.restrict_vocab(min_count=0)
    with pytest.raises(TypeError, match="single str"):
        emb.restrict_vocab("cat")
    # a pruned model still merges with one made the same way
    assert merge(small, emb).recipe.pruned is True


# ------------------------------------------------------------------------------------------------
# most_similar(positive=, negative=)


def _analogy_model() -> cooc.Embeddings:
    rng = np.random.default_rng(0)
    words = ["king", "queen", "man", "woman", "paris", "france", "rome", "italy", "apple", "pear", "King"]
    return cooc.Embeddings(words, rng.standard_normal((len(words), 6)), stopwords=None)


def test_most_similar_3cosadd_by_hand():
    emb = _analogy_model()
    unit = emb.vectors / np.linalg.norm(emb.vectors, axis=1, keepdims=True)
    k = emb.key_to_index
    q = unit[k["queen"]] + unit[k["man"]] - unit[k["woman"]]
    q /= np.linalg.norm(q)
    sims = unit @ q
    order = [i for i in np.argsort(-sims, kind="stable") if i not in (k["queen"], k["man"], k["woman"])]
    got = emb.most_similar(positive=["queen", "man"], negative=["woman"], topn=4)
    assert [w for w, _ in got] == [emb.index_to_key[i] for i in order[:4]]
    np.testing.assert_allclose([s for _, s in got], sims[order[:4]], rtol=1e-12)
    # a single word in a list is the word's own neighbours; the old call still works
    one, old = emb.most_similar(positive=["king"], topn=3), emb.most_similar("king", topn=3)
    assert [w for w, _ in one] == [w for w, _ in old]
    np.testing.assert_allclose([s for _, s in one], [s for _, s in old], rtol=1e-12)
    assert emb.most_similar("king", 3) == emb.most_similar("king", topn=3)
    # negative only, and vectors mixed with words
    neg = emb.most_similar(negative=["king"], topn=1)
    assert neg[0][0] == emb.index_to_key[int(np.argmin(unit @ unit[k["king"]]))]
    mixed = emb.most_similar(positive=[unit[k["queen"]], "man"], negative=["woman"], topn=4)
    assert [w for w, _ in mixed if w != "queen"][:3] == [w for w, _ in got][:3]  # a vector is not left out


def test_most_similar_on_sparse_vectors_and_errors(backend):
    emb = cooc.pretrain(A + B)
    got = emb.most_similar(positive=["cat", "food"], negative=["dog"], topn=3)
    dense = cooc.Embeddings(emb.index_to_key, emb.vectors.toarray(), stopwords=None)
    want = dense.most_similar(positive=["cat", "food"], negative=["dog"], topn=3)
    assert [w for w, _ in got] == [w for w, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=1e-12)
    with pytest.raises(KeyError, match="unicorn"):
        emb.most_similar(positive=["cat", "unicorn"])
    with pytest.raises(ValueError, match="at least one"):
        emb.most_similar(positive=[])
    with pytest.raises(ValueError, match="cancel"):
        emb.most_similar(positive=["cat"], negative=["cat"])
    with pytest.raises(ValueError, match="topn"):
        emb.most_similar(positive=["cat"], topn=-1)
    with pytest.raises(TypeError, match="positive"):
        emb.most_similar(positive=[3])
    with pytest.raises(ValueError, match="shape"):
        emb.most_similar(positive=[np.ones(2)])


# ------------------------------------------------------------------------------------------------
# evaluate_word_analogies


QUESTIONS = """\
: capital-common-countries
paris france rome italy
rome italy paris france
Paris France Rome Italy
: family
king queen man woman
man woman king queen
king queen apple pear
: oov
king queen unicorn horn

: empty-section
"""


def _expected_analogies(emb, questions, restrict_vocab, case_insensitive):
    """The answers computed independently: the full similarity list, sorted, by plain numpy."""
    keys = emb.index_to_key[:restrict_vocab]
    vec = np.asarray(emb.vectors[: len(keys)], dtype=np.float64)
    unit = vec / np.linalg.norm(vec, axis=1, keepdims=True)
    norm = str.upper if case_insensitive else (lambda w: w)
    first = {}
    for i, w in enumerate(keys):
        first.setdefault(norm(w), i)
    correct = incorrect = 0
    for line in questions.splitlines():
        if not line.strip() or line.startswith(":"):
            continue
        a, b, c, d = (norm(x) for x in line.split())
        if not all(x in first for x in (a, b, c, d)):
            continue
        q = unit[first[b]] + unit[first[c]] - unit[first[a]]
        sims = unit @ (q / np.linalg.norm(q))
        ranked = [i for i in sorted(range(len(keys)), key=lambda i: (-sims[i], i))
                  if i not in (first[a], first[b], first[c])][:5]
        predicted = None
        for i in ranked:
            predicted = norm(keys[i])
            if predicted not in (a, b, c):
                break
        if predicted == d:
            correct += 1
        else:
            incorrect += 1
    return correct, incorrect


@pytest.mark.parametrize("case_insensitive", [True, False])
@pytest.mark.parametrize("restrict_vocab", [None, 8])
def test_evaluate_word_analogies_by_hand(tmp_path, case_insensitive, restrict_vocab):
    path = tmp_path / "questions-words.txt"
    path.write_text(QUESTIONS, encoding="utf-8")
    emb = _analogy_model()
    # make the analogies hold: queen - king = woman - man, france - paris = italy - rome
    k = emb.key_to_index
    v = emb.vectors
    v[k["woman"]] = v[k["man"]] + v[k["queen"]] - v[k["king"]]
    v[k["italy"]] = v[k["rome"]] + v[k["france"]] - v[k["paris"]]
    emb = cooc.Embeddings(emb.index_to_key, v, stopwords=None)
    score, sections = emb.evaluate_word_analogies(path, restrict_vocab=restrict_vocab,
                                                  case_insensitive=case_insensitive)
    correct, incorrect = _expected_analogies(emb, QUESTIONS, restrict_vocab or len(emb), case_insensitive)
    assert correct + incorrect > 0
    assert score == correct / (correct + incorrect)
    assert [s["section"] for s in sections] == ["capital-common-countries", "family", "oov", "empty-section",
                                               "Total accuracy"]
    total = sections[-1]
    assert (len(total["correct"]), len(total["incorrect"])) == (correct, incorrect)
    assert sections[2]["correct"] == sections[2]["incorrect"] == []
    if restrict_vocab is None:
        fam = sections[1]
        want = ("KING", "QUEEN", "MAN", "WOMAN") if case_insensitive else ("king", "queen", "man", "woman")
        assert want in fam["correct"]
    dummy, dsections = emb.evaluate_word_analogies(path, restrict_vocab=restrict_vocab,
                                                   case_insensitive=case_insensitive, dummy4unknown=True)
    assert len(dsections[-1]["incorrect"]) > incorrect and dummy < score or score == 0


def test_evaluate_word_analogies_on_sparse_vectors(tmp_path, backend):
    path = tmp_path / "q.txt"
    path.write_text(": s\ncat dog mat log\nfood wine good bad\ncat mat dog log\n", encoding="utf-8")
    emb = cooc.pretrain(A + B)
    dense = cooc.Embeddings(emb.index_to_key, emb.vectors.toarray(), stopwords=None)
    got = emb.evaluate_word_analogies(path)
    assert got == dense.evaluate_word_analogies(path)
    correct, incorrect = _expected_analogies(dense, path.read_text(), len(emb), True)
    assert got[0] == correct / (correct + incorrect)


def test_evaluate_word_analogies_refuses_bad_files(tmp_path):
    emb = _analogy_model()
    for text, match in [("king queen man woman\n", "line 1: a question before any ': section'"),
                        (": s\nking queen man\n", "line 2: expected 4 words"),
                        (": s\n\n", "no analogy questions")]:
        path = tmp_path / "bad.txt"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match=match):
            emb.evaluate_word_analogies(path)
    path.write_bytes(b": s\nking queen man \xff\n")
    with pytest.raises(ValueError, match="line 2"):
        emb.evaluate_word_analogies(path)
    with pytest.raises(ValueError, match="restrict_vocab"):
        emb.evaluate_word_analogies(path, restrict_vocab=0)
    with pytest.raises(TypeError, match="case_insensitive"):
        emb.evaluate_word_analogies(path, case_insensitive="yes")


# ------------------------------------------------------------------------------------------------
# word2vec and GloVe files


def test_word2vec_text_and_binary_round_trip(tmp_path):
    emb = cooc.pretrain(A + B).reweight(dim=4)
    text = load_word2vec_format(emb.save_word2vec_format(tmp_path / "v.txt"))
    assert text.index_to_key == emb.index_to_key and text.vectors.tobytes() == emb.vectors.tobytes()
    binary = load_word2vec_format(emb.save_word2vec_format(tmp_path / "v.bin", binary=True), binary=True)
    assert binary.index_to_key == emb.index_to_key
    np.testing.assert_array_equal(binary.vectors, emb.vectors.astype(np.float32))
    assert load_word2vec_format(tmp_path / "v.bin", binary=True, limit=3).index_to_key == emb.index_to_key[:3]
    assert load_word2vec_format(tmp_path / "v.txt", limit=2).index_to_key == emb.index_to_key[:2]
    assert text.counts is None and "distance" in text.recipe.unknown


def test_glove_text_without_a_header(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text("the 0.1 0.2 -0.3\ncafé 1 2 3\n\nzoë 1e-3 -2.5 0\n", encoding="utf-8")
    emb = load_word2vec_format(path)
    assert emb.index_to_key == ["the", "café", "zoë"]
    np.testing.assert_array_equal(emb.vectors, [[0.1, 0.2, -0.3], [1, 2, 3], [1e-3, -2.5, 0]])


@pytest.mark.parametrize("text, match", [
    ("2 3\na 1 2 3\nb 1 2\n", "line 3: expected a word and 3 values"),
    ("2 3\na 1 2 3\n", "line 3: the file ends after 1 vector"),
    ("1 3\na 1 2 3\nb 1 2 3\n", "line 3: more vectors than the 1"),
    ("2 2\na 1 2\na 3 4\n", "line 3: the word 'a' repeats line 2"),
    ("a 1 x\n", "line 1: 'x' is not a number"),
    ("a 1 nan\n", "line 1: a value is not finite"),
    ("2 0\n", "dimension 0"),
    ("", "line 1: empty"),
    ("word\n", "line 1: expected a word and its values"),
])
def test_word2vec_text_errors_name_the_line(tmp_path, text, match):
    path = tmp_path / "bad.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=match) as info:
        load_word2vec_format(path)
    assert str(path) in str(info.value)


def test_word2vec_binary_errors(tmp_path):
    path = tmp_path / "bad.bin"
    good = b"2 2\na " + np.array([1, 2], "<f4").tobytes() + b"\nb " + np.array([3, 4], "<f4").tobytes() + b"\n"
    path.write_bytes(good)
    assert load_word2vec_format(path, binary=True).index_to_key == ["a", "b"]
    for raw, match in [(good[:-6], "too short|truncated"), (b"x y\n", "header"),
                       (good.replace(b"b ", b"a "), "repeats vector 1"),
                       (good + b"c " + bytes(8), "bytes after the 2 vectors"),
                       (b"1 2\n\xff " + bytes(8), "not valid utf-8"),
                       (b"1 2\na " + np.array([1, np.inf], "<f4").tobytes(), "not finite")]:
        path.write_bytes(raw)
        with pytest.raises(ValueError, match=match):
            load_word2vec_format(path, binary=True)
    with pytest.raises(ValueError, match="limit"):
        load_word2vec_format(path, limit=-1)
    with pytest.raises(TypeError, match="binary"):
        load_word2vec_format(path, binary="yes")
    with pytest.raises(IsADirectoryError):
        load_word2vec_format(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_word2vec_format(tmp_path / "missing.txt")


def test_to_gensim_without_gensim(monkeypatch):
    import sys

    emb = cooc.pretrain(A)
    monkeypatch.setitem(sys.modules, "gensim", None)  # the import fails, as when gensim is not installed
    monkeypatch.setitem(sys.modules, "gensim.models", None)
    with pytest.raises(ImportError, match="cooc\\[gensim\\]"):
        emb.to_gensim()


# ------------------------------------------------------------------------------------------------
# the command line: cooc update, cooc merge


def _files(tmp_path):
    a, b, c = tmp_path / "a.txt", tmp_path / "b.txt.gz", tmp_path / "c.txt"
    a.write_text("\n".join(A) + "\n", encoding="utf-8")
    import gzip

    with gzip.open(b, "wt", encoding="utf-8") as f:
        f.write("\n".join(B) + "\n")
    c.write_text("\n".join(C) + "\n", encoding="utf-8")
    return a, b, c


def test_cli_update_and_merge_equal_pretrain(tmp_path, capsys):
    from cooc.cli import main

    a, b, c = _files(tmp_path)
    assert main(["pretrain", str(a), "-o", str(tmp_path / "a.npz"), "--weighting", "ppmi", "-q"]) == 0
    assert main(["pretrain", str(b), "-o", str(tmp_path / "b.npz"), "--weighting", "ppmi", "-q"]) == 0
    capsys.readouterr()
    want = cooc.pretrain(cooc.LineCorpus([a, b, c]), weighting="ppmi")

    assert main(["update", str(tmp_path / "a.npz"), str(b), str(c), "-o", str(tmp_path / "u.npz"), "-q"]) == 0
    assert_same_model(cooc.load(tmp_path / "u.npz"), want)
    assert "V=" in capsys.readouterr().err

    assert main(["pretrain", str(c), "-o", str(tmp_path / "c.npz"), "--weighting", "ppmi", "-q"]) == 0
    capsys.readouterr()
    models = [str(tmp_path / f"{x}.npz") for x in "abc"]
    assert main(["merge", *models, "-o", str(tmp_path / "m.npz"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["words"] == len(want) and report["nonzeros"] == want.counts.nnz
    assert report["recipe"]["weighting"] == "ppmi" and report["models"] == models
    assert_same_model(cooc.load(tmp_path / "m.npz"), want)

    assert main(["update", models[0], str(b), "-o", str(tmp_path / "u2.npz"), "--json", "--min-count", "2"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["recipe"]["pruned"] is True and report["words_before"] == len(cooc.load(models[0]))


def test_cli_update_with_a_vocabulary_file(tmp_path, capsys):
    from cooc.cli import main

    a, b, _ = _files(tmp_path)
    words = ["cat", "dog", "mat", "food", "zebra"]
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("# words\n" + "\n".join(words) + "\n\n", encoding="utf-8")
    cooc.pretrain(cooc.LineCorpus(a), vocabulary=words).save(tmp_path / "a.npz")
    assert main(["update", str(tmp_path / "a.npz"), str(b), "-o", str(tmp_path / "u.npz"),
                 "--vocabulary", str(vocab), "-q"]) == 0
    assert_same_model(cooc.load(tmp_path / "u.npz"), cooc.pretrain(cooc.LineCorpus([a, b]), vocabulary=words))
    assert main(["update", str(tmp_path / "a.npz"), str(b), "-o", str(tmp_path / "u.npz"), "-q"]) == 2
    assert "give the same words" in capsys.readouterr().err
    vocab.write_text("two words\n", encoding="utf-8")
    assert main(["update", str(tmp_path / "a.npz"), str(b), "-o", str(tmp_path / "u.npz"),
                 "--vocabulary", str(vocab)]) == 2
    assert "line 1: expected one word" in capsys.readouterr().err


@pytest.mark.parametrize("argv, match", [
    (["update", "{missing}", "{a}", "-o", "{out}"], "MODEL {missing}: no such file"),
    (["update", "{tmp}", "{a}", "-o", "{out}"], "is a directory"),
    (["update", "{model}", "{missing}", "-o", "{out}"], "missing.txt"),
    (["update", "{model}", "{a}", "-o", "{tmp}"], "-o/--output .* is a directory"),
    (["update", "{model}", "{a}", "-o", "{tmp}/nodir/x.npz"], "does not exist"),
    (["update", "{model}", "{a}", "-o", "{out}", "--vocabulary", "{missing}"], "--vocabulary .*no such file"),
    (["update", "{model}", "{a}", "-o", "{out}", "--memory-limit", "lots"], "memory_limit"),
    (["update", "{a}", "{a}", "-o", "{out}"], "not a cooc model file"),
    (["update", "{linear}", "{a}", "-o", "{out}"], "distance='linear'"),
    (["merge", "{model}", "-o", "{out}"], "at least two models"),
    (["merge", "{model}", "{linear}", "-o", "{out}"], "distance"),
    (["merge", "{model}", "{window2}", "-o", "{out}"], "{model} and {window2} were made differently: window"),
])
def test_cli_errors_are_one_line_and_exit_2(tmp_path, capsys, argv, match):
    from cooc.cli import main

    a, _, _ = _files(tmp_path)
    names = {"a": str(a), "tmp": str(tmp_path), "out": str(tmp_path / "out.npz"),
             "missing": str(tmp_path / "missing.txt"), "model": str(tmp_path / "m.npz"),
             "linear": str(tmp_path / "linear.npz"), "window2": str(tmp_path / "w2.npz")}
    cooc.pretrain(A).save(names["model"])
    cooc.pretrain(A, distance="linear").save(names["linear"])
    cooc.pretrain(A, window=2).save(names["window2"])
    capsys.readouterr()
    assert main([x.format(**names) for x in argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"cooc {argv[0]}: error: ")
    import re

    assert re.search(match.format(**names), err), err
    assert not (tmp_path / "out.npz").exists()


def test_cli_help_describes_every_option(capsys):
    from cooc.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, __import__("argparse")._SubParsersAction))
    for name in ("update", "merge"):
        for action in sub.choices[name]._actions:
            assert action.help, f"cooc {name}: {action.option_strings or action.dest} has no help"
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(["merge", "--help"])
    assert exc.value.code == 0 and "--json" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(["update", "m.npz", "c.txt", "-o", "x.npz", "--min-count", "0"])
    assert exc.value.code == 2
