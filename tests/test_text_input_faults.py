"""Text input that goes wrong: endless lines, byte-order marks, wrong encodings, standard input, pipes,
custom tokenizers and pre-tokenized sentences."""

from __future__ import annotations

import codecs
import gzip
import itertools
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cooc
from cooc import corpus as corpus_mod
from cooc.corpus import (
    DEFAULT_MAX_LINE_CHARS,
    LineCorpus,
    is_one_shot,
    is_pretokenized,
    iter_chunks,
    iter_token_lists,
    max_line_chars_for,
)
from cooc.counting import TokenizedCorpus, select_vocabulary, tokenize_chunks
from cooc.text import encode_token_lists, preprocess, tokenize

SRC = str(Path(cooc.__file__).resolve().parents[1])


def flatten(chunks):
    return [line for chunk in chunks for line in chunk.split("\n")]


def cut_reference(line: str, limit: int) -> list[str]:
    """The documented rule, one line at a time: cut just before the last space or tab that leaves a
    piece of at most ``limit`` characters (not at the piece's first character)."""
    pieces = []
    while len(line) > limit:
        c = max(line.rfind(" ", 1, limit + 1), line.rfind("\t", 1, limit + 1))
        if c < 0:
            raise ValueError("no place to cut")
        pieces.append(line[:c])
        line = line[c:]
    return [*pieces, line]


@pytest.fixture
def tiny_blocks(monkeypatch):
    def set_block(n: int) -> None:
        monkeypatch.setattr(corpus_mod, "_MIN_BLOCK_BYTES", n)
        monkeypatch.setattr(corpus_mod, "_MAX_BLOCK_BYTES", n)

    return set_block


@pytest.fixture
def joined_sizes(monkeypatch):
    """The length of every string the chunker joins from pieces: the most text it holds at once."""
    sizes: list[int] = []
    real_join = corpus_mod._join

    def recording_join(pieces):
        out = real_join(pieces)
        sizes.append(len(out))
        return out

    monkeypatch.setattr(corpus_mod, "_join", recording_join)
    return sizes


def run_python(code: str, stdin: bytes | None = None, stdin_cmd: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    if stdin_cmd is not None:
        feeder = subprocess.Popen(stdin_cmd, shell=True, stdout=subprocess.PIPE)
        try:
            return subprocess.run([sys.executable, "-c", code], stdin=feeder.stdout,
                                  capture_output=True, env=env, timeout=120)
        finally:
            feeder.stdout.close()
            feeder.wait()
    return subprocess.run([sys.executable, "-c", code], input=stdin, capture_output=True, env=env,
                          timeout=120)


# --------------------------------------------------------------------------------------------------
# long lines: bounded memory


def test_long_line_generated_on_the_fly_is_read_in_bounded_pieces(joined_sizes, caplog):
    block, limit, n_blocks = 1 << 14, 1 << 16, 200  # a 3.2 M character line, never held whole
    produced = [0]

    def pieces():
        for i in range(n_blocks):
            produced[0] += 1
            yield f"w{i % 10} ab " * (block // 8)

    with caplog.at_level(logging.WARNING, logger="cooc"):
        chunks = list(corpus_mod._chunk_stream(pieces(), 1 << 20, limit, "gen"))
    line = "".join(f"w{i % 10} ab " * (block // 8) for i in range(n_blocks))
    assert produced[0] == n_blocks
    assert flatten(chunks) == cut_reference(line, limit)
    assert "".join(flatten(chunks)) == line  # the pieces are the line
    assert max(joined_sizes) <= limit + block  # held: at most the limit and one more piece
    assert all(len(c) <= limit for c in chunks)
    assert caplog.text.count("max_line_chars=65536") == 1  # warned once
    assert tokenize("\n".join(chunks)) == tokenize(line)


def test_endless_line_without_spaces_stops_early_with_a_clear_error(joined_sizes):
    pulled = [0]

    def endless():
        while True:
            pulled[0] += 1
            yield "x" * 4096

    with pytest.raises(ValueError, match=r"'src', line 3: more than max_line_chars=65536.*raise max_line_chars"):
        list(corpus_mod._chunk_stream(itertools.chain(["a\n\n"], endless()), 1 << 20, 1 << 16, "'src'"))
    assert pulled[0] <= (1 << 16) // 4096 + 2
    assert max(joined_sizes) <= (1 << 16) + 4096 + 3


def test_long_line_in_a_file_read_in_small_blocks(tmp_path, tiny_blocks, joined_sizes):
    line = " ".join(f"word{i % 7}" for i in range(200_000))  # 1.2 M characters
    text = "head line\n" + line + "\r\nlast\n"
    path = tmp_path / "long.txt"
    path.write_text(text, encoding="utf-8", newline="")
    tiny_blocks(1 << 12)
    limit = 50_000
    got = flatten(list(LineCorpus(path, max_line_chars=limit).iter_chunks(1 << 14)))
    assert got == ["head line", *cut_reference(line, limit), "last"]
    assert max(joined_sizes) <= limit + (1 << 14) + (1 << 12)
    # The same cuts from the text and from the sentences.
    assert flatten(list(iter_chunks(text, 1 << 14, max_line_chars=limit))) == got
    assert flatten(list(iter_chunks(["head line", line, "last"], 1 << 14, limit))) == got
    # The default keeps it whole.
    assert flatten(list(LineCorpus(path).iter_chunks())) == ["head line", line, "last"]


@pytest.mark.parametrize("block", [7, 1 << 16])
def test_messages_name_the_line(tmp_path, tiny_blocks, block, caplog):
    tiny_blocks(block)
    text = "one\r\ntwo\n\n" + "ab " * 40 + "\nfive\n" + "x" * 500 + "\nseven\n"
    path = tmp_path / "lines.txt"
    path.write_bytes(text.encode())
    for read in (lambda: list(LineCorpus(path, max_line_chars=100).iter_chunks(10)),
                 lambda: list(iter_chunks(text, 10, 100))):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="cooc"):
            with pytest.raises(ValueError, match=r", line 6: more than max_line_chars=100"):
                read()
        assert ", line 4: longer than max_line_chars=100" in caplog.text
    with pytest.raises(ValueError, match=r"sentence 2, line 1: more than max_line_chars=100"):
        list(iter_chunks(["a", "b c", "y" * 101], 10, 100))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.lists(st.sampled_from(["ab", "c", " ", "\t", "\n", "\r\n", "é", "  "]), max_size=60).map("".join),
    limit=st.integers(2, 9),
    chunk_chars=st.integers(1, 30),
    block=st.integers(1, 7),
)
def test_property_cuts_do_not_depend_on_blocks(tmp_path, tiny_blocks, text, limit, chunk_chars, block):
    tiny_blocks(block)
    lines = text.replace("\r\n", "\n").split("\n")
    if text.endswith("\n"):
        lines.pop()
    try:
        want = [p for line in (lines if text else []) for p in cut_reference(line, limit)]
    except ValueError:
        want = None
    path = tmp_path / "p.txt"
    path.write_bytes(text.encode())
    for read in (
        lambda: list(LineCorpus(path, max_line_chars=limit).iter_chunks(chunk_chars)),
        lambda: list(iter_chunks(text, chunk_chars, limit)),
    ):
        if want is None:
            with pytest.raises(ValueError, match="max_line_chars"):
                read()
        else:
            chunks = read()
            assert flatten(chunks) == want
            assert all(len(c) <= max(chunk_chars, limit) or "\n" not in c for c in chunks)


def test_dev_zero_ends_with_a_clear_error():
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero on this system")
    corpus = LineCorpus("/dev/zero")
    assert corpus.one_shot and corpus.total_bytes is None
    with pytest.raises(ValueError, match=r"'/dev/zero': not utf-8 text: 4096 of its first 4096 bytes are NUL"):
        list(corpus.iter_chunks())
    # With an encoding that reads NUL as a character, the line bound stops it.
    with pytest.raises(ValueError, match=r"'/dev/zero', line 1: more than max_line_chars=65536"):
        list(LineCorpus("/dev/zero", encoding="latin-1", max_line_chars=1 << 16).iter_chunks())


def test_max_line_chars_parameter():
    assert max_line_chars_for(None) == DEFAULT_MAX_LINE_CHARS
    assert max_line_chars_for(64 << 20) == 8 << 20
    assert max_line_chars_for(1 << 18) == 1 << 16  # never below 64 Ki
    for bad, err in ((0, ValueError), (-5, ValueError), (True, TypeError), (1.5, TypeError)):
        with pytest.raises(err, match="max_line_chars"):
            iter_chunks("x", 10, bad)
    with pytest.raises(ValueError, match="max_line_chars"):
        LineCorpus.__new__(LineCorpus).iter_chunks(10, max_line_chars=0)


# --------------------------------------------------------------------------------------------------
# encodings


TEXT = "Héllo wörld\r\nthe cat sat 日本\n\nend"
LINES = ["Héllo wörld", "the cat sat 日本", "", "end"]


@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32",
                                   "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("block", [1, 3, 1 << 16])
def test_byte_order_mark_chooses_the_decoder(tmp_path, tiny_blocks, codec, block):
    tiny_blocks(block)
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE,
           "utf-32-le": codecs.BOM_UTF32_LE, "utf-32-be": codecs.BOM_UTF32_BE}.get(codec, b"")
    data = bom + TEXT.encode(codec)
    assert data[:2] in (b"\xef\xbb", b"\xff\xfe", b"\xfe\xff", b"\x00\x00")
    plain = tmp_path / "bom.txt"
    plain.write_bytes(data)
    packed = tmp_path / "bom.txt.gz"
    packed.write_bytes(gzip.compress(data))
    for path in (plain, packed):
        assert list(LineCorpus(path)) == LINES
        assert list(LineCorpus(path, encoding="utf-8-sig")) == LINES
    if codec.startswith(("utf-16", "utf-32")):
        family = codec[:6]
        assert list(LineCorpus(plain, encoding=family)) == LINES


def test_bad_bytes_after_a_byte_order_mark_name_the_line_and_the_encoding(tmp_path):
    data = codecs.BOM_UTF16_LE + "one\ntwo\nthr".encode("utf-16-le") + b"\x00\xdc" + "ee\n".encode("utf-16-le")
    path = tmp_path / "u16.txt"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=r"u16\.txt': invalid utf-16-le \(chosen by its byte-order mark\) data at line 3"):
        list(LineCorpus(path))


@pytest.mark.parametrize(("codec", "hint"), [("utf-16-le", "utf-16-le"), ("utf-16-be", "utf-16-be"),
                                             ("utf-32-le", "utf-32-le")])
def test_utf16_without_byte_order_mark_is_refused_with_the_encoding_to_pass(tmp_path, codec, hint):
    path = tmp_path / "nobom.txt"
    path.write_bytes("the cat sat on the mat\nthe dog\n".encode(codec))
    with pytest.raises(ValueError, match=rf"nobom\.txt': not utf-8 text.*NUL.*encoding='{hint}'.*--encoding"):
        LineCorpus(path)  # at construction, before any counting
    assert list(LineCorpus(path, encoding=codec)) == ["the cat sat on the mat", "the dog"]


def test_binary_and_few_nul_bytes(tmp_path):
    binary = tmp_path / "model.bin"
    binary.write_bytes(bytes(range(256)) * 4 + b"\x00" * 2000)
    with pytest.raises(ValueError, match=r"model\.bin': not utf-8 text.*binary data"):
        LineCorpus(binary)
    stray = tmp_path / "stray.txt"
    stray.write_bytes(b"the cat\x00 sat\nthe\x00 dog\n" * 10)  # a few NUL bytes: still text
    assert list(LineCorpus(stray))[:2] == ["the cat\x00 sat", "the\x00 dog"]


def test_explicit_utf16_on_utf8_text_names_file_and_parameter(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("the cat sat\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"plain\.txt': encoding='utf-16' but .* byte-order mark.*"
                                         r"valid UTF-8: pass encoding='utf-8'.*--encoding"):
        LineCorpus(path, encoding="utf-16")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\xe9 \xff\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"encoding='utf-32'.*pass encoding='utf-32-le' or 'utf-32-be'"):
        LineCorpus(latin, encoding="utf-32")


@pytest.mark.parametrize(("encoding", "match"), [
    ("rot13", r"encoding 'rot13' for '.*plain\.txt' is not a text encoding.*encoding parameter"),
    ("base64", r"encoding 'base64' for .*not a text encoding"),
    ("no-such-codec", r"unknown encoding 'no-such-codec' for '.*plain\.txt'.*encoding parameter"),
])
def test_unknown_and_non_text_encodings(tmp_path, encoding, match):
    path = tmp_path / "plain.txt"
    path.write_text("the cat\n", encoding="utf-8")
    with pytest.raises(ValueError, match=match):
        LineCorpus(path, encoding=encoding)


def test_invalid_utf8_message_names_the_encoding_parameter(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes(b"one\ncaf\xe9\n")
    with pytest.raises(ValueError, match=r"latin\.txt': invalid utf-8 data at line 2.*encoding parameter"
                                         r".*errors='replace'"):
        list(LineCorpus(path))


# --------------------------------------------------------------------------------------------------
# standard input, pipes


def test_stdin_through_a_pipe():
    code = (
        "import cooc\n"
        "c = cooc.LineCorpus('-')\n"
        "print(c.one_shot, c.total_bytes, cooc.corpus.is_one_shot(c))\n"
        "print(list(c))\n"
        "try:\n"
        "    list(c)\n"
        "except ValueError as e:\n"
        "    print('again:', e)\n"
    )
    out = run_python(code, b"the cat sat\r\non the mat\n\nlast")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.decode().splitlines()
    assert lines[0] == "True None True"
    assert lines[1] == "['the cat sat', 'on the mat', '', 'last']"
    assert lines[2].startswith("again: this corpus reads standard input ('-'), which can be read only once")


@pytest.mark.parametrize("compress", ["gzip", "xz", "bzip2"])
def test_compressed_stdin_and_dev_stdin(compress):
    if not os.path.exists("/dev/stdin"):
        pytest.skip("no /dev/stdin on this system")
    code = "import cooc; print(list(cooc.LineCorpus(['/dev/stdin'])), list(cooc.LineCorpus('-')))"
    # The first reader takes everything: the second sees an empty standard input.
    out = run_python(code, stdin_cmd=f"printf 'alpha beta\\ngamma\\n' | {compress} -c")
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode().strip() == "['alpha beta', 'gamma'] []"


def test_stdin_with_a_utf16_bom_and_a_long_line():
    data = "Ünï cödé\n".encode("utf-16")
    out = run_python("import cooc; print(list(cooc.LineCorpus('-')))", data)
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode("utf-8").strip() == "['Ünï cödé']"
    code = "import cooc; list(cooc.LineCorpus('-', encoding='latin-1', max_line_chars=65536))"
    out = run_python(code, stdin_cmd="head -c 3000000 /dev/zero | tr '\\0' 'x'")
    assert out.returncode == 1
    assert "standard input ('-'), line 1: more than max_line_chars=65536" in out.stderr.decode()


def test_stdin_given_twice_and_in_a_list():
    with pytest.raises(ValueError, match="only once"):
        LineCorpus(["-", "a.txt", "-"])


def test_named_pipe_is_read_once_without_blocking_the_construction(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this system")
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    corpus = LineCorpus(fifo)  # must not open the pipe: no writer yet
    assert corpus.one_shot and is_one_shot(corpus) and corpus.total_bytes is None

    def writer():
        with open(fifo, "wb") as f:
            f.write("one two\r\nthree\n".encode() * 3)

    t = threading.Thread(target=writer)
    t.start()
    steps: list[int] = []
    chunks = list(corpus.iter_chunks(8, progress=steps.append))
    t.join()
    assert flatten(chunks) == ["one two", "three"] * 3
    assert sum(steps) == 3 * 15
    with pytest.raises(ValueError, match=r"pipe\.txt'.*only once"):
        corpus.iter_chunks()  # a second pass would wait for a writer forever: refused at the call


# --------------------------------------------------------------------------------------------------
# tokenizer hook and pre-tokenized input


def test_custom_tokenizer_keeps_tokens_the_builtin_one_splits():
    text = "E401 iOS 17.2\nthe E401 again"
    assert tokenize("E401 iOS 17.2") == ["e", "ios"]
    sentences = list(iter_token_lists(text, str.split))
    assert sentences == [["E401", "iOS", "17.2"], ["the", "E401", "again"]]
    t = encode_token_lists(sentences)
    assert t.words == ["E401", "iOS", "17.2", "the", "again"]
    assert t.counts.tolist() == [2, 1, 1, 1, 1] and t.counts.dtype == np.int64
    assert t.n_sentences == 2
    (ids, offsets), = t.chunks
    assert ids.dtype == np.int32 and offsets.dtype == np.int64
    assert ids.tolist() == [0, 1, 2, 3, 0, 4] and offsets.tolist() == [0, 3, 6]
    assert preprocess("the E401 on iOS", stopwords={"the", "on"}, tokenizer=str.split) == ["E401", "iOS"]
    assert preprocess("the E401 on iOS", stopwords=None, tokenizer=str.split) == ["the", "E401", "on", "iOS"]


def as_tokenized(t) -> TokenizedCorpus:
    """What pretrain does with a custom tokenizer's ids (see the module's report)."""
    return TokenizedCorpus(words=t.words, counts=t.counts, chunks=t.chunks, n_sentences=t.n_sentences)


@pytest.mark.parametrize("chunk_tokens", [1, 5, 1 << 20])
def test_token_list_path_equals_the_builtin_path(tmp_path, chunk_tokens):
    rng = np.random.default_rng(3)
    vocab = ["the", "cat", "sat", "on", "mat", "Dog", "café", "日本", "a", "is"]
    lines = [" ".join(rng.choice(vocab, size=rng.integers(0, 12))) + rng.choice(["", "!", " 42"])
             for _ in range(300)]
    text = "\n".join(lines)
    path = tmp_path / "c.txt"
    path.write_text(text, encoding="utf-8")
    for source in (text, lines, LineCorpus(path)):
        ref_vocab, ref_ids, ref_offsets = select_vocabulary(
            tokenize_chunks(iter_chunks(source, 64)), cooc.STOPWORDS, 2, 6)
        mine = encode_token_lists(iter_token_lists(source, tokenize, chunk_chars=64), chunk_tokens)
        vocab_, ids, offsets = select_vocabulary(as_tokenized(mine), cooc.STOPWORDS, 2, 6)
        assert vocab_.words == ref_vocab.words
        assert vocab_.frequencies.tolist() == ref_vocab.frequencies.tolist()
        assert ids.tolist() == ref_ids.tolist() and offsets.tolist() == ref_offsets.tolist()
        # The default tokenizer is the built-in one; pre-tokenized lists give the same again.
        again = encode_token_lists(iter_token_lists(source))
        assert again.words == mine.words
        pre = [tokenize(line) for line in lines]
        assert encode_token_lists(iter_token_lists(pre), chunk_tokens).words == mine.words


def test_pretokenized_detection_and_one_shot_peeking():
    assert is_pretokenized([["a"], ["b", "c"]])[0] and is_pretokenized((("a",),))[0]
    for not_tokens in ("text", ["a b"], [], Path("x"), b"x", 42, iter([])):
        assert is_pretokenized(not_tokens)[0] is False
    gen = (s for s in [["a", "b"], ["c"]])
    flag, source = is_pretokenized(gen)
    assert flag and list(iter_token_lists(source)) == [["a", "b"], ["c"]]
    gen = (s for s in ["a b", "c"])
    flag, source = is_pretokenized(gen)
    assert not flag and flatten(list(iter_chunks(source))) == ["a b", "c"]
    # An exhausted generator stays an error, not an empty corpus.
    flag, source = is_pretokenized(gen)
    with pytest.raises(ValueError, match="exhausted"):
        list(iter_token_lists(source))
    counted: list[int] = []
    assert list(iter_token_lists([["a", "b"], ["c"]], progress=counted.append)) == [["a", "b"], ["c"]]
    assert counted == [2, 1]


def test_token_lists_progress_from_files_and_text(tmp_path):
    path = tmp_path / "c.txt.gz"
    path.write_bytes(gzip.compress(b"a b\nc d e\n" * 1000))
    steps: list[int] = []
    got = list(iter_token_lists(LineCorpus(path), str.split, chunk_chars=100, progress=steps.append))
    assert got == [["a", "b"], ["c", "d", "e"]] * 1000
    assert sum(steps) == os.path.getsize(path)  # bytes on disk, as LineCorpus.iter_chunks reports
    steps.clear()
    list(iter_token_lists("a b\nc", str.split, progress=steps.append))
    assert steps == [5]


def test_bad_tokenizers_and_bad_token_lists():
    with pytest.raises(TypeError, match="tokenizer must be a callable"):
        iter_token_lists("text", tokenizer="split")
    with pytest.raises(TypeError, match="tokenizer must be None for pre-tokenized"):
        iter_token_lists([["a"]], tokenizer=str.split)
    with pytest.raises(TypeError, match=r"returned a str for line 2 \('second'\)"):
        list(iter_token_lists("first\nsecond", lambda s: s if s == "second" else s.split()))
    with pytest.raises(TypeError, match=r"returned a generator for line 1"):
        list(iter_token_lists("first", lambda s: (t for t in s.split())))
    assert list(iter_token_lists("a b", lambda s: tuple(s.split()))) == [["a", "b"]]
    with pytest.raises(TypeError, match=r"sentence 1 is a str, but pre-tokenized"):
        list(iter_token_lists([["a"], "b c"]))
    with pytest.raises(TypeError, match=r"sentence 1, token 2 must be a str, not int"):
        encode_token_lists([["a"], ["b", "c", 3]])
    with pytest.raises(ValueError, match=r"sentence 0, token 1 is an empty string"):
        encode_token_lists([["a", ""]])
    with pytest.raises(TypeError, match=r"sentence 0 must be a list of str"):
        encode_token_lists(["a b"])
    with pytest.raises(TypeError, match="single str"):
        encode_token_lists("a b")
    with pytest.raises(TypeError, match=r"unhashable|token 0 must be a str, not list"):
        encode_token_lists([[["nested"]]])
    with pytest.raises(ValueError, match="chunk_tokens"):
        encode_token_lists([["a"]], 0)
    with pytest.raises(TypeError, match=r"token 1 must be a str"):
        preprocess("a b", tokenizer=lambda s: ["a", 2])
    with pytest.raises(TypeError, match="single str"):
        preprocess("a b", stopwords="a")
    with pytest.raises(TypeError, match=r"sentence 0 must be a str, not list: pre-tokenized.*iter_token_lists"):
        list(iter_chunks([["a", "b"]]))
    empty = encode_token_lists([])
    assert empty.words == [] and empty.chunks == [] and empty.counts.dtype == np.int64
