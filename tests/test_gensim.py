"""The gensim round trip: KeyedVectors out, word2vec files both ways, and the same answers as gensim
(most_similar with positive / negative, evaluate_word_analogies). Needs gensim (the ``gensim`` extra);
the same behaviour is checked without gensim in tests/test_adapt.py."""

from __future__ import annotations

import numpy as np
import pytest

import cooc
from cooc.embeddings import load_word2vec_format

gensim_models = pytest.importorskip("gensim.models")
KeyedVectors = gensim_models.KeyedVectors

CORPUS = [
    "the cat sat on the mat with another cat",
    "a dog sat on the log and the dog barked",
    "good food and good wine make a good evening",
    "bad food and bad wine make a bad evening",
]


def _vectors(n_words: int = 120, dim: int = 8, seed: int = 0) -> cooc.Embeddings:
    """Random vectors with exact float32 values (gensim computes in float32), with some analogies built in."""
    rng = np.random.default_rng(seed)
    words = [f"w{i:03d}" for i in range(n_words)] + ["Paris", "paris", "France", "rome", "italy"]
    v = rng.standard_normal((len(words), dim)).astype(np.float32)
    for i in range(0, min(40, n_words - 3), 4):  # w[i+3] = w[i+2] + w[i+1] - w[i], plus noise
        v[i + 3] = v[i + 2] + v[i + 1] - v[i] + 0.3 * rng.standard_normal(dim).astype(np.float32)
    return cooc.Embeddings(words, v.astype(np.float64), stopwords=None)


def _questions(tmp_path, emb: cooc.Embeddings, seed: int = 1) -> str:
    rng = np.random.default_rng(seed)
    lines = [": built-in"]
    lines += [f"w{i:03d} w{i + 1:03d} w{i + 2:03d} w{i + 3:03d}" for i in range(0, 40, 4)]
    lines += [": random"]
    for _ in range(60):
        a, b, c, d = rng.choice(len(emb) - 5, 4, replace=False)
        lines.append(" ".join(emb.index_to_key[x] for x in (a, b, c, d)))
    lines += [": cases", "paris france rome italy", "Paris France rome italy", "w000 w001 unknown w003"]
    path = tmp_path / "questions-words.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_to_gensim_keeps_words_vectors_and_counts():
    emb = cooc.pretrain(CORPUS).reweight("ppmi", dim=3)
    kv = emb.to_gensim()
    assert isinstance(kv, KeyedVectors)
    assert list(kv.index_to_key) == emb.index_to_key
    np.testing.assert_array_equal(kv.vectors, emb.vectors.astype(np.float32))
    assert [kv.get_vecattr(w, "count") for w in emb.index_to_key] == emb.frequencies.tolist()
    sparse = cooc.pretrain(CORPUS).to_gensim()
    assert sparse.vectors.shape == (len(emb), len(emb))


def test_to_gensim_refuses_large_sparse_vectors(monkeypatch):
    emb = cooc.pretrain(CORPUS)
    monkeypatch.setattr(cooc.io, "WORD2VEC_MAX_DENSIFIED_VALUES", 10)
    with pytest.raises(ValueError, match="force=True"):
        emb.to_gensim()
    assert emb.to_gensim(force=True).vectors.shape == (len(emb), len(emb))


def test_most_similar_matches_gensim():
    emb = _vectors()
    kv = emb.to_gensim()
    for pos, neg in [(["w000", "w005"], ["w009"]), (["w010"], []), (["w001", "w002", "w003"], ["w004", "w100"]),
                     ([], ["w007"])]:
        got = emb.most_similar(positive=pos, negative=neg, topn=10)
        want = kv.most_similar(positive=pos, negative=neg, topn=10)
        assert [w for w, _ in got] == [w for w, _ in want]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("restrict_vocab", [300000, 60])
@pytest.mark.parametrize("case_insensitive", [True, False])
def test_evaluate_word_analogies_matches_gensim(tmp_path, restrict_vocab, case_insensitive):
    emb = _vectors()
    path = _questions(tmp_path, emb)
    kv = emb.to_gensim()
    want_score, want_sections = kv.evaluate_word_analogies(path, restrict_vocab=restrict_vocab,
                                                           case_insensitive=case_insensitive)
    score, sections = emb.evaluate_word_analogies(path, restrict_vocab=restrict_vocab,
                                                  case_insensitive=case_insensitive)
    assert len(want_sections[-1]["correct"]) > 0
    assert score == want_score
    assert [s["section"] for s in sections] == [s["section"] for s in want_sections]
    for got, want in zip(sections, want_sections):
        assert got["correct"] == want["correct"] and got["incorrect"] == want["incorrect"]
    with_dummy = emb.evaluate_word_analogies(path, restrict_vocab=restrict_vocab, dummy4unknown=True,
                                             case_insensitive=case_insensitive)
    assert with_dummy[0] == kv.evaluate_word_analogies(path, restrict_vocab=restrict_vocab, dummy4unknown=True,
                                                       case_insensitive=case_insensitive)[0]


def test_word2vec_files_both_ways(tmp_path):
    emb = _vectors(n_words=30, dim=5)
    kv = emb.to_gensim()
    for binary in (False, True):
        path = tmp_path / f"gensim.{'bin' if binary else 'txt'}"
        kv.save_word2vec_format(str(path), binary=binary)
        ours = load_word2vec_format(path, binary=binary)
        assert ours.index_to_key == emb.index_to_key
        # gensim's text writer rounds; what it reads back of its own file is what we read
        again = KeyedVectors.load_word2vec_format(str(path), binary=binary)
        np.testing.assert_array_equal(ours.vectors.astype(np.float32), again.vectors)
        if binary:
            np.testing.assert_array_equal(ours.vectors, emb.vectors.astype(np.float32))
        back = tmp_path / f"cooc.{'bin' if binary else 'txt'}"
        emb.save_word2vec_format(back, binary=binary)
        theirs = KeyedVectors.load_word2vec_format(str(back), binary=binary)
        assert list(theirs.index_to_key) == emb.index_to_key
        np.testing.assert_array_equal(theirs.vectors, emb.vectors.astype(np.float32))


def test_glove_file_reads_as_gensim_reads_it(tmp_path):
    emb = _vectors(n_words=10, dim=4)
    path = tmp_path / "glove.txt"
    path.write_text("".join(f"{w} {' '.join(repr(float(x)) for x in v)}\n"
                            for w, v in zip(emb.index_to_key, emb.vectors)), encoding="utf-8")
    ours = load_word2vec_format(path)
    theirs = KeyedVectors.load_word2vec_format(str(path), binary=False, no_header=True)
    assert ours.index_to_key == list(theirs.index_to_key)
    np.testing.assert_array_equal(ours.vectors.astype(np.float32), theirs.vectors)
