"""The package's import graph runs one way: the layers declared in pyproject.toml ([tool.importlinter]),
imports inside functions included, so an import cycle or an upward import (a library module importing
the CLI or the bench harness, the model importing the pipeline) fails here."""

from __future__ import annotations

import sys
from pathlib import Path

from importlinter import cli as importlinter_cli  # the [test] extra

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_the_declared_layers_hold():
    assert PYPROJECT.exists(), "pyproject.toml holds the layers contract"
    sys.path.insert(0, str(PYPROJECT.parent / "src"))  # the source tree when run from a checkout
    try:
        status = importlinter_cli.lint_imports(config_filename=str(PYPROJECT), no_cache=True)
    finally:
        sys.path.pop(0)
    assert status == 0, "an import breaks the layers of pyproject.toml: run lint-imports to see which"
