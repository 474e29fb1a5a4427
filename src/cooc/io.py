"""Files: model files (arrays and JSON settings, no pickle) written atomically and read defensively,
the word2vec text and binary formats, and text files whose decoding errors name the line.

This module knows arrays, not models: :func:`write_model` takes a :class:`ModelData` and
:func:`read_model` returns one; :meth:`cooc.Embeddings.save` and :func:`cooc.load` turn a model into
one and back.

A cooc model file is a NumPy ``.npz`` archive (a zip of ``.npy`` members) that never holds a pickled
object.

File layout, format version 1
-----------------------------
Every member is a plain numeric ``.npy`` array (little-endian as written; either byte order is read):

==================  =================  ================================================================
member              dtype, shape       content
==================  =================  ================================================================
``magic``           uint8, (10,)       the bytes ``b"cooc-model"`` (first member, so a sniff finds it)
``format_version``  int64, ()          ``1``
``meta``            uint8, (n,)        UTF-8 JSON: vocabulary size, vector layout and shape, window,
                                       stopwords (sorted list or null), other JSON-safe attributes
``vocab_offsets``   int64, (V+1,)      byte offsets of each word in ``vocab_utf8`` (0 first, n last)
``vocab_utf8``      uint8, (n,)        the words, UTF-8 (``surrogatepass``) and concatenated
``frequencies``     int64, (V,)        corpus frequency of each word (only when the model has them)
``counts_indptr``   int32/int64        raw co-occurrence counts as CSR (only when the model has them);
``counts_indices``  int32/int64        ``counts_data`` is always int64, so counts above 2**32 in one
``counts_data``     int64              cell stay exact
``vectors_indptr``  int32/int64        sparse vectors as CSR; ``vectors_indptr`` and
``vectors_indices`` int32/int64        ``vectors_indices`` are left out when they equal the counts'
``vectors_data``    float64            (the usual case after :func:`cooc.pretrain`)
``vectors``         float32 or float64 dense vectors (float32 after an SVD), in place of the three
                    (V, dim)           ``vectors_*`` members
==================  =================  ================================================================

Why this layout: the vocabulary as UTF-8 bytes plus offsets costs one byte per ASCII character, whatever
the longest word (a fixed-width unicode array costs 4 bytes x the longest word for *every* word), and
holds any Python ``str``; everything is a numeric array, so ``np.load(..., allow_pickle=False)`` reads it
all; the settings are a small JSON document, readable without cooc (``json.loads(bytes(npz["meta"]))``).

Members are stored uncompressed by default (``np.savez``): saving runs at disk speed and the loader's
memory is bounded by the file's own size. ``compress=True`` (``np.savez_compressed``) makes count models
about 3x smaller but saves some 20x slower (deflate; measured at V = 200k, 7M non-zeros: 0.4 s and
145 MB stored, 9.5 s and 41 MB deflated; loading takes about 0.2-0.5 s either way).

Untrusted files
---------------
:func:`read_model` never unpickles, and reads each member's ``.npy`` header before the member itself: the dtype
must be the expected numeric one, the shape must fit the vocabulary and the other arrays (for example,
``counts_indices`` must have exactly ``counts_indptr[-1]`` elements), and the header's size must equal the
size the zip directory declares for the member, which in turn cannot exceed the archive's size (stored
members) or the deflate limit of ~1032x (compressed ones). So no allocation is larger than the bytes the
file declares, and a crafted file is refused before any large allocation. Before any member is read,
the inflated sizes of all members are summed from the zip directory: a file inflating to more than 64x
its size on disk and more than 64 MiB in all is refused as a possible decompression bomb, unless the
caller gives ``max_inflated_bytes``. After reading, the values are checked as well: finite vectors
whose row norms float64 can hold, distinct column indices within each row, non-negative counts.
A damaged ``.npy`` header (whatever numpy's parser raises on it) is a :class:`ModelFileError` too.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import os
import re
import struct
import tempfile
import time
import tokenize
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import scipy.sparse as sp
from numpy.lib import format as npy_format

from ._stale import owner_tag, remove_stale
from ._validate import is_sparse, parse_size

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "SUPPORTED_FORMAT_VERSIONS",
    "TEMP_PREFIX",
    "WORD2VEC_MAX_DENSIFIED_VALUES",
    "ModelData",
    "ModelFileError",
    "read_model",
    "read_text",
    "read_word2vec",
    "write_model",
    "write_word2vec",
]

logger = logging.getLogger(__name__)

MAGIC = b"cooc-model"
"""Content of the ``magic`` member of every cooc model file."""

FORMAT_VERSION = 1
"""The format version :func:`write_model` writes."""

SUPPORTED_FORMAT_VERSIONS = (1,)
"""The format versions :func:`read_model` reads."""

TEMP_PREFIX = ".cooc-tmp-"
"""Prefix of the temporary file a write goes through (same directory as the target); the writer's
owner tag ``<pid>@<host>`` follows, so that a later write can remove the file of a killed process."""

WORD2VEC_MAX_DENSIFIED_VALUES = 100_000_000
"""Largest V x dim that :func:`write_word2vec` densifies from *sparse* vectors without ``force``.

10**8 values is a V x V model of 10,000 words: about 0.4 GB in the binary format and at least 0.2 GB of
text. Dense vectors are never capped: they are already in memory and the file is proportional to them.
"""

_META_MAX_BYTES = 64 * 1024 * 1024  # the JSON settings (stopwords included) are small
_NPY_HEADER_MAX_BYTES = 64 * 1024 + 16  # magic, version, length and a version-1.0 header
_DEFLATE_MAX_RATIO = 1032  # deflate cannot expand more than this (RFC 1951, 258 bytes per 2 bits)
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members, an empty zip


@dataclass
class ModelData:
    """What a model file holds: the vocabulary, its vectors, and what else the model knows.

    Attributes
    ----------
    words : sequence of str
        The vocabulary; word ``i`` owns row ``i``.
    vectors : scipy.sparse CSR matrix or ndarray of float64, shape (V, dim)
    counts : scipy.sparse CSR matrix of int64, shape (V, V), or None
    frequencies : int64 array of shape (V,), or None
    window : int or None
    stopwords : collection of str, or None
    attributes : dict of str to JSON data
        Other settings, stored in the file's JSON settings.
    recipe : dict of str to JSON data, or None
        How the model was made (``cooc.Recipe.to_dict``), stored as the settings' ``recipe``; None
        when the file has none (written before recipes were saved).
    """

    words: Sequence[str]
    vectors: Any
    counts: Any = None
    frequencies: Any = None
    window: int | None = None
    stopwords: Any = None
    attributes: dict[str, Any] = field(default_factory=dict)
    recipe: dict[str, Any] | None = None


class ModelFileError(ValueError):
    """A file :func:`read_model` refuses: not a cooc model, foreign, corrupt, truncated or inconsistent.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    problem : str
        What is wrong with it (the message without the file name).
    """

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"cannot load {str(path)!r}: {problem}")
        self.path = path
        self.problem = problem

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across processes despite two arguments
        return (type(self), (self.path, self.problem))


class _Refused(Exception):
    """Internal: a problem found while reading; turned into :class:`ModelFileError` with the path."""


# -- atomic writes ---------------------------------------------------------------------------------


def _prepare_target(path: str | os.PathLike[str]) -> Path:
    """The file to write for ``path`` (a symlink is followed); refuse a directory or a missing parent."""
    given = Path(os.fspath(path))
    if given.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory; give a file path to write to", str(given))
    try:
        target = given.resolve(strict=False) if given.is_symlink() else given
    except (RuntimeError, OSError) as exc:  # a symlink loop (RuntimeError before Python 3.13)
        raise OSError(errno.ELOOP, f"cannot follow the symlink ({exc})", str(given)) from None
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory; give a file path to write to", str(given))
    parent = target.parent
    if not parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "the directory to write into does not exist", str(parent))
    return target


def _new_file_mode() -> int:
    """Permission bits a new file gets from ``open`` (0o666 less the umask); mkstemp would give 0o600."""
    with contextlib.suppress(OSError, ValueError, IndexError):  # no /proc: read it the other way
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    mask = os.umask(0o022)  # no way to read the umask without setting it elsewhere
    os.umask(mask)
    return 0o666 & ~mask


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX); best effort."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):  # some filesystems cannot fsync a directory
            os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(target: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write`` on a temporary file next to ``target``, fsync it, then rename it onto ``target``.

    On any exception, KeyboardInterrupt included, the temporary file is removed and ``target`` (if it
    existed) is left as it was. A process killed outright (SIGKILL, power loss) can leave a
    ``.cooc-tmp-<pid>@<host>-*.tmp`` file behind, never a half-written ``target``; the next write into
    the same directory removes those of processes of this host that no longer run
    (:func:`cooc._stale.remove_stale`).
    """
    directory = target.parent
    try:
        mode = target.stat().st_mode & 0o7777  # replacing a file keeps its permissions
    except OSError:
        mode = _new_file_mode()
    remove_stale(directory, TEMP_PREFIX)
    fd, tmp_name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{owner_tag()}-", suffix=".tmp", dir=directory)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, mode)
        except OSError:  # e.g. a filesystem without permissions; the content matters more
            logger.debug("could not set mode %o on %s", mode, tmp)
        os.replace(tmp, target)
    except BaseException:
        try:
            tmp.unlink(missing_ok=True)
        except OSError as exc:  # pragma: no cover - e.g. the directory became read-only
            logger.warning("could not remove the temporary file %s: %s", tmp, exc)
        raise
    _fsync_directory(directory)


# -- values ----------------------------------------------------------------------------------------


def _row_any(indptr: np.ndarray, flags: np.ndarray) -> np.ndarray:
    """Per CSR row: does any of its entries have ``flags`` set (bool, shape (n_rows,))."""
    n = indptr.size - 1
    out = np.zeros(n, dtype=bool)
    nonempty = indptr[1:] > indptr[:-1]
    if flags.size and nonempty.any():
        out[nonempty] = np.logical_or.reduceat(flags, indptr[:-1][nonempty])
    return out


def _row_sq(indptr: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Per CSR row: the sum of its squared values, in float64 (no scaling: as the kernels compute it)."""
    n = indptr.size - 1
    out = np.zeros(n, dtype=np.float64)
    nonempty = indptr[1:] > indptr[:-1]
    if data.size and nonempty.any():
        with np.errstate(over="ignore", under="ignore"):
            out[nonempty] = np.add.reduceat(data * data, indptr[:-1][nonempty])
    return out


def _duplicate_in_row(indptr: np.ndarray, indices: np.ndarray) -> int | None:
    """The first row of a CSR matrix that holds a column index twice, or None."""
    nnz = indices.size
    if nnz < 2:
        return None
    ok = indices[1:] > indices[:-1]
    starts = indptr[1:-1]
    ok[starts[(starts > 0) & (starts < nnz)] - 1] = True  # a new row may start lower
    if ok.all():
        return None
    rows = np.repeat(np.arange(indptr.size - 1, dtype=np.int64), np.diff(indptr))
    order = np.lexsort((indices, rows))
    si, sr = indices[order], rows[order]
    dup = np.flatnonzero((si[1:] == si[:-1]) & (sr[1:] == sr[:-1]))
    return int(sr[dup[0]]) if dup.size else None


def _norm_problem(sq: np.ndarray, nonzero: np.ndarray) -> str | None:
    """Rows whose Euclidean norm float64 cannot represent: the sum of squares overflows, or underflows
    to 0 while the row holds non-zero values (denormal values: every cosine would come out 0)."""
    bad = np.flatnonzero(~np.isfinite(sq) | ((sq == 0.0) & nonzero))
    if not bad.size:
        return None
    r = int(bad[0])
    kind = "too large" if not np.isfinite(sq[r]) else "too small (denormal)"
    return f"row {r} has values {kind} for its norm to be computed in float64 ({bad.size} such rows)"


def _vector_problem(vectors: Any) -> str | None:
    """What makes ``vectors`` (CSR parts or a dense array) unusable, or None."""
    if isinstance(vectors, np.ndarray):
        finite = np.isfinite(vectors)
        if not finite.all():
            r = int(np.flatnonzero(~finite.all(axis=1))[0])
            return f"row {r} holds NaN or infinite values"
        with np.errstate(over="ignore", under="ignore"):
            sq = np.einsum("ij,ij->i", vectors, vectors)
        return _norm_problem(sq, (vectors != 0).any(axis=1))
    indptr, indices, data = vectors
    finite = np.isfinite(data)
    if not finite.all():
        r = int(np.searchsorted(indptr, np.flatnonzero(~finite)[0], side="right") - 1)
        return f"row {r} holds NaN or infinite values"
    dup = _duplicate_in_row(indptr, indices)
    if dup is not None:
        return f"row {dup} holds a column index twice"
    return _norm_problem(_row_sq(indptr, data), _row_any(indptr, data != 0))


def _counts_problem(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray) -> str | None:
    """What makes counts (CSR parts) unusable, or None."""
    if data.size and int(data.min()) < 0:
        r = int(np.searchsorted(indptr, int(np.argmin(data)), side="right") - 1)
        return f"row {r} holds a negative count"
    dup = _duplicate_in_row(indptr, indices)
    if dup is not None:
        return f"row {dup} holds a column index twice"
    return None


# -- save ------------------------------------------------------------------------------------------


def _index_array(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    return a if a.dtype in (np.dtype(np.int32), np.dtype(np.int64)) else a.astype(np.int64)


def _csr_parts(matrix: Any, what: str) -> sp.csr_matrix:
    m = matrix if is_sparse(matrix) else sp.csr_matrix(np.asarray(matrix))
    m = m.tocsr()
    if m.ndim != 2:
        raise ValueError(f"{what} must be two-dimensional, got shape {m.shape}")
    if not m.has_canonical_format:  # duplicate entries add up (scipy's meaning); the file holds sums
        m = m.copy()
        m.sum_duplicates()
    return m


def _counts_data(m: sp.csr_matrix) -> np.ndarray:
    data = np.asarray(m.data)
    if data.dtype.kind == "b":
        return data.astype(np.int64)
    if data.dtype.kind not in "iu":
        raise ValueError(f"counts must hold integers to be saved exactly, not {data.dtype}")
    if data.dtype.kind == "u" and data.size and int(data.max()) > np.iinfo(np.int64).max:
        raise ValueError("counts hold a value above 2**63 - 1, which int64 cannot store")
    return data.astype(np.int64, copy=False)


def _json_attribute(name: str, value: Any) -> Any:
    """``value`` as JSON data, or ``None`` with a warning when it has no faithful JSON form."""

    def plain(x: Any) -> Any:
        if isinstance(x, np.generic):
            return x.item()
        raise TypeError(f"{type(x).__name__} is not JSON data")

    try:
        return json.loads(json.dumps(value, allow_nan=False, default=plain))
    except (TypeError, ValueError, RecursionError) as exc:
        logger.warning("attribute %r (%s) is not saved: %s", name, type(value).__name__, exc)
        return None


def _model_arrays(model: ModelData) -> dict[str, np.ndarray]:
    """The members of a model file, validated so that :func:`read_model` accepts what is written."""
    words = list(model.words)
    n = len(words)
    encoded = []
    for i, w in enumerate(words):
        if not isinstance(w, str):
            raise TypeError(f"word {i} of index_to_key must be a str, not {type(w).__name__}")
        encoded.append(w.encode("utf-8", "surrogatepass"))
    if len(set(words)) != n:
        raise ValueError("index_to_key must hold distinct words")
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=n), out=offsets[1:])
    vocab_utf8 = np.frombuffer(b"".join(encoded), dtype=np.uint8)

    meta: dict[str, Any] = {"vocab_size": n, "written_by": f"cooc {_cooc_version()}"}
    arrays: dict[str, np.ndarray] = {
        "magic": np.frombuffer(MAGIC, dtype=np.uint8),
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "meta": np.zeros(0, dtype=np.uint8),  # placeholder: filled last, kept in third place
        "vocab_offsets": offsets,
        "vocab_utf8": vocab_utf8,
    }

    frequencies = model.frequencies
    if frequencies is not None:
        f = np.asarray(frequencies)
        if f.dtype.kind not in "iub":
            raise ValueError(f"frequencies must be integers, not {f.dtype}")
        if f.shape != (n,):
            raise ValueError(f"frequencies has shape {f.shape}, expected ({n},) for {n} words")
        arrays["frequencies"] = f.astype(np.int64, copy=False)
    meta["frequencies"] = frequencies is not None

    counts = model.counts
    c: sp.csr_matrix | None = None
    if counts is not None:
        c = _csr_parts(counts, "counts")
        if c.shape[0] != n:
            raise ValueError(f"counts has {c.shape[0]} rows but the vocabulary has {n} words")
        arrays["counts_indptr"] = _index_array(c.indptr)
        arrays["counts_indices"] = _index_array(c.indices)
        arrays["counts_data"] = _counts_data(c)
        problem = _counts_problem(arrays["counts_indptr"], arrays["counts_indices"], arrays["counts_data"])
        if problem:
            raise ValueError(f"counts cannot be saved: {problem}")
        meta["counts"] = {"shape": [int(c.shape[0]), int(c.shape[1])]}
    else:
        meta["counts"] = None

    vectors = model.vectors
    if is_sparse(vectors):
        v = _csr_parts(vectors, "vectors")
        shares = (
            c is not None
            and v.shape == c.shape
            and np.array_equal(v.indptr, c.indptr)
            and np.array_equal(v.indices, c.indices)
        )
        if not shares:
            arrays["vectors_indptr"] = _index_array(v.indptr)
            arrays["vectors_indices"] = _index_array(v.indices)
        arrays["vectors_data"] = np.asarray(v.data, dtype=np.float64)
        problem = _vector_problem((v.indptr, v.indices, arrays["vectors_data"]))
        if problem:
            raise ValueError(f"vectors cannot be saved: {problem}; a model must have finite vectors "
                             f"whose norms float64 can hold")
        meta["vectors"] = {
            "layout": "csr",
            "shape": [int(v.shape[0]), int(v.shape[1])],
            "structure": "counts" if shares else "own",
        }
    else:
        d = np.asarray(vectors)
        d = np.asarray(d, dtype=d.dtype if d.dtype in (np.float32, np.float64) else np.float64)
        if d.ndim != 2:
            raise ValueError(f"vectors must be two-dimensional, got shape {d.shape}")
        problem = _vector_problem(d)
        if problem:
            raise ValueError(f"vectors cannot be saved: {problem}; a model must have finite vectors "
                             f"whose norms float64 can hold")
        arrays["vectors"] = d
        meta["vectors"] = {"layout": "dense", "shape": [int(d.shape[0]), int(d.shape[1])]}
    if meta["vectors"]["shape"][0] != n:
        raise ValueError(f"vectors has {meta['vectors']['shape'][0]} rows but the vocabulary has {n} words")

    window = model.window
    if window is not None:
        if isinstance(window, (bool, np.bool_)) or not isinstance(window, (int, np.integer)):
            raise ValueError(f"window must be an integer or None to be saved, got {window!r}")
        window = int(window)
    meta["window"] = window

    stopwords = model.stopwords
    if stopwords is not None:
        stopwords = list(stopwords)
        for s in stopwords:
            if not isinstance(s, str):
                raise TypeError(f"stopwords must be str, found {type(s).__name__}: {s!r}")
        stopwords = sorted(stopwords)
    meta["stopwords"] = stopwords

    attributes: dict[str, Any] = {}
    for name, value in sorted(model.attributes.items()):
        plain = _json_attribute(name, value)
        if plain is not None or value is None:
            attributes[name] = plain
    meta["attributes"] = attributes
    if model.recipe is not None:
        recipe = _json_attribute("recipe", model.recipe)
        if not isinstance(recipe, dict):
            raise ValueError(f"recipe must be a JSON object to be saved, got {model.recipe!r}")
        meta["recipe"] = recipe

    text = json.dumps(meta, ensure_ascii=True, allow_nan=False, separators=(",", ":"), sort_keys=True)
    arrays["meta"] = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    for name, a in arrays.items():
        if a.dtype.hasobject:  # pragma: no cover - guarded above; never write a pickle
            raise AssertionError(f"member {name} would hold Python objects")
    return arrays


def _cooc_version() -> str:
    try:
        from importlib.metadata import version

        return version("cooc")
    except Exception:  # noqa: BLE001 - informational only
        return "unknown"


def write_model(path: str | os.PathLike[str], model: ModelData, *, compress: bool = False) -> Path:
    """Write ``model`` to a cooc model file (``.npz``, no pickle), atomically.

    The file is written to a temporary file in the same directory (``.cooc-tmp-*``), flushed, fsynced
    and renamed onto ``path``: an interrupted or failed write (an exception, Ctrl-C, a full disk)
    leaves any previous file at ``path`` intact and removes the temporary file.

    Parameters
    ----------
    path : str or path-like
        The file to write, exactly as given: no ``.npz`` is appended (unlike ``numpy.savez``). A symlink
        is followed, so the file it points to is replaced. An existing file is replaced and keeps its
        permissions; a new one gets ``0o666`` less the umask.
    model : ModelData
        An attribute that has no JSON form is left out with a warning in the log.
    compress : bool, default False
        Deflate the members (``numpy.savez_compressed``): smaller files, slower saving and loading.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    IsADirectoryError
        ``path`` is a directory.
    FileNotFoundError
        The directory to write into does not exist.
    ValueError, TypeError
        The model cannot be stored faithfully (e.g. non-integer counts, a non-str word, duplicate
        words, arrays whose shapes disagree with the vocabulary).
    """
    start = time.perf_counter()
    target = _prepare_target(path)
    arrays = _model_arrays(model)
    def write(fh: IO[bytes]) -> None:
        # looked up at call time (tests replace numpy.savez to simulate an interrupted write)
        writer: Callable[..., None] = np.savez_compressed if compress else np.savez
        writer(fh, **arrays)

    _atomic_write(target, write)
    logger.info(
        "saved %d words (%s vectors%s) to %s in %.3f s",
        len(arrays["vocab_offsets"]) - 1,
        "dense" if "vectors" in arrays else "sparse",
        ", counts" if "counts_data" in arrays else "",
        target,
        time.perf_counter() - start,
    )
    return Path(os.fspath(path))


# -- load ------------------------------------------------------------------------------------------


class _CountingReader:
    """File-like over a zip member that counts bytes read and refuses to read past ``limit``."""

    def __init__(self, raw: IO[bytes], limit: int) -> None:
        self.raw = raw
        self.limit = limit
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0 or self.count + n > self.limit:
            raise _Refused(f"an .npy header is longer than {self.limit} bytes")
        data = self.raw.read(n)
        self.count += len(data)
        return data


class _Header:
    __slots__ = ("name", "shape", "dtype", "fortran")

    def __init__(self, name: str, shape: tuple[int, ...], dtype: np.dtype, fortran: bool) -> None:
        self.name = name
        self.shape = shape
        self.dtype = dtype
        self.fortran = fortran


# (allowed kinds, allowed item sizes) per member
_INDEX = ("i", (4, 8))
_DTYPES: dict[str, tuple[str, tuple[int, ...]]] = {
    "magic": ("u", (1,)),
    "format_version": ("iu", (1, 2, 4, 8)),
    "meta": ("u", (1,)),
    "vocab_offsets": ("i", (8,)),
    "vocab_utf8": ("u", (1,)),
    "frequencies": ("i", (8,)),
    "counts_indptr": _INDEX,
    "counts_indices": _INDEX,
    "counts_data": ("i", (8,)),
    "vectors_indptr": _INDEX,
    "vectors_indices": _INDEX,
    "vectors_data": ("f", (8,)),
    "vectors": ("f", (4, 8)),
}

# Errors a damaged archive or .npy member can raise while being read, beyond our own checks.
_CORRUPT_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    zlib.error,
    struct.error,
    ValueError,  # numpy's .npy parser, UnicodeDecodeError, json
    KeyError,
    IndexError,
    OverflowError,
    NotImplementedError,  # unsupported zip compression or encryption
    RecursionError,  # deeply nested JSON
    RuntimeError,  # zipfile: encrypted member
    SyntaxError,  # numpy's .npy header parser (ast.literal_eval)
    tokenize.TokenError,  # the same, on some damaged headers
)


_INFLATE_MAX_RATIO = 64
_INFLATE_FLOOR = 64 * 1024 * 1024


def _check_inflated(total: int, archive_size: int, limit: int | None) -> None:
    """Refuse an archive whose members inflate far beyond its size on disk (a decompression bomb)."""
    if limit is not None:
        if total > limit:
            raise _Refused(
                f"its members inflate to {total:,} bytes, above max_inflated_bytes={limit:,}"
            )
        return
    if total > _INFLATE_MAX_RATIO * archive_size and total > _INFLATE_FLOOR:
        raise _Refused(
            f"its members inflate to {total:,} bytes from {archive_size:,} bytes on disk (more than "
            f"{_INFLATE_MAX_RATIO}x: a possible decompression bomb); if the file is trusted, pass a "
            f"larger max_inflated_bytes (e.g. max_inflated_bytes={_round_up(total)!r})"
        )


def _round_up(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20)):
        if n >= scale:
            return f"{-(-n // scale)}{unit}"
    return str(n)


class _Reader:
    """Reads one opened archive; every check raises :class:`_Refused`."""

    def __init__(self, npz: Any, archive_size: int, max_inflated_bytes: int | None = None) -> None:
        self.npz = npz
        self.archive_size = archive_size
        infos = npz.zip.infolist()
        names = [i.filename for i in infos]
        if len(set(names)) != len(names):
            raise _Refused("corrupt archive: a member name occurs twice")
        for info in infos:
            self._check_entry(info.filename[:-4] if info.filename.endswith(".npy") else info.filename, info)
        _check_inflated(sum(int(i.file_size) for i in infos), archive_size, max_inflated_bytes)
        self.members: dict[str, zipfile.ZipInfo] = {
            i.filename[:-4]: i for i in infos if i.filename.endswith(".npy")
        }
        self.others = [n for n in names if not n.endswith(".npy")]
        self.headers: dict[str, _Header] = {}

    def _check_entry(self, name: str, info: zipfile.ZipInfo) -> None:
        """The sizes and compression method the zip directory declares for a member."""
        if info.compress_type == zipfile.ZIP_STORED:
            if info.file_size != info.compress_size:
                raise _Refused(f"corrupt archive: member {name!r} has inconsistent sizes")
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            if info.file_size > info.compress_size * _DEFLATE_MAX_RATIO + 1024:
                raise _Refused(
                    f"member {name!r} declares {info.file_size} bytes from {info.compress_size} "
                    f"compressed bytes, more than deflate can produce"
                )
        else:
            raise _Refused(f"member {name!r} uses zip compression method {info.compress_type}, "
                           f"which cooc never writes")
        if info.compress_size > self.archive_size:
            raise _Refused(
                f"corrupt or truncated archive: member {name!r} declares {info.compress_size} bytes "
                f"but the file has {self.archive_size}"
            )

    def has(self, name: str) -> bool:
        return name in self.members

    def header(self, name: str) -> _Header:
        """Check the zip entry and the .npy header of member ``name`` without reading its data."""
        if name in self.headers:
            return self.headers[name]
        info = self.members.get(name)
        if info is None:
            raise _Refused(f"inconsistent model: the member {name!r} is missing")
        with self.npz.zip.open(info) as raw:
            reader = _CountingReader(raw, _NPY_HEADER_MAX_BYTES)
            try:
                version = npy_format.read_magic(reader)
                if version == (1, 0):
                    shape, fortran, dtype = npy_format.read_array_header_1_0(reader)
                elif version == (2, 0):
                    shape, fortran, dtype = npy_format.read_array_header_2_0(reader)
                else:
                    raise _Refused(f"member {name!r} has .npy format version {version}, not 1.0 or 2.0")
            except (_Refused, zipfile.BadZipFile, EOFError, zlib.error):
                raise  # our own refusal, or a damaged archive (reported as such by read_model)
            except Exception as exc:  # noqa: BLE001 - numpy's parser of untrusted text (ast, tokenize)
                raise _Refused(
                    f"corrupt archive: the .npy header of member {name!r} cannot be read "
                    f"({type(exc).__name__}: {exc})"
                ) from None
            header_bytes = reader.count
        if dtype.hasobject:
            raise _Refused(
                f"member {name!r} holds Python objects (a pickle); cooc model files never do, "
                f"and it is not unpickled"
            )
        kinds, sizes = _DTYPES.get(name, ("", ()))
        if dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in kinds \
                or dtype.itemsize not in sizes:
            raise _Refused(f"inconsistent model: member {name!r} has dtype {dtype}, wrong for it")
        if any(k < 0 for k in shape):
            raise _Refused(f"corrupt archive: member {name!r} has shape {shape}")
        data_bytes = math.prod(shape) * dtype.itemsize
        if header_bytes + data_bytes != info.file_size:
            raise _Refused(
                f"member {name!r} declares shape {shape} ({data_bytes} bytes of {dtype}) but the "
                f"archive declares {info.file_size - header_bytes} bytes of data for it"
            )
        h = _Header(name, tuple(int(k) for k in shape), dtype, bool(fortran))
        self.headers[name] = h
        return h

    def expect_shape(self, name: str, shape: tuple[int, ...]) -> _Header:
        h = self.header(name)
        if h.shape != shape:
            raise _Refused(f"inconsistent model: member {name!r} has shape {h.shape}, expected {shape}")
        return h

    def expect_1d(self, name: str) -> int:
        h = self.header(name)
        if len(h.shape) != 1:
            raise _Refused(f"inconsistent model: member {name!r} has shape {h.shape}, expected 1-D")
        return h.shape[0]

    def array(self, name: str) -> np.ndarray:
        """The data of member ``name``, after its header has been checked."""
        h = self.header(name)
        a: np.ndarray = self.npz[name]
        if not isinstance(a, np.ndarray) or a.shape != h.shape or a.dtype != h.dtype:
            raise _Refused(f"corrupt archive: member {name!r} changed while being read")
        if not a.dtype.isnative:
            a = a.astype(a.dtype.newbyteorder("="))
        return a


def _csr_headers(
    r: _Reader, n_rows: int, indptr: str, indices: str, data: str
) -> int:
    """Check the headers of a CSR matrix's three members against each other; its number of non-zeros."""
    r.expect_shape(indptr, (n_rows + 1,))
    nnz = r.expect_1d(indices)
    r.expect_shape(data, (nnz,))
    return nnz


def _csr_structure(
    r: _Reader, n_rows: int, n_cols: int, indptr_name: str, indices_name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Read and check the indptr (first) and indices of an (n_rows, n_cols) CSR matrix."""
    nnz = r.expect_1d(indices_name)
    indptr = r.array(indptr_name)
    if indptr[0] != 0 or indptr[-1] != nnz:
        raise _Refused(
            f"inconsistent model: {indptr_name} runs from {int(indptr[0])} to {int(indptr[-1])}, "
            f"expected 0 to {nnz} (the length of {indices_name})"
        )
    if n_rows and not bool(np.all(indptr[1:] >= indptr[:-1])):
        raise _Refused(f"inconsistent model: {indptr_name} is not monotone")
    indices = r.array(indices_name)
    if nnz and (int(indices.min()) < 0 or int(indices.max()) >= n_cols):
        raise _Refused(f"inconsistent model: {indices_name} holds column indices outside [0, {n_cols})")
    return indptr, indices


def _shape_from_meta(value: Any, what: str) -> tuple[int, int]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(k, int) and not isinstance(k, bool) and 0 <= k < 2**62 for k in value)
    ):
        raise _Refused(f"corrupt settings: {what} shape is {value!r}")
    return value[0], value[1]


def _read_meta(r: _Reader) -> dict[str, Any]:
    n = r.expect_1d("meta")
    if n > _META_MAX_BYTES:
        raise _Refused(f"the settings member is {n} bytes, more than the {_META_MAX_BYTES} allowed")
    try:
        meta = json.loads(r.array("meta").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _Refused(f"corrupt settings: {exc}") from exc
    if not isinstance(meta, dict):
        raise _Refused("corrupt settings: not a JSON object")
    return meta


def _decode_vocabulary(r: _Reader, n: int) -> list[str]:
    r.expect_shape("vocab_offsets", (n + 1,))
    n_bytes = r.expect_1d("vocab_utf8")
    offsets = r.array("vocab_offsets")
    if offsets[0] != 0 or offsets[-1] != n_bytes or (n and not bool(np.all(offsets[1:] >= offsets[:-1]))):
        raise _Refused("inconsistent model: vocab_offsets do not cut vocab_utf8 into words")
    raw = r.array("vocab_utf8").tobytes()
    bounds = offsets.tolist()
    if raw.isascii():
        text = raw.decode("ascii")
        return [text[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    words = []
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        try:
            words.append(raw[a:b].decode("utf-8", "surrogatepass"))
        except UnicodeDecodeError:
            raise _Refused(f"corrupt vocabulary: word {i} is not valid UTF-8") from None
    return words


def _read_model(r: _Reader) -> ModelData:
    if not r.has("magic"):
        listed = ", ".join(sorted(r.members)[:6] + r.others[:3]) or "nothing"
        raise _Refused(f"foreign .npz: not written by cooc (no 'magic' member; it holds {listed})")
    if r.expect_1d("magic") != len(MAGIC) or r.array("magic").tobytes() != MAGIC:
        raise _Refused("foreign .npz: not written by cooc (its 'magic' member is not b'cooc-model')")
    h = r.header("format_version")
    if h.shape not in ((), (1,)):
        raise _Refused(f"corrupt archive: format_version has shape {h.shape}")
    version = int(r.array("format_version").reshape(()))
    if version not in SUPPORTED_FORMAT_VERSIONS:
        newer = " (written by a newer cooc: upgrade cooc to read it)" if version > FORMAT_VERSION else ""
        raise _Refused(
            f"format version {version} is not supported; this cooc reads version(s) "
            f"{', '.join(map(str, SUPPORTED_FORMAT_VERSIONS))}{newer}"
        )
    meta = _read_meta(r)

    n = meta.get("vocab_size")
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise _Refused(f"corrupt settings: vocab_size is {n!r}")
    vec_meta = meta.get("vectors")
    if not isinstance(vec_meta, dict) or vec_meta.get("layout") not in ("csr", "dense"):
        raise _Refused(f"corrupt settings: vectors is {vec_meta!r}")
    v_rows, v_cols = _shape_from_meta(vec_meta.get("shape"), "vectors")
    if v_rows != n:
        raise _Refused(f"inconsistent model: vectors have {v_rows} rows for {n} words")
    counts_meta = meta.get("counts")
    if counts_meta is not None and not isinstance(counts_meta, dict):
        raise _Refused(f"corrupt settings: counts is {counts_meta!r}")
    if meta.get("frequencies") not in (True, False):
        raise _Refused(f"corrupt settings: frequencies is {meta.get('frequencies')!r}")
    window = meta.get("window")
    if window is not None and (not isinstance(window, int) or isinstance(window, bool)):
        raise _Refused(f"corrupt settings: window is {window!r}")
    stopwords = meta.get("stopwords")
    if stopwords is not None and (
        not isinstance(stopwords, list) or not all(isinstance(s, str) for s in stopwords)
    ):
        raise _Refused("corrupt settings: stopwords is not a list of str")
    attributes = meta.get("attributes", {})
    if not isinstance(attributes, dict):
        raise _Refused("corrupt settings: attributes is not a JSON object")
    recipe = meta.get("recipe")
    if recipe is not None and not isinstance(recipe, dict):
        raise _Refused("corrupt settings: recipe is not a JSON object")

    # Every header is checked before any array is read: shapes must agree with the vocabulary size
    # and with each other, and each declared size with the archive's (see _Reader.header).
    if counts_meta is not None:
        c_rows, c_cols = _shape_from_meta(counts_meta.get("shape"), "counts")
        if c_rows != n:
            raise _Refused(f"inconsistent model: counts have {c_rows} rows for {n} words")
        c_nnz = _csr_headers(r, n, "counts_indptr", "counts_indices", "counts_data")
    structure = vec_meta.get("structure")
    if vec_meta["layout"] == "dense":
        r.expect_shape("vectors", (n, v_cols))
    elif structure == "counts":
        if counts_meta is None or (c_rows, c_cols) != (v_rows, v_cols):
            raise _Refused("inconsistent model: vectors share the structure of counts, which are absent")
        r.expect_shape("vectors_data", (c_nnz,))
    elif structure == "own":
        _csr_headers(r, n, "vectors_indptr", "vectors_indices", "vectors_data")
    else:
        raise _Refused(f"corrupt settings: vectors structure is {structure!r}")
    r.expect_shape("vocab_offsets", (n + 1,))
    r.expect_1d("vocab_utf8")
    if meta["frequencies"]:
        r.expect_shape("frequencies", (n,))

    words = _decode_vocabulary(r, n)
    counts = None
    if counts_meta is not None:
        c_indptr, c_indices = _csr_structure(r, n, c_cols, "counts_indptr", "counts_indices")
        c_data = r.array("counts_data")
        counts = sp.csr_matrix((c_data, c_indices, c_indptr), shape=(n, c_cols), copy=False)
    if vec_meta["layout"] == "dense":
        vectors: Any = r.array("vectors")
    else:
        if structure == "counts":
            # copies: never share index arrays between two matrices (sort_indices works in place)
            indptr, indices = c_indptr.copy(), c_indices.copy()
        else:
            indptr, indices = _csr_structure(r, n, v_cols, "vectors_indptr", "vectors_indices")
        vectors = sp.csr_matrix((r.array("vectors_data"), indices, indptr), shape=(n, v_cols), copy=False)
    frequencies = r.array("frequencies") if meta["frequencies"] else None
    _check_values(words, counts, vectors, frequencies,
                  "vectors_data" if vec_meta["layout"] == "csr" else "vectors")
    known = {f"{p}{s}" for p in ("counts", "vectors") for s in ("_indptr", "_indices", "_data")}
    known |= {"magic", "format_version", "meta", "vocab_offsets", "vocab_utf8", "frequencies", "vectors"}
    extra = sorted(set(r.members) - known) + r.others
    if extra:
        logger.warning("ignoring members not part of a cooc model: %s", ", ".join(extra[:10]))

    return ModelData(words, vectors, counts, frequencies, window, stopwords, attributes, recipe)


def _check_values(words: list[str], counts: Any, vectors: Any, frequencies: Any, vec_member: str) -> None:
    """Refuse values no query could use: NaN or infinite vectors, norms float64 cannot hold, a column
    twice in a row, negative counts or frequencies."""

    def where(member: str, problem: str) -> str:
        m = re.match(r"row (\d+)", problem)
        word = f" (word {words[int(m.group(1))]!r})" if m and int(m.group(1)) < len(words) else ""
        return f"inconsistent model: member {member!r}: {problem}{word}"

    if counts is not None:
        problem = _counts_problem(counts.indptr, counts.indices, counts.data)
        if problem:
            member = "counts_data" if "negative" in problem else "counts_indices"
            raise _Refused(where(member, problem))
    if frequencies is not None and frequencies.size and int(frequencies.min()) < 0:
        raise _Refused(f"inconsistent model: member 'frequencies' holds a negative count "
                       f"(word {words[int(np.argmin(frequencies))]!r})")
    if is_sparse(vectors):
        problem = _vector_problem((vectors.indptr, vectors.indices, vectors.data))
        if problem and "column index" in problem:
            vec_member = "vectors_indices"
    else:
        problem = _vector_problem(vectors)
    if problem:
        raise _Refused(where(vec_member, problem))


def read_model(path: str | os.PathLike[str], *, max_inflated_bytes: int | str | None = None) -> ModelData:
    """Read a model file written by :func:`write_model`, refusing anything else with a clear error.

    Nothing is unpickled (``np.load(..., allow_pickle=False)``), and every member's declared size and
    shape are checked against the archive and against each other before its data is read, so a crafted
    file cannot make the loader allocate more memory than the file declares (see the module docstring).
    The values are checked too: finite vectors whose row norms float64 can hold, distinct column
    indices within each row, non-negative counts and frequencies.

    Decompression bombs: before anything is inflated, the sizes the zip directory declares are summed;
    by default a file whose members inflate to more than 64 times its size on disk *and* more than
    64 MiB in all is refused (a model saved with ``compress=True`` inflates about 3x). A trusted file
    that compresses better is read with an explicit ``max_inflated_bytes``, which replaces that rule by
    an absolute cap on the inflated total.

    Parameters
    ----------
    path : str or path-like
    max_inflated_bytes : int, str or None
        With a value (bytes, or a size such as ``"16GB"``), read the file whatever its compression
        ratio, as long as its members inflate to at most this many bytes in all.

    Returns
    -------
    ModelData
        The saved vocabulary, vectors (sparse CSR float64, or dense float32 or float64 as saved), counts (CSR,
        int64 data), frequencies, window, stopwords (a list) and other saved attributes (as JSON
        values: a tuple comes back as a list).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    IsADirectoryError
        ``path`` is a directory.
    ModelFileError
        A ``ValueError`` naming the file and the problem: not a zip/npz archive ("not a cooc model
        file"), an ``.npz`` without cooc's magic ("foreign .npz: not written by cooc"), an unsupported
        format version, a corrupt or truncated archive, a pickled member, missing members, wrong dtypes,
        or arrays inconsistent with each other.
    """
    start = time.perf_counter()
    limit = None if max_inflated_bytes is None else parse_size("max_inflated_bytes", max_inflated_bytes)
    p = Path(os.fspath(path))
    if p.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a cooc model file", str(p))
    with open(p, "rb") as fh:
        head = fh.read(4)
        if head not in _ZIP_MAGICS:
            if not head:
                what = "the file is empty"
            elif head.startswith(b"\x93NUM"):
                what = "it is a single .npy array, not an .npz archive"
            else:
                what = "it is not a zip/.npz archive"
            raise ModelFileError(p, f"not a cooc model file ({what})")
        archive_size = os.fstat(fh.fileno()).st_size
        fh.seek(0)
        try:
            with np.load(fh, allow_pickle=False) as npz:
                if not hasattr(npz, "zip"):  # pragma: no cover - np.load found no zip after all
                    raise _Refused("not a cooc model file (not an .npz archive)")
                model = _read_model(_Reader(npz, archive_size, limit))
        except _Refused as exc:
            raise ModelFileError(p, str(exc)) from None
        except OSError as exc:
            if exc.errno != errno.EINVAL:  # a genuine I/O error stays an OSError
                raise
            raise ModelFileError(p, f"corrupt or truncated cooc model file ({exc})") from exc
        except _CORRUPT_ERRORS as exc:
            raise ModelFileError(
                p, f"corrupt or truncated cooc model file ({type(exc).__name__}: {exc})"
            ) from exc
    logger.info("loaded %d words from %s in %.3f s", len(model.words), p, time.perf_counter() - start)
    return model


# -- word2vec format -------------------------------------------------------------------------------


def write_word2vec(
    path: str | os.PathLike[str],
    words: Sequence[str],
    vectors: Any,
    *,
    binary: bool = False,
    force: bool = False,
) -> Path:
    """Write the vectors in the word2vec C format, readable by gensim's ``load_word2vec_format``.

    A header line ``"V dim"``, then one line per word in vocabulary order. Text (``binary=False``):
    ``word v1 v2 ...`` with each value as Python's ``repr`` of the float64 (the shortest string that
    reads back to exactly the same float64). Binary (``binary=True``): the word, a space, ``dim``
    little-endian float32 values and a newline (as word2vec's C tool writes; gensim reads it), so values
    are rounded to float32. The write is atomic, like :func:`write_model`.

    Sparse vectors are densified one row at a time, never as a whole V x dim matrix; since the file
    itself is dense, sparse vectors with V x dim above :data:`WORD2VEC_MAX_DENSIFIED_VALUES` (10**8:
    a V x V model of 10,000 words) are refused unless ``force=True``. Dense vectors are never capped.

    Parameters
    ----------
    path : str or path-like
        Written exactly as given (a symlink is followed).
    words : sequence of str
    vectors : scipy.sparse matrix or ndarray, shape (len(words), dim)
    binary : bool, default False
    force : bool, default False
        Write sparse vectors of any size.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        A word that is empty, holds whitespace or cannot be encoded in UTF-8 (the format could not be
        read back), or sparse vectors above the cap without ``force``.
    IsADirectoryError, FileNotFoundError
        As for :func:`write_model`.
    """
    start = time.perf_counter()
    if not isinstance(binary, (bool, np.bool_)):
        raise TypeError(f"binary must be a bool, not {type(binary).__name__}")
    target = _prepare_target(path)
    words = list(words)
    encoded = []
    for i, w in enumerate(words):
        if not isinstance(w, str):
            raise TypeError(f"word {i} must be a str, not {type(w).__name__}")
        if w.split() != [w]:
            raise ValueError(
                f"word {i} ({w!r}) is empty or holds whitespace, which the word2vec format cannot hold"
            )
        try:
            encoded.append(w.encode("utf-8"))
        except UnicodeEncodeError:
            raise ValueError(f"word {i} ({w!r}) cannot be encoded in UTF-8") from None
    sparse = is_sparse(vectors)
    if sparse:
        m = sp.csr_matrix(vectors)
        if not m.has_canonical_format:  # duplicates must add up, as they do in the matrix
            m = m.copy()
            m.sum_duplicates()
        n_rows, dim = (int(k) for k in m.shape)
        if n_rows * dim > WORD2VEC_MAX_DENSIFIED_VALUES and not force:
            raise ValueError(
                f"writing {n_rows} sparse vectors of dimension {dim} in the (dense) word2vec format "
                f"means {n_rows * dim:,} values (about {n_rows * dim * 4 / 1e9:.1f} GB in binary, more "
                f"as text), above the cap of {WORD2VEC_MAX_DENSIFIED_VALUES:,}; pass force=True to "
                f"write it anyway, or use Embeddings.save() or to_scipy() to keep it sparse"
            )
        indptr, indices, data = m.indptr, m.indices, np.asarray(m.data, dtype=np.float64)
    else:
        dense = np.asarray(vectors, dtype=np.float64)
        if dense.ndim != 2:
            raise ValueError(f"vectors must be two-dimensional, got shape {dense.shape}")
        n_rows, dim = (int(k) for k in dense.shape)
    if n_rows != len(words):
        raise ValueError(f"vectors has {n_rows} rows but the vocabulary has {len(words)} words")

    def write(fh: IO[bytes]) -> None:
        fh.write(f"{n_rows} {dim}\n".encode("ascii"))
        row = np.zeros(dim, dtype=np.float64)
        for i, word in enumerate(encoded):
            if sparse:
                row[:] = 0.0
                lo, hi = indptr[i], indptr[i + 1]
                row[indices[lo:hi]] = data[lo:hi]
                values = row
            else:
                values = dense[i]
            if binary:
                fh.write(word + b" " + values.astype("<f4").tobytes() + b"\n")
            else:
                fh.write(word + b" " + " ".join(map(repr, values.tolist())).encode("ascii") + b"\n")

    _atomic_write(target, write)
    logger.info(
        "wrote %d vectors of dimension %d in the word2vec %s format to %s in %.3f s",
        n_rows, dim, "binary" if binary else "text", target, time.perf_counter() - start,
    )
    return Path(os.fspath(path))


def read_word2vec(
    path: str | os.PathLike[str], binary: bool = False, *, encoding: str = "utf-8", limit: int | None = None
) -> tuple[list[str], np.ndarray]:
    """Read word vectors in the word2vec C format (text or binary) or GloVe's text format.

    Text: an optional header line ``"V dim"`` (GloVe files have none: then every line is a word and
    its values, and ``dim`` is read from the first line), then one line per word: the word and
    ``dim`` numbers separated by spaces. Binary: the header, then per word the word, a space, ``dim``
    little-endian float32 values and an optional newline.

    Parameters
    ----------
    path : str or path-like
    binary : bool, default False
    encoding : str, default "utf-8"
        Of the words (and, for text files, the numbers).
    limit : int or None
        Read only the first ``limit`` vectors.

    Returns
    -------
    words : list of str
    vectors : float64 ndarray, shape (len(words), dim)

    Raises
    ------
    ValueError
        Naming the file and the line (text) or the vector (binary): a malformed header or line, a
        value that is not a finite number, a line of the wrong length, a repeated word, fewer vectors
        than the header announces, a truncated file.
    """
    if not isinstance(binary, (bool, np.bool_)):
        raise TypeError(f"binary must be a bool, not {type(binary).__name__}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 0):
        raise ValueError(f"limit must be a non-negative integer or None, got {limit!r}")
    p = Path(os.fspath(path))
    if p.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a word2vec file", str(p))
    if binary:
        return _read_word2vec_binary(p, p.read_bytes(), encoding, limit)
    lines = read_text(p, encoding).splitlines()
    if not lines or not lines[0].strip():
        raise ValueError(f"{p}: line 1: empty; expected a header 'V dim' or a word and its values")
    first = lines[0].split()
    header = len(first) == 2 and all(f.isdigit() for f in first)
    if header:
        n_declared, dim = int(first[0]), int(first[1])
        if dim < 1:
            raise ValueError(f"{p}: line 1: the header declares dimension {dim}; it must be at least 1")
        body = lines[1:]
        start = 2
    else:
        n_declared, dim = -1, len(first) - 1
        if dim < 1:
            raise ValueError(f"{p}: line 1: expected a word and its values, got {lines[0]!r}")
        body = lines
        start = 1
    n_lines = sum(1 for line in body if line.strip())
    want = n_declared if n_declared >= 0 else n_lines
    if limit is not None:
        want = min(want, limit)
    words: list[str] = []
    seen: dict[str, int] = {}
    vectors = np.empty((min(want, n_lines), dim), dtype=np.float64)  # never more than the file holds
    lineno = start - 1
    for lineno, line in enumerate(body, start):
        if not line.strip():  # blank lines are skipped
            continue
        if len(words) == want:
            if limit is not None and len(words) == limit:
                break
            raise ValueError(f"{p}: line {lineno}: more vectors than the {n_declared} the header declares")
        parts = line.rstrip().split(" ")
        if len(parts) != dim + 1:
            raise ValueError(
                f"{p}: line {lineno}: expected a word and {dim} values ({dim + 1} fields separated by "
                f"spaces), got {len(parts)} fields"
            )
        word = parts[0]
        if not word:
            raise ValueError(f"{p}: line {lineno}: the line starts with a space: no word")
        try:
            row = np.array(parts[1:], dtype=np.float64)
        except ValueError:
            bad = next(x for x in parts[1:] if not _is_float(x))
            raise ValueError(f"{p}: line {lineno}: {bad!r} is not a number") from None
        if not np.isfinite(row).all():
            raise ValueError(f"{p}: line {lineno}: a value is not finite (inf or nan)")
        if word in seen:
            raise ValueError(f"{p}: line {lineno}: the word {word!r} repeats line {seen[word]}")
        seen[word] = lineno
        vectors[len(words)] = row
        words.append(word)
    if len(words) < want:
        raise ValueError(
            f"{p}: line {lineno + 1}: the file ends after {len(words)} vector(s); the header declares {n_declared}"
        )
    return words, vectors


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_word2vec_binary(p: Path, raw: bytes, encoding: str, limit: int | None) -> tuple[list[str], np.ndarray]:
    end = raw.find(b"\n")
    head = raw[: end if end >= 0 else len(raw)].split()
    if len(head) != 2 or not all(h.isdigit() for h in head):
        raise ValueError(f"{p}: line 1: expected a header 'V dim' (two whole numbers), got {raw[:40]!r}")
    n_declared, dim = int(head[0]), int(head[1])
    if dim < 1:
        raise ValueError(f"{p}: line 1: the header declares dimension {dim}; it must be at least 1")
    want = n_declared if limit is None else min(n_declared, limit)
    row_bytes = 4 * dim
    if (len(raw) - end - 1) < want * (row_bytes + 2):
        raise ValueError(
            f"{p}: the file is {len(raw)} bytes, too short for the {n_declared} vectors of dimension "
            f"{dim} its header declares (truncated?)"
        )
    words: list[str] = []
    seen: dict[str, int] = {}
    vectors = np.empty((want, dim), dtype=np.float64)
    pos = end + 1
    for i in range(want):
        while raw[pos:pos + 1] == b"\n":
            pos += 1
        space = raw.find(b" ", pos, pos + 100_000)
        if space < 0 or space + 1 + row_bytes > len(raw):
            raise ValueError(f"{p}: vector {i + 1} of {n_declared}: truncated (the file ends inside it)")
        try:
            word = raw[pos:space].decode(encoding)
        except UnicodeDecodeError:
            raise ValueError(f"{p}: vector {i + 1}: the word {raw[pos:space]!r} is not valid {encoding}") from None
        if not word:
            raise ValueError(f"{p}: vector {i + 1}: empty word")
        row = np.frombuffer(raw, dtype="<f4", count=dim, offset=space + 1)
        if not np.isfinite(row).all():
            raise ValueError(f"{p}: vector {i + 1} ({word!r}): a value is not finite (inf or nan)")
        if word in seen:
            raise ValueError(f"{p}: vector {i + 1}: the word {word!r} repeats vector {seen[word]}")
        seen[word] = i + 1
        vectors[i] = row
        words.append(word)
        pos = space + 1 + row_bytes
    if limit is None and raw[pos:].strip(b"\n"):
        raise ValueError(f"{p}: {len(raw) - pos} bytes after the {n_declared} vectors the header declares")
    return words, vectors


# -- text files ------------------------------------------------------------------------------------


def read_text(path: str | os.PathLike[str], encoding: str | None = None) -> str:
    """The text of a file (UTF-8 by default); a decoding error names the file, the line and the byte."""
    raw = Path(path).read_bytes()
    enc = encoding or "utf-8"
    try:
        return raw.decode(enc)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValueError(
            f"{path}: line {line}: cannot decode byte 0x{raw[exc.start]:02x} as {enc}; "
            f"give the file's encoding (e.g. encoding='cp1252' / --encoding cp1252)"
        ) from None
