"""Vocabulary: the kept words in sorted order, with their corpus frequencies."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["Vocabulary"]


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

    __slots__ = ("words", "frequencies")

    def __init__(self, words: Sequence[str], frequencies: Sequence[int] | np.ndarray) -> None:
        self.words: list[str] = list(words)
        self.frequencies = np.asarray(frequencies, dtype=np.int64)
        if self.frequencies.shape != (len(self.words),):
            raise ValueError("words and frequencies must have the same length")

    def __len__(self) -> int:
        return len(self.words)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self.words)} words)"

