"""The model: vocabulary, raw counts and vectors, and the questions it answers.

:class:`Embeddings` follows gensim's ``KeyedVectors`` conventions: lookup, similarity, nearest
neighbours (``most_similar(positive=, negative=)``), word-pair and analogy evaluation, word2vec files
both ways, export to gensim. :func:`cooc.pretrain` builds it from text (:mod:`cooc.pretrain`),
:func:`load` from a model file (:mod:`cooc.io`), :func:`load_word2vec_format` from word2vec or GloVe
vectors.

A model records its :class:`Recipe` (how its counts and vectors were made): :meth:`Embeddings.reweight`
makes new vectors from its counts, :meth:`Embeddings.update` adds the counts of more text (counted by
:mod:`cooc.counting` under the same recipe), :func:`merge` sums models made the same way, and
:meth:`Embeddings.restrict_vocab` keeps fewer words; each follows the recipe exactly or refuses.

What ``min_count`` means for a model made of several texts: the recipe's ``min_count`` (and
``max_vocab_size``) applies to each counted text, before windowing, as in :func:`cooc.pretrain`;
``update`` and ``merge`` keep every word of every part. ``update(..., min_count=k)`` and
``restrict_vocab(min_count=k)`` then drop words by their summed frequencies, after counting, with
their rows and columns: that is not the same as removing them before windowing (their neighbours do
not become adjacent), and the recipe says so (``pruned=True``).
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from . import _backend, io, neighbors, sharded
from ._parallel import check_n_jobs
from ._validate import DISTANCES, WEIGHTINGS, check_positive, check_weighting, is_sparse, parse_size
from .counting import check_vocabulary, count_corpus, sum_on_union, take_words
from .dense import DenseIndex
from .io import ModelFileError
from .sharded import ShardedCSR
from .text import STOPWORDS
from .weighting import vectors_from_counts

__all__ = ["Embeddings", "Recipe", "is_sparse", "load", "load_word2vec_format", "merge", "vocabulary_digest"]

logger = logging.getLogger(__name__)

# Attributes that the model file stores in members of their own (see cooc.io); any other public
# attribute with a JSON form is saved in the file's settings and set again by :func:`load`.
_KNOWN_ATTRIBUTES = frozenset({"index_to_key", "vectors", "counts", "stopwords", "frequencies", "window",
                               "recipe"})


# -- the recipe --------------------------------------------------------------------------------------

# The fields of a recipe that say how the counts were made, then how the vectors were made from them.
_COUNTING_FIELDS = ("tokenizer", "lowercase", "stopwords", "window", "distance", "min_count",
                    "max_vocab_size", "vocabulary")
_WEIGHTING_FIELDS = ("weighting", "cds", "shift", "dim", "p", "seed", "add_context")
_RECIPE_FIELDS = _COUNTING_FIELDS + _WEIGHTING_FIELDS + ("pruned",)


def vocabulary_digest(words: Iterable[str]) -> str:
    """A short, exact fingerprint of a set of words (the ``vocabulary`` field of a :class:`Recipe`):
    ``"sha256:<hex>:<count>"`` of the sorted words, UTF-8, one per line."""
    ordered = sorted(set(words))
    h = hashlib.sha256()
    for w in ordered:
        h.update(w.encode("utf-8", "surrogatepass") + b"\n")
    return f"sha256:{h.hexdigest()}:{len(ordered)}"


@dataclass(frozen=True)
class Recipe:
    """How a model was made: every option of :func:`cooc.pretrain` that shapes its counts and vectors.

    Saved in the model file's settings and restored by :func:`load`. :meth:`Embeddings.reweight`,
    :meth:`Embeddings.update`, :func:`merge` and :meth:`Embeddings.restrict_vocab` follow it exactly or
    refuse with a ValueError naming the field; they never change it silently.

    A field can be *unknown* (listed in ``unknown``; its value is then None): a model built by hand, or
    read from a file written before recipes were saved, knows only its ``window`` and ``stopwords``.
    An operation that needs an unknown field refuses, naming it; :meth:`assume` fills it in when you
    know it.

    Attributes
    ----------
    tokenizer : str
        ``"builtin"``: :func:`cooc.tokenize` (maximal runs of letters); ``"custom"`` for anything else.
    lowercase : bool
        Text is lowercased before tokenizing (the built-in tokenizer always does).
    stopwords : tuple of str or None
        Removed before counting (sorted); None keeps every token.
    window : int
    distance : {"uniform", "harmonic", "linear"}
    min_count, max_vocab_size : int, int or None
        Applied to each counted text (each :func:`cooc.pretrain` or :meth:`Embeddings.update` call),
        before windowing.
    vocabulary : str or None
        :func:`vocabulary_digest` of the ``vocabulary=`` given to :func:`cooc.pretrain`, None when none was.
    weighting : {"count", "ppmi", "sppmi"}
    cds, shift : float or None
        Context smoothing and the effective SPPMI ``k``; None for ``weighting="count"``.
    dim : int or None
    p, seed, add_context : float, int, bool, or None
        The SVD's options; None when ``dim`` is None.
    pruned : bool
        Rows and columns were dropped after counting (:meth:`Embeddings.restrict_vocab`, or
        :meth:`Embeddings.update` with ``min_count``): the counts are then not those of a single
        :func:`cooc.pretrain` call, whose rules remove words *before* windowing.
    unknown : frozenset of str
        The fields this model does not know.
    """

    tokenizer: str | None = None
    lowercase: bool | None = None
    stopwords: tuple[str, ...] | None = None
    window: int | None = None
    distance: str | None = None
    min_count: int | None = None
    max_vocab_size: int | None = None
    vocabulary: str | None = None
    weighting: str | None = None
    cds: float | None = None
    shift: float | None = None
    dim: int | None = None
    p: float | None = None
    seed: int | None = None
    add_context: bool | None = None
    pruned: bool | None = False
    unknown: frozenset[str] = frozenset()

    @classmethod
    def unknown_recipe(cls, window: int | None, stopwords: Iterable[str] | None) -> Recipe:
        """The recipe of a model that records only its window (None: unknown too) and stopwords."""
        unknown = set(_RECIPE_FIELDS) - {"stopwords"}
        if window is not None:
            unknown.discard("window")
        return cls(stopwords=None if stopwords is None else tuple(sorted(stopwords)),
                   window=window, pruned=None, unknown=frozenset(unknown))

    @classmethod
    def weighting_fields(
        cls, weighting: str, cds: float, shift: float | None, dim: int | None, p: float, seed: int,
        add_context: bool,
    ) -> dict[str, Any]:
        """The weighting fields for these (checked) options, with the ones that do not apply as None."""
        ppmi = weighting in ("ppmi", "sppmi")
        k = None if not ppmi else float(shift if shift is not None else (5.0 if weighting == "sppmi" else 1.0))
        svd = dim is not None
        return {"weighting": weighting, "cds": float(cds) if ppmi else None, "shift": k,
                "dim": int(dim) if dim is not None else None, "p": float(p) if svd else None,
                "seed": int(seed) if svd else None, "add_context": bool(add_context) if svd else None}

    def weighting_options(self) -> dict[str, Any]:
        """The options of :func:`cooc.weighting.vectors_from_counts` this recipe names (known fields)."""
        return {"weighting": self.weighting, "cds": 0.75 if self.cds is None else self.cds,
                "shift": self.shift, "dim": self.dim, "p": 0.5 if self.p is None else self.p,
                "seed": 0 if self.seed is None else self.seed,
                "add_context": bool(self.add_context)}

    def to_dict(self) -> dict[str, Any]:
        """The known fields as JSON data (what the model file stores)."""
        out: dict[str, Any] = {}
        for name in _RECIPE_FIELDS:
            if name not in self.unknown:
                value = getattr(self, name)
                out[name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: Any) -> Recipe:
        """A recipe from :meth:`to_dict`'s form; missing fields are unknown. ValueError naming a bad field."""
        if not isinstance(data, dict):
            raise ValueError(f"recipe must be a JSON object, not {type(data).__name__}")
        extra = sorted(set(data) - set(_RECIPE_FIELDS))
        if extra:
            raise ValueError(f"recipe has unknown field(s) {', '.join(map(repr, extra))} (a newer cooc?)")
        values: dict[str, Any] = {}
        for name in _RECIPE_FIELDS:
            if name in data:
                values[name] = _recipe_value(name, data[name])
        unknown = frozenset(set(_RECIPE_FIELDS) - set(values))
        values.update({name: None for name in unknown})
        return cls(unknown=unknown, **values)

    def assume(self, **fields: Any) -> Recipe:
        """This recipe with some fields set and known, e.g. ``emb.recipe = emb.recipe.assume(distance="uniform")``
        for a model from an older file that you know was counted with uniform weights."""
        bad = sorted(set(fields) - set(_RECIPE_FIELDS))
        if bad:
            raise TypeError(f"a recipe has no field {bad[0]!r}; its fields are {', '.join(_RECIPE_FIELDS)}")
        checked = {name: _recipe_value(name, value) for name, value in fields.items()}
        return replace(self, unknown=self.unknown - set(fields), **checked)

    def require(self, names: Iterable[str], action: str) -> None:
        """ValueError naming the first of ``names`` this recipe does not know."""
        for name in names:
            if name in self.unknown:
                raise ValueError(
                    f"{action}: this model's recipe does not record {name!r} (a model built by hand or "
                    f"read from a file written before cooc saved recipes), so {action} cannot follow it; "
                    f"if you know it, set it: emb.recipe = emb.recipe.assume({name}=...)"
                )

    def first_difference(self, other: Recipe) -> str | None:
        """The first field (``pruned`` aside) in which two recipes differ, an unknown field included."""
        for name in _RECIPE_FIELDS:
            if name == "pruned":
                continue
            if (name in self.unknown) != (name in other.unknown) or getattr(self, name) != getattr(other, name):
                return name
        return None


def _recipe_value(name: str, value: Any) -> Any:
    """A recipe field's value, checked (ValueError naming the field)."""
    def bad(expected: str) -> ValueError:
        return ValueError(f"recipe field {name!r} must be {expected}, got {value!r}")

    if name in ("lowercase", "add_context", "pruned"):
        if value is not None and not isinstance(value, (bool, np.bool_)):
            raise bad("true, false or null")
        return None if value is None else bool(value)
    if name in ("window", "min_count", "max_vocab_size", "dim", "seed"):
        if value is None and name in ("max_vocab_size", "dim", "seed"):
            return None
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise bad("an integer" + (" or null" if name in ("max_vocab_size", "dim", "seed") else ""))
        if name != "seed" and value < 1:
            raise bad("an integer >= 1")
        return int(value)
    if name in ("cds", "shift", "p"):
        if value is None:
            return None
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise bad("a number or null")
        if not math.isfinite(float(value)):
            raise bad("a finite number")
        return float(value)
    if name == "stopwords":
        if value is None:
            return None
        if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)) or not all(
            isinstance(s, str) for s in value
        ):
            raise bad("a list of str or null")
        return tuple(sorted(set(value)))
    choices = {"tokenizer": ("builtin", "custom"), "distance": DISTANCES, "weighting": WEIGHTINGS}
    if name in choices:
        if value not in choices[name]:
            raise bad("one of " + ", ".join(map(repr, choices[name])))
        return value
    if name == "vocabulary":
        if value is not None and not (isinstance(value, str) and value.startswith("sha256:")):
            raise bad("a vocabulary digest ('sha256:...') or null")
        return value
    raise ValueError(f"a recipe has no field {name!r}")  # pragma: no cover - callers check the name


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
    recipe : Recipe, optional
        How the model was made (:func:`cooc.pretrain` records it); by default a recipe that knows
        only ``window`` and ``stopwords``. Its ``window`` and ``stopwords``, when known, must agree
        with the arguments.

    Attributes
    ----------
    index_to_key : list of str
    key_to_index : dict of str to int
    vectors, counts, stopwords, frequencies, window : as given
    recipe : Recipe
        Saved with the model; :meth:`reweight`, :meth:`update`, :func:`merge` and
        :meth:`restrict_vocab` follow it or refuse.
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
        recipe: Recipe | None = None,
        _distinct: bool = False,
    ) -> None:
        self.index_to_key: list[str] = list(index_to_key)
        # key_to_index is built on first use (a dict of V words is 9 ms of a 130 ms pretrain at 1M
        # tokens); words not known to be distinct (``_distinct``: cooc's own sorted vocabularies) are
        # checked now
        self._key_to_index: dict[str, int] | None = None
        if not _distinct and len(self.key_to_index) != len(self.index_to_key):
            raise ValueError("index_to_key must hold distinct words")
        sharded = isinstance(vectors, ShardedCSR)   # its vectors stay in their row blocks (cooc.sharded)
        if is_sparse(vectors) and not sharded:
            vectors = sp.csr_matrix(vectors.tocsr(), dtype=np.float64)
        elif not sharded:
            vectors = np.asarray(vectors)
            # dense vectors keep float32 (the SVD's, and every embedding format's) or become float64
            vectors = np.ascontiguousarray(vectors, dtype=np.float32 if vectors.dtype == np.float32 else np.float64)
            if vectors.ndim != 2:
                raise ValueError(f"vectors must be two-dimensional, got shape {vectors.shape}")
        if vectors.shape[0] != len(self.index_to_key):
            raise ValueError(
                f"vectors has {vectors.shape[0]} rows but the vocabulary has {len(self.index_to_key)} words"
            )
        self.vectors: Any = vectors  # scipy.sparse CSR or a dense ndarray
        self.counts = counts
        self._stopwords: frozenset[str] | None = None if stopwords is None else frozenset(stopwords)
        self.frequencies = None if frequencies is None else np.asarray(frequencies, dtype=np.int64)
        self._window = window
        if recipe is None:
            recipe = Recipe.unknown_recipe(window, self.stopwords)
        elif not isinstance(recipe, Recipe):
            raise TypeError(f"recipe must be a cooc.Recipe or None, not {type(recipe).__name__}")
        else:
            if "window" not in recipe.unknown and recipe.window != window:
                raise ValueError(f"window is {window!r} but the recipe's window is {recipe.window!r}")
            stop = None if self.stopwords is None else tuple(sorted(self.stopwords))
            if "stopwords" not in recipe.unknown and recipe.stopwords != stop:
                raise ValueError("stopwords differ from the recipe's stopwords")
        self.recipe: Recipe = recipe
        self._csr: sp.csr_matrix | None = None
        self._dense: DenseIndex | None = None
        self._t: neighbors.TransposeIndex | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the model, not the indexes built for queries (rebuilt on first use)."""
        state = self.__dict__.copy()
        state.update(_csr=None, _dense=None, _t=None)
        return state

    def __sklearn_clone__(self) -> Embeddings:
        """A fitted model is read-only: scikit-learn's ``clone`` shares it instead of copying it."""
        return self

    @property
    def window(self) -> int | None:
        """The co-occurrence window (the recipe's); setting it sets the recipe's (None: unknown)."""
        return self._window

    @window.setter
    def window(self, value: int | None) -> None:
        try:
            self.recipe = self.recipe.assume(window=value)
        except ValueError:  # None, or a value that save() refuses: the recipe no longer knows it
            self.recipe = replace(self.recipe, window=None, unknown=self.recipe.unknown | {"window"})
        self._window = value

    @property
    def stopwords(self) -> frozenset[str] | None:
        """The stopwords removed when the model was built (the recipe's); documents are tokenized the
        same way. Setting them sets the recipe's."""
        return self._stopwords

    @stopwords.setter
    def stopwords(self, value: Iterable[str] | None) -> None:
        if isinstance(value, str):
            raise TypeError("stopwords must be a collection of words, not a single str")
        self.recipe = self.recipe.assume(stopwords=None if value is None else list(value))
        self._stopwords = None if value is None else frozenset(value)

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
        kind = "sharded" if self.sharded else "sparse" if is_sparse(self.vectors) else "dense"
        return f"<Embeddings: {len(self)} words, dim {self.vector_size}, {kind}>"

    @property
    def sharded(self) -> bool:
        """Whether the counts or vectors are row blocks on disk (:class:`cooc.sharded.ShardedCSR`)."""
        return isinstance(self.vectors, ShardedCSR) or isinstance(self.counts, ShardedCSR)

    def _whole(self, action: str, counts: bool = True) -> None:
        """Refuse an operation that needs the whole vectors (and counts) in memory on a sharded model."""
        if isinstance(self.vectors, ShardedCSR) or (counts and isinstance(self.counts, ShardedCSR)):
            raise ValueError(f"{action} needs the whole matrix in memory, and this model is sharded (its "
                             "row blocks stay on disk); load it with cooc.load(path, in_memory=True) first")

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
        if isinstance(self.vectors, ShardedCSR):
            out = np.zeros(self.vector_size, dtype=np.float64)
            ind, val = self.vectors.row(i)
            out[ind] = val
            return out
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
        # rounding may put a cosine a hair outside [-1, 1] (e.g. a word with itself)
        return min(1.0, max(-1.0, _backend.cosine_dense(self[w1], self[w2])))

    def _rows_csr(self) -> sp.csr_matrix:
        self._whole("this operation", counts=False)
        if self._csr is None:
            m: Any = sp.csr_matrix(self.vectors, dtype=np.float64)
            if not m.has_sorted_indices:
                m = m.copy()  # never reorder the caller's arrays
                m.sort_indices()
            self._csr = m
        return self._csr

    def most_similar(
        self,
        positive: str | np.ndarray | Sequence[str | np.ndarray] | None = None,
        negative: str | np.ndarray | Sequence[str | np.ndarray] | None = None,
        topn: int = 5,
        n_jobs: int = 1,
    ) -> list[tuple[str, float]]:
        """The ``topn`` words nearest to a word, a vector, or a combination of them, by cosine similarity.

        One word: its nearest neighbours, the word itself left out. One vector: the words nearest to
        it, none left out. Lists ``positive`` and ``negative`` (gensim's ``KeyedVectors.most_similar``,
        the 3CosAdd analogy ``positive=["king", "woman"], negative=["man"]``): every word's vector is
        divided by its norm, the query is the mean of the positive ones minus the negative ones, and
        the words of the query are left out of the answer. Ties in similarity are broken by
        vocabulary order.

        Parameters
        ----------
        positive : str, array of shape (vector_size,), or a list of them
        negative : str, array, or a list of them, optional
            (An integer here is read as ``topn``: the older call ``most_similar(word, 3)``.)
        topn : int, default 5
            (gensim's default is 10.)
        n_jobs : int, default 1
            Threads for one query of sparse vectors (its rows are cut into ranges); -1 uses every core.
            The result does not depend on it.

        Returns
        -------
        list of (str, float)
            Best first.

        Raises
        ------
        KeyError
            A word not in the vocabulary.
        ValueError
            No word or vector given, a vector of the wrong shape, or a query whose vectors cancel out.

        Examples
        --------
        >>> from cooc import pretrain
        >>> emb = pretrain(["good food", "good wine", "bad food"])
        >>> [(w, round(s, 3)) for w, s in emb.most_similar("wine", topn=2)]
        [('food', 0.707), ('bad', 0.0)]
        >>> [w for w, _ in emb.most_similar(positive=["wine", "bad"], negative=["good"], topn=1)]
        ['food']
        """
        if isinstance(negative, (int, np.integer)) and not isinstance(negative, (bool, np.bool_)):
            negative, topn = None, int(negative)  # the older call most_similar(word, topn)
        if isinstance(topn, bool) or not isinstance(topn, (int, np.integer)) or topn < 0:
            raise ValueError(f"topn must be a non-negative integer, got {topn!r}")
        if negative is None and (isinstance(positive, str) or isinstance(positive, np.ndarray)):
            return self._nearest(positive, int(topn), n_jobs)
        pos, neg = _as_query_list(positive, "positive"), _as_query_list(negative, "negative")
        if not pos and not neg:
            raise ValueError("most_similar needs at least one word or vector in positive or negative")
        query = np.zeros(self.vector_size, dtype=np.float64)
        exclude: set[int] = set()
        for items, sign in ((pos, 1.0), (neg, -1.0)):
            for item in items:
                if isinstance(item, str):
                    exclude.add(self.get_index(item))
                    vec = self.get_vector(item)
                    norm = float(np.linalg.norm(vec))
                    if norm > 0:
                        vec = vec / norm
                else:
                    vec = self._query_vector(item)
                query += sign * vec
        norm = float(np.linalg.norm(query))
        if norm == 0.0:
            raise ValueError("the query vector is zero: the positive and negative vectors cancel out (or are zero)")
        found = self._nearest(query / norm, int(topn) + len(exclude), n_jobs)
        return [(w, s) for w, s in found if self.key_to_index[w] not in exclude][: int(topn)]

    def _query_vector(self, vector: Any) -> np.ndarray:
        query = np.asarray(vector, dtype=np.float64)
        if query.shape != (self.vector_size,):
            raise ValueError(f"query vector must have shape ({self.vector_size},), got {query.shape}")
        if not np.isfinite(query).all():
            raise ValueError("query vector holds inf or nan")
        return query

    def _nearest(self, word: str | np.ndarray, topn: int, n_jobs: int) -> list[tuple[str, float]]:
        """The neighbours of one word (itself left out) or one vector."""
        query: Any = None
        if isinstance(word, str):
            exclude = self.get_index(word)  # the sparse path reads the word's row in place
            if not is_sparse(self.vectors):
                query = self[word]
        else:
            exclude = -1
            query = self._query_vector(word)
        jobs = check_n_jobs(n_jobs)
        if isinstance(self.vectors, ShardedCSR):
            q: Any = self.vectors.getrow(exclude) if exclude >= 0 else sp.csr_matrix(query[None, :])
            rows2, sims2, found = sharded.topk_rows(self.vectors, q, int(topn), np.array([exclude]))
            rows, sims = rows2[0, : found[0]], sims2[0, : found[0]]
        elif is_sparse(self.vectors):
            if exclude >= 0:  # the model's own row: checked once, with the index
                rows2, sims2, found = self._transpose().query_rows([exclude], int(topn), jobs)
            else:
                q_idx = np.flatnonzero(query).astype(np.int32)
                rows2, sims2, found = self._transpose().query(
                    np.array([0, q_idx.size], dtype=np.int64), q_idx, query[q_idx], int(topn), -1, jobs
                )
            rows, sims = rows2[0, : found[0]], sims2[0, : found[0]]
        else:
            rows, sims = self._dense_index().query(query, int(topn), exclude)
        return [(self.index_to_key[r], s) for r, s in zip(rows.tolist(), np.clip(sims, -1.0, 1.0).tolist())]

    def _dense_index(self) -> DenseIndex:
        """The dense vectors as unit rows of their own dtype, built once for neighbour queries."""
        if self._dense is None:
            self._dense = DenseIndex(self.vectors, dtype=self.vectors.dtype)
        return self._dense

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
        idx = np.asarray(ids, dtype=np.int64)
        if isinstance(self.vectors, ShardedCSR):
            queries = sp.vstack([self.vectors.getrow(i) for i in ids], format="csr") if ids else \
                sp.csr_matrix((0, self.vector_size))
            rows, sims, found = sharded.topk_rows(self.vectors, queries, int(topn), idx)
        elif is_sparse(self.vectors):
            rows, sims, found = self._transpose().query_rows(idx, int(topn), jobs)
        else:   # one BLAS product per block of queries (BLAS has its own threads)
            rows, sims, found = self._dense_index().query_many(self.vectors[idx], int(topn), idx)
        keys = self.index_to_key
        return [
            [(keys[r], x) for r, x in zip(rows[b, :n].tolist(), np.clip(sims[b, :n], -1.0, 1.0).tolist())]
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
        dim=...)``, vector for vector; the options are :func:`pretrain`'s. The counts are the
        uniform-window counts, so a model made with ``distance="harmonic"`` or ``"linear"`` is refused
        (its weighted counts are not kept: pretrain the corpus again with the new weighting), and so is
        one whose recipe does not record its distance.

        Returns
        -------
        Embeddings
            The same vocabulary, counts, frequencies, stopwords and window; new ``vectors``; the recipe
            with the new weighting.

        Raises
        ------
        ValueError
            If the model has no counts (e.g. read from a word2vec file), was made with a non-uniform
            ``distance`` (or its recipe does not say), or for a bad option.

        Examples
        --------
        >>> from cooc import pretrain
        >>> emb = pretrain(["good food", "good wine", "bad food"])
        >>> ppmi = emb.reweight("ppmi")
        >>> ppmi.index_to_key == emb.index_to_key and (ppmi.counts != emb.counts).nnz == 0
        True
        >>> ppmi.recipe.weighting
        'ppmi'
        """
        if self.counts is None:
            raise ValueError("this model has no counts to reweight (it was not made by cooc.pretrain)")
        self._whole("reweight")
        check_weighting(weighting, cds, shift, "uniform", dim, p, add_context, seed)
        jobs = check_n_jobs(n_jobs)
        self._check_uniform("reweight")
        counts = sp.csr_matrix(self.counts)
        vectors = vectors_from_counts(counts, weighting, cds, shift, dim, p, seed, add_context, jobs)
        fields = Recipe.weighting_fields(weighting, cds, shift, dim, p, seed, add_context)
        recipe = replace(self.recipe, unknown=self.recipe.unknown - set(fields), **fields)
        return Embeddings(self.index_to_key, vectors, self.counts, stopwords=self.stopwords,
                          frequencies=self.frequencies, window=self.window, recipe=recipe, _distinct=True)

    def _check_uniform(self, action: str) -> None:
        """Vectors are made from the stored counts only when the recipe's distance is "uniform"."""
        self.recipe.require(["distance"], action)
        if self.recipe.distance != "uniform":
            raise ValueError(
                f"{action}: this model was made with distance={self.recipe.distance!r}, whose weighted counts "
                "are not kept (the stored counts are uniform-window counts); pretrain the text again"
            )

    def _from_counts(
        self, words: list[str], counts: sp.csr_matrix, frequencies: Any, recipe: Recipe, jobs: int,
    ) -> Embeddings:
        """A model of the same kind as this one on other counts: vectors by the recipe's weighting."""
        opts = recipe.weighting_options()
        dim = opts["dim"]
        if dim is not None:
            dim = min(int(dim), len(words))
        vectors = vectors_from_counts(counts, opts["weighting"], opts["cds"], opts["shift"], dim, opts["p"],
                                      opts["seed"], opts["add_context"], jobs)
        return Embeddings(words, vectors, counts, stopwords=self.stopwords, frequencies=frequencies,
                          window=self.window, recipe=recipe, _distinct=True)

    def _check_rebuildable(self, action: str, fields: Sequence[str]) -> None:
        self._whole(action)
        if self.counts is None:
            raise ValueError(f"{action}: this model has no counts (it was not made by cooc.pretrain)")
        self.recipe.require(fields, action)
        self._check_uniform(action)
        if self.recipe.tokenizer != "builtin":
            raise ValueError(f"{action}: this model's tokenizer is {self.recipe.tokenizer!r}, not cooc's "
                             "built-in one, which is the only one cooc can count new text with")

    def restrict_vocab(
        self,
        words: Iterable[str] | None = None,
        *,
        min_count: int | None = None,
        max_vocab_size: int | None = None,
        n_jobs: int = 1,
    ) -> Embeddings:
        """A model of fewer words: their rows *and columns* of the counts, and vectors made from those.

        The rules, in order: keep the ``words`` (those in the vocabulary; the others are ignored);
        then the words seen at least ``min_count`` times; then the ``max_vocab_size`` most frequent
        (ties broken by word order). The vectors are recomputed from the kept counts by the recipe's
        weighting, and the recipe records ``pruned=True``.

        This drops words *after* counting, which is not what ``pretrain(min_count=...)`` does: there,
        rare words are removed *before* windowing, so their neighbours become adjacent and count as
        co-occurring. ``pretrain(corpus).restrict_vocab(min_count=5)`` therefore has fewer counts than
        ``pretrain(corpus, min_count=5)``.

        Parameters
        ----------
        words : iterable of str, optional
        min_count : int, optional
            Needs the model's frequencies.
        max_vocab_size : int, optional
            Needs the model's frequencies.
        n_jobs : int, default 1

        Returns
        -------
        Embeddings

        Raises
        ------
        ValueError
            No counts, a recipe that does not say how to make the vectors, a bad option, or no word left.

        Examples
        --------
        >>> from cooc import pretrain
        >>> emb = pretrain(["good food", "good wine", "bad food"])
        >>> small = emb.restrict_vocab(min_count=2)
        >>> small.index_to_key, small.counts.toarray().tolist()
        (['food', 'good'], [[0, 1], [1, 0]])
        """
        jobs = check_n_jobs(n_jobs)
        action = "restrict_vocab"
        self._whole(action)
        if self.counts is None:
            raise ValueError(f"{action}: this model has no counts (it was not made by cooc.pretrain)")
        self.recipe.require(_WEIGHTING_FIELDS, action)
        self._check_uniform(action)
        min_count = check_positive("min_count", min_count, allow_none=True)
        max_vocab_size = check_positive("max_vocab_size", max_vocab_size, allow_none=True)
        keep = np.ones(len(self), dtype=bool)
        if words is not None:
            wanted = check_vocabulary(words)
            assert wanted is not None
            keep[:] = False
            index = self.key_to_index
            keep[[index[w] for w in wanted if w in index]] = True
        if min_count is not None or max_vocab_size is not None:
            if self.frequencies is None:
                raise ValueError(f"{action}: min_count and max_vocab_size need the model's frequencies, "
                                 "which it does not have")
            freq = self.frequencies
            if min_count is not None:
                keep &= freq >= min_count
            if max_vocab_size is not None and int(keep.sum()) > max_vocab_size:
                cand = np.flatnonzero(keep)
                top = cand[np.lexsort((cand, -freq[cand]))[:max_vocab_size]]
                keep[:] = False
                keep[top] = True
        ids = np.flatnonzero(keep)
        if ids.size == 0:
            raise ValueError(f"{action}: no word of the vocabulary is left")
        counts = take_words(self.counts, ids)
        kept = [self.index_to_key[i] for i in ids.tolist()]
        freq_kept = None if self.frequencies is None else self.frequencies[ids]
        recipe = replace(self.recipe, pruned=True, unknown=self.recipe.unknown - {"pruned"})
        return self._from_counts(kept, counts, freq_kept, recipe, jobs)

    def update(
        self,
        sentences: Any,
        *,
        vocabulary: Iterable[str] | None = None,
        min_count: int | None = None,
        n_jobs: int = 1,
        memory_limit: int | str | None = None,
        tmp_dir: str | os.PathLike[str] | None = None,
        chunk_chars: int = 1 << 20,
        progress: Callable[[int], None] | None = None,
    ) -> Embeddings:
        """A new model: this one's counts plus those of more text (domain adaptation).

        The new text is counted exactly as :func:`cooc.pretrain` counted this model's, by the recipe
        (tokenizer, stopwords, window, and its ``min_count`` / ``max_vocab_size`` applied to the new
        text alone, before windowing); the counts and frequencies are added on the union of the two
        vocabularies; the vectors are made from the sums by the recipe's weighting (and ``dim``). With
        ``min_count=1``, ``pretrain(a).update(b)`` equals ``pretrain(a + b)``: vocabulary, counts and
        vectors. This model is not changed.

        Parameters
        ----------
        sentences
            As for :func:`cooc.pretrain`.
        vocabulary : collection of str, optional
            Required when the model was pretrained with ``vocabulary=``: the same words (checked by
            their digest); refused otherwise.
        min_count : int, optional
            After summing, drop the words seen fewer times in all the text so far, with their rows and
            columns of counts (:meth:`restrict_vocab`): this is *not* the recipe's ``min_count``,
            which removes words before windowing. By default every word of both is kept.
        n_jobs, memory_limit, tmp_dir, chunk_chars, progress
            As for :func:`cooc.pretrain`.

        Returns
        -------
        Embeddings

        Raises
        ------
        ValueError
            This model has no counts, a recipe that does not record how it was counted (naming the
            field), a non-uniform ``distance``, a ``vocabulary`` that differs from the recipe's, or a
            bad option.

        Examples
        --------
        >>> from cooc import pretrain
        >>> a, b = ["good food", "bad food"], ["good wine"]
        >>> both = pretrain(a).update(b)
        >>> both.index_to_key, (both.counts != pretrain(a + b).counts).nnz
        (['bad', 'food', 'good', 'wine'], 0)
        """
        action = "update"
        self._check_rebuildable(action, _COUNTING_FIELDS + _WEIGHTING_FIELDS)
        jobs = check_n_jobs(n_jobs)
        min_count = check_positive("min_count", min_count, allow_none=True)
        chunk_chars = check_positive("chunk_chars", chunk_chars)  # type: ignore[assignment]
        budget = None if memory_limit is None else parse_size("memory_limit", memory_limit, minimum=1 << 20)
        words = check_vocabulary(vocabulary)
        recipe = self.recipe
        if recipe.vocabulary is None and words is not None:
            raise ValueError("vocabulary: this model was pretrained without vocabulary=, so update "
                             "counts every word of the new text; leave vocabulary out")
        if recipe.vocabulary is not None:
            if words is None:
                raise ValueError("vocabulary: this model was pretrained with vocabulary=; give the same "
                                 "words to update")
            if vocabulary_digest(words) != recipe.vocabulary:
                raise ValueError("vocabulary: these words differ from the vocabulary this model was "
                                 f"pretrained with ({len(words)} words; the recipe's digest is {recipe.vocabulary})")
        assert recipe.window is not None and recipe.min_count is not None
        stop = None if recipe.stopwords is None else frozenset(recipe.stopwords)
        new = count_corpus(sentences, recipe.window, stop, recipe.min_count, recipe.max_vocab_size, words,
                           n_jobs=jobs, memory_limit=budget, tmp_dir=tmp_dir, chunk_chars=chunk_chars,
                           progress=progress)
        union, counts, freq = sum_on_union([(self.index_to_key, self.counts, self.frequencies),
                                            (new.vocab.words, new.counts, new.vocab.frequencies)])
        logger.info("updated with %d sentences, %d tokens: V %d -> %d", new.n_sentences, new.n_tokens,
                    len(self), len(union))
        out = self._from_counts(union, counts, freq, recipe, jobs)
        if min_count is not None:
            return out.restrict_vocab(min_count=min_count, n_jobs=jobs)
        return out

    def evaluate_word_analogies(
        self,
        analogies: str | os.PathLike[str],
        restrict_vocab: int | None = 300000,
        case_insensitive: bool = True,
        dummy4unknown: bool = False,
        *,
        encoding: str | None = None,
    ) -> tuple[float, list[dict[str, Any]]]:
        """Accuracy on analogy questions ``a b c d`` ("a is to b as c is to d"), as gensim computes it.

        gensim's ``KeyedVectors.evaluate_word_analogies``, answer for answer: only the first
        ``restrict_vocab`` words of ``index_to_key`` are used (cooc's vocabulary is in alphabetical
        order, gensim's usually by frequency: pass None to use every word); for a question whose four
        words are among them, the prediction is the first of the 5 nearest words to the 3CosAdd query
        ``b - a + c`` (unit vectors; :meth:`most_similar`) that is not ``a``, ``b`` or ``c``; with
        ``case_insensitive`` the words are compared in upper case (and a word with several cases
        stands for the first of them in the vocabulary).

        Parameters
        ----------
        analogies : path
            The questions-words format: ``: section`` lines, then one question of 4 words per line.
        restrict_vocab : int or None, default 300000
        case_insensitive : bool, default True
        dummy4unknown : bool, default False
            Count questions with a word outside the vocabulary as wrong (else they are left out).
        encoding : str, optional
            Of the file (UTF-8 by default).

        Returns
        -------
        score : float
            Correct answers over questions answered (0.0 when none was).
        sections : list of dict
            One per section, then ``"Total accuracy"``: ``{"section": str, "correct": [(a, b, c, d)],
            "incorrect": [...]}``.

        Raises
        ------
        ValueError
            Naming the file and the line: a question before any section, a line that is not 4 words;
            or a file with no question.
        """
        if restrict_vocab is not None and (
            isinstance(restrict_vocab, bool) or not isinstance(restrict_vocab, (int, np.integer)) or restrict_vocab < 1
        ):
            raise ValueError(f"restrict_vocab must be a positive integer or None, got {restrict_vocab!r}")
        for name, flag in (("case_insensitive", case_insensitive), ("dummy4unknown", dummy4unknown)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False, not {flag!r}")
        text = io.read_text(analogies, encoding)
        n_ok = len(self) if restrict_vocab is None else min(int(restrict_vocab), len(self))

        def norm(w: str) -> str:
            return w.upper() if case_insensitive else w

        ok_vocab: dict[str, int] = {}
        for i in range(n_ok - 1, -1, -1):  # the first word of a case wins, as in gensim
            ok_vocab[norm(self.index_to_key[i])] = i
        sections: list[dict[str, Any]] = []
        section: dict[str, Any] | None = None
        questions: list[tuple[dict[str, Any], tuple[str, str, str, str]]] = []
        n_questions = oov = 0
        for lineno, line in enumerate(text.splitlines(), 1):
            if line.startswith(": "):
                section = {"section": line[2:].strip(), "correct": [], "incorrect": []}
                sections.append(section)
                continue
            if not line.strip():
                continue
            if section is None:
                raise ValueError(f"{analogies}: line {lineno}: a question before any ': section' line")
            parts = line.split()
            if len(parts) != 4:
                raise ValueError(f"{analogies}: line {lineno}: expected 4 words (a b c d), got {len(parts)}: {line!r}")
            a, b, c, expected = (norm(x) for x in parts)
            n_questions += 1
            if a not in ok_vocab or b not in ok_vocab or c not in ok_vocab or expected not in ok_vocab:
                oov += 1
                if dummy4unknown:
                    section["incorrect"].append((a, b, c, expected))
                continue
            questions.append((section, (a, b, c, expected)))
        if n_questions == 0:
            raise ValueError(f"{analogies}: no analogy questions found")
        self._answer_analogies(questions, ok_vocab, n_ok, norm)
        total = {
            "section": "Total accuracy",
            "correct": [q for s in sections for q in s["correct"]],
            "incorrect": [q for s in sections for q in s["incorrect"]],
        }
        answered = len(total["correct"]) + len(total["incorrect"])
        score = len(total["correct"]) / answered if answered else 0.0
        logger.info("%s: %.1f%% of %d analogies correct, %.1f%% of the questions out of vocabulary",
                    analogies, 100 * score, answered, 100.0 * oov / n_questions)
        sections.append(total)
        return score, sections

    def _answer_analogies(
        self, questions: list[tuple[dict[str, Any], tuple[str, str, str, str]]], ok_vocab: dict[str, int],
        n_ok: int, norm: Callable[[str], str],
    ) -> None:
        """Answer each question (3CosAdd over the first ``n_ok`` unit vectors, the best 5 that are not a
        query word), appending it to its section's "correct" or "incorrect" list."""
        if not questions:
            return
        self._whole("evaluate_word_analogies", counts=False)
        sparse = is_sparse(self.vectors)
        rows: Any = self._rows_csr()[:n_ok] if sparse else np.asarray(self.vectors[:n_ok], dtype=np.float64)
        norms = (np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)).ravel()) if sparse
                 else np.linalg.norm(rows, axis=1))
        inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        unit: Any = sp.csr_matrix(sp.diags(inv) @ rows) if sparse else rows * inv[:, None]
        batch = max(1, min(256, (1 << 22) // max(n_ok, 1)))
        keys = self.index_to_key
        for start in range(0, len(questions), batch):
            chunk = questions[start:start + batch]
            ids = np.array([[ok_vocab[a], ok_vocab[b], ok_vocab[c]] for _, (a, b, c, _) in chunk], dtype=np.int64)
            if sparse:
                def vec(i: np.ndarray) -> np.ndarray:
                    return np.asarray(unit[i].toarray())
            else:
                def vec(i: np.ndarray) -> np.ndarray:
                    return np.asarray(unit[i])
            q = (vec(ids[:, 1]) + vec(ids[:, 2]) - vec(ids[:, 0])) / 3.0
            qn = np.linalg.norm(q, axis=1, keepdims=True)
            q = np.divide(q, qn, out=np.zeros_like(q), where=qn > 0)
            sims = np.asarray(unit @ q.T)  # (n_ok, len(chunk))
            want = min(n_ok, 5 + 3)
            for j, (section, (a, b, c, expected)) in enumerate(chunk):
                col = sims[:, j]
                top = np.argpartition(-col, want - 1)[:want] if want < n_ok else np.arange(n_ok)
                # best first; equal similarities by vocabulary order (a cut tie is resolved the same way)
                edge = col[top].min()
                top = np.union1d(top, np.flatnonzero(col == edge))
                top = top[np.lexsort((top, -col[top]))]
                skip = set(ids[j].tolist())
                best = [int(t) for t in top if int(t) not in skip][:5]
                predicted = None
                ignore = {a, b, c}
                for t in best:
                    predicted = norm(keys[t])
                    if predicted in ok_vocab and predicted not in ignore:
                        break
                key = "correct" if predicted == expected else "incorrect"
                section[key].append((a, b, c, expected))

    def to_gensim(self, *, force: bool = False) -> Any:
        """The vectors as a gensim ``KeyedVectors`` (float32, same words in the same order; the
        frequencies, when known, as the ``"count"`` attribute). Needs gensim (``pip install 'cooc[gensim]'``).

        Sparse vectors are densified: above :data:`cooc.io.WORD2VEC_MAX_DENSIFIED_VALUES` values (a
        V x V model of 10,000 words) they are refused unless ``force=True``.

        Raises
        ------
        ImportError
            gensim is not installed.
        ValueError
            Sparse vectors above the cap, without ``force``.
        """
        self._whole("to_gensim", counts=False)
        try:
            models = importlib.import_module("gensim.models")
        except ImportError as exc:
            raise ImportError(f"to_gensim needs gensim, which is not installed ({exc}); "
                              "pip install 'cooc[gensim]'") from exc
        n, dim = (int(k) for k in self.vectors.shape)
        if is_sparse(self.vectors):
            if n * dim > io.WORD2VEC_MAX_DENSIFIED_VALUES and not force:
                raise ValueError(
                    f"to_gensim densifies the {n} sparse vectors of dimension {dim}: {n * dim:,} values "
                    f"(about {n * dim * 4 / 1e9:.1f} GB of float32), above the cap of "
                    f"{io.WORD2VEC_MAX_DENSIFIED_VALUES:,}; pass force=True, or reduce the model first "
                    "(reweight(..., dim=300) or restrict_vocab)"
                )
            dense = self.vectors.toarray().astype(np.float32)
        else:
            dense = np.asarray(self.vectors, dtype=np.float32)
        kv = models.KeyedVectors(dim, count=0, dtype=np.float32)
        kv.add_vectors(list(self.index_to_key), dense)
        if self.frequencies is not None:
            kv.allocate_vecattrs(attrs=["count"], types=[np.int64])
            kv.expandos["count"][:] = self.frequencies
        return kv

    # -- files -----------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str], *, compress: bool = False, shards: int | None = None,
             storage_options: dict[str, Any] | None = None) -> Path | str:
        """Write the model to ``path`` as a pickle-free ``.npz``, atomically; :func:`cooc.load` reads it.

        With ``shards=N``, write a sharded model instead: a directory (or a URL such as
        ``s3://bucket/model``, through fsspec with ``storage_options``) holding the counts and sparse
        vectors in ``N`` row blocks of about equal non-zeros, each memory-mapped when loaded (format
        and guarantees: :mod:`cooc.sharded`). A sharded model saves only with ``shards`` (its own
        blocks are kept); saving it as one ``.npz`` needs ``cooc.load(path, in_memory=True)`` first.

        The vocabulary, vectors (sparse CSR or dense) and, when present, raw counts, frequencies,
        window, stopwords and other public attributes that have a JSON form (one that has none is
        left out with a warning in the log). The file layout is described in :mod:`cooc.io`.

        Parameters
        ----------
        path : str or path-like
            The file to write, exactly as given: no ``.npz`` is appended (unlike ``numpy.savez``). A
            symlink is followed. An existing file is replaced and keeps its permissions.
        compress : bool, default False
            Deflate the members: smaller files, slower saving and loading (not with ``shards``).
        shards : int, optional
            Write a sharded model of this many row blocks.
        storage_options : dict, optional
            For fsspec, when ``path`` is a URL (with ``shards``).

        Returns
        -------
        pathlib.Path or str
            ``path`` (a ``str`` for a URL).

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
                            self.stopwords, attributes, self.recipe.to_dict())
        if shards is not None:
            if compress:
                raise ValueError("compress: a sharded model's blocks are stored uncompressed (to be memory-mapped)")
            return sharded.save_sharded(path, data, shards, storage_options=storage_options)
        self._whole("save (to one .npz file)")
        return io.write_model(path, data, compress=compress)

    def save_word2vec_format(
        self, path: str | os.PathLike[str], binary: bool = False, *, force: bool = False
    ) -> Path:
        """Write the vectors in word2vec's text (or binary) format, readable by gensim; see
        :func:`cooc.io.write_word2vec`."""
        self._whole("save_word2vec_format", counts=False)
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
        self._whole("to_scipy", counts=False)
        return self._rows_csr()


def load(
    path: str | os.PathLike[str],
    *,
    max_inflated_bytes: int | str | None = None,
    in_memory: bool = False,
    storage_options: dict[str, Any] | None = None,
) -> Embeddings:
    """Read a model written by :meth:`Embeddings.save`, refusing anything else with a clear error.

    A directory or a URL is read as a sharded model (``save(..., shards=N)``, :mod:`cooc.sharded`):
    its counts and sparse vectors are :class:`cooc.sharded.ShardedCSR`, row blocks memory-mapped
    (local) or read on demand (URL), and its dense vectors a memory-mapped array. Such a model answers
    :meth:`~Embeddings.most_similar`, :meth:`~Embeddings.most_similar_batch`,
    :meth:`~Embeddings.similarity` and lookups block by block, with the answers of the in-memory model;
    operations that need the whole matrix (``reweight``, ``update``, ``merge``, ``restrict_vocab``,
    ``to_scipy``, ``to_gensim``, analogies, saving as one ``.npz``, word2vec export) raise a
    ``ValueError`` unless it is loaded with ``in_memory=True``.

    Nothing is unpickled, and every member's declared size and shape are checked against the archive
    and against each other before its data is read (see :func:`cooc.io.read_model`), so a crafted
    file cannot make the loader allocate more memory than the file declares.

    Parameters
    ----------
    path : str or path-like
    max_inflated_bytes : int, str or None
        A fixed cap on the bytes the archive's members may inflate to (e.g. ``"16GB"``). By default a
        file that inflates to more than 64 times its size on disk and more than 64 MiB is refused as
        a likely decompression bomb (see :func:`cooc.io.read_model`).
    in_memory : bool, default False
        For a sharded model: read every block into ordinary in-memory matrices (12 bytes per non-zero
        per matrix), as if it had been saved to one file.
    storage_options : dict, optional
        For fsspec, when ``path`` is a URL.

    Returns
    -------
    Embeddings
        With the saved vocabulary, vectors (sparse CSR float64, or dense float32 / float64 as saved), counts
        (CSR, int64 data), frequencies, window, stopwords, recipe (:class:`Recipe`; a file written
        before recipes were saved gives one that knows only the window and stopwords) and other saved
        attributes (as JSON values: a tuple comes back as a list).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ModelFileError
        A ``ValueError`` naming the file and the problem: not a zip/npz archive ("not a cooc model
        file"), an ``.npz`` without cooc's magic ("foreign .npz: not written by cooc"), an unsupported
        format version, a corrupt or truncated archive, a pickled member, missing members, wrong dtypes,
        or arrays inconsistent with each other; for a sharded model, its missing or inconsistent file.
    """
    if sharded.is_sharded(path):
        data = sharded.read_sharded(path, storage_options=storage_options)
        if in_memory:
            data.counts = None if data.counts is None else data.counts.tocsr()
            data.vectors = data.vectors.tocsr() if isinstance(data.vectors, ShardedCSR) else np.array(data.vectors)
    else:
        data = io.read_model(path, max_inflated_bytes=max_inflated_bytes)
    try:
        recipe = None if data.recipe is None else Recipe.from_dict(data.recipe)
        emb = Embeddings(data.words, data.vectors, data.counts, stopwords=data.stopwords,
                         frequencies=data.frequencies, window=data.window, recipe=recipe)
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


def _as_query_list(items: Any, name: str) -> list[str | np.ndarray]:
    """``positive`` / ``negative`` of :meth:`Embeddings.most_similar` as a list of words and vectors."""
    if items is None:
        return []
    if isinstance(items, (str, np.ndarray)):
        return [items]
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"{name} must be a word, a vector or a list of them, not {type(items).__name__}")
    out: list[str | np.ndarray] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, (np.ndarray, list, tuple)):
            out.append(np.asarray(item, dtype=np.float64))
        else:
            raise TypeError(f"{name} must hold words (str) or vectors, found {type(item).__name__}: {item!r}")
    return out


def merge(*models: Embeddings, n_jobs: int = 1) -> Embeddings:
    """One model from several made the same way: their counts and frequencies summed on the union of
    their vocabularies, and vectors made from the sums by their (common) recipe.

    With ``min_count=1``, ``merge(pretrain(a), pretrain(b))`` equals ``pretrain(a + b)``: vocabulary,
    counts and vectors. Each model's ``min_count`` and ``max_vocab_size`` were applied to its own text
    (before windowing); the merged model keeps every word of every model.

    Parameters
    ----------
    *models : Embeddings
        At least two, with counts, and recipes that agree in every field (``pruned`` aside) and are
        fully known.
    n_jobs : int, default 1
        Threads for making the vectors.

    Returns
    -------
    Embeddings

    Raises
    ------
    TypeError
        Something other than Embeddings.
    ValueError
        Fewer than two models, a model without counts, recipes that differ (naming the field and the
        two values) or do not record a field, or a non-uniform ``distance``.

    Examples
    --------
    >>> from cooc import pretrain
    >>> from cooc.embeddings import merge
    >>> m = merge(pretrain(["good food"]), pretrain(["good wine"]))
    >>> m.index_to_key, m.frequencies.tolist()
    (['food', 'good', 'wine'], [1, 2, 1])
    """
    if len(models) < 2:
        raise ValueError(f"merge needs at least two models, got {len(models)}")
    for i, m in enumerate(models):
        if not isinstance(m, Embeddings):
            raise TypeError(f"model {i + 1} must be a cooc.Embeddings, not {type(m).__name__}")
    jobs = check_n_jobs(n_jobs)
    first = models[0]
    for i, m in enumerate(models):
        m._check_rebuildable(f"merge (model {i + 1})", _COUNTING_FIELDS + _WEIGHTING_FIELDS)
    for i, m in enumerate(models[1:], 2):
        field_name = first.recipe.first_difference(m.recipe)
        if field_name is not None:
            raise ValueError(
                f"merge: models 1 and {i} were made differently: {field_name} is "
                f"{_show(getattr(first.recipe, field_name))} and {_show(getattr(m.recipe, field_name))}"
            )
    union, counts, freq = sum_on_union([(m.index_to_key, m.counts, m.frequencies) for m in models])
    pruned = any(bool(m.recipe.pruned) for m in models)
    recipe = replace(first.recipe, pruned=pruned, unknown=first.recipe.unknown - {"pruned"})
    return first._from_counts(union, counts, freq, recipe, jobs)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def load_word2vec_format(
    path: str | os.PathLike[str],
    binary: bool = False,
    *,
    encoding: str = "utf-8",
    limit: int | None = None,
    stopwords: Iterable[str] | None = STOPWORDS,
) -> Embeddings:
    """Read word vectors in the word2vec text or binary format, or GloVe's text format (no header line:
    detected), as gensim's ``KeyedVectors.load_word2vec_format`` does.

    Parameters
    ----------
    path : str or path-like
    binary : bool, default False
    encoding : str, default "utf-8"
    limit : int or None
        Read only the first ``limit`` vectors.
    stopwords : iterable of str or None
        Removed from documents tokenized for these vectors (:func:`cooc.document_vector`); the
        reference's stopwords by default.

    Returns
    -------
    Embeddings
        Dense float32 vectors (as gensim reads them) in the file's order, no counts; a recipe that records only the stopwords.

    Raises
    ------
    ValueError
        A malformed file, naming it and the line (text) or the vector (binary); see
        :func:`cooc.io.read_word2vec`.

    Examples
    --------
    >>> import os, tempfile, cooc
    >>> from cooc.embeddings import load_word2vec_format
    >>> emb = cooc.pretrain(["good food", "good wine"]).reweight(dim=2)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = emb.save_word2vec_format(os.path.join(d, "v.txt"))
    ...     load_word2vec_format(p).index_to_key
    ['food', 'good', 'wine']
    """
    if isinstance(stopwords, str):
        raise TypeError("stopwords must be a collection of words, not a single str")
    words, vectors = io.read_word2vec(path, binary, encoding=encoding, limit=limit)
    return Embeddings(words, vectors.astype(np.float32), stopwords=stopwords, _distinct=True)
