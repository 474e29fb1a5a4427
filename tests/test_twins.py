"""The compiled kernels and their pure-Python twins are provably twins.

Module by module (``cooc._ext.<name>`` and ``cooc._pure.<name>``), names, signatures, docstrings and
output dtypes must agree; the selector must pick the right one.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cooc
from cooc import _backend

_kernels_py = _backend.PURE

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def _qualified_line(fn) -> str:
    # embedsignature writes "name(params)" for functions and "Class.name(params)" for methods
    return rf"(?:\w+\.)*{re.escape(fn.__name__)}\((.*)\)(\s*->.*)?"


def _signature(fn) -> inspect.Signature:
    """``inspect.signature``, or the signature Cython embeds as the docstring's first line."""
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        first = (fn.__doc__ or "").lstrip().splitlines()[0]
        m = re.fullmatch(_qualified_line(fn), first)
        assert m, f"no signature for {fn!r}"
        ns: dict = {}
        exec(f"def _f({m.group(1)}): pass", ns)  # parameter list only: names, kinds, defaults
        return inspect.signature(ns["_f"])


def _params(sig: inspect.Signature) -> list[tuple]:
    return [(p.name, p.kind, p.default) for p in sig.parameters.values()]


def _strip_embedded_signature(obj) -> str:
    """The docstring without the ``name(params)`` line Cython's embedsignature puts first."""
    doc = obj.__doc__ or ""
    lines = doc.lstrip("\n").splitlines()
    if lines and re.fullmatch(_qualified_line(obj), lines[0].strip()):
        lines = lines[1:]
    return inspect.cleandoc("\n".join(lines))


def _public_methods(cls) -> list[str]:
    return sorted(n for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n)))


def _protocol_methods(cls) -> list[str]:
    skip = {"__init__", "__new__", "__init_subclass__", "__subclasshook__"}
    return sorted(
        n for n, v in vars(cls).items()
        if n.startswith("__") and n.endswith("__") and callable(v) and n not in skip
    )


def _members() -> list[str]:
    """Every kernel, and every public method of a kernel class, as dotted paths from the twin."""
    out = []
    for name in _backend.KERNEL_NAMES:
        obj = getattr(_kernels_py, name)
        out.append(name)
        if inspect.isclass(obj):
            out.extend(f"{name}.{m}" for m in _public_methods(obj))
    return out


FUNCTIONS = [n for n in _backend.KERNEL_NAMES if not inspect.isclass(getattr(_kernels_py, n))]
CLASSES = [n for n in _backend.KERNEL_NAMES if inspect.isclass(getattr(_kernels_py, n))]
MEMBERS = _members()


def _resolve(module, path: str):
    obj = module
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


#: kernels whose validated wrapper in cooc._backend takes the same parameters and has the same docstring
#: (the others run on threads over ranges of rows, or are called by cooc.neighbors after its checks)
SAME_AS_WRAPPER = ("cooccurrence_csr", "cosine_dense", "csr_add", "row_norms", "ppmi_csr", "remap_ids")


def test_kernel_names_are_the_public_names_of_the_twin():
    pure = [importlib.import_module(f"cooc._pure.{m}") for m in _backend.KERNEL_MODULES]
    assert list(_backend.KERNEL_NAMES) == [n for mod in pure for n in mod.__all__]
    assert len(set(_backend.KERNEL_NAMES)) == len(_backend.KERNEL_NAMES)
    for name in _backend.KERNEL_NAMES:
        assert callable(getattr(_kernels_py, name))
    for name in SAME_AS_WRAPPER:  # everything else calls the kernels through the validated selector
        assert callable(getattr(_backend, name)), name
    for name in ("cooccurrence_csr", "normalize_rows_l2", "topk_cosine_sparse_many", "cosine_dense"):
        assert name in FUNCTIONS


@pytest.mark.parametrize("module", _backend.KERNEL_MODULES)
def test_compiled_module_has_the_same_public_names(compiled_kernels, module):
    c_mod = importlib.import_module(f"cooc._ext.{module}")
    py_mod = importlib.import_module(f"cooc._pure.{module}")
    assert set(c_mod.__all__) == set(py_mod.__all__)
    for name in py_mod.__all__:
        c_obj = getattr(c_mod, name)
        assert callable(c_obj), name
        assert inspect.isclass(c_obj) == inspect.isclass(getattr(py_mod, name)), name
        assert getattr(compiled_kernels, name) is c_obj
    public_c = {n for n in dir(c_mod) if not n.startswith("_") and callable(getattr(c_mod, n))}
    assert set(py_mod.__all__) <= public_c


@pytest.mark.parametrize("name", CLASSES)
def test_kernel_classes_have_the_same_methods(compiled_kernels, name):
    py_cls = getattr(_kernels_py, name)
    c_cls = getattr(compiled_kernels, name)
    assert _public_methods(c_cls) == _public_methods(py_cls)
    for dunder in _protocol_methods(py_cls):
        assert callable(getattr(c_cls, dunder, None)), f"{name} lacks {dunder}"
    # the constructors take the same arguments
    py_params = _params(inspect.signature(py_cls))
    try:
        c_params = _params(inspect.signature(c_cls))
    except (TypeError, ValueError):  # a cdef class without an embedded __init__ signature
        c_params = None
    if c_params is not None:
        assert c_params == py_params
    else:
        assert py_params == [], "cannot compare the constructor signature of the compiled class"
        c_cls()  # constructible without arguments, like its twin


@pytest.mark.parametrize("path", [m for m in MEMBERS if m not in CLASSES])
def test_same_signature(compiled_kernels, path):
    py_fn = _resolve(_kernels_py, path)
    c_fn = _resolve(compiled_kernels, path)
    assert _params(_signature(c_fn)) == _params(inspect.signature(py_fn))
    if path in SAME_AS_WRAPPER:
        # the validated wrapper takes as many parameters (positional calls pass straight through)
        wrapper = _params(inspect.signature(getattr(_backend, path)))
        assert len(wrapper) == len(_params(inspect.signature(py_fn)))


@pytest.mark.parametrize("path", [m for m in MEMBERS if m not in CLASSES])
def test_embedded_signature_line_matches_the_twin(compiled_kernels, path):
    """embedsignature=True: the compiled docstring starts with the twin's signature."""
    c_fn = _resolve(compiled_kernels, path)
    first = (c_fn.__doc__ or "").lstrip().splitlines()[0]
    assert first == f"{path}{inspect.signature(_resolve(_kernels_py, path))}"


@pytest.mark.parametrize("path", MEMBERS)
def test_same_docstring(compiled_kernels, path):
    py_doc = inspect.cleandoc(_resolve(_kernels_py, path).__doc__ or "")
    c_doc = _strip_embedded_signature(_resolve(compiled_kernels, path))
    assert py_doc, f"{path} has no docstring"
    assert c_doc == py_doc
    if path in SAME_AS_WRAPPER:
        # the validated wrappers expose the same documentation
        assert inspect.cleandoc(getattr(_backend, path).__doc__) == py_doc


def _valid_inputs():
    ids = np.array([0, 1, 1, 2, 0], dtype=np.int32)
    offsets = np.array([0, 3, 5], dtype=np.int64)
    indptr = np.array([0, 2, 3, 3], dtype=np.int64)
    indices = np.array([0, 2, 1], dtype=np.int32)
    data = np.array([1.0, 2.0, 3.0])
    no_dense = (np.zeros(0, dtype=np.int32), np.zeros((0, 3)))
    return {
        "cooccurrence_csr": (ids, offsets, 3, 2),
        "csr_add": (indptr, indices, np.array([1, 2, 3], dtype=np.int64)) * 2,
        "normalize_rows_l2": (indptr, np.array([1, 2, 3], dtype=np.int64), np.zeros(3)),
        "row_norms": (indptr, data),
        "cosine_dense": (np.array([1.0, 2.0]), np.array([2.0, 1.0])),
        "ppmi_csr": (indptr, indices, data, np.array([3.0, 3.0, 1.0]), np.array([0.2, 0.3, 0.5]), 0.0),
        "csr_matmat": (indptr, indices, data.astype(np.float32), np.ones((3, 2), dtype=np.float32),
                       np.zeros((3, 2), dtype=np.float32)),
        "remap_ids": (ids, offsets, np.array([1, -1, 0], dtype=np.int32)),
        # the transpose of the 3 x 3 matrix (indptr, indices, data) is itself here: rows 0 and 2 ...
        "topk_cosine_sparse_many": (np.array([0, 1, 2, 3], dtype=np.int64), np.array([0, 1, 0], dtype=np.int32),
                                    data, np.array([np.sqrt(5.0), 2.0, 0.0]), np.array([0, 1, 3], dtype=np.int64),
                                    np.array([0, 1, 2], dtype=np.int32), data, 2, np.array([-1, 1], dtype=np.int64),
                                    *no_dense, 0, 3),
    }


def _dtypes(result):
    if isinstance(result, tuple):
        return tuple(np.asarray(x).dtype for x in result)
    return type(result)


@pytest.mark.parametrize("name", sorted(_valid_inputs()))
def test_same_output_types_and_values(compiled_kernels, name):
    assert name in _backend.KERNEL_NAMES
    py_out = getattr(_kernels_py, name)(*_valid_inputs()[name])   # fresh arrays: some kernels write into
    c_out = getattr(compiled_kernels, name)(*_valid_inputs()[name])   # an out array
    assert _dtypes(c_out) == _dtypes(py_out)
    if isinstance(py_out, tuple):
        for a, b in zip(c_out, py_out):
            assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
            np.testing.assert_array_equal(a, b)
    elif isinstance(py_out, np.ndarray):
        assert isinstance(c_out, np.ndarray)
        assert c_out.tobytes() == py_out.tobytes()
    else:
        assert c_out == py_out


# --------------------------------------------------------------------------------------------------
# the selector


def _python(code: str, **env_changes) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )


def test_default_backend_is_cython_when_built(compiled_kernels):
    proc = _python("import cooc; print(cooc.BACKEND)", COOC_PURE_PYTHON=None)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "cython"
    assert "RuntimeWarning" not in proc.stderr


def test_pure_python_switch():
    proc = _python(
        "import cooc, cooc._backend as k; print(cooc.BACKEND, k.active() is k.PURE)", COOC_PURE_PYTHON="1"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["python", "True"]


BLOCK_COMPILED = "import sys; sys.modules['cooc._ext.count'] = None\n"


def test_missing_compiled_module_warns_once_and_uses_the_twin():
    code = BLOCK_COMPILED + (
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    import cooc, cooc.embeddings, cooc.classify\n"
        "    import importlib; importlib.import_module('cooc._backend')\n"
        "print(cooc.BACKEND, sum(issubclass(x.category, RuntimeWarning) for x in w))\n"
        "emb = cooc.pretrain(['good food', 'good wine'])\n"
        "print(round(emb.similarity('food', 'wine'), 6))\n"
    )
    proc = _python(code, COOC_PURE_PYTHON=None)
    assert proc.returncode == 0, proc.stderr
    backend, n_warnings, sim = proc.stdout.split()
    assert backend == "python"
    assert n_warnings == "1"
    assert float(sim) == 1.0


def test_set_backend_rejects_unknown_names():
    previous = _backend.BACKEND
    try:
        with pytest.raises(ValueError, match="fortran"):
            _backend.set_backend("fortran")
        assert _backend.BACKEND == previous
    finally:
        _backend.set_backend(previous)


def _run_pytest_without_compiled(require: bool) -> subprocess.CompletedProcess:
    selection = [
        str(TESTS / "test_twins.py") + "::test_kernel_names_are_the_public_names_of_the_twin",
        str(TESTS / "test_twins.py") + "::test_compiled_module_has_the_same_public_names[count]",
        str(TESTS / "test_kernels.py") + "::test_cosine_dense_zero_vector_is_zero_not_nan",
    ]
    code = BLOCK_COMPILED + (
        "import pytest\n"
        f"sys.exit(pytest.main(['-q', '-rsE', '-p', 'no:cacheprovider', *{selection!r}]))\n"
    )
    return _python(code, COOC_REQUIRE_CYTHON="1" if require else None, COOC_PURE_PYTHON=None)


def test_cython_runs_are_skipped_when_not_built():
    """The skip half of the fixture's rule, checked on a run where the compiled module is hidden."""
    proc = _run_pytest_without_compiled(require=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert re.search(r"\b2 passed\b", out) and re.search(r"\b2 skipped\b", out), out
    assert "not built" in out


def test_cython_runs_fail_when_required_and_not_built():
    """The fail half: COOC_REQUIRE_CYTHON=1 turns the missing compiled module into a failing run."""
    proc = _run_pytest_without_compiled(require=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "COOC_REQUIRE_CYTHON=1" in out
    assert "skipped" not in out
    assert re.search(r"\b2 passed\b", out), out


def test_package_backend_attribute():
    assert cooc.BACKEND in {"cython", "python"}
    assert cooc.BACKEND == _backend.BACKEND
