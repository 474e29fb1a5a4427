"""What a pip-installed cooc promises beyond its results (issue 6).

- the version comes from the package metadata, for ``cooc.__version__`` and ``cooc --version``;
- ``py.typed`` and the stub ``_kernels_c.pyi`` are installed, and the stub's signatures equal the twins';
- the kernels give the same results when several threads call them at once, on both backends: this is
  what allows the compiled module to declare ``freethreading_compatible`` (setup.py).
"""

from __future__ import annotations

import ast
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
from cooc import _kernels, _kernels_py

PACKAGE = Path(cooc.__file__).resolve().parent
STUB = PACKAGE / "_kernels_c.pyi"


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


def _stub_tree() -> ast.Module:
    assert STUB.is_file(), f"{STUB} is not installed"
    return ast.parse(STUB.read_text(encoding="utf-8"), filename=str(STUB))


def _stub_params(fn: ast.FunctionDef) -> list[tuple[str, str, bool]]:
    """(name, kind, has default) of every parameter of a stub function."""
    a = fn.args
    out = []
    positional = a.posonlyargs + a.args
    first_default = len(positional) - len(a.defaults)
    for i, p in enumerate(positional):
        kind = "POSITIONAL_ONLY" if i < len(a.posonlyargs) else "POSITIONAL_OR_KEYWORD"
        out.append((p.arg, kind, i >= first_default))
    if a.vararg:
        out.append((a.vararg.arg, "VAR_POSITIONAL", False))
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        out.append((p.arg, "KEYWORD_ONLY", d is not None))
    if a.kwarg:
        out.append((a.kwarg.arg, "VAR_KEYWORD", False))
    return out


def _twin_params(fn: Callable[..., Any]) -> list[tuple[str, str, bool]]:
    """(name, kind, has default) of every parameter of a twin function or method."""
    params = inspect.signature(fn).parameters.values()
    return [(p.name, p.kind.name, p.default is not inspect.Parameter.empty) for p in params]


def _stub_definitions() -> dict[str, ast.AST]:
    return {
        node.name: node
        for node in _stub_tree().body
        if isinstance(node, (ast.FunctionDef, ast.ClassDef))
    }


def test_stub_defines_exactly_the_kernels():
    assert sorted(_stub_definitions()) == sorted(_kernels.KERNEL_NAMES)


def test_stub_all_equals_twin_all():
    tree = _stub_tree()
    (assign,) = [
        n for n in tree.body
        if isinstance(n, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in n.targets)
    ]
    assert sorted(ast.literal_eval(assign.value)) == sorted(_kernels_py.__all__)


@pytest.mark.parametrize(
    "name", [n for n in _kernels.KERNEL_NAMES if not inspect.isclass(getattr(_kernels_py, n))]
)
def test_stub_function_signature_equals_twin(name):
    node = _stub_definitions()[name]
    assert isinstance(node, ast.FunctionDef), f"{name} is not a function in the stub"
    assert _stub_params(node) == _twin_params(getattr(_kernels_py, name))
    assert node.returns is not None, f"{name} has no return annotation in the stub"


def _twin_methods(cls: type) -> list[str]:
    """The methods the twin class defines itself: public ones, __init__ and protocol methods."""
    return sorted(
        n for n, v in vars(cls).items()
        if callable(v) and (not n.startswith("_") or (n.startswith("__") and n.endswith("__")))
    )


@pytest.mark.parametrize(
    "name", [n for n in _kernels.KERNEL_NAMES if inspect.isclass(getattr(_kernels_py, n))]
)
def test_stub_class_methods_equal_twin(name):
    node = _stub_definitions()[name]
    assert isinstance(node, ast.ClassDef), f"{name} is not a class in the stub"
    stub_methods = {n.name: n for n in node.body if isinstance(n, ast.FunctionDef)}
    twin = getattr(_kernels_py, name)
    assert sorted(stub_methods) == _twin_methods(twin)
    for method in _twin_methods(twin):
        assert _stub_params(stub_methods[method]) == _twin_params(getattr(twin, method)), method


def test_word_table_has_the_documented_methods():
    assert {"encode", "words", "counts", "__len__"} <= set(_twin_methods(_kernels_py.WordTable))


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
    m1 = _kernels.cooccurrence_csr(ids, offsets, n_words, 3)
    m2 = _kernels.cooccurrence_csr(ids2, offsets2, n_words, 2)
    vals = _kernels.normalize_rows_l2(m1[0], m1[2])
    query = rng.random(n_words)
    texts = [_text(rng, 200 if small else 3_000) for _ in range(3)]

    def encode_all() -> Any:
        table = _kernels.new_word_table()  # one table per thread, as documented
        out = [table.encode(t) for t in texts]
        return out, table.words(), table.counts(), len(table)

    return [
        lambda: _kernels.cooccurrence_csr(ids, offsets, n_words, 3),
        lambda: _kernels.cooccurrence_csr(ids2, offsets2, n_words, 5),
        encode_all,
        lambda: _kernels.topk_cosine(m1[0], m1[1], vals, query, 10, 3),
        lambda: _kernels.csr_add(*m1, *m2),
        lambda: _kernels.normalize_rows_l2(m2[0], m2[2]),
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
        "import cooc._kernels_c\n"
        "print(sys._is_gil_enabled())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    # CPython re-enables the GIL, with a RuntimeWarning naming the module, for any extension that does
    # not declare Py_mod_gil = Py_MOD_GIL_NOT_USED; ours must never be the one named.
    assert "cooc._kernels_c" not in proc.stderr, proc.stderr
    if "GIL" not in proc.stderr:
        assert proc.stdout.strip() == "False"
