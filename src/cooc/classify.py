"""Document vectors and the nearest-centroid classifier: the reference's "fine-tuning" stage.

A document is the mean of the vectors of its known words; a class is the mean of its documents; a new
document goes to the class whose centroid has the highest cosine similarity.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from . import _kernels
from .embeddings import Embeddings, is_sparse
from .text import preprocess
from .vectorize import ClassifierMixin, _labels, _texts, _TextEstimator, check_is_fitted, mean_vectors, word_ids

__all__ = ["NearestCentroid", "classify", "document_vector"]


def _check_embeddings(emb: Any) -> Embeddings:
    if not isinstance(emb, Embeddings):
        raise TypeError(f"expected cooc.Embeddings, got {type(emb).__name__}")
    return emb


def document_vector(text: str, emb: Embeddings) -> np.ndarray:
    """Mean of the vectors of the known words of ``text``.

    The text is tokenized like the corpus (:func:`cooc.preprocess` with the model's stopwords); unknown
    words are skipped. A text with no known word gives the zero vector.

    Parameters
    ----------
    text : str
    emb : Embeddings

    Returns
    -------
    float64 array, shape (emb.vector_size,)

    Examples
    --------
    >>> from cooc import pretrain
    >>> emb = pretrain(["good food", "good wine"])
    >>> document_vector("good and unknown", emb).round(3).tolist()
    [0.707, 0.0, 0.707]
    """
    emb = _check_embeddings(emb)
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    out = np.zeros(emb.vector_size, dtype=np.float64)
    index = emb.key_to_index
    rows = [index[t] for t in preprocess(text, emb.stopwords) if t in index]
    vec = emb.vectors
    if is_sparse(vec):
        ptr, ind, val = vec.indptr, vec.indices, vec.data
        for r in rows:  # accumulate word after word, as the reference does
            lo, hi = ptr[r], ptr[r + 1]
            out[ind[lo:hi]] += val[lo:hi]
    else:
        for r in rows:
            out += vec[r]
    if rows:
        out /= len(rows)
    return out


def _mean_rows(vectors: Sequence[np.ndarray], dim: int) -> np.ndarray:
    acc = np.zeros(dim, dtype=np.float64)
    for v in vectors:
        acc += v
    if len(vectors):
        acc /= len(vectors)
    return acc


def classify(
    train_data: Iterable[tuple[str, str]], emb: Embeddings, text: str
) -> tuple[str, float, float]:
    """Two-class nearest-centroid decision, exactly as the reference's ``simple_classifier``.

    Documents labelled ``"positive"`` form one centroid and all others the ``"negative"`` one; the text
    is ``"positive"`` when its cosine with the positive centroid is strictly higher, else
    ``"negative"``. Use :class:`NearestCentroid` for any labels and any number of classes.

    Returns
    -------
    (label, pos_sim, neg_sim) : (str, float, float)

    Examples
    --------
    >>> from cooc import pretrain
    >>> emb = pretrain(["good movie", "great movie", "bad film", "awful film"])
    >>> label, pos_sim, neg_sim = classify([("good", "positive"), ("bad", "negative")], emb, "great")
    >>> label, round(pos_sim, 3), round(neg_sim, 3)
    ('positive', 1.0, 0.0)
    """
    emb = _check_embeddings(emb)
    pos: list[np.ndarray] = []
    neg: list[np.ndarray] = []
    for item in train_data:
        try:
            doc, label = item
        except (TypeError, ValueError):
            raise ValueError(f"train_data items must be (text, label) pairs, got {item!r}") from None
        (pos if label == "positive" else neg).append(document_vector(doc, emb))
    test = document_vector(text, emb)
    pos_sim = _kernels.cosine_dense(test, _mean_rows(pos, emb.vector_size))
    neg_sim = _kernels.cosine_dense(test, _mean_rows(neg, emb.vector_size))
    return ("positive" if pos_sim > neg_sim else "negative"), pos_sim, neg_sim


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return np.asarray(p / p.sum(axis=1, keepdims=True))


class _Classifier(ClassifierMixin, _TextEstimator):
    """``predict``, ``decision_function`` and ``predict_proba`` from ``_scores`` (one column per class)."""

    classes_: np.ndarray

    def _scores(self, X: Any) -> np.ndarray:
        raise NotImplementedError

    def _fit_labels(self, X: Any, y: Any) -> tuple[Embeddings, list[str], np.ndarray]:
        """The checked embeddings, texts and labels; sets ``classes_``; returns the class index of
        each text instead of its label."""
        emb = self._check_embeddings()
        texts = _texts(X)
        labels = _labels(y, len(texts))
        classes, yi = np.unique(labels, return_inverse=True)
        if classes.size < 2:
            raise ValueError(f"y must hold at least 2 classes, got {classes.size}: {classes.tolist()}")
        self.classes_ = classes
        return emb, texts, yi

    def decision_function(self, X: Any) -> np.ndarray:
        """Class scores of each text: shape (n_texts, n_classes); with two classes, shape (n_texts,),
        the score of ``classes_[1]`` minus that of ``classes_[0]`` (positive means ``classes_[1]``)."""
        s = self._scores(X)
        return np.asarray(s[:, 1] - s[:, 0]) if s.shape[1] == 2 else s

    def predict(self, X: Any) -> np.ndarray:
        """The best-scoring class of each text (ties: first in ``classes_``), shape (n_texts,)."""
        scores = self._scores(X)
        return np.asarray(self.classes_[np.argmax(scores, axis=1)])


class NearestCentroid(_Classifier):
    """Nearest-centroid text classifier by cosine similarity: a scikit-learn classifier.

    A text's vector is the mean of the vectors of its known words (:class:`cooc.DocumentVectorizer`); a
    class's centroid is the mean of its texts' vectors; a text goes to the class whose centroid has the
    highest cosine similarity.

    Parameters
    ----------
    embeddings : Embeddings
        The word vectors that make document vectors (pretrained or random); shared by clones, never
        modified.

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
        Sorted class labels.
    centroids_ : float64 ndarray, shape (n_classes, vector_size)
        Mean document vector of each class.

    Notes
    -----
    A document with no known word has the zero vector: its cosine with every centroid is 0.0, and like
    every tie it goes to the first class in ``classes_`` order.

    ``predict_proba`` is the softmax of the cosine similarities: it ranks like them and sums to 1, but it
    is not calibrated (cosines lie in [-1, 1], so probabilities stay close to uniform); wrap the
    classifier in scikit-learn's ``CalibratedClassifierCV`` for calibrated probabilities.

    Examples
    --------
    >>> from cooc import pretrain
    >>> emb = pretrain(["good movie", "great movie", "bad film", "awful film"])
    >>> clf = NearestCentroid(emb).fit(["good", "bad"], ["pos", "neg"])
    >>> clf.predict(["great", "awful"]).tolist()
    ['pos', 'neg']
    """

    def __init__(self, embeddings: Embeddings) -> None:
        self.embeddings = embeddings

    @staticmethod
    def _dense(x: Any) -> np.ndarray:
        return np.asarray(x.toarray() if is_sparse(x) else x, dtype=np.float64)

    def fit(self, X: Any, y: Any) -> NearestCentroid:
        """Compute one centroid per class from the texts ``X`` and their labels ``y``; returns ``self``."""
        emb, texts, yi = self._fit_labels(X, y)
        vecs = self._dense(mean_vectors(word_ids(texts, emb), emb))
        self.centroids_ = np.vstack([_mean_rows(list(vecs[yi == c]), vecs.shape[1])
                                     for c in range(self.classes_.size)])
        return self

    def _scores(self, X: Any) -> np.ndarray:
        """Cosine similarity of each text with each centroid, shape (n_texts, n_classes)."""
        check_is_fitted(self, "centroids_")
        emb = self._check_embeddings()
        if emb.vector_size != self.centroids_.shape[1]:
            raise ValueError(f"embeddings has vector_size {emb.vector_size} but the centroids have "
                             f"{self.centroids_.shape[1]}; fit again")
        vecs = self._dense(mean_vectors(word_ids(_texts(X), emb), emb))
        # One matrix product for all texts and classes (BLAS); 0.0 where a text or a centroid is zero.
        # (classify() keeps the reference's exact left-to-right sums; this may differ in the last bit.)
        dots: np.ndarray = vecs @ self.centroids_.T
        denom = np.outer(np.linalg.norm(vecs, axis=1), np.linalg.norm(self.centroids_, axis=1))
        scores = np.zeros_like(dots)
        np.divide(dots, denom, out=scores, where=denom > 0)
        return scores

    def predict_proba(self, X: Any) -> np.ndarray:
        """Softmax of the cosine similarities, shape (n_texts, n_classes), rows summing to 1 (not
        calibrated: see Notes)."""
        return _softmax(self._scores(X))
