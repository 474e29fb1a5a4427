"""Model files (cooc.io): exact round trips, refusal of foreign/corrupt/crafted files, atomic writes,
and the word2vec export."""

from __future__ import annotations

import io as stdio
import logging
import os
import pickle
import stat
import struct
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import cooc
from cooc import io as cio

CORPUS = [
    "the cat sat on the mat",
    "the dog sat on the log",
    "a good cat and a good dog",
    "naïve cafés serve crème brûlée",
]

UNPICKLED: list[str] = []


def _record_unpickle(tag: str) -> str:
    UNPICKLED.append(tag)
    return tag


class _Booby:
    """Unpickling this calls _record_unpickle: a loader that unpickles leaves a trace in UNPICKLED."""

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (_record_unpickle, ("unpickled!",))


# -- helpers ---------------------------------------------------------------------------------------


def _members(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as fh:  # a file object: numpy appends no ".npz"
        np.savez(fh, **arrays)


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = stdio.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def _temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(cio.TEMP_PREFIX))


def _assert_csr_identical(a: sp.spmatrix, b: sp.spmatrix) -> None:
    assert a.shape == b.shape
    assert a.dtype == b.dtype
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.data, b.data)


def _meta(arrays: dict[str, np.ndarray]) -> dict:
    import json

    return json.loads(arrays["meta"].tobytes().decode("utf-8"))


def _with_meta(arrays: dict[str, np.ndarray], meta: dict) -> dict[str, np.ndarray]:
    import json

    out = dict(arrays)
    out["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    return out


@pytest.fixture
def pretrained() -> cooc.Embeddings:
    return cooc.pretrain(CORPUS, window=2)


@pytest.fixture
def model_file(tmp_path: Path, pretrained: cooc.Embeddings) -> Path:
    return pretrained.save(tmp_path / "model.npz")


# -- round trips -----------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True], ids=["stored", "deflated"])
def test_pretrained_round_trip_is_exact(tmp_path, pretrained, compress):
    path = pretrained.save(tmp_path / "model.npz", compress=compress)
    assert path == tmp_path / "model.npz"
    loaded = cooc.load(path)
    assert isinstance(loaded, cooc.Embeddings)
    assert loaded.index_to_key == pretrained.index_to_key
    assert loaded.key_to_index == pretrained.key_to_index
    assert loaded.counts.dtype == np.int64
    _assert_csr_identical(loaded.counts, pretrained.counts)
    assert sp.issparse(loaded.vectors)
    _assert_csr_identical(loaded.vectors, pretrained.vectors)
    assert loaded.frequencies.dtype == np.int64
    np.testing.assert_array_equal(loaded.frequencies, pretrained.frequencies)
    assert loaded.window == pretrained.window == 2
    assert loaded.stopwords == pretrained.stopwords == cooc.STOPWORDS
    assert loaded.most_similar("cat", topn=3) == pretrained.most_similar("cat", topn=3)
    with zipfile.ZipFile(path) as zf:
        methods = {i.compress_type for i in zf.infolist()}
    assert methods == {zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED}


def test_loaded_vectors_do_not_share_index_arrays_with_counts(model_file):
    loaded = cooc.load(model_file)
    assert not np.shares_memory(loaded.vectors.indices, loaded.counts.indices)
    assert not np.shares_memory(loaded.vectors.indptr, loaded.counts.indptr)


def test_stopwords_none_and_window_none_round_trip(tmp_path):
    emb = cooc.pretrain(CORPUS, stopwords=None)
    emb.window = None
    loaded = cooc.load(emb.save(tmp_path / "m.npz"))
    assert loaded.stopwords is None
    assert loaded.window is None
    assert "the" in loaded


def test_dense_vectors_round_trip(tmp_path, pretrained):
    emb = cooc.random_embeddings(pretrained, dim=7, seed=3)
    loaded = cooc.load(emb.save(tmp_path / "dense.npz"))
    assert isinstance(loaded.vectors, np.ndarray) and not sp.issparse(loaded.vectors)
    assert loaded.vectors.dtype == np.float64
    np.testing.assert_array_equal(loaded.vectors, emb.vectors)
    assert loaded.index_to_key == emb.index_to_key
    assert loaded.counts is None and loaded.frequencies is None
    assert loaded.stopwords == emb.stopwords


def test_sparse_vectors_with_their_own_structure_round_trip(tmp_path, pretrained):
    # vectors that do not share the counts' sparsity pattern are stored in full
    v = pretrained.vectors.tolil()
    v[0, 0] = 0.25
    emb = cooc.Embeddings(pretrained.index_to_key, v.tocsr(), pretrained.counts)
    path = emb.save(tmp_path / "m.npz")
    assert "vectors_indices" in _members(path)
    _assert_csr_identical(cooc.load(path).vectors, emb.vectors)


def test_counts_above_2_to_the_32_stay_exact(tmp_path):
    big = 2**40 + 3  # float32 or uint32 storage would change it
    words = ["alpha", "beta", "gamma"]
    indptr = np.array([0, 2, 3, 4], dtype=np.int64)
    indices = np.array([1, 2, 0, 0], dtype=np.int64)
    data = np.array([big, 2**33 + 1, big, 2**33 + 1], dtype=np.int64)
    counts = sp.csr_matrix((data, indices, indptr), shape=(3, 3))
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1), dtype=np.float64)).ravel()
    vectors = sp.csr_matrix(sp.diags(1.0 / norms) @ counts.astype(np.float64))
    emb = cooc.Embeddings(words, vectors, counts)
    loaded = cooc.load(emb.save(tmp_path / "big.npz"))
    assert loaded.counts.dtype == np.int64
    assert loaded.counts[0, 1] == big
    assert int(loaded.counts.sum()) == 2 * big + 2 * (2**33 + 1)
    np.testing.assert_array_equal(loaded.counts.toarray(), counts.toarray())
    np.testing.assert_array_equal(loaded.vectors.toarray(), vectors.toarray())


def test_any_python_word_round_trips(tmp_path):
    words = ["naïve", "日本語", "a b", "line\nbreak", "", "\udc80lone", "x" * 1000, "😀"]
    emb = cooc.Embeddings(words, np.eye(len(words)), stopwords=["é", "the"])
    loaded = cooc.load(emb.save(tmp_path / "w.npz"))
    assert loaded.index_to_key == words
    assert loaded.stopwords == frozenset({"é", "the"})


def test_empty_vocabulary_round_trips(tmp_path):
    emb = cooc.Embeddings([], np.zeros((0, 3)), stopwords=None)
    loaded = cooc.load(emb.save(tmp_path / "empty.npz"))
    assert len(loaded) == 0 and loaded.vectors.shape == (0, 3)


def test_other_attributes_are_kept_when_json_safe(tmp_path, pretrained, caplog):
    pretrained.min_count = np.int64(2)
    pretrained.corpus_name = "demo"
    pretrained.tags = ("a", "b")
    pretrained.opaque = object()
    with caplog.at_level(logging.WARNING, logger="cooc.io"):
        loaded = cooc.load(pretrained.save(tmp_path / "m.npz"))
    assert loaded.min_count == 2 and type(loaded.min_count) is int
    assert loaded.corpus_name == "demo"
    assert loaded.tags == ["a", "b"]
    assert not hasattr(loaded, "opaque")
    assert any("opaque" in r.getMessage() for r in caplog.records)


def test_saved_attribute_cannot_shadow_methods(tmp_path, model_file, caplog):
    arrays = _members(model_file)
    meta = _meta(arrays)
    meta["attributes"] = {"most_similar": 1, "vector_size": 2, "_csr": 3, "index_to_key": [], "ok": 4}
    _write_npz(model_file, _with_meta(arrays, meta))
    with caplog.at_level(logging.WARNING, logger="cooc.io"):
        loaded = cooc.load(model_file)
    assert callable(loaded.most_similar) and loaded.vector_size == len(loaded)
    assert loaded._csr is None and loaded.index_to_key and loaded.ok == 4


def test_big_endian_members_are_read(tmp_path, model_file, pretrained):
    arrays = {k: (v.astype(v.dtype.newbyteorder(">")) if v.dtype.itemsize > 1 else v)
              for k, v in _members(model_file).items()}
    _write_npz(model_file, arrays)
    loaded = cooc.load(model_file)
    np.testing.assert_array_equal(loaded.counts.toarray(), pretrained.counts.toarray())
    assert loaded.vectors.data.dtype.isnative


# -- paths -----------------------------------------------------------------------------------------


def test_save_writes_exactly_the_path_given(tmp_path, pretrained):
    out = pretrained.save(tmp_path / "model.bin")
    assert out == tmp_path / "model.bin"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.bin"]
    assert cooc.load(str(out)).index_to_key == pretrained.index_to_key


def test_save_replaces_and_keeps_permissions(tmp_path, pretrained):
    target = tmp_path / "m.npz"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    pretrained.save(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert cooc.load(target).index_to_key == pretrained.index_to_key


def test_new_file_follows_umask_not_mkstemp(tmp_path, pretrained):
    old = os.umask(0o027)
    try:
        pretrained.save(tmp_path / "m.npz")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.npz").stat().st_mode) == 0o640


def test_save_through_a_symlink_replaces_its_target(tmp_path, pretrained):
    real = tmp_path / "real.npz"
    real.write_bytes(b"old")
    link = tmp_path / "link.npz"
    link.symlink_to(real)
    pretrained.save(link)
    assert link.is_symlink()
    assert cooc.load(real).index_to_key == pretrained.index_to_key


def test_save_refuses_a_directory(tmp_path, pretrained):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        pretrained.save(tmp_path)
    with pytest.raises(IsADirectoryError):
        pretrained.save_word2vec_format(tmp_path)
    assert _temp_files(tmp_path) == []


def test_save_into_a_missing_directory(tmp_path, pretrained):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        pretrained.save(tmp_path / "nowhere" / "m.npz")


def test_load_missing_path(tmp_path):
    missing = tmp_path / "missing.npz"
    with pytest.raises(FileNotFoundError) as info:
        cooc.load(missing)
    assert str(missing) in str(info.value)


def test_load_directory(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        cooc.load(tmp_path)


def test_save_refuses_what_it_cannot_store_exactly(tmp_path, pretrained):
    floats = cooc.Embeddings(pretrained.index_to_key, pretrained.vectors, pretrained.vectors)
    with pytest.raises(ValueError, match="counts must hold integers"):
        floats.save(tmp_path / "m.npz")
    pretrained.frequencies = pretrained.frequencies[:-1]
    with pytest.raises(ValueError, match="frequencies has shape"):
        pretrained.save(tmp_path / "m.npz")
    pretrained.frequencies = None
    pretrained.window = 2.5
    with pytest.raises(ValueError, match="window"):
        pretrained.save(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


# -- refusals --------------------------------------------------------------------------------------


def _refused(path: Path, match: str) -> cio.ModelFileError:
    with pytest.raises(ValueError, match=match) as info:
        cooc.load(path)
    assert isinstance(info.value, cio.ModelFileError)
    assert str(path) in str(info.value), "the message must name the file"
    return info.value


def test_foreign_npz_is_refused(tmp_path):
    path = tmp_path / "foreign.npz"
    rng = np.random.default_rng(0)
    np.savez(path, a=rng.random(10), b=rng.integers(0, 9, 5))
    err = _refused(path, "not written by cooc")
    again = pickle.loads(pickle.dumps(err))  # crosses process boundaries intact
    assert str(again) == str(err) and again.path == err.path


def test_npz_with_wrong_magic_is_refused(tmp_path, model_file):
    arrays = _members(model_file)
    arrays["magic"] = np.frombuffer(b"cooc-modeX", dtype=np.uint8)
    _write_npz(model_file, arrays)
    _refused(model_file, "not written by cooc")


@pytest.mark.parametrize(
    "content, match",
    [
        (bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8)), "not a cooc model file"),
        (b"", "not a cooc model file"),
        (b"word 0.1 0.2\n", "not a cooc model file"),
        (_npy_bytes(np.arange(5)), "not a cooc model file"),
        (b"PK\x03\x04" + b"\x00" * 100, "corrupt or truncated"),
    ],
    ids=["random-bytes", "empty", "text", "npy", "zip-magic-then-junk"],
)
def test_junk_is_refused(tmp_path, content, match):
    path = tmp_path / "junk.npz"
    path.write_bytes(content)
    _refused(path, match)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
def test_truncated_file_is_refused(model_file, fraction):
    data = model_file.read_bytes()
    model_file.write_bytes(data[: int(len(data) * fraction)])
    _refused(model_file, "corrupt or truncated")


def test_flipped_byte_in_array_data_is_refused(model_file):
    with zipfile.ZipFile(model_file) as zf:
        info = zf.getinfo("counts_data.npy")
    raw = bytearray(model_file.read_bytes())
    name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26 : info.header_offset + 30])
    data_start = info.header_offset + 30 + name_len + extra_len
    raw[data_start + info.file_size - 3] ^= 0x5A  # inside the last count, past the .npy header
    model_file.write_bytes(bytes(raw))
    _refused(model_file, "corrupt or truncated")


def test_future_format_version_is_refused(model_file):
    arrays = _members(model_file)
    arrays["format_version"] = np.array(2, dtype=np.int64)
    _write_npz(model_file, arrays)
    err = _refused(model_file, "format version 2 is not supported")
    assert "version(s) 1" in str(err) and "newer" in str(err)


def test_pickled_member_is_refused_without_unpickling(model_file):
    UNPICKLED.clear()
    arrays = _members(model_file)
    arrays["meta"] = np.array([_Booby()], dtype=object)
    with open(model_file, "wb") as fh:
        np.savez(fh, **arrays)  # pickles the object array
    with zipfile.ZipFile(model_file) as zf:
        assert b"_Booby" in zf.read("meta.npy") or b"_record_unpickle" in zf.read("meta.npy")
    _refused(model_file, "Python objects")
    assert UNPICKLED == []


def test_pickled_vocabulary_is_refused_without_unpickling(model_file):
    UNPICKLED.clear()
    arrays = _members(model_file)
    arrays["vocab_utf8"] = np.array([_Booby(), "cat"], dtype=object)
    _write_npz(model_file, arrays)
    _refused(model_file, "Python objects")
    assert UNPICKLED == []


def _tamper_cases():
    def drop(name):
        return lambda a: {k: v for k, v in a.items() if k != name}

    def replace(name, fn):
        def f(a):
            a = dict(a)
            a[name] = fn(a[name])
            return a
        return f

    def not_monotone(indptr):
        out = indptr.copy()
        out[1], out[2] = out[2], out[1] - 1
        return out

    def out_of_range(indices):
        out = indices.copy()
        out[0] = 10_000
        return out

    def bad_utf8(buf):
        out = buf.copy()
        out[0] = 0xFF
        return out

    def duplicate_word(a):
        a = dict(a)
        off = a["vocab_offsets"]
        first = a["vocab_utf8"][off[0] : off[1]].tobytes()
        second = a["vocab_utf8"][off[1] : off[2]].tobytes()
        words = a["vocab_utf8"].tobytes()
        a["vocab_utf8"] = np.frombuffer(first + first + words[len(first) + len(second):], dtype=np.uint8)
        a["vocab_offsets"] = off.copy()
        a["vocab_offsets"][2:] += len(first) - len(second)
        return a

    def meta_vocab_size(a):
        meta = _meta(a)
        meta["vocab_size"] += 1
        return _with_meta(a, meta)

    def meta_garbage(a):
        a = dict(a)
        a["meta"] = np.frombuffer(b"{not json", dtype=np.uint8)
        return a

    return [
        ("missing-counts-data", drop("counts_data"), "'counts_data' is missing"),
        ("missing-vocab", drop("vocab_utf8"), "'vocab_utf8' is missing"),
        ("missing-meta", drop("meta"), "'meta' is missing"),
        ("vocab-offsets-longer", replace("vocab_offsets", lambda o: np.append(o, o[-1])), "shape"),
        ("indptr-longer", replace("counts_indptr", lambda p: np.append(p, p[-1])), "shape"),
        ("indptr-not-monotone", replace("counts_indptr", not_monotone), "not monotone"),
        ("indptr-end", replace("counts_indptr", lambda p: p - np.int32(0) + (p > 0)), "expected 0 to"),
        ("indices-out-of-range", replace("counts_indices", out_of_range), "outside"),
        ("indices-longer-than-indptr", replace("counts_indices", lambda i: np.append(i, 0)), "shape"),
        ("data-shorter", replace("counts_data", lambda d: d[:-1]), "shape"),
        ("vectors-data-shorter", replace("vectors_data", lambda d: d[:-1]), "shape"),
        ("counts-float", replace("counts_data", lambda d: d.astype(np.float64)), "dtype float64"),
        ("counts-int32", replace("counts_data", lambda d: d.astype(np.int32)), "dtype int32"),
        ("indptr-float", replace("counts_indptr", lambda p: p.astype(np.float64)), "dtype"),
        ("vocab-unicode-array", replace("vocab_utf8", lambda b: np.array(["cat", "dog"])), "dtype"),
        ("frequencies-shorter", replace("frequencies", lambda f: f[:-1]), "shape"),
        ("bad-utf8", replace("vocab_utf8", bad_utf8), "UTF-8"),
        ("duplicate-word", duplicate_word, "distinct"),
        ("meta-vocab-size", meta_vocab_size, "shape|rows"),
        ("meta-garbage", meta_garbage, "corrupt settings"),
    ]


@pytest.mark.parametrize(
    "tamper, match", [c[1:] for c in _tamper_cases()], ids=[c[0] for c in _tamper_cases()]
)
def test_inconsistent_arrays_are_refused(model_file, tamper, match):
    _write_npz(model_file, tamper(_members(model_file)))
    _refused(model_file, match)


def _crafted_zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, payload in members.items():
            zf.writestr(name + ".npy", payload)


def test_headers_claiming_huge_arrays_are_refused_before_allocating(model_file):
    """A forged vocab_size of 2**27 with .npy headers that all agree with it (the offsets alone would be
    1 GiB), over a few bytes of data: numpy would allocate each array before noticing the data is
    missing, so the loader must compare each header with the size the zip entry declares."""
    arrays = _members(model_file)
    n = 2**27
    meta = _meta(arrays)
    meta["vocab_size"] = n
    meta["vectors"]["shape"] = [n, n]
    meta["counts"]["shape"] = [n, n]
    payloads = {k: _npy_bytes(v) for k, v in _with_meta(arrays, meta).items()}
    for name, shape in [("vocab_offsets", n + 1), ("frequencies", n), ("counts_indptr", n + 1)]:
        header = stdio.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": "<i8", "fortran_order": False, "shape": (shape,)}
        )
        payloads[name] = header.getvalue() + b"\x00" * 16
    _crafted_zip(model_file, payloads)
    tracemalloc.start()
    try:
        with pytest.raises(cio.ModelFileError, match="declares shape") as info:
            cooc.load(model_file)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(model_file) in str(info.value)
    assert peak < 32 * 2**20, f"the loader allocated {peak} bytes for a {model_file.stat().st_size}-byte file"


@pytest.mark.parametrize(
    "fields, match",
    [((24,), "inconsistent sizes"), ((20, 24), "but the file has")],
    ids=["uncompressed-size", "both-sizes"],
)
def test_zip_entry_sizes_beyond_the_archive_are_refused(model_file, fields, match):
    """The zip directory declares a size for a stored member that its data cannot have."""
    raw = bytearray(model_file.read_bytes())
    name = b"counts_data.npy"
    pos = raw.rfind(name)  # the central directory comes after the local headers
    record = pos - 46
    assert raw[record : record + 4] == b"PK\x01\x02"
    for offset in fields:  # 20: compressed size, 24: uncompressed size (32-bit fields)
        raw[record + offset : record + offset + 4] = struct.pack("<I", 2**31)
    model_file.write_bytes(bytes(raw))
    _refused(model_file, match)


# -- atomic writes ---------------------------------------------------------------------------------


def test_failed_rename_leaves_target_and_no_temp_file(tmp_path, pretrained, monkeypatch):
    target = tmp_path / "model.npz"
    target.write_bytes(b"previous content")

    def failing_replace(src, dst):
        raise OSError("simulated failure in os.replace")

    monkeypatch.setattr(cio.os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated"):
        pretrained.save(target)
    assert target.read_bytes() == b"previous content"
    assert _temp_files(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


@pytest.mark.parametrize("exc", [KeyboardInterrupt, OSError], ids=["ctrl-c", "disk-error"])
def test_interrupted_write_leaves_target_and_no_temp_file(tmp_path, pretrained, monkeypatch, exc):
    target = tmp_path / "model.npz"
    pretrained.save(target)
    before = target.read_bytes()
    real_savez = np.savez
    calls = []

    def savez_then_interrupt(file, *args, **kwargs):
        calls.append(file)
        buf = stdio.BytesIO()
        real_savez(buf, *args, **kwargs)
        file.write(buf.getvalue()[: len(before) // 2])  # half a file reaches the disk
        file.flush()
        assert _temp_files(tmp_path), "the write must go through a temporary file"
        raise exc("simulated interruption")

    monkeypatch.setattr(np, "savez", savez_then_interrupt)
    other = cooc.pretrain(["completely different words here"])
    with pytest.raises(exc):
        other.save(target)
    assert calls, "save must write through numpy.savez"
    assert target.read_bytes() == before
    assert _temp_files(tmp_path) == []
    assert cooc.load(target).index_to_key == pretrained.index_to_key


def test_interrupted_first_write_leaves_nothing(tmp_path, pretrained, monkeypatch):
    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(KeyboardInterrupt):
        pretrained.save(tmp_path / "model.npz")
    assert list(tmp_path.iterdir()) == []


def test_word2vec_write_is_atomic(tmp_path, pretrained, monkeypatch):
    target = tmp_path / "vectors.txt"
    target.write_text("previous\n")

    def failing_replace(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(cio.os, "replace", failing_replace)
    with pytest.raises(KeyboardInterrupt):
        pretrained.save_word2vec_format(target)
    assert target.read_text() == "previous\n"
    assert _temp_files(tmp_path) == []


# -- word2vec format -------------------------------------------------------------------------------


def _parse_word2vec_text(path: Path) -> tuple[list[str], np.ndarray]:
    lines = path.read_bytes().decode("utf-8").split("\n")
    n, dim = (int(x) for x in lines[0].split(" "))
    assert lines[n + 1 :] == [""], "one line per word, newline-terminated, nothing after"
    words, rows = [], []
    for line in lines[1 : n + 1]:
        parts = line.split(" ")
        assert len(parts) == dim + 1
        words.append(parts[0])
        rows.append([float(x) for x in parts[1:]])
    return words, np.array(rows, dtype=np.float64).reshape(n, dim)


def _parse_word2vec_binary(path: Path) -> tuple[list[str], np.ndarray]:
    data = path.read_bytes()
    eol = data.index(b"\n")
    n, dim = (int(x) for x in data[:eol].split())
    pos = eol + 1
    words, rows = [], []
    for _ in range(n):
        space = data.index(b" ", pos)
        words.append(data[pos:space].decode("utf-8"))
        pos = space + 1
        rows.append(np.frombuffer(data, dtype="<f4", count=dim, offset=pos))
        pos += 4 * dim
        assert data[pos : pos + 1] == b"\n"
        pos += 1
    assert pos == len(data)
    return words, np.array(rows).reshape(n, dim)


def test_word2vec_text_of_dense_vectors_parses_back_exactly(tmp_path, pretrained):
    emb = cooc.random_embeddings(pretrained, dim=6, seed=5)
    out = emb.save_word2vec_format(tmp_path / "vectors.txt")
    assert out == tmp_path / "vectors.txt"
    words, vectors = _parse_word2vec_text(out)
    assert words == emb.index_to_key
    np.testing.assert_array_equal(vectors, emb.vectors)  # repr round-trips float64 exactly


def test_word2vec_text_of_sparse_vectors_parses_back_exactly(tmp_path, pretrained):
    words, vectors = _parse_word2vec_text(pretrained.save_word2vec_format(tmp_path / "v.txt"))
    assert words == pretrained.index_to_key  # UTF-8 words included
    np.testing.assert_array_equal(vectors, pretrained.vectors.toarray())


def test_word2vec_sparse_duplicates_add_up(tmp_path):
    m = sp.csr_matrix((np.array([0.5, 0.25]), np.array([1, 1]), np.array([0, 2, 2])), shape=(2, 2))
    emb = cooc.Embeddings(["a", "b"], m)
    emb.vectors = m  # keep the duplicate entries as given
    _, vectors = _parse_word2vec_text(emb.save_word2vec_format(tmp_path / "v.txt"))
    np.testing.assert_array_equal(vectors, [[0.0, 0.75], [0.0, 0.0]])


@pytest.mark.parametrize("dense", [True, False], ids=["dense", "sparse"])
def test_word2vec_binary_parses_back(tmp_path, pretrained, dense):
    emb = cooc.random_embeddings(pretrained, dim=5, seed=1) if dense else pretrained
    words, vectors = _parse_word2vec_binary(
        emb.save_word2vec_format(tmp_path / "v.bin", binary=True)
    )
    expected = emb.vectors if dense else emb.vectors.toarray()
    assert words == emb.index_to_key
    np.testing.assert_array_equal(vectors, expected.astype(np.float32))


def test_word2vec_densifies_sparse_rows_one_at_a_time(tmp_path):
    n = 1500  # a dense float64 copy is 18 MB, float32 9 MB
    emb = cooc.Embeddings([f"w{i}" for i in range(n)], sp.identity(n, format="csr"))
    tracemalloc.start()
    try:
        emb.save_word2vec_format(tmp_path / "v.bin", binary=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20, f"peak {peak} bytes: the whole matrix was densified"
    words, vectors = _parse_word2vec_binary(tmp_path / "v.bin")
    assert words[:2] == ["w0", "w1"]
    np.testing.assert_array_equal(vectors, np.eye(n, dtype=np.float32))


def test_word2vec_refuses_large_sparse_unless_forced(tmp_path, pretrained, monkeypatch):
    n = len(pretrained)
    monkeypatch.setattr(cio, "WORD2VEC_MAX_DENSIFIED_VALUES", n * n - 1)
    with pytest.raises(ValueError, match="force=True"):
        pretrained.save_word2vec_format(tmp_path / "v.txt")
    assert list(tmp_path.iterdir()) == []
    pretrained.save_word2vec_format(tmp_path / "v.txt", force=True)
    # dense vectors are never capped
    monkeypatch.setattr(cio, "WORD2VEC_MAX_DENSIFIED_VALUES", 1)
    cooc.random_embeddings(pretrained, dim=4).save_word2vec_format(tmp_path / "d.txt")


@pytest.mark.parametrize("bad", ["a b", "tab\there", "", "new\nline", "\udc80"])
def test_word2vec_refuses_words_the_format_cannot_hold(tmp_path, bad):
    emb = cooc.Embeddings(["ok", bad], np.eye(2))
    with pytest.raises(ValueError, match="word 1"):
        emb.save_word2vec_format(tmp_path / "v.txt")
    assert list(tmp_path.iterdir()) == []


def test_recipe_metadata_round_trip_and_refusal(tmp_path):
    """The model file's settings carry the recipe as a JSON object; anything else is refused."""
    from cooc import io as cio

    words, vectors = ["a", "b"], np.eye(2)
    recipe = {"window": 2, "distance": "uniform", "stopwords": ["x"], "shift": None}
    path = cio.write_model(tmp_path / "r.npz", cio.ModelData(words, vectors, recipe=recipe))
    assert cio.read_model(path).recipe == recipe
    assert cio.read_model(cio.write_model(tmp_path / "none.npz", cio.ModelData(words, vectors))).recipe is None
    with pytest.raises(ValueError, match="recipe must be a JSON object"):
        cio.write_model(tmp_path / "bad.npz", cio.ModelData(words, vectors, recipe=["window", 2]))  # type: ignore[arg-type]
    # a file whose settings hold a recipe that is not an object
    import json
    import zipfile

    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    meta = json.loads(np.lib.format.read_array(__import__("io").BytesIO(members["meta.npy"])).tobytes())
    meta["recipe"] = [1, 2]
    buf = __import__("io").BytesIO()
    np.lib.format.write_array(buf, np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    members["meta.npy"] = buf.getvalue()
    with zipfile.ZipFile(tmp_path / "corrupt.npz", "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(cooc.ModelFileError, match="recipe is not a JSON object"):
        cooc.load(tmp_path / "corrupt.npz")
