"""The battery of bad inputs through the `cooc` command: one line on stderr, exit status 2, never a
traceback, and no output file left behind."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import cooc


def run_cli(*args: str, cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cooc", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120, env={**os.environ, "PYTHONWARNINGS": "ignore"})


@pytest.fixture
def files(tmp_path):
    (tmp_path / "good.txt").write_text("good food here\ngood wine there\nbad food\n", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "stop.txt").write_text("the and of\nit is a\n", encoding="utf-8")
    (tmp_path / "junk.bin").write_bytes(bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)))
    (tmp_path / "bad.txt").write_bytes(b"fine line\nanother fine line\nbroken \xff\xfe line\n")
    (tmp_path / "sub").mkdir()
    cooc.pretrain(["good food here", "good wine there"]).save(tmp_path / "model.npz")
    raw = (tmp_path / "model.npz").read_bytes()
    (tmp_path / "truncated.npz").write_bytes(raw[: len(raw) // 2])
    np.savez(tmp_path / "foreign.npz", a=np.arange(3))
    return tmp_path


CASES = {
    "empty corpus": (["pretrain", "empty.txt", "-o", "out.npz"], "empty corpus"),
    "only stopwords": (["pretrain", "stop.txt", "-o", "out.npz"], "empty corpus"),
    "binary junk": (["pretrain", "junk.bin", "-o", "out.npz"], "junk.bin"),
    "invalid utf-8": (["pretrain", "bad.txt", "-o", "out.npz"], "line 3"),
    "missing path": (["pretrain", "nope.txt", "-o", "out.npz"], "nope.txt"),
    "directory": (["pretrain", "sub", "-o", "out.npz"], "directory"),
    "window 0": (["pretrain", "good.txt", "-o", "out.npz", "--window", "0"], "--window"),
    "window -1": (["pretrain", "good.txt", "-o", "out.npz", "--window", "-1"], "--window"),
    "window 1.5": (["pretrain", "good.txt", "-o", "out.npz", "--window", "1.5"], "--window"),
    "min_count too high": (["pretrain", "good.txt", "-o", "out.npz", "--min-count", "99"], "--min-count 99"),
    "unknown word": (["neighbors", "model.npz", "zebra"], "zebra"),
    "truncated model": (["neighbors", "truncated.npz", "good"], "truncated.npz"),
    "foreign model": (["neighbors", "foreign.npz", "good"], "not written by cooc"),
    "corpus as model": (["neighbors", "good.txt", "good"], "good.txt"),
    "memory limit nonsense": (["pretrain", "good.txt", "-o", "out.npz", "--memory-limit", "-5GB"], "memory"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gets_one_line_and_exit_2(files, name):
    args, needle = CASES[name]
    proc = run_cli(*args, cwd=files)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert needle in lines[0]
    assert not (files / "out.npz").exists()


def test_errors_replace_decodes_what_strict_refuses(files):
    proc = run_cli("pretrain", "bad.txt", "-o", "out.npz", "--errors", "replace", "-q", cwd=files)
    assert proc.returncode == 0, proc.stderr
    emb = cooc.load(files / "out.npz")
    assert {"broken", "line", "fine"} <= set(emb.index_to_key)


def test_tiny_memory_budget_spills_instead_of_failing(files, tmp_path):
    lines = [" ".join(f"w{(i * 7 + j) % 997}" for j in range(20)) for i in range(4000)]
    (files / "big.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = run_cli("pretrain", "big.txt", "-o", "out.npz", "--memory-limit", "1MB", "-q", cwd=files)
    assert proc.returncode == 0, proc.stderr
    limited = cooc.load(files / "out.npz")
    full = cooc.pretrain(lines)
    assert limited.index_to_key == full.index_to_key
    assert (limited.counts != full.counts).nnz == 0
