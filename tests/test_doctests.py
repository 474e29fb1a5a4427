"""The examples in docstrings and the README's Python tour run and give what they show."""

from __future__ import annotations

import doctest
import importlib
import re
from pathlib import Path

import pytest

MODULES = ["cooc.text", "cooc.embeddings", "cooc.pretrain", "cooc.classify", "cooc.finetune", "cooc.vectorize", "cooc.analyze", "cooc.dense"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_readme_tour_runs():
    readme = Path(__file__).resolve().parents[1] / "README.md"
    blocks = re.findall(r"```python\n(.*?)```", readme.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "README.md has no python example"
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    emb = namespace["emb"]
    assert emb.counts.dtype.name == "int64"
    assert len(emb.most_similar("excellent", topn=4)) == 4
