"""Every Python example of README.md runs as written, in order, in one namespace (in a temporary
directory), and prints what its comments say: a ``print(...)`` line's output is the comment at the end
of that line (up to a ": " that starts an explanation), or the comment line right below it (``...``
matches anything, as in doctest)."""

from __future__ import annotations

import contextlib
import doctest
import io
import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
_CHECKER = doctest.OutputChecker()


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def _expected(block: str) -> list[str]:
    """The shown output of each top-level print(...) statement, in order."""
    lines = block.splitlines()
    out = []
    for i, line in enumerate(lines):
        if not line.startswith("print("):
            continue
        m = re.search(r"\)\s+#\s(.*)$", line)
        if m:
            out.append(m.group(1))
        elif i + 1 < len(lines) and lines[i + 1].startswith("# "):
            out.append(lines[i + 1][2:])
        else:
            out.append("...")
    return out


def _shown(expected: str) -> str:
    """The comment's output part: up to a ': ' followed by a word ("['a', 'b']: the vocabulary")."""
    return re.split(r": (?=[a-z])", expected, maxsplit=1)[0].strip()


def test_readme_has_examples():
    assert len(_blocks()) >= 3


def test_readme_examples_run_and_print_what_they_show(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__main__"}
    for n, block in enumerate(_blocks()):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(compile(block, f"README.md block {n + 1}", "exec"), namespace)
        printed = [line for line in buf.getvalue().splitlines()]
        expected = _expected(block)
        assert len(printed) >= len(expected), (n + 1, printed, expected)
        for got, want in zip(printed, expected):
            want = _shown(want)
            assert _CHECKER.check_output(want + "\n", got + "\n", doctest.ELLIPSIS), (
                f"README.md block {n + 1}: printed {got!r}, the comment says {want!r}")
