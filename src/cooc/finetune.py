"""The classifiers on pretrained vectors, as scikit-learn estimators: :class:`NearestCentroid` (the
reference's "fine-tuning" stage, for any labels) and :class:`FineTunedClassifier`.

:class:`FineTunedClassifier` is a softmax layer on mean document vectors that can also update word
vectors.

Pure numpy. ``mode="probe"`` keeps the word vectors frozen (a linear probe); ``mode="finetune"`` also
updates the vectors of the words that occur in the training texts, with an L2 penalty pulling them
back toward the pretrained ones. Training is mini-batch Adam with early stopping on a stratified
validation split; everything is seeded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .classify import _mean_rows
from .embeddings import Embeddings, is_sparse, load
from .io import _atomic_write
from .vectorize import ClassifierMixin, _labels, _texts, _TextEstimator, check_is_fitted, mean_vectors, word_ids

__all__ = ["FineTunedClassifier", "NearestCentroid", "load_classifier", "save_classifier"]

logger = logging.getLogger(__name__)


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


class FineTunedClassifier(_Classifier):
    """Softmax linear classifier on mean word vectors, optionally fine-tuning the word vectors.

    A scikit-learn classifier (where scikit-learn is installed): ``clone``, ``Pipeline``,
    ``GridSearchCV`` and ``cross_val_score`` (stratified) work on it; clones share the embeddings.

    Parameters
    ----------
    embeddings : Embeddings
        Pretrained (or random) word vectors, dense or sparse CSR; shared by clones, never modified.
    mode : {"probe", "finetune"}, default "probe"
        ``"probe"``: only the linear layer learns. ``"finetune"``: the vectors of the words in the
        training texts learn too.
    learning_rate : float, default 0.05
        Adam step size.
    l2 : float, default 1e-4
        Weight decay of the linear layer.
    anchor : float, default 1e-2
        Strength of the penalty ``anchor * ||E - E_pretrained||^2`` on fine-tuned word vectors.
    max_epochs : int, default 200
    batch_size : int, default 32
    validation_fraction : float, default 0.15
        Stratified share of the training texts held out for early stopping (0 disables it).
    patience : int, default 10
        Epochs without a better validation loss before stopping; the best epoch's parameters are kept.
    random_state : int, default 0

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
    coef_ : float64 ndarray, shape (n_classes, vector_size)
    intercept_ : float64 ndarray, shape (n_classes,)
    tuned_words_ : list of str
        Words whose vectors were fine-tuned (empty for a probe).
    tuned_vectors_ : float64 ndarray, shape (n_tuned_words, vector_size)
    n_epochs_ : int
        Epochs run before stopping.
    best_epoch_ : int
        The epoch whose parameters were kept.

    Examples
    --------
    >>> from cooc import pretrain
    >>> emb = pretrain(["good movie", "great movie", "bad film", "awful film"] * 3)
    >>> clf = FineTunedClassifier(emb, validation_fraction=0).fit(["good", "bad"], ["pos", "neg"])
    >>> clf.predict(["good", "bad"]).tolist()
    ['pos', 'neg']
    """

    def __init__(
        self,
        embeddings: Embeddings,
        mode: str = "probe",
        *,
        learning_rate: float = 0.05,
        l2: float = 1e-4,
        anchor: float = 1e-2,
        max_epochs: int = 200,
        batch_size: int = 32,
        validation_fraction: float = 0.15,
        patience: int = 10,
        random_state: int = 0,
    ) -> None:
        self.embeddings = embeddings
        self.mode = mode
        self.learning_rate = learning_rate
        self.l2 = l2
        self.anchor = anchor
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state

    def _check_params(self) -> None:
        if self.mode not in ("probe", "finetune"):
            raise ValueError(f"mode must be 'probe' or 'finetune', not {self.mode!r}")
        for name in ("learning_rate",):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("l2", "anchor"):
            if not float(getattr(self, name)) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        for name in ("max_epochs", "batch_size", "patience"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not 0.0 <= float(self.validation_fraction) < 1.0:
            raise ValueError(f"validation_fraction must be in [0, 1), got {self.validation_fraction!r}")
        if isinstance(self.random_state, bool) or not isinstance(self.random_state, (int, np.integer)):
            raise ValueError(f"random_state must be an integer, got {self.random_state!r}")

    # -- document vectors ------------------------------------------------------------------------

    @staticmethod
    def _averager(rows: list[list[int]], n_cols: int, col_of: Any = None, mean: bool = True) -> sp.csr_matrix:
        """Sparse (n_docs, n_cols) matrix whose product with a vector table gives mean (or summed)
        vectors; ``col_of`` maps row ids to columns."""
        r: list[int] = []
        c: list[int] = []
        v: list[float] = []
        for i, doc in enumerate(rows):
            if doc:
                w = 1.0 / len(doc) if mean else 1.0
                for j in doc:
                    r.append(i)
                    c.append(j if col_of is None else col_of[j])
                    v.append(w)
        return sp.csr_matrix((v, (r, c)), shape=(len(rows), n_cols), dtype=np.float64)

    @staticmethod
    def _dense_rows(emb: Embeddings, rows: np.ndarray) -> np.ndarray:
        vec = emb.vectors
        if is_sparse(vec):
            return np.asarray(vec[rows].toarray(), dtype=np.float64)
        return np.array(vec[rows], dtype=np.float64)

    def _features(self, X: Any) -> np.ndarray:
        emb = self._check_embeddings()
        if emb.vector_size != self.coef_.shape[1]:
            raise ValueError(f"embeddings has vector_size {emb.vector_size} but coef_ has "
                             f"{self.coef_.shape[1]} columns; fit again")
        rows = word_ids(_texts(X), emb)
        tuned = self._local
        if not tuned:
            x: Any = mean_vectors(rows, emb)
            return np.asarray(x.toarray() if is_sparse(x) else x, dtype=np.float64)
        # A document's vector is the mean over all its known words: fine-tuned rows for the words seen
        # in training, pretrained rows for the others.
        lengths = np.array([max(len(d), 1) for d in rows], dtype=np.float64)
        mine = [[j for j in doc if j in tuned] for doc in rows]
        other = [[j for j in doc if j not in tuned] for doc in rows]
        sums_mine = self._averager(mine, len(tuned), tuned, mean=False)
        x_other: Any = self._averager(other, len(emb), mean=False) @ emb.vectors
        x = sums_mine @ self.tuned_vectors_ + (x_other.toarray() if is_sparse(x_other) else x_other)
        return np.asarray(x / lengths[:, None], dtype=np.float64)

    # -- training --------------------------------------------------------------------------------

    def _split(self, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        n = y.size
        if float(self.validation_fraction) == 0.0:
            return np.arange(n), np.zeros(0, dtype=np.int64)
        val = []
        for c in np.unique(y):
            idx = np.flatnonzero(y == c)
            rng.shuffle(idx)
            k = round(idx.size * float(self.validation_fraction))
            if idx.size >= 2:
                k = min(max(k, 1), idx.size - 1)
            else:
                k = 0
            val.extend(idx[:k].tolist())
        val_a = np.sort(np.asarray(val, dtype=np.int64))
        return np.setdiff1d(np.arange(n), val_a), val_a

    def fit(self, X: Any, y: Any) -> FineTunedClassifier:
        """Train on the texts ``X`` and their labels ``y``; returns ``self``."""
        self._check_params()
        emb, texts, y = self._fit_labels(X, y)
        classes = self.classes_
        rows = word_ids(texts, emb)
        rng = np.random.default_rng(int(self.random_state))
        train, val = self._split(y, rng)

        words = np.unique(np.asarray([j for doc in rows for j in doc], dtype=np.int64))
        local = {int(j): i for i, j in enumerate(words.tolist())}
        e0 = self._dense_rows(emb, words) if words.size else np.zeros((0, emb.vector_size))
        a_all = self._averager(rows, len(local), local)
        finetune = self.mode == "finetune"
        dim, n_cls = emb.vector_size, classes.size

        e = e0.copy()
        w = np.zeros((dim, n_cls))
        b = np.zeros(n_cls)
        params = [w, b] + ([e] if finetune else [])
        m1 = [np.zeros_like(p) for p in params]
        m2 = [np.zeros_like(p) for p in params]
        onehot = np.eye(n_cls)[y]
        lr, l2, anchor = float(self.learning_rate), float(self.l2), float(self.anchor)
        step = 0
        x_frozen = np.asarray(a_all @ e0)

        def loss_of(idx: np.ndarray, x: np.ndarray) -> tuple[float, float]:
            z = x[idx] @ w + b
            z -= z.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            loss = float(-np.mean(logp[np.arange(idx.size), y[idx]]))
            acc = float(np.mean(np.argmax(z, axis=1) == y[idx]))
            return loss, acc

        best = (np.inf, 0)
        best_params = [p.copy() for p in params]
        epochs_since = 0
        epoch = 0
        bs = int(self.batch_size)
        for epoch in range(1, int(self.max_epochs) + 1):
            order = train[rng.permutation(train.size)]
            for start in range(0, order.size, bs):
                idx = order[start:start + bs]
                a = a_all[idx]
                x = np.asarray(a @ e) if finetune else x_frozen[idx]
                z = x @ w + b
                z -= z.max(axis=1, keepdims=True)
                p = np.exp(z)
                p /= p.sum(axis=1, keepdims=True)
                g = (p - onehot[idx]) / idx.size
                grads = [x.T @ g + 2 * l2 * w, g.sum(axis=0)]
                if finetune:
                    grads.append(np.asarray(a.T @ (g @ w.T)) + 2 * anchor * (e - e0))
                step += 1
                for k, (prm, grd) in enumerate(zip(params, grads)):
                    m1[k] = 0.9 * m1[k] + 0.1 * grd
                    m2[k] = 0.999 * m2[k] + 0.001 * grd * grd
                    mhat = m1[k] / (1 - 0.9 ** step)
                    vhat = m2[k] / (1 - 0.999 ** step)
                    prm -= lr * mhat / (np.sqrt(vhat) + 1e-8)
            if val.size:
                x_now = np.asarray(a_all @ e) if finetune else x_frozen
                vloss, _ = loss_of(val, x_now)
                if vloss < best[0] - 1e-6:
                    best = (vloss, epoch)
                    best_params = [p.copy() for p in params]
                    epochs_since = 0
                else:
                    epochs_since += 1
                    if epochs_since >= int(self.patience):
                        break
        if val.size:
            for prm, saved in zip(params, best_params):
                prm[...] = saved
        self.classes_ = classes
        self.coef_ = w.T.copy()
        self.intercept_ = b.copy()
        self.n_epochs_ = epoch
        self.best_epoch_ = best[1] if val.size else epoch
        if finetune:
            self.tuned_words_ = [emb.index_to_key[j] for j in words.tolist()]
            self.tuned_vectors_ = e.copy()
            self._local = local
        else:
            self.tuned_words_ = []
            self.tuned_vectors_ = np.zeros((0, dim))
            self._local = {}
        logger.debug("FineTunedClassifier(%s): %d epochs, best %s", self.mode, epoch, self.best_epoch_)
        return self

    def _scores(self, X: Any) -> np.ndarray:
        """Class scores (logits), shape (n_texts, n_classes)."""
        check_is_fitted(self, "coef_")
        return np.asarray(self._features(X) @ self.coef_.T + self.intercept_)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Softmax probabilities, shape (n_texts, n_classes), rows summing to 1."""
        return _softmax(self._scores(X))


# -- saving and loading a fitted classifier ----------------------------------------------------------

_FORMAT = "cooc-classifier"
_KINDS: dict[str, type[_Classifier]] = {"NearestCentroid": NearestCentroid,
                                        "FineTunedClassifier": FineTunedClassifier}


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_classifier(clf: Any, path: str | os.PathLike[str], model_path: str | os.PathLike[str]) -> Path:
    """Write a fitted :class:`NearestCentroid` or :class:`FineTunedClassifier` to ``path``.

    The file is a pickle-free ``.npz``: the fitted arrays plus a JSON ``meta`` member (the kind, the
    parameters, the classes, and the model file's path and SHA-256). It does not hold the word vectors:
    :func:`load_classifier` reads them from the model file, and refuses a model file whose checksum
    differs from the one the classifier was fitted with.

    Parameters
    ----------
    clf : NearestCentroid or FineTunedClassifier
        Fitted on the model stored at ``model_path``.
    path : str or path-like
        The file to write (atomically; no ``.npz`` is appended).
    model_path : str or path-like
        The model file (``Embeddings.save``) whose vectors ``clf`` uses.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import os, tempfile, cooc
    >>> emb = cooc.pretrain(["good movie", "great movie", "bad film", "awful film"])
    >>> clf = NearestCentroid(emb).fit(["good", "bad"], ["pos", "neg"])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     m = emb.save(os.path.join(d, "model.npz"))
    ...     c = save_classifier(clf, os.path.join(d, "clf.npz"), m)
    ...     load_classifier(c).predict(["great", "awful"]).tolist()
    ['pos', 'neg']
    """
    kind = type(clf).__name__
    if kind not in _KINDS or not isinstance(clf, _KINDS[kind]):
        raise TypeError(f"clf must be a NearestCentroid or a FineTunedClassifier, not {type(clf).__name__}")
    fit: Any = clf
    fitted = "centroids_" if kind == "NearestCentroid" else "coef_"
    check_is_fitted(fit, fitted)
    model = Path(model_path)
    if not model.is_file():
        raise FileNotFoundError(f"model_path {model}: no such file")
    emb = fit._check_embeddings()
    width = getattr(fit, fitted).shape[1]
    if emb.vector_size != width:
        raise ValueError(f"the classifier's embeddings have vector_size {emb.vector_size}, its fitted arrays {width}")
    target = Path(path)
    params = {k: v for k, v in fit.get_params(deep=False).items() if k != "embeddings"}
    classes = fit.classes_.tolist()
    meta: dict[str, Any] = {
        "format": _FORMAT, "format_version": 1, "kind": kind, "params": params, "classes": classes,
        "model": {"path": str(model.resolve()),
                  "relative": os.path.relpath(model.resolve(), target.resolve().parent),
                  "sha256": file_sha256(model), "vector_size": int(emb.vector_size), "words": len(emb)},
    }
    arrays: dict[str, np.ndarray] = {}
    if kind == "NearestCentroid":
        arrays["centroids"] = np.asarray(fit.centroids_, dtype=np.float64)
    else:
        arrays["coef"] = np.asarray(fit.coef_, dtype=np.float64)
        arrays["intercept"] = np.asarray(fit.intercept_, dtype=np.float64)
        arrays["tuned_vectors"] = np.asarray(fit.tuned_vectors_, dtype=np.float64)
        meta["tuned_words"] = list(fit.tuned_words_)
        meta["n_epochs"] = int(fit.n_epochs_)
        meta["best_epoch"] = int(fit.best_epoch_)
    try:
        text = json.dumps(meta, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"the classifier's classes and parameters must be JSON values ({exc})") from None
    arrays["meta"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)

    def write(fh: Any) -> None:
        savez: Any = np.savez
        savez(fh, **arrays)

    if target.is_dir():
        raise IsADirectoryError(f"path {target} is a directory")
    _atomic_write(target, write)
    return target


def _problem(path: Path, what: str) -> ValueError:
    return ValueError(f"{path}: not a cooc classifier file ({what})")


def load_classifier(path: str | os.PathLike[str], model: str | os.PathLike[str] | None = None) -> Any:
    """Read a classifier written by :func:`save_classifier`, with the word vectors of its model file.

    Parameters
    ----------
    path : str or path-like
        The classifier file.
    model : str, path-like or None
        The model file; by default the path recorded in the classifier (absolute, then relative to
        the classifier file's directory).

    Returns
    -------
    NearestCentroid or FineTunedClassifier
        Fitted, ready to ``predict``.

    Raises
    ------
    FileNotFoundError
        The model file is not found (the message names both files).
    ValueError
        The classifier file is not one, or the model file's SHA-256 differs from the recorded one (the
        model changed since the classifier was fitted).
    """
    src = Path(path)
    try:
        npz = np.load(src, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        if isinstance(exc, FileNotFoundError):
            raise FileNotFoundError(f"classifier {src}: no such file") from None
        raise _problem(src, str(exc)) from None
    with npz:
        try:
            meta = json.loads(bytes(npz["meta"]).decode("utf-8"))
            if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
                raise _problem(src, "no classifier metadata")
            kind = meta["kind"]
            if kind not in _KINDS:
                raise _problem(src, f"unknown kind {kind!r}")
            arrays = {k: np.asarray(npz[k], dtype=np.float64) for k in npz.files if k != "meta"}
            rec = meta["model"]
            classes = np.asarray(meta["classes"])
        except (KeyError, TypeError, ValueError, UnicodeError, OSError, EOFError, zipfile.BadZipFile,
                zlib.error) as exc:
            if isinstance(exc, ValueError) and str(exc).startswith(str(src)):
                raise
            raise _problem(src, f"{type(exc).__name__}: {exc}") from None
    if model is not None:
        model_file = Path(model)
        if not model_file.is_file():
            raise FileNotFoundError(f"model {model_file} (given for classifier {src}): no such file")
    else:
        candidates = [Path(rec["path"]), src.resolve().parent / rec["relative"]]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise FileNotFoundError(f"classifier {src} needs its model {rec['path']}, which is not there; "
                                    "give the model file's new place (model= / --model PATH)")
        model_file = found
    digest = file_sha256(model_file)
    if digest != rec["sha256"]:
        raise ValueError(f"model {model_file} is not the model classifier {src} was fitted on "
                         f"(SHA-256 {digest[:12]}... instead of {rec['sha256'][:12]}...); fit it again on "
                         "this model, or give the original with model= / --model PATH")
    emb = load(model_file)
    cls: Any = _KINDS[kind]
    clf: Any = cls(emb, **meta["params"])
    clf.classes_ = classes
    n_cls = classes.size
    shape = (n_cls, emb.vector_size)

    def array(name: str, expected: tuple[int, ...]) -> np.ndarray:
        a = arrays.get(name)
        if a is None or a.shape != expected or not np.all(np.isfinite(a)):
            raise _problem(src, f"member {name!r} missing, not finite, or not of shape {expected}")
        return a

    if kind == "NearestCentroid":
        clf.centroids_ = array("centroids", shape)
    else:
        clf.coef_ = array("coef", shape)
        clf.intercept_ = array("intercept", (n_cls,))
        words = list(meta.get("tuned_words", []))
        clf.tuned_vectors_ = array("tuned_vectors", (len(words), emb.vector_size))
        clf.tuned_words_ = words
        index = emb.key_to_index
        missing = [w for w in words if w not in index]
        if missing:
            raise _problem(src, f"fine-tuned word {missing[0]!r} is not in model {model_file}")
        clf._local = {index[w]: i for i, w in enumerate(words)}
        clf.n_epochs_ = int(meta.get("n_epochs", 0))
        clf.best_epoch_ = int(meta.get("best_epoch", 0))
    return clf
