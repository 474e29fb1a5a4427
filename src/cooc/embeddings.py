"""The pretrained model: vocabulary, raw counts and L2-normalized co-occurrence rows.

:func:`pretrain` builds it from text; :func:`random_embeddings` builds the no-pretraining baseline.
:class:`Embeddings` follows gensim's ``KeyedVectors`` conventions.
"""

from __future__ import annotations

import logging
import math
import os
import random
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from . import _backend, neighbors
from .corpus import LineCorpus, iter_chunks
from .counting import (
    check_n_jobs,
    count_pairs,
    parse_memory,
    select_vocabulary,
    tokenize_chunks,
)
from .text import STOPWORDS

__all__ = ["Embeddings", "is_sparse", "l2_rows", "pretrain", "random_embeddings"]

logger = logging.getLogger(__name__)


def is_sparse(x: Any) -> bool:
    """True for a scipy.sparse matrix or array (a plain bool: no type narrowing to the sparse ABC)."""
    return bool(sp.issparse(x))


def unit_rows(a: np.ndarray) -> np.ndarray:
    """Divide every row of the float array ``a`` by its Euclidean norm, in place (zero rows stay zero);
    returns ``a``."""
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    np.divide(a, norms, out=a, where=norms > 0)
    return a


class Embeddings:
    """Word vectors keyed by word, in the manner of gensim's ``KeyedVectors``.

    Parameters
    ----------
    index_to_key : sequence of str
        The vocabulary; word ``i`` owns row ``i``.
    vectors : scipy.sparse CSR matrix or ndarray, shape (V, dim)
        One vector per word (rows L2-normalized for co-occurrence models).
    counts : scipy.sparse CSR matrix of int64, shape (V, V), optional
        Raw co-occurrence counts the vectors were made from.
    stopwords : frozenset of str or None
        The stopwords removed when the model was built; documents are tokenized the same way.
    frequencies : array of int64, shape (V,), optional
        Corpus frequency of each word.
    window : int, optional
        Co-occurrence window the model was built with.

    Attributes
    ----------
    index_to_key : list of str
    key_to_index : dict of str to int
    vectors, counts, stopwords, frequencies, window : as given
    """

    def __init__(
        self,
        index_to_key: Sequence[str],
        vectors: Any,
        counts: sp.csr_matrix | None = None,
        *,
        stopwords: Iterable[str] | None = STOPWORDS,
        frequencies: Any = None,
        window: int | None = None,
        _distinct: bool = False,
    ) -> None:
        self.index_to_key: list[str] = list(index_to_key)
        # key_to_index is built on first use (a dict of V words is 9 ms of a 130 ms pretrain at 1M
        # tokens); words not known to be distinct (``_distinct``: cooc's own sorted vocabularies) are
        # checked now
        self._key_to_index: dict[str, int] | None = None
        if not _distinct and len(self.key_to_index) != len(self.index_to_key):
            raise ValueError("index_to_key must hold distinct words")
        if is_sparse(vectors):
            vectors = sp.csr_matrix(vectors.tocsr(), dtype=np.float64)
        else:
            vectors = np.asarray(vectors, dtype=np.float64)
            if vectors.ndim != 2:
                raise ValueError(f"vectors must be two-dimensional, got shape {vectors.shape}")
        if vectors.shape[0] != len(self.index_to_key):
            raise ValueError(
                f"vectors has {vectors.shape[0]} rows but the vocabulary has {len(self.index_to_key)} words"
            )
        self.vectors: Any = vectors  # scipy.sparse CSR or a dense ndarray
        self.counts = counts
        self.stopwords: frozenset[str] | None = None if stopwords is None else frozenset(stopwords)
        self.frequencies = None if frequencies is None else np.asarray(frequencies, dtype=np.int64)
        self.window = window
        self._csr: sp.csr_matrix | None = None
        self._dense: neighbors.DenseIndex | None = None
        self._t: neighbors.TransposeIndex | None = None

    @property
    def key_to_index(self) -> dict[str, int]:
        """The id of every word: ``key_to_index[index_to_key[i]] == i``."""
        if self._key_to_index is None:
            self._key_to_index = {w: i for i, w in enumerate(self.index_to_key)}
        return self._key_to_index

    # -- mapping protocol -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, word: object) -> bool:
        return word in self.key_to_index

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.index_to_key)

    def __repr__(self) -> str:
        kind = "sparse" if is_sparse(self.vectors) else "dense"
        return f"<Embeddings: {len(self)} words, dim {self.vector_size}, {kind}>"

    @property
    def vector_size(self) -> int:
        """Length of each word vector."""
        return int(self.vectors.shape[1])

    def get_index(self, word: str) -> int:
        """Row index of ``word``; KeyError naming the word when it is not in the vocabulary."""
        try:
            return self.key_to_index[word]
        except KeyError:
            raise KeyError(f"word {word!r} is not in the vocabulary") from None
        except TypeError:
            raise TypeError(f"a word must be a str, not {type(word).__name__}") from None

    def __getitem__(self, word: str) -> np.ndarray:
        """The vector of ``word`` as a dense float64 array of shape (vector_size,)."""
        return self.get_vector(word)

    def get_vector(self, word: str) -> np.ndarray:
        """The vector of ``word`` as a dense float64 array of shape (vector_size,)."""
        i = self.get_index(word)
        if is_sparse(self.vectors):
            out = np.zeros(self.vector_size, dtype=np.float64)
            lo, hi = self.vectors.indptr[i], self.vectors.indptr[i + 1]
            out[self.vectors.indices[lo:hi]] = self.vectors.data[lo:hi]
            return out
        return np.array(self.vectors[i], dtype=np.float64)

    # -- similarity --------------------------------------------------------------------------------

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words (0.0 when either vector is zero).

        Examples
        --------
        >>> emb = pretrain(["good food", "good wine", "bad food"])
        >>> round(emb.similarity("food", "wine"), 3)
        0.707
        """
        return _backend.cosine_dense(self[w1], self[w2])

    def _rows_csr(self) -> sp.csr_matrix:
        if self._csr is None:
            m: Any = sp.csr_matrix(self.vectors, dtype=np.float64)
            if not m.has_sorted_indices:
                m = m.copy()  # never reorder the caller's arrays
                m.sort_indices()
            self._csr = m
        return self._csr

    def most_similar(self, word: str | np.ndarray, topn: int = 5, n_jobs: int = 1) -> list[tuple[str, float]]:
        """The ``topn`` words nearest to ``word`` by cosine similarity.

        Ties in similarity are broken by vocabulary order; the word itself is left out. A vector may be
        given instead of a word, in which case no word is left out.

        Parameters
        ----------
        word : str or array of shape (vector_size,)
        topn : int
        n_jobs : int, default 1
            Threads for one query of sparse vectors (its rows are cut into ranges); -1 uses every core.
            The result does not depend on it.

        Returns
        -------
        list of (str, float)
            Best first.

        Examples
        --------
        >>> emb = pretrain(["good food", "good wine", "bad food"])
        >>> [(w, round(s, 3)) for w, s in emb.most_similar("wine", topn=2)]
        [('food', 0.707), ('bad', 0.0)]
        """
        query: Any = None
        if isinstance(word, str):
            exclude = self.get_index(word)  # the sparse path reads the word's row in place
            if not is_sparse(self.vectors):
                query = self[word]
        else:
            exclude = -1
            query = np.asarray(word, dtype=np.float64)
            if query.shape != (self.vector_size,):
                raise ValueError(f"query vector must have shape ({self.vector_size},), got {query.shape}")
        if isinstance(topn, bool) or not isinstance(topn, (int, np.integer)) or topn < 0:
            raise ValueError(f"topn must be a non-negative integer, got {topn!r}")
        from .counting import check_n_jobs

        jobs = check_n_jobs(n_jobs)
        if is_sparse(self.vectors):
            if exclude >= 0:  # the model's own row: checked once, with the index
                rows2, sims2, found = self._transpose().query_rows([exclude], int(topn), jobs)
            else:
                q_idx = np.flatnonzero(query).astype(np.int32)
                rows2, sims2, found = self._transpose().query(
                    np.array([0, q_idx.size], dtype=np.int64), q_idx, query[q_idx], int(topn), -1, jobs
                )
            rows, sims = rows2[0, : found[0]], sims2[0, : found[0]]
        else:
            if self._dense is None:
                self._dense = neighbors.DenseIndex(self.vectors)
            rows, sims = self._dense.query(query, int(topn), exclude)
        return [(self.index_to_key[r], float(s)) for r, s in zip(rows.tolist(), sims.tolist())]

    def _transpose(self) -> neighbors.TransposeIndex:
        """The transposed vectors (CSR) and the row norms, built and checked once for neighbour queries."""
        if self._t is None:
            m = self._rows_csr()
            self._t = neighbors.TransposeIndex.from_rows(m.indptr, m.indices, m.data, m.shape[1])
        return self._t

    def most_similar_batch(
        self, words: Sequence[str], topn: int = 5, n_jobs: int = 1
    ) -> list[list[tuple[str, float]]]:
        """:meth:`most_similar` for many words at once, answered by ``n_jobs`` threads.

        The results equal those of :meth:`most_similar` word by word, bit for bit.
        """
        from .counting import _in_order, check_n_jobs

        if isinstance(words, str):
            raise TypeError("words must be a sequence of str, not a single str")
        ids = [self.get_index(w) for w in words]
        jobs = check_n_jobs(n_jobs)
        if isinstance(topn, bool) or not isinstance(topn, (int, np.integer)) or topn < 0:
            raise ValueError(f"topn must be a non-negative integer, got {topn!r}")
        if not is_sparse(self.vectors):
            return [r for _, r in _in_order(lambda w: self.most_similar(w, topn), list(words), jobs)]
        rows, sims, found = self._transpose().query_rows(np.asarray(ids, dtype=np.int64), int(topn), jobs)
        keys = self.index_to_key
        return [
            [(keys[r], float(x)) for r, x in zip(rows[b, :n].tolist(), sims[b, :n].tolist())]
            for b, n in enumerate(found.tolist())
        ]

    def reweight(
        self,
        weighting: str = "count",
        *,
        cds: float = 0.75,
        shift: float | None = None,
        dim: int | None = None,
        p: float = 0.5,
        seed: int = 0,
        add_context: bool = False,
        n_jobs: int = 1,
    ) -> Embeddings:
        """The same counts with other vectors, without counting the corpus again.

        ``pretrain(corpus, weighting=..., dim=...)`` equals ``pretrain(corpus).reweight(weighting=...,
        dim=...)``, vector for vector; the options are :func:`pretrain`'s. Distance weighting
        (``distance=``) needs the corpus itself and is not offered here.

        Returns
        -------
        Embeddings
            The same vocabulary, counts, frequencies, stopwords and window; new ``vectors``.

        Raises
        ------
        ValueError
            If the model has no counts (e.g. read from a word2vec file), or for a bad option.

        Examples
        --------
        >>> emb = pretrain(["good food", "good wine", "bad food"])
        >>> ppmi = emb.reweight("ppmi")
        >>> ppmi.index_to_key == emb.index_to_key and (ppmi.counts != emb.counts).nnz == 0
        True
        """
        if self.counts is None:
            raise ValueError("this model has no counts to reweight (it was not made by cooc.pretrain)")
        _check_weighting(weighting, cds, shift, "uniform", dim, p, add_context, seed)
        counts = sp.csr_matrix(self.counts)
        vectors = _vectors(counts, weighting, cds, shift, dim, p, seed, add_context, check_n_jobs(n_jobs))
        return Embeddings(self.index_to_key, vectors, self.counts, stopwords=self.stopwords,
                          frequencies=self.frequencies, window=self.window, _distinct=True)

    # -- files -----------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str], *, compress: bool = False) -> Any:
        """Write the model to ``path`` as a pickle-free ``.npz`` (atomically); see :func:`cooc.load`."""
        from .io import save

        return save(self, path, compress=compress)

    def save_word2vec_format(
        self, path: str | os.PathLike[str], binary: bool = False, *, force: bool = False
    ) -> Any:
        """Write the vectors in word2vec's text (or binary) format, readable by gensim."""
        from .io import save_word2vec_format

        return save_word2vec_format(self, path, binary=binary, force=force)

    def evaluate_word_pairs(
        self, path: str | os.PathLike[str], delimiter: str = "\t", case_insensitive: bool = True,
        encoding: str | None = None,
    ) -> tuple[tuple[float, float], tuple[float, float], float]:
        """(Pearson, Spearman, OOV %) on a WordSim353-style file; see :func:`cooc.evaluate.evaluate_word_pairs`."""
        from .evaluate import evaluate_word_pairs

        return evaluate_word_pairs(self, path, delimiter, case_insensitive, encoding)

    def to_scipy(self) -> sp.csr_matrix:
        """The vectors as a scipy.sparse CSR matrix (float64, rows L2-normalized)."""
        return self._rows_csr()


def l2_rows(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, n: int, n_jobs: int = 1) -> Any:
    """The rows of a CSR matrix divided by their Euclidean norms, as a new (n, n) float64 CSR matrix.

    The result shares ``indptr`` and ``indices`` with its input (as scipy's own arithmetic does), so a
    model's ``counts`` and ``vectors`` hold one copy of the sparsity structure; treat them as read-only.
    """
    return sp.csr_matrix((_backend.normalize_rows_l2(indptr, data, n_jobs), indices, indptr), shape=(n, n))


def _check_window(window: Any) -> int:
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)):
        raise ValueError(f"window must be a positive integer, got {window!r}")
    if window < 1:
        raise ValueError(f"window must be a positive integer, got {window}")
    return int(window)


def _check_positive(name: str, value: Any, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        extra = " or None" if allow_none else ""
        raise ValueError(f"{name} must be an integer >= 1{extra}, got {value!r}")
    return int(value)


def _check_weighting(
    weighting: Any, cds: Any, shift: Any, distance: Any, dim: Any, p: Any, add_context: Any, seed: Any
) -> None:
    from .weighting import DISTANCES, WEIGHTINGS, _check_real

    if not isinstance(add_context, (bool, np.bool_)):
        raise TypeError(f"add_context must be True or False, not {add_context!r}")
    if add_context and dim is None:
        raise ValueError("add_context adds the SVD's context vectors: it needs dim (e.g. dim=300)")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, not {type(seed).__name__} ({seed!r})")

    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {', '.join(map(repr, WEIGHTINGS))}, not {weighting!r}")
    if distance not in DISTANCES:
        raise ValueError(f"distance must be one of {', '.join(map(repr, DISTANCES))}, not {distance!r}")
    _check_real("cds", cds, low=0.0, low_inclusive=False, high=1.0)
    if shift is not None:
        if weighting == "count":
            raise ValueError("shift applies to weighting='ppmi' or 'sppmi', not to raw counts")
        _check_real("shift", shift, low=1.0, low_inclusive=True)
    _check_positive("dim", dim, allow_none=True)
    _check_real("p", p, low=0.0, low_inclusive=True)


def _vectors(
    weighted: sp.csr_matrix, weighting: str, cds: float, shift: float | None, dim: int | None, p: float,
    seed: int, add_context: bool, jobs: int,
) -> Any:
    """A model's vectors from its (possibly distance-weighted) counts, options already checked:
    L2-normalized rows of the counts, of their PPMI / SPPMI, or of the SVD of either."""
    n = weighted.shape[0]
    if weighting in ("ppmi", "sppmi"):
        from .weighting import ppmi

        k = shift if shift is not None else (5.0 if weighting == "sppmi" else 1.0)
        weighted = ppmi(weighted, cds=cds, shift=k)
    if dim is not None:
        from .weighting import svd

        return unit_rows(svd(weighted, min(int(dim), n), p=p, seed=int(seed), n_jobs=jobs,
                             add_context=bool(add_context)))
    w = weighted
    if w.dtype != np.int64 and w.dtype != np.float64:
        w = sp.csr_matrix(w, dtype=np.float64)
    if not w.has_sorted_indices:
        w = w.copy()
        w.sort_indices()
    return l2_rows(w.indptr, w.indices, w.data, n, jobs)


def pretrain(
    sentences: Any,
    window: int = 3,
    *,
    stopwords: Iterable[str] | None = STOPWORDS,
    min_count: int = 1,
    max_vocab_size: int | None = None,
    memory_limit: int | str | None = None,
    n_jobs: int = 1,
    tmp_dir: str | os.PathLike[str] | None = None,
    chunk_chars: int = 1 << 20,
    progress: Callable[[int], None] | None = None,
    weighting: str = "count",
    cds: float = 0.75,
    shift: float | None = None,
    distance: str = "uniform",
    dim: int | None = None,
    p: float = 0.5,
    seed: int = 0,
    add_context: bool = False,
) -> Embeddings:
    """Count windowed co-occurrences and L2-normalize each row: the reference's pretraining stage.

    Text is lowercased and split into maximal runs of letters (:func:`cooc.tokenize`); stopwords are
    removed; for every token, every other token at most ``window`` positions away in the same sentence
    adds 1 to their cell. A word's vector is its row of counts divided by the row's Euclidean norm.

    Parameters
    ----------
    sentences : iterable of str, str, path, list of paths, or LineCorpus
        An iterable of str is one sentence (context unit) per item; a ``str`` is text whose lines are
        the sentences; a ``pathlib.Path`` (or a list of them, or a :class:`cooc.LineCorpus`) names
        files, plain or ``.gz`` / ``.bz2`` / ``.xz``, one sentence per line. Windows never cross a
        sentence end. A one-shot generator is read once; an exhausted one is an error.
    window : int, default 3
        Symmetric window half-width, at least 1.
    stopwords : iterable of str or None
        Removed before counting; the reference's 28 words by default; ``None`` keeps every token.
    min_count : int, default 1
        Words seen fewer times are removed before windowing, so their neighbours become adjacent
        (as in gensim and GloVe).
    max_vocab_size : int or None
        Keep only this many most frequent words (ties broken by word order), also before windowing.
    memory_limit : int, str or None
        Working-memory budget for counting, e.g. ``"2GB"`` (the finished matrix is not included).
        Above it, partial counts are spilled to ``tmp_dir`` and merged; results are identical.
    n_jobs : int, default 1
        Threads for tokenizing and counting (-1: every core); results are identical for any value.
    tmp_dir : path or None
        Where spilled runs go (the system temporary directory by default); always cleaned up.
    chunk_chars : int
        Characters of text tokenized per chunk.
    progress : callable or None
        Called after each chunk with the number of bytes read (for a :class:`cooc.LineCorpus`) or of
        characters tokenized (for other inputs).
    weighting : {"count", "ppmi", "sppmi"}, default "count"
        What the vectors are made of: raw counts (the reference), positive PMI, or shifted positive
        PMI (:func:`cooc.weighting.ppmi`). ``counts`` always holds the integer counts.
    cds : float, default 0.75
        Context-distribution smoothing of PPMI / SPPMI.
    shift : float or None
        ``k`` of SPPMI (default 5 for ``"sppmi"``, 1 for ``"ppmi"``).
    distance : {"uniform", "harmonic", "linear"}, default "uniform"
        Weight of a pair ``d`` positions apart: 1 (the reference), 1/d (GloVe) or
        (window - d + 1) / window; non-uniform weights give float64 weighted counts, computed exactly
        from integer counts of windows 1..window (:func:`cooc.weighting.distance_weighted_counts`).
    dim : int or None
        With an int, the vectors are the dense truncated SVD ``U_k * S_k ** p`` of the weighted
        matrix (:func:`cooc.weighting.svd`), rows L2-normalized; None keeps sparse V x V rows.
    p : float, default 0.5
        Eigenvalue weight of the SVD.
    seed : int, default 0
        Seed of the randomized SVD (``dim``): the vectors are the same for the same seed, whatever
        ``n_jobs``; other seeds give other, equally good bases (WordSim353 Spearman moves by about 0.01).
    add_context : bool, default False
        With ``dim``: add each word's context vector ``V_k S_k^p`` to its word vector ``U_k S_k^p``,
        both rows normalized first (Levy, Goldberg and Dagan 2015's ``w+c``; often better on word
        similarity, see :func:`cooc.weighting.svd`).

    Returns
    -------
    Embeddings
        Vocabulary sorted alphabetically, ``counts`` (CSR, int64) and ``vectors`` (CSR, float64).

    Raises
    ------
    ValueError
        For an empty corpus (nothing left after tokenizing and removing stopwords), an exhausted
        generator, or a bad parameter.

    Examples
    --------
    >>> emb = pretrain(["the cat sat on the mat", "the dog sat on the log"])
    >>> emb.index_to_key
    ['cat', 'dog', 'log', 'mat', 'sat']
    >>> emb.most_similar("cat", topn=1)
    [('dog', 0.5)]
    """
    window = _check_window(window)
    _check_weighting(weighting, cds, shift, distance, dim, p, add_context, seed)
    min_count = _check_positive("min_count", min_count)  # type: ignore[assignment]
    max_vocab_size = _check_positive("max_vocab_size", max_vocab_size, allow_none=True)
    chunk_chars = _check_positive("chunk_chars", chunk_chars)  # type: ignore[assignment]
    budget = parse_memory(memory_limit)
    jobs = check_n_jobs(n_jobs)
    stop = None if stopwords is None else frozenset(stopwords)
    if isinstance(stopwords, str):
        raise TypeError("stopwords must be a collection of words, not a single str")

    t0 = time.perf_counter()
    if isinstance(sentences, LineCorpus):  # progress in bytes read, compressed or not
        chunks = sentences.iter_chunks(chunk_chars, progress=progress)
        progress = None
    else:
        chunks = iter_chunks(sentences, chunk_chars)
    tokens = tokenize_chunks(chunks, n_jobs=jobs, progress=progress)
    vocab, ids, offsets = select_vocabulary(tokens, stop, min_count, max_vocab_size)
    n = len(vocab)
    indptr, indices, data = count_pairs(
        ids, offsets, n, window, n_jobs=jobs, memory_limit=budget, tmp_dir=tmp_dir
    )
    counts = sp.csr_matrix((data, indices, indptr), shape=(n, n))
    counts.has_sorted_indices = True   # the counting kernels sort every row
    weighted: Any = counts
    if distance != "uniform":
        from .weighting import distance_weighted_counts

        def count(d: int) -> tuple[np.ndarray, ...]:
            return count_pairs(ids, offsets, n, d, n_jobs=jobs, memory_limit=budget, tmp_dir=tmp_dir)

        weighted = distance_weighted_counts(ids, offsets, n, window, distance, counts=counts, count=count)
    vectors = _vectors(weighted, weighting, cds, shift, dim, p, seed, add_context, jobs)
    logger.info(
        "pretrained on %d sentences, %d tokens (%d kept): V=%d, %d non-zeros, window %d, "
        "%.2f s, backend %s",
        tokens.n_sentences, tokens.n_tokens, ids.size, n, data.size, window,
        time.perf_counter() - t0, _backend.BACKEND,
    )
    return Embeddings(
        vocab.words, vectors, counts, stopwords=stop, frequencies=vocab.frequencies, window=window,
        _distinct=True,
    )


def random_embeddings(
    vocab: Sequence[str] | Embeddings,
    dim: int | None = None,
    seed: int = 42,
    *,
    method: str = "numpy",
) -> Embeddings:
    """Random Gaussian unit vectors: the no-pretraining baseline.

    Parameters
    ----------
    vocab : sequence of str or Embeddings
        The words (an Embeddings gives its ``index_to_key`` and stopwords).
    dim : int or None
        Vector length; ``None`` means the vocabulary size, as in the reference.
    seed : int
    method : {"numpy", "reference"}
        ``"numpy"`` draws with ``numpy.random.default_rng(seed)``. ``"reference"`` reproduces the
        reference script exactly: Python's ``random.Random(seed)``, ``gauss(0, 1)`` for each component,
        word after word in vocabulary order (slow for large vocabularies: V x dim Python calls).

    Returns
    -------
    Embeddings
        Dense vectors, each divided by its norm.

    Examples
    --------
    >>> emb = random_embeddings(["bad", "good"], dim=3, seed=0)
    >>> emb.vectors.shape
    (2, 3)
    """
    stop: frozenset[str] | None = STOPWORDS
    if isinstance(vocab, Embeddings):
        stop = vocab.stopwords
        words = list(vocab.index_to_key)
    else:
        if isinstance(vocab, str):
            raise TypeError("vocab must be a sequence of words, not a single str")
        words = list(vocab)
    if not words:
        raise ValueError("vocab is empty")
    if dim is None:
        dim = len(words)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"dim must be a positive integer or None, got {dim!r}")
    if method == "reference":
        rng = random.Random(seed)
        rows = []
        for _ in words:
            vec = [rng.gauss(0, 1) for _ in range(dim)]
            sq = 0.0
            for x in vec:
                sq += x * x
            mag = math.sqrt(sq)
            rows.append([x / mag for x in vec] if mag > 0 else vec)
        mat = np.array(rows, dtype=np.float64)
    elif method == "numpy":
        mat = unit_rows(np.random.default_rng(seed).standard_normal((len(words), int(dim))))
    else:
        raise ValueError(f"method must be 'numpy' or 'reference', not {method!r}")
    return Embeddings(words, mat, stopwords=stop)
