"""Counting co-occurrences on a Dask cluster: :func:`pretrain`, the distributed twin of
:func:`cooc.pretrain`.

Needs the optional extra ``cooc[dask]`` (``dask[distributed]``). This module imports without it; its
functions raise :class:`ImportError` naming the extra when they are called.

Two passes over the corpus:

1. **vocabulary**: every partition's words are counted (:func:`cooc.counting.partition_word_counts`)
   and the counts are summed in a tree; one task then applies the rules of :func:`cooc.pretrain`
   (stopwords removed, then ``min_count``, then the ``max_vocab_size`` most frequent words, ties
   broken by word order; the final vocabulary sorted) and only the kept words come back;
2. **counting, by row blocks**: the index ``word -> id`` is built once by a task and replicated to
   every worker; every partition is counted under it (:func:`cooc.counting.partition_counts`, exact
   int64 CSR parts) and its rows are cut into ``B`` blocks, ranges of word ids chosen from the
   vocabulary's frequencies so that blocks have about equal expected non-zeros
   (:func:`block_bounds`). Each block is summed separately with the compiled ``csr_add`` kernel, in
   its own tree of ``split_every``-way sums. A summing task thus holds one block's partial sums,
   never the whole matrix, and the ``B`` trees spread over the workers. ``B`` is ``n_blocks`` or,
   by default, chosen so that ``split_every + 1`` partial sums of a block fit the per-task budget
   (``memory_limit``, else the workers' own memory limit per thread), and at least one per worker.

The graph is built with :mod:`dask.delayed` (one ``nout=B`` counting task per partition of the bag,
then ``B`` explicit trees): a per-block ``Bag.reduction`` would re-read every partition once per
block, and ``Bag.foldby`` merges every key's accumulator in one final task, the whole matrix again.
Every block travels as ``(block id, CSR)`` and a sum refuses to mix blocks.

The client then fetches the blocks one at a time into preallocated arrays (the sizes are known
first), so it holds the whole matrix once plus one block. With ``output=`` (a directory on storage
every worker sees, or a URL) the client never holds it: each summed block's task writes its counts and
its L2-normalized rows (each row needs only its own block) as one row block of a sharded model
(:func:`cooc.sharded.write_block`), the client writes the metadata last and returns the model loaded
memory-mapped (:mod:`cooc.sharded`).

When the cluster fails (a worker dies, most often out of memory, so Dask gives up on a task with
``KilledWorker``; the scheduler is lost; a file becomes unreadable), :func:`pretrain` raises
:class:`ClusterError` (or an :class:`OSError` for a file) naming the stage, the memory each worker
had and what to change.

Rows are then L2-normalized as in :func:`cooc.pretrain`: the vocabulary, the integer counts and the
vectors are identical to the single-machine result on the same corpus, whatever the partitioning,
the number of workers, or the tasks Dask had to re-run after losing a worker (every task is a pure
function of its partition).

Partitions are whole lines (one line = one sentence): a plain file is split into blocks of about
``partition_size`` bytes at ``"\\n"`` bytes (for ASCII-compatible encodings; other encodings and
compressed files, ``.gz``, ``.bz2``, ``.xz``, are one partition per file, read as a stream).
"""

from __future__ import annotations

import codecs
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from . import _backend
from .corpus import (
    _COMPRESSED,
    _DECOMPRESSION_ERRORS,
    _MAGIC_LEN,
    DEFAULT_CHUNK_CHARS,
    LineCorpus,
    _check_codec,
    _chunk_stream,
    _normalize_newlines,
    _sentence_chunks,
    _sniff,
    fspaths,
    normalize_block,
)
from ._validate import check_positive, check_weighting, check_window, parse_size
from .counting import (
    BYTES_PER_PAIR,
    TokenizedCorpus,
    check_vocabulary,
    partition_counts,
    partition_word_counts,
    select_vocabulary,
)
from .embeddings import Embeddings, Recipe, load, vocabulary_digest
from .sharded import ShardWriter, write_block
from ._cluster import ClusterError, _Cluster, require_dask
from .text import STOPWORDS
from .weighting import l2_rows

__all__ = ["ClusterError", "block_bounds", "counting_bytes_per_char", "pretrain", "require_dask"]

logger = logging.getLogger(__name__)

#: Text per partition of a plain file (and per counting call) when neither ``partition_size`` nor
#: ``memory_limit`` says otherwise.
DEFAULT_PARTITION_SIZE = 64 << 20
#: Partial results summed per reduction task.
DEFAULT_SPLIT_EVERY = 8
#: Text read per decoding step of a streamed (compressed) file.
_STREAM_BLOCK = 1 << 22
#: Encodings in which a ``"\\n"`` byte is always a line end, so a file can be split at any of them.
_SPLITTABLE = ("utf-8", "utf-8-sig", "ascii", "latin-1")
_SPLITTABLE_PREFIXES = ("iso8859-", "cp125", "mac-", "koi8-")

#: Bytes of one non-zero of a CSR block: an int32 column index and an int64 count.
BYTES_PER_NONZERO = 12

#: CSR parts of a square matrix of counts: int64 indptr, int32 indices, int64 data.
CSR = tuple[np.ndarray, np.ndarray, np.ndarray]


def counting_bytes_per_char(window: int) -> int:
    """Estimated peak working memory of :func:`cooc.counting.partition_counts` per character of text.

    About ``window`` counted pairs per token at :data:`cooc.counting.BYTES_PER_PAIR` bytes each, plus
    ~24 bytes of ids and offsets per token, for text of at least 4 characters per token (a short word
    and its separator), plus the text itself.
    """
    return (BYTES_PER_PAIR * window + 24) // 4 + 1


# ------------------------------------------------------------------------------------------------
# reading partitions (runs on the workers)


@dataclass(frozen=True)
class _FilePart:
    """A whole-line piece of a file: bytes ``[start, start + length)`` moved to line ends, or the
    whole file streamed (``length is None``; compressed files and non-splittable encodings)."""

    path: str
    start: int
    length: int | None


@dataclass(frozen=True)
class _Reader:
    """Turns one partition (a list of :class:`_FilePart`, or an iterable of lines) into chunks."""

    fs: Any  # an fsspec file system, or None for a bag of lines
    encoding: str
    errors: str
    chunk_chars: int

    def chunks(self, partition: Iterable[Any]) -> Iterator[str]:
        if self.fs is None:
            # A bag of lines: each item is one sentence ("\n" / "\r" inside it become spaces).
            return _sentence_chunks(iter(partition), False, "Bag partition", self.chunk_chars)
        return self._file_chunks(partition)

    def _file_chunks(self, parts: Iterable[_FilePart]) -> Iterator[str]:
        for part in parts:
            try:
                if part.length is None:
                    yield from _chunk_stream(self._stream_pieces(part.path), self.chunk_chars)
                else:
                    yield from _chunk_stream((self._block_text(part),), self.chunk_chars)
            except OSError as e:
                raise _part_error(e, part) from e

    def _open(self, path: str) -> Any:
        try:
            return self.fs.open(path, "rb")
        except FileNotFoundError:
            raise FileNotFoundError(2, "corpus file not found", path) from None

    def _block_text(self, part: _FilePart) -> str:
        from fsspec.utils import read_block

        with self._open(part.path) as raw:
            if part.start == 0:
                _check_plain(part.path, raw.read(_MAGIC_LEN))
            data = read_block(raw, part.start, part.length, delimiter=b"\n")
        try:
            text = data.decode(self.encoding, self.errors)
        except UnicodeDecodeError as e:
            raise ValueError(
                f"{part.path!r}: invalid {self.encoding} data at byte {part.start + e.start}: "
                f"{e.reason} {e.object[e.start:e.end]!r}; pass errors='replace' to substitute "
                "U+FFFD for bad bytes"
            ) from e
        return _normalize_newlines(text)

    def _stream_pieces(self, path: str) -> Iterator[str]:
        suffix = os.path.splitext(path)[1].lower()
        with self._open(path) as raw:
            head = raw.read(_MAGIC_LEN)
            raw.seek(0)
            fmt: str | None = None
            stream = raw
            if suffix in _COMPRESSED:
                fmt, magic, opener = _COMPRESSED[suffix]
                if not head:  # a zero-byte file: no lines, whatever its name
                    return
                if not head.startswith(magic):
                    found = _sniff(head)
                    what = f"{found} data" if found else "not compressed (plain text?)"
                    raise ValueError(
                        f"{path!r} is named like a {fmt} file ({suffix}) but its first bytes are not "
                        f"the {fmt} magic bytes: it is {what}; rename the file to match its content"
                    )
                stream = opener(raw)
            else:
                _check_plain(path, head)
            try:
                yield from _decode_stream(stream, path, fmt, self.encoding, self.errors)
            finally:
                if stream is not raw:
                    stream.close()


def _part_error(exc: OSError, part: _FilePart) -> OSError:
    """``exc`` with the part of the file that was being read (same errno, so the same subclass)."""
    where = "the whole file" if part.length is None else f"bytes {part.start}-{part.start + part.length}"
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno is None:
        return OSError(f"reading {where} of {part.path!r}: {reason}")
    return OSError(exc.errno, f"reading {where}: {reason}", exc.filename or part.path)


def _check_plain(path: str, head: bytes) -> None:
    found = _sniff(head)
    if found is not None:
        ext = {"gzip": ".gz", "bzip2": ".bz2", "xz": ".xz"}[found]
        raise ValueError(
            f"{path!r} starts with the {found} magic bytes but is not named *{ext}: it looks "
            f"compressed; rename it with the {ext} suffix to have it decompressed"
        )


def _decode_stream(stream: Any, path: str, fmt: str | None, encoding: str, errors: str) -> Iterator[str]:
    """Decode a binary stream block by block into text with ``"\\n"`` line ends only."""
    decoder = codecs.getincrementaldecoder(encoding)(errors)
    fed = 0
    held_cr = False  # a "\r" ended the previous block: it may be the first half of "\r\n"
    while True:
        try:
            data = stream.read(_STREAM_BLOCK)
        except _DECOMPRESSION_ERRORS as e:
            if fmt is None:
                raise
            raise ValueError(f"{path!r}: corrupt or truncated {fmt} file: {e}") from e
        final = not data
        buffered = decoder.getstate()[0]
        try:
            text = decoder.decode(data, final)
        except UnicodeDecodeError as e:
            where = f"byte {fed - len(buffered) + e.start}"
            if fmt:
                where += f" of the decompressed {fmt} data"
            raise ValueError(
                f"{path!r}: invalid {encoding} data at {where}: {e.reason} "
                f"{e.object[e.start:e.end]!r}; pass errors='replace' to substitute U+FFFD for bad bytes"
            ) from e
        fed += len(data)
        text, held_cr = normalize_block(text, held_cr, final)
        if text:
            yield text
        if final:
            return


# ------------------------------------------------------------------------------------------------
# the per-partition and reduction functions (run on the workers)


# Word lists travel between processes as one str of "\n"-separated words (a token is a run of
# letters, never a line end): Dask serializes a list of many small str item by item, which takes
# seconds for a few hundred thousand words; one str takes milliseconds.


def _join_words(words: list[str]) -> str:
    return "\n".join(words)


def _split_words(joined: str) -> list[str]:
    return joined.split("\n") if joined else []


class _Index:
    """The vocabulary index ``word -> id`` as sent to the workers: pickled as one str, rebuilt once
    per worker process when it arrives."""

    __slots__ = ("index",)

    def __init__(self, words: list[str]) -> None:
        self.index: dict[str, int] = {w: i for i, w in enumerate(words)}

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return _index_from_joined, (_join_words(list(self.index)),)


def _index_from_joined(joined: str) -> _Index:
    return _Index(_split_words(joined))


#: Pass-1 result of some partitions: words ("\n"-joined), their counts, sentences, characters.
WordCounts = tuple[str, np.ndarray, int, int]


def _vocab_partition(partition: Iterable[Any], reader: _Reader) -> WordCounts:
    """Pass 1 for one partition: its words, their counts, its sentences and characters."""
    n_sentences = 0
    n_chars = 0

    def counted(chunks: Iterable[str]) -> Iterator[str]:
        nonlocal n_sentences, n_chars
        for chunk in chunks:
            n_sentences += chunk.count("\n") + 1
            n_chars += len(chunk)
            yield chunk

    words, counts = partition_word_counts(counted(reader.chunks(partition)))
    return _join_words(words), np.asarray(counts, dtype=np.int64), n_sentences, n_chars


def _merge_vocab(parts: Sequence[WordCounts]) -> WordCounts:
    """Sum word counts of several partitions (exact integers)."""
    parts = list(parts)
    if len(parts) == 1:
        return parts[0]
    total: dict[str, int] = {}
    n_sentences = n_chars = 0
    for joined, counts, ns, nc in parts:
        get = total.get
        for w, c in zip(_split_words(joined), counts.tolist()):
            total[w] = get(w, 0) + c
        n_sentences += ns
        n_chars += nc
    counts_all = np.fromiter(total.values(), dtype=np.int64, count=len(total))
    return _join_words(list(total)), counts_all, n_sentences, n_chars


def _select(
    merged: WordCounts, stopwords: frozenset[str] | None, min_count: int, max_vocab_size: int | None,
    vocabulary: frozenset[str] | None = None,
) -> tuple[str, np.ndarray]:
    """The final vocabulary under the rules of :func:`cooc.pretrain`: sorted words ("\n"-joined)
    and their frequencies."""
    joined, counts, n_sentences, n_chars = merged
    tokens = TokenizedCorpus(words=_split_words(joined), counts=counts, chunks=[],
                             n_sentences=n_sentences, n_chars=n_chars)
    vocab, _, _ = select_vocabulary(tokens, stopwords, min_count, max_vocab_size, vocabulary)
    return _join_words(vocab.words), vocab.frequencies


def _add(a: CSR | None, b: CSR) -> CSR:
    return b if a is None else _backend.csr_add(*a, *b)


def _count_partition(
    partition: Iterable[Any], reader: _Reader, index: _Index, window: int, group_chars: int
) -> list[CSR]:
    """Pass 2 for one partition: exact counts, as a one-item list (a bag partition).

    The text is counted ``group_chars`` characters at a time (bounding the working memory of
    :func:`~cooc.counting.partition_counts` for a partition that is a whole compressed file) and the
    groups' matrices are summed exactly.
    """
    total: CSR | None = None
    group: list[str] = []
    size = 0
    for chunk in reader.chunks(partition):
        group.append(chunk)
        size += len(chunk)
        if size >= group_chars:
            total = _add(total, partition_counts(group, index.index, window))
            group, size = [], 0
    if group or total is None:
        total = _add(total, partition_counts(group, index.index, window))
    assert total is not None
    return [total]


def _sum_csr(parts: Iterable[CSR]) -> CSR:
    """Exact sum of CSR matrices of the same shape, pairwise (a balanced tree within the task)."""
    level = list(parts)
    if not level:
        raise ValueError("no partial matrices to sum")
    while len(level) > 1:
        nxt = [_backend.csr_add(*level[i], *level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


#: One row block of some partitions' counts: its number and its CSR parts (rows of the block only).
Block = tuple[int, CSR]


def _split_rows(csr: CSR, bounds: np.ndarray) -> tuple[Block, ...]:
    """Cut a matrix into the row blocks ``[bounds[b], bounds[b + 1])`` (copies: no block keeps the
    whole matrix alive)."""
    indptr, indices, data = csr
    out = []
    for b in range(len(bounds) - 1):
        lo, hi = int(bounds[b]), int(bounds[b + 1])
        a, z = int(indptr[lo]), int(indptr[hi])
        out.append((b, (indptr[lo:hi + 1] - a, indices[a:z].copy(), data[a:z].copy())))
    return tuple(out)


def _count_blocks(
    partition: Iterable[Any], reader: _Reader, index: _Index, window: int, group_chars: int,
    bounds: np.ndarray,
) -> tuple[Block, ...]:
    """Pass 2 for one partition: its exact counts cut into the row blocks of ``bounds``."""
    [total] = _count_partition(partition, reader, index, window, group_chars)
    return _split_rows(total, bounds)


def _sum_block(parts: Sequence[Block]) -> Block:
    """Exact sum of partial counts of one row block; parts of different blocks are an error."""
    ids = {b for b, _ in parts}
    if len(ids) != 1:
        raise RuntimeError(f"cooc.dask: a sum task received parts of row blocks {sorted(ids)}")
    return parts[0][0], _sum_csr([csr for _, csr in parts])


def _nnz(block: Block) -> int:
    return int(block[1][2].size)


def block_bounds(frequencies: Any, window: int, n_blocks: int) -> np.ndarray:
    """Row boundaries of ``n_blocks`` ranges of word ids with about equal expected non-zeros.

    A word of frequency ``f`` has at most ``min(2 * window * f, V)`` distinct neighbours: that bound
    is the weight of its row. The cuts split the cumulative weight evenly; every block has at least
    one row (``n_blocks`` is clamped to ``V``).

    Parameters
    ----------
    frequencies : array of int, shape (V,)
        Word frequencies, in the order of the ids.
    window : int
        Window half-width.
    n_blocks : int
        Blocks wanted, at least 1.

    Returns
    -------
    numpy.ndarray of int64, shape (B + 1,)
        ``0 = bounds[0] < bounds[1] < ... < bounds[B] = V`` with ``B = min(n_blocks, V)``.

    Examples
    --------
    >>> block_bounds([1, 1, 1, 1], 1, 2).tolist()
    [0, 2, 4]
    >>> block_bounds([5, 1], 1, 9).tolist()
    [0, 1, 2]
    """
    freq = np.asarray(frequencies, dtype=np.int64)
    n = int(freq.size)
    if n == 0:
        raise ValueError("block_bounds needs a non-empty vocabulary")
    b = max(1, min(int(n_blocks), n))
    cum = np.cumsum(np.minimum(2 * window * freq, n).astype(np.float64))
    targets = cum[-1] * np.arange(1, b) / b
    cuts = np.searchsorted(cum, targets, side="left").astype(np.int64) + 1
    # strictly increasing, inside (0, n): shift to c - i, clip, make non-decreasing, shift back
    i = np.arange(1, b, dtype=np.int64)
    cuts = np.maximum.accumulate(np.clip(cuts - i, 0, n - b)) + i
    return np.concatenate(([0], cuts, [n])).astype(np.int64)


def estimated_nnz(frequencies: Any, window: int) -> int:
    """An upper bound of the non-zeros of the counts: the sum of the rows' weights of
    :func:`block_bounds`."""
    freq = np.asarray(frequencies, dtype=np.int64)
    return int(np.minimum(2 * window * freq, freq.size).sum())


def _auto_blocks(nnz: int, budget: int | None, n_workers: int, split_every: int) -> int:
    """Blocks such that ``split_every + 1`` partial sums of one block fit ``budget`` bytes, and at
    least one per worker."""
    if budget is None:
        return max(1, n_workers)
    per_block = max(1, budget // (split_every + 1))
    return max(1, n_workers, -(-nnz * BYTES_PER_NONZERO // per_block))


# ------------------------------------------------------------------------------------------------
# planning (on the client)


def _splittable(encoding: str) -> bool:
    name = codecs.lookup(encoding).name
    return name in _SPLITTABLE or name.startswith(_SPLITTABLE_PREFIXES)


def _as_paths(source: Any) -> list[str]:
    if isinstance(source, (str, os.PathLike)):
        items = [source]
    elif isinstance(source, (list, tuple)):
        items = list(source)
        if not items:
            raise ValueError("no corpus files: the list of paths is empty")
    else:
        raise TypeError(
            "the corpus must be a path or URL, a list of them, a cooc.LineCorpus or a dask.bag.Bag "
            f"of lines, not {type(source).__name__}"
        )
    return fspaths(items)


def _plan_files(
    paths: list[str], partition_size: int, encoding: str, storage_options: dict[str, Any] | None
) -> tuple[Any, list[_FilePart]]:
    """The file system and the whole-line partitions of the files (checked to exist)."""
    import fsspec.core

    fs, _, resolved = fsspec.core.get_fs_token_paths(
        paths if len(paths) > 1 else paths[0], mode="rb", storage_options=storage_options or {}
    )
    if not resolved:
        raise FileNotFoundError(2, "no corpus file matches", paths[0] if len(paths) == 1 else str(paths))
    split = _splittable(encoding)
    parts: list[_FilePart] = []
    for path in resolved:
        try:
            info = fs.info(path)
        except FileNotFoundError:
            raise FileNotFoundError(2, "corpus file not found", path) from None
        if info.get("type") == "directory":
            raise IsADirectoryError(
                21, "corpus path is a directory, not a file (pass the files it contains)", path
            )
        size = int(info.get("size") or 0)
        if os.path.splitext(path)[1].lower() in _COMPRESSED or not split:
            parts.append(_FilePart(path, 0, None))
        else:
            for start in range(0, max(size, 1), partition_size):
                parts.append(_FilePart(path, start, partition_size))
    return fs, parts


def _get_client(client: Any) -> tuple[Any, bool]:
    """The client to use and whether this call owns it (and must close it)."""
    distributed = require_dask()
    if client is None:
        try:
            return distributed.default_client(), False
        except ValueError:
            raise ValueError(
                "cooc.dask.pretrain needs a Dask cluster: pass client=distributed.Client(ADDRESS) "
                "(or a scheduler address), or create a Client first (distributed.Client() starts a "
                "local cluster)"
            ) from None
    if isinstance(client, str):
        return distributed.Client(client), True
    if not isinstance(client, distributed.Client):
        raise TypeError(
            "client must be a distributed.Client, a scheduler address or None, "
            f"not {type(client).__name__}"
        )
    return client, False


# ------------------------------------------------------------------------------------------------
# the public function


def pretrain(
    paths_or_bag: Any,
    window: int = 3,
    *,
    stopwords: Iterable[str] | None = STOPWORDS,
    min_count: int = 1,
    max_vocab_size: int | None = None,
    vocabulary: Iterable[str] | None = None,
    memory_limit: int | str | None = None,
    client: Any = None,
    partition_size: int | str | None = None,
    split_every: int = DEFAULT_SPLIT_EVERY,
    encoding: str = "utf-8",
    errors: str = "strict",
    storage_options: dict[str, Any] | None = None,
    n_blocks: int | None = None,
    output: str | os.PathLike[str] | None = None,
    weighting: str = "count",
    cds: float = 0.75,
    shift: float | None = None,
    dim: int | None = None,
    p: float = 0.5,
    seed: int = 0,
    add_context: bool = False,
) -> Embeddings:
    """Count windowed co-occurrences on a Dask cluster: the same model as :func:`cooc.pretrain`.

    The vocabulary, the integer counts, the vectors and the recipe are identical to ``cooc.pretrain``'s
    on the same corpus with the same ``window``, ``stopwords``, ``min_count``, ``max_vocab_size`` and
    ``vocabulary``.

    Parameters
    ----------
    paths_or_bag : str, os.PathLike, list of them, LineCorpus, or dask.bag.Bag
        Files, one sentence per line: local paths (which every worker must see at the same path,
        i.e. on shared storage), or any URL that fsspec reads (``s3://bucket/corpus/*.txt.gz``,
        ``gcs://...``, ``hdfs://...``; globs are expanded). ``.gz`` / ``.bz2`` / ``.xz`` files are
        decompressed (one partition per file: they cannot be split); plain files are split into
        whole-line partitions of about ``partition_size`` bytes. Unlike :func:`cooc.pretrain`, a
        ``str`` is a path or URL here, never text. A ``dask.bag.Bag`` is a bag of lines: each item is
        one sentence (line ends inside an item count as spaces), e.g. ``dask.bag.read_text(...)``.
    window : int, default 3
        Symmetric window half-width, at least 1.
    stopwords, min_count, max_vocab_size, vocabulary
        As in :func:`cooc.pretrain`.
    memory_limit : int, str or None
        Working-memory budget of one counting task (one worker thread), e.g. ``"2GB"``: text is
        counted in groups small enough for it (see :func:`counting_bytes_per_char`), and the
        counts are cut into enough row blocks that a summing task's ``split_every + 1`` partial sums
        of one block fit it (see ``n_blocks``). A worker with ``T`` threads needs about
        ``T * memory_limit`` plus the blocks it keeps until the client fetches them; set the Dask
        workers' own ``memory_limit`` accordingly.
    client : distributed.Client, str or None
        The cluster: a Client, a scheduler address (a Client is opened and closed for this call), or
        None for the current default Client.
    partition_size : int, str or None
        Bytes of a plain file per partition (and characters counted per group), e.g. ``"64MB"``. By
        default 64 MiB, or less if ``memory_limit`` requires it.
    split_every : int, default 8
        Partial results summed per reduction task (the fan-in of the tree). A summing task holds up to
        ``split_every`` partial sums of one row block, each up to the size of the final block, and
        their sum: a smaller fan-in needs less memory per task, a larger one fewer transfers.
    encoding, errors : str
        Decoding of the files, as in :class:`cooc.LineCorpus`.
    storage_options : dict or None
        Passed to fsspec (credentials, endpoints) for URLs.
    n_blocks : int or None
        Row blocks the counts are summed in (clamped to the vocabulary size). By default enough
        blocks that ``split_every + 1`` partial sums of one block fit ``memory_limit`` (or, without
        it, the smallest worker memory limit per thread) at 12 bytes per expected non-zero, and at
        least one per worker. More blocks lower the peak memory of a summing task.
    output : str, path-like or None
        Write the model as a sharded model (:mod:`cooc.sharded`) to this directory or URL (with
        ``storage_options``) instead of gathering the counts into this process: each block is written
        by the worker that summed it, so a local directory must be on storage every worker sees at the
        same path. An existing sharded model there is replaced once the new one is complete.
    weighting, cds, shift, dim, p, seed, add_context
        As in :func:`cooc.pretrain` (the distance weighting is always "uniform" here). PPMI is
        weighted where each row block lives, from row and column sums; ``dim`` runs the randomized SVD
        of :func:`cooc.weighting.svd` with its sparse products on the workers, block by block
        (:mod:`cooc.dask_linalg`); the dense vectors come back to this process.

    Returns
    -------
    Embeddings
        Vocabulary sorted alphabetically, ``counts`` (CSR, int64) and ``vectors`` (CSR, float64); with
        ``output``, the sharded model read back from it (:class:`cooc.sharded.ShardedCSR` blocks,
        memory-mapped when local), with the same values.

    Raises
    ------
    ImportError
        When Dask's distributed scheduler is not installed (``pip install 'cooc[dask]'``).
    FileNotFoundError, IsADirectoryError
        For a missing file or a directory, before any task runs; a glob that matches nothing.
    ValueError
        For an empty corpus (nothing left after tokenizing and removing stopwords), a bad parameter,
        no Dask client, or the file errors of :class:`cooc.LineCorpus` (raised by the task that
        reads the file).
    OSError
        When a worker cannot read a file: the message names the stage and the part of the file.
    ClusterError
        When a worker died running a task (``KilledWorker``, most often out of memory) or the
        scheduler was lost: the message names the stage (e.g. "summing row block 3 of 8"), the
        memory each worker had and what to change.
    """
    require_dask()
    import dask.bag as db

    window = check_window(window)
    check_weighting(weighting, cds, shift, "uniform", dim, p, add_context, seed)
    weights = Recipe.weighting_fields(weighting, cds, shift, dim, p, seed, add_context)
    min_count = check_positive("min_count", min_count)  # type: ignore[assignment]
    max_vocab_size = check_positive("max_vocab_size", max_vocab_size, allow_none=True)
    split_every = check_positive("split_every", split_every)  # type: ignore[assignment]
    n_blocks = check_positive("n_blocks", n_blocks, allow_none=True)
    if split_every < 2:
        raise ValueError(f"split_every must be at least 2, got {split_every}")
    if isinstance(stopwords, str):
        raise TypeError("stopwords must be a collection of words, not a single str")
    stop = None if stopwords is None else frozenset(stopwords)
    vocab_words = check_vocabulary(vocabulary)
    budget = None if memory_limit is None else parse_size("memory_limit", memory_limit, minimum=1 << 20)
    # plain files are split into partitions of `size` bytes; text is counted `group_chars` at a time
    if partition_size is None:
        size = DEFAULT_PARTITION_SIZE
        if budget is not None:
            size = max(1 << 16, min(size, budget // counting_bytes_per_char(window)))
    else:
        size = parse_size("partition_size", partition_size)
    group_chars = size if budget is None else max(1, min(size, budget // counting_bytes_per_char(window)))

    if isinstance(paths_or_bag, db.Bag):
        bag = paths_or_bag
        reader = _Reader(None, "utf-8", "strict", DEFAULT_CHUNK_CHARS)
        what = f"a bag of {bag.npartitions} partition(s)"
    else:
        if isinstance(paths_or_bag, LineCorpus):
            paths, encoding, errors = list(paths_or_bag.paths), paths_or_bag.encoding, paths_or_bag.errors
        else:
            paths = _as_paths(paths_or_bag)
        encoding, errors = _check_codec(encoding, errors)
        fs, parts = _plan_files(paths, size, encoding, storage_options)
        reader = _Reader(fs, encoding, errors, min(DEFAULT_CHUNK_CHARS, group_chars))
        bag = db.from_sequence(parts, npartitions=len(parts))  # type: ignore[no-untyped-call]
        what = f"{len(parts)} partition(s) of {len({p.path for p in parts})} file(s)"

    client, owned = _get_client(client)
    try:
        return _run(client, bag, reader, what, window, stop, min_count, max_vocab_size, group_chars,
                    split_every, vocab_words, budget, n_blocks, output=output,
                    storage_options=storage_options, weights=weights)
    finally:
        if owned:
            client.close()


def _run(
    client: Any,
    bag: Any,
    reader: _Reader,
    what: str,
    window: int,
    stop: frozenset[str] | None,
    min_count: int,
    max_vocab_size: int | None,
    group_chars: int,
    split_every: int,
    vocabulary: frozenset[str] | None = None,
    budget: int | None = None,
    n_blocks: int | None = None,
    *,
    output: str | os.PathLike[str] | None = None,
    storage_options: dict[str, Any] | None = None,
    weights: dict[str, Any] | None = None,
) -> Embeddings:
    from functools import partial

    weights = weights if weights is not None else Recipe.weighting_fields("count", 0.75, None, None, 0.5, 0, False)
    weighted = weights["weighting"] != "count" or weights["dim"] is not None
    recipe = _recipe(stop, window, min_count, max_vocab_size, vocabulary, weights)

    if bag.npartitions == 0:
        raise ValueError("empty corpus: the bag has no partitions")
    t0 = time.perf_counter()
    cluster = _Cluster.of(client)
    # pass 1: words per partition, summed in a tree; the rules applied in one task
    with cluster.stage(f"vocabulary pass over {what}"):
        merged = bag.reduction(
            partial(_vocab_partition, reader=reader), _merge_vocab, split_every=split_every,
            name="cooc-vocabulary",
        )
        merged_f = client.compute(merged)
        selected_f = client.submit(_select, merged_f, stop, min_count, max_vocab_size, vocabulary)
        joined, frequencies = selected_f.result()
        del merged_f, selected_f
    words = _split_words(joined)
    n = len(words)
    t1 = time.perf_counter()
    logger.info("cooc.dask: vocabulary of %d words from %s in %.2f s", n, what, t1 - t0)

    nnz_bound = estimated_nnz(frequencies, window)
    if n_blocks is None:
        n_blocks = _auto_blocks(nnz_bound, budget if budget is not None else cluster.per_thread,
                                cluster.n_workers, split_every)
    bounds = block_bounds(frequencies, window, n_blocks)
    n_blocks = len(bounds) - 1
    logger.info("cooc.dask: %d row block(s) (at most %d non-zeros expected), %s", n_blocks, nnz_bound,
                cluster.memory())

    # pass 2: the index built once by a task (so Dask can rebuild it if the worker holding it dies,
    # which scattered data cannot be) and fetched once by each worker; counts per partition cut into
    # row blocks, each block summed in its own tree
    token = f"{os.getpid()}-{t0}"
    index_f = client.submit(_index_from_joined, joined, pure=False, key=f"cooc-index-{token}")
    counted = f"counting pass ({n_blocks} row block(s) of {what})"
    try:
        with cluster.stage(counted):
            client.replicate([index_f])
            roots, labels = _block_sums(bag, reader, index_f, window, group_chars, bounds, split_every, token)
            cluster.labels.update(labels)
            futures = client.compute(roots)
            blocks = [(int(bounds[b]), int(bounds[b + 1]), f) for b, f in enumerate(futures)]

            def weigh(release: bool) -> Any:
                from .dask_linalg import vectors_on_cluster

                return vectors_on_cluster(client, blocks, n, **recipe.weighting_options(), release_counts=release)
            if output is not None:
                return _write_sharded(client, cluster, futures, bounds, output, storage_options, words,
                                      frequencies, window, stop, recipe, weigh if weighted else None)
            vectors = weigh(False) if weighted else None
            sizes = client.gather([client.submit(_nnz, f, pure=False) for f in futures])
        # the blocks one at a time into the final arrays: the client holds the matrix once
        total = int(sum(sizes))
        indptr = np.zeros(n + 1, dtype=np.int64)
        indices = np.empty(total, dtype=np.int32)
        data = np.empty(total, dtype=np.int64)
        at = 0
        for b, f in enumerate(futures):
            with cluster.stage(f"fetching row block {b + 1} of {n_blocks}"):
                got_b, (p, ind, dat) = f.result()
            if got_b != b:
                raise RuntimeError(f"cooc.dask: row block {b} came back as block {got_b}")
            lo, hi = int(bounds[b]), int(bounds[b + 1])
            indptr[lo + 1:hi + 1] = p[1:] + at
            indices[at:at + ind.size] = ind
            data[at:at + dat.size] = dat
            at += ind.size
            f.release()
            del p, ind, dat
        futures = []
    finally:
        # release, not cancel: Client.cancel makes the scheduler broadcast "cancelled-keys" to every
        # client, and a client connecting at that moment fails its handshake inside distributed
        # (`assert len(msg) == 1` in Client._ensure_connected: two messages in its first batch)
        index_f.release()
        del index_f
    logger.info("cooc.dask: %d non-zeros counted in %.2f s", data.size, time.perf_counter() - t1)

    counts = sp.csr_matrix((data, indices, indptr), shape=(n, n))
    if vectors is None:
        vectors = l2_rows(indptr, indices, data, n)
    elif not isinstance(vectors, np.ndarray):   # sparse rows of the PPMI, block by block
        vectors = sp.vstack([f.result() for _, _, f in vectors], format="csr")
    return Embeddings(words, vectors, counts, stopwords=stop, frequencies=frequencies, window=window,
                      recipe=recipe)


def _recipe(stop: frozenset[str] | None, window: int, min_count: int, max_vocab_size: int | None,
            vocabulary: frozenset[str] | None, weights: dict[str, Any]) -> Recipe:
    return Recipe(
        tokenizer="builtin", lowercase=True, stopwords=None if stop is None else tuple(sorted(stop)),
        window=window, distance="uniform", min_count=min_count, max_vocab_size=max_vocab_size,
        vocabulary=None if vocabulary is None else vocabulary_digest(vocabulary), pruned=False, **weights,
    )


def _write_vector_block(block: Any, where: str, b: int, lo: int, hi: int,
                        storage_options: dict[str, Any] | None) -> dict[str, Any]:
    """On a worker: one block of sparse (PPMI) vectors written with a structure of its own."""
    return write_block(where, "vectors", b, lo, hi, block, storage_options=storage_options)


def _write_summed_block(block: Block, where: str, b: int, lo: int, hi: int, n: int,
                        storage_options: dict[str, Any] | None, with_vectors: bool = True) -> list[dict[str, Any]]:
    """On a worker: one summed row block written as counts and (``with_vectors``) their L2-normalized
    rows; the records."""
    got_b, (indptr, indices, data) = block
    if got_b != b:
        raise RuntimeError(f"cooc.dask: row block {b} came back as block {got_b}")
    counts = sp.csr_matrix((data, indices, indptr), shape=(hi - lo, n))
    records = [write_block(where, "counts", b, lo, hi, counts, storage_options=storage_options)]
    if with_vectors:
        vectors = sp.csr_matrix((_backend.normalize_rows_l2(indptr, data), indices, indptr), shape=(hi - lo, n))
        records.append(write_block(where, "vectors", b, lo, hi, vectors, storage_options=storage_options,
                                   shares_counts=True))
    return records


def _write_sharded(
    client: Any, cluster: _Cluster, futures: list[Any], bounds: np.ndarray, output: str | os.PathLike[str],
    storage_options: dict[str, Any] | None, words: list[str], frequencies: Any, window: int,
    stop: frozenset[str] | None, recipe: Recipe, weigh: Callable[[bool], Any] | None = None,
) -> Embeddings:
    """Each summed block written by a worker; the metadata by the client, last; the model loaded.
    Without ``weigh``, each block's L2-normalized rows are written beside it (the count weighting).
    With it, the counts are written first, then ``weigh(True)`` weights them on the cluster (and
    releases them once their PPMI is computed): dense vectors are written by the client, blocks of
    sparse vectors by the workers."""
    n, n_blocks = len(words), len(bounds) - 1
    with ShardWriter(output, n, storage_options=storage_options) as writer:
        with cluster.stage(f"writing {n_blocks} row block(s) to {output}"):
            written = [client.submit(_write_summed_block, f, writer.where, b, int(bounds[b]), int(bounds[b + 1]),
                                     n, storage_options, weigh is None, pure=False) for b, f in enumerate(futures)]
            records = [r for got in client.gather(written) for r in got]
            for f in written:
                f.release()
        vectors = weigh(True) if weigh is not None else None
        with cluster.stage(f"writing {n_blocks} row block(s) to {output}"):
            if vectors is not None and not isinstance(vectors, np.ndarray):
                written = [client.submit(_write_vector_block, f, writer.where, b, lo, hi, storage_options, pure=False)
                           for b, (lo, hi, f) in enumerate(vectors)]
                records += client.gather(written)
                for f in (*written, *(f for _, _, f in vectors)):
                    f.release()
            for f in futures:
                f.release()
        if isinstance(vectors, np.ndarray):
            writer.write_dense(vectors)
        path = writer.commit(records, words, frequencies, window=window, stopwords=stop,
                             recipe=recipe.to_dict())
    return load(path, storage_options=storage_options)


def _block_sums(
    bag: Any, reader: _Reader, index: Any, window: int, group_chars: int, bounds: np.ndarray,
    split_every: int, token: str,
) -> tuple[list[Any], dict[str, str]]:
    """The graph of pass 2: one ``dask.delayed`` result ``(b, CSR)`` per row block, and the stage
    each named task belongs to (for error messages)."""
    from dask.delayed import delayed

    parts = bag.to_delayed(optimize_graph=False)
    n_parts, n_blocks = len(parts), len(bounds) - 1
    labels: dict[str, str] = {}
    counted = []
    for i, part in enumerate(parts):
        key = f"cooc-count-{token}-{i}"
        labels[key] = f"counting partition {i + 1} of {n_parts}"
        counted.append(delayed(_count_blocks, pure=True, nout=n_blocks)(
            part, reader, index, window, group_chars, bounds, dask_key_name=key))
    roots = []
    for b in range(n_blocks):
        level = [c[b] for c in counted]
        depth = 0
        while len(level) > 1:
            nxt = []
            for j in range(0, len(level), split_every):
                key = f"cooc-sum-{token}-{b}-{depth}-{j}"
                labels[key] = f"summing row block {b + 1} of {n_blocks}"
                nxt.append(delayed(_sum_block, pure=True)(level[j:j + split_every], dask_key_name=key))
            level, depth = nxt, depth + 1
        roots.append(level[0])
    return roots, labels


