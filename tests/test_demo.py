"""The demo reproduces the reference script's stdout byte for byte, on both backends."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cooc.demo import load_demo_data, run

DATA = Path(__file__).resolve().parent / "data"
EXPECTED = (DATA / "expected_output.txt").read_text(encoding="utf-8")


def _diff_hint(got: str, want: str) -> str:
    for n, (a, b) in enumerate(zip(got.splitlines(), want.splitlines()), 1):
        if a != b:
            return f"first difference at line {n}:\n  got:  {a!r}\n  want: {b!r}"
    return f"lengths differ: {len(got)} vs {len(want)} characters"


def test_run_output_equals_reference(backend):
    buf = io.StringIO()
    run(buf)
    got = buf.getvalue()
    assert got == EXPECTED, _diff_hint(got, EXPECTED)


def test_run_figures(backend):
    figures = run(io.StringIO())
    # the figures the reference prints: 6/6 and 4/4 for both approaches
    assert figures["accuracy"] == {"Random features": 100.0, "Pretrained features": 100.0}
    assert figures["transfer_accuracy"] == {"Random features": 100.0, "Pretrained features": 100.0}
    res = figures["similarity"]
    assert round(res.within["positive"], 4) == 0.1357
    assert round(res.within["negative"], 4) == 0.2506
    assert list(res.between) == [("positive", "negative")]
    assert round(res.between[("positive", "negative")], 4) == 0.0510
    groups = load_demo_data()["word_groups"]
    assert res.present == {
        "positive": ["excellent", "remarkable", "outstanding", "wonderful", "superb", "great"],
        "negative": ["terrible", "awful", "horrible", "dreadful", "poor", "bad"],
    }
    assert set(res.present) == set(groups)


def test_demo_data_matches_the_printed_sizes():
    data = load_demo_data()
    assert f"General corpus: {len(data['corpus'])} sentences" in EXPECTED
    assert f"Labeled sentiment data: {len(data['labelled'])} examples" in EXPECTED
    assert f"Test sentences: {len(data['test'])} (unseen during training)" in EXPECTED
    for text, label in data["labelled"]:
        assert f"  [{label:>8s}] {text}\n" in EXPECTED


def _demo_subprocess(pure: bool) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("COOC_PURE_PYTHON", None)
    if pure:
        env["COOC_PURE_PYTHON"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run(
        [sys.executable, "-m", "cooc", "demo"],
        capture_output=True, env=env, timeout=120, cwd=DATA,
    )


@pytest.mark.parametrize("pure", [False, True], ids=["default-backend", "COOC_PURE_PYTHON=1"])
def test_python_m_cooc_demo(pure):
    proc = _demo_subprocess(pure)
    assert proc.returncode == 0, proc.stderr.decode()
    got = proc.stdout.decode("utf-8")
    assert got == EXPECTED, _diff_hint(got, EXPECTED)
    assert proc.stdout == EXPECTED.encode("utf-8")  # byte-identical, "\n" line ends
    assert proc.stderr == b""
