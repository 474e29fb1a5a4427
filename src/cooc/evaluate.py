"""Honest evaluation: word-similarity benchmarks, labelled-data readers, cross-validated comparisons.

- :func:`evaluate_word_pairs` scores a model on WordSim353 / SimLex-999 style files (Pearson, Spearman,
  out-of-vocabulary ratio), like gensim's ``KeyedVectors.evaluate_word_pairs``;
- :func:`read_labelled` reads fastText ``__label__x text`` lines or ``label<TAB>text`` TSV;
- :func:`compare_classifiers` runs repeated k-fold cross-validation of random vectors, pretrained
  vectors (count, PPMI, PPMI + SVD) with nearest centroid and with a linear probe, fine-tuned vectors,
  and a TF-IDF baseline with no pretraining, and reports mean accuracy with a 95% interval.

``cooc evaluate similarity`` and ``cooc evaluate classify`` (:mod:`cooc.cli.evaluate`) run them.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from .finetune import NearestCentroid
from .embeddings import Embeddings
from .finetune import FineTunedClassifier
from .io import read_text
from .pretrain import pretrain, random_embeddings
from .text import STOPWORDS, preprocess
from .weighting import unit_rows

__all__ = [
    "TfidfCentroid",
    "build_representations",
    "compare_classifiers",
    "evaluate_word_pairs",
    "mean_ci",
    "read_labelled",
]

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------------
# word similarity


def evaluate_word_pairs(
    emb: Embeddings,
    path: str | os.PathLike[str],
    delimiter: str = "\t",
    case_insensitive: bool = True,
    encoding: str | None = None,
) -> tuple[tuple[float, float], tuple[float, float], float]:
    """Correlation of ``emb``'s cosine similarities with human scores of word pairs (Pearson,
    Spearman, out-of-vocabulary %); see :meth:`cooc.Embeddings.evaluate_word_pairs`."""
    if not isinstance(emb, Embeddings):
        raise TypeError(f"expected cooc.Embeddings, got {type(emb).__name__}")
    return emb.evaluate_word_pairs(path, delimiter, case_insensitive, encoding)


# ------------------------------------------------------------------------------------------------
# labelled data


def read_labelled(
    path: str | os.PathLike[str], *, format: str = "auto", encoding: str | None = None
) -> tuple[list[str], list[str]]:
    """Read labelled texts: fastText ``__label__x text`` lines or ``label<TAB>text`` TSV.

    Parameters
    ----------
    path : path
    format : {"auto", "fasttext", "tsv"}
        ``"auto"`` picks fastText when the first non-blank line starts with ``__label__``.
    encoding : str or None
        UTF-8 by default; a file that does not decode is an error naming the line (e.g. gensim's
        ``pang_lee_polarity.cor`` needs ``encoding="cp1252"``).

    Returns
    -------
    texts, labels : list of str, list of str

    Raises
    ------
    ValueError
        A malformed line or an undecodable byte (naming the file and the line), or an empty file.
    """
    lines = read_text(path, encoding).splitlines()
    if format == "auto":
        first = next((ln for ln in lines if ln.strip()), "")
        format = "fasttext" if first.lstrip().startswith("__label__") else "tsv"
    if format not in ("fasttext", "tsv"):
        raise ValueError(f"format must be 'auto', 'fasttext' or 'tsv', not {format!r}")
    texts: list[str] = []
    labels: list[str] = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if format == "fasttext":
            head, _, rest = line.strip().partition(" ")
            if not head.startswith("__label__") or len(head) == len("__label__") or not rest.strip():
                raise ValueError(f"{path}: line {lineno}: expected '__label__LABEL text', got {line[:60]!r}")
            label, body = head[len("__label__"):], rest.strip()
        else:
            parts = line.split("\t")
            if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
                raise ValueError(f"{path}: line {lineno}: expected 'label<TAB>text', got {line[:60]!r}")
            label, body = parts[0].strip(), parts[1].strip()
        labels.append(label)
        texts.append(body)
    if not texts:
        raise ValueError(f"{path}: no labelled lines")
    return texts, labels


# ------------------------------------------------------------------------------------------------
# classification comparison


def _tokens(texts: Sequence[str], stopwords: Any) -> list[list[str]]:
    return [preprocess(t, stopwords) for t in texts]


class TfidfCentroid:
    """TF-IDF document vectors (scipy.sparse, no pretraining) with a nearest-centroid rule.

    Vocabulary and IDF come from the training texts only (smoothed IDF ``log((1 + n) / (1 + df)) + 1``,
    rows L2-normalized); a text goes to the class whose centroid has the highest cosine.
    """

    def __init__(self, stopwords: Any = None) -> None:
        self.stopwords = STOPWORDS if stopwords is None else stopwords

    def _matrix(self, texts: Sequence[str]) -> sp.csr_matrix:
        rows: list[int] = []
        cols: list[int] = []
        vals: list[int] = []
        for i, toks in enumerate(_tokens(texts, self.stopwords)):
            counts: dict[int, int] = {}
            for t in toks:
                j = self.vocabulary_.get(t)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            rows.extend([i] * len(counts))
            cols.extend(counts)
            vals.extend(counts.values())
        m = sp.csr_matrix((np.asarray(vals, dtype=np.float64), (rows, cols)),
                          shape=(len(texts), len(self.vocabulary_)))
        m = sp.csr_matrix(m.multiply(self.idf_[None, :]))
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sp.csr_matrix(sp.diags(1.0 / norms) @ m)

    def fit(self, texts: Sequence[str], labels: Sequence[Any]) -> TfidfCentroid:
        toks = _tokens(texts, self.stopwords)
        vocab: dict[str, int] = {}
        for doc in toks:
            for t in doc:
                vocab.setdefault(t, len(vocab))
        self.vocabulary_ = vocab
        df = np.zeros(len(vocab))
        for doc in toks:
            for j in {vocab[t] for t in doc}:
                df[j] += 1
        self.idf_ = np.log((1 + len(toks)) / (1 + df)) + 1.0
        x = self._matrix(texts)
        y = np.asarray(list(labels))
        self.classes_ = np.unique(y)
        cents = np.vstack([np.asarray(x[y == c].mean(axis=0)).ravel() for c in self.classes_])
        self.centroids_ = unit_rows(cents.astype(np.float64))
        return self

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        scores = np.asarray(self._matrix(texts) @ self.centroids_.T)
        return np.asarray(self.classes_[np.argmax(scores, axis=1)])

    def score(self, texts: Sequence[str], labels: Sequence[Any]) -> float:
        return float(np.mean(self.predict(texts) == np.asarray(list(labels))))


def _folds(y: np.ndarray, k: int, seed: int) -> list[np.ndarray]:
    """Stratified fold assignment: each class shuffled and dealt round-robin into ``k`` folds."""
    rng = np.random.default_rng(seed)
    fold = np.empty(y.size, dtype=np.int64)
    start = 0
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        fold[idx] = (np.arange(idx.size) + start) % k
        start += idx.size
    return [np.flatnonzero(fold == f) for f in range(k)]


def mean_ci(values: Sequence[float]) -> tuple[float, float]:
    """Mean and half-width of a 95% t-interval over the runs (0 for a single value)."""
    from scipy import stats

    v = np.asarray(values, dtype=np.float64)
    if v.size < 2:
        return float(v.mean()), 0.0
    half = float(stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
    return float(v.mean()), half


def build_representations(
    corpus: Any, *, window: int = 3, min_count: int = 5, dim: int = 300, seed: int = 0,
    add_context: bool = True, **kwargs: Any
) -> dict[str, Embeddings]:
    """Random, count, PPMI and PPMI + SVD models of one corpus (same vocabulary); with
    ``add_context`` also PPMI + SVD with context vectors added (``"ppmi+svd w+c"``)."""
    count = pretrain(corpus, window=window, min_count=min_count, **kwargs)   # the corpus is counted once
    jobs = kwargs.get("n_jobs", 1)
    k = min(dim, len(count) - 1)
    models = {"random": random_embeddings(count, dim=min(dim, len(count)), seed=seed), "count": count,
              "ppmi": count.reweight("ppmi", n_jobs=jobs), "ppmi+svd": count.reweight("ppmi", dim=k, n_jobs=jobs)}
    if add_context:
        models["ppmi+svd w+c"] = count.reweight("ppmi", dim=k, add_context=True, n_jobs=jobs)
    return models


def compare_classifiers(
    models: dict[str, Embeddings],
    texts: Sequence[str],
    labels: Sequence[Any],
    *,
    folds: int = 10,
    seeds: int = 10,
    probe: bool = True,
    finetune: bool = True,
    tfidf: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Repeated stratified k-fold accuracy of every representation and classifier.

    Returns ``{name: {"mean": float, "ci95": float, "runs": [accuracy per seed]}}`` where each run is
    the accuracy over all held-out folds of one seed's split.
    """
    texts = list(texts)
    y = np.asarray([str(x) for x in labels])
    if len(texts) != y.size:
        raise ValueError(f"got {len(texts)} texts but {y.size} labels")
    if np.unique(y).size < 2:
        raise ValueError("need at least 2 classes")
    smallest = min(int(np.sum(y == c)) for c in np.unique(y))
    if folds < 2 or folds > smallest:
        raise ValueError(f"folds must be in [2, {smallest}] (the smallest class has {smallest} texts)")
    makers: dict[str, Callable[[], Any]] = {}
    for name, emb in models.items():
        makers[f"{name} + centroid"] = lambda emb=emb: NearestCentroid(emb)  # type: ignore[misc]
        if probe:
            makers[f"{name} + probe"] = lambda emb=emb: FineTunedClassifier(emb, mode="probe")  # type: ignore[misc]
    if finetune:
        base = models.get("ppmi+svd") or next(iter(models.values()))
        makers["fine-tuned (ppmi+svd)" if "ppmi+svd" in models else "fine-tuned"] = (
            lambda: FineTunedClassifier(base, mode="finetune")
        )
    if tfidf:
        makers["tf-idf + centroid (no pretraining)"] = lambda: TfidfCentroid()
    results: dict[str, dict[str, Any]] = {}
    arr = np.asarray(texts, dtype=object)
    for name, make in makers.items():
        runs = []
        for seed in range(seeds):
            correct = 0
            for test in _folds(y, folds, seed):
                train = np.setdiff1d(np.arange(y.size), test)
                clf = make()
                if hasattr(clf, "random_state"):
                    clf.random_state = seed
                clf.fit(list(arr[train]), y[train])
                correct += int(np.sum(clf.predict(list(arr[test])) == y[test]))
            runs.append(correct / y.size)
        mean, half = mean_ci(runs)
        results[name] = {"mean": mean, "ci95": half, "runs": runs}
        if progress is not None:
            progress(f"{name}: {100 * mean:.1f}% +- {100 * half:.1f}")
    return results


