"""cooc.FineTunedClassifier: probe and fine-tune modes, dense and sparse vectors."""

from __future__ import annotations

import numpy as np
import pytest

import cooc
from cooc.finetune import FineTunedClassifier

CORPUS = [
    "good food and good wine", "great food great wine", "bad food awful wine", "awful service bad wine",
    "good film great music", "bad film awful music", "happy guests good night", "sad guests bad night",
] * 3
TEXTS = ["good food", "great wine", "good night", "great music", "happy guests", "good great",
         "bad food", "awful wine", "bad night", "awful music", "sad guests", "bad awful"]
LABELS = ["pos"] * 6 + ["neg"] * 6


@pytest.fixture(params=["sparse", "dense"])
def emb(request):
    if request.param == "sparse":
        return cooc.pretrain(CORPUS)
    return cooc.pretrain(CORPUS, weighting="ppmi", dim=6)


@pytest.mark.parametrize("mode", ["probe", "finetune"])
def test_fits_the_training_data(emb, mode):
    clf = FineTunedClassifier(emb, mode=mode, validation_fraction=0, max_epochs=300)
    assert clf.fit(TEXTS, LABELS) is clf
    assert clf.classes_.tolist() == ["neg", "pos"]
    assert clf.score(TEXTS, LABELS) == 1.0
    proba = clf.predict_proba(TEXTS)
    assert proba.shape == (12, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    scores = clf.decision_function(TEXTS)  # binary: one column, positive means classes_[1]
    assert scores.shape == (12,)
    assert clf.predict(TEXTS).tolist() == np.where(scores > 0, "pos", "neg").tolist()
    np.testing.assert_allclose(scores, np.log(proba[:, 1] / proba[:, 0]))
    assert clf.coef_.shape == (2, emb.vector_size)


def test_probe_keeps_vectors_and_finetune_moves_only_training_words(emb):
    before = emb.vectors.copy()
    probe = FineTunedClassifier(emb, validation_fraction=0).fit(TEXTS, LABELS)
    assert probe.tuned_words_ == []
    tuned = FineTunedClassifier(emb, mode="finetune", validation_fraction=0, anchor=1e-3).fit(TEXTS, LABELS)
    seen = {w for t in TEXTS for w in cooc.preprocess(t)}
    assert set(tuned.tuned_words_) == seen & set(emb.index_to_key)
    pretrained = np.vstack([emb.get_vector(w) for w in tuned.tuned_words_])
    assert np.abs(tuned.tuned_vectors_ - pretrained).max() > 1e-3  # they moved
    # the model object itself is never modified
    diff = emb.vectors - before
    assert abs(diff).max() == 0


def test_anchor_pulls_toward_pretrained(emb):
    def drift(anchor):
        clf = FineTunedClassifier(emb, mode="finetune", anchor=anchor, validation_fraction=0, max_epochs=100)
        clf.fit(TEXTS, LABELS)
        pre = np.vstack([emb.get_vector(w) for w in clf.tuned_words_])
        return np.linalg.norm(clf.tuned_vectors_ - pre)
    assert drift(10.0) < drift(0.0)


def test_seeded_and_early_stopping(emb):
    a = FineTunedClassifier(emb, mode="finetune", validation_fraction=0.3, patience=2, random_state=3)
    b = FineTunedClassifier(emb, mode="finetune", validation_fraction=0.3, patience=2, random_state=3)
    a.fit(TEXTS, LABELS)
    b.fit(TEXTS, LABELS)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.n_epochs_ < a.max_epochs  # stopped early
    assert 1 <= a.best_epoch_ <= a.n_epochs_


def test_unknown_words_and_empty_texts_use_pretrained_or_zero(emb):
    clf = FineTunedClassifier(emb, mode="finetune", validation_fraction=0).fit(TEXTS, LABELS)
    scores = clf.decision_function(["", "zzz unknown", "service"])  # 'service' not in training texts
    bias = clf.intercept_[1] - clf.intercept_[0]
    np.testing.assert_allclose(scores[0], bias)
    np.testing.assert_allclose(scores[1], bias)
    assert not np.allclose(scores[2], bias)


def test_errors(emb):
    with pytest.raises(ValueError, match="mode"):
        FineTunedClassifier(emb, mode="deep").fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match="2 classes"):
        FineTunedClassifier(emb).fit(TEXTS, ["pos"] * 12)
    with pytest.raises(ValueError, match="labels"):
        FineTunedClassifier(emb).fit(TEXTS, LABELS[:3])
    with pytest.raises(ValueError, match="learning_rate"):
        FineTunedClassifier(emb, learning_rate=0).fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match="random_state"):
        FineTunedClassifier(emb, random_state=None).fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match="not fitted"):
        FineTunedClassifier(emb).predict(TEXTS)
    with pytest.raises(TypeError, match="embeddings"):
        FineTunedClassifier("not a model").fit(TEXTS, LABELS)
    with pytest.raises(TypeError, match=r"X\[1\]"):
        FineTunedClassifier(emb).fit(["good", 3], ["pos", "neg"])
    with pytest.raises(TypeError, match="single str"):
        FineTunedClassifier(emb).fit("good", LABELS)


def test_sklearn_params():
    emb = cooc.pretrain(CORPUS)
    clf = FineTunedClassifier(emb, mode="finetune", l2=0.5)
    p = clf.get_params()
    assert p["mode"] == "finetune" and p["l2"] == 0.5
    assert clf.set_params(anchor=3.0) is clf and clf.anchor == 3.0
    with pytest.raises(ValueError):
        clf.set_params(nope=1)
    assert cooc.FineTunedClassifier is FineTunedClassifier
