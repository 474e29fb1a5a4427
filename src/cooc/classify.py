"""Document vectors and the reference's two-class nearest-centroid decision (no scikit-learn needed).

A document is the mean of the vectors of its known words; a class is the mean of its documents; a new
document goes to the class whose centroid has the highest cosine similarity.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from . import _backend
from .embeddings import Embeddings, is_sparse
from .text import preprocess

__all__ = ["classify", "document_vector"]


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
    ``"negative"``. Use :class:`cooc.NearestCentroid` for any labels and any number of classes.

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
