"""Corpus input (``cooc.corpus``): files, texts and sentence iterables streamed as chunks of lines.

The reference for a file's lines is Python's own text mode (universal newlines); the reference for a
text's lines is ``io.StringIO(text, newline=None)``. Every test checks the chunk contract: splitting
each chunk on ``"\\n"`` gives back exactly the lines, and a chunk is at most ``chunk_chars`` long
unless it is a single line.
"""

from __future__ import annotations

import bz2
import doctest
import gzip
import io
import itertools
import logging
import lzma
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cooc import corpus as corpus_mod
from cooc import tokenize
from cooc.corpus import LineCorpus, is_one_shot, iter_chunks

# --------------------------------------------------------------------------------------------------
# helpers

# Mixed content: Unicode letters of several scripts, digits, punctuation, CRLF and CR line ends, empty
# lines, a line of spaces, a BMP-outside character, and no final line end.
SAMPLE = (
    "The cat sat on the mat.\n"
    "Café crème, naïve façade — Ünïcödé!\r\n"
    "\n"
    "Ελληνικά και русский текст\r"
    "日本語のテキスト 123 don't stop-words\n"
    "   \n"
    "emoji 😀 between words\r\n"
    "\r\n"
    "last line without end"
)
SUFFIXES = ["", ".gz", ".bz2", ".xz"]
WRITERS = {
    "": lambda p, b: Path(p).write_bytes(b),
    ".gz": lambda p, b: Path(p).write_bytes(gzip.compress(b)),
    ".bz2": lambda p, b: Path(p).write_bytes(bz2.compress(b)),
    ".xz": lambda p, b: Path(p).write_bytes(lzma.compress(b)),
}


def write(path: Path, data: bytes | str, suffix: str = "") -> Path:
    if isinstance(data, str):
        data = data.encode("utf-8")
    WRITERS[suffix](path, data)
    return path


def file_lines(path: Path, encoding: str = "utf-8", errors: str = "strict") -> list[str]:
    """Reference: Python's text mode, universal newlines, line ends removed."""
    with open(path, encoding=encoding, errors=errors, newline=None) as f:
        return [line.removesuffix("\n") for line in f]


def text_lines(text: str) -> list[str]:
    return [line.removesuffix("\n") for line in io.StringIO(text, newline=None)]


def flatten(chunks: list[str]) -> list[str]:
    return [line for chunk in chunks for line in chunk.split("\n")]


def check_contract(chunks: list[str], lines: list[str], chunk_chars: int, filled: bool = True) -> None:
    """Chunks give back the lines, fit in chunk_chars unless a single line, and are filled.

    Filled: a chunk and the first line of the next one would not have fitted together (chunks of a
    single file or text; chunks never span two files, so ``filled=False`` for several files).
    """
    assert all(isinstance(c, str) for c in chunks)
    assert flatten(chunks) == lines
    for c in chunks:
        assert "\r" not in c
        assert len(c) <= chunk_chars or "\n" not in c, (len(c), chunk_chars)
    if filled:
        for a, b in itertools.pairwise(chunks):
            assert len(a) + 1 + len(b.split("\n", 1)[0]) > chunk_chars


@pytest.fixture
def tiny_blocks(monkeypatch):
    """Make LineCorpus read files in blocks of ``n`` bytes, to exercise block boundaries."""

    def set_block(n: int) -> None:
        monkeypatch.setattr(corpus_mod, "_MIN_BLOCK_BYTES", n)
        monkeypatch.setattr(corpus_mod, "_MAX_BLOCK_BYTES", n)

    return set_block


# --------------------------------------------------------------------------------------------------
# LineCorpus: formats, restartability, chunk boundaries


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_formats_give_identical_lines_and_chunks(tmp_path, suffix):
    plain = write(tmp_path / "plain.txt", SAMPLE)
    path = write(tmp_path / f"c.txt{suffix}", SAMPLE, suffix)
    want = file_lines(plain)
    assert len(want) == 9 and want[2] == "" and want[-1] == "last line without end"
    corpus = LineCorpus(path)
    assert list(corpus) == want
    reference_chunks = list(LineCorpus(plain).iter_chunks())
    assert list(corpus.iter_chunks()) == reference_chunks == ["\n".join(want)]


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_restartable(tmp_path, suffix):
    path = write(tmp_path / f"c.txt{suffix}", SAMPLE * 3, suffix)
    corpus = LineCorpus(path)
    first, second = list(corpus), list(corpus)
    assert first == second == file_lines(write(tmp_path / "ref.txt", SAMPLE * 3))
    assert list(corpus.iter_chunks(64)) == list(corpus.iter_chunks(64))
    assert is_one_shot(corpus) is False


def test_several_files_in_order(tmp_path):
    paths = [
        write(tmp_path / "a.txt", "one\ntwo\n"),
        write(tmp_path / "b.gz", "three\r\nfour", ".gz"),
        write(tmp_path / "c.txt", ""),
        write(tmp_path / "d.bz2", "\nfive\n\n", ".bz2"),
    ]
    corpus = LineCorpus([str(paths[0]), *paths[1:]])
    want = ["one", "two", "three", "four", "", "five", ""]
    assert list(corpus) == want
    for chunk_chars in (1, 3, 100):
        check_contract(list(corpus.iter_chunks(chunk_chars)), want, chunk_chars, filled=False)
    assert corpus.paths == tuple(str(p) for p in paths)


@pytest.mark.parametrize("chunk_chars", [1, 7, 64, 1 << 22])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_chunk_boundaries_at_line_ends(tmp_path, chunk_chars, suffix):
    text = "".join(
        f"line {i} " + "word " * (i % 23) + ("\r\n" if i % 3 else "\n") + ("\n" if i % 17 == 0 else "")
        for i in range(2000)
    )
    path = write(tmp_path / f"c.txt{suffix}", text, suffix)
    want = file_lines(write(tmp_path / "ref.txt", text))
    chunks = list(LineCorpus(path).iter_chunks(chunk_chars))
    check_contract(chunks, want, chunk_chars)
    assert "\n".join(chunks) == "\n".join(want)
    if chunk_chars == 1 << 22:
        assert len(chunks) == 1


@pytest.mark.parametrize("block", [1, 2, 3, 5, 16])
@pytest.mark.parametrize("chunk_chars", [1, 4, 30, 1000])
def test_block_boundaries_split_crlf_and_multibyte(tmp_path, tiny_blocks, block, chunk_chars):
    # Blocks of a few bytes cut "\r\n" pairs and multi-byte UTF-8 characters in two.
    tiny_blocks(block)
    path = write(tmp_path / "c.txt", SAMPLE + "\r\r\n\r" + SAMPLE + "\r")
    want = file_lines(path)
    assert list(LineCorpus(path)) == want
    check_contract(list(LineCorpus(path).iter_chunks(chunk_chars)), want, chunk_chars)


def test_line_ends_are_universal_newlines_only(tmp_path):
    # \v, \f, \x1c, \x85, \u2028 are not line ends (unlike str.splitlines); \r, \r\n, \n are.
    text = "a\vb\fc\x1cd\x85e\u2028f\u2029g\rh\r\ni\nj"
    path = write(tmp_path / "c.txt", text)
    want = ["a\vb\fc\x1cd\x85e\u2028f\u2029g", "h", "i", "j"]
    assert file_lines(path) == want
    assert list(LineCorpus(path)) == want
    assert flatten(list(iter_chunks(text))) == want


def test_long_single_line_is_one_whole_chunk(tmp_path, tiny_blocks):
    long_line = ("abcdéfgh " * 600_000)[:5_000_000]  # 5 M characters, no line end
    text = "short one\nshort two\n" + long_line + "\nafter\n" + long_line
    path = write(tmp_path / "long.txt", text)
    want = ["short one", "short two", long_line, "after", long_line]
    tiny_blocks(1 << 12)  # 2500 blocks per long line: joining them repeatedly would be quadratic
    chunks = list(LineCorpus(path).iter_chunks(1024))
    check_contract(chunks, want, 1024)
    assert chunks == ["short one\nshort two", long_line, "after", long_line]
    # The same from text and from sentences.
    assert list(iter_chunks(text, 1024)) == chunks
    assert list(iter_chunks(want, 1024)) == chunks


def test_long_line_is_copied_a_bounded_number_of_times(tmp_path, tiny_blocks, monkeypatch):
    # Linear time, checked without timing: the characters joined stay within a small multiple of
    # the text, although the long line arrives in thousands of blocks.
    copied = [0]
    real_join = corpus_mod._join

    def counting_join(pieces):
        out = real_join(pieces)
        copied[0] += len(out)
        return out

    monkeypatch.setattr(corpus_mod, "_join", counting_join)
    tiny_blocks(256)
    text = "head\n" + "x" * 1_000_000 + "\n" + "short line\n" * 20_000 + "y" * 300_000
    path = write(tmp_path / "long.txt", text)
    for chunk_chars in (100, 1 << 22):
        copied[0] = 0
        chunks = list(LineCorpus(path).iter_chunks(chunk_chars))
        check_contract(chunks, file_lines(path), chunk_chars)
        assert copied[0] <= 3 * len(text), (chunk_chars, copied[0] / len(text))


def test_total_bytes_repr_and_progress(tmp_path):
    a = write(tmp_path / "a.txt", SAMPLE * 50)
    b = write(tmp_path / "b.txt.gz", SAMPLE * 500, ".gz")
    c = write(tmp_path / "c.txt.xz", SAMPLE * 500, ".xz")
    corpus = LineCorpus([a, b, c])
    total = os.path.getsize(a) + os.path.getsize(b) + os.path.getsize(c)
    assert corpus.total_bytes == total
    steps: list[int] = []
    assert flatten(list(corpus.iter_chunks(100, progress=steps.append))) == list(corpus)
    assert sum(steps) == total and all(s > 0 for s in steps)
    r = repr(corpus)
    assert r.startswith("LineCorpus([") and "a.txt" in r and "b.txt.gz" in r and "utf-8" in r
    many = LineCorpus([a] * 10)
    assert "10 files" in repr(many)


def test_zero_byte_files_have_no_lines(tmp_path, caplog):
    paths = [write(tmp_path / f"empty{s}", b"") for s in SUFFIXES]
    with caplog.at_level(logging.WARNING, logger="cooc"):
        corpus = LineCorpus(paths)
    assert caplog.text.count("empty file") == 3  # the compressed names, once, at construction
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="cooc"):
        assert list(corpus) == [] and list(corpus.iter_chunks()) == []
    assert not caplog.records
    assert list(LineCorpus(write(tmp_path / "nl.txt", "\n"))) == [""]


# --------------------------------------------------------------------------------------------------
# LineCorpus: bad files


def test_mislabelled_gz_is_refused(tmp_path):
    path = write(tmp_path / "x.gz", "just plain text\n")
    with pytest.raises(ValueError, match=r"x\.gz.*gzip.*not compressed"):
        LineCorpus(path)


def test_mislabelled_formats_say_what_they_are(tmp_path):
    with pytest.raises(ValueError, match=r"x\.xz.*xz.*it is gzip data"):
        LineCorpus(write(tmp_path / "x.xz", gzip.compress(b"hello\n")))
    with pytest.raises(ValueError, match=r"x\.bz2.*bzip2.*it is xz data"):
        LineCorpus(write(tmp_path / "x.bz2", lzma.compress(b"hello\n")))
    for data, ext in ((gzip.compress(b"hi\n"), ".gz"), (bz2.compress(b"hi\n"), ".bz2"),
                      (bz2.compress(b""), ".bz2"), (lzma.compress(b"hi\n"), ".xz")):
        with pytest.raises(ValueError, match=rf"plain\.txt.*rename it with the \{ext} suffix"):
            LineCorpus(write(tmp_path / "plain.txt", data))
    # Text that merely starts like a bzip2 header is text.
    assert list(LineCorpus(write(tmp_path / "bzh.txt", "BZh9 is a bzip2 header\n"))) == [
        "BZh9 is a bzip2 header"
    ]


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
def test_truncated_compressed_file(tmp_path, suffix):
    full = tmp_path / f"full{suffix}"
    write(full, SAMPLE * 200, suffix)
    data = full.read_bytes()
    path = write(tmp_path / f"cut{suffix}", data[: len(data) // 2])
    # The header is fine; the construction decompresses the first bytes (to check the encoding), so a
    # file this small is refused there, a larger one when it is read.
    with pytest.raises(ValueError, match=rf"cut\{suffix}.*corrupt or truncated"):
        list(LineCorpus(path))


def test_invalid_utf8_names_file_and_line(tmp_path):
    data = b"line one\nline two\nline \xff three\nline four\n"
    path = write(tmp_path / "bad.txt", data)
    with pytest.raises(ValueError, match=r"bad\.txt.*line 3") as info:
        list(LineCorpus(path))
    assert "errors='replace'" in str(info.value)
    assert isinstance(info.value.__cause__, UnicodeDecodeError)
    assert list(LineCorpus(path, errors="replace")) == [
        "line one", "line two", "line \ufffd three", "line four"
    ]


@pytest.mark.parametrize("block", [1, 2, 3, 7, 1 << 16])
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_invalid_utf8_line_number_across_blocks(tmp_path, tiny_blocks, block, suffix):
    # CR and CRLF line ends before the bad bytes, a multi-byte character cut by blocks, and a bad
    # byte right after a CR that ends a block.
    tiny_blocks(block)
    prefix = "é1\r\nä2\r€3\n\n5\r".encode()  # lines 1..5 end; the bad byte is on line 6
    path = write(tmp_path / f"bad{suffix}", prefix + b"\xc3\x28 six\nseven\n", suffix)
    with pytest.raises(ValueError, match=rf"bad{suffix.replace('.', '[.]')}'.*line 6") as info:
        list(LineCorpus(path).iter_chunks(3))
    offset = len(prefix)
    assert f"byte {offset}" in str(info.value)
    assert list(LineCorpus(path, errors="replace")) == ["é1", "ä2", "€3", "", "5", "\ufffd( six", "seven"]


def test_truncated_multibyte_at_end_of_file(tmp_path):
    path = write(tmp_path / "end.txt", "one\ntwo\nthr€".encode()[:-1])
    with pytest.raises(ValueError, match=r"end\.txt.*line 3"):
        list(LineCorpus(path))


def test_other_encodings(tmp_path):
    path = write(tmp_path / "latin.txt", "caf\xe9\nna\xefve\n".encode("latin-1"))
    with pytest.raises(ValueError, match="line 1"):
        list(LineCorpus(path))
    assert list(LineCorpus(path, encoding="latin-1")) == ["café", "naïve"]
    path16 = write(tmp_path / "u16.txt", "Ünï\r\ncödé\n".encode("utf-16"))
    assert list(LineCorpus(path16, encoding="utf-16")) == ["Ünï", "cödé"]
    with pytest.raises(ValueError, match="unknown encoding"):
        LineCorpus(path, encoding="no-such-codec")
    with pytest.raises(ValueError, match="not a text encoding"):
        LineCorpus(path, encoding="base64")
    with pytest.raises(ValueError, match="error handler"):
        LineCorpus(path, errors="nope")


def test_missing_directory_empty_and_bad_paths(tmp_path):
    missing = tmp_path / "missing.txt"
    with pytest.raises(FileNotFoundError, match=r"missing\.txt"):
        LineCorpus(missing)
    ok = write(tmp_path / "ok.txt", "x\n")
    with pytest.raises(FileNotFoundError, match=r"missing\.txt"):
        LineCorpus([ok, str(missing)])
    with pytest.raises(IsADirectoryError, match=str(tmp_path).replace("\\", "\\\\")):
        LineCorpus(tmp_path)
    with pytest.raises(ValueError, match="empty"):
        LineCorpus([])
    with pytest.raises(TypeError, match="path 1"):
        LineCorpus([ok, 42])
    with pytest.raises(TypeError, match="bytes"):
        LineCorpus(b"ok.txt")
    with pytest.raises(TypeError):
        LineCorpus(3.5)


def test_unreadable_file(tmp_path, monkeypatch):
    # The suite may run as root, where chmod 000 does not stop reading: simulate the OS refusal.
    path = write(tmp_path / "secret.txt", "x\n")

    def refuse(file, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(file))

    monkeypatch.setattr(corpus_mod, "open", refuse, raising=False)
    with pytest.raises(PermissionError, match=r"secret\.txt"):
        LineCorpus(path)


def test_files_are_closed_when_iteration_stops_early(tmp_path, monkeypatch):
    opened = []
    real_open = open

    def recording_open(*args, **kwargs):
        f = real_open(*args, **kwargs)
        opened.append(f)
        return f

    monkeypatch.setattr(corpus_mod, "open", recording_open, raising=False)
    a = write(tmp_path / "a.gz", "x\n" * 50_000, ".gz")
    b = write(tmp_path / "b.txt", "y\n")
    corpus = LineCorpus([a, b])
    assert len(opened) == 2 and all(f.closed for f in opened)
    chunks = corpus.iter_chunks(10)
    assert next(chunks) == "x\nx\nx\nx\nx"
    assert len(opened) == 3 and not opened[-1].closed
    chunks.close()  # what happens on break, on an exception in the consumer, or on Ctrl-C
    assert all(f.closed for f in opened)
    with pytest.raises(ValueError, match="line 3"):
        list(LineCorpus(write(tmp_path / "bad.txt", b"1\n2\n\xff\n")))
    assert all(f.closed for f in opened)


def test_file_replaced_after_construction(tmp_path):
    path = write(tmp_path / "c.txt", "a\n")
    corpus = LineCorpus(path)
    path.unlink()
    with pytest.raises(FileNotFoundError, match=r"c\.txt"):
        list(corpus)


# --------------------------------------------------------------------------------------------------
# iter_chunks: every input kind


def test_text_str(caplog):
    text = "the cat\r\nsat\ron the mat\n\nthe end\n"
    want = ["the cat", "sat", "on the mat", "", "the end"]
    assert text_lines(text) == want
    for chunk_chars in (1, 5, 64, 1 << 22):
        check_contract(list(iter_chunks(text, chunk_chars)), want, chunk_chars)
    assert list(iter_chunks(text)) == ["the cat\nsat\non the mat\n\nthe end"]
    assert list(iter_chunks("")) == []
    assert list(iter_chunks("\n")) == [""]
    assert list(iter_chunks("no line end")) == ["no line end"]
    assert not caplog.records


def test_text_str_naming_a_file_warns(tmp_path, caplog):
    path = write(tmp_path / "c.txt", "alpha beta\n")
    with caplog.at_level(logging.WARNING, logger="cooc"):
        chunks = list(iter_chunks(str(path)))
    assert chunks == [str(path)]  # it is text, as decided
    assert "pathlib.Path" in caplog.text and "c.txt" in caplog.text


def test_sentences_one_line_per_item():
    sentences = ["the cat sat", "on the\nmat", "", "crlf\r\ninside\rtoo", "end"]
    want = ["the cat sat", "on the mat", "", "crlf  inside too", "end"]
    for chunk_chars in (1, 7, 64, 1 << 22):
        chunks = list(iter_chunks(sentences, chunk_chars))
        check_contract(chunks, want, chunk_chars)
        assert len(flatten(chunks)) == len(sentences)
    assert list(iter_chunks(tuple(sentences))) == ["\n".join(want)]
    assert list(iter_chunks([])) == []  # restartable and empty: no error here


def test_paths_path_and_linecorpus(tmp_path):
    a = write(tmp_path / "a.txt", "one\ntwo\n")
    b = write(tmp_path / "b.txt.xz", "three\r\nfour\n", ".xz")
    want = ["one", "two", "three", "four"]
    assert flatten(list(iter_chunks((a, b)))) == want
    assert flatten(list(iter_chunks([a, b], 3))) == want
    assert flatten(list(iter_chunks(b))) == ["three", "four"]
    corpus = LineCorpus([a, b], errors="replace")
    assert list(iter_chunks(corpus)) == list(corpus.iter_chunks())
    assert flatten(list(iter_chunks(corpus, 1))) == want
    # Path errors surface at the call, not at the first chunk.
    with pytest.raises(FileNotFoundError, match="nope"):
        iter_chunks(tmp_path / "nope.txt")
    with pytest.raises(FileNotFoundError, match="nope"):
        iter_chunks([a, tmp_path / "nope.txt"])


def test_mixed_paths_and_str_is_an_error(tmp_path):
    a = write(tmp_path / "a.txt", "one\n")
    with pytest.raises(TypeError, match=r"sentence 0 is a \w*Path.*LineCorpus"):
        list(iter_chunks([a, "some text"]))
    # A list of str is sentences, even if they name files.
    assert list(iter_chunks([str(a)])) == [str(a)]


def test_generator_works_once_and_exhausted_generator_fails():
    gen = (s for s in ["the cat sat", "the dog\nsat"])
    assert is_one_shot(gen)
    assert list(iter_chunks(gen)) == ["the cat sat\nthe dog sat"]
    with pytest.raises(ValueError, match="exhausted"):
        list(iter_chunks(gen))
    with pytest.raises(ValueError, match="exhausted"):
        list(iter_chunks(iter([])))
    # A one-shot iterator of empty sentences is not "nothing": one empty line.
    assert list(iter_chunks(iter([""]))) == [""]


def test_open_text_file_is_one_shot_sentences(tmp_path):
    path = write(tmp_path / "c.txt", "alpha beta\r\ngamma\n")
    with open(path, encoding="utf-8") as f:
        assert is_one_shot(f)
        assert flatten(list(iter_chunks(f))) == ["alpha beta ", "gamma "]
        with pytest.raises(ValueError, match="exhausted"):
            list(iter_chunks(f))


def test_bad_sources_and_items():
    with pytest.raises(TypeError, match="decode"):
        iter_chunks(b"the cat sat")
    with pytest.raises(TypeError, match="decode"):
        iter_chunks(bytearray(b"x"))
    with pytest.raises(TypeError, match="int"):
        iter_chunks(42)
    with pytest.raises(TypeError, match="NoneType"):
        iter_chunks(None)
    with pytest.raises(TypeError, match=r"sentence 2 must be a str, not int"):
        list(iter_chunks(["a", "b", 3, "d"]))
    with pytest.raises(TypeError, match=r"sentence 1 is bytes.*decode"):
        list(iter_chunks(["a", b"b"]))
    with pytest.raises(TypeError, match=r"sentence 0 must be a str, not list"):
        list(iter_chunks([["already", "tokenized"]]))
    with pytest.raises(ValueError, match="chunk_chars"):
        iter_chunks("x", 0)
    with pytest.raises(TypeError, match="chunk_chars"):
        iter_chunks("x", 1.5)
    with pytest.raises(TypeError, match="chunk_chars"):
        LineCorpus.__new__(LineCorpus).iter_chunks(True)


def test_is_one_shot():
    assert not is_one_shot(["a"]) and not is_one_shot(("a",)) and not is_one_shot("text")
    assert not is_one_shot(42) and not is_one_shot(b"x")
    assert is_one_shot(iter(["a"])) and is_one_shot(x for x in "ab") and is_one_shot(map(str, [1]))


# --------------------------------------------------------------------------------------------------
# Tokenization parity: the chunks' lines tokenize exactly like the original sentences


def test_tokens_of_chunks_equal_tokens_of_lines(tmp_path):
    sentences = SAMPLE.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    sentences += ["embedded\nnewline here", "and\r\ncrlf", "x" * 50]
    want = [tokenize(s) for s in sentences]
    for chunk_chars in (1, 7, 64, 1 << 22):
        assert [tokenize(line) for line in flatten(list(iter_chunks(sentences, chunk_chars)))] == want
        # Tokenizing a whole chunk gives the concatenated tokens of its lines.
        for chunk in iter_chunks(sentences, chunk_chars):
            assert tokenize(chunk) == [t for line in chunk.split("\n") for t in tokenize(line)]
    for suffix in SUFFIXES:
        path = write(tmp_path / f"s.txt{suffix}", SAMPLE, suffix)
        ref = [tokenize(line) for line in file_lines(write(tmp_path / "ref.txt", SAMPLE))]
        for chunk_chars in (1, 64):
            got = [tokenize(line) for line in flatten(list(LineCorpus(path).iter_chunks(chunk_chars)))]
            assert got == ref
    text_ref = [tokenize(line) for line in text_lines(SAMPLE)]
    assert [tokenize(line) for line in flatten(list(iter_chunks(SAMPLE, 5)))] == text_ref


# --------------------------------------------------------------------------------------------------
# Properties

_ALPHABET = st.sampled_from(["a", "b", "é", "日", "😀", " ", "-", "1", "\n", "\r", "\r\n", "\x85"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.lists(_ALPHABET, max_size=80).map("".join),
    chunk_chars=st.integers(1, 20),
    block=st.integers(1, 9),
)
def test_property_files_and_text(tmp_path, tiny_blocks, text, chunk_chars, block):
    tiny_blocks(block)
    path = write(tmp_path / "p.txt", text)
    want = file_lines(path)
    assert text_lines(text) == want
    check_contract(list(LineCorpus(path).iter_chunks(chunk_chars)), want, chunk_chars)
    check_contract(list(iter_chunks(text, chunk_chars)), want, chunk_chars)
    assert list(LineCorpus(path)) == want


@settings(max_examples=150, deadline=None)
@given(sentences=st.lists(st.lists(_ALPHABET, max_size=12).map("".join), max_size=20),
       chunk_chars=st.integers(1, 30))
def test_property_sentences(sentences, chunk_chars):
    want = [s.replace("\n", " ").replace("\r", " ") for s in sentences]
    chunks = list(iter_chunks(sentences, chunk_chars))
    check_contract(chunks, want, chunk_chars)
    assert [tokenize(x) for x in flatten(chunks)] == [tokenize(s) for s in sentences]


def test_docstring_examples():
    result = doctest.testmod(corpus_mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
