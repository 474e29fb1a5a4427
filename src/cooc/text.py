"""Tokenization with the reference's exact semantics.

A token is a maximal run of characters for which :meth:`str.isalpha` is true, taken from the lowercased
text; every other character separates tokens. This includes letters of every script (``"Café"`` gives
``"café"``), and drops digits, apostrophes and hyphens (``"don't"`` gives ``"don"``, ``"t"``).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["STOPWORDS", "preprocess", "tokenize"]

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


def preprocess(text: str, stopwords: Iterable[str] | None = STOPWORDS) -> list[str]:
    """Tokenize and drop stopwords.

    Parameters
    ----------
    text : str
    stopwords : iterable of str or None
        Words to drop; the reference's :data:`STOPWORDS` by default, ``None`` keeps every token.

    Returns
    -------
    list of str

    Examples
    --------
    >>> preprocess("The movie was excellent")
    ['movie', 'excellent']
    """
    tokens = tokenize(text)
    if not stopwords:
        return tokens
    stop = stopwords if isinstance(stopwords, (set, frozenset)) else frozenset(stopwords)
    return [t for t in tokens if t not in stop]
