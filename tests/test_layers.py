"""The package's import graph runs one way: the layers declared in pyproject.toml ([tool.importlinter]),
imports inside functions included, so an import cycle or an upward import (a library module importing
the CLI or the bench harness, the model importing the pipeline) fails here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import importlinter  # noqa: F401 - the [test] extra: fail here, not in the subprocess, when it is missing

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_the_declared_layers_hold():
    assert PYPROJECT.exists(), "pyproject.toml holds the layers contract"
    # In a child process: import-linter configures logging (dictConfig), which would disable the
    # package's loggers for the tests that run after this one.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PYPROJECT.parent / "src"), os.environ.get("PYTHONPATH", "")]))
    code = ("import sys; from importlinter.cli import lint_imports; "
            f"sys.exit(lint_imports(config_filename={str(PYPROJECT)!r}, no_cache=True))")
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"an import breaks the layers of pyproject.toml:\n{run.stdout}{run.stderr}"
