"""Pure-Python twins of the compiled tokenizing kernels in ``cooc._ext.tokenize``.

Same names, signatures, docstrings and output dtypes as the compiled module; a test checks it.
Inputs are trusted: ``cooc._backend`` validates them before either twin runs.
"""

from __future__ import annotations

import numpy as np

from ..text import _SEPARATORS

__all__ = ["WordTable", "remap_ids"]



class WordTable:
    """A growing vocabulary that turns text into word ids, for corpora read in chunks.

    Each call to :meth:`encode` lowercases a chunk of lines (``str.lower``), splits it into maximal runs
    of alphabetic characters (``str.isalpha``) and gives every new word the next id, in order of first
    appearance; every ``"\\n"`` ends a line, and each line is one sentence. Frequencies accumulate over
    calls. One table must not be used by two threads at once; use one table per thread.
    """

    def __init__(self):
        self._index = {}
        self._freq = []

    def __len__(self):
        return len(self._index)

    def encode(self, text):
        """Tokenize a chunk of lines into word ids of this table.

        Parameters
        ----------
        text : str
            One or more lines joined by ``"\\n"``.

        Returns
        -------
        ids : int32 array, shape (n_tokens,)
            The id of every token, in text order; new words get the next ids.
        offsets : int64 array, shape (n_lines + 1,)
            Line ``s`` is ``ids[offsets[s]:offsets[s + 1]]``.
        """
        index = self._index
        freq = self._freq
        ids = []
        offsets = [0]
        for line in text.lower().split("\n"):
            for tok in line.translate(_SEPARATORS).split():
                k = index.get(tok)
                if k is None:
                    k = index[tok] = len(index)
                    freq.append(0)
                freq[k] += 1
                ids.append(k)
            offsets.append(len(ids))
        return np.array(ids, dtype=np.int32), np.array(offsets, dtype=np.int64)

    def merge(self, other_table):
        """Add the words and frequencies of another table to this one.

        Words new to this table get the next ids, in the other table's id order; this table's ids
        stay. The other table is unchanged.

        Parameters
        ----------
        other_table : WordTable

        Returns
        -------
        int32 array, shape (len(other_table),)
            This table's id of each of the other table's words.
        """
        other = other_table
        if other is self:
            raise ValueError("a WordTable cannot merge itself")
        index = self._index
        freq = self._freq
        out = np.empty(len(other._index), dtype=np.int32)
        for k, (word, f) in enumerate(zip(other._index, other._freq)):
            i = index.get(word)
            if i is None:
                i = index[word] = len(index)
                freq.append(0)
            freq[i] += f
            out[k] = i
        return out

    def prefix_keys(self):
        """Each word's first 8 bytes of UTF-8 as a big-endian integer, zero-padded.

        The keys of two words are in the words' (code point) order wherever they differ; equal keys
        mean a shared 8-byte prefix.

        Returns
        -------
        uint64 array, shape (len(self),)
        """
        return np.array([int.from_bytes(w.encode("utf-8")[:8].ljust(8, b"\0"), "big") for w in self._index],
                        dtype=np.uint64)

    def words(self, ids=None):
        """The words of the table, ``words()[k]`` having id ``k`` (list of str); with ``ids`` (ints in
        ``[0, len(self))``), the words of those ids, in that order."""
        words = list(self._index)
        if ids is None:
            return words
        sel = np.asarray(ids, dtype=np.int64)
        if sel.ndim != 1:
            raise ValueError(f"ids must be one-dimensional, got shape {sel.shape}")
        out = []
        for k in sel.tolist():
            if k < 0 or k >= len(words):
                raise IndexError(f"word id {k} out of range for a table of {len(words)} words")
            out.append(words[k])
        return out

    def counts(self):
        """How often each word was seen over all :meth:`encode` calls (int64 array, shape (len(self),))."""
        return np.array(self._freq, dtype=np.int64)


def remap_ids(ids, offsets, mapping):
    """Map token ids through a table, dropping the tokens it maps below 0.

    Dropped tokens are removed before windowing: their neighbours in a sentence become adjacent.

    Parameters
    ----------
    ids : int32 array, shape (n_tokens,)
        Ids, each in ``[0, len(mapping))``.
    offsets : int64 array, shape (n_sentences + 1,)
        Sentence ``s`` is ``ids[offsets[s]:offsets[s + 1]]``.
    mapping : int32 array
        The new id of each old id; a negative one drops the token.

    Returns
    -------
    ids : int32 array, shape (n_kept,)
        ``mapping[ids]`` without its negative entries, in order.
    offsets : int64 array, shape (n_sentences + 1,)
        Sentence ``s``'s kept tokens are ``ids[offsets[s]:offsets[s + 1]]`` (possibly none).
    """
    new = mapping[ids]
    kept = new >= 0
    before = np.concatenate(([0], np.cumsum(kept, dtype=np.int64)))
    return new[kept].astype(np.int32), before[offsets].astype(np.int64)
