"""Corpus input: files, texts and sentence iterables, streamed as chunks of whole lines.

The counting code consumes text in *chunks*: a chunk is a :class:`str` made of whole lines joined by
``"\\n"`` (one line is one sentence, i.e. one context unit: windows never cross a line end). A chunk is
at most ``chunk_chars`` characters long, except that a single line longer than ``chunk_chars`` is a
chunk of its own, whole (in linear time, whatever its length). Splitting every chunk on ``"\\n"`` and
concatenating the pieces gives back exactly the corpus's lines, in order, empty lines included.
Chunks never contain ``"\\r"``.

Two entry points:

- :class:`LineCorpus`, a restartable corpus over one or more files (plain, ``.gz``, ``.bz2``, ``.xz``);
- :func:`iter_chunks`, which accepts every kind of input :func:`cooc.pretrain` accepts (text, sentences,
  paths, a :class:`LineCorpus`, one-shot iterators) and gives chunks.

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
import logging
import lzma
import operator
import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Union

__all__ = ["LineCorpus", "is_one_shot", "iter_chunks"]

logger = logging.getLogger(__name__)

#: Default chunk size, in characters (1 Mi: with 2 threads, 4 Mi chunks left one thread idle at the
#: end of a 10M-token corpus; 1.37 -> 1.10 s, measured).
DEFAULT_CHUNK_CHARS = 1 << 20

PathType = Union[str, "os.PathLike[str]"]

# suffix -> (format name, magic bytes, opener taking a binary file object)
_COMPRESSED: dict[str, tuple[str, bytes, Callable[[io.BufferedReader], io.BufferedIOBase]]] = {
    ".gz": ("gzip", b"\x1f\x8b", lambda raw: gzip.GzipFile(fileobj=raw, mode="rb")),
    ".bz2": ("bzip2", b"BZh", lambda raw: bz2.BZ2File(raw, mode="rb")),
    ".xz": ("xz", b"\xfd7zXZ\x00", lambda raw: lzma.LZMAFile(raw, mode="rb")),  # noqa: SIM115
}
_MAGIC_LEN = 10
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


def _check_chunk_chars(chunk_chars: Any) -> int:
    if isinstance(chunk_chars, bool):
        raise TypeError("chunk_chars must be an integer, not bool")
    try:
        value = operator.index(chunk_chars)
    except TypeError:
        raise TypeError(f"chunk_chars must be an integer, not {type(chunk_chars).__name__}") from None
    if value < 1:
        raise ValueError(f"chunk_chars must be >= 1, got {value}")
    return value


def _join(pieces: list[str]) -> str:
    """Concatenate pieces (the only place text is joined: a test counts the characters copied)."""
    return pieces[0] if len(pieces) == 1 else "".join(pieces)


def _chunk_stream(pieces: Iterable[str], chunk_chars: int) -> Iterator[str]:
    """Regroup text pieces (normalized, ``"\\n"`` line ends only) into chunks of whole lines.

    The pieces concatenated are the text; a final ``"\\n"`` ends the last line without starting an
    empty one (as in a file). Each character is copied a bounded number of times, so a line of any
    length costs linear time: pieces without a line end are only collected, and joined once the line
    ends.
    """
    held: list[str] = []
    held_len = 0
    held_nl = False  # whether some held piece contains "\n"
    for piece in pieces:
        if not piece:
            continue
        held.append(piece)
        held_len += len(piece)
        if not held_nl and "\n" in piece:
            held_nl = True
        if held_len <= chunk_chars or not held_nl:
            continue
        buf = _join(held)
        held.clear()  # free the pieces: peak memory is the buffer and one chunk
        start, n = 0, len(buf)
        while n - start > chunk_chars:
            cut = buf.rfind("\n", start, start + chunk_chars + 1)
            if cut < 0:  # the next line is longer than chunk_chars: it is a chunk of its own
                cut = buf.find("\n", start + chunk_chars + 1)
                if cut < 0:  # ... and it has not ended yet
                    break
            yield buf[start:cut]
            start = cut + 1
        rest = buf[start:] if start else buf
        del buf
        held = [rest] if rest else []
        held_len = len(rest)
        held_nl = "\n" in rest
    if not held:
        return
    buf = _join(held)
    held.clear()
    buf = buf.removesuffix("\n")
    start, n = 0, len(buf)
    while n - start > chunk_chars:
        cut = buf.rfind("\n", start, start + chunk_chars + 1)
        if cut < 0:
            cut = buf.find("\n", start + chunk_chars + 1)
            if cut < 0:
                break
        yield buf[start:cut]
        start = cut + 1
    yield buf[start:] if start else buf


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
    """A restartable corpus of one or more text files, one sentence per line.

    Each iteration re-opens the files, so the corpus can be read any number of times (a vocabulary
    pass, then a counting pass). Files whose name ends in ``.gz``, ``.bz2`` or ``.xz`` (any case) are
    decompressed on the fly; their first bytes must be the format's magic bytes, and a file named as
    plain text must not start with one of them, so a mislabelled file is refused with a clear error
    instead of being read as junk. A zero-byte file has no lines, whatever its name.

    Line ends are universal newlines: ``"\\r\\n"``, ``"\\r"`` and ``"\\n"`` each end a line (Python's
    text-mode default). A final line end does not start an empty line; empty lines inside a file are
    kept (they are sentences without tokens). With ``encoding="utf-8"`` a byte-order mark is kept as a
    character (it is not a letter, so tokens are unaffected); ``encoding="utf-8-sig"`` drops it.

    Parameters
    ----------
    paths : str, os.PathLike, or iterable of them
        One file, or the files in reading order.
    encoding : str, default "utf-8"
        Text encoding of every file (of the decompressed bytes, for compressed files).
    errors : str, default "strict"
        Decoding error handler: ``"strict"`` raises a :class:`ValueError` naming the file and the line
        of the first bad bytes; ``"replace"`` substitutes U+FFFD; any registered handler is accepted.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError
        For a missing path, a directory, or a file that cannot be opened; the message names the path.
    ValueError
        For an empty list of paths, an unknown encoding or error handler, or a file whose content does
        not match its compression suffix.
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
    >>> corpus.total_bytes
    25
    >>> shutil.rmtree(d)
    """

    def __init__(
        self,
        paths: PathType | Iterable[PathType],
        encoding: str = "utf-8",
        errors: str = "strict",
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
        self.encoding, self.errors = _check_codec(encoding, errors)
        self.paths: tuple[str, ...] = tuple(resolved)
        for path in self.paths:
            _open_checked(path, warn_empty=True).check()

    @property
    def total_bytes(self) -> int:
        """Sum of the files' sizes on disk (compressed sizes for compressed files), for progress bars."""
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

        Yields
        ------
        str
            A chunk.

        Raises
        ------
        ValueError
            For undecodable bytes under ``errors="strict"`` (the message names the file and the line)
            or a corrupt or truncated compressed file.
        """
        chunk_chars = _check_chunk_chars(chunk_chars)
        return self._chunks(chunk_chars, progress)

    def _chunks(self, chunk_chars: int, progress: Callable[[int], object] | None) -> Iterator[str]:
        block = min(max(chunk_chars, _MIN_BLOCK_BYTES), _MAX_BLOCK_BYTES)
        for path in self.paths:
            logger.debug("reading %s", path)
            yield from _chunk_stream(
                _read_text_blocks(path, self.encoding, self.errors, block, progress), chunk_chars
            )


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


def _check_codec(encoding: Any, errors: Any) -> tuple[str, str]:
    if not isinstance(encoding, str):
        raise TypeError(f"encoding must be a str, not {type(encoding).__name__}")
    if not isinstance(errors, str):
        raise TypeError(f"errors must be a str, not {type(errors).__name__}")
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}") from None
    try:
        codecs.lookup_error(errors)
    except LookupError:
        raise ValueError(
            f"unknown decoding error handler {errors!r} (use 'strict', 'replace' or 'ignore')"
        ) from None
    if not isinstance(codecs.getincrementaldecoder(info.name)().decode(b"", True), str):
        raise ValueError(f"encoding {encoding!r} is not a text encoding")  # noqa: TRY004
    return encoding, errors


class _open_checked:
    """Open ``path`` for binary reading, check it against its suffix; a context manager.

    Yields ``(raw, stream, fmt)``: the on-disk file (for progress), the stream of decoded-from-disk
    bytes (a decompressor, or ``raw`` itself) and the compression format (None for plain).
    """

    def __init__(self, path: str, warn_empty: bool = False) -> None:
        self.path = path
        self.warn_empty = warn_empty
        self.raw: io.BufferedReader | None = None
        self.stream: io.BufferedIOBase | None = None

    def __enter__(self) -> tuple[io.BufferedReader, io.BufferedIOBase, str | None]:
        path = self.path
        if os.path.isdir(path):
            raise IsADirectoryError(
                21, "corpus path is a directory, not a file (pass the files it contains)", path
            )
        try:
            raw = open(path, "rb")  # closed in __exit__
        except FileNotFoundError:
            raise FileNotFoundError(2, "corpus file not found", path) from None
        except IsADirectoryError:
            raise IsADirectoryError(21, "corpus path is a directory, not a file", path) from None
        except PermissionError:
            raise PermissionError(13, "corpus file is not readable (permission denied)", path) from None
        self.raw = raw
        try:
            head = raw.read(_MAGIC_LEN)
            raw.seek(0)
            suffix = os.path.splitext(path)[1].lower()
            found = _sniff(head)
            fmt: str | None = None
            stream: io.BufferedIOBase = raw
            if suffix in _COMPRESSED:
                fmt, magic, opener = _COMPRESSED[suffix]
                if not head:  # not a valid compressed file, but nothing is lost: no lines
                    if self.warn_empty:
                        logger.warning("%s: empty file (0 bytes, not %s data): no lines", path, fmt)
                    fmt = None
                elif not head.startswith(magic):
                    what = f"{found} data" if found else "not compressed (plain text?)"
                    raise ValueError(
                        f"{path!r} is named like a {fmt} file ({suffix}) but its first bytes are not "
                        f"the {fmt} magic bytes: it is {what}; rename the file to match its content"
                    )
                else:
                    stream = opener(raw)
            elif found is not None:
                ext = {"gzip": ".gz", "bzip2": ".bz2", "xz": ".xz"}[found]
                raise ValueError(
                    f"{path!r} starts with the {found} magic bytes but is not named *{ext}: it looks "
                    f"compressed; rename it with the {ext} suffix to have it decompressed"
                )
        except BaseException:
            raw.close()
            raise
        self.stream = stream
        return raw, stream, fmt

    def check(self) -> None:
        """Open and close again: a missing, unreadable or wrongly compressed file raises now (the
        checks of :meth:`__enter__` alone)."""
        self.__enter__()
        self.__exit__(None, None, None)

    def __exit__(self, *exc: object) -> None:
        try:
            if self.stream is not None and self.stream is not self.raw:
                self.stream.close()
        finally:
            if self.raw is not None:
                self.raw.close()


def _read_text_blocks(
    path: str,
    encoding: str,
    errors: str,
    block_bytes: int,
    progress: Callable[[int], object] | None,
) -> Iterator[str]:
    """Decode a file block by block into text with ``"\\n"`` line ends only.

    Tracks the number of line ends already produced so that a decoding error can name its line.
    """
    with _open_checked(path) as (raw, stream, fmt):
        decoder = codecs.getincrementaldecoder(encoding)(errors)
        fed = 0  # bytes given to the decoder so far (decompressed bytes for compressed files)
        lines_done = 0  # "\n" in the text produced so far
        held_cr = False  # a "\r" ended the previous block: it may be the first half of "\r\n"
        reported = 0
        while True:
            try:
                data = stream.read(block_bytes)
            except _DECOMPRESSION_ERRORS as e:
                if fmt is None:
                    raise
                raise ValueError(
                    f"{path!r}: corrupt or truncated {fmt} file (after line {lines_done}): {e}"
                ) from e
            final = not data
            state = decoder.getstate()
            try:
                text = decoder.decode(data, final)
            except UnicodeDecodeError as e:
                raise _decode_error(e, path, encoding, state, fed, lines_done, held_cr, fmt) from e
            fed += len(data)
            if progress is not None:
                pos = raw.tell()
                if pos > reported:
                    progress(pos - reported)
                    reported = pos
            text, held_cr = normalize_block(text, held_cr, final)
            if text:
                lines_done += text.count("\n")
                yield text
            if final:
                break


def _decode_error(
    e: UnicodeDecodeError,
    path: str,
    encoding: str,
    state: tuple[bytes, int],
    fed: int,
    lines_done: int,
    held_cr: bool,
    fmt: str | None,
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
    return ValueError(
        f"{path!r}: invalid {encoding} data at line {line} ({where}): {e.reason} "
        f"{e.object[e.start:e.end]!r}; pass errors='replace' to substitute U+FFFD for bad bytes"
    )


def is_one_shot(source: Any) -> bool:
    """Whether ``source`` is a one-shot iterator (``iter(source) is source``): a generator, an
    iterator over a list, a file object...

    Such a source can be read once only; a list, a tuple, a str or a :class:`LineCorpus` can be read
    again.

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
    if isinstance(source, (str, bytes, bytearray, LineCorpus)):
        return False
    try:
        return iter(source) is source
    except TypeError:
        return False


def iter_chunks(source: Any, chunk_chars: int = DEFAULT_CHUNK_CHARS) -> Iterator[str]:
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
    its own, whole; splitting every chunk on ``"\\n"`` gives back exactly the lines, in order.

    Parameters
    ----------
    source : str, os.PathLike, LineCorpus, list or tuple of os.PathLike, or iterable of str
        The corpus.
    chunk_chars : int, default 1 Mi
        Target chunk size in characters.

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
    if isinstance(source, str):
        return _text_chunks(source, chunk_chars)
    if isinstance(source, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"the corpus must be text, not {type(source).__name__}: decode it first "
            "(for example data.decode('utf-8')), or pass a pathlib.Path to read a file"
        )
    if isinstance(source, LineCorpus):
        return source.iter_chunks(chunk_chars)
    if isinstance(source, os.PathLike):
        return LineCorpus(source).iter_chunks(chunk_chars)
    if (
        isinstance(source, (list, tuple))
        and source
        and all(isinstance(p, os.PathLike) for p in source)
    ):
        return LineCorpus(source).iter_chunks(chunk_chars)
    try:
        it = iter(source)
    except TypeError:
        raise TypeError(
            "the corpus must be a str (text), an os.PathLike (a file), a LineCorpus, a list of "
            f"paths or an iterable of str (sentences), not {type(source).__name__}"
        ) from None
    return _sentence_chunks(it, it is source, type(source).__name__, chunk_chars)


def _text_chunks(text: str, chunk_chars: int) -> Iterator[str]:
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
    return _chunk_stream((_normalize_newlines(text),), chunk_chars)


def _sentence_chunks(
    it: Iterator[Any], one_shot: bool, kind: str, chunk_chars: int
) -> Iterator[str]:
    batch: list[str] = []
    size = 0  # len("\n".join(batch))
    for i, s in enumerate(it):
        if not isinstance(s, str):
            if isinstance(s, (bytes, bytearray)):
                raise TypeError(f"sentence {i} is {type(s).__name__}, not str: decode it first")
            if isinstance(s, os.PathLike):
                raise TypeError(
                    f"sentence {i} is a {type(s).__name__}, not str: to read files, pass a path, "
                    "a list or tuple made only of paths, or a cooc.LineCorpus"
                )
            raise TypeError(f"sentence {i} must be a str, not {type(s).__name__}")
        if "\n" in s:
            s = s.replace("\n", " ")
        if "\r" in s:
            s = s.replace("\r", " ")
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
    elif one_shot:
        raise ValueError(
            f"empty corpus: the one-shot iterator ({kind}) yielded no sentence; a generator or "
            "iterator can be read only once, so it may already have been exhausted by an earlier "
            "pass. Pass a list, or a cooc.LineCorpus for files, which can be read again"
        )
