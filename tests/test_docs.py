"""The documentation site: every Python example in docs/ runs, and the site builds with warnings as errors.

The examples are the ``.. code-block:: python`` blocks of the ``.rst`` pages and the ```` ```python ````
blocks of the ``.md`` pages, run in order, one namespace per page, in a temporary directory. A block in
the ``>>>`` form is a doctest: its shown output is checked (``...`` matches anything, whitespace is
normalized).

The site build needs Sphinx (``pip install ".[docs]"``); without it only that test is skipped, the
examples run regardless.
"""

from __future__ import annotations

import doctest
import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import cooc

DOCS = Path(__file__).resolve().parent.parent / "docs"
# Pages that are not part of the site (docs/README.md: how to build it) are not run either.
PAGES = sorted(p for p in [*DOCS.glob("*.rst"), *DOCS.glob("*.md"), *DOCS.glob("*/*.rst")]
               if p.name != "README.md" and "_build" not in p.parts and "generated" not in p.parts)

_RST_BLOCK = re.compile(r"^\.\. code-block:: python\n"
                        r"(?:[ ]+:[\w-]+:.*\n)*\n(?P<body>(?:(?:[ ]{3}.*)?\n)+)", re.M)
_MD_BLOCK = re.compile(r"^```python\n(?P<body>.*?)^```\n",
                       re.M | re.S)


@dataclass
class Block:
    page: str
    line: int
    code: str


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    out = []
    if page.suffix == ".rst":
        for m in _RST_BLOCK.finditer(text):
            body = "\n".join(line[3:] for line in m.group("body").splitlines()).strip("\n") + "\n"
            line = text.count("\n", 0, m.start("body")) + 1
            out.append(Block(page.name, line, body))
    else:
        for m in _MD_BLOCK.finditer(text):
            out.append(Block(page.name, text.count("\n", 0, m.start("body")) + 1, m.group("body")))
    return out


def run_block(block: Block, globs: dict[str, object]) -> None:
    name = f"{block.page}:{block.line}"
    if ">>>" not in block.code:
        exec(compile(block.code, name, "exec"), globs)
        return
    test = doctest.DocTestParser().get_doctest(block.code, globs, name, block.page, block.line - 1)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    runner.run(test, out=report.append, clear_globs=False)
    globs.update(test.globs)  # a DocTest runs in a copy of the namespace
    if runner.failures:
        pytest.fail(f"{name}: example output differs\n" + "".join(report), pytrace=False)


@pytest.fixture
def in_tmp(tmp_path: Path) -> object:
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)


def test_pages_have_examples() -> None:
    """The extraction finds the examples: every page with a python block yields it."""
    names = {p.name for p in PAGES}
    assert {"getting-started.rst", "tutorial.rst", "scaling.rst", "behaviour.rst"} <= names
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        expected = text.count(".. code-block:: python") + text.count("```python")
        assert len(blocks(page)) == expected, page.name


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_examples_run(page: Path, in_tmp: Path) -> None:
    globs: dict[str, object] = {"__name__": "__main__"}
    for block in blocks(page):
        run_block(block, globs)


def test_site_builds_without_warnings(tmp_path: Path) -> None:
    if importlib.util.find_spec("sphinx") is None:
        pytest.skip("Sphinx is not installed: pip install '.[docs]'")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    html = tmp_path / "html"
    for page in ("index", "getting-started", "tutorial", "scaling", "benchmarks", "behaviour", "api/index"):
        assert (html / f"{page}.html").is_file(), page
    for name in cooc.__all__:
        if name != "BACKEND":
            assert (html / "api" / "generated" / f"cooc.{name}.html").is_file(), name
