"""From text chunks to an exact co-occurrence matrix, for corpora larger than the demo.

The flow is one direction:

1. :func:`tokenize_chunks` runs the tokenizer kernel on chunks of lines (in ``n_jobs`` threads; the
   kernel releases the GIL) and merges the chunk-local vocabularies into one, keeping each chunk's
   token ids: the text is read once.
2. :func:`select_vocabulary` drops stopwords, rare words (``min_count``) and the tail beyond
   ``max_vocab_size``, sorts what is left and maps the provisional ids to final ones; dropped words
   are removed before windowing.
3. :func:`count_pairs` splits the corpus at sentence ends into segments sized to the memory budget,
   counts each segment with the compiled kernel (in threads), and sums the partial matrices exactly.
   Under a budget each partial matrix is spilled to a temporary directory as a sorted run, and the
   runs are merged at the end one block of rows at a time (:class:`_Runs`), so the budget never
   raises the peak above an unlimited count's. Temporary files are removed on success, on error and
   on Ctrl-C.
"""

from __future__ import annotations

import bisect
import collections
import contextlib
import ctypes
import itertools
import logging
import os
import queue
import struct
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import scipy.sparse as sp

from . import _backend
from ._parallel import map_ordered
from ._stale import owner_tag, remove_stale
from .corpus import LineCorpus, is_pretokenized, iter_chunks, iter_token_lists, max_line_chars_for
from .text import encode_token_lists
from .vocab import Vocabulary

__all__ = [
    "CorpusCounts",
    "TokenizedCorpus",
    "check_vocabulary",
    "count_corpus",
    "sum_on_union",
    "take_words",
    "count_pairs",
    "partition_counts",
    "partition_word_counts",
    "parked",
    "remap_chunks",
    "select_vocabulary",
    "tokenize_chunks",
]

logger = logging.getLogger(__name__)

#: Bytes of working memory per counted pair of positions in one segment (packed pair keys, partial
#: counts and the segment's output matrix), used to size segments to ``memory_limit``.
BYTES_PER_PAIR = 48
#: Bytes per stored non-zero of a CSR matrix of counts (int32 index + int64 count).
BYTES_PER_NONZERO = 12
#: At most this many runs' blocks of rows are held at once while merging.
MAX_OPEN_RUNS = 32
#: At most this many stored cells of the runs are read per block of rows while merging.
MERGE_BLOCK = 1 << 20

# ------------------------------------------------------------------------------------------------
# 1. tokenizing


@dataclass
class TokenizedCorpus:
    """Token ids of a corpus under a provisional vocabulary (first-seen order).

    The vocabulary is ``words``, or, when ``table`` is set (:func:`tokenize_chunks`), the words of that
    ``WordTable``, made into Python strings only when asked for (:meth:`words_of`). ``chunks[i]``
    holds ids of word table ``chunk_tables[i]``; ``table_maps[t]`` maps table ``t``'s ids to the
    vocabulary's (None: they are already). ``keys``, when known, are the words' 8-byte UTF-8 prefixes
    (``WordTable.prefix_keys``), which sort them faster than comparing strings.
    """

    words: list[str] = field(default_factory=list)
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    chunks: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    n_sentences: int = 0
    n_chars: int = 0
    keys: np.ndarray | None = None
    chunk_tables: list[int] = field(default_factory=list)
    table_maps: list[np.ndarray | None] = field(default_factory=list)
    table: Any = None

    @property
    def n_tokens(self) -> int:
        return int(self.counts.sum())

    def words_of(self, ids: Any = None) -> list[str]:
        """The words of some provisional ids, in that order (all of them for None)."""
        if self.table is not None:
            return self.table.words(ids)  # type: ignore[no-any-return]
        return list(self.words) if ids is None else [self.words[i] for i in ids]


def tokenize_chunks(
    chunks: Iterable[str], *, n_jobs: int = 1, progress: Callable[[int], None] | None = None
) -> TokenizedCorpus:
    """Tokenize chunks of lines (one sentence per line) into ids of one provisional vocabulary.

    Each thread owns a word table of its own; the tables are merged once at the end, so no Python
    object is made per token, nor per word per chunk.
    """
    out = TokenizedCorpus()
    tables: queue.SimpleQueue[int] = queue.SimpleQueue()
    all_tables = [_backend.new_word_table() for _ in range(max(1, n_jobs))]
    for i in range(len(all_tables)):
        tables.put(i)

    def encode(chunk: str) -> tuple[int, np.ndarray, np.ndarray]:
        if not isinstance(chunk, str):
            raise TypeError(f"text chunks must be str, not {type(chunk).__name__}")
        t = tables.get()
        try:
            ids, offsets = all_tables[t].encode(chunk)
        finally:
            tables.put(t)
        return t, ids, offsets

    for chunk, (t, ids, offsets) in map_ordered(encode, chunks, n_jobs):
        out.chunks.append((ids, offsets))
        out.chunk_tables.append(t)
        out.n_sentences += offsets.size - 1
        out.n_chars += len(chunk)
        if progress is not None:
            progress(len(chunk))
    out.table_maps = _merge_tables(all_tables)
    out.table, out.counts, out.keys = all_tables[0], all_tables[0].counts(), all_tables[0].prefix_keys()
    return out


def _merge_tables(tables: list[Any]) -> list[np.ndarray | None]:
    """Merge the threads' word tables into table 0 (compiled, no Python object per word): table 0's
    ids stay, the other tables' new words get the next ids, in table order. Returns one id map per
    table into the merged table 0 (None for table 0 itself)."""
    return [None] + [tables[0].merge(table) for table in tables[1:]]


def _sorted_order(tokens: TokenizedCorpus) -> np.ndarray:
    """Provisional ids in the order of their words (code point order, as ``sorted``). With
    ``tokens.keys`` (8-byte UTF-8 prefixes, whose order is the words' order where they differ) the
    keys are sorted by numpy and only words sharing a key are compared as strings."""
    keys = tokens.keys
    if keys is None:
        words = tokens.words_of()
        return np.array(sorted(range(len(words)), key=words.__getitem__), dtype=np.int64)
    order = np.argsort(keys).astype(np.int64)   # ties are sorted below: no need for a stable sort
    k = keys[order]
    tied = np.concatenate(([False], k[1:] == k[:-1], [False])).view(np.int8)
    steps = np.diff(tied)
    for a, b in zip(np.flatnonzero(steps == 1).tolist(), np.flatnonzero(steps == -1).tolist()):
        group = order[a:b + 1]
        words = tokens.words_of(group)
        order[a:b + 1] = group[sorted(range(group.size), key=words.__getitem__)]
    return order


# ------------------------------------------------------------------------------------------------
# 2. vocabulary


def select_vocabulary(
    tokens: TokenizedCorpus,
    stopwords: frozenset[str] | None,
    min_count: int,
    max_vocab_size: int | None,
    vocabulary: frozenset[str] | None = None,
) -> tuple[Vocabulary, np.ndarray, np.ndarray]:
    """Choose the final sorted vocabulary and re-map every chunk to it.

    The rules, in order: stopwords are removed; with ``vocabulary``, every word not in it is removed;
    then words seen fewer than ``min_count`` times; then all but the ``max_vocab_size`` most frequent
    (ties broken by word order). Removed words are removed before windowing.

    Returns
    -------
    vocabulary : Vocabulary
    ids : int32 array
        Final ids of the kept tokens of the whole corpus, in order.
    offsets : int64 array
        Sentence offsets into ``ids``.
    """
    freq = tokens.counts
    # Sort every word once (the vocabulary's order; the strings are made in that order); stopwords
    # are then found by bisection, and the kept words come out sorted, with no Python-level test per
    # word.
    order = _sorted_order(tokens)
    sorted_words = tokens.words_of(order)
    keep = np.ones(len(sorted_words), dtype=bool)   # by sorted position
    if stopwords:
        for w in stopwords:
            if isinstance(w, str):
                j = bisect.bisect_left(sorted_words, w)
                if j < len(sorted_words) and sorted_words[j] == w:
                    keep[j] = False
    if not keep.any():
        raise ValueError(
            f"empty corpus: no tokens left after tokenizing and removing stopwords "
            f"({tokens.n_sentences} sentence(s), {tokens.n_chars} characters read)"
        )
    if vocabulary is not None:
        allowed = np.zeros(len(sorted_words), dtype=bool)
        for w in vocabulary:
            j = bisect.bisect_left(sorted_words, w)
            if j < len(sorted_words) and sorted_words[j] == w:
                allowed[j] = True
        keep &= allowed
        if not keep.any():
            raise ValueError(
                f"vocabulary: none of its {len(vocabulary)} word(s) occurs in the corpus "
                "(after tokenizing and removing stopwords)"
            )
    sorted_freq = freq[order]
    not_stop = keep.copy()
    keep &= sorted_freq >= min_count
    if not keep.any():
        raise ValueError(
            f"min_count={min_count} leaves no vocabulary: the most frequent word occurs "
            f"{int(sorted_freq[not_stop].max())} time(s)"
        )
    if max_vocab_size is not None and int(keep.sum()) > max_vocab_size:
        cand = np.flatnonzero(keep)
        # most frequent first; equal frequencies by word order (= sorted position)
        top = cand[np.lexsort((cand, -sorted_freq[cand]))[:max_vocab_size]]
        keep[:] = False
        keep[top] = True
    kept = np.flatnonzero(keep)
    mapping = np.full(len(sorted_words), -1, dtype=np.int32)
    mapping[order[kept]] = np.arange(kept.size, dtype=np.int32)
    vocab = Vocabulary(list(itertools.compress(sorted_words, keep.tolist())), sorted_freq[kept])

    # one composed map per word table (chunks without a table are table 0's, whose ids are final's)
    per_table = [mapping if m is None else mapping[m] for m in tokens.table_maps or [None]]
    chunk_tables = tokens.chunk_tables or [0] * len(tokens.chunks)
    ids_all, offsets_all = remap_chunks(tokens.chunks, [per_table[t] for t in chunk_tables])
    tokens.chunks.clear()  # the provisional ids are no longer needed
    return vocab, ids_all, offsets_all


def remap_chunks(
    chunks: Iterable[tuple[np.ndarray, np.ndarray]], mapping: np.ndarray | list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Map provisional ids through ``mapping`` (-1: dropped; or a list of one map per chunk) and join
    the chunks into one corpus.

    Dropped tokens are removed before windowing, so their neighbours become adjacent.
    """
    parts: list[np.ndarray] = []
    offs: list[np.ndarray] = [np.zeros(1, dtype=np.int64)]
    base = 0
    if isinstance(mapping, np.ndarray):
        pairs: Iterable[tuple[tuple[np.ndarray, np.ndarray], np.ndarray]] = zip(chunks, itertools.repeat(mapping))
    else:  # one map per chunk: a missing or extra one is an error, not a dropped chunk
        pairs = zip(chunks, mapping, strict=True)
    for (ids, offsets), chunk_map in pairs:
        kept, new_offsets = _backend.remap_ids(ids, offsets, chunk_map)
        offs.append(new_offsets[1:] + base)
        parts.append(kept)
        base += kept.size
    ids_all = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
    return ids_all.astype(np.int32, copy=False), np.concatenate(offs)


# ------------------------------------------------------------------------------------------------
# 3. counting


def pairs_per_sentence(offsets: np.ndarray, window: int) -> np.ndarray:
    """Unordered pairs of positions within ``window`` of each other, per sentence (int64)."""
    length = np.diff(offsets)
    w = np.minimum(length, window)
    # sum over d = 1..w of (L - d) = w * L - w * (w + 1) / 2
    return np.asarray(np.maximum(w * length - w * (w + 1) // 2, 0), dtype=np.int64)


def segment_bounds(offsets: np.ndarray, window: int, max_pairs: int, min_segments: int) -> list[tuple[int, int]]:
    """Split sentences into consecutive ranges of at most ``max_pairs`` pairs (a single larger
    sentence is its own segment), and into at least ``min_segments`` ranges when there are enough."""
    pairs = pairs_per_sentence(offsets, window)
    total = int(pairs.sum())
    return _cut(pairs, max(1, min(max_pairs, -(-total // max(1, min_segments)))))


def _cut(weights: np.ndarray, target: int) -> list[tuple[int, int]]:
    """Consecutive ranges of items whose weights sum to at most ``target`` (an item heavier than
    that is a range of its own); ``[(0, 0)]`` for no items."""
    cum = np.cumsum(weights)
    n = weights.size
    bounds: list[tuple[int, int]] = []
    start = 0
    done = 0
    while start < n:
        # the last item whose cumulative weight stays within done + target
        end = int(np.searchsorted(cum, done + target, side="right"))
        end = min(max(end, start + 1), n)
        bounds.append((start, end))
        done = int(cum[end - 1])
        start = end
    return bounds or [(0, 0)]


class _Runs:
    """Partial sums of counts.

    Without a budget they are summed in memory. With one, every partial matrix is spilled to
    ``directory`` as a run (an uncompressed ``.npz``) as soon as it is counted, and :meth:`result`
    merges the runs block of rows by block of rows: each block reads only those rows of every run
    (plain reads at known offsets, no memory map), sums them exactly and appends the block to the
    output files, which are read back once at the end. The merge holds the output's ``indptr`` and a
    block's worth of runs (about ``budget`` bytes; a single row more only when one row of all runs
    together is larger), never two whole matrices at once.
    """

    def __init__(self, n_words: int, budget: int | None, tmp_dir: str | os.PathLike[str] | None) -> None:
        self.n_words = n_words
        self.budget = budget
        self.tmp_parent = tmp_dir
        self.tmp: tempfile.TemporaryDirectory[str] | None = None
        self.current: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.files: list[Path] = []
        self.members: list[dict[str, tuple[int, np.dtype[Any]]]] = []
        self.row_nnz = np.zeros(n_words, dtype=np.int64)   # stored cells per row, summed over runs
        self.n_spilled = 0

    def add(self, part: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        if self.budget is not None:
            self._spill(part)
        else:
            self.current = part if self.current is None else _backend.csr_add(*self.current, *part)

    def _dir(self) -> Path:
        """The spill directory, created on first use: ``cooc-runs-<pid>@<host>-*`` in ``tmp_dir`` (the
        system temporary directory by default). The owner tag lets a later run remove the directories
        of processes killed outright (:func:`cooc._stale.remove_stale`), which it does first."""
        if self.tmp is None:
            parent = tempfile.gettempdir() if self.tmp_parent is None else os.fspath(self.tmp_parent)
            remove_stale(parent, SPILL_PREFIX)
            try:
                self.tmp = tempfile.TemporaryDirectory(prefix=f"{SPILL_PREFIX}{owner_tag()}-", dir=parent)
            except OSError as exc:
                raise _spill_error(exc, Path(parent), "create a spill directory in") from exc
            logger.info("spilling partial counts to %s", self.tmp.name)
        return Path(self.tmp.name)

    def _spill(self, part: tuple[np.ndarray, np.ndarray, np.ndarray]) -> Path:
        path = self._dir() / f"run-{self.n_spilled:06d}.npz"
        self.n_spilled += 1
        try:
            np.savez(path, indptr=part[0], indices=part[1], data=part[2])
            members = _npz_members(path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
            raise _spill_error(exc, path.parent, "write spilled counts to") from exc
        self.files.append(path)
        self.members.append(members)
        self.row_nnz += np.diff(part[0])
        return path

    def _read_rows(self, run: int, r0: int, r1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Rows ``[r0, r1)`` of spilled run ``run`` as a CSR block (None when they are empty)."""
        members = self.members[run]
        with open(self.files[run], "rb") as f:
            ptr = _read_slice(f, members["indptr"], r0, r1 - r0 + 1)
            lo, hi = int(ptr[0]), int(ptr[-1])
            if hi == lo:
                return None
            indices = _read_slice(f, members["indices"], lo, hi - lo)
            data = _read_slice(f, members["data"], lo, hi - lo)
        return ptr - lo, indices, data

    def _merge_runs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        assert self.budget is not None
        # A block reads at most ``block`` stored cells over all runs (a block is at least one row):
        # a quarter of the budget, and no more than MERGE_BLOCK (larger blocks are no faster, and the
        # merge must not hold more than an unlimited count's kernel does beside its output).
        block = max(1, min(self.budget // (4 * BYTES_PER_NONZERO), MERGE_BLOCK))
        bounds = _cut(self.row_nnz, block)
        indptr = np.zeros(self.n_words + 1, dtype=np.int64)
        out_dir = self._dir()
        ind_path, dat_path = out_dir / "merged-indices.bin", out_dir / "merged-data.bin"
        try:
            with open(ind_path, "wb") as f_ind, open(dat_path, "wb") as f_dat:
                for r0, r1 in bounds:
                    merged = self._merge_block(r0, r1, block)
                    if merged is None:
                        continue
                    merged[1].astype(np.int32, copy=False).tofile(f_ind)
                    merged[2].astype(np.int64, copy=False).tofile(f_dat)
                    indptr[r0 + 1:r1 + 1] = np.diff(merged[0])
        except OSError as exc:
            raise _spill_error(exc, out_dir, "write merged counts to") from exc
        for path in self.files:
            path.unlink()
        self.files, self.members = [], []
        np.cumsum(indptr, out=indptr)
        nnz = int(indptr[-1])
        indices = np.fromfile(ind_path, dtype=np.int32, count=nnz)
        ind_path.unlink()
        data = np.fromfile(dat_path, dtype=np.int64, count=nnz)
        dat_path.unlink()
        return indptr, indices, data

    def _merge_block(self, r0: int, r1: int, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The exact sum of rows ``[r0, r1)`` over all runs, reading them a few runs at a time."""
        total: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        held = 0
        for run in range(len(self.files)):
            part = self._read_rows(run, r0, r1)
            if part is None:
                continue
            pending.append(part)
            held += part[1].size
            if held >= block or len(pending) >= MAX_OPEN_RUNS or run == len(self.files) - 1:
                if total is not None:
                    pending.append(total)
                total = _tree_sum(pending)
                pending, held = [], 0
        if pending:
            if total is not None:
                pending.append(total)
            total = _tree_sum(pending)
        return total

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.files:
            return self._merge_runs()
        if self.current is None:
            empty = np.zeros(self.n_words + 1, dtype=np.int64)
            return empty, np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64)
        return self.current

    def close(self) -> None:
        """Remove the spill directory and every run in it (also after an error or Ctrl-C)."""
        if self.tmp is not None:
            try:
                self.tmp.cleanup()
            except OSError as exc:  # pragma: no cover - e.g. the directory was made read-only
                logger.warning("could not remove the spill directory %s: %s", self.tmp.name, exc)
            self.tmp = None


SPILL_PREFIX = "cooc-runs-"
"""Prefix of a spill directory's name; the owner tag (:func:`cooc._stale.owner_tag`) follows."""


def _spill_error(exc: OSError, directory: Path, what: str) -> OSError:
    """``exc`` restated with the spill directory and how to choose another one."""
    reason = exc.strerror or str(exc)
    return OSError(
        exc.errno,
        f"cannot {what} {directory}: {reason}; free space there or spill elsewhere "
        f"(tmp_dir=... / --tmp-dir DIR)",
        str(directory),
    )


def _tree_sum(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The exact sum of CSR blocks with the same rows, added pairwise (each cell is copied about
    log2(len(parts)) times, not len(parts) times); ``parts`` is emptied as it goes."""
    queue_ = collections.deque(parts)
    parts.clear()
    while len(queue_) > 1:
        a, b = queue_.popleft(), queue_.popleft()
        queue_.append(_backend.csr_add(*a, *b))
        del a, b
    return queue_.pop()


def _npz_members(path: Path) -> dict[str, tuple[int, np.dtype[Any]]]:
    """Where the data of each array of an uncompressed ``.npz`` starts in the file, and its dtype."""
    out: dict[str, tuple[int, np.dtype[Any]]] = {}
    with zipfile.ZipFile(path) as z, open(path, "rb") as f:
        for info in z.infolist():
            if info.compress_type != zipfile.ZIP_STORED:  # pragma: no cover - np.savez stores
                raise OSError(f"{path}: member {info.filename} is compressed")
            f.seek(info.header_offset)
            head = f.read(30)   # the local file header; name and extra field lengths end it
            name_len, extra_len = struct.unpack("<HH", head[26:30])
            f.seek(info.header_offset + 30 + name_len + extra_len)
            version = np.lib.format.read_magic(f)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            _, fortran, dtype = read_header(f)
            assert not fortran
            out[info.filename.removesuffix(".npy")] = (f.tell(), np.dtype(dtype))
    return out


def _read_slice(f: Any, member: tuple[int, np.dtype[Any]], start: int, count: int) -> np.ndarray:
    """``count`` items from item ``start`` of an array whose data begins at ``member[0]`` in ``f``."""
    offset, dtype = member
    f.seek(offset + start * dtype.itemsize)
    out = np.fromfile(f, dtype=dtype, count=count)
    if out.size != count:  # pragma: no cover - a run cut short on disk
        raise OSError(f"{f.name}: spilled run is truncated")
    return out


def count_pairs(
    ids: np.ndarray,
    offsets: np.ndarray,
    n_words: int,
    window: int,
    *,
    n_jobs: int = 1,
    memory_limit: int | None = None,
    tmp_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact symmetric co-occurrence counts as CSR parts (int64 indptr, int32 indices, int64 data).

    The result does not depend on ``n_jobs`` or ``memory_limit``: partial counts are integers and
    their sums are exact.
    """
    max_pairs = max(1, memory_limit // BYTES_PER_PAIR) if memory_limit else 1 << 62
    max_pairs = min(max_pairs, (1 << 31) - 1)  # keeps every segment's per-cell counts far from overflow
    bounds = segment_bounds(offsets, window, max_pairs, 1)
    runs = _Runs(n_words, memory_limit, tmp_dir)

    def count(b: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # the kernel itself runs n_jobs threads on the segment
        lo, hi = offsets[b[0]], offsets[b[1]]
        indptr, indices, data = _backend.cooccurrence_csr(
            ids[lo:hi], offsets[b[0]: b[1] + 1] - lo, n_words, window, n_jobs
        )
        return indptr, indices, data

    if len(bounds) == 1:   # nothing to sum: no spill, whatever the budget
        part = count(bounds[0])
        if memory_limit:
            _trim_heap()
        if progress is not None:
            progress(int(offsets[-1] - offsets[0]))
        return part
    try:
        for b in bounds:
            runs.add(count(b))
            if progress is not None:
                progress(int(offsets[b[1]] - offsets[b[0]]))
        if len(bounds) > 1:
            logger.info("counted %d segments, %d spilled runs", len(bounds), runs.n_spilled)
        return runs.result()
    finally:
        runs.close()
        if memory_limit:
            _trim_heap()


def _trim_heap() -> None:
    """With a memory budget, give the heap memory freed by tokenizing, the segments and the merge back
    to the system before the next stages allocate (a lower peak for the whole pretrain; it costs
    about a tenth of a count's time, so runs without a budget skip it). glibc keeps
    freed blocks below its (growing) mmap threshold in the process, where the next stages would
    count on top of them; elsewhere this does nothing."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return
    trim(0)


@contextlib.contextmanager
def parked(matrix: sp.csr_matrix, tmp_dir: str | os.PathLike[str] | None = None) -> Any:
    """While the block runs, the arrays of the CSR ``matrix`` wait in a temporary file in ``tmp_dir``
    (memory-mapped in place, so the matrix stays usable but its pages are not resident); they come
    back into memory afterwards, whether the block succeeded or not. The file is unlinked at once: it
    disappears with the process whatever happens. Frees ``12 * nnz`` bytes of an int64 matrix of counts
    for a stage that does not read it (the SVD of its PPMI)."""
    names = ("data", "indices", "indptr")
    saved = {name: getattr(matrix, name) for name in names}
    with tempfile.TemporaryFile(dir=tmp_dir, prefix=f"cooc-park-{owner_tag()}-") as f:
        offset = 0
        for name in names:
            a = np.ascontiguousarray(saved[name])
            f.write(a.data)
            offset_next = offset + a.nbytes
            if a.size:
                f.flush()
                setattr(matrix, name, np.memmap(f, dtype=a.dtype, mode="r", offset=offset, shape=a.shape))
            offset = offset_next
        f.flush()
        del a
        saved.clear()   # the matrix's memory-mapped arrays are now the only ones
        _trim_heap()
        try:
            yield matrix
        finally:
            for name in names:
                setattr(matrix, name, np.array(getattr(matrix, name)))


# ------------------------------------------------------------------------------------------------
# building blocks for distributed counting (cooc.dask): the same steps, one partition at a time


def partition_word_counts(chunks: Iterable[str]) -> tuple[list[str], np.ndarray]:
    """Words of some chunks and how often each occurs (first-seen order), for a vocabulary pass."""
    table = _backend.new_word_table()
    for chunk in chunks:
        if not isinstance(chunk, str):
            raise TypeError(f"text chunks must be str, not {type(chunk).__name__}")
        table.encode(chunk)
    return table.words(), table.counts()


def partition_counts(
    chunks: Iterable[str], index: dict[str, int], window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Co-occurrence counts of some chunks under a fixed vocabulary (``word -> final id``).

    Words missing from ``index`` are dropped before windowing, as in :func:`cooc.pretrain`; the
    result is CSR parts of shape ``(len(index), len(index))``, exact int64 counts.
    """
    table = _backend.new_word_table()
    encoded = []
    for chunk in chunks:
        if not isinstance(chunk, str):
            raise TypeError(f"text chunks must be str, not {type(chunk).__name__}")
        encoded.append(table.encode(chunk))
    words = table.words()
    mapping = np.fromiter((index.get(w, -1) for w in words), dtype=np.int32, count=len(words))
    ids, offsets = remap_chunks(encoded, mapping)
    return count_pairs(ids, offsets, len(index), window)


# ------------------------------------------------------------------------------------------------
# the whole count of a text, and sums of counts over several vocabularies


def check_vocabulary(vocabulary: Any) -> frozenset[str] | None:
    """The ``vocabulary=`` option: None, or a non-empty collection of str (not a single str)."""
    if vocabulary is None:
        return None
    if isinstance(vocabulary, (str, bytes)):
        raise TypeError("vocabulary must be a collection of words, not a single str")
    try:
        words = frozenset(vocabulary)
    except TypeError:
        raise TypeError(f"vocabulary must be a collection of words, not {type(vocabulary).__name__}") from None
    for w in words:
        if not isinstance(w, str):
            raise TypeError(f"vocabulary must hold str, found {type(w).__name__}: {w!r}")
    if not words:
        raise ValueError("vocabulary is empty: give at least one word, or None for every word")
    return words


@dataclass
class CorpusCounts:
    """One text counted: its vocabulary (sorted, with frequencies), the exact counts (CSR, int64 data,
    sorted indices), and the kept token ids with their sentence offsets (for distance weights)."""

    vocab: Vocabulary
    counts: sp.csr_matrix
    ids: np.ndarray
    offsets: np.ndarray
    n_sentences: int
    n_tokens: int


def count_corpus(
    sentences: Any,
    window: int,
    stopwords: frozenset[str] | None,
    min_count: int,
    max_vocab_size: int | None,
    vocabulary: frozenset[str] | None,
    *,
    n_jobs: int = 1,
    memory_limit: int | None = None,
    tmp_dir: str | os.PathLike[str] | None = None,
    chunk_chars: int = 1 << 20,
    progress: Callable[[int], None] | None = None,
    tokenizer: Callable[[str], Any] | None = None,
) -> CorpusCounts:
    """Tokenize, choose the vocabulary (:func:`select_vocabulary`) and count: the counting half of
    :func:`cooc.pretrain` (also what :meth:`cooc.Embeddings.update` counts new text with). Options
    already checked.

    Text goes through the compiled tokenizer, unless a ``tokenizer`` is given or the input is already
    tokenized (an iterable of lists of str): then the token lists are encoded as they are. A line longer
    than :func:`cooc.corpus.max_line_chars_for` ``(memory_limit)`` is read in pieces."""
    limit = max_line_chars_for(memory_limit)
    pretokenized, sentences = is_pretokenized(sentences)
    if tokenizer is not None or pretokenized:
        enc = encode_token_lists(iter_token_lists(sentences, tokenizer, chunk_chars=chunk_chars,
                                                  max_line_chars=limit, progress=progress))
        tokens = TokenizedCorpus(words=enc.words, counts=enc.counts, chunks=enc.chunks,
                                 n_sentences=enc.n_sentences)
    else:
        if isinstance(sentences, LineCorpus):  # progress in bytes read, compressed or not
            chunks = sentences.iter_chunks(chunk_chars, progress=progress, max_line_chars=limit)
            progress = None
        else:
            chunks = iter_chunks(sentences, chunk_chars, limit)
        tokens = tokenize_chunks(chunks, n_jobs=n_jobs, progress=progress)
    vocab, ids, offsets = select_vocabulary(tokens, stopwords, min_count, max_vocab_size, vocabulary)
    n = len(vocab)
    logger.info("counting co-occurrences: %d tokens, V=%d", ids.size, n)
    indptr, indices, data = count_pairs(
        ids, offsets, n, window, n_jobs=n_jobs, memory_limit=memory_limit, tmp_dir=tmp_dir
    )
    counts = sp.csr_matrix((data, indices, indptr), shape=(n, n))
    counts.has_sorted_indices = True   # the counting kernels sort every row
    return CorpusCounts(vocab, counts, ids, offsets, tokens.n_sentences, tokens.n_tokens)


def _canonical(counts: Any) -> sp.csr_matrix:
    """``counts`` as CSR with int64 data, sorted indices and no duplicates (a copy when it must change)."""
    m: Any = sp.csr_matrix(counts)
    if m.dtype != np.int64:
        m = m.astype(np.int64)
    if not m.has_canonical_format:
        m = m.copy()
        m.sum_duplicates()
    return m  # type: ignore[no-any-return]


def _on_vocabulary(counts: sp.csr_matrix, mapping: np.ndarray, n: int) -> sp.csr_matrix:
    """The V x V ``counts`` moved onto a vocabulary of ``n`` words, word ``i`` becoming ``mapping[i]``.

    ``mapping`` increasing (both vocabularies sorted, the usual case): the rows keep their order, so
    the new matrix is the old arrays with a new ``indptr`` and re-numbered column indices, no sort.
    Otherwise the cells are re-sorted by scipy.
    """
    m = _canonical(counts)
    if mapping.size < 2 or bool(np.all(mapping[1:] > mapping[:-1])):
        row_nnz = np.zeros(n, dtype=np.int64)
        row_nnz[mapping] = np.diff(m.indptr)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(row_nnz, out=indptr[1:])
        index_dtype = np.int32 if n < 2**31 else np.int64
        out = sp.csr_matrix((m.data, mapping[m.indices].astype(index_dtype), indptr), shape=(n, n))
        out.has_sorted_indices = True
        return out
    coo = m.tocoo()
    out = sp.csr_matrix((coo.data, (mapping[coo.row], mapping[coo.col])), shape=(n, n))
    out.sum_duplicates()
    return _canonical(out)


def sum_on_union(
    parts: list[tuple[list[str], Any, np.ndarray | None]],
) -> tuple[list[str], sp.csr_matrix, np.ndarray | None]:
    """Sum counted texts ``(words, counts, frequencies)`` on the union of their vocabularies.

    The union is sorted (as :func:`cooc.pretrain` sorts a vocabulary); each matrix is moved onto it by
    index re-mapping and the matrices are added exactly (int64). A word missing from a part has no
    counts there. Peak memory: the running sum, one re-mapped part and their sum.

    Returns
    -------
    words : list of str
    counts : CSR matrix of int64, shape (V, V), sorted indices
    frequencies : int64 array, shape (V,), or None when a part has none
    """
    union = sorted(set().union(*(p[0] for p in parts)))
    index = {w: i for i, w in enumerate(union)}
    n = len(union)
    total: Any = None
    freq: np.ndarray | None = np.zeros(n, dtype=np.int64)
    for words, counts, frequencies in parts:
        mapping = np.fromiter((index[w] for w in words), dtype=np.int64, count=len(words))
        moved = _on_vocabulary(counts, mapping, n)
        total = moved if total is None else total + moved
        if freq is not None and frequencies is not None:
            freq[mapping] += np.asarray(frequencies, dtype=np.int64)  # words are distinct in a part
        else:
            freq = None
    total = _canonical(total)
    total.sort_indices()
    return union, total, freq


def take_words(counts: Any, keep: np.ndarray) -> sp.csr_matrix:
    """The rows and columns ``keep`` (sorted ids) of a V x V matrix of counts, as int64 CSR."""
    m = _canonical(counts)
    out: Any = m[keep][:, keep]
    out = _canonical(out)
    out.sort_indices()
    return out  # type: ignore[no-any-return]
