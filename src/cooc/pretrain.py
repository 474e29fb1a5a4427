"""The pretraining pipeline: text to :class:`~cooc.Embeddings` in one pass.

:func:`pretrain` walks the flow once: chunks of text (:mod:`cooc.corpus`), tokens and the vocabulary
(:mod:`cooc.counting`), exact co-occurrence counts (:mod:`cooc.counting`), distance weights and the
vectors (:mod:`cooc.weighting`). :func:`random_embeddings` builds the no-pretraining baseline.
"""

from __future__ import annotations

import logging
import math
import os
import random
import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

import numpy as np
import scipy.sparse as sp

from . import _backend
from ._parallel import check_n_jobs
from ._validate import check_positive, check_weighting, check_window, parse_size
from .corpus import is_pretokenized
from .counting import check_vocabulary, count_corpus, count_pairs, parked
from .embeddings import Embeddings, Recipe, vocabulary_digest
from .text import STOPWORDS
from .weighting import distance_weighted_counts, unit_rows, vectors_from_counts

__all__ = ["pretrain", "random_embeddings"]

logger = logging.getLogger(__name__)


def pretrain(
    sentences: Any,
    window: int = 3,
    *,
    stopwords: Iterable[str] | None = STOPWORDS,
    min_count: int = 1,
    max_vocab_size: int | None = None,
    vocabulary: Iterable[str] | None = None,
    memory_limit: int | str | None = None,
    n_jobs: int = 1,
    tmp_dir: str | os.PathLike[str] | None = None,
    chunk_chars: int = 1 << 20,
    progress: Callable[[int], None] | None = None,
    tokenizer: Callable[[str], Iterable[str]] | None = None,
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
    sentences : iterable of str, iterable of lists of str, str, path, list of paths, or LineCorpus
        An iterable of str is one sentence (context unit) per item; an iterable of lists of str is
        already tokenized (one list per sentence, tokens kept as given); a ``str`` is text whose lines
        are the sentences; a ``pathlib.Path`` (or a list of them, or a :class:`cooc.LineCorpus`; ``"-"``
        in a LineCorpus is standard input) names files, plain or ``.gz`` / ``.bz2`` / ``.xz``, one
        sentence per line. Windows never cross a sentence end. A one-shot generator is read once; an
        exhausted one is an error. A line longer than the memory budget allows is read in pieces cut
        at spaces (:class:`cooc.LineCorpus`, ``max_line_chars``).
    window : int, default 3
        Symmetric window half-width, at least 1.
    stopwords : iterable of str or None
        Removed before counting; the reference's 28 words by default; ``None`` keeps every token.
    min_count : int, default 1
        Words seen fewer times are removed before windowing, so their neighbours become adjacent
        (as in gensim and GloVe).
    max_vocab_size : int or None
        Keep only this many most frequent words (ties broken by word order), also before windowing.
    vocabulary : collection of str or None
        Count only these words: every other token is removed before windowing (after stopwords, before
        ``min_count`` and ``max_vocab_size``). Words of it that the corpus lacks get no row. The
        recipe records the words' digest (:func:`cooc.vocabulary_digest`), so that
        :meth:`Embeddings.update` can check it is given the same words.
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
    tokenizer : callable or None
        ``tokenizer(line) -> list of str`` replaces the built-in tokenizer (lowercase runs of letters,
        compiled); its tokens are kept as given (not lowercased), so spell ``stopwords`` the same way.
        The recipe records ``tokenizer="custom"``; such a model cannot be updated or merged.
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
        Vocabulary sorted alphabetically, ``counts`` (CSR, int64) and ``vectors`` (CSR, float64), and
        the ``recipe`` (:class:`cooc.Recipe`) of every option above that shapes them.

    Raises
    ------
    ValueError
        For an empty corpus (nothing left after tokenizing and removing stopwords), an exhausted
        generator, a ``vocabulary`` none of whose words occurs, or a bad parameter.

    Examples
    --------
    >>> emb = pretrain(["the cat sat on the mat", "the dog sat on the log"])
    >>> emb.index_to_key
    ['cat', 'dog', 'log', 'mat', 'sat']
    >>> emb.most_similar("cat", topn=1)
    [('dog', 0.5)]
    """
    window = check_window(window)
    check_weighting(weighting, cds, shift, distance, dim, p, add_context, seed)
    min_count = check_positive("min_count", min_count)  # type: ignore[assignment]
    max_vocab_size = check_positive("max_vocab_size", max_vocab_size, allow_none=True)
    chunk_chars = check_positive("chunk_chars", chunk_chars)  # type: ignore[assignment]
    budget = None if memory_limit is None else parse_size("memory_limit", memory_limit, minimum=1 << 20)
    jobs = check_n_jobs(n_jobs)
    stop = None if stopwords is None else frozenset(stopwords)
    if isinstance(stopwords, str):
        raise TypeError("stopwords must be a collection of words, not a single str")

    words = check_vocabulary(vocabulary)
    if tokenizer is not None and not callable(tokenizer):
        raise TypeError(f"tokenizer must be a callable taking a line and returning its tokens, not "
                        f"{type(tokenizer).__name__}")
    pretokenized, sentences = is_pretokenized(sentences)

    t0 = time.perf_counter()
    counted = count_corpus(sentences, window, stop, min_count, max_vocab_size, words, n_jobs=jobs,
                           memory_limit=budget, tmp_dir=tmp_dir, chunk_chars=chunk_chars, progress=progress,
                           tokenizer=tokenizer)
    vocab, counts, ids, offsets = counted.vocab, counted.counts, counted.ids, counted.offsets
    n = len(vocab)
    weighted: Any = counts
    if distance != "uniform":
        def count(d: int) -> tuple[np.ndarray, ...]:
            return count_pairs(ids, offsets, n, d, n_jobs=jobs, memory_limit=budget, tmp_dir=tmp_dir)

        logger.info("counting windows 1..%d for %s distance weights", window, distance)
        weighted = distance_weighted_counts(ids, offsets, n, window, distance, counts=counts, count=count)
    n_kept = ids.size
    del ids, offsets, counted.ids, counted.offsets   # 4 bytes a token: not needed by the weighting
    logger.info("weighting: %s%s", weighting, "" if dim is None else f", SVD to {dim} dimensions")
    # under a budget, the counts wait on disk while the SVD runs (it reads only their weighted copy)
    park = None if budget is None else partial(parked, counts, tmp_dir)
    vectors = vectors_from_counts(weighted, weighting, cds, shift, dim, p, seed, add_context, jobs, park)
    logger.info(
        "pretrained on %d sentences, %d tokens (%d kept): V=%d, %d non-zeros, window %d, "
        "%.2f s, backend %s",
        counted.n_sentences, counted.n_tokens, n_kept, n, counts.nnz, window,
        time.perf_counter() - t0, _backend.BACKEND,
    )
    recipe = Recipe(
        tokenizer="custom" if tokenizer is not None or pretokenized else "builtin",
        lowercase=tokenizer is None and not pretokenized, stopwords=None if stop is None else tuple(sorted(stop)),
        window=window, distance=distance, min_count=min_count, max_vocab_size=max_vocab_size,
        vocabulary=None if words is None else vocabulary_digest(words), pruned=False,
        **Recipe.weighting_fields(weighting, cds, shift, dim, p, seed, add_context),
    )
    return Embeddings(
        vocab.words, vectors, counts, stopwords=stop, frequencies=vocab.frequencies, window=window,
        recipe=recipe, _distinct=True,
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
