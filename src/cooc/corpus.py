"""Corpus input: files, standard input, texts and sentence iterables, streamed as chunks of lines.

The counting code consumes text in *chunks*: a chunk is a :class:`str` made of whole lines joined by
``"\\n"`` (one line is one sentence, i.e. one context unit: windows never cross a line end). A chunk is
at most ``chunk_chars`` characters long, except that a single line longer than ``chunk_chars`` is a
chunk of its own, whole (in linear time, whatever its length). Splitting every chunk on ``"\\n"`` and
concatenating the pieces gives back exactly the corpus's lines, in order, empty lines included.
Chunks never contain ``"\\r"``.

Memory is bounded whatever the input: a line longer than ``max_line_chars`` characters (64 Mi by
default; :func:`max_line_chars_for` derives it from a memory budget) is never held whole. It is cut
into pieces of at most ``max_line_chars`` characters just before a space or tab, and each piece is a
line of its own, so windows do not cross the cuts (a warning is logged once per file). A longer run
without a line end, space or tab (binary data, ``/dev/zero``) is a :class:`ValueError` naming the file,
the line and ``max_line_chars``.

Entry points:

- :class:`LineCorpus`, a corpus over one or more files (plain, ``.gz``, ``.bz2``, ``.xz``), ``"-"``
  for standard input, and named pipes;
- :func:`iter_chunks`, which accepts every kind of input :func:`cooc.pretrain` accepts (text, sentences,
  paths, a :class:`LineCorpus`, one-shot iterators) and gives chunks;
- :func:`is_pretokenized` and :func:`iter_token_lists`, for pre-tokenized input (lists of tokens) and
  custom tokenizers (see :func:`cooc.text.encode_token_lists`).

Line ends are *universal newlines*, as in Python's text mode: ``"\\r\\n"``, ``"\\r"`` and ``"\\n"`` each
end a line; other Unicode line separators (``"\\x0b"``, ``"\\x0c"``, ``"\\x85"``, ``"\\u2028"``, ...) do
not. They, like ``"\\r"`` and ``"\\n"``, are not letters, so this choice only decides where sentences
end, never which tokens a line has.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import itertools
import logging
import lzma
import operator
import os
import stat
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Union

__all__ = [
    "DEFAULT_MAX_LINE_CHARS",
    "STDIN",
    "LineCorpus",
    "is_one_shot",
    "is_pretokenized",
    "iter_chunks",
    "iter_token_lists",
    "max_line_chars_for",
]

logger = logging.getLogger(__name__)

#: Default chunk size, in characters (1 Mi: with 2 threads, 4 Mi chunks left one thread idle at the
#: end of a 10M-token corpus; 1.37 -> 1.10 s, measured).
DEFAULT_CHUNK_CHARS = 1 << 20
#: Default longest line read whole, in characters (64 Mi); longer lines are read in pieces.
DEFAULT_MAX_LINE_CHARS = 1 << 26
#: The path that names standard input in a :class:`LineCorpus` (a file named ``-`` is ``./-``).
STDIN = "-"

PathType = Union[str, "os.PathLike[str]"]

# suffix -> (format name, magic bytes, opener taking a binary file object)
_COMPRESSED: dict[str, tuple[str, bytes, Callable[[Any], io.BufferedIOBase]]] = {
    ".gz": ("gzip", b"\x1f\x8b", lambda raw: gzip.GzipFile(fileobj=raw, mode="rb")),
    ".bz2": ("bzip2", b"BZh", lambda raw: bz2.BZ2File(raw, mode="rb")),
    ".xz": ("xz", b"\xfd7zXZ\x00", lambda raw: lzma.LZMAFile(raw, mode="rb")),  # noqa: SIM115
}
_OPENERS = {fmt: opener for fmt, _, opener in _COMPRESSED.values()}
_MAGIC_LEN = 10
# Decompressed bytes looked at before decoding: byte-order marks, NUL bytes.
_SNIFF_BYTES = 4096
# Errors the decompressors raise on corrupt or truncated input.
_DECOMPRESSION_ERRORS = (OSError, EOFError, lzma.LZMAError, zlib.error)
_MIN_BLOCK_BYTES = 1 << 16
_MAX_BLOCK_BYTES = 1 << 24


def _sniff(head: bytes) -> str | None:
    """The compression format whose magic bytes start ``head`` (None for anything else)."""
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    # "BZh" alone is ordinary text: require the block size digit and a block or end-of-stream magic.
    if (
        len(head) >= 10
        and head.startswith(b"BZh")
        and head[3:4] in b"123456789"
        and head[4:10] in (b"1AY&SY", b"\x17rE8P\x90")
    ):
        return "bzip2"
    return None


def _check_chunk_chars(chunk_chars: Any, name: str = "chunk_chars") -> int:
    if isinstance(chunk_chars, bool):
        raise TypeError(f"{name} must be an integer, not bool")
    try:
        value = operator.index(chunk_chars)
    except TypeError:
        raise TypeError(f"{name} must be an integer, not {type(chunk_chars).__name__}") from None
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


def _check_max_line_chars(value: Any) -> int:
    if value is None:
        return DEFAULT_MAX_LINE_CHARS
    return _check_chunk_chars(value, "max_line_chars")


def max_line_chars_for(memory_limit: int | None) -> int:
    """The longest line read whole under a memory budget of ``memory_limit`` bytes.

    A line held whole costs up to 8 bytes per character (4 per character of a non-Latin-1 ``str``,
    twice while its pieces are joined), so the bound is ``memory_limit // 8`` characters (at least
    64 Ki); without a budget it is :data:`DEFAULT_MAX_LINE_CHARS`.

    Examples
    --------
    >>> max_line_chars_for(None) == DEFAULT_MAX_LINE_CHARS, max_line_chars_for(64 << 20)
    (True, 8388608)
    """
    if memory_limit is None:
        return DEFAULT_MAX_LINE_CHARS
    return max(1 << 16, int(memory_limit) // 8)


def _join(pieces: list[str]) -> str:
    """Concatenate pieces (the only place text is joined: a test counts the characters copied)."""
    return pieces[0] if len(pieces) == 1 else "".join(pieces)


def _cut(buf: str, start: int, limit: int) -> int:
    """Where to cut the line starting at ``buf[start]``, longer than ``limit`` characters: the last
    space or tab in ``buf[start + 1 : start + limit + 1]`` (-1 if there is none)."""
    lo, hi = start + 1, start + limit + 1
    return max(buf.rfind(" ", lo, hi), buf.rfind("\t", lo, hi))


def _too_long(name: str, line: int, limit: int) -> ValueError:
    return ValueError(
        f"{name}, line {line}: more than max_line_chars={limit} characters without a line end, a "
        f"space or a tab, so it cannot be read in pieces (is it text?); raise max_line_chars (or "
        f"memory_limit, from which it is derived) to read longer lines"
    )


class _Chunker:
    """Regroups text pieces into chunks of whole lines, cutting lines longer than ``limit``."""

    def __init__(
        self, chunk_chars: int, limit: int, name: str, lines_given: Callable[[], int] | None = None
    ) -> None:
        self.size = min(chunk_chars, limit)  # a line longer than the limit is then a chunk of its own
        self.limit = limit
        self.name = name
        self.lines_given = lines_given
        self.given = 0  # line ends in the pieces given so far (counted here without lines_given)
        self.warned = False

    def line_number(self, buf: str, start: int) -> int:
        """The line number of ``buf[start]``: every line end given and not yet passed is in ``buf``
        (computed for messages only: counting every line end would cost a pass over the text)."""
        given = self.lines_given() if self.lines_given is not None else self.given
        return given - buf.count("\n", start) + 1

    def emit(self, buf: str) -> Iterator[str]:
        """Yield the chunks of ``buf`` that are complete; leave the rest in ``self.rest``."""
        size, limit = self.size, self.limit
        start, n = 0, len(buf)
        while n - start > size:
            cut = buf.rfind("\n", start, start + size + 1)
            if cut >= 0:  # whole lines fit
                yield buf[start:cut]
                start = cut + 1
                continue
            end = buf.find("\n", start + size + 1)  # the line is longer than `size`
            stop = n if end < 0 else end
            if stop - start <= limit:
                if end < 0:  # it has not ended yet
                    break
                yield buf[start:stop]  # a chunk of its own, whole
                start = stop + 1
                continue
            c = _cut(buf, start, limit)
            if c < 0:
                raise _too_long(self.name, self.line_number(buf, start), limit)
            if not self.warned:
                self.warned = True
                logger.warning(
                    "%s, line %d: longer than max_line_chars=%d characters: read in pieces cut at "
                    "spaces or tabs, and windows do not cross the cuts (raise max_line_chars, or "
                    "memory_limit, to keep such lines whole)",
                    self.name, self.line_number(buf, start), limit,
                )
            yield buf[start:c]  # the space stays at the start of the next piece
            start = c
        self.rest = buf[start:] if start else buf

    def run(self, pieces: Iterable[str]) -> Iterator[str]:
        held: list[str] = []
        held_len = 0
        held_nl = False  # whether some held piece contains "\n"
        tail = 0  # characters after the last line end of the held pieces
        size, limit = self.size, self.limit
        count = self.lines_given is None
        for piece in pieces:
            if not piece:
                continue
            held.append(piece)
            held_len += len(piece)
            if count:
                self.given += piece.count("\n")
            j = piece.rfind("\n")
            if j >= 0:
                held_nl = True
                tail = len(piece) - 1 - j
            else:
                tail += len(piece)
            if (held_len <= size or not held_nl) and tail <= limit:
                continue
            buf = _join(held)
            held.clear()  # free the pieces: peak memory is the buffer and one chunk
            yield from self.emit(buf)
            del buf
            rest = self.rest
            j = rest.rfind("\n")
            held = [rest] if rest else []
            held_len, held_nl = len(rest), j >= 0
            tail = len(rest) - 1 - j
        if not held:
            return
        buf = _join(held)
        held.clear()
        buf = buf.removesuffix("\n")
        yield from self.emit(buf)  # every held line fits the limit: this only regroups
        yield self.rest


def _chunk_stream(
    pieces: Iterable[str],
    chunk_chars: int,
    max_line_chars: int = 0,
    name: str = "the text",
    lines_given: Callable[[], int] | None = None,
) -> Iterator[str]:
    """Regroup text pieces (normalized, ``"\\n"`` line ends only) into chunks of whole lines.

    The pieces concatenated are the text; a final ``"\\n"`` ends the last line without starting an
    empty one (as in a file). Each character is copied a bounded number of times, so a line of any
    length costs linear time: pieces without a line end are only collected, and joined once the line
    ends or exceeds ``max_line_chars`` (0: :data:`DEFAULT_MAX_LINE_CHARS`). A longer line is cut
    into pieces of at most ``max_line_chars`` characters just before a space or tab (each piece is a
    line of its own; concatenated, they are the line); a line with no space or tab to cut at is a
    :class:`ValueError` naming ``name``, the line and ``max_line_chars``. At most about
    ``max(chunk_chars, max_line_chars)`` characters are held at any time. ``lines_given``, when the
    source counts them, gives the number of line ends in the pieces given so far (for messages).
    """
    limit = max_line_chars or DEFAULT_MAX_LINE_CHARS
    return _Chunker(chunk_chars, limit, name, lines_given).run(pieces)


def normalize_block(text: str, held_cr: bool, final: bool) -> tuple[str, bool]:
    """Universal newlines for text decoded block by block.

    A ``"\\r"`` at the end of a block may be the first half of a ``"\\r\\n"`` split across blocks: it is
    held back (``held_cr``) and put in front of the next block. Returns the block with every line end
    made ``"\\n"``, and whether a ``"\\r"`` is now held back.
    """
    if held_cr:
        text = "\r" + text
        held_cr = False
    if not final and text.endswith("\r"):
        text = text[:-1]
        held_cr = True
    return _normalize_newlines(text), held_cr


def _normalize_newlines(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


class LineCorpus:
    """A corpus of one or more text files, one sentence per line; ``"-"`` is standard input.

    Each iteration re-opens the files, so a corpus of regular files can be read any number of times
    (a vocabulary pass, then a counting pass). Standard input (the path ``"-"``, at most once) and
    other files that are not regular files (named pipes, ``/dev/stdin``, devices) are read as streams,
    never seeked, and only once: :attr:`one_shot` is then true and a second pass raises a
    :class:`ValueError` (save the input to a file to read it again). A file literally named ``-`` is
    ``./-``.

    Files whose name ends in ``.gz``, ``.bz2`` or ``.xz`` (any case) are decompressed on the fly; their
    first bytes must be the format's magic bytes, and a file named as plain text must not start with
    one of them, so a mislabelled file is refused with a clear error instead of being read as junk.
    Standard input is decompressed when it starts with one of these magic bytes. A zero-byte file has
    no lines, whatever its name.

    Line ends are universal newlines: ``"\\r\\n"``, ``"\\r"`` and ``"\\n"`` each end a line (Python's
    text-mode default). A final line end does not start an empty line; empty lines inside a file are
    kept (they are sentences without tokens). Lines longer than ``max_line_chars`` are read in pieces
    (see :mod:`cooc.corpus`).

    With ``encoding="utf-8"`` (or ``"utf-8-sig"``), a byte-order mark decides: a file that starts
    with the UTF-8, UTF-16 or UTF-32 byte-order mark is decoded accordingly, without the mark, and a
    file whose first bytes are largely NUL (UTF-16 or UTF-32 without a mark, or binary data) is
    refused with a message naming the likely encoding. With ``encoding="utf-16"`` or ``"utf-32"`` a
    file must start with that encoding's byte-order mark (use ``"utf-16-le"`` and the like for files
    without one). Any other encoding is used as given.

    Parameters
    ----------
    paths : str, os.PathLike, or iterable of them
        One file, or the files in reading order; ``"-"`` is standard input.
    encoding : str, default "utf-8"
        Text encoding of every file (of the decompressed bytes, for compressed files).
    errors : str, default "strict"
        Decoding error handler: ``"strict"`` raises a :class:`ValueError` naming the file and the line
        of the first bad bytes; ``"replace"`` substitutes U+FFFD; any registered handler is accepted.
    max_line_chars : int or None
        Longest line read whole, in characters (None: :data:`DEFAULT_MAX_LINE_CHARS`, 64 Mi).

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError
        For a missing path, a directory, or a file that cannot be opened; the message names the path.
    ValueError
        For an empty list of paths, ``"-"`` given twice, an unknown or non-text encoding, an unknown
        error handler, a file whose content does not match its compression suffix or its encoding
        (checked here for regular files, when read for streams).
    TypeError
        For a path that is neither a str nor an os.PathLike.

    Examples
    --------
    >>> import os, shutil, tempfile
    >>> d = tempfile.mkdtemp()
    >>> p = os.path.join(d, "a.txt")
    >>> with open(p, "w", encoding="utf-8") as f:
    ...     _ = f.write("the cat sat\\r\\nthe dog sat\\n")
    >>> corpus = LineCorpus(p)
    >>> list(corpus)
    ['the cat sat', 'the dog sat']
    >>> list(corpus.iter_chunks())
    ['the cat sat\\nthe dog sat']
    >>> corpus.total_bytes, corpus.one_shot
    (25, False)
    >>> shutil.rmtree(d)
    """

    def __init__(
        self,
        paths: PathType | Iterable[PathType],
        encoding: str = "utf-8",
        errors: str = "strict",
        *,
        max_line_chars: int | None = None,
    ) -> None:
        if isinstance(paths, (str, os.PathLike)):
            items: list[Any] = [paths]
        elif isinstance(paths, (bytes, bytearray)):
            raise TypeError("paths must be a str or os.PathLike (or a list of them), not bytes")
        else:
            try:
                items = list(paths)
            except TypeError:
                raise TypeError(
                    "paths must be a str, an os.PathLike or an iterable of them, "
                    f"not {type(paths).__name__}"
                ) from None
        if not items:
            raise ValueError("LineCorpus needs at least one file: the list of paths is empty")
        resolved = fspaths(items)
        if resolved.count(STDIN) > 1:
            raise ValueError("standard input ('-') can be read only once: it is given more than once")
        self.paths: tuple[str, ...] = tuple(resolved)
        self.encoding, self.errors = _check_codec(encoding, errors, where=_display(self.paths[0]))
        self.max_line_chars = _check_max_line_chars(max_line_chars)
        streams = []
        for path in self.paths:
            if _is_stream(path):
                streams.append(path)
            else:
                _Opened(path, self.encoding, warn_empty=True).check()
        #: Whether the corpus can be read only once (standard input, pipes, devices).
        self.one_shot = bool(streams)
        self._read = False

    @property
    def total_bytes(self) -> int | None:
        """Sum of the files' sizes on disk (compressed sizes for compressed files), for progress bars;
        None when some input is a stream (standard input, a pipe) of unknown size."""
        if self.one_shot:
            return None
        return sum(os.path.getsize(p) for p in self.paths)

    def __repr__(self) -> str:
        if len(self.paths) <= 3:
            shown = ", ".join(repr(p) for p in self.paths)
        else:
            shown = f"{self.paths[0]!r}, {self.paths[1]!r}, ... {len(self.paths)} files"
        return f"LineCorpus([{shown}], encoding={self.encoding!r}, errors={self.errors!r})"

    def __iter__(self) -> Iterator[str]:
        """Yield every line of every file, in order, without its line end."""
        for chunk in self.iter_chunks(1 << 20):
            yield from chunk.split("\n")

    def iter_chunks(
        self,
        chunk_chars: int = DEFAULT_CHUNK_CHARS,
        *,
        progress: Callable[[int], object] | None = None,
        max_line_chars: int | None = None,
    ) -> Iterator[str]:
        """Yield the corpus as chunks of whole lines joined by ``"\\n"``.

        Files are read in large blocks (not line by line). A chunk never spans two files; it is at
        most ``chunk_chars`` characters, except that a line longer than that is a chunk of its own.
        Splitting each chunk on ``"\\n"`` gives exactly the lines :meth:`__iter__` yields.

        Parameters
        ----------
        chunk_chars : int, default 1 Mi
            Target chunk size in characters.
        progress : callable, optional
            Called after each block read with the number of on-disk bytes consumed since the previous
            call (suitable for ``tqdm.update``); over a full pass the calls sum to :attr:`total_bytes`.
        max_line_chars : int, optional
            Longest line read whole, for this pass (default: the corpus's own ``max_line_chars``).

        Yields
        ------
        str
            A chunk.

        Raises
        ------
        ValueError
            For undecodable bytes under ``errors="strict"`` (the message names the file and the line),
            a corrupt or truncated compressed file, a line too long to be cut, or a second pass over a
            one-shot corpus.
        """
        chunk_chars = _check_chunk_chars(chunk_chars)
        limit = self.max_line_chars if max_line_chars is None else _check_max_line_chars(max_line_chars)
        self._check_unread()
        return self._chunks(chunk_chars, limit, progress)

    def _check_unread(self) -> None:
        if self.one_shot and self._read:
            streams = ", ".join(_display(p) for p in self.paths if _is_stream(p))
            raise ValueError(
                f"this corpus reads {streams}, which can be read only once, and it has already been "
                "read; save the input to a file to read it again"
            )

    def _chunks(
        self, chunk_chars: int, limit: int, progress: Callable[[int], object] | None
    ) -> Iterator[str]:
        self._check_unread()
        self._read = True
        block = min(max(chunk_chars, _MIN_BLOCK_BYTES), _MAX_BLOCK_BYTES)
        for path in self.paths:
            logger.debug("reading %s", _display(path))
            lines = [0]
            yield from _chunk_stream(
                _read_text_blocks(path, self.encoding, self.errors, block, progress, lines),
                chunk_chars, limit, _display(path), lambda: lines[0],
            )


def _display(path: str) -> str:
    """How messages name a corpus path."""
    return "standard input ('-')" if path == STDIN else repr(path)


def _is_stream(path: str) -> bool:
    """Whether ``path`` is read as a one-shot stream: standard input, or an existing file that is not
    a regular file (a named pipe, ``/dev/stdin``, a device). Checked without opening it (opening a
    named pipe waits for a writer)."""
    if path == STDIN:
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False  # opening it raises the error, with the path
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def fspaths(items: Iterable[Any]) -> list[str]:
    """Paths (str or os.PathLike) as str, with a TypeError naming the position of a bad one."""
    out: list[str] = []
    for i, p in enumerate(items):
        if not isinstance(p, (str, os.PathLike)):
            raise TypeError(f"path {i} must be a str or os.PathLike, not {type(p).__name__}")
        s = os.fspath(p)
        if not isinstance(s, str):
            raise TypeError(f"path {i} must name a file with a str path, not {type(s).__name__}")
        out.append(s)
    return out


def _check_codec(encoding: Any, errors: Any, where: str | None = None) -> tuple[str, str]:
    """Check the ``encoding`` and ``errors`` parameters; ``where`` names the (first) file."""
    if not isinstance(encoding, str):
        raise TypeError(f"encoding must be a str, not {type(encoding).__name__}")
    if not isinstance(errors, str):
        raise TypeError(f"errors must be a str, not {type(errors).__name__}")
    of = f" for {where}" if where else ""
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise ValueError(
            f"unknown encoding {encoding!r}{of}: the encoding parameter (cooc pretrain --encoding) "
            "must name a text encoding such as 'utf-8', 'utf-16' or 'latin-1'"
        ) from None
    try:
        codecs.lookup_error(errors)
    except LookupError:
        raise ValueError(
            f"unknown decoding error handler {errors!r}{of} (use 'strict', 'replace' or 'ignore')"
        ) from None
    if not getattr(info, "_is_text_encoding", True):  # base64, rot13, zlib...: not bytes -> str
        raise ValueError(
            f"encoding {encoding!r}{of} is not a text encoding (it is a bytes-to-bytes or "
            "str-to-str codec): the encoding parameter (cooc pretrain --encoding) must name a text "
            "encoding such as 'utf-8', 'utf-16' or 'latin-1'"
        )
    return encoding, errors


# Byte-order marks, longest first where one starts another (UTF-32-LE starts like UTF-16-LE).
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _choose_encoding(head: bytes, encoding: str, name: str) -> tuple[str, int]:
    """The decoder to use for content starting with ``head``, and the bytes of byte-order mark to
    skip; a ValueError when the content cannot be text in that encoding."""
    canon = codecs.lookup(encoding).name
    bom = next(((mark, enc) for mark, enc in _BOMS if head.startswith(mark)), None)
    if canon in ("utf-8", "utf-8-sig"):
        if bom is not None:
            if bom[1] != "utf-8":
                logger.info("%s: %s byte-order mark: decoded as %s", name, bom[1], bom[1])
            return bom[1], len(bom[0])
        _check_not_binary(head, name, encoding)
        return encoding, 0
    if canon in ("utf-16", "utf-32"):
        marks = [(m, e) for m, e in _BOMS if e.startswith(canon)]
        for mark, enc in marks:
            if head.startswith(mark):
                return enc, len(mark)
        if head:
            try:
                codecs.getincrementaldecoder("utf-8")().decode(head, False)
                looks = "it is valid UTF-8: pass encoding='utf-8'"
            except UnicodeDecodeError:
                looks = f"pass encoding='{canon}-le' or '{canon}-be' for {canon.upper()} without one"
            raise ValueError(
                f"{name}: encoding={encoding!r} but the file does not start with a {canon.upper()} "
                f"byte-order mark (its first bytes are {head[:8]!r}); {looks} (the encoding "
                "parameter, cooc pretrain --encoding)"
            )
    return encoding, 0


def _check_not_binary(head: bytes, name: str, encoding: str) -> None:
    """Refuse content whose first bytes are largely NUL: not UTF-8 text."""
    nul = head.count(0)
    if nul < 4 or 4 * nul <= len(head):
        return
    even, odd = head[0::2], head[1::2]
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
        looks = "UTF-16-LE text without a byte-order mark: pass encoding='utf-16-le'"
    elif even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
        looks = "UTF-16-BE text without a byte-order mark: pass encoding='utf-16-be'"
    else:
        looks = ("binary data, or UTF-32 text without a byte-order mark (then pass "
                 "encoding='utf-32-le' or 'utf-32-be')")
    raise ValueError(
        f"{name}: not {encoding} text: {nul} of its first {len(head)} bytes are NUL; it looks like "
        f"{looks} (the encoding parameter, cooc pretrain --encoding)"
    )


def _read_full(f: Any, n: int) -> bytes:
    """Read ``n`` bytes, or fewer at the end of the input (pipes and decompressors give short reads)."""
    data: bytes = f.read(n)
    if 0 < len(data) < n:
        parts = [data]
        got = len(data)
        while got < n:
            more = f.read(n - got)
            if not more:
                break
            parts.append(more)
            got += len(more)
        data = b"".join(parts)
    return data


class _Counted:
    """A binary file read through: ``prefix`` first (bytes already read from it), then the file;
    ``count`` is the number of bytes read from the file so far. Never seeks."""

    def __init__(self, raw: Any, prefix: bytes) -> None:
        self.raw = raw
        self.prefix = prefix
        self.count = len(prefix)

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.prefix:
            if n < 0 or n >= len(self.prefix):
                data, self.prefix = self.prefix, b""
            else:
                data, self.prefix = self.prefix[:n], self.prefix[n:]
            return data
        data = self.raw.read(n)
        self.count += len(data)
        return data  # type: ignore[no-any-return]


class _Opened:
    """Open one corpus path (or standard input) for reading as a context manager, checked against
    its suffix and its encoding, without seeking.

    In the context: ``stream`` gives the content's bytes (decompressed) after ``head``, the first
    :data:`_SNIFF_BYTES` of them already read; ``encoding`` is the decoder to use and ``skip`` the
    length of the byte-order mark that starts ``head``; ``counted.count`` is the number of bytes read
    from the file so far.
    """

    def __init__(self, path: str, encoding: str, warn_empty: bool = False) -> None:
        self.path = path
        self.name = _display(path)
        self.encoding = encoding
        self.warn_empty = warn_empty
        self.raw: Any = None
        self.own = path != STDIN
        self.stream: Any = None
        self.counted: _Counted | None = None
        self.fmt: str | None = None
        self.head = b""
        self.skip = 0

    def _open_raw(self) -> Any:
        path = self.path
        if path == STDIN:
            raw = getattr(sys.stdin, "buffer", None)
            if raw is None:
                raise ValueError("standard input ('-') is not available as a binary stream")
            return raw
        if os.path.isdir(path):
            raise IsADirectoryError(
                21, "corpus path is a directory, not a file (pass the files it contains)", path
            )
        try:
            return open(path, "rb")  # closed in __exit__
        except FileNotFoundError:
            raise FileNotFoundError(2, "corpus file not found", path) from None
        except IsADirectoryError:
            raise IsADirectoryError(21, "corpus path is a directory, not a file", path) from None
        except PermissionError:
            raise PermissionError(13, "corpus file is not readable (permission denied)", path) from None

    def __enter__(self) -> _Opened:
        self.raw = raw = self._open_raw()
        try:
            self._check(raw)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _check(self, raw: Any) -> None:
        path, name = self.path, self.name
        magic = _read_full(raw, _MAGIC_LEN)
        counted = self.counted = _Counted(raw, magic)
        found = _sniff(magic)
        fmt: str | None = None
        suffix = "" if path == STDIN else os.path.splitext(path)[1].lower()
        if suffix not in _COMPRESSED and found is not None and _is_stream(path):
            fmt = found  # a stream cannot be renamed: decompressed whatever its name
        else:
            if suffix in _COMPRESSED:
                fmt, mark, _ = _COMPRESSED[suffix]
                if not magic:  # not a valid compressed file, but nothing is lost: no lines
                    if self.warn_empty:
                        logger.warning("%s: empty file (0 bytes, not %s data): no lines", path, fmt)
                    fmt = None
                elif not magic.startswith(mark):
                    what = f"{found} data" if found else "not compressed (plain text?)"
                    raise ValueError(
                        f"{path!r} is named like a {fmt} file ({suffix}) but its first bytes are not "
                        f"the {fmt} magic bytes: it is {what}; rename the file to match its content"
                    )
            elif found is not None:
                ext = {"gzip": ".gz", "bzip2": ".bz2", "xz": ".xz"}[found]
                raise ValueError(
                    f"{path!r} starts with the {found} magic bytes but is not named *{ext}: it looks "
                    f"compressed; rename it with the {ext} suffix to have it decompressed"
                )
        self.fmt = fmt
        self.stream = counted if fmt is None else _OPENERS[fmt](counted)
        self.head = self.read(_SNIFF_BYTES, 0)
        self.encoding, self.skip = _choose_encoding(self.head, self.encoding, name)

    def read(self, n: int, lines_done: int) -> bytes:
        """Read up to ``n`` content bytes; a ValueError for a corrupt compressed file."""
        try:
            return _read_full(self.stream, n)
        except _DECOMPRESSION_ERRORS as e:
            if self.fmt is None:
                raise
            raise ValueError(
                f"{self.name}: corrupt or truncated {self.fmt} file (after line {lines_done}): {e}"
            ) from e

    def check(self) -> None:
        """Open and close again: a missing, unreadable, wrongly compressed or wrongly encoded file
        raises now (the checks of :meth:`__enter__` alone)."""
        self.__enter__()
        self.__exit__(None, None, None)

    def __exit__(self, *exc: object) -> None:
        try:
            if self.stream is not None and self.stream is not self.counted:
                self.stream.close()
        finally:
            if self.raw is not None and self.own:
                self.raw.close()


def _read_text_blocks(
    path: str,
    encoding: str,
    errors: str,
    block_bytes: int,
    progress: Callable[[int], object] | None,
    lines: list[int] | None = None,
) -> Iterator[str]:
    """Decode a file block by block into text with ``"\\n"`` line ends only.

    Tracks the number of line ends already produced so that a decoding error can name its line
    (and keeps it in ``lines[0]``, for the chunker's messages).
    """
    lines = [0] if lines is None else lines
    with _Opened(path, encoding) as f:
        decoder = codecs.getincrementaldecoder(f.encoding)(errors)
        data = f.head[f.skip:]
        fed = f.skip  # bytes given to the decoder so far (decompressed bytes for compressed files)
        lines_done = 0  # "\n" in the text produced so far
        held_cr = False  # a "\r" ended the previous block: it may be the first half of "\r\n"
        reported = 0
        while True:
            final = not data
            state = decoder.getstate()
            try:
                text = decoder.decode(data, final)
            except UnicodeDecodeError as e:
                raise _decode_error(
                    e, f.name, f.encoding, state, fed, lines_done, held_cr, f.fmt,
                    bom=f.encoding != encoding,
                ) from e
            fed += len(data)
            if progress is not None and f.counted is not None:
                pos = f.counted.count
                if pos > reported:
                    progress(pos - reported)
                    reported = pos
            text, held_cr = normalize_block(text, held_cr, final)
            if text:
                lines_done += text.count("\n")
                lines[0] = lines_done
                yield text
            if final:
                break
            data = f.read(block_bytes, lines_done)


def _decode_error(
    e: UnicodeDecodeError,
    name: str,
    encoding: str,
    state: tuple[bytes, int],
    fed: int,
    lines_done: int,
    held_cr: bool,
    fmt: str | None,
    bom: bool = False,
) -> ValueError:
    """A ValueError naming the file, line and byte offset of the first undecodable bytes."""
    buffered, flag = state
    # Buffered incremental decoders (utf-8, utf-16, ...) report positions in buffer + input.
    offset = fed - len(buffered) + e.start
    try:
        prefix_decoder = codecs.getincrementaldecoder(encoding)("replace")
        prefix_decoder.setstate((b"", flag))
        prefix = ("\r" if held_cr else "") + prefix_decoder.decode(e.object[: e.start], False)
        line = str(lines_done + 1 + _normalize_newlines(prefix).count("\n"))
    except (TypeError, ValueError, LookupError):  # pragma: no cover - an exotic codec's state
        line = f"{lines_done + 1} or later"
    where = f"byte {offset} of the decompressed {fmt} data" if fmt else f"byte {offset}"
    how = " (chosen by its byte-order mark)" if bom else ""
    return ValueError(
        f"{name}: invalid {encoding}{how} data at line {line} ({where}): {e.reason} "
        f"{e.object[e.start:e.end]!r}; if the file is in another encoding, pass it as the encoding "
        "parameter (cooc pretrain --encoding), e.g. encoding='latin-1'; pass errors='replace' to "
        "substitute U+FFFD for bad bytes"
    )


def is_one_shot(source: Any) -> bool:
    """Whether ``source`` is a one-shot iterator (``iter(source) is source``): a generator, an
    iterator over a list, a file object...

    Such a source can be read once only; a list, a tuple, a str or a :class:`LineCorpus` of regular
    files can be read again (a :class:`LineCorpus` reading standard input or a pipe is one-shot).

    Parameters
    ----------
    source : object

    Returns
    -------
    bool
        False also for objects that are not iterable.

    Examples
    --------
    >>> is_one_shot(["a b", "c d"]), is_one_shot(iter(["a b"])), is_one_shot(s for s in ["a b"])
    (False, True, True)
    """
    if isinstance(source, LineCorpus):
        return source.one_shot
    if isinstance(source, (str, bytes, bytearray)):
        return False
    try:
        return iter(source) is source
    except TypeError:
        return False


def iter_chunks(
    source: Any, chunk_chars: int = DEFAULT_CHUNK_CHARS, max_line_chars: int | None = None
) -> Iterator[str]:
    """Yield any corpus input as chunks of whole lines joined by ``"\\n"``.

    The input kinds and their decided meaning:

    - a ``str`` is **text**: its lines are the sentences. ``"\\r\\n"`` and ``"\\r"`` are first
      normalized to ``"\\n"``; the text is then split on ``"\\n"`` only, and a final ``"\\n"`` does not
      start an empty line (as in a file). A ``str`` is never a file name: a warning is logged when it
      names an existing file; pass a :class:`pathlib.Path` or a :class:`LineCorpus` to read a file;
    - an ``os.PathLike`` (such as :class:`pathlib.Path`) is a file, read as ``LineCorpus(source)``;
    - a :class:`LineCorpus` is read with its own settings;
    - a non-empty list or tuple whose items are all ``os.PathLike`` is a list of files
      (``LineCorpus(source)``); a list of ``str`` is a list of sentences, not of file names;
    - any other iterable of ``str`` gives **sentences**, one per item: each item is exactly one line,
      so a ``"\\n"`` or ``"\\r"`` inside an item is replaced by a space (exact, since line ends are
      not letters and so separate tokens anyway). An empty item is an empty line.

    A one-shot iterator (a generator, ``iter(list)``, an open file: see :func:`is_one_shot`) is
    consumed by this call; if it yields nothing at all, :class:`ValueError` is raised at the end of
    the iteration, because such a corpus is most often a generator already exhausted by an earlier
    pass (training on it would silently give an empty model). A restartable empty input (``[]``,
    ``""``) simply yields no chunk.

    Chunks are at most ``chunk_chars`` characters, except that a line longer than that is a chunk of
    its own, whole; splitting every chunk on ``"\\n"`` gives back exactly the lines, in order. A line
    (or sentence) longer than ``max_line_chars`` is cut into pieces just before spaces or tabs, each
    a line of its own (see :mod:`cooc.corpus`).

    Pre-tokenized input (lists of tokens) is not text: see :func:`iter_token_lists`.

    Parameters
    ----------
    source : str, os.PathLike, LineCorpus, list or tuple of os.PathLike, or iterable of str
        The corpus.
    chunk_chars : int, default 1 Mi
        Target chunk size in characters.
    max_line_chars : int or None
        Longest line read whole (None: a LineCorpus's own setting, else
        :data:`DEFAULT_MAX_LINE_CHARS`).

    Returns
    -------
    iterator of str
        The chunks. The kind of ``source`` is checked at the call; items of an iterable are checked
        as they are read.

    Raises
    ------
    TypeError
        For ``bytes`` (decode it first), a non-iterable source, or an item that is not a ``str``
        (the message gives its index and type).
    ValueError
        For an empty one-shot iterator, and for the errors of :class:`LineCorpus`.

    Examples
    --------
    >>> list(iter_chunks("the cat sat\\r\\nthe dog sat\\n"))
    ['the cat sat\\nthe dog sat']
    >>> list(iter_chunks(["the cat\\nsat", "the dog sat"], chunk_chars=12))
    ['the cat sat', 'the dog sat']
    """
    chunk_chars = _check_chunk_chars(chunk_chars)
    limit = None if max_line_chars is None else _check_max_line_chars(max_line_chars)
    if isinstance(source, LineCorpus):
        return source.iter_chunks(chunk_chars, max_line_chars=limit)
    limit = limit or DEFAULT_MAX_LINE_CHARS
    if isinstance(source, str):
        return _text_chunks(source, chunk_chars, limit)
    if isinstance(source, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"the corpus must be text, not {type(source).__name__}: decode it first "
            "(for example data.decode('utf-8')), or pass a pathlib.Path to read a file"
        )
    if isinstance(source, os.PathLike):
        return LineCorpus(source, max_line_chars=limit).iter_chunks(chunk_chars)
    if (
        isinstance(source, (list, tuple))
        and source
        and all(isinstance(p, os.PathLike) for p in source)
    ):
        return LineCorpus(source, max_line_chars=limit).iter_chunks(chunk_chars)
    try:
        it = iter(source)
    except TypeError:
        raise TypeError(
            "the corpus must be a str (text), an os.PathLike (a file), a LineCorpus, a list of "
            f"paths or an iterable of str (sentences), not {type(source).__name__}"
        ) from None
    return _sentence_chunks(it, it is source, type(source).__name__, chunk_chars, limit)


def _text_chunks(text: str, chunk_chars: int, limit: int = DEFAULT_MAX_LINE_CHARS) -> Iterator[str]:
    if "\n" not in text and "\r" not in text and 0 < len(text) < 4096:
        try:
            names_file = os.path.isfile(text)
        except (OSError, ValueError):  # pragma: no cover - odd strings on some platforms
            names_file = False
        if names_file:
            logger.warning(
                "the corpus string %r is read as text (one sentence), although it names an existing "
                "file; pass pathlib.Path(%r) or cooc.LineCorpus(%r) to read the file",
                text, text, text,
            )
    text = _normalize_newlines(text)
    return _chunk_stream((text,), chunk_chars, limit, "the text", lambda: text.count("\n"))


def _sentence_chunks(
    it: Iterator[Any], one_shot: bool, kind: str, chunk_chars: int,
    limit: int = DEFAULT_MAX_LINE_CHARS,
) -> Iterator[str]:
    chunk_chars = min(chunk_chars, limit)
    batch: list[str] = []
    size = 0  # len("\n".join(batch))
    i = -1
    for i, s in enumerate(it):
        if not isinstance(s, str):
            if isinstance(s, (bytes, bytearray)):
                raise TypeError(f"sentence {i} is {type(s).__name__}, not str: decode it first")
            if isinstance(s, os.PathLike):
                raise TypeError(
                    f"sentence {i} is a {type(s).__name__}, not str: to read files, pass a path, "
                    "a list or tuple made only of paths, or a cooc.LineCorpus"
                )
            if isinstance(s, (list, tuple)):
                raise TypeError(
                    f"sentence {i} must be a str, not {type(s).__name__}: pre-tokenized input (lists "
                    "of tokens) is read with cooc.corpus.iter_token_lists"
                )
            raise TypeError(f"sentence {i} must be a str, not {type(s).__name__}")
        if "\n" in s:
            s = s.replace("\n", " ")
        if "\r" in s:
            s = s.replace("\r", " ")
        if len(s) > limit:  # pieces of a single sentence, as for a long line of a file
            pieces = list(_Chunker(limit, limit, f"sentence {i}", lambda: 0).run((s,)))
            if batch:
                yield "\n".join(batch)
                batch, size = [], 0
            yield from pieces
            continue
        add = len(s) + 1 if batch else len(s)
        if batch and size + add > chunk_chars:
            yield "\n".join(batch)
            batch = []
            add = len(s)
            size = 0
        batch.append(s)
        size += add
    if batch:
        yield "\n".join(batch)
    elif one_shot and i < 0:
        raise ValueError(
            f"empty corpus: the one-shot iterator ({kind}) yielded no sentence; a generator or "
            "iterator can be read only once, so it may already have been exhausted by an earlier "
            "pass. Pass a list, or a cooc.LineCorpus for files, which can be read again"
        )


def is_pretokenized(source: Any) -> tuple[bool, Any]:
    """Whether ``source`` is pre-tokenized: an iterable whose first item is a list or tuple (of tokens).

    Text, paths and :class:`LineCorpus` are not. A one-shot iterator is peeked at, so the second
    value is the source to read from now on (the same object, or for a one-shot iterator a new one
    that gives the peeked item first).

    Parameters
    ----------
    source : object
        Any corpus input.

    Returns
    -------
    pretokenized : bool
    source : object

    Examples
    --------
    >>> is_pretokenized([["E401", "iOS", "17.2"], ["ok"]])[0], is_pretokenized(["E401 iOS 17.2"])[0]
    (True, False)
    >>> flag, rest = is_pretokenized(iter([("a", "b")]))
    >>> flag, list(rest)
    (True, [('a', 'b')])
    """
    if isinstance(source, (str, bytes, bytearray, memoryview, os.PathLike, LineCorpus)):
        return False, source
    if isinstance(source, (list, tuple)):
        return bool(source) and isinstance(source[0], (list, tuple)), source
    try:
        it = iter(source)
    except TypeError:
        return False, source
    first = next(it, _NOTHING)
    if first is _NOTHING:
        return False, source
    flag = isinstance(first, (list, tuple))
    if it is source:
        return flag, itertools.chain((first,), it)
    return flag, source


_NOTHING = object()


def iter_token_lists(
    source: Any,
    tokenizer: Callable[[str], Any] | None = None,
    *,
    chunk_chars: int = DEFAULT_CHUNK_CHARS,
    max_line_chars: int | None = None,
    progress: Callable[[int], object] | None = None,
) -> Iterator[list[str]]:
    """Yield a corpus as sentences of tokens: the path of custom tokenizers and pre-tokenized input.

    - Pre-tokenized input (an iterable of lists or tuples of str; see :func:`is_pretokenized`) is
      given back sentence by sentence, as lists; ``tokenizer`` must then be None.
    - Any text input :func:`iter_chunks` accepts (text, sentences, paths, a :class:`LineCorpus`) is
      split into lines and each line is given to ``tokenizer`` (:func:`cooc.tokenize` when None),
      which must return a list (or tuple) of str. Tokens are used as given: neither lowercased nor
      filtered (stopwords are removed later, by word, as for the built-in tokenizer).

    The tokens of each sentence are checked by :func:`cooc.text.encode_token_lists`, which turns
    these lists into token ids.

    Parameters
    ----------
    source : any corpus input, or an iterable of lists of str
    tokenizer : callable or None
        ``tokenizer(line: str) -> list of str``.
    chunk_chars, max_line_chars
        As for :func:`iter_chunks` (text input only).
    progress : callable or None
        Called with the bytes read (a :class:`LineCorpus`, as its ``iter_chunks``), after each chunk
        with its length (other text input) or after each sentence with its number of tokens
        (pre-tokenized input).

    Yields
    ------
    list of str or tuple of str

    Raises
    ------
    TypeError
        For a ``tokenizer`` that is not callable, a tokenizer with pre-tokenized input, or a
        tokenizer that returns a str (or another non-sequence) for a line.

    Examples
    --------
    >>> list(iter_token_lists("E401 iOS 17.2\\nfine", str.split))
    [['E401', 'iOS', '17.2'], ['fine']]
    >>> list(iter_token_lists([["a", "b"], ("c",)]))
    [['a', 'b'], ['c']]
    """
    if tokenizer is not None and not callable(tokenizer):
        raise TypeError(
            f"tokenizer must be a callable taking a str and returning a list of str, not "
            f"{type(tokenizer).__name__}"
        )
    pretokenized, source = is_pretokenized(source)
    if pretokenized:
        if tokenizer is not None:
            raise TypeError(
                "tokenizer must be None for pre-tokenized input (lists of tokens): the sentences "
                "are already split into tokens"
            )
        return _given_token_lists(source, progress)
    if isinstance(source, LineCorpus):  # progress in bytes read, as LineCorpus.iter_chunks gives it
        chunks = source.iter_chunks(chunk_chars, progress=progress, max_line_chars=max_line_chars)
        progress = None
    else:
        chunks = iter_chunks(source, chunk_chars, max_line_chars)
    return _tokenized_lines(chunks, tokenizer, progress)


def _given_token_lists(
    source: Iterable[Any], progress: Callable[[int], object] | None
) -> Iterator[list[str]]:
    for i, sentence in enumerate(source):
        if not isinstance(sentence, (list, tuple)):
            raise TypeError(
                f"sentence {i} is a {type(sentence).__name__}, but pre-tokenized input (sentence 0 "
                "is a list of tokens) must be lists or tuples of str throughout"
            )
        if progress is not None:
            progress(len(sentence))
        yield list(sentence)


def _tokenized_lines(
    chunks: Iterable[str],
    tokenizer: Callable[[str], Any] | None,
    progress: Callable[[int], object] | None,
) -> Iterator[list[str]]:
    from .text import tokenize

    func = tokenize if tokenizer is None else tokenizer
    line_no = 0
    for chunk in chunks:
        for line in chunk.split("\n"):
            line_no += 1
            tokens = func(line)
            if not isinstance(tokens, list):
                if isinstance(tokens, (str, bytes)) or not isinstance(tokens, tuple):
                    raise TypeError(
                        f"the tokenizer returned a {type(tokens).__name__} for line {line_no} "
                        f"({line[:40]!r}); it must return a list of str (one str per token)"
                    )
                tokens = list(tokens)
            yield tokens
        if progress is not None:
            progress(len(chunk))
