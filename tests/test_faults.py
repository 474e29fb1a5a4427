"""Faults and bad input, from the API and from the CLI: every case ends in a clean result.

From the API: a ValueError / TypeError / OSError subclass (a ModelFileError for a file ``load``
refuses) naming the parameter, the file and the member; never NaN vectors, a kernel-internal message or
a silently clamped value. From the CLI (run in process): one line on stderr, exit status 2 for bad
input (1 for an unexpected error, 130 for Ctrl-C), no traceback, the CLI's option names.

Sections: text input, parameters, outputs, hostile model files (flipped header bytes, NaN, duplicate
indices, bombs, truncation), faults (a full disk, kill -9 then a later run), concurrency.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import cooc
from cooc import counting
from cooc import io as cio
from cooc._stale import owner_tag, remove_stale
from cooc.cli import main

SENTENCES = ["good food here", "good wine there", "bad food", "good bad wine", "wine food good"]


def words_corpus(n_lines: int, n_words: int = 2000, per_line: int = 20, seed: int = 0) -> list[str]:
    """Lines of letter-only words (the tokenizer keeps runs of letters), many distinct pairs."""
    rng = np.random.default_rng(seed)

    def word(i: int) -> str:
        s = ""
        i += 26
        while i:
            i, r = divmod(i, 26)
            s = chr(97 + r) + s
        return s

    vocab = [word(i) for i in range(n_words)]
    return [" ".join(vocab[k] for k in rng.integers(0, n_words, per_line)) for _ in range(n_lines)]


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        status = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's own errors: one line, status 2
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "good.txt").write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "stop.txt").write_text("the and of\nit is a\n", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 cr\xe8me\nbon caf\xe9\n".encode("latin-1"))
    (tmp_path / "junk.bin").write_bytes(bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)))
    (tmp_path / "sub").mkdir()
    cooc.pretrain(SENTENCES).save(tmp_path / "model.npz")
    return tmp_path


# -- text input and parameters through the CLI -------------------------------------------------------

CLI_BAD = {
    "window 2**63": (["--window", "9223372036854775808"], "--window"),
    "window 2**31": (["--window", str(2**31)], "--window"),
    "window 0": (["--window", "0"], "--window"),
    "p 150": (["--dim", "2", "--p", "150"], "--p"),
    "p negative": (["--dim", "2", "--p", "-1"], "--p"),
    "p nan": (["--dim", "2", "--p", "nan"], "--p"),
    "p inf": (["--dim", "2", "--p", "inf"], "--p"),
    "seed -1": (["--seed", "-1"], "--seed"),
    "cds 0": (["--cds", "0"], "--cds"),
    "cds 1.5": (["--cds", "1.5"], "--cds"),
    "shift below 1": (["--weighting", "ppmi", "--shift", "0.5"], "--shift"),
    "shift on counts": (["--shift", "2"], "--shift"),
    "add-context without dim": (["--add-context"], "--dim"),
    "encoding rot13": (["--encoding", "rot13"], "--encoding"),
    "encoding base64": (["--encoding", "base64"], "--encoding"),
    "encoding unknown": (["--encoding", "no-such-codec"], "--encoding"),
    "encoding utf-16 on utf-8": (["--encoding", "utf-16"], "--encoding"),
    "memory limit 5 bytes": (["--memory-limit", "5"], "--memory-limit"),
    "memory limit 400 digits": (["--memory-limit", "9" * 400], "--memory-limit"),
    "memory limit words": (["--memory-limit", "lots"], "--memory-limit"),
    "tmp dir missing": (["--tmp-dir", "no/such/dir"], "--tmp-dir"),
    "min count too high": (["--min-count", "99"], "--min-count 99"),
    "jobs 0": (["--jobs", "0"], "--jobs"),
}


@pytest.mark.parametrize("name", list(CLI_BAD))
def test_bad_options_are_one_line_naming_the_option(files, capsys, monkeypatch, name):
    monkeypatch.chdir(files)
    extra, needle = CLI_BAD[name]
    status, out, err = cli(capsys, "pretrain", "good.txt", "-o", "out.npz", "-q", *extra)
    assert status == 2, err
    line = one_line(err)
    assert needle in line, line
    for python_name in ("dim=", "errors=", "seed=", "window=", "min_count"):
        assert python_name not in line, line
    assert not (files / "out.npz").exists()


CLI_BAD_TEXT = {
    "empty corpus": (["empty.txt"], "empty"),
    "only stopwords": (["stop.txt"], "empty"),
    "binary junk": (["junk.bin"], "junk.bin"),
    "latin-1 read as utf-8": (["latin1.txt"], "--errors"),
    "missing file": (["nope.txt"], "nope.txt"),
    "a directory": (["sub"], "sub"),
}


@pytest.mark.parametrize("name", list(CLI_BAD_TEXT))
def test_bad_text_is_one_line(files, capsys, monkeypatch, name):
    monkeypatch.chdir(files)
    corpus, needle = CLI_BAD_TEXT[name]
    status, _, err = cli(capsys, "pretrain", *corpus, "-o", "out.npz", "-q")
    assert status == 2, err
    assert needle in one_line(err)
    assert "errors='replace'" not in err


def test_latin1_text_reads_with_its_encoding(files, capsys, monkeypatch):
    monkeypatch.chdir(files)
    status, _, err = cli(capsys, "pretrain", "latin1.txt", "-o", "out.npz", "-q", "--encoding", "latin-1")
    assert status == 0, err
    assert "café" in cooc.load(files / "out.npz")


def test_utf16_decoding_error_names_the_file(files, capsys, monkeypatch):
    monkeypatch.chdir(files)
    status, _, err = cli(capsys, "pretrain", "good.txt", "-o", "out.npz", "--encoding", "utf-16")
    assert status == 2
    assert "good.txt" in one_line(err)


# -- outputs ---------------------------------------------------------------------------------------


def test_output_that_is_the_input_is_refused(files, capsys, monkeypatch):
    monkeypatch.chdir(files)
    before = (files / "good.txt").read_bytes()
    status, _, err = cli(capsys, "pretrain", "good.txt", "-o", "good.txt")
    assert status == 2
    assert "is the input" in one_line(err)
    assert (files / "good.txt").read_bytes() == before


def test_output_that_is_the_input_by_another_path_is_refused(files, capsys, monkeypatch):
    monkeypatch.chdir(files)
    os.link(files / "good.txt", files / "hard.txt")
    os.symlink(files / "good.txt", files / "soft.txt")
    before = (files / "good.txt").read_bytes()
    for out in ("./sub/../good.txt", "hard.txt", "soft.txt", str(files / "good.txt")):
        status, _, err = cli(capsys, "pretrain", "empty.txt", "good.txt", "-o", out)
        assert status == 2, out
        assert "is the input" in one_line(err)
    assert (files / "good.txt").read_bytes() == before


def test_output_symlink_loop_is_one_line(files, capsys, monkeypatch):
    monkeypatch.chdir(files)
    os.symlink("loop", files / "loop")
    status, _, err = cli(capsys, "pretrain", "good.txt", "-o", "loop")
    assert status == 2
    assert "symlink" in one_line(err)


def test_api_write_to_a_symlink_loop_is_an_oserror(files):
    os.symlink("loop", files / "loop")
    with pytest.raises(OSError, match="symlink"):
        cooc.pretrain(SENTENCES).save(files / "loop")


# -- parameters through the API (both backends) ------------------------------------------------------

API_BAD = {
    "p 150": ({"dim": 2, "p": 150}, ValueError, "p must be"),
    "p nan": ({"dim": 2, "p": float("nan")}, ValueError, "p must be"),
    "p negative": ({"dim": 2, "p": -0.5}, ValueError, "p must be"),
    "seed -1": ({"seed": -1}, ValueError, "seed"),
    "seed float": ({"seed": 1.5}, TypeError, "seed"),
    "window 2**63": ({"window": 2**63}, ValueError, "window"),
    "window 2**31": ({"window": 2**31}, ValueError, "window"),
    "memory limit overflow": ({"memory_limit": "9" * 400 + "GB"}, ValueError, "memory_limit"),
}


@pytest.mark.parametrize("name", list(API_BAD))
def test_bad_parameters_from_the_api(backend, name):
    kwargs, kind, needle = API_BAD[name]
    with pytest.raises(kind, match=needle):
        cooc.pretrain(SENTENCES, **kwargs)


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 4.0])
def test_allowed_p_gives_finite_unit_vectors(backend, p):
    emb = cooc.pretrain(SENTENCES, dim=3, p=p)
    assert np.all(np.isfinite(emb.vectors))
    norms = np.linalg.norm(emb.vectors, axis=1)
    assert np.allclose(norms[norms > 0], 1.0)


# -- the last line of defence when saving ------------------------------------------------------------


def dense_model(values: np.ndarray) -> cio.ModelData:
    return cio.ModelData([f"w{i}" for i in range(values.shape[0])], values)


SAVE_BAD = {
    "nan dense": (np.array([[1.0, np.nan], [0.5, 0.5]]), "NaN"),
    "inf dense": (np.array([[1.0, 0.0], [np.inf, 0.5]]), "row 1"),
    "nan sparse": (sp.csr_matrix(np.array([[1.0, 0.0], [np.nan, 0.0]])), "NaN"),
    "denormal": (np.array([[5e-324, 1e-320], [1.0, 0.0]]), "denormal"),
    "too large": (np.array([[1e200, 1e200], [1.0, 0.0]]), "too large"),
}


@pytest.mark.parametrize("name", list(SAVE_BAD))
def test_save_refuses_vectors_no_query_could_use(tmp_path, name):
    values, needle = SAVE_BAD[name]
    with pytest.raises(ValueError, match=needle):
        cio.write_model(tmp_path / "m.npz", dense_model(values))
    assert not (tmp_path / "m.npz").exists()
    assert not list(tmp_path.iterdir())


def test_save_refuses_negative_counts(tmp_path):
    model = dense_model(np.eye(2))
    model.counts = sp.csr_matrix(np.array([[0, -1], [1, 0]]))
    with pytest.raises(ValueError, match="negative"):
        cio.write_model(tmp_path / "m.npz", model)


def test_save_sums_duplicate_entries_as_scipy_reads_them(tmp_path):
    m = sp.csr_matrix((np.array([0.5, 0.25, 1.0]), np.array([1, 1, 0]), np.array([0, 2, 3])), shape=(2, 2))
    emb = cooc.Embeddings(["a", "b"], m, stopwords=None)
    emb.save(tmp_path / "m.npz")
    back = cooc.load(tmp_path / "m.npz")
    assert back.vectors.toarray().tolist() == [[0.0, 0.75], [1.0, 0.0]]
    assert back.most_similar("a", topn=1) == [("b", 0.0)]


# -- hostile model files -----------------------------------------------------------------------------


def members(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def craft(path: Path, arrays: dict[str, np.ndarray], compress: bool = False) -> Path:
    (np.savez_compressed if compress else np.savez)(path, **arrays)
    return path


def refused(path: Path, *needles: str) -> cio.ModelFileError:
    with pytest.raises(cio.ModelFileError) as info:
        cooc.load(path)
    msg = str(info.value)
    assert str(path) in msg
    for needle in needles:
        assert needle in msg, msg
    return info.value


def test_nan_in_sparse_vectors_is_refused_naming_the_member(files):
    a = members(files / "model.npz")
    a["vectors_data"] = a["vectors_data"].copy()
    a["vectors_data"][2] = np.nan
    refused(craft(files / "bad.npz", a), "'vectors_data'", "NaN", "word")


def test_inf_in_dense_vectors_is_refused(tmp_path):
    cooc.random_embeddings(["a", "b", "c"], dim=4).save(tmp_path / "m.npz")
    a = members(tmp_path / "m.npz")
    a["vectors"] = a["vectors"].copy()
    a["vectors"][1, 2] = np.inf
    refused(craft(tmp_path / "bad.npz", a), "'vectors'", "row 1", "'b'")


def test_denormal_vectors_are_refused(tmp_path):
    cooc.random_embeddings(["a", "b", "c"], dim=4).save(tmp_path / "m.npz")
    a = members(tmp_path / "m.npz")
    a["vectors"] = a["vectors"] * 1e-310
    refused(craft(tmp_path / "bad.npz", a), "denormal")


def test_duplicate_column_in_a_row_is_refused(files):
    a = members(files / "model.npz")
    ptr, ind = a["counts_indptr"], a["counts_indices"].copy()
    row = int(np.flatnonzero(np.diff(ptr) >= 2)[0])
    ind[ptr[row] + 1] = ind[ptr[row]]
    a["counts_indices"] = ind
    refused(craft(files / "bad.npz", a), "'counts_indices'", f"row {row}", "twice")


def test_duplicate_column_in_own_vector_structure_is_refused(tmp_path):
    m = sp.csr_matrix(np.array([[0.0, 0.6, 0.8], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    cooc.Embeddings(["a", "b", "c"], m, stopwords=None).save(tmp_path / "m.npz")
    a = members(tmp_path / "m.npz")
    a["vectors_indices"] = np.array([1, 1, 0, 1], dtype=a["vectors_indices"].dtype)
    refused(craft(tmp_path / "bad.npz", a), "'vectors_indices'", "row 0")


def test_unsorted_but_distinct_indices_still_load(tmp_path):
    m = sp.csr_matrix((np.array([0.8, 0.6, 1.0]), np.array([2, 1, 0]), np.array([0, 2, 3, 3])), shape=(3, 3))
    cio.write_model(tmp_path / "m.npz", cio.ModelData(["a", "b", "c"], m))
    assert cooc.load(tmp_path / "m.npz").similarity("a", "b") == 0.0


def test_negative_counts_are_refused(files):
    a = members(files / "model.npz")
    a["counts_data"] = -a["counts_data"]
    refused(craft(files / "bad.npz", a), "'counts_data'", "negative")


def test_negative_frequencies_are_refused(files):
    a = members(files / "model.npz")
    a["frequencies"] = a["frequencies"].copy()
    a["frequencies"][0] = -3
    refused(craft(files / "bad.npz", a), "'frequencies'")


def member_header_spans(path: Path) -> dict[str, tuple[int, int]]:
    """Byte ranges of each stored member's .npy header within the file."""
    raw = path.read_bytes()
    spans = {}
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
            # the local header's extra field may differ from the central directory's
            name_len, extra_len = np.frombuffer(raw[info.header_offset + 26: info.header_offset + 30], "<u2")
            start = info.header_offset + 30 + int(name_len) + int(extra_len)
            hlen = 10 + int(np.frombuffer(raw[start + 8: start + 10], "<u2")[0])
            spans[info.filename[:-4]] = (start, start + hlen)
    return spans


MEMBERS = ["magic", "format_version", "meta", "vocab_offsets", "vocab_utf8", "frequencies",
           "counts_indptr", "counts_indices", "counts_data", "vectors_data"]


@pytest.mark.parametrize("member", MEMBERS + ["large counts_indices", "large counts_data"])
def test_every_flipped_header_byte_is_a_model_file_error(files, member):
    path = files / "model.npz"
    if member.startswith("large "):  # members beyond zipfile's first read: the header parser sees it
        member = member.split()[1]
        path = files / "large.npz"
        cooc.pretrain(words_corpus(300, n_words=200), window=2).save(path)
    raw = bytearray(path.read_bytes())
    lo, hi = member_header_spans(path)[member]
    bad = files / "flipped.npz"
    outcomes = set()
    for pos in range(lo, hi):
        for new in (raw[pos] ^ 0xFF, raw[pos] ^ 0x01, ord("("), ord("'")):
            damaged = bytearray(raw)
            damaged[pos] = new
            bad.write_bytes(bytes(damaged))
            try:
                emb = cooc.load(bad)
            except cio.ModelFileError as exc:
                assert str(bad) in str(exc)
                outcomes.add("refused")
            else:  # a flip the header tolerates (a space for a space): the model must still answer
                emb.most_similar(emb.index_to_key[0], topn=2)
                outcomes.add("loaded")
    assert "refused" in outcomes


def test_flipped_brace_in_header_raising_tokenize_error(tmp_path):
    """numpy's header parser raises tokenize.TokenError on an unclosed bracket (a member larger than
    zipfile's first read, so no CRC check comes first): refused cleanly, naming the member."""
    path = tmp_path / "model.npz"
    cooc.pretrain(words_corpus(500, n_words=300), window=2).save(path)
    raw = bytearray(path.read_bytes())
    lo, hi = member_header_spans(path)["counts_data"]
    pos = lo + bytes(raw[lo:hi]).index(b"}")
    raw[pos] = ord("(")
    (tmp_path / "bad.npz").write_bytes(bytes(raw))
    refused(tmp_path / "bad.npz", "'counts_data'", "header", "TokenError")


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.5, 0.7, 0.9, 0.99])
def test_truncated_files_are_refused(files, fraction):
    raw = (files / "model.npz").read_bytes()
    (files / "cut.npz").write_bytes(raw[: int(len(raw) * fraction)])
    refused(files / "cut.npz")


def test_bomb_is_refused_before_inflating(tmp_path, monkeypatch):
    n = 2000
    zeros = np.zeros((n, 5000))  # 80 MB of zeros deflate to about 80 kB
    cooc.Embeddings([f"w{i}" for i in range(n)], zeros, stopwords=None).save(tmp_path / "bomb.npz", compress=True)
    assert (tmp_path / "bomb.npz").stat().st_size < 1_000_000
    read = []
    original = cio._Reader.array
    monkeypatch.setattr(cio._Reader, "array", lambda self, name: read.append(name) or original(self, name))
    err = refused(tmp_path / "bomb.npz", "decompression bomb", "max_inflated_bytes")
    assert read == []  # nothing inflated
    assert "inflate" in err.problem
    # the caller can raise the limit explicitly, and a limit applies whatever the ratio
    assert len(cio.read_model(tmp_path / "bomb.npz", max_inflated_bytes="100MB").words) == n
    with pytest.raises(cio.ModelFileError, match="max_inflated_bytes"):
        cio.read_model(tmp_path / "bomb.npz", max_inflated_bytes="10MB")
    with pytest.raises(ValueError, match="max_inflated_bytes"):
        cio.read_model(tmp_path / "bomb.npz", max_inflated_bytes="lots")


def test_ordinary_compressed_model_loads(files):
    emb = cooc.pretrain(words_corpus(300), window=2)
    emb.save(files / "c.npz", compress=True)
    back = cooc.load(files / "c.npz")
    assert (back.counts != emb.counts).nnz == 0


def test_cli_neighbors_on_hostile_files(files, capsys):
    a = members(files / "model.npz")
    a["vectors_data"] = np.full_like(a["vectors_data"], np.nan)
    craft(files / "nan.npz", a)
    for path in (files / "nan.npz", files / "good.txt"):
        status, _, err = cli(capsys, "neighbors", path, "good")
        assert status == 2
        assert str(path) in one_line(err)


# -- the CLI's last resort and its log -----------------------------------------------------------------


def test_unexpected_error_is_one_line_exit_1(files, capsys, monkeypatch):
    import cooc.cli.pretrain as cli_pretrain

    def broken(*args, **kwargs):
        raise ZeroDivisionError("something nobody expected")

    monkeypatch.setattr(cli_pretrain, "pretrain", broken)
    status, _, err = cli(capsys, "pretrain", files / "good.txt", "-o", files / "out.npz")
    assert status == 1
    line = one_line(err)
    assert "internal error" in line and "ZeroDivisionError" in line and "--debug" in line
    status, _, err = cli(capsys, "--debug", "pretrain", files / "good.txt", "-o", files / "out.npz")
    assert status == 1
    assert "Traceback" in err and "something nobody expected" in err


def test_keyboard_interrupt_is_one_line_exit_130(files, capsys, monkeypatch):
    import cooc.cli.pretrain as cli_pretrain

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_pretrain, "pretrain", interrupted)
    status, _, err = cli(capsys, "pretrain", files / "good.txt", "-o", files / "out.npz")
    assert status == 130
    assert "interrupted" in one_line(err)


def test_library_warnings_are_one_line_on_stderr(files, capsys, monkeypatch):
    import cooc.cli.pretrain as cli_pretrain

    real = cli_pretrain.pretrain

    def warns(*args, **kwargs):
        logging.getLogger("cooc.weighting").warning("dim=%d is more than\nthe %d words", 50, 6)
        return real(*args, **kwargs)

    monkeypatch.setattr(cli_pretrain, "pretrain", warns)
    status, _, err = cli(capsys, "pretrain", files / "good.txt", "-o", files / "out.npz", "-q")
    assert status == 0
    lines = err.strip().splitlines()
    assert lines[0] == "cooc pretrain: warning: dim=50 is more than the 6 words"
    assert not logging.getLogger("cooc").handlers  # the CLI's handler is gone after main()


# -- faults: a full disk -------------------------------------------------------------------------------


def enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_full_spill_disk_names_the_directory(backend, tmp_path, monkeypatch):
    spill = tmp_path / "spill"
    spill.mkdir()
    monkeypatch.setattr(counting.np, "savez", enospc)
    with pytest.raises(OSError, match="tmp_dir") as info:
        cooc.pretrain(words_corpus(3000), memory_limit="1MB", tmp_dir=spill)
    assert info.value.errno == errno.ENOSPC
    assert str(spill) in str(info.value)
    assert list(spill.iterdir()) == []  # the spill directory is removed


def test_full_spill_disk_from_the_cli(files, capsys, monkeypatch):
    (files / "big.txt").write_text("\n".join(words_corpus(3000)) + "\n", encoding="utf-8")
    (files / "spill").mkdir()
    monkeypatch.setattr(counting.np, "savez", enospc)
    status, _, err = cli(capsys, "pretrain", files / "big.txt", "-o", files / "out.npz", "-q",
                         "--memory-limit", "1MB", "--tmp-dir", files / "spill")
    assert status == 2
    line = one_line(err)
    assert "--tmp-dir" in line and str(files / "spill") in line and "[Errno" not in line


def test_full_disk_creating_the_spill_directory(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(counting.tempfile, "TemporaryDirectory", refuse)
    with pytest.raises(OSError, match="--tmp-dir"):
        cooc.pretrain(words_corpus(3000), memory_limit="1MB", tmp_dir=tmp_path)


def test_full_disk_while_saving_keeps_the_old_model(files, monkeypatch):
    before = (files / "model.npz").read_bytes()

    def half_then_full(fh, **arrays):
        fh.write(b"PK\x03\x04 partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", half_then_full)
    with pytest.raises(OSError) as info:
        cooc.pretrain(SENTENCES, window=1).save(files / "model.npz")
    assert info.value.errno == errno.ENOSPC
    assert (files / "model.npz").read_bytes() == before
    assert not [p for p in files.iterdir() if p.name.startswith(cio.TEMP_PREFIX)]


# -- faults: kill -9, then a later run ---------------------------------------------------------------

KILLED_PRETRAIN = r"""
import sys, time
import numpy as np
import cooc
from cooc import counting

spill = counting._Runs._spill

def spill_then_hang(self, part):
    path = spill(self, part)
    print(path.parent, flush=True)
    time.sleep(600)

counting._Runs._spill = spill_then_hang
lines = sys.stdin.read().splitlines()
cooc.pretrain(lines, memory_limit="1MB", tmp_dir=sys.argv[1])
"""

KILLED_SAVE = r"""
import sys, time
import numpy as np
import cooc

def slow_savez(fh, **arrays):
    fh.write(b"x" * 100000)
    fh.flush()
    print("written", flush=True)
    time.sleep(600)

np.savez = slow_savez
cooc.pretrain(["good food", "bad food"]).save(sys.argv[1])
"""


def run_and_kill(script: str, arg: Path, stdin: str = "") -> Path:
    proc = subprocess.Popen([sys.executable, "-c", script, str(arg)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        proc.stdin.write(stdin)
        proc.stdin.close()
        left = Path(proc.stdout.readline().strip())
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    return left


def test_spill_directory_of_a_killed_pretrain_is_removed_by_the_next_run(backend, tmp_path):
    lines = words_corpus(3000)
    left = run_and_kill(KILLED_PRETRAIN, tmp_path, "\n".join(lines))
    assert left.is_dir()
    assert left.parent == tmp_path and left.name.startswith(counting.SPILL_PREFIX)
    assert any(left.iterdir())  # a spilled run is in it
    other_host = tmp_path / f"{counting.SPILL_PREFIX}1@elsewhere-abc"
    other_host.mkdir()
    untagged = tmp_path / f"{counting.SPILL_PREFIX}abcdef"
    untagged.mkdir()
    emb = cooc.pretrain(lines, memory_limit="1MB", tmp_dir=tmp_path)
    assert not left.exists()
    assert other_host.exists() and untagged.exists()  # not ours to judge
    assert (emb.counts != cooc.pretrain(lines).counts).nnz == 0


def test_temporary_file_of_a_killed_save_is_removed_by_the_next_save(tmp_path):
    run_and_kill(KILLED_SAVE, tmp_path / "model.npz")
    (left,) = tmp_path.iterdir()
    assert left.name.startswith(cio.TEMP_PREFIX) and left.stat().st_size >= 100000
    assert not (tmp_path / "model.npz").exists()
    cooc.pretrain(SENTENCES).save(tmp_path / "other.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.npz"]


def test_entries_of_live_processes_are_left_alone(tmp_path):
    host = owner_tag().split("@", 1)[1]
    live = tmp_path / f"{cio.TEMP_PREFIX}{os.getppid()}@{host}-x.tmp"
    mine = tmp_path / f"{cio.TEMP_PREFIX}{owner_tag()}-y.tmp"
    for p in (live, mine):
        p.write_bytes(b"")
    assert remove_stale(tmp_path, cio.TEMP_PREFIX) == []
    assert live.exists() and mine.exists()


# -- concurrency ---------------------------------------------------------------------------------------


def test_eight_threads_query_one_loaded_model(backend, tmp_path):
    cooc.pretrain(words_corpus(2000, n_words=300), window=2).save(tmp_path / "m.npz")
    emb = cooc.load(tmp_path / "m.npz")
    words = emb.index_to_key[:40]
    expected = [emb.most_similar(w, topn=5) for w in words]
    results: dict[int, list] = {}
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            results[t] = [emb.most_similar(w, topn=5) for w in words]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert all(results[t] == expected for t in range(8))


def test_concurrent_saves_to_one_target_leave_one_valid_model(tmp_path):
    models = [cooc.pretrain(SENTENCES, window=w) for w in (1, 2, 3, 4)]
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            for _ in range(5):
                models[i].save(tmp_path / "m.npz")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert cooc.load(tmp_path / "m.npz").window in (1, 2, 3, 4)
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_concurrent_loads_of_a_hostile_file_all_refuse(files):
    a = members(files / "model.npz")
    a["vectors_data"] = np.full_like(a["vectors_data"], np.inf)
    craft(files / "bad.npz", a)
    outcomes: list[str] = []

    def worker() -> None:
        try:
            cooc.load(files / "bad.npz")
            outcomes.append("loaded")
        except cio.ModelFileError:
            outcomes.append("refused")
        except BaseException as exc:  # noqa: BLE001
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert outcomes == ["refused"] * 8
