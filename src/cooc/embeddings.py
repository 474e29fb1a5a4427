"""The model: vocabulary, raw counts and vectors, and the questions it answers.

:class:`Embeddings` follows gensim's ``KeyedVectors`` conventions: lookup, similarity, nearest
neighbours, word-pair evaluation, export. It never reads a corpus: :func:`cooc.pretrain` builds it
from text (:mod:`cooc.pretrain`), :func:`load` from a model file (:mod:`cooc.io`), and
:meth:`Embeddings.reweight` makes new vectors from its counts (:mod:`cooc.weighting`).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from . import _backend, io, neighbors
from ._parallel import check_n_jobs, map_ordered
from ._validate import check_weighting, is_sparse
from .io import ModelFileError
from .text import STOPWORDS
from .weighting import vectors_from_counts

__all__ = ["Embeddings", "is_sparse", "load"]

logger = logging.getLogger(__name__)

# Attributes that the model file stores in members of their own (see cooc.io); any other public
# attribute with a JSON form is saved in the file's settings and set again by :func:`load`.
_KNOWN_ATTRIBUTES = frozenset({"index_to_key", "vectors", "counts", "stopwords", "frequencies", "window"})


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
        >>> from cooc import pretrain
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
        >>> from cooc import pretrain
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
        if isinstance(words, str):
            raise TypeError("words must be a sequence of str, not a single str")
        ids = [self.get_index(w) for w in words]
        jobs = check_n_jobs(n_jobs)
        if isinstance(topn, bool) or not isinstance(topn, (int, np.integer)) or topn < 0:
            raise ValueError(f"topn must be a non-negative integer, got {topn!r}")
        if not is_sparse(self.vectors):
            return [r for _, r in map_ordered(lambda w: self.most_similar(w, topn), list(words), jobs)]
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
        >>> from cooc import pretrain
        >>> emb = pretrain(["good food", "good wine", "bad food"])
        >>> ppmi = emb.reweight("ppmi")
        >>> ppmi.index_to_key == emb.index_to_key and (ppmi.counts != emb.counts).nnz == 0
        True
        """
        if self.counts is None:
            raise ValueError("this model has no counts to reweight (it was not made by cooc.pretrain)")
        check_weighting(weighting, cds, shift, "uniform", dim, p, add_context, seed)
        counts = sp.csr_matrix(self.counts)
        vectors = vectors_from_counts(counts, weighting, cds, shift, dim, p, seed, add_context, check_n_jobs(n_jobs))
        return Embeddings(self.index_to_key, vectors, self.counts, stopwords=self.stopwords,
                          frequencies=self.frequencies, window=self.window, _distinct=True)

    # -- files -----------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str], *, compress: bool = False) -> Path:
        """Write the model to ``path`` as a pickle-free ``.npz``, atomically; :func:`cooc.load` reads it.

        The vocabulary, vectors (sparse CSR or dense) and, when present, raw counts, frequencies,
        window, stopwords and other public attributes that have a JSON form (one that has none is
        left out with a warning in the log). The file layout is described in :mod:`cooc.io`.

        Parameters
        ----------
        path : str or path-like
            The file to write, exactly as given: no ``.npz`` is appended (unlike ``numpy.savez``). A
            symlink is followed. An existing file is replaced and keeps its permissions.
        compress : bool, default False
            Deflate the members: smaller files, slower saving and loading.

        Returns
        -------
        pathlib.Path
            ``path``.

        Raises
        ------
        IsADirectoryError, FileNotFoundError
            ``path`` is a directory, or the directory to write into does not exist.
        ValueError, TypeError
            The model cannot be stored faithfully (e.g. non-integer counts, a non-str word).

        Examples
        --------
        >>> import tempfile, os, cooc
        >>> emb = cooc.pretrain(["good food", "good wine"])
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = emb.save(os.path.join(d, "model.npz"))
        ...     cooc.load(p).index_to_key
        ['food', 'good', 'wine']
        """
        attributes = {k: v for k, v in sorted(vars(self).items())
                      if not k.startswith("_") and k not in _KNOWN_ATTRIBUTES}
        data = io.ModelData(self.index_to_key, self.vectors, self.counts, self.frequencies, self.window,
                            self.stopwords, attributes)
        return io.write_model(path, data, compress=compress)

    def save_word2vec_format(
        self, path: str | os.PathLike[str], binary: bool = False, *, force: bool = False
    ) -> Path:
        """Write the vectors in word2vec's text (or binary) format, readable by gensim; see
        :func:`cooc.io.write_word2vec`."""
        return io.write_word2vec(path, self.index_to_key, self.vectors, binary=binary, force=force)

    def evaluate_word_pairs(
        self, path: str | os.PathLike[str], delimiter: str = "\t", case_insensitive: bool = True,
        encoding: str | None = None,
    ) -> tuple[tuple[float, float], tuple[float, float], float]:
        """Correlation of the model's cosine similarities with human scores of word pairs.

        The file holds one pair per line, ``word1<delimiter>word2<delimiter>score``; lines starting
        with ``#`` and blank lines are skipped. Pairs with a word outside the vocabulary are left out
        and counted in the out-of-vocabulary ratio (as gensim does, without a ``dummy4unknown`` option).

        Parameters
        ----------
        path : path of the pairs file (WordSim353, SimLex-999, ...)
        delimiter : str, default tab
        case_insensitive : bool, default True
            Look words up lowercased (cooc's vocabularies are lowercase).
        encoding : str or None
            Text encoding (UTF-8 by default).

        Returns
        -------
        pearson : (float, float)
            Pearson's r and its p-value.
        spearman : (float, float)
            Spearman's rho and its p-value.
        oov_ratio : float
            Percentage of pairs left out, in [0, 100] (as gensim reports it).

        Raises
        ------
        ValueError
            A malformed line (naming the file and the line), or no pair in the vocabulary.
        """
        from scipy import stats

        text = io.read_text(path, encoding)
        model_sims: list[float] = []
        human: list[float] = []
        total = oov = 0
        for lineno, line in enumerate(text.splitlines(), 1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            parts = stripped.split(delimiter)
            if len(parts) != 3:
                raise ValueError(
                    f"{path}: line {lineno}: expected 'word1{delimiter!r}word2{delimiter!r}score' "
                    f"(3 fields), got {len(parts)}: {line!r}"
                )
            a, b, score_text = (x.strip() for x in parts)
            try:
                score = float(score_text)
            except ValueError:
                raise ValueError(f"{path}: line {lineno}: score {score_text!r} is not a number") from None
            if not math.isfinite(score):
                raise ValueError(f"{path}: line {lineno}: score {score_text!r} is not finite")
            total += 1
            if case_insensitive:
                a, b = a.lower(), b.lower()
            if a not in self or b not in self:
                oov += 1
                continue
            model_sims.append(self.similarity(a, b))
            human.append(score)
        if total == 0:
            raise ValueError(f"{path}: no word pairs found")
        if len(human) < 2:
            raise ValueError(f"{path}: only {len(human)} of {total} pairs are in the vocabulary")
        pearson = stats.pearsonr(human, model_sims)
        spearman = stats.spearmanr(human, model_sims)
        ratio = 100.0 * oov / total
        logger.info("%s: Pearson %.4f, Spearman %.4f, %.1f%% OOV", path, pearson[0], spearman[0], ratio)
        return (
            (float(pearson[0]), float(pearson[1])),
            (float(spearman[0]), float(spearman[1])),
            ratio,
        )

    def to_scipy(self) -> sp.csr_matrix:
        """The vectors as a scipy.sparse CSR matrix (float64, rows L2-normalized)."""
        return self._rows_csr()


def load(path: str | os.PathLike[str]) -> Embeddings:
    """Read a model written by :meth:`Embeddings.save`, refusing anything else with a clear error.

    Nothing is unpickled, and every member's declared size and shape are checked against the archive
    and against each other before its data is read (see :func:`cooc.io.read_model`), so a crafted
    file cannot make the loader allocate more memory than the file declares.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    Embeddings
        With the saved vocabulary, vectors (sparse CSR float64 or dense float64 as saved), counts
        (CSR, int64 data), frequencies, window, stopwords and other saved attributes (as JSON values:
        a tuple comes back as a list).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    IsADirectoryError
        ``path`` is a directory.
    ModelFileError
        A ``ValueError`` naming the file and the problem: not a zip/npz archive ("not a cooc model
        file"), an ``.npz`` without cooc's magic ("foreign .npz: not written by cooc"), an unsupported
        format version, a corrupt or truncated archive, a pickled member, missing members, wrong dtypes,
        or arrays inconsistent with each other.
    """
    data = io.read_model(path)
    try:
        emb = Embeddings(data.words, data.vectors, data.counts, stopwords=data.stopwords,
                         frequencies=data.frequencies, window=data.window)
    except (ValueError, TypeError) as exc:
        raise ModelFileError(Path(os.fspath(path)), f"inconsistent model: {exc}") from exc
    for name, value in data.attributes.items():
        if (
            isinstance(name, str)
            and name.isidentifier()
            and not name.startswith("_")
            and name not in _KNOWN_ATTRIBUTES
            and not hasattr(Embeddings, name)
        ):
            setattr(emb, name, value)
        else:
            logger.warning("ignoring saved attribute %r: it would shadow part of Embeddings", name)
    return emb
