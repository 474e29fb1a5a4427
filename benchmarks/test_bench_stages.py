"""Every stage of ``cooc bench`` under pytest-benchmark: one group per stage and size, one row per backend.

    python -m pytest benchmarks/test_bench_stages.py --benchmark-only
    python -m pytest benchmarks --benchmark-only --benchmark-autosave         # save in .benchmarks/
    python -m pytest benchmarks --benchmark-only --benchmark-compare          # against the last save
    python -m pytest benchmarks --benchmark-only --benchmark-compare=0001 --benchmark-compare-fail=median:10%

The inputs and the timed functions are the ones ``cooc bench`` uses (:func:`cooc.bench.make_stage` on
:func:`cooc.bench.prepare_size`'s deterministic Zipf-like corpora), so the two agree. Sizes: 100k and 1M
tokens, or 10k with ``COOC_BENCH_SMOKE=1``. The reference's dense V x V algorithm runs only up to 100k
tokens (at 1M, V = 31k and its tables would need about 38 GB).
"""

from __future__ import annotations

import pytest
from corpora import SMOKE

from cooc import _backend
from cooc.bench import harness as bench

SIZES = [10_000] if SMOKE else [100_000, 1_000_000]
REFERENCE_MAX_TOKENS = 100_000
#: Backends timed a fixed, small number of rounds (pytest-benchmark's calibration would take minutes).
SLOW = {"python": 3, "reference": 1}


def _cases():
    for n in SIZES:
        for stage in bench.STAGES:
            for backend in bench.BACKENDS:
                if backend == "reference" and n > REFERENCE_MAX_TOKENS:
                    continue
                yield pytest.param(stage, backend, n, id=f"{stage}-{backend}-{bench.size_label(n)}")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """``prepared(n)``: the directory holding the corpus of ``n`` tokens and every stage's input."""
    dirs = {}

    def get(n):
        if n not in dirs:
            d = tmp_path_factory.mktemp(f"stages-{bench.size_label(n)}")
            bench.prepare_size(d, n)
            dirs[n] = d
        return dirs[n]

    return get


@pytest.mark.parametrize("stage, backend, n", list(_cases()))
def test_stage(benchmark, prepared, stage, backend, n):
    if backend == "cython" and _backend.compiled_module() is None:
        pytest.skip("the compiled backend (cooc._ext) is not built")
    benchmark.group = f"{stage}-{bench.size_label(n)}"
    state = bench.load_state(prepared(n))
    with bench.backend_context(backend):
        st = bench.make_stage(stage, backend, state)
        if backend in SLOW:
            rounds = 1 if SMOKE else SLOW[backend]
            result = benchmark.pedantic(st.fn, rounds=rounds, iterations=1, warmup_rounds=0)
        else:
            result = benchmark(st.fn)
    assert result is not None
    benchmark.extra_info.update(backend=backend, tokens=state.n_tokens, vocabulary=len(state.words),
                                units=st.units, unit=st.unit)
