"""Representation analysis: mean cosine similarity within groups of words and between groups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from . import _backend
from .embeddings import Embeddings

__all__ = ["GroupSimilarity", "analyze"]


@dataclass(frozen=True)
class GroupSimilarity:
    """Result of :func:`analyze`.

    Attributes
    ----------
    present : dict of str to list of str
        For each group, its words found in the vocabulary, in the given order.
    within : dict of str to float
        Mean cosine over all pairs of present words of a group; only groups with at least two present
        words appear (as in the reference).
    between : dict of (str, str) to float
        Mean cosine over all pairs (one word of each group) for each pair of groups, in the given order;
        0.0 when either group has no present word.
    """

    present: dict[str, list[str]]
    within: dict[str, float]
    between: dict[tuple[str, str], float] = field(default_factory=dict)


def _mean(values: Sequence[float]) -> float:
    total = 0.0
    for v in values:  # left to right, as the reference's sum() on Python 3.11
        total += v
    return total / len(values) if values else 0.0


def analyze(emb: Embeddings, groups: Mapping[str, Sequence[str]]) -> GroupSimilarity:
    """Mean within-group and between-group cosine similarity of word groups.

    Words missing from the vocabulary are skipped.

    Parameters
    ----------
    emb : Embeddings
    groups : mapping of group name to list of words

    Returns
    -------
    GroupSimilarity

    Examples
    --------
    >>> from cooc import pretrain
    >>> emb = pretrain(["good movie", "great movie", "bad film", "awful film"])
    >>> res = analyze(emb, {"pos": ["good", "great"], "neg": ["bad", "awful"]})
    >>> round(res.within["pos"], 3), round(res.within["neg"], 3), res.between[("pos", "neg")]
    (1.0, 1.0, 0.0)
    """
    if not isinstance(emb, Embeddings):
        raise TypeError(f"expected cooc.Embeddings, got {type(emb).__name__}")
    if not isinstance(groups, Mapping):
        raise TypeError("groups must be a mapping of group name to a list of words")
    present: dict[str, list[str]] = {}
    for name, words in groups.items():
        if isinstance(words, str):
            raise TypeError(f"group {name!r} must be a list of words, not a single str")
        present[name] = [w for w in words if w in emb]
    vectors = {w: emb[w] for ws in present.values() for w in ws}

    def sim(a: str, b: str) -> float:
        return _backend.cosine_dense(vectors[a], vectors[b])

    within = {
        name: _mean([sim(a, b) for a, b in combinations(ws, 2)])
        for name, ws in present.items()
        if len(ws) >= 2
    }
    between = {
        (g1, g2): _mean([sim(a, b) for a in present[g1] for b in present[g2]])
        for g1, g2 in combinations(present, 2)
    }
    return GroupSimilarity(present=present, within=within, between=between)
