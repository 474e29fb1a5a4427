"""cooc's estimators in scikit-learn: clone, Pipeline, GridSearchCV, cross_val_score, metrics, checks.

scikit-learn is part of the ``test`` extra: these tests run in CI (no skip when it is missing).
The fallback base used without scikit-learn is tested in a subprocess that hides it.
"""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import sklearn
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, check_cv, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.utils import estimator_checks

import cooc
from cooc import DocumentVectorizer, FineTunedClassifier, NearestCentroid

SKLEARN_VERSION = tuple(int(p) for p in sklearn.__version__.split(".")[:2])

GOOD = ["good", "great", "happy", "lovely", "fine", "nice"]
BAD = ["bad", "awful", "sad", "ugly", "poor", "nasty"]
THINGS = ["food", "wine", "film", "music", "night", "service", "room", "guests"]


def sentences(words, n, rng):
    return [f"{rng.choice(words)} {rng.choice(THINGS)} {rng.choice(words)} {rng.choice(words)}"
            for _ in range(n)]


def make_data(n_per_class=20, seed=0):
    """Labelled texts sorted by label (all "neg" first), and a corpus for pretraining."""
    rng = np.random.default_rng(seed)
    corpus = sentences(GOOD, 30, rng) + sentences(BAD, 30, rng)
    X = sentences(BAD, n_per_class, rng) + sentences(GOOD, n_per_class, rng)
    y = np.array(["neg"] * n_per_class + ["pos"] * n_per_class)
    return corpus, X, y


CORPUS, X, Y = make_data()


@pytest.fixture(params=["sparse", "dense"])
def emb(request, backend):
    if request.param == "sparse":
        return cooc.pretrain(CORPUS)
    return cooc.pretrain(CORPUS, weighting="ppmi", dim=8)


def classifiers(emb):
    return [NearestCentroid(emb), FineTunedClassifier(emb, validation_fraction=0, max_epochs=50)]


# -- what scikit-learn sees ---------------------------------------------------------------------


def test_is_classifier_and_stratified_cross_validation(emb):
    for clf in classifiers(emb):
        assert is_classifier(clf)
        assert type(check_cv(5, Y, classifier=is_classifier(clf))).__name__ == "StratifiedKFold"
        scores = cross_val_score(clf, X, Y, cv=5)  # labels sorted: unstratified folds hold one class
        assert scores.shape == (5,)
        assert scores.min() >= 0.75, scores


def test_grid_search_over_a_parameter(emb):
    search = GridSearchCV(FineTunedClassifier(emb, validation_fraction=0, max_epochs=50),
                          {"l2": [1e-4, 10.0]}, cv=3)
    search.fit(X, Y)
    means = search.cv_results_["mean_test_score"]
    assert not np.isnan(means).any()
    assert search.best_params_ == {"l2": 1e-4}  # a huge weight decay flattens the scores
    assert means[0] > means[1]
    assert search.best_estimator_.embeddings is emb
    assert search.score(X, Y) >= 0.9
    # the embeddings themselves as the searched parameter
    other = cooc.random_embeddings(emb.index_to_key, dim=8, seed=1)
    grid = GridSearchCV(NearestCentroid(emb), {"embeddings": [other, emb]}, cv=3).fit(X, Y)
    assert grid.best_params_["embeddings"] is emb


def test_pipeline_with_logistic_regression(emb):
    pipe = Pipeline([("vec", DocumentVectorizer(emb)), ("clf", LogisticRegression(C=10.0))])
    scores = cross_val_score(pipe, X, Y, cv=5)
    assert scores.min() >= 0.75, scores
    pipe.fit(X, Y)
    assert pipe.predict(["good food great wine", "awful food sad night"]).tolist() == ["pos", "neg"]
    names = pipe[:-1].get_feature_names_out()
    assert names.tolist()[:2] == ["documentvectorizer0", "documentvectorizer1"]
    assert names.size == emb.vector_size


def test_clone_and_deepcopy_share_the_embeddings(emb):
    for clf in classifiers(emb) + [DocumentVectorizer(emb)]:
        clf.fit(X, Y)
        twin = clone(clf)
        assert twin.embeddings is clf.embeddings
        assert twin.get_params().keys() == clf.get_params().keys()
        assert not hasattr(twin, "classes_") and not hasattr(twin, "n_features_out_")  # unfitted
        deep = copy.deepcopy(clf)
        assert deep.embeddings is clf.embeddings
        for name, value in vars(clf).items():  # fitted state copied, not shared
            if isinstance(value, np.ndarray):
                assert getattr(deep, name) is not value
                np.testing.assert_array_equal(getattr(deep, name), value)
    ft = FineTunedClassifier(emb, l2=0.5, mode="finetune")
    assert clone(ft).get_params(deep=False) == ft.get_params(deep=False)


def test_binary_decision_function_and_roc_auc(emb):
    for clf in classifiers(emb):
        clf.fit(X, Y)
        scores = clf.decision_function(X)
        assert scores.shape == (len(X),)
        assert clf.predict(X).tolist() == np.where(scores > 0, clf.classes_[1], clf.classes_[0]).tolist()
        assert roc_auc_score(Y, scores) > 0.9
        proba = clf.predict_proba(X)
        assert proba.shape == (len(X), 2)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert (np.argmax(proba, axis=1) == np.searchsorted(clf.classes_, clf.predict(X))).all()
        assert roc_auc_score(Y, proba[:, 1]) == pytest.approx(roc_auc_score(Y, scores))


def test_three_classes(emb):
    rng = np.random.default_rng(5)
    xs = X + sentences(THINGS, 10, rng)
    ys = np.concatenate([Y, ["mixed"] * 10])
    for clf in classifiers(emb):
        clf.fit(xs, ys)
        assert clf.classes_.tolist() == ["mixed", "neg", "pos"]
        scores = clf.decision_function(xs)
        assert scores.shape == (len(xs), 3)
        assert clf.predict(xs).tolist() == clf.classes_[np.argmax(scores, axis=1)].tolist()
        proba = clf.predict_proba(xs)
        assert proba.shape == (len(xs), 3)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert (proba >= 0).all()
        # three blocks of sorted labels, three folds: unstratified, each test fold would be a class
        # that its training folds lack (every score 0)
        assert cross_val_score(clf, xs, ys, cv=3).min() >= 0.75


def test_not_fitted(emb):
    for est in classifiers(emb):
        for method in ("predict", "decision_function", "predict_proba"):
            with pytest.raises(NotFittedError, match="not fitted"):
                getattr(est, method)(X)
    with pytest.raises(NotFittedError):
        DocumentVectorizer(emb).transform(X)
    with pytest.raises(NotFittedError):
        DocumentVectorizer(emb).get_feature_names_out()
    assert issubclass(cooc.vectorize.NotFittedError, ValueError)


def test_bad_input_names_the_parameter(emb):
    for est in classifiers(emb) + [DocumentVectorizer(emb)]:
        with pytest.raises(TypeError, match="single str"):
            est.fit("good food", Y)
        with pytest.raises(TypeError, match=r"X\[1\]"):
            est.fit(["good", 3.0], ["pos", "neg"])
        with pytest.raises(ValueError, match="one-dimensional"):
            est.fit(np.array([["good"], ["bad"]]), ["pos", "neg"])
        with pytest.raises(ValueError, match="no texts"):
            est.fit([], [])
        with pytest.raises(TypeError, match="embeddings"):
            type(est)(embeddings="a model").fit(X, Y)
    for est in classifiers(emb):
        with pytest.raises(ValueError, match="y has 3 labels"):
            est.fit(X, Y[:3])
        with pytest.raises(ValueError, match="y is required"):
            est.fit(X, None)
        with pytest.raises(ValueError, match="at least 2 classes"):
            est.fit(X, ["pos"] * len(X))
        with pytest.raises(ValueError, match="continuous"):
            est.fit(X, np.linspace(0, 1, len(X)))
        est.fit(X, Y)
        with pytest.raises(TypeError, match="single str"):
            est.predict("good food")
        est.set_params(embeddings=cooc.pretrain(CORPUS, weighting="ppmi", dim=3))
        with pytest.raises(ValueError, match="vector_size"):
            est.predict(X)


def test_sklearn_api_checks(emb):
    """scikit-learn's own checks that take no numeric data (its full suite feeds numeric arrays, and
    skips estimators whose input is text)."""
    checks = ["check_no_attributes_set_in_init", "check_get_params_invariance", "check_set_params",
              "check_estimator_cloneable", "check_estimator_repr", "check_estimator_tags_renamed",
              "check_valid_tag_types"]
    ran = []
    for est in classifiers(emb) + [DocumentVectorizer(emb)]:
        for name in checks:
            check = getattr(estimator_checks, name, None)
            if check is None:  # not in this scikit-learn version
                continue
            check(type(est).__name__, est)
            ran.append(name)
    assert {"check_no_attributes_set_in_init", "check_get_params_invariance", "check_set_params"} <= set(ran)
    if SKLEARN_VERSION >= (1, 6):
        from sklearn.utils import get_tags

        tags = get_tags(NearestCentroid(emb))
        assert tags.estimator_type == "classifier"
        assert tags.input_tags.string and not tags.input_tags.two_d_array
        assert get_tags(DocumentVectorizer(emb)).transformer_tags is not None


def test_pickle_keeps_predictions_not_counts(emb):
    clf = FineTunedClassifier(emb, mode="finetune", validation_fraction=0, max_epochs=20).fit(X, Y)
    data = pickle.dumps(clf)
    back = pickle.loads(data)
    np.testing.assert_array_equal(back.decision_function(X), clf.decision_function(X))
    assert back.embeddings.counts is None
    assert emb.counts is not None  # the caller's model keeps them
    with_counts = len(pickle.dumps(vars(clf)))  # everything, the embeddings with their counts
    assert len(data) < with_counts - len(pickle.dumps(emb.counts)) // 2
    assert back.embeddings.index_to_key == emb.index_to_key
    # estimators pickled together keep one copy of the vectors
    both = pickle.loads(pickle.dumps([clf, DocumentVectorizer(emb).fit(X)]))
    assert both[0].embeddings.vectors is both[1].embeddings.vectors
    pipe = Pipeline([("vec", DocumentVectorizer(emb)), ("clf", LogisticRegression())]).fit(X, Y)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(pipe)).predict_proba(X), pipe.predict_proba(X))


# -- DocumentVectorizer ------------------------------------------------------------------------------


def test_document_vectorizer_is_the_walk_through_mean(emb):
    texts = ["good food and good wine", "zzz unknown", "", "awful night"]
    vec = DocumentVectorizer(emb)
    assert vec.fit(texts) is vec
    out = vec.transform(texts)
    assert out.shape == (4, emb.vector_size)
    if cooc.embeddings.is_sparse(emb.vectors):
        assert out.format == "csr" and out.dtype == np.float64
        out = out.toarray()
    else:
        assert isinstance(out, np.ndarray) and out.dtype == np.float64
    for row, text in zip(out, texts):
        np.testing.assert_allclose(row, cooc.document_vector(text, emb), rtol=1e-12, atol=1e-15)
    assert not out[1].any() and not out[2].any()
    fitted = DocumentVectorizer(emb).fit_transform(texts)
    np.testing.assert_array_equal(fitted.toarray() if hasattr(fitted, "toarray") else fitted, out)


# -- without scikit-learn ---------------------------------------------------------------------------


def test_works_without_scikit_learn():
    """The core imports and the estimators work with the small fallback base when sklearn is absent."""
    code = textwrap.dedent(f"""
        import sys
        sys.modules["sklearn"] = None  # import sklearn -> ImportError
        import numpy as np
        import cooc
        from cooc.vectorize import SKLEARN, NotFittedError
        assert not SKLEARN
        corpus, X, y = {CORPUS!r}, {X!r}, {Y.tolist()!r}
        emb = cooc.pretrain(corpus)
        for est in (cooc.NearestCentroid(emb), cooc.FineTunedClassifier(emb, validation_fraction=0)):
            try:
                est.predict(X)
            except NotFittedError as e:
                assert isinstance(e, ValueError) and "not fitted" in str(e)
            else:
                raise AssertionError("no NotFittedError")
            assert est.fit(X, y) is est
            assert est.score(X, y) >= 0.9, est.score(X, y)
            assert est.decision_function(X).shape == (len(X),)
            np.testing.assert_allclose(est.predict_proba(X).sum(axis=1), 1.0)
            params = est.get_params()
            assert params["embeddings"] is emb
            assert est.set_params(embeddings=emb) is est
            try:
                est.set_params(nope=1)
            except ValueError as e:
                assert "nope" in str(e)
            else:
                raise AssertionError("set_params accepted an unknown name")
        try:
            cooc.NearestCentroid(emb).fit(X, np.linspace(0, 1, len(X)))
        except ValueError as e:
            assert "continuous" in str(e)
        else:
            raise AssertionError("continuous labels accepted")
        assert cooc.NearestCentroid(emb).fit(X, np.arange(len(X)) % 2 * 1.0).classes_.tolist() == [0.0, 1.0]
        ft = cooc.FineTunedClassifier(emb, l2=0.5)
        assert ft.get_params()["l2"] == 0.5 and "l2=0.5" in repr(ft)
        out = cooc.DocumentVectorizer(emb).fit_transform(X)
        assert out.shape == (len(X), emb.vector_size)
        assert "sklearn" not in [m for m in sys.modules if sys.modules[m] is not None]
        print("ok")
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"
