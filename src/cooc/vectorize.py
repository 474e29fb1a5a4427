"""Document vectors for any scikit-learn model, and the estimator bases of cooc's classifiers.

:class:`DocumentVectorizer` turns texts into the mean of their words' vectors, the document vectors of
the walk-through, as a scikit-learn transformer: ``Pipeline([("vec", DocumentVectorizer(emb)),
("clf", LogisticRegression())])``.

scikit-learn is optional. Where it is installed, cooc's estimators inherit its ``BaseEstimator``,
``ClassifierMixin`` and ``TransformerMixin`` and check fitting with its ``check_is_fitted``
(``NotFittedError``), so ``clone``, ``Pipeline``, ``GridSearchCV`` and ``cross_val_score`` treat them
like its own. Where it is not, a small base of the same names gives ``get_params``, ``set_params``,
``score`` and ``fit_transform``, and an unfitted estimator raises :class:`NotFittedError` (a
``ValueError``) just the same; there is no ``clone``, no tags and no HTML display.

The pretrained model is a shared, read-only parameter: ``clone`` (and ``copy.deepcopy``) of an
estimator gives a new estimator holding the same :class:`~cooc.Embeddings` object, never a copy of its
vectors. A pickled estimator holds its embeddings without their co-occurrence counts (``counts`` is
None once unpickled; no estimator reads them): save the model itself with ``Embeddings.save`` to keep
them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from .embeddings import Embeddings, is_sparse
from .text import preprocess

__all__ = ["DocumentVectorizer", "NotFittedError", "SKLEARN"]


class _Base:
    """The part of scikit-learn's ``BaseEstimator`` that cooc needs when scikit-learn is absent."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        import inspect

        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values() if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters and their values."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params: Any) -> Any:
        """Set parameters by name; returns ``self``."""
        valid = self._get_param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"invalid parameter {key!r} for estimator {type(self).__name__}; "
                                 f"valid parameters are {valid}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


class _ClassifierMixin:
    """``score``: mean accuracy, as in scikit-learn's ``ClassifierMixin``."""

    if TYPE_CHECKING:

        def predict(self, X: Any) -> np.ndarray: ...

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy of ``predict(X)`` against ``y`` (weighted by ``sample_weight`` if given)."""
        yt = np.asarray(list(y))
        pred = self.predict(X)
        if yt.shape != pred.shape:
            raise ValueError(f"y has {yt.size} labels but X has {pred.size} texts")
        return float(np.average(pred == yt, weights=sample_weight))


class _TransformerMixin:
    """``fit_transform``, as in scikit-learn's ``TransformerMixin``."""

    if TYPE_CHECKING:

        def fit(self, X: Any, y: Any = None) -> Any: ...

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """``fit(X, y).transform(X)``."""
        return self.fit(X, y, **fit_params).transform(X)


class _NotFittedError(ValueError, AttributeError):
    """An estimator was used before ``fit`` (scikit-learn's own class when it is installed)."""


def _check_classification_targets(y: np.ndarray) -> None:
    if y.dtype.kind == "f" and not np.array_equal(y, np.round(y)):
        raise ValueError("Unknown label type: continuous. y must hold class labels, not continuous values")


def _check_is_fitted(estimator: Any, attributes: Any = None) -> None:
    names = [attributes] if isinstance(attributes, str) else attributes
    if names is None:
        ok = any(k.endswith("_") and not k.startswith("__") for k in vars(estimator))
    else:
        ok = all(hasattr(estimator, a) for a in names)
    if not ok:
        raise NotFittedError(f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with "
                             "appropriate arguments before using this estimator.")


if TYPE_CHECKING:  # mypy checks against the fallback; scikit-learn ships no type information
    BaseEstimator = _Base
    ClassifierMixin = _ClassifierMixin
    TransformerMixin = _TransformerMixin
    NotFittedError = _NotFittedError
    check_is_fitted = _check_is_fitted
    check_classification_targets = _check_classification_targets
    SKLEARN: bool
else:
    try:
        from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.multiclass import check_classification_targets
        from sklearn.utils.validation import check_is_fitted

        SKLEARN = True
    except ImportError:  # the core works without scikit-learn
        BaseEstimator = _Base
        ClassifierMixin = _ClassifierMixin
        TransformerMixin = _TransformerMixin
        NotFittedError = _NotFittedError
        check_is_fitted = _check_is_fitted
        check_classification_targets = _check_classification_targets
        SKLEARN = False


class _TextEstimator(BaseEstimator):
    """What cooc's estimators share: an ``embeddings`` parameter that is shared, never copied, and
    texts (not numeric arrays) as input."""

    embeddings: Any

    def _check_embeddings(self) -> Embeddings:
        if not isinstance(self.embeddings, Embeddings):
            raise TypeError(f"embeddings must be a cooc.Embeddings, not {type(self.embeddings).__name__}")
        return self.embeddings

    def __sklearn_clone__(self) -> Any:
        """An unfitted copy with the same parameters, sharing the (read-only) Embeddings object."""
        from sklearn.base import clone  # type: ignore[import-untyped,import-not-found,unused-ignore]

        params = {k: v if isinstance(v, Embeddings) else clone(v, safe=False)
                  for k, v in self.get_params(deep=False).items()}
        new = type(self)(**params)
        for attr in ("_metadata_request", "_sklearn_output_config"):
            if hasattr(self, attr):
                setattr(new, attr, copy.deepcopy(getattr(self, attr)))
        if hasattr(self, "_skl_callbacks"):  # scikit-learn >= 1.9: callbacks are shared, not copied
            setattr(new, "_skl_callbacks", getattr(self, "_skl_callbacks"))
        return new

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        """A deep copy of everything but the Embeddings parameter, which is shared."""
        if isinstance(self.embeddings, Embeddings):
            memo[id(self.embeddings)] = self.embeddings
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        for k, v in vars(self).items():
            setattr(new, k, copy.deepcopy(v, memo))
        return new

    def __getstate__(self) -> dict[str, Any]:
        """Pickle state: the embeddings go without their co-occurrence counts, which no estimator reads
        (the vectors, vocabulary, stopwords and frequencies are kept)."""
        parent = getattr(super(), "__getstate__", None)
        state = dict((parent() if parent is not None else None) or vars(self))
        emb = state.get("embeddings")
        if isinstance(emb, Embeddings) and emb.counts is not None:
            slim = copy.copy(emb)
            slim.counts = None
            state["embeddings"] = slim
        return state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.input_tags.string = True
        return tags

    def _more_tags(self) -> dict[str, Any]:  # scikit-learn < 1.6
        return {"X_types": ["string"]}


def _texts(X: Any, name: str = "X") -> list[str]:
    """The texts of ``X`` (a sequence, array or Series of str) as a list; TypeError/ValueError naming
    ``name`` otherwise."""
    if isinstance(X, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of str (one text per item), not a single {type(X).__name__}")
    if getattr(X, "ndim", 1) != 1:
        raise ValueError(f"{name} must be one-dimensional (one text per item), got shape {X.shape}")
    try:
        texts = list(X)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of str, not {type(X).__name__}") from None
    if not texts:
        raise ValueError(f"{name} holds no texts")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"{name}[{i}] must be a str, not {type(t).__name__}")
    return texts


def _labels(y: Any, n: int) -> np.ndarray:
    if y is None:
        raise ValueError("y is required: one label per text")
    yt = np.asarray(list(y) if not isinstance(y, np.ndarray) else y)
    if yt.ndim != 1:
        raise ValueError(f"y must be one-dimensional (one label per text), got shape {yt.shape}")
    if yt.shape != (n,):
        raise ValueError(f"X has {n} texts but y has {yt.size} labels")
    check_classification_targets(yt)
    return yt


def word_ids(texts: Iterable[str], emb: Embeddings) -> list[list[int]]:
    """Row ids of the known words of each text, tokenized like the corpus (unknown words skipped)."""
    index = emb.key_to_index
    return [[index[w] for w in preprocess(t, emb.stopwords) if w in index] for t in texts]


def averager(ids: list[list[int]], n_cols: int, weights: np.ndarray | None = None) -> sp.csr_matrix:
    """Sparse (len(ids), n_cols) matrix whose product with a table of word vectors gives each text's
    (weighted) mean vector: row i holds ``weights[w] / sum(weights of the words of text i)`` for each
    word w of text i (1 / len when ``weights`` is None); a text with no words is a zero row."""
    lengths = np.fromiter((len(d) for d in ids), dtype=np.int64, count=len(ids))
    indptr = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    cols = np.fromiter((j for d in ids for j in d), dtype=np.int64, count=int(indptr[-1]))
    if weights is None:
        val = np.repeat(1.0 / np.maximum(lengths, 1), lengths)
    else:
        val = np.asarray(weights, dtype=np.float64)[cols]
        sums = np.add.reduceat(val, indptr[:-1][lengths > 0]) if val.size else np.zeros(0)
        total = np.ones(len(ids))
        total[lengths > 0] = sums
        total[total == 0] = 1.0
        val = val / np.repeat(total, lengths)
    m = sp.csr_matrix((val, cols, indptr), shape=(len(ids), n_cols))
    m.sum_duplicates()  # a repeated word is one entry with its summed weight
    return m


def mean_vectors(ids: list[list[int]], emb: Embeddings, weights: np.ndarray | None = None) -> Any:
    """The (weighted) mean word vector of each text: float64 CSR for sparse vectors, else ndarray."""
    x = averager(ids, len(emb), weights) @ emb.vectors
    return sp.csr_matrix(x) if is_sparse(x) else np.asarray(x, dtype=np.float64)


class DocumentVectorizer(TransformerMixin, _TextEstimator):
    """Texts to the mean vector of their known words: pretrained document features for any model.

    A text is tokenized like the corpus (:func:`cooc.preprocess` with the model's stopwords); words not
    in the vocabulary are skipped, and a text with no known word is the zero vector. This is the
    walk-through's document vector (:func:`cooc.document_vector`), for many texts at once.

    Parameters
    ----------
    embeddings : Embeddings
        The word vectors (pretrained or random), shared, never copied or modified.

    Attributes
    ----------
    n_features_out_ : int
        Length of a document vector (``embeddings.vector_size``).

    Notes
    -----
    The output has the embeddings' layout: a float64 ndarray of shape (n_texts, vector_size) for dense
    vectors (SVD), a float64 scipy CSR matrix of that shape for sparse ones (count or PPMI rows, where
    vector_size is the vocabulary size and a dense array could be far larger than the texts).
    scikit-learn's linear models accept both.

    Examples
    --------
    >>> from cooc import pretrain
    >>> emb = pretrain(["good food", "good wine"])
    >>> DocumentVectorizer(emb).fit_transform(["good and unknown", "zzz"]).toarray().round(3).tolist()
    [[0.707, 0.0, 0.707], [0.0, 0.0, 0.0]]
    """

    def __init__(self, embeddings: Embeddings) -> None:
        self.embeddings = embeddings

    def fit(self, X: Any, y: Any = None) -> DocumentVectorizer:
        """Check the parameters and the texts; returns ``self`` (the document vectors need no fitting)."""
        emb = self._check_embeddings()
        _texts(X)
        self.n_features_out_ = emb.vector_size
        return self

    def transform(self, X: Any) -> Any:
        """Document vectors of the texts ``X``, shape (n_texts, vector_size), float64 (CSR for sparse
        embeddings)."""
        check_is_fitted(self, "n_features_out_")
        emb = self._check_embeddings()
        if emb.vector_size != self.n_features_out_:
            raise ValueError(f"embeddings now has vector_size {emb.vector_size}, but this vectorizer was "
                             f"fitted with {self.n_features_out_}; fit it again")
        return mean_vectors(word_ids(_texts(X), emb), emb)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output feature names ``documentvectorizer0``, ``documentvectorizer1``, ..."""
        check_is_fitted(self, "n_features_out_")
        return np.asarray([f"documentvectorizer{i}" for i in range(self.n_features_out_)], dtype=object)
