"""What a pip-installed cooc promises beyond its results.

- the version comes from the package metadata, for ``cooc.__version__`` and ``cooc --version``;
- ``py.typed`` and the kernels' Cython sources (``cooc/_ext/*.pyx``, ``*.pxd``) are installed;
- the kernels give the same results when several threads call them at once, on both backends: this is
  what allows the compiled module to declare ``freethreading_compatible`` (setup.py).
"""

from __future__ import annotations

import importlib.metadata
import inspect
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cooc
from cooc import _backend, neighbors

PACKAGE = Path(cooc.__file__).resolve().parent


# --------------------------------------------------------------------------------------------------
# version


def test_version_comes_from_metadata():
    assert cooc.__version__ == importlib.metadata.version("cooc")
    assert cooc.__version__ != "0+unknown"


def _console_script() -> list[str]:
    script = Path(sysconfig.get_path("scripts")) / ("cooc.exe" if sys.platform == "win32" else "cooc")
    if not script.exists():
        pytest.skip(f"the console script is not installed at {script}")
    return [str(script)]


@pytest.mark.parametrize(
    "command", [lambda: [sys.executable, "-m", "cooc"], _console_script], ids=["python -m cooc", "cooc"]
)
def test_cli_version_prints_it(command: Callable[[], list[str]]) -> None:
    proc = subprocess.run(
        [*command(), "--version"], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[:2] == ["cooc", importlib.metadata.version("cooc")]
    assert "(backend: " in proc.stdout


# --------------------------------------------------------------------------------------------------
# typing files


def test_py_typed_is_installed():
    assert (PACKAGE / "py.typed").is_file()


def test_kernel_sources_are_installed():
    """Each compiled module's .pyx ships (so does the .pxd they share), never generated C."""
    ext = PACKAGE / "_ext"
    for name in _backend.KERNEL_MODULES:
        assert (ext / f"{name}.pyx").is_file(), name
        assert not (ext / f"{name}.c").exists(), name
    assert (ext / "_heap.pxd").is_file()


# --------------------------------------------------------------------------------------------------
# threads: every kernel from 4 threads at once equals the single-threaded result


N_THREADS = 4


def _corpus(rng: np.random.Generator, n_tokens: int, n_words: int) -> tuple[np.ndarray, np.ndarray]:
    ids = rng.integers(0, n_words, n_tokens).astype(np.int32)
    cuts = np.sort(rng.choice(np.arange(1, n_tokens), size=n_tokens // 12, replace=False))
    offsets = np.concatenate([[0], cuts, [n_tokens]]).astype(np.int64)
    return ids, offsets


def _text(rng: np.random.Generator, n_lines: int) -> str:
    words = ["alpha", "beta", "gamma", "delta", "Épée", "naïve", "straße", "日本", "x", "yy", "ζωή"]
    lines = []
    for _ in range(n_lines):
        k = int(rng.integers(0, 12))
        lines.append(" ".join(words[i] for i in rng.integers(0, len(words), k)) + ", ok.")
    return "\n".join(lines)


def _work(backend: str) -> list[Callable[[], Any]]:
    """Tasks that each call one kernel; the sizes keep the pure twins quick."""
    rng = np.random.default_rng(2024)
    small = backend == "python"
    n_tokens, n_words = (6_000, 300) if small else (100_000, 3_000)
    ids, offsets = _corpus(rng, n_tokens, n_words)
    ids2, offsets2 = _corpus(rng, n_tokens, n_words)
    m1 = _backend.cooccurrence_csr(ids, offsets, n_words, 3)
    m2 = _backend.cooccurrence_csr(ids2, offsets2, n_words, 2)
    vals = _backend.normalize_rows_l2(m1[0], m1[2])
    query = rng.random(n_words)
    index = neighbors.TransposeIndex.from_rows(m1[0], m1[1], vals, n_words)
    cols = np.arange(n_words, dtype=np.int32)
    texts = [_text(rng, 200 if small else 3_000) for _ in range(3)]

    def encode_all() -> Any:
        table = _backend.new_word_table()  # one table per thread, as documented
        out = [table.encode(t) for t in texts]
        return out, table.words(), table.counts(), len(table)

    return [
        lambda: _backend.cooccurrence_csr(ids, offsets, n_words, 3),
        lambda: _backend.cooccurrence_csr(ids2, offsets2, n_words, 5),
        encode_all,
        lambda: index.query([0, n_words], cols, query, 10, 3),
        lambda: index.query_rows(np.arange(40), 10, 2),
        lambda: _backend.csr_add(*m1, *m2),
        lambda: _backend.normalize_rows_l2(m2[0], m2[2]),
    ]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return (
            isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
            and a.tobytes() == b.tobytes()
        )
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return bool(a == b)


def test_kernels_from_threads_equal_single_threaded(backend: str) -> None:
    tasks = _work(backend)
    expected = [task() for task in tasks]
    rounds = 2
    barrier = threading.Barrier(N_THREADS)
    results: list[list[Any]] = [[] for _ in range(N_THREADS)]
    errors: list[BaseException] = []

    def run(slot: int) -> None:
        try:
            barrier.wait(timeout=60)
            for r in range(rounds):
                # Each thread walks the tasks in a different order so that different kernels overlap.
                for i in range(len(tasks)):
                    j = (i + slot + r) % len(tasks)
                    results[slot].append((j, tasks[j]()))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    assert not errors, errors
    for slot in range(N_THREADS):
        assert len(results[slot]) == rounds * len(tasks)
        for j, got in results[slot]:
            assert _same(got, expected[j]), f"thread {slot}, task {j}: result differs from single-threaded"


def test_compiled_module_keeps_the_gil_off_on_free_threaded_python(compiled_kernels: object) -> None:
    if not sysconfig.get_config_var("Py_GIL_DISABLED"):
        pytest.skip("not a free-threaded CPython build")
    code = (
        "import sys, warnings\n"
        "warnings.simplefilter('always')\n"
        "import cooc._ext.count, cooc._ext.linalg, cooc._ext.neighbors, cooc._ext.tokenize\n"
        "print(sys._is_gil_enabled())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    # CPython re-enables the GIL, with a RuntimeWarning naming the module, for any extension that does
    # not declare Py_mod_gil = Py_MOD_GIL_NOT_USED; ours must never be the one named.
    assert "cooc._ext" not in proc.stderr, proc.stderr
    if "GIL" not in proc.stderr:
        assert proc.stdout.strip() == "False"
