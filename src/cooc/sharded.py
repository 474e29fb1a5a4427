"""Sharded models: a model kept in row blocks on disk (or in object storage), written block by block
by any number of processes and read back memory-mapped, so that no process holds the whole matrix.

A sharded model is a directory (or a URL that fsspec writes: ``s3://``, ``gs://``, ``memory://``,
``file://``)::

    cooc-model.json          the metadata, written LAST: its presence marks a complete model
    vocab.npz                the vocabulary (UTF-8 bytes and offsets) and the frequencies
    counts/00000.indptr.npy  per row block b and per matrix ("counts", sparse "vectors"):
    counts/00000.indices.npy     the block's rows lo..hi as CSR, in three plain .npy files
    counts/00000.data.npy        (indptr int64 from 0, indices int32, data int64 / float64)
    vectors/00000.data.npy   (vectors with the counts' structure store only their values;
    vectors/00000.indptr.npy  others all three arrays)
    vectors.npy              dense vectors instead (float32 or float64, shape (V, dim))

The metadata (JSON) holds the format name and version, the vocabulary size, per matrix its shape, its
row blocks as ``[lo, hi, nnz]`` (contiguous from 0 to V) and, for sparse vectors, whether they share
the counts' ``indptr`` and ``indices`` (``"structure": "counts"``, the count weighting's L2-normalized
rows) or have their own (``"own"``); which members exist, the recipe,
window, stopwords, other attributes and ``written_by``.

Writing (:class:`ShardWriter`): a local model is written into a temporary sibling directory
(``.cooc-tmp-<pid>@<host>-*``, removed by a later write if its process died) and renamed onto the
target only once complete, so nothing half-written is ever found under the target name; an error or
Ctrl-C removes the temporary directory, and an existing model at the target is replaced only after
success. Any process can write blocks with :func:`write_block` (a plain, picklable function: Dask
workers call it). On a URL there is no rename: the files are written in place and the metadata, written
last, marks the model complete (an existing model there stops being one when writing starts).

Reading (:func:`read_sharded`, which :func:`cooc.load` calls for a directory or URL): the counts and
sparse vectors come back as :class:`ShardedCSR`, a row-blocked matrix whose blocks are memory-mapped
(local files) or read on demand (URLs); dense vectors are one memory-mapped array. Every block is
checked before it is used (dtypes, shapes, contiguous rows, column indices in range, then its values
as :func:`cooc.io.read_model` checks them), and a problem is a :class:`cooc.io.ModelFileError` naming
the file.

Memory: a query of sparse vectors reads the blocks one after the other (the operating system keeps the
pages it has room for) and holds one block's scores, ``8 * rows_of_block * queries`` bytes, plus the
row norms of the blocks seen (8 bytes per word). Dense vectors are memory-mapped too, but the first
neighbour query builds :class:`cooc.dense.DenseIndex`, a unit-row copy of the whole V x dim array in
its dtype (float32 after an SVD): dense models must fit in memory once.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from . import _backend
from ._stale import owner_tag, remove_stale
from ._validate import is_sparse
from .io import (
    TEMP_PREFIX,
    ModelData,
    ModelFileError,
    _counts_problem,
    _cooc_version,
    _fsync_directory,
    _json_attribute,
    _vector_problem,
)

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "META_NAME",
    "ShardWriter",
    "ShardedCSR",
    "is_sharded",
    "read_sharded",
    "save_sharded",
    "topk_rows",
    "write_block",
]

logger = logging.getLogger(__name__)

FORMAT_NAME = "cooc-sharded"
FORMAT_VERSION = 1
META_NAME = "cooc-model.json"
VOCAB_NAME = "vocab.npz"
DENSE_NAME = "vectors.npy"
MATRICES = ("counts", "vectors")
_DATA_DTYPES = {"counts": np.dtype(np.int64), "vectors": np.dtype(np.float64)}
_PARTS = ("indptr", "indices", "data")
_META_MAX_BYTES = 64 * 1024 * 1024
#: Scores held at once by a query of sparse vectors (rows of a block x queries), in values.
SCORE_VALUES = 1 << 23


# -- where the files live ------------------------------------------------------------------------


def _is_url(path: Any) -> bool:
    return isinstance(path, str) and "://" in path


def is_sharded(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a sharded model rather than a ``.npz`` file: a URL, or a directory that
    holds the metadata file or any other part of a sharded model (a plain directory is not one)."""
    if _is_url(path):
        return True
    p = Path(os.fspath(path))
    return p.is_dir() and any((p / name).exists() for name in (META_NAME, VOCAB_NAME, DENSE_NAME, *MATRICES))


class _Store:
    """Files under one root: a local directory (memory-mapped reads) or an fsspec URL."""

    def __init__(self, root: str | os.PathLike[str], storage_options: dict[str, Any] | None = None) -> None:
        self.fs: Any = None
        if _is_url(root):
            try:
                import fsspec
            except ImportError as exc:  # pragma: no cover - fsspec comes with the dask extra
                raise ImportError(f"a URL needs fsspec, which is not installed ({exc}); "
                                  "pip install 'cooc[dask]' or fsspec") from exc
            self.fs, self.root = fsspec.core.url_to_fs(str(root), **(storage_options or {}))
            self.root = str(self.root).rstrip("/")
            self.label = str(root).rstrip("/")
        else:
            self.root = os.fspath(root)
            self.label = self.root

    @property
    def local(self) -> bool:
        return self.fs is None

    def path(self, rel: str) -> str:
        return f"{self.root}/{rel}" if self.fs is not None else os.path.join(self.root, rel)

    def shown(self, rel: str) -> Path:
        """The name of a file in an error message."""
        return Path(f"{self.label}/{rel}")

    def exists(self, rel: str) -> bool:
        return bool(self.fs.exists(self.path(rel))) if self.fs is not None else os.path.exists(self.path(rel))

    def write(self, rel: str, write: Any) -> None:
        """Call ``write(fh)`` on a new file ``rel`` (its directory made as needed), synced to disk."""
        p = self.path(rel)
        if self.fs is not None:
            with self.fs.open(p, "wb") as fh:
                write(fh)
            return
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())

    def read_bytes(self, rel: str, limit: int) -> bytes:
        try:
            if self.fs is not None:
                with self.fs.open(self.path(rel), "rb") as fh:
                    raw: bytes = fh.read(limit + 1)
            else:
                with open(self.path(rel), "rb") as fh:
                    raw = fh.read(limit + 1)
        except FileNotFoundError:
            raise ModelFileError(self.shown(rel), "missing: the sharded model is incomplete") from None
        if len(raw) > limit:
            raise ModelFileError(self.shown(rel), f"larger than the {limit} bytes allowed")
        return raw

    def array(self, rel: str) -> np.ndarray:
        """A ``.npy`` file: memory-mapped when local, read whole otherwise; never unpickled."""
        try:
            if self.fs is not None:
                with self.fs.open(self.path(rel), "rb") as fh:
                    a = np.load(fh, allow_pickle=False)
            else:
                a = np.load(self.path(rel), mmap_mode="r", allow_pickle=False)
        except FileNotFoundError:
            raise ModelFileError(self.shown(rel), "missing: the sharded model is incomplete") from None
        except (ValueError, OSError, EOFError, SyntaxError) as exc:
            raise ModelFileError(self.shown(rel), f"corrupt or truncated .npy file ({type(exc).__name__}: {exc})") from None
        if not isinstance(a, np.ndarray):
            raise ModelFileError(self.shown(rel), "not a single .npy array")
        return a

    def remove(self) -> None:
        """Remove the root and everything under it (best effort)."""
        try:
            if self.fs is not None:
                if self.fs.exists(self.root):
                    self.fs.rm(self.root, recursive=True)
            else:
                shutil.rmtree(self.root)
        except (OSError, FileNotFoundError) as exc:
            logger.warning("could not remove %s: %s", self.label, exc)


def _block_name(matrix: str, block: int, part: str) -> str:
    return f"{matrix}/{block:05d}.{part}.npy"


# -- writing -------------------------------------------------------------------------------------


def _npy_writer(a: np.ndarray) -> Any:
    def write(fh: Any) -> None:
        np.save(fh, np.ascontiguousarray(a), allow_pickle=False)
    return write


def write_block(
    where: str | os.PathLike[str],
    matrix_name: str,
    block_index: int,
    lo: int,
    hi: int,
    csr: Any,
    *,
    storage_options: dict[str, Any] | None = None,
    shares_counts: bool = False,
) -> dict[str, Any]:
    """Write rows ``lo..hi`` of a matrix as row block ``block_index`` of a sharded model being written.

    A plain function of picklable arguments: any process (a Dask worker) can call it with the
    :attr:`ShardWriter.where` of a writer; the writer's :meth:`ShardWriter.commit` takes the records.

    Parameters
    ----------
    where : str or path-like
        :attr:`ShardWriter.where`: the temporary directory (local) or the URL being written.
    matrix_name : {"counts", "vectors"}
    block_index : int
        The block's number, from 0.
    lo, hi : int
        The block's rows of the whole matrix, ``0 <= lo <= hi``.
    csr : scipy.sparse matrix, shape (hi - lo, n_cols)
        Integer counts (stored as int64, non-negative) or float vectors (stored as float64, finite).
    storage_options : dict, optional
        For fsspec, with a URL.
    shares_counts : bool, default False
        For vectors made from the counts of the same block with their structure (L2-normalized rows):
        only their values are written; their ``indptr`` and ``indices`` are the counts' (checked when
        the block is read).

    Returns
    -------
    dict
        The block's record: ``{"matrix", "block", "lo", "hi", "nnz", "n_cols", "shares_counts"}``.

    Raises
    ------
    ValueError, TypeError
        A bad name, bounds that do not match the rows, or values that a model cannot hold.
    """
    if matrix_name not in MATRICES:
        raise ValueError(f"matrix_name must be one of {MATRICES}, got {matrix_name!r}")
    for name, value in (("block_index", block_index), ("lo", lo), ("hi", hi)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if hi < lo:
        raise ValueError(f"hi ({hi}) must not be below lo ({lo})")
    if not is_sparse(csr):
        raise TypeError(f"csr must be a scipy.sparse matrix, not {type(csr).__name__}")
    m = sp.csr_matrix(csr)
    if m.shape[0] != hi - lo:
        raise ValueError(f"csr has {m.shape[0]} rows but the block holds rows {lo}..{hi} ({hi - lo} rows)")
    n_cols = int(m.shape[1])
    if n_cols > np.iinfo(np.int32).max:
        raise ValueError(f"csr has {n_cols} columns; int32 column indices hold at most 2**31 - 1")
    if not m.has_canonical_format:
        m = m.copy()
        m.sum_duplicates()
    indptr = m.indptr.astype(np.int64)
    indices = m.indices.astype(np.int32)
    if matrix_name == "counts":
        if m.dtype.kind not in "iub":
            raise ValueError(f"counts must hold integers, not {m.dtype}")
        data = m.data.astype(np.int64)
        problem = _counts_problem(indptr, indices, data)
    else:
        if m.dtype.kind not in "iuf":
            raise ValueError(f"vectors must hold real numbers, not {m.dtype}")
        data = m.data.astype(np.float64)
        problem = _vector_problem((indptr, indices, data))
    if problem:
        raise ValueError(f"{matrix_name} block {block_index} (rows {lo}..{hi}) cannot be saved: {problem}")
    if shares_counts and matrix_name != "vectors":
        raise ValueError("shares_counts is for vectors only")
    store = _Store(where, storage_options)
    parts: tuple[np.ndarray, ...] = (indptr, indices, data)
    for part, a in zip(_PARTS, parts):
        if part == "data" or not shares_counts:
            store.write(_block_name(matrix_name, int(block_index), part), _npy_writer(a))
    return {"matrix": matrix_name, "block": int(block_index), "lo": int(lo), "hi": int(hi),
            "nnz": int(data.size), "n_cols": n_cols, "shares_counts": bool(shares_counts)}


class ShardWriter:
    """Writes a sharded model: blocks from any process (:func:`write_block`), then :meth:`commit`.

    Use it as a context manager (or call :meth:`abort`): leaving it by an exception before
    :meth:`commit` removes what was written.

    Parameters
    ----------
    path : str or path-like
        The model's directory, or a URL. A local directory must not exist, be empty, or hold a sharded
        model (replaced after success); its parent must exist.
    n_words : int
        The vocabulary size V: the blocks of every matrix must cover rows 0..V.
    storage_options : dict, optional
        For fsspec, with a URL.

    Attributes
    ----------
    where : str
        What to pass to :func:`write_block`: the temporary directory, or the URL.

    Examples
    --------
    >>> import os, tempfile, scipy.sparse as sp
    >>> from cooc.sharded import ShardWriter, write_block, read_sharded
    >>> counts = sp.csr_matrix([[0, 2], [2, 0]])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with ShardWriter(os.path.join(d, "m"), 2) as w:
    ...         recs = [write_block(w.where, "counts", b, b, b + 1, counts[b:b + 1]) for b in range(2)]
    ...         recs += [write_block(w.where, "vectors", 0, 0, 2, counts.astype(float))]
    ...         p = w.commit(recs, ["a", "b"])
    ...     read_sharded(p).counts.tocsr().toarray().tolist()
    [[0, 2], [2, 0]]
    """

    def __init__(self, path: str | os.PathLike[str], n_words: int, *,
                 storage_options: dict[str, Any] | None = None) -> None:
        if isinstance(n_words, bool) or not isinstance(n_words, (int, np.integer)) or n_words < 0:
            raise ValueError(f"n_words must be a non-negative integer, got {n_words!r}")
        self.n_words = int(n_words)
        self.storage_options = storage_options
        self.done = False
        self.dense: dict[str, Any] | None = None
        if _is_url(path):
            self.target: Any = str(path).rstrip("/")
            store = _Store(self.target, storage_options)
            if store.fs.exists(store.root):
                listed = {p.rstrip("/").rsplit("/", 1)[-1] for p in store.fs.ls(store.root, detail=False)}
                if listed - {META_NAME, VOCAB_NAME, DENSE_NAME, *MATRICES}:
                    raise FileExistsError(f"{self.target} exists and is not a cooc sharded model; "
                                          "refusing to write into it")
                if store.exists(META_NAME):  # no longer a complete model from here on
                    store.fs.rm(store.path(META_NAME))
            self.where = self.target
            self._store = store
            return
        target = Path(os.fspath(path))
        _check_replaceable(target)
        if not target.parent.is_dir():
            raise FileNotFoundError(f"the directory to write into does not exist: {target.parent}")
        remove_stale(target.parent, TEMP_PREFIX)
        self.target = target
        self.where = tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{owner_tag()}-", suffix=".tmp", dir=target.parent)
        self._store = _Store(self.where)

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        if not self.done:
            self.abort()

    def write_block(self, matrix_name: str, block_index: int, lo: int, hi: int, csr: Any) -> dict[str, Any]:
        """:func:`write_block` into this writer."""
        return write_block(self.where, matrix_name, block_index, lo, hi, csr,
                           storage_options=self.storage_options)

    def write_dense(self, vectors: Any) -> dict[str, Any]:
        """Write dense vectors (float32 kept, anything else as float64), shape (V, dim); their record."""
        d = np.asarray(vectors)
        d = np.asarray(d, dtype=d.dtype if d.dtype in (np.float32, np.float64) else np.float64)
        if d.ndim != 2 or d.shape[0] != self.n_words:
            raise ValueError(f"dense vectors must have shape ({self.n_words}, dim), got {d.shape}")
        problem = _vector_problem(d)
        if problem:
            raise ValueError(f"vectors cannot be saved: {problem}")
        self._store.write(DENSE_NAME, _npy_writer(d))
        self.dense = {"matrix": "vectors", "layout": "dense", "shape": [int(d.shape[0]), int(d.shape[1])],
                      "dtype": d.dtype.name}
        return self.dense

    def abort(self) -> None:
        """Remove what was written (the temporary directory, or the files under the URL)."""
        self.done = True
        self._store.remove()

    def commit(
        self,
        records: Sequence[dict[str, Any]],
        words: Sequence[str],
        frequencies: Any = None,
        *,
        window: int | None = None,
        stopwords: Any = None,
        attributes: dict[str, Any] | None = None,
        recipe: dict[str, Any] | None = None,
    ) -> str | Path:
        """Check that every block is there, write the vocabulary and the metadata (last), and put the
        model in place. On any error the written files are removed.

        Returns
        -------
        pathlib.Path or str
            The model's path (a ``str`` for a URL).

        Raises
        ------
        ValueError
            A matrix whose blocks are missing, repeated or not contiguous from row 0 to V, no vectors,
            or settings a model cannot hold.
        """
        if self.done:
            raise ValueError("this writer has already committed or been aborted")
        try:
            meta = self._metadata(records, words, frequencies, window, stopwords, attributes, recipe)
            text = json.dumps(meta, ensure_ascii=True, allow_nan=False, separators=(",", ":"), sort_keys=True)
            self._store.write(META_NAME, lambda fh: fh.write(text.encode("ascii")))
            if self._store.local:
                _fsync_directory(Path(self.where))
                _replace_directory(Path(self.where), self.target)
        except BaseException:
            self.abort()
            raise
        self.done = True
        logger.info("wrote a sharded model of %d words to %s", self.n_words, self.target)
        return self.target if isinstance(self.target, Path) else str(self.target)

    def _metadata(self, records: Sequence[dict[str, Any]], words: Sequence[str], frequencies: Any,
                  window: int | None, stopwords: Any, attributes: dict[str, Any] | None,
                  recipe: dict[str, Any] | None) -> dict[str, Any]:
        n = self.n_words
        words = list(words)
        if len(words) != n:
            raise ValueError(f"words has {len(words)} entries for a model of {n} words")
        matrices: dict[str, Any] = {}
        for name in MATRICES:
            mine = sorted((r for r in records if r.get("matrix") == name), key=lambda r: int(r["block"]))
            if not mine:
                continue
            blocks = []
            at = 0
            n_cols = {int(r["n_cols"]) for r in mine}
            if len(n_cols) != 1:
                raise ValueError(f"the {name} blocks have different numbers of columns: {sorted(n_cols)}")
            for b, r in enumerate(mine):
                if int(r["block"]) != b:
                    raise ValueError(f"{name}: block {b} is missing or repeated (found block {r['block']})")
                if int(r["lo"]) != at:
                    raise ValueError(f"{name}: block {b} starts at row {r['lo']}, expected {at} (blocks "
                                     "must be contiguous)")
                blocks.append([int(r["lo"]), int(r["hi"]), int(r["nnz"])])
                at = int(r["hi"])
            if at != n:
                raise ValueError(f"{name}: the blocks end at row {at}, expected {n} (the vocabulary size)")
            shares = {bool(r.get("shares_counts", False)) for r in mine}
            if len(shares) != 1:
                raise ValueError(f"{name}: some blocks share the structure of the counts and some do not")
            matrices[name] = {"layout": "csr", "shape": [n, n_cols.pop()], "blocks": blocks,
                              "structure": "counts" if shares.pop() else "own"}
        if "vectors" in matrices and self.dense is not None:
            raise ValueError("both sparse and dense vectors were written")
        if self.dense is not None:
            matrices["vectors"] = {"layout": "dense", "shape": self.dense["shape"], "dtype": self.dense["dtype"]}
        if "vectors" not in matrices:
            raise ValueError("no vectors were written (write_block(..., 'vectors', ...) or write_dense)")
        vec = matrices["vectors"]
        if vec.get("structure") == "counts" and (
                "counts" not in matrices or vec["shape"] != matrices["counts"]["shape"]
                or vec["blocks"] != matrices["counts"]["blocks"]):
            raise ValueError("the vectors share the structure of the counts, but their blocks differ")
        if "counts" in matrices and matrices["counts"]["shape"] != [n, n]:
            raise ValueError(f"counts have shape {matrices['counts']['shape']}, expected [{n}, {n}]")
        freq = _write_vocab(self._store, words, frequencies)
        if window is not None:
            if isinstance(window, (bool, np.bool_)) or not isinstance(window, (int, np.integer)):
                raise ValueError(f"window must be an integer or None to be saved, got {window!r}")
            window = int(window)
        stop = None
        if stopwords is not None:
            stop = sorted(stopwords)
            if not all(isinstance(s, str) for s in stop):
                raise TypeError("stopwords must be str")
        attrs: dict[str, Any] = {}
        for name, value in sorted((attributes or {}).items()):
            plain = _json_attribute(name, value)
            if plain is not None or value is None:
                attrs[name] = plain
        meta: dict[str, Any] = {
            "format": FORMAT_NAME, "version": FORMAT_VERSION, "vocab_size": n, "matrices": matrices,
            "members": sorted([*matrices, "vocabulary"] + (["frequencies"] if freq else [])),
            "frequencies": freq, "window": window, "stopwords": stop, "attributes": attrs,
            "written_by": f"cooc {_cooc_version()}",
        }
        if recipe is not None:
            plain_recipe = _json_attribute("recipe", recipe)
            if not isinstance(plain_recipe, dict):
                raise ValueError(f"recipe must be a JSON object to be saved, got {recipe!r}")
            meta["recipe"] = plain_recipe
        return meta


def _write_vocab(store: _Store, words: list[str], frequencies: Any) -> bool:
    encoded = []
    for i, w in enumerate(words):
        if not isinstance(w, str):
            raise TypeError(f"word {i} must be a str, not {type(w).__name__}")
        encoded.append(w.encode("utf-8", "surrogatepass"))
    if len(set(words)) != len(words):
        raise ValueError("the words must be distinct")
    offsets = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(words)), out=offsets[1:])
    arrays: dict[str, Any] = {"vocab_offsets": offsets, "vocab_utf8": np.frombuffer(b"".join(encoded), dtype=np.uint8)}
    if frequencies is not None:
        f = np.asarray(frequencies)
        if f.dtype.kind not in "iub" or f.shape != (len(words),):
            raise ValueError(f"frequencies must be {len(words)} integers, got {f.dtype} of shape {f.shape}")
        if f.size and int(f.min()) < 0:
            raise ValueError("frequencies must be non-negative")
        arrays["frequencies"] = f.astype(np.int64)
    store.write(VOCAB_NAME, lambda fh: np.savez(fh, **arrays))
    return frequencies is not None


def _is_model_dir(path: Path) -> bool:
    return (path / META_NAME).is_file()


def _check_replaceable(target: Path) -> None:
    if target.is_symlink() or target.is_file():
        raise FileExistsError(f"{target} exists and is not a directory; a sharded model is a directory "
                              "(remove the file, or choose another name)")
    if target.is_dir() and any(target.iterdir()) and not _is_model_dir(target):
        raise FileExistsError(f"{target} is a directory that does not hold a cooc sharded model; refusing "
                              "to replace it")


def _replace_directory(tmp: Path, target: Path) -> None:
    """Put the complete directory ``tmp`` at ``target``; a model already there is removed only after."""
    _check_replaceable(target)
    old: Path | None = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{owner_tag()}-", suffix=".old", dir=target.parent))
        os.replace(target, old / "model")
    try:
        os.replace(tmp, target)
    except BaseException:
        if old is not None:
            os.replace(old / "model", target)
            shutil.rmtree(old, ignore_errors=True)
        raise
    _fsync_directory(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _blocks_by_nnz(indptr: np.ndarray, n_blocks: int) -> list[tuple[int, int]]:
    """``n_blocks`` ranges of rows with about equal non-zeros (some may be empty ranges)."""
    n = int(indptr.size - 1)
    n_blocks = max(1, min(int(n_blocks), max(n, 1)))
    targets = np.asarray(indptr[-1], dtype=np.float64) * np.arange(1, n_blocks) / n_blocks
    cuts = np.searchsorted(indptr, targets, side="left").clip(0, n)
    bounds = np.concatenate([[0], np.maximum.accumulate(cuts), [n]]).astype(np.int64)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


def save_sharded(path: str | os.PathLike[str], model: ModelData, shards: int, *,
                 storage_options: dict[str, Any] | None = None) -> str | Path:
    """Write ``model`` as a sharded model of ``shards`` row blocks of about equal non-zeros.

    Matrices already sharded (:class:`ShardedCSR`) are written with their own blocks, one at a time.
    Returns the path (a ``str`` for a URL).
    """
    if isinstance(shards, bool) or not isinstance(shards, (int, np.integer)) or shards < 1:
        raise ValueError(f"shards must be a positive integer, got {shards!r}")
    n = len(model.words)
    with ShardWriter(path, n, storage_options=storage_options) as w:
        records: list[dict[str, Any]] = []
        counts = model.counts
        if isinstance(counts, ShardedCSR):
            bounds = counts.bounds
            records += [w.write_block("counts", b, lo, hi, counts.block(b)) for b, (lo, hi) in enumerate(bounds)]
        elif counts is not None:
            counts = sp.csr_matrix(counts)
            if not counts.has_canonical_format:
                counts = counts.copy()
                counts.sum_duplicates()
            bounds = _blocks_by_nnz(counts.indptr, shards)
            records += [w.write_block("counts", b, lo, hi, counts[lo:hi]) for b, (lo, hi) in enumerate(bounds)]
        vectors = model.vectors
        if isinstance(vectors, ShardedCSR):
            shared = vectors._structure == "counts" and isinstance(counts, ShardedCSR)
            records += [write_block(w.where, "vectors", b, lo, hi, vectors.block(b), shares_counts=shared,
                                    storage_options=w.storage_options)
                        for b, (lo, hi) in enumerate(vectors.bounds)]
        elif is_sparse(vectors):
            v = sp.csr_matrix(vectors)
            shares = counts is not None and not isinstance(counts, ShardedCSR) and v.shape == counts.shape \
                and v.has_canonical_format and np.array_equal(v.indptr, counts.indptr) \
                and np.array_equal(v.indices, counts.indices)
            vb = bounds if shares else _blocks_by_nnz(v.indptr, shards)
            records += [write_block(w.where, "vectors", b, lo, hi, v[lo:hi], shares_counts=shares,
                                    storage_options=w.storage_options) for b, (lo, hi) in enumerate(vb)]
        else:
            w.write_dense(vectors)
        return w.commit(records, model.words, model.frequencies, window=model.window,
                        stopwords=model.stopwords, attributes=model.attributes, recipe=model.recipe)


# -- reading -------------------------------------------------------------------------------------


class ShardedCSR:
    """A CSR matrix kept in row blocks: memory-mapped files (local) or files read on demand (URL).

    Only what a block-by-block pass can answer: :meth:`block`, :meth:`getrow`, :meth:`sum`, ``@`` with
    a dense array or a scipy matrix, :meth:`tocsr` (the whole matrix in memory). ``np.asarray`` of it
    raises :class:`TypeError` rather than building an object array.

    Attributes
    ----------
    shape : (int, int)
    dtype : numpy dtype
        int64 (counts) or float64 (vectors).
    nnz : int
    bounds : list of (int, int)
        The rows ``[lo, hi)`` of each block.
    """

    __array_priority__ = 100.0   # ndarray @ ShardedCSR defers to __rmatmul__

    def __init__(self, store: _Store, name: str, shape: tuple[int, int],
                 blocks: Sequence[tuple[int, int, int]], structure: str = "own") -> None:
        self._store = store
        self.name = name
        self._structure = name if structure == "own" else structure   # whose indptr and indices
        self.shape = (int(shape[0]), int(shape[1]))
        self.dtype = _DATA_DTYPES[name]
        self.bounds = [(int(lo), int(hi)) for lo, hi, _ in blocks]
        self._nnz = [int(k) for _, _, k in blocks]
        self._starts = np.array([lo for lo, _ in self.bounds] + [self.shape[0]], dtype=np.int64)
        self._cache: dict[int, sp.csr_matrix] = {}
        self._norms: dict[int, np.ndarray] = {}

    ndim = 2

    @property
    def nnz(self) -> int:
        return sum(self._nnz)

    @property
    def n_blocks(self) -> int:
        return len(self.bounds)

    def __repr__(self) -> str:
        return (f"<ShardedCSR {self.name}: shape {self.shape}, {self.nnz} non-zeros of {self.dtype} in "
                f"{self.n_blocks} row blocks at {self._store.label}>")

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise TypeError(f"the {self.name} of a sharded model are kept in row blocks on disk; use .block(i), "
                        ".tocsr() (the whole matrix in memory) or cooc.load(path, in_memory=True)")

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the opened blocks (a pickle names the files; blocks reopen on first use)."""
        state = self.__dict__.copy()
        state.update(_cache={}, _norms={})
        return state

    def __getitem__(self, key: Any) -> Any:
        raise TypeError(f"the {self.name} of a sharded model are not indexed like an array; use .row(i) or "
                        ".getrow(i) (one row), .block(i), or cooc.load(path, in_memory=True) to use the model "
                        "where an in-memory one is expected (classify, vectorize, finetune, analyze)")

    def block(self, i: int) -> sp.csr_matrix:
        """Row block ``i`` as a scipy CSR matrix of shape (hi - lo, n_cols), checked on first use
        (memory-mapped arrays for local files)."""
        if not 0 <= i < self.n_blocks:
            raise IndexError(f"block {i} out of range: the matrix has {self.n_blocks} blocks")
        m = self._cache.get(i)
        if m is None:
            m = self._read_block(i)
            if self._store.local:
                self._cache[i] = m
        return m

    def blocks(self) -> Iterator[tuple[int, int, sp.csr_matrix]]:
        """``(lo, hi, block)`` for every block in row order."""
        for i, (lo, hi) in enumerate(self.bounds):
            yield lo, hi, self.block(i)

    def _read_block(self, i: int) -> sp.csr_matrix:
        lo, hi = self.bounds[i]
        nnz, n_cols = self._nnz[i], self.shape[1]
        names = [_block_name(self._structure if part != "data" else self.name, i, part) for part in _PARTS]
        arrays = []
        dtypes: tuple[np.dtype[Any], ...] = (np.dtype(np.int64), np.dtype(np.int32), self.dtype)
        for rel, dtype, length in zip(names, dtypes, (hi - lo + 1, nnz, nnz)):
            a = self._store.array(rel)
            if a.dtype.newbyteorder("=") != dtype.newbyteorder("=") or a.shape != (length,):
                raise ModelFileError(self._store.shown(rel), f"holds {a.dtype} of shape {a.shape}; expected "
                                     f"{dtype} of shape ({length},) for rows {lo}..{hi} with {nnz} non-zeros")
            arrays.append(a if a.dtype.isnative else a.astype(dtype))
        indptr, indices, data = arrays
        if indptr[0] != 0 or indptr[-1] != nnz or (hi > lo and not bool(np.all(indptr[1:] >= indptr[:-1]))):
            raise ModelFileError(self._store.shown(names[0]), f"does not cut {nnz} non-zeros into {hi - lo} "
                                 "rows (it must start at 0, not decrease and end at the block's nnz)")
        if nnz and (int(indices.min()) < 0 or int(indices.max()) >= n_cols):
            raise ModelFileError(self._store.shown(names[1]), f"holds column indices outside [0, {n_cols})")
        if self.name == "counts":
            problem = _counts_problem(indptr, indices, data)
        else:
            problem = _vector_problem((indptr, indices, data))
        if problem:
            bad = names[2] if "column" not in problem else names[1]
            raise ModelFileError(self._store.shown(bad), f"{problem} (counting from row {lo} of the model)")
        return sp.csr_matrix((data, indices, indptr), shape=(hi - lo, n_cols), copy=False)

    def _block_of(self, row: int) -> int:
        if not 0 <= row < self.shape[0]:
            raise IndexError(f"row {row} out of range for {self.shape[0]} rows")
        return int(np.searchsorted(self._starts, row, side="right") - 1)

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Row ``i``: its column indices (int32) and values, sorted by column."""
        b = self._block_of(int(i))
        m = self.block(b)
        r = int(i) - self.bounds[b][0]
        a, z = int(m.indptr[r]), int(m.indptr[r + 1])
        return m.indices[a:z], m.data[a:z]

    def getrow(self, i: int) -> sp.csr_matrix:
        """Row ``i`` as a 1 x n_cols CSR matrix (a copy)."""
        ind, val = self.row(i)
        return sp.csr_matrix((np.array(val), np.array(ind), np.array([0, ind.size])), shape=(1, self.shape[1]))

    def row_norms(self, i: int) -> np.ndarray:
        """The Euclidean norms of block ``i``'s rows (float64, summed in column order), cached."""
        norms = self._norms.get(i)
        if norms is None:
            m = self.block(i)
            norms = _backend.row_norms(m.indptr.astype(np.int64), m.data.astype(np.float64, copy=False))
            self._norms[i] = norms
        return norms

    def sum(self, axis: int | None = None) -> Any:
        """The sum of all values (a number), of each column (``axis=0``) or of each row (``axis=1``), as
        1-D arrays of the matrix's dtype."""
        if axis is None:
            return sum(m.data.sum() for _, _, m in self.blocks())
        if axis in (1, -1):
            return np.concatenate([np.asarray(m.sum(axis=1)).ravel() for _, _, m in self.blocks()]) \
                if self.n_blocks else np.zeros(0, dtype=self.dtype)
        if axis in (0, -2):
            out = np.zeros(self.shape[1], dtype=self.dtype)
            for _, _, m in self.blocks():
                np.add.at(out, m.indices, m.data)
            return out
        raise ValueError(f"axis must be None, 0 or 1, got {axis!r}")

    def tocsr(self, *, max_bytes: int | None = None) -> sp.csr_matrix:
        """The whole matrix in memory: 12 bytes per non-zero (an int32 column and an int64 count or
        float64 value) plus 8 per row. With ``max_bytes``, a :class:`ValueError` instead when it would
        need more; without it, a matrix larger than memory fails as NumPy does (``MemoryError``)."""
        need = self.nnz * (4 + self.dtype.itemsize) + 8 * (self.shape[0] + 1)
        if max_bytes is not None and need > max_bytes:
            raise ValueError(f"the whole {self.name} matrix needs {need:,} bytes, above max_bytes={max_bytes:,}")
        indptr = np.zeros(self.shape[0] + 1, dtype=np.int64)
        indices = np.empty(self.nnz, dtype=np.int32)
        data = np.empty(self.nnz, dtype=self.dtype)
        at = 0
        for lo, hi, m in self.blocks():
            k = m.nnz
            indptr[lo + 1:hi + 1] = m.indptr[1:].astype(np.int64) + at
            indices[at:at + k] = m.indices
            data[at:at + k] = m.data
            at += k
        return sp.csr_matrix((data, indices, indptr), shape=self.shape)

    def __matmul__(self, other: Any) -> Any:
        """``self @ other`` block by block (a dense array or a scipy matrix of n_cols rows)."""
        if is_sparse(other):
            return sp.vstack([m @ other for _, _, m in self.blocks()], format="csr")
        x = np.asarray(other)
        if x.shape[0] != self.shape[1]:
            raise ValueError(f"matmul: shapes {self.shape} and {x.shape} do not align")
        return np.concatenate([m @ x for _, _, m in self.blocks()], axis=0)

    def __rmatmul__(self, other: Any) -> Any:
        """``other @ self`` block by block: ``sum_b other[:, lo:hi] @ block_b``."""
        if other.shape[-1] != self.shape[0]:
            raise ValueError(f"matmul: shapes {other.shape} and {self.shape} do not align")
        out: Any = None
        for lo, hi, m in self.blocks():
            part = other[..., lo:hi] if not is_sparse(other) else sp.csr_matrix(other)[:, lo:hi]
            term = part @ m
            out = term if out is None else out + term
        return out


def _meta_problem(meta: Any) -> str | None:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        return f"not a cooc sharded model (its format is not {FORMAT_NAME!r})"
    version = meta.get("version")
    if version != FORMAT_VERSION:
        newer = " (written by a newer cooc: upgrade cooc to read it)" if isinstance(version, int) and \
            version > FORMAT_VERSION else ""
        return f"format version {version!r} is not supported; this cooc reads version {FORMAT_VERSION}{newer}"
    n = meta.get("vocab_size")
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        return f"vocab_size is {n!r}"
    matrices = meta.get("matrices")
    if not isinstance(matrices, dict) or "vectors" not in matrices or set(matrices) - set(MATRICES):
        return "matrices must hold 'vectors' (and optionally 'counts') only"
    for name, m in matrices.items():
        shape = m.get("shape") if isinstance(m, dict) else None
        if not (isinstance(shape, list) and len(shape) == 2
                and all(isinstance(k, int) and not isinstance(k, bool) and 0 <= k < 2**62 for k in shape)):
            return f"{name}: shape is {shape!r}"
        if shape[0] != n or (name == "counts" and shape[1] != n):
            return f"{name}: shape {shape} does not fit {n} words"
        layout = m.get("layout")
        if layout == "dense" and name == "vectors":
            if m.get("dtype") not in ("float32", "float64"):
                return f"vectors: dtype is {m.get('dtype')!r}"
            continue
        if layout != "csr":
            return f"{name}: layout is {layout!r}"
        if m.get("structure", "own") not in ("own", "counts") or (
                m.get("structure") == "counts" and (name != "vectors" or "counts" not in matrices
                                                    or matrices["counts"].get("blocks") != m.get("blocks"))):
            return f"{name}: structure {m.get('structure')!r} does not match the counts"
        blocks = m.get("blocks")
        if not isinstance(blocks, list):
            return f"{name}: blocks is not a list"
        at = 0
        for b, blk in enumerate(blocks):
            if not (isinstance(blk, list) and len(blk) == 3 and all(
                    isinstance(k, int) and not isinstance(k, bool) and k >= 0 for k in blk)):
                return f"{name}: block {b} is {blk!r}, not [lo, hi, nnz]"
            if blk[0] != at or blk[1] < blk[0]:
                return f"{name}: block {b} covers rows {blk[0]}..{blk[1]}, expected to start at {at} (contiguous)"
            at = blk[1]
        if at != n:
            return f"{name}: the blocks end at row {at}, not at {n} (the vocabulary size)"
    if meta.get("frequencies") not in (True, False):
        return f"frequencies is {meta.get('frequencies')!r}"
    window = meta.get("window")
    if window is not None and (not isinstance(window, int) or isinstance(window, bool)):
        return f"window is {window!r}"
    stop = meta.get("stopwords")
    if stop is not None and (not isinstance(stop, list) or not all(isinstance(s, str) for s in stop)):
        return "stopwords is not a list of str"
    if not isinstance(meta.get("attributes", {}), dict):
        return "attributes is not a JSON object"
    if meta.get("recipe") is not None and not isinstance(meta.get("recipe"), dict):
        return "recipe is not a JSON object"
    return None


def _read_vocab(store: _Store, n: int, with_frequencies: bool) -> tuple[list[str], np.ndarray | None]:
    shown = store.shown(VOCAB_NAME)
    try:
        if store.local:
            fh: Any = open(store.path(VOCAB_NAME), "rb")
        else:
            fh = store.fs.open(store.path(VOCAB_NAME), "rb")
    except FileNotFoundError:
        raise ModelFileError(shown, "missing: the sharded model is incomplete") from None
    try:
        with fh, np.load(fh, allow_pickle=False) as npz:
            offsets = npz["vocab_offsets"]
            raw = npz["vocab_utf8"]
            freq = npz["frequencies"] if with_frequencies else None
    except Exception as exc:  # noqa: BLE001 - a damaged archive raises many kinds (zipfile, numpy, KeyError)
        raise ModelFileError(shown, f"corrupt vocabulary file ({type(exc).__name__}: {exc})") from None
    if offsets.dtype != np.int64 or offsets.shape != (n + 1,) or raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError(shown, f"the vocabulary does not hold {n} words (offsets {offsets.dtype} "
                             f"{offsets.shape}, bytes {raw.dtype} {raw.shape})")
    if offsets[0] != 0 or offsets[-1] != raw.size or (n and not bool(np.all(offsets[1:] >= offsets[:-1]))):
        raise ModelFileError(shown, "vocab_offsets do not cut vocab_utf8 into words")
    data = raw.tobytes()
    bounds = offsets.tolist()
    try:
        words = [data[a:b].decode("utf-8", "surrogatepass") for a, b in zip(bounds[:-1], bounds[1:])]
    except UnicodeDecodeError:
        raise ModelFileError(shown, "a word is not valid UTF-8") from None
    if len(set(words)) != n:
        raise ModelFileError(shown, "the words are not distinct")
    if freq is not None:
        if freq.dtype != np.int64 or freq.shape != (n,):
            raise ModelFileError(shown, f"frequencies hold {freq.dtype} of shape {freq.shape}, expected int64 ({n},)")
        if n and int(freq.min()) < 0:
            raise ModelFileError(shown, "frequencies hold a negative count")
    return words, freq


def read_sharded(path: str | os.PathLike[str], *,
                 storage_options: dict[str, Any] | None = None) -> ModelData:
    """Read a sharded model's metadata and vocabulary; its matrices stay on disk.

    Returns
    -------
    ModelData
        ``counts`` and sparse ``vectors`` as :class:`ShardedCSR`; dense vectors as a memory-mapped
        array (local) or an array read whole (URL).

    Raises
    ------
    FileNotFoundError
        ``path`` is not a directory (or the URL holds nothing).
    ModelFileError
        The metadata file is missing (an incomplete or interrupted write), corrupt or of another
        version; the vocabulary file, a block's files or the dense vectors are missing or inconsistent
        (named); local block files are checked here, their values when a block is first used.
    """
    store = _Store(path, storage_options)
    if store.local and not os.path.isdir(store.root):
        raise FileNotFoundError(f"no such directory: {store.root}")
    raw = store.read_bytes(META_NAME, _META_MAX_BYTES)
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelFileError(store.shown(META_NAME), f"corrupt metadata: {exc}") from None
    problem = _meta_problem(meta)
    if problem:
        raise ModelFileError(store.shown(META_NAME), problem)
    n = meta["vocab_size"]
    words, freq = _read_vocab(store, n, meta["frequencies"])
    matrices: dict[str, Any] = {}
    for name, m in meta["matrices"].items():
        if m["layout"] == "dense":
            a = store.array(DENSE_NAME)
            if a.dtype.newbyteorder("=") != np.dtype(m["dtype"]) or a.shape != tuple(m["shape"]):
                raise ModelFileError(store.shown(DENSE_NAME), f"holds {a.dtype} of shape {a.shape}; "
                                     f"expected {m['dtype']} of shape {tuple(m['shape'])}")
            if not a.dtype.isnative:
                a = a.astype(np.dtype(m["dtype"]))
            matrices[name] = a
        else:
            s = ShardedCSR(store, name, tuple(m["shape"]), [tuple(b) for b in m["blocks"]],
                           m.get("structure", "own"))
            if store.local:  # every file is there and of the declared size (values: on first use)
                for b, (lo, hi) in enumerate(s.bounds):
                    for part, length in zip(_PARTS, (hi - lo + 1, s._nnz[b], s._nnz[b])):
                        rel = _block_name(s._structure if part != "data" else name, b, part)
                        a = store.array(rel)
                        if a.shape != (length,):
                            raise ModelFileError(store.shown(rel), f"has shape {a.shape}, expected ({length},)")
            matrices[name] = s
    return ModelData(words, matrices["vectors"], matrices.get("counts"), freq, meta["window"],
                     meta["stopwords"], meta.get("attributes", {}), meta.get("recipe"))


# -- queries -------------------------------------------------------------------------------------


def topk_rows(matrix: ShardedCSR, queries: sp.csr_matrix, k: int, exclude: Any
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-``k`` rows of ``matrix`` by cosine similarity to each query row, one block at a time.

    The same answer as :meth:`cooc.neighbors.TransposeIndex.query` on the whole matrix: each dot
    product accumulated in column order, ``cos = dot / (|q| * |r|)`` (0.0 when either norm is 0), best
    first, ties to the lower row, ``exclude[b]`` (or -1) left out.

    Parameters
    ----------
    matrix : ShardedCSR of float64
    queries : scipy CSR matrix, shape (B, n_cols), float64 with sorted indices
    k : int
    exclude : int64 array, shape (B,)

    Returns
    -------
    rows : int64 array (B, k); sims : float64 array (B, k); found : int64 array (B,)
    """
    q = sp.csr_matrix(queries, dtype=np.float64)
    n_q = q.shape[0]
    ex = np.asarray(exclude, dtype=np.int64)
    k = min(int(k), matrix.shape[0])
    qn = _backend.row_norms(q.indptr.astype(np.int64), q.data)
    longest = max((hi - lo for lo, hi in matrix.bounds), default=0)
    step = max(1, min(SCORE_VALUES // max(longest, 1), SCORE_VALUES // max(matrix.shape[1], 1)))
    best_rows = [np.zeros(0, dtype=np.int64) for _ in range(n_q)]
    best_sims = [np.zeros(0, dtype=np.float64) for _ in range(n_q)]
    for b0 in range(0, n_q if k else 0, step):
        b1 = min(n_q, b0 + step)
        qt = np.zeros((matrix.shape[1], b1 - b0), dtype=np.float64)   # the queries as dense columns
        for j in range(b1 - b0):
            a, z = int(q.indptr[b0 + j]), int(q.indptr[b0 + j + 1])
            qt[q.indices[a:z], j] = q.data[a:z]
        for i, (lo, hi) in enumerate(matrix.bounds):
            if hi == lo:
                continue
            m = matrix.block(i)
            norms = matrix.row_norms(i)
            # each dot product summed in column order (scipy's csr_matvec(s)), as the kernels sum it;
            # the query's zeros add +-0.0, which changes no sum
            dots = np.asarray(m @ (qt[:, 0] if b1 - b0 == 1 else qt), dtype=np.float64).reshape(hi - lo, b1 - b0)
            denom = qn[None, b0:b1] * norms[:, None]   # as the kernels compute it: |q| * |r|
            sims = np.zeros_like(dots)
            np.divide(dots, denom, out=sims, where=denom != 0.0)
            for j in range(b1 - b0):
                b = b0 + j
                top = _block_top(sims[:, j], k, int(ex[b]) - lo if lo <= ex[b] < hi else -1)
                rows = np.concatenate([best_rows[b], top + lo])
                vals = np.concatenate([best_sims[b], sims[top, j]])
                order = np.lexsort((rows, -vals))[:k]
                best_rows[b], best_sims[b] = rows[order], vals[order]
    out_rows = np.zeros((n_q, k), dtype=np.int64)
    out_sims = np.zeros((n_q, k), dtype=np.float64)
    found = np.zeros(n_q, dtype=np.int64)
    for b in range(n_q):
        f = best_rows[b].size
        out_rows[b, :f], out_sims[b, :f], found[b] = best_rows[b], best_sims[b], f
    return out_rows, out_sims, found



def _block_top(col: np.ndarray, k: int, excluded: int) -> np.ndarray:
    """The rows of one block that can be among the top ``k`` (ties to the lower row), ``excluded`` (or
    -1) left out: at most ``k`` row numbers, in no particular order."""
    n = col.size
    if excluded >= 0:
        col = col.copy()
        col[excluded] = -np.inf   # finite scores always rank above it
    kk = min(k, n - (excluded >= 0))
    if kk <= 0:
        return np.zeros(0, dtype=np.int64)
    if kk >= n - (excluded >= 0):
        rows: np.ndarray = np.arange(n, dtype=np.int64)
        return np.asarray(rows[rows != excluded], dtype=np.int64)
    edge = col[np.argpartition(-col, kk - 1)[kk - 1]]   # the k-th largest score
    above = np.flatnonzero(col > edge)
    ties = np.flatnonzero(col == edge)[: kk - above.size]   # the lowest rows of the tie
    return np.concatenate([above, ties]).astype(np.int64)
