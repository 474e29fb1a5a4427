"""Large corpora: pretrain from raw text to normalized CSR, against a numpy/scipy baseline.

    python -m pytest benchmarks/test_bench_large.py --benchmark-only --benchmark-group-by=group

Sizes: 1M and 10M tokens by default; add 50M with ``COOC_BENCH_50M=1`` (minutes, several GB).
Extra figures (ns per counted pair, MB/s tokenized, peak RSS, ms per neighbour query) are stored in
each benchmark's ``extra_info`` and printed by ``--benchmark-verbose``/``--benchmark-json``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import cooc
from cooc import _backend
from cooc.bench.baselines import numpy_pretrain
from cooc.counting import pairs_per_sentence

from corpora import SMOKE

HERE = Path(__file__).parent


def _rounds(n: int) -> dict[str, int]:
    """Rounds for one corpus size, the same for cooc and the baseline: the fastest of 5 after a warm-up
    round at 1M (0.1 s rounds: this shared machine's noise is of their size), of 3 up to 10M, one above."""
    if n <= 10**6:
        return {"rounds": 5, "warmup_rounds": 1}
    return {"rounds": 3 if n <= 10**7 else 1, "warmup_rounds": 0}
SIZES = [20_000] if SMOKE else [1_000_000, 10_000_000] + ([50_000_000] if os.environ.get("COOC_BENCH_50M") else [])
VOCAB = {20_000: 2_000, 1_000_000: 50_000, 10_000_000: 200_000, 50_000_000: 400_000}


def _write_corpus(path: Path, n: int, vocab: int, seed: int) -> None:
    """``write_zipf_text`` in a child process: making millions of Python objects here would leave this
    process's memory in a state (freed arenas given back, then faulted in again) that slows the timed
    runs after it by up to half on this machine."""
    subprocess.run([sys.executable, "-c", f"from corpora import write_zipf_text; "
                    f"write_zipf_text({str(path)!r}, {n}, {vocab}, seed={seed})"],
                   check=True, cwd=HERE, env={**os.environ, "PYTHONPATH": str(HERE)})


@pytest.fixture(scope="module")
def corpus_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpora")
    files = {}
    for n in SIZES:
        path = root / f"zipf-{n}.txt"
        _write_corpus(path, n, VOCAB[n], seed=n)
        files[n] = path
    return files


def _min_seconds(benchmark) -> float | None:
    """Fastest round, or None when benchmarks are disabled (a smoke run)."""
    stats = getattr(benchmark, "stats", None)
    return stats.stats.min if stats is not None else None


def _label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def peak_rss_mb(code: str) -> float:
    """Run ``code`` in a fresh interpreter and return its peak resident memory (VmHWM) in MB.

    VmHWM belongs to the new address space made by exec; ``ru_maxrss`` would not do: Linux carries it
    over from the forked parent (this pytest process, which holds large models).
    """
    prog = code + "\nprint([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    out = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, check=True,
                         cwd=HERE, env={**os.environ, "PYTHONPATH": str(HERE)})
    return int(out.stdout.strip().splitlines()[-1]) / 1024


@pytest.mark.parametrize("n", SIZES, ids=_label)
@pytest.mark.parametrize("jobs", [1, 2])
def test_pretrain_cooc(benchmark, corpus_files, n, jobs):
    benchmark.group = f"pretrain-{_label(n)}"
    _backend.set_backend("cython")
    path = corpus_files[n]
    emb = benchmark.pedantic(cooc.pretrain, args=(cooc.LineCorpus(path),),
                             kwargs={"n_jobs": jobs}, iterations=1, **_rounds(n))
    benchmark.extra_info.update(tokens=n, vocab=len(emb), nnz=int(emb.counts.nnz), jobs=jobs)
    if not SMOKE:
        benchmark.extra_info["peak_rss_mb"] = peak_rss_mb(
            f"import cooc; cooc.pretrain(cooc.LineCorpus({str(path)!r}), n_jobs={jobs})")


@pytest.mark.parametrize("n", SIZES, ids=_label)
def test_pretrain_numpy_scipy(benchmark, corpus_files, n):
    benchmark.group = f"pretrain-{_label(n)}"
    path = corpus_files[n]
    # as many rounds as cooc gets (one round of 1M varied 0.52-1.05 s)
    words, counts, vectors = benchmark.pedantic(numpy_pretrain, args=(str(path),), iterations=1,
                                                **_rounds(n))
    # like with like: the same cells as cooc
    emb = cooc.pretrain(cooc.LineCorpus(path))
    assert words == emb.index_to_key
    assert (counts != emb.counts).nnz == 0
    benchmark.extra_info.update(tokens=n, vocab=len(words))
    if not SMOKE:
        benchmark.extra_info["peak_rss_mb"] = peak_rss_mb(
            f"from cooc.bench.baselines import numpy_pretrain; numpy_pretrain({str(path)!r})")


@pytest.mark.parametrize("n", SIZES[:1], ids=_label)
def test_pretrain_pure_twin(benchmark, corpus_files, n):
    benchmark.group = f"pretrain-{_label(n)}"
    _backend.set_backend("python")
    try:
        emb = benchmark.pedantic(cooc.pretrain, args=(cooc.LineCorpus(corpus_files[n]),),
                                 rounds=1, iterations=1)
    finally:
        _backend.set_backend("cython")
    assert len(emb) > 0


@pytest.mark.parametrize("n", SIZES, ids=_label)
def test_stage_tokenize(benchmark, corpus_files, n):
    """Tokenizing alone (compiled word table), reported as MB/s."""
    benchmark.group = f"stages-{_label(n)}"
    text = corpus_files[n].read_text(encoding="utf-8")

    def run():
        table = _backend.new_word_table()
        for i in range(0, len(text), 1 << 22):
            table.encode(text[i:i + (1 << 22)])
        return table

    benchmark.pedantic(run, rounds=3, iterations=1)
    if _min_seconds(benchmark):
        benchmark.extra_info["MB_per_s"] = len(text.encode()) / 1e6 / _min_seconds(benchmark)


@pytest.mark.parametrize("n", SIZES, ids=_label)
@pytest.mark.parametrize("jobs", [1, 2])
def test_stage_count(benchmark, corpus_files, n, jobs):
    """Counting alone (ids -> CSR) in 1 or 2 threads, reported as ns (of wall time) per counted pair of
    positions."""
    from cooc.counting import count_pairs, select_vocabulary, tokenize_chunks

    benchmark.group = f"stages-{_label(n)}"
    tokens = tokenize_chunks(cooc.LineCorpus(corpus_files[n]).iter_chunks())
    vocab, ids, offsets = select_vocabulary(tokens, cooc.STOPWORDS, 1, None)
    benchmark.pedantic(count_pairs, args=(ids, offsets, len(vocab), 3), kwargs={"n_jobs": jobs},
                       rounds=3, iterations=1)
    pairs = int(pairs_per_sentence(offsets, 3).sum())
    if _min_seconds(benchmark):
        benchmark.extra_info["ns_per_pair"] = _min_seconds(benchmark) / pairs * 1e9


@pytest.mark.parametrize("n", SIZES[-1:], ids=_label)
def test_spill_equals_in_memory(benchmark, corpus_files, n):
    """A tight memory budget forces spilled runs and a merge; the counts are identical."""
    benchmark.group = f"spill-{_label(n)}"
    full = cooc.pretrain(cooc.LineCorpus(corpus_files[n]))
    limited = benchmark.pedantic(
        cooc.pretrain, args=(cooc.LineCorpus(corpus_files[n]),),
        kwargs={"memory_limit": "2MB" if SMOKE else "256MB"}, rounds=1, iterations=1)
    assert limited.index_to_key == full.index_to_key
    assert (limited.counts != full.counts).nnz == 0


#: Neighbour corpora: the 10M-token one (V = 199k, 24.7M non-zeros) and one the size of a dictionary
#: corpus (4.0M tokens, V = 217k, 6.9M non-zeros; here 4M tokens, V = 230k, 11.7M non-zeros).
#: A query's cost is the stored values of its context words' columns, so it grows with the density.
NEIGHBOR_CORPORA = {"10M": (10_000_000, 200_000, 10_000_000), "4M": (4_000_000, 260_000, 4)}


@pytest.fixture(scope="module", params=list(NEIGHBOR_CORPORA))
def big_model(request, corpus_files, tmp_path_factory):
    if SMOKE:
        return cooc.pretrain(cooc.LineCorpus(corpus_files[SIZES[0]]))
    n, vocab, seed = NEIGHBOR_CORPORA[request.param]
    if n in corpus_files:
        path = corpus_files[n]
    else:
        path = tmp_path_factory.mktemp("neighbors") / f"zipf-{n}.txt"
        _write_corpus(path, n, vocab, seed)
    return cooc.pretrain(cooc.LineCorpus(path), n_jobs=2)


@pytest.mark.parametrize("mode", ["single-1", "single-2", "batch-1", "batch-2", "busy-single-1", "busy-single-2"])
def test_neighbors_topk(benchmark, big_model, mode):
    """Top-10 neighbours of 100 random words: one query at a time or one batch, in 1 or 2 threads;
    "busy": one at a time while another process keeps a core busy (2 threads must not then lose to 1)."""
    benchmark.group = f"neighbors-V{len(big_model) // 1000}k"
    rng = np.random.default_rng(0)
    words = [big_model.index_to_key[i] for i in rng.integers(0, len(big_model), 20 if SMOKE else 100)]
    big_model.most_similar(words[0], topn=10)  # builds the transpose once
    jobs = int(mode[-1])

    def run():
        if "single" in mode:
            return [big_model.most_similar(w, topn=10, n_jobs=jobs) for w in words]
        return big_model.most_similar_batch(words, topn=10, n_jobs=jobs)

    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if mode.startswith("busy") else None
    try:
        got = benchmark.pedantic(run, rounds=3, iterations=1)
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    assert got == [big_model.most_similar(w, topn=10) for w in words]
    benchmark.extra_info.update(vocab=len(big_model), nnz=int(big_model.counts.nnz))
    if _min_seconds(benchmark):
        benchmark.extra_info["ms_per_query"] = _min_seconds(benchmark) / len(words) * 1e3


def test_neighbors_scipy_baseline(benchmark, big_model):
    """The same queries with scipy: one sparse product X @ x^T per word, then argpartition."""
    benchmark.group = f"neighbors-V{len(big_model) // 1000}k"
    rng = np.random.default_rng(0)
    ids = rng.integers(0, len(big_model), 20 if SMOKE else 100)
    x = big_model.to_scipy().tocsr()

    def run():
        out = []
        for q in ids:
            s = np.asarray((x @ x[q].T).todense()).ravel()
            s[q] = -np.inf
            top = np.argpartition(-s, 10)[:10]
            out.append(np.sort(s[top])[::-1])
        return out

    got = benchmark.pedantic(run, rounds=3, iterations=1)
    for q, sims in zip(ids, got):  # the same scores as cooc's, up to the order of float sums
        want = [s for _, s in big_model.most_similar(big_model.index_to_key[q], topn=10)]
        np.testing.assert_allclose(sims, want, rtol=1e-12, atol=1e-15)
    if _min_seconds(benchmark):
        benchmark.extra_info["ms_per_query"] = _min_seconds(benchmark) / len(ids) * 1e3
