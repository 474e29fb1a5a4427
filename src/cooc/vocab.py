"""Vocabulary: word <-> id, word frequencies, and encoding of token lists into flat ids + offsets."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["Vocabulary", "encode"]


class Vocabulary:
    """Words in sorted order with their corpus frequencies.

    Sorted order is the reference's (``sorted(set(words))``): word ``i`` is ``words[i]``.

    Parameters
    ----------
    words : sequence of str
        Distinct words, sorted.
    frequencies : array of int64, shape (V,)
        How often each word occurs in the corpus.
    """

    __slots__ = ("words", "frequencies", "_index")

    def __init__(self, words: Sequence[str], frequencies: Sequence[int] | np.ndarray) -> None:
        self.words: list[str] = list(words)
        self.frequencies = np.asarray(frequencies, dtype=np.int64)
        if self.frequencies.shape != (len(self.words),):
            raise ValueError("words and frequencies must have the same length")
        self._index: dict[str, int] | None = None

    @property
    def index(self) -> dict[str, int]:
        """``word -> id``, built on first use (the counting pipeline never needs it)."""
        if self._index is None:
            index = {w: i for i, w in enumerate(self.words)}
            if len(index) != len(self.words):
                raise ValueError("vocabulary words must be distinct")
            self._index = index
        return self._index

    @classmethod
    def from_token_lists(cls, token_lists: Iterable[Sequence[str]]) -> Vocabulary:
        """Build the sorted vocabulary of every token in ``token_lists``."""
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            counts.update(tokens)
        words = sorted(counts)
        return cls(words, [counts[w] for w in words])

    def __len__(self) -> int:
        return len(self.words)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self.words)} words)"


def encode(token_lists: Sequence[Sequence[str]], index: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Map token lists to flat word ids and sentence offsets.

    Tokens missing from ``index`` are dropped before windowing (they are not placeholders), so their
    neighbours become adjacent, as in gensim and GloVe.

    Returns
    -------
    ids : int32 array, shape (n_tokens,)
    offsets : int64 array, shape (n_sentences + 1,)
        Sentence ``s`` is ``ids[offsets[s]:offsets[s + 1]]``.
    """
    flat: list[int] = []
    offsets = [0]
    get = index.get
    for tokens in token_lists:
        flat.extend(i for i in map(get, tokens) if i is not None)
        offsets.append(len(flat))
    return np.array(flat, dtype=np.int32), np.array(offsets, dtype=np.int64)
