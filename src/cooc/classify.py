"""Document vectors and the nearest-centroid classifier: the reference's "fine-tuning" stage.

A document is the mean of the vectors of its known words; a class is the mean of its documents; a new
document goes to the class whose centroid has the highest cosine similarity.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from . import _backend
from .embeddings import Embeddings, is_sparse
from .text import preprocess

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
    pos_sim = _backend.cosine_dense(test, _mean_rows(pos, emb.vector_size))
    neg_sim = _backend.cosine_dense(test, _mean_rows(neg, emb.vector_size))
    return ("positive" if pos_sim > neg_sim else "negative"), pos_sim, neg_sim


class ClassifierMixin:
    """``predict`` and ``score`` from ``decision_function`` and ``classes_`` (scikit-learn style)."""

    classes_: np.ndarray

    if TYPE_CHECKING:  # each classifier defines it

        def decision_function(self, texts: Sequence[str]) -> np.ndarray: ...

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The best-scoring class of each text (ties: first in ``classes_``)."""
        scores = self.decision_function(texts)
        return np.asarray(self.classes_[np.argmax(scores, axis=1)])

    def score(self, texts: Sequence[str], labels: Sequence[Any]) -> float:
        """Mean accuracy on the given texts and labels."""
        y = np.asarray(list(labels))
        pred = self.predict(texts)
        if y.shape != pred.shape:
            raise ValueError(f"got {pred.size} texts but {y.size} labels")
        return float(np.mean(pred == y))


class NearestCentroid(ClassifierMixin):
    """Nearest-centroid text classifier by cosine similarity, with scikit-learn conventions.

    Parameters
    ----------
    embeddings : Embeddings
        The word vectors that make document vectors (pretrained or random).

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

    def _vectors(self, texts: Iterable[str]) -> np.ndarray:
        emb = _check_embeddings(self.embeddings)
        if isinstance(texts, str):
            raise TypeError("texts must be a sequence of str, not a single str")
        texts = list(texts)
        if not texts:
            raise ValueError("no texts given")
        for t in texts:
            if not isinstance(t, str):
                raise TypeError(f"texts must be str, not {type(t).__name__}")
        # All documents at once: a sparse (texts x words) matrix of 1/len weights times the vectors.
        index = emb.key_to_index
        rows: list[int] = []
        cols: list[int] = []
        weights: list[float] = []
        for i, t in enumerate(texts):
            ids = [index[w] for w in preprocess(t, emb.stopwords) if w in index]
            if not ids:
                continue  # no known word: the zero vector
            rows.extend([i] * len(ids))
            cols.extend(ids)
            weights.extend([1.0 / len(ids)] * len(ids))
        D = sp.csr_matrix((weights, (rows, cols)), shape=(len(texts), len(emb)), dtype=np.float64)
        X = D @ emb.vectors
        return np.asarray(X.toarray() if is_sparse(X) else X, dtype=np.float64)

    def fit(self, texts: Sequence[str], labels: Sequence[Any]) -> NearestCentroid:
        """Compute one centroid per class; returns ``self``."""
        X = self._vectors(texts)
        y = np.asarray(list(labels))
        if y.shape != (X.shape[0],):
            raise ValueError(f"got {X.shape[0]} texts but {y.size} labels")
        classes = np.unique(y)
        if classes.size < 2:
            raise ValueError(f"need at least 2 classes to classify, got {classes.size}: {classes.tolist()}")
        self.classes_ = classes
        self.centroids_ = np.vstack([_mean_rows(list(X[y == c]), X.shape[1]) for c in classes])
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "centroids_"):
            raise ValueError("this NearestCentroid is not fitted yet; call fit(texts, labels) first")

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        """Cosine similarity of each text with each centroid, shape (n_texts, n_classes)."""
        self._check_fitted()
        X = self._vectors(texts)
        # One matrix product for all texts and classes (BLAS); 0.0 where a text or a centroid is zero.
        # (classify() keeps the reference's exact left-to-right sums; this may differ in the last bit.)
        dots: np.ndarray = X @ self.centroids_.T
        denom = np.outer(np.linalg.norm(X, axis=1), np.linalg.norm(self.centroids_, axis=1))
        scores = np.zeros_like(dots)
        np.divide(dots, denom, out=scores, where=denom > 0)
        return scores

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"embeddings": self.embeddings}

    def set_params(self, **params: Any) -> NearestCentroid:
        for key, value in params.items():
            if key != "embeddings":
                raise ValueError(f"invalid parameter {key!r} for NearestCentroid")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        return f"NearestCentroid(embeddings={self.embeddings!r})"
