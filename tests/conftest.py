"""Shared fixtures: every kernel test runs on both backends (ids ``python`` and ``cython``).

When the compiled module ``cooc._ext`` cannot be imported, the ``cython`` runs are skipped with a
reason, unless ``COOC_REQUIRE_CYTHON=1`` is set: then they fail, so CI proves the compiled path instead of
testing the pure twin twice.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from cooc import _backend

BACKENDS = ("python", "cython")

# The oracle lives next to the tests; make it importable whatever the import mode.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


def _require_cython() -> bool:
    return os.environ.get("COOC_REQUIRE_CYTHON", "").strip() == "1"


def compiled_or_skip():
    """The compiled kernel module; skip (or fail under COOC_REQUIRE_CYTHON=1) when it is not built."""
    mod = _backend.compiled_module()
    if mod is None:
        if _require_cython():
            pytest.fail(
                "COOC_REQUIRE_CYTHON=1 but the compiled backend cooc._ext cannot be imported",
                pytrace=False,
            )
        pytest.skip(
            "compiled backend cooc._ext is not built/importable in this installation "
            "(set COOC_REQUIRE_CYTHON=1 to make this a failure)"
        )
    return mod


def available_backends() -> list[str]:
    return ["python"] + (["cython"] if _backend.compiled_module() is not None else [])


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def backend(request):
    """Switch ``cooc._backend`` to the requested backend for one test, then restore the previous one."""
    name = request.param
    if name == "cython":
        compiled_or_skip()
    previous = _backend.BACKEND
    _backend.set_backend(name)
    try:
        assert _backend.BACKEND == name
        yield name
    finally:
        _backend.set_backend(previous)


@pytest.fixture
def compiled_kernels():
    """The compiled kernels by name, from ``cooc._ext`` (same skip/fail rule as the ``cython`` backend)."""
    return compiled_or_skip()


@pytest.fixture
def across_backends():
    """``run(fn, *args, **kw)`` calls ``fn`` once per available backend and returns ``{name: result}``.

    An exception is returned as ``(type, message)`` so that errors can be compared too. The backend
    active before the call is restored.
    """

    def run(fn, *args, **kwargs):
        previous = _backend.BACKEND
        results = {}
        try:
            for name in available_backends():
                _backend.set_backend(name)
                try:
                    results[name] = fn(*args, **kwargs)
                except (ValueError, TypeError, KeyError) as exc:
                    results[name] = (type(exc), str(exc))
        finally:
            _backend.set_backend(previous)
        return results

    return run


@pytest.fixture(scope="module")
def client():
    """A LocalCluster of 2 worker processes (1 thread each) and its client, one per test module; calls
    pass ``client=`` explicitly (it is not set as Dask's default)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
        worker_dashboard_address=None,
    )
    c = distributed.Client(cluster, set_as_default=False)
    try:
        yield c
    finally:
        c.close()
        cluster.close()
