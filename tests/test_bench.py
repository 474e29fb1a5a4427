"""``cooc bench``: real timings of every stage and backend, JSON, --compare, the plot, one-line errors."""

from __future__ import annotations

import argparse
import json
import math
import time
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

import cooc.charts
from cooc import _backend, cli, counting
from cooc.bench import baselines as bl
from cooc.bench import harness as bench

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def cooc_main(argv: list[str]) -> int:
    """``cooc ARGV`` through the real ``cooc`` parser."""
    parser = cli.build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return int(args.func(args))


def _bench_json(tmp_path, name: str, *args: str) -> dict:
    out = tmp_path / name
    assert cooc_main(["bench", *args, "--json", str(out), "-q"]) == 0
    return json.loads(out.read_text(encoding="utf-8"))


def _row(doc: dict, stage: str, backend: str, size: str = "10k") -> dict:
    rows = [r for r in doc["measurements"] if (r["stage"], r["backend"], r["size"]) == (stage, backend, size)]
    assert len(rows) == 1, rows
    return rows[0]


# ------------------------------------------------------------------------------------------------
# the full default run at the smallest size


def test_json_has_every_backend_and_stage_with_real_timings(tmp_path, capsys):
    t0 = time.perf_counter()
    out = tmp_path / "out.json"
    assert cooc_main(["bench", "--sizes", "10k", "--repeat", "1", "--json", str(out), "-q"]) == 0
    elapsed = time.perf_counter() - t0
    table = capsys.readouterr().out
    doc = json.loads(out.read_text(encoding="utf-8"))

    assert doc["format"] == "cooc-bench/1"
    m = doc["machine"]
    for key in ("cpu", "cores_logical", "python", "numpy", "scipy", "cooc", "backend"):
        assert m[key], key
    assert m["backend"] in ("cython", "python")
    assert doc["settings"]["stages"] == list(bench.STAGES)
    assert doc["settings"]["backends"] == list(bench.BACKENDS)
    assert doc["settings"]["memory_method"] in ("vmhwm", "tracemalloc")
    assert doc["command"].startswith("cooc bench --sizes 10k")
    (corpus,) = doc["corpora"]
    assert corpus["n_tokens"] == 10_000 and corpus["vocabulary"] > 500 and corpus["nonzeros"] > 0

    compiled = _backend.compiled_module() is not None
    assert len(doc["measurements"]) == len(bench.STAGES) * len(bench.BACKENDS)
    for stage in bench.STAGES:
        for backend in bench.BACKENDS:
            r = _row(doc, stage, backend)
            if backend == "cython" and not compiled:
                assert r["status"] == "skipped" and "not built" in r["reason"]
                continue
            assert r["status"] == "ok", r
            assert len(r["seconds"]) == 1 and len(r["warmup_seconds"]) == 1
            assert r["median"] > 0 and r["min"] <= r["median"] <= r["max"]
            assert r["throughput"] == pytest.approx(r["units"] / r["median"])
            assert isinstance(r["peak_growth_bytes"], int) and r["peak_growth_bytes"] >= 0
            for other, ratio in r["speedup"].items():
                assert ratio == pytest.approx(_row(doc, stage, other)["median"] / r["median"])
            assert f"{stage:<10}{backend:<10}" in table
    # the dense reference needs the V x V table and its normalized copy: it shows in the memory figures
    ref = _row(doc, "normalize", "reference")
    if doc["settings"]["memory_method"] == "vmhwm":
        assert ref["peak_growth_bytes"] > 0.5 * 24 * corpus["vocabulary"] ** 2
    assert "10k tokens: 10,000 tokens" in table
    assert elapsed < 60


# ------------------------------------------------------------------------------------------------
# every figure comes from a real timing


def _slow(func, seconds=0.1):
    def slowed(*args, **kwargs):
        time.sleep(seconds)
        return func(*args, **kwargs)

    return slowed


@pytest.mark.parametrize(
    "stage, backend, module, name, isolation",
    [
        ("count", "python", counting, "count_pairs", []),  # cooc's own function, in a forked process
        ("normalize", "numpy", bl, "numpy_normalize", ["--in-process"]),
    ],
    ids=["count-python-forked", "normalize-numpy-in-process"],
)
def test_a_slowed_stage_shows_up_slower(tmp_path, monkeypatch, stage, backend, module, name, isolation):
    args = ["--sizes", "10k", "--stages", f"tokenize,{stage}", "--backends", backend, "--repeat", "2", *isolation]
    base = _bench_json(tmp_path, "base.json", *args)
    monkeypatch.setattr(module, name, _slow(getattr(module, name), 0.3))
    slow = _bench_json(tmp_path, "slow.json", *args)

    before, after = _row(base, stage, backend), _row(slow, stage, backend)
    assert after["min"] >= 0.3
    assert after["median"] >= before["median"] + 0.2
    assert after["loops"] == 1
    # the stage that was not slowed does not carry the 0.3 s (margins wide enough for a loaded machine)
    assert _row(slow, "tokenize", backend)["median"] < after["median"] - 0.2


# ------------------------------------------------------------------------------------------------
# --compare


def test_compare_prints_the_ratio_table(tmp_path, capsys):
    a = _bench_json(tmp_path, "a.json", "--sizes", "10k", "--stages", "count,normalize",
                    "--backends", "numpy,python", "--repeat", "1", "--in-process")
    b = json.loads(json.dumps(a))
    for r in b["measurements"]:
        r["median"] *= 2.0 if r["backend"] == "numpy" else 0.5
    b["measurements"].append({"stage": "pretrain", "backend": "numpy", "size": "10k", "status": "ok",
                              "median": 1.0, "n_tokens": 10_000})
    (tmp_path / "b.json").write_text(json.dumps(b), encoding="utf-8")
    capsys.readouterr()

    assert cooc_main(["bench", "--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    for stage in ("count", "normalize"):
        (numpy_line,) = [ln for ln in lines if ln.startswith(f"10k    {stage:<10}numpy")]
        (python_line,) = [ln for ln in lines if ln.startswith(f"10k    {stage:<10}python")]
        assert numpy_line.split()[-2:] == ["2", "0.5"]  # B/A, speed-up
        assert python_line.split()[-2:] == ["0.5", "2"]
    (geo,) = [ln for ln in lines if ln.startswith("geometric mean of B/A:")]
    assert "numpy 2 (2)" in geo and "python 0.5 (2)" in geo
    assert "only in B: 10k/pretrain/numpy" in out


# ------------------------------------------------------------------------------------------------
# errors: one line, exit status 2, nothing run


@pytest.mark.parametrize(
    "args, words",
    [
        (["--sizes", "10q"], "bad size"),
        (["--sizes", "10"], "between 1k"),
        (["--sizes", ","], "empty"),
        (["--stages", "tokenise"], "unknown stage 'tokenise'"),
        (["--backends", "cython,fortran"], "unknown backend 'fortran'"),
        (["--repeat", "0"], "--repeat"),
        (["--repeat", "many"], "--repeat"),
        (["--jobs", "0"], "--jobs"),
        (["--time-cap", "-1"], "--time-cap"),
        (["--reference-cap", "lots"], "--reference-cap"),
        (["--json", "/nonexistent-dir/out.json"], "does not exist"),
        (["--compare", "/nonexistent-dir/a.json", "/nonexistent-dir/b.json"], "cannot read"),
        (["--compare", "NOTJSON", "NOTJSON"], "not valid JSON"),
        (["--compare", "OTHERJSON", "OTHERJSON"], "not a cooc bench result"),
        (["--compare", "one.json"], "expected 2 arguments"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path, capsys, args, words):
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "other.json").write_text(json.dumps({"format": "something-else"}), encoding="utf-8")
    subst = {"NOTJSON": str(tmp_path / "bad.json"), "OTHERJSON": str(tmp_path / "other.json")}
    t0 = time.perf_counter()
    status = cooc_main(["bench", *[subst.get(a, a) for a in args]])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    lines = err.strip("\n").splitlines()
    assert len(lines) == 1, err
    assert "error" in lines[0] and words in lines[0]
    assert time.perf_counter() - t0 < 2  # stopped before generating or timing anything


def test_plot_without_matplotlib_is_one_line_and_runs_nothing(tmp_path, monkeypatch, capsys):
    def missing():
        raise cooc.charts.MatplotlibMissing("charts need matplotlib: pip install 'cooc[plot]'")

    monkeypatch.setattr(cooc.charts, "_pyplot", missing)
    status = cooc_main(["bench", "--sizes", "10k", "--plot", str(tmp_path / "b.png")])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    lines = err.strip("\n").splitlines()
    assert len(lines) == 1 and "matplotlib" in lines[0] and "cooc[plot]" in lines[0]
    assert not (tmp_path / "b.png").exists()


def test_plot_draws_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "bench.png"
    assert cooc_main(["bench", "--sizes", "1k,2k", "--stages", "count,normalize", "--backends", "numpy,python",
                      "--repeat", "1", "--in-process", "-q", "--plot", str(out)]) == 0
    assert out.read_bytes()[:8] == PNG_SIGNATURE


# ------------------------------------------------------------------------------------------------
# skipping, with a printed reason


def test_reference_is_skipped_past_its_memory_cap(capsys):
    assert cooc_main(["bench", "--sizes", "10k", "--stages", "tokenize,count,normalize", "--backends",
                      "reference", "--reference-cap", "1MB", "--repeat", "1", "-q"]) == 0
    out = capsys.readouterr().out
    for stage in ("count", "normalize"):
        (line,) = [ln for ln in out.splitlines() if ln.startswith(f"{stage:<10}reference")]
        assert "skipped" in line and "--reference-cap 1 MB" in line and "V = " in line
    # tokenizing makes no V x V table: it still runs
    (line,) = [ln for ln in out.splitlines() if ln.startswith("tokenize  reference")]
    assert "skipped" not in line and "tok/s" in line


def test_a_failing_stage_is_reported_and_the_others_still_run(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(bl, "numpy_count", broken)
    doc = _bench_json(tmp_path, "out.json", "--sizes", "10k", "--stages", "count,normalize",
                      "--backends", "numpy", "--repeat", "1")
    assert _row(doc, "count", "numpy")["status"] == "failed"
    assert _row(doc, "count", "numpy")["reason"] == "RuntimeError: boom"
    assert _row(doc, "normalize", "numpy")["status"] == "ok"


def test_a_run_estimated_past_the_time_cap_is_skipped():
    cfg = bench.BenchConfig(time_cap=1.0)
    small = {"label": "10k", "n_tokens": 10_000, "vocabulary": 1_000, "nonzeros": 30_000}
    big = {"label": "1M", "n_tokens": 1_000_000, "vocabulary": 30_000, "nonzeros": 2_000_000}
    previous = {("count", "python"): (small, 0.02), ("normalize", "reference"): (small, 0.05)}
    assert bench._skip_reason("count", "python", cfg, small, {}) is None
    reason = bench._skip_reason("count", "python", cfg, big, previous)
    assert reason is not None and "~2 s per run estimated from 0.02 s at 10k" in reason
    # the reference grows with V^2: 0.05 s * 900 = 45 s
    cfg.reference_cap = 1 << 50
    assert "~45 s" in bench._skip_reason("normalize", "reference", cfg, big, previous)
    assert bench._skip_reason("tokenize", "numpy", cfg, big, previous) is None


def test_reference_memory_estimate_matches_what_it_allocates(tmp_path):
    bl.write_corpus(tmp_path / "c.txt", 4_000)
    text = (tmp_path / "c.txt").read_text()
    docs, vocab, index = bl.reference_tokenize(text)
    tracemalloc.start()
    try:
        table = bl.reference_count(docs, index)
        vectors = bl.reference_normalize(table, vocab)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(vectors) == len(vocab)
    estimate = bl.reference_memory_estimate(len(vocab), 4_000)
    assert 0.8 * peak <= estimate <= 1.25 * peak


# ------------------------------------------------------------------------------------------------
# like with like: every backend computes the same thing


def test_backends_compute_the_same_results(tmp_path):
    bench.prepare_size(tmp_path, 10_000)
    state = bench.load_state(tmp_path)
    words = state.words

    def result(stage, backend):
        with bench.backend_context(backend):
            return bench.make_stage(stage, backend, state).fn()

    backends = ["python", "numpy", "reference"] + (["cython"] if _backend.compiled_module() else [])
    # tokenize
    vocab, ids, offsets = result("tokenize", "python")
    assert vocab.words == words
    np_words, np_ids, np_off = result("tokenize", "numpy")
    assert np_words == words and np.array_equal(np_ids, ids) and np.array_equal(np_off, offsets)
    ref_docs, ref_vocab, _ = result("tokenize", "reference")
    assert ref_vocab == words and sum(map(len, ref_docs)) == ids.size
    # count
    indptr, indices, data = result("count", "python")
    counts = sp.csr_matrix((data, indices, indptr), shape=(len(words), len(words)))
    assert (result("count", "numpy") != counts).nnz == 0
    assert np.array_equal(np.array(result("count", "reference")), counts.toarray())
    if "cython" in backends:
        assert all(np.array_equal(a, b) for a, b in zip(result("count", "cython"), (indptr, indices, data)))
    # normalize
    norm = result("normalize", "python")
    assert np.allclose(result("normalize", "numpy").data, norm)
    dense = result("normalize", "reference")
    assert np.allclose(np.array([dense[w] for w in words]),
                       sp.csr_matrix((norm, indices, indptr), shape=counts.shape).toarray())
    # neighbors: the same words in the same order, similarities equal to rounding
    lists = {b: result("neighbors", b) for b in backends}
    for b in backends:
        for got, want in zip(lists[b], lists["python"]):
            assert [w for w, _ in got] == [w for w, _ in want], b
            assert np.allclose([s for _, s in got], [s for _, s in want]), b
    assert len(lists["python"]) == bench.N_QUERIES
    # pretrain: the same vectors from the file
    emb = result("pretrain", "python")
    np_words, np_counts, np_vectors = result("pretrain", "numpy")
    assert np_words == emb.index_to_key and (np_counts != emb.counts).nnz == 0
    assert math.isclose(abs(np_vectors - emb.vectors).max(), 0.0, abs_tol=1e-12)


# ------------------------------------------------------------------------------------------------
# sizes and the corpus


@pytest.mark.parametrize("text, n", [("10k", 10_000), ("2.5M", 2_500_000), ("1G", 10**9), ("5000", 5_000),
                                     (" 100K ", 100_000)])
def test_parse_size(text, n):
    assert bench.parse_size(text) == n
    assert bench.parse_size(bench.size_label(n)) == n


def test_cli_defaults_are_the_harness_defaults():
    from cooc.cli import bench as cli_bench

    assert (cli_bench.STAGES, cli_bench.BACKENDS, cli_bench.DEFAULT_SIZES) == (
        bench.STAGES, bench.BACKENDS, bench.DEFAULT_SIZES)


def test_sizes_are_sorted_and_deduplicated():
    assert bench.parse_sizes("1M,10k,10000,100k") == [10_000, 100_000, 1_000_000]


def test_corpus_is_deterministic_zipf_like_and_stopword_free(tmp_path):
    a = bl.write_corpus(tmp_path / "a.txt", 20_000, seed=3)
    bl.write_corpus(tmp_path / "b.txt", 20_000, seed=3)
    assert (tmp_path / "a.txt").read_bytes() == (tmp_path / "b.txt").read_bytes()
    lines = (tmp_path / "a.txt").read_text().splitlines()
    tokens = [w for line in lines for w in line.split()]
    assert len(tokens) == a["tokens"] == 20_000 and len(lines) == a["sentences"]
    assert not set(tokens) & cooc.STOPWORDS
    lengths = np.array([len(line.split()) for line in lines])
    assert 12 <= np.median(lengths) <= 24 and lengths.max() <= 80
    freq = np.sort(np.unique(tokens, return_counts=True)[1])[::-1]
    assert freq[0] > 5 * freq[9]  # Zipf: the top word is far more frequent than the tenth
