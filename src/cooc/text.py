"""Tokenization with the reference's exact semantics, and the path for custom tokens.

A token is a maximal run of characters for which :meth:`str.isalpha` is true, taken from the lowercased
text; every other character separates tokens. This includes letters of every script (``"Café"`` gives
``"café"``), and drops digits, apostrophes and hyphens (``"don't"`` gives ``"don"``, ``"t"``).

Other tokenizations (a custom ``tokenizer`` callable, or pre-tokenized sentences) give lists of tokens
(:func:`cooc.corpus.iter_token_lists`), which :func:`encode_token_lists` turns into the token ids the
counting stage reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np

__all__ = ["STOPWORDS", "TokenIds", "encode_token_lists", "preprocess", "tokenize"]

#: The reference's 28 stopwords, removed by :func:`preprocess` and by :func:`cooc.pretrain`.
STOPWORDS: frozenset[str] = frozenset(
    """a an the is it in on of to and for with that this are was be at by or from but not we all
    had has have""".split()
)

class _SeparatorTable(dict):  # type: ignore[type-arg]
    """str.translate table: alphabetic code points map to themselves, all others to a space.

    Filled lazily, one entry per distinct code point ever seen, so it agrees with ``str.isalpha`` on
    every Unicode version without a table built at import.
    """

    def __missing__(self, code: int) -> int:
        value = code if chr(code).isalpha() else 32
        self[code] = value
        return value


_SEPARATORS = _SeparatorTable()


def tokenize(text: str) -> list[str]:
    """Split text into lowercase alphabetic tokens.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    list of str
        The maximal runs of alphabetic characters (``str.isalpha``) of ``text.lower()``, in order.

    Examples
    --------
    >>> tokenize("The café's 2 cats-and-dogs!")
    ['the', 'café', 's', 'cats', 'and', 'dogs']
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    return text.lower().translate(_SEPARATORS).split()


def preprocess(
    text: str,
    stopwords: Iterable[str] | None = STOPWORDS,
    tokenizer: Callable[[str], Any] | None = None,
) -> list[str]:
    """Tokenize and drop stopwords.

    Parameters
    ----------
    text : str
    stopwords : iterable of str or None
        Words to drop; the reference's :data:`STOPWORDS` by default, ``None`` keeps every token.
    tokenizer : callable or None
        ``tokenizer(text) -> list of str``; :func:`tokenize` when None. Its tokens are used as given
        (not lowercased), so stopwords must be spelled as it spells tokens.

    Returns
    -------
    list of str

    Examples
    --------
    >>> preprocess("The movie was excellent")
    ['movie', 'excellent']
    >>> preprocess("E401 on iOS 17.2", stopwords={"on"}, tokenizer=str.split)
    ['E401', 'iOS', '17.2']
    """
    if tokenizer is None:
        tokens = tokenize(text)
    else:
        if not callable(tokenizer):
            raise TypeError(f"tokenizer must be callable, not {type(tokenizer).__name__}")
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        tokens = _token_list(tokenizer(text), "the tokenizer's result")
    if not stopwords:
        return tokens
    if isinstance(stopwords, str):
        raise TypeError("stopwords must be a collection of words, not a single str")
    stop = stopwords if isinstance(stopwords, (set, frozenset)) else frozenset(stopwords)
    return [t for t in tokens if t not in stop]


def _token_list(tokens: Any, what: str) -> list[str]:
    """``tokens`` as a list of non-empty str, or a TypeError / ValueError naming ``what``."""
    if isinstance(tokens, (str, bytes)) or not isinstance(tokens, (list, tuple)):
        raise TypeError(f"{what} must be a list of str (one str per token), not {type(tokens).__name__}")
    for j, t in enumerate(tokens):
        if not isinstance(t, str):
            raise TypeError(f"{what}: token {j} must be a str, not {type(t).__name__}")
        if not t:
            raise ValueError(f"{what}: token {j} is an empty string")
    return list(tokens)


class TokenIds(NamedTuple):
    """A corpus as token ids of a provisional vocabulary (words in first-seen order).

    Attributes
    ----------
    words : list of str
        The distinct tokens, in order of first occurrence; token id ``i`` is ``words[i]``.
    counts : ndarray of int64, shape (len(words),)
        How many times each word occurs.
    chunks : list of (ndarray of int32, ndarray of int64)
        The corpus in pieces: each is ``(ids, offsets)``, the ids of its tokens and the sentence
        offsets into them (``offsets[0] == 0``, ``offsets[-1] == ids.size``; one more offset than
        sentences), the form the compiled tokenizer gives.
    n_sentences : int
    """

    words: list[str]
    counts: np.ndarray
    chunks: list[tuple[np.ndarray, np.ndarray]]
    n_sentences: int


def encode_token_lists(sentences: Iterable[Any], chunk_tokens: int = 1 << 20) -> TokenIds:
    """Turn sentences given as lists of tokens into token ids.

    The counting stage reads ids; this is how a custom tokenizer's output or pre-tokenized input
    (:func:`cooc.corpus.iter_token_lists`) gets there. Tokens are kept as given: not lowercased, no
    stopword removed (stopwords are removed later, by word, as for the built-in tokenizer). An empty
    sentence is kept (it has no tokens and separates its neighbours).

    Parameters
    ----------
    sentences : iterable of list (or tuple) of str
    chunk_tokens : int, default 1 Mi
        About how many token ids go into each chunk.

    Returns
    -------
    TokenIds

    Raises
    ------
    TypeError
        For a sentence that is not a list or tuple, or a token that is not a str (the message gives
        the sentence and token numbers).
    ValueError
        For an empty token.

    Examples
    --------
    >>> t = encode_token_lists([["E401", "iOS", "17.2"], [], ["iOS"]])
    >>> t.words, t.counts.tolist(), t.n_sentences
    (['E401', 'iOS', '17.2'], [1, 2, 1], 3)
    >>> [(ids.tolist(), offsets.tolist()) for ids, offsets in t.chunks]
    [([0, 1, 2, 1], [0, 3, 3, 4])]
    """
    if isinstance(chunk_tokens, bool) or not isinstance(chunk_tokens, int) or chunk_tokens < 1:
        raise ValueError(f"chunk_tokens must be a positive int, got {chunk_tokens!r}")
    if isinstance(sentences, (str, bytes)):
        raise TypeError("sentences must be an iterable of lists of tokens, not a single str")
    index: dict[str, int] = {}
    words: list[str] = []
    chunks: list[tuple[np.ndarray, np.ndarray]] = []
    ids: list[int] = []
    offsets: list[int] = [0]
    n_sentences = 0
    get = index.get
    for i, sentence in enumerate(sentences):
        if not isinstance(sentence, (list, tuple)):
            raise TypeError(
                f"sentence {i} must be a list of str (its tokens), not {type(sentence).__name__}"
            )
        for j, token in enumerate(sentence):
            k = get(token) if isinstance(token, str) else None
            if k is None:
                if not isinstance(token, str):
                    raise TypeError(f"sentence {i}, token {j} must be a str, not {type(token).__name__}")
                if not token:
                    raise ValueError(f"sentence {i}, token {j} is an empty string")
                k = index[token] = len(words)
                words.append(token)
            ids.append(k)
        offsets.append(len(ids))
        n_sentences += 1
        if len(ids) >= chunk_tokens:
            chunks.append((np.array(ids, dtype=np.int32), np.array(offsets, dtype=np.int64)))
            ids, offsets = [], [0]
    if len(offsets) > 1:
        chunks.append((np.array(ids, dtype=np.int32), np.array(offsets, dtype=np.int64)))
    counts = np.zeros(len(words), dtype=np.int64)
    for chunk_ids, _ in chunks:
        counts += np.bincount(chunk_ids, minlength=len(words))
    return TokenIds(words, counts, chunks, n_sentences)
