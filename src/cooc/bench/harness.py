"""``cooc bench``: time each stage of cooc against its pure twin, numpy/scipy and the dense reference.

The flow is one direction:

1. for each corpus size, :func:`prepare_size` writes a deterministic Zipf-like corpus
   (:func:`cooc.bench.baselines.write_corpus`) and the inputs of every stage (token ids, counts,
   normalized vectors), made once with cooc, so every backend times the same work on the same input;
2. each (stage, backend, size) is measured in a process forked for it (on Linux; or in this process with
   ``in_process=True``), which builds the stage's input in that backend's own form (:func:`make_stage`),
   runs the stage as a warm-up, then ``repeat`` timed runs; runs shorter than :data:`MIN_ROUND` seconds
   are repeated inside a timed round and the round's time divided. Peak memory is read around every
   run (see :class:`MemoryProbe`);
3. combinations that make no sense are skipped with a reason: the reference's dense V x V tables past
   ``reference_cap`` bytes (estimated from V), any run whose time, extrapolated from the previous size,
   passes ``time_cap`` seconds, the compiled backend when it is not built;
4. :func:`format_table` prints median / min / max seconds, throughput, peak memory and the speed-up
   against the pure twin and the numpy baseline; :func:`compare` gives the ratios between two saved runs;
   :func:`plot` draws time against corpus size.

The stages: ``tokenize`` (text -> sorted vocabulary, ids, sentence offsets), ``count`` (ids -> exact
co-occurrence counts), ``normalize`` (counts -> L2-normalized rows), ``neighbors`` (top-10 neighbours of
:data:`N_QUERIES` words, from a fresh model), ``classify`` (nearest-centroid fit on 100 sentences and
predict 100 more), ``pretrain`` (a corpus file -> normalized vectors, end to end).

The library part logs through :mod:`logging`; :func:`run` (the command) prints results to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import functools
import gc
import json
import logging
import math
import os
import platform
import re
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .. import _backend, corpus, counting
from .._parallel import check_n_jobs
from .._validate import parse_size as _parse_size
from ..finetune import NearestCentroid
from ..embeddings import Embeddings
from ..pretrain import pretrain
from ..text import STOPWORDS
from . import baselines as bl
from .memory import MemoryProbe

__all__ = [
    "BACKENDS",
    "STAGES",
    "BenchConfig",
    "BenchError",
    "Stage",
    "add_parser",
    "backend_context",
    "compare",
    "format_table",
    "load_results",
    "load_state",
    "machine_facts",
    "make_stage",
    "parse_size",
    "parse_sizes",
    "plot",
    "prepare_size",
    "run",
    "run_benchmarks",
    "size_label",
]

logger = logging.getLogger(__name__)

STAGES = ("tokenize", "count", "normalize", "neighbors", "classify", "pretrain")
BACKENDS = ("cython", "python", "numpy", "reference")
DEFAULT_SIZES = "10k,100k,1M,10M"
#: Format tag of the JSON files written by ``--json`` and read by ``--compare``.
FORMAT = "cooc-bench/1"
#: Query words of the neighbours stage, spread over the frequency ranks, and neighbours per query.
N_QUERIES = 5
TOPN = 10
#: Sentences of the corpus the classify stage fits on, and sentences it predicts.
N_TRAIN = N_TEST = 100
#: A timed round lasts at least this long: shorter runs are repeated inside it and the time divided.
MIN_ROUND = 0.05
MAX_LOOPS = 10_000
MIN_TOKENS = 1_000
MAX_TOKENS = 1_000_000_000

_UNITS = {"tokenize": "tokens", "count": "tokens", "normalize": "non-zeros", "neighbors": "queries",
          "classify": "docs", "pretrain": "tokens"}
_UNIT_SHORT = {"tokens": "tok/s", "non-zeros": "nz/s", "queries": "q/s", "docs": "docs/s"}


class BenchError(ValueError):
    """A bad request or input, reported to the user as one line (exit status 2)."""


# ------------------------------------------------------------------------------------------------
# parsing


def parse_size(text: str) -> int:
    """A number of tokens: ``"10k"``, ``"1M"``, ``"2.5M"``, ``"1G"`` or a plain integer."""
    try:
        n = _parse_size("size", str(text), base=1000)
    except ValueError:
        raise BenchError(f"--sizes: bad size {text!r}: expected a whole number of tokens like 10k, 100k, 1M "
                         "or 2.5M") from None
    if not MIN_TOKENS <= n <= MAX_TOKENS:
        raise BenchError(f"--sizes: bad size {text!r}: sizes must lie between 1k and 1G tokens")
    return n


def parse_sizes(text: str) -> list[int]:
    """Comma-separated sizes (see :func:`parse_size`), deduplicated, smallest first."""
    parts = [p for p in str(text).split(",") if p.strip()]
    if not parts:
        raise BenchError("--sizes is empty: give sizes like 10k,100k,1M")
    return sorted({parse_size(p) for p in parts})


def _parse_names(text: str, allowed: Sequence[str], what: str) -> list[str]:
    parts = [p.strip().lower() for p in str(text).split(",") if p.strip()]
    if parts == ["all"]:
        return list(allowed)
    if not parts:
        raise BenchError(f"--{what}s is empty: choose from {', '.join(allowed)}")
    for p in parts:
        if p not in allowed:
            raise BenchError(f"unknown {what} {p!r}: choose from {', '.join(allowed)}")
    return [a for a in allowed if a in parts]  # canonical order, no duplicates


def size_label(n: int) -> str:
    """``10000`` -> ``"10k"``, ``2500000`` -> ``"2.5M"``."""
    for unit, scale in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= scale:
            v = n / scale
            return f"{v:g}{unit}" if round(v, 3) == v else str(n)
    return str(n)


def _parse_count(text: str, name: str, minimum: int) -> int:
    try:
        v = int(str(text).strip())
    except ValueError:
        raise BenchError(f"{name} must be an integer >= {minimum}, got {text!r}") from None
    if v < minimum:
        raise BenchError(f"{name} must be an integer >= {minimum}, got {text!r}")
    return v


def _parse_seconds(text: str, name: str) -> float:
    try:
        v = float(str(text).strip())
    except ValueError:
        raise BenchError(f"{name} must be a number of seconds, got {text!r}") from None
    if not v > 0:  # also rejects NaN
        raise BenchError(f"{name} must be a positive number of seconds, got {text!r}")
    return v


# ------------------------------------------------------------------------------------------------
# inputs


def prepare_size(directory: str | os.PathLike[str], n_tokens: int, *, seed: int = 0, window: int = 3) -> dict[str, Any]:
    """Write the corpus of ``n_tokens`` tokens and every stage's input into ``directory``.

    The inputs are made once with cooc's own pipeline (compiled backend when built), so every backend
    is timed on the same data. Returns the corpus facts (tokens, sentences, vocabulary, non-zeros,
    bytes, seed).
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    info = bl.write_corpus(d / "corpus.txt", n_tokens, seed=seed)
    text = (d / "corpus.txt").read_text(encoding="ascii")
    with backend_context("cython" if _backend.compiled_module() is not None else "python"):
        tokens = counting.tokenize_chunks(corpus.iter_chunks(text))
        vocab, ids, offsets = counting.select_vocabulary(tokens, STOPWORDS, 1, None)
        indptr, indices, data = counting.count_pairs(ids, offsets, len(vocab), window)
        normalized = _backend.normalize_rows_l2(indptr, data)
    del text, tokens
    np.savez(d / "state.npz", ids=ids, offsets=offsets, indptr=indptr, indices=indices, data=data,
             normalized=normalized)
    (d / "words.txt").write_text("\n".join(vocab.words), encoding="ascii")
    return {
        "n_tokens": int(n_tokens), "label": size_label(int(n_tokens)), "seed": seed,
        "sentences": int(offsets.size - 1), "vocabulary": len(vocab), "nonzeros": int(data.size),
        "bytes": info["bytes"],
    }


class _State:
    """The inputs of one size, loaded lazily from a :func:`prepare_size` directory."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)
        self._cache: dict[str, Any] = {}

    def _get(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @property
    def path(self) -> Path:
        return self.dir / "corpus.txt"

    @property
    def text(self) -> str:
        return self._get("text", lambda: self.path.read_text(encoding="ascii"))  # type: ignore[no-any-return]

    def _arrays(self) -> dict[str, np.ndarray]:
        def load() -> dict[str, np.ndarray]:
            with np.load(self.dir / "state.npz", allow_pickle=False) as z:
                return {k: z[k] for k in z.files}

        return self._get("arrays", load)  # type: ignore[no-any-return]

    @property
    def words(self) -> list[str]:
        return self._get("words", lambda: (self.dir / "words.txt").read_text(encoding="ascii").split("\n"))  # type: ignore[no-any-return]

    @property
    def ids(self) -> np.ndarray:
        return self._arrays()["ids"]

    @property
    def offsets(self) -> np.ndarray:
        return self._arrays()["offsets"]

    @property
    def n_tokens(self) -> int:
        return int(self.ids.size)

    def counts(self) -> sp.csr_matrix:
        a = self._arrays()
        v = len(self.words)
        return sp.csr_matrix((a["data"], a["indices"], a["indptr"]), shape=(v, v))

    def vectors(self) -> sp.csr_matrix:
        a = self._arrays()
        v = len(self.words)
        return sp.csr_matrix((a["normalized"], a["indices"], a["indptr"]), shape=(v, v))

    def queries(self) -> list[str]:
        """:data:`N_QUERIES` words from the most frequent to the rarest (geometric steps in rank)."""
        freq = np.bincount(self.ids, minlength=len(self.words))
        by_rank = np.argsort(-freq, kind="stable")
        ranks = np.unique(np.geomspace(1, len(by_rank), N_QUERIES).astype(np.int64) - 1)
        return [self.words[i] for i in by_rank[ranks].tolist()]

    def documents(self) -> tuple[list[str], list[str], list[str]]:
        """Training texts, their labels (two classes) and test texts: the corpus's first sentences."""
        lines = self.text.split("\n", N_TRAIN + N_TEST)[: N_TRAIN + N_TEST]
        lines = [s for s in lines if s]
        train, test = lines[0::2], lines[1::2]
        labels = ["positive" if i % 2 == 0 else "negative" for i in range(len(train))]
        return train, labels, test


def load_state(directory: str | os.PathLike[str]) -> _State:
    """The inputs written by :func:`prepare_size`, loaded on first use."""
    return _State(directory)


@contextlib.contextmanager
def backend_context(backend: str) -> Iterator[None]:
    """Make ``backend`` the active cooc kernel backend inside the block (no-op for numpy/reference)."""
    if backend not in ("cython", "python"):
        yield
        return
    previous = _backend.BACKEND
    _backend.set_backend(backend)
    try:
        yield
    finally:
        _backend.set_backend(previous)


@dataclass
class Stage:
    """One timed unit of work: ``fn()`` runs the stage once on prepared input."""

    name: str
    backend: str
    fn: Callable[[], Any]
    units: int
    unit: str


def _reference_docs(state: _State) -> tuple[list[list[str]], dict[str, int]]:
    words = state.words
    toks = np.array(words, dtype=object)[state.ids].tolist()
    off = state.offsets.tolist()
    return [toks[off[s]:off[s + 1]] for s in range(len(off) - 1)], {w: i for i, w in enumerate(words)}


def _dense_rows(m: sp.csr_matrix) -> list[list[float]]:
    rows = []
    ptr, ind, val = m.indptr.tolist(), m.indices.tolist(), m.data.astype(np.float64).tolist()
    for r in range(m.shape[0]):
        row = [0.0] * m.shape[1]
        for k in range(ptr[r], ptr[r + 1]):
            row[ind[k]] = val[k]
        rows.append(row)
    return rows


def make_stage(stage: str, backend: str, state: _State, *, jobs: int = 1, window: int = 3) -> Stage:
    """The zero-argument function that runs ``stage`` once with ``backend`` on the prepared input.

    The input is converted to the backend's own form here, outside the timing: arrays for cooc and
    numpy, lists of words and dense lists of floats for the reference. The cython and python backends
    call cooc's functions through their modules at run time, so they must run inside
    :func:`backend_context`.
    """
    if stage not in STAGES:
        raise BenchError(f"unknown stage {stage!r}")
    if backend not in BACKENDS:
        raise BenchError(f"unknown backend {backend!r}")
    cooc_backend = backend in ("cython", "python")
    n_words = len(state.words)
    units = state.n_tokens
    fn: Callable[[], Any]

    if stage == "tokenize":
        text = state.text
        if cooc_backend:
            def fn() -> Any:
                tokens = counting.tokenize_chunks(corpus.iter_chunks(text), n_jobs=jobs)
                return counting.select_vocabulary(tokens, STOPWORDS, 1, None)
        elif backend == "numpy":
            def fn() -> Any:
                return bl.numpy_tokenize(text)
        else:
            def fn() -> Any:
                return bl.reference_tokenize(text)
    elif stage == "count":
        ids, offsets = state.ids, state.offsets
        if cooc_backend:
            def fn() -> Any:
                return counting.count_pairs(ids, offsets, n_words, window, n_jobs=jobs)
        elif backend == "numpy":
            def fn() -> Any:
                return bl.numpy_count(ids, offsets, n_words, window)
        else:
            docs, index = _reference_docs(state)

            def fn() -> Any:
                return bl.reference_count(docs, index, window)
    elif stage == "normalize":
        counts = state.counts()
        units = int(counts.nnz)
        if cooc_backend:
            indptr, data = counts.indptr, counts.data

            def fn() -> Any:
                return _backend.normalize_rows_l2(indptr, data)
        elif backend == "numpy":
            def fn() -> Any:
                return bl.numpy_normalize(counts)
        else:
            table = _dense_rows(counts)
            words = state.words
            del counts

            def fn() -> Any:
                return bl.reference_normalize(table, words)
    elif stage == "neighbors":
        queries = state.queries()
        units = len(queries)
        words = state.words
        if cooc_backend:
            vectors = state.vectors()

            def fn() -> Any:
                emb = Embeddings(words, vectors, stopwords=STOPWORDS)
                return [emb.most_similar(q, topn=TOPN) for q in queries]
        elif backend == "numpy":
            vectors = state.vectors()

            def fn() -> Any:
                return bl.numpy_neighbors(vectors, words, queries, TOPN)
        else:
            vec_dict = dict(zip(words, _dense_rows(state.vectors())))

            def fn() -> Any:
                return bl.reference_neighbors(vec_dict, queries, TOPN)
    elif stage == "classify":
        train, labels, test = state.documents()
        units = len(train) + len(test)
        words = state.words
        if cooc_backend:
            emb = Embeddings(words, state.vectors(), stopwords=STOPWORDS)

            def fn() -> Any:
                return NearestCentroid(emb).fit(train, labels).predict(test)
        elif backend == "numpy":
            vectors = state.vectors()

            def fn() -> Any:
                return bl.numpy_classify(vectors, words, train, labels, test)
        else:
            vec_dict = dict(zip(words, _dense_rows(state.vectors())))

            def fn() -> Any:
                return bl.reference_classify(vec_dict, train, labels, test)
    else:  # pretrain
        path = state.path
        if cooc_backend:
            def fn() -> Any:
                return pretrain(corpus.LineCorpus(path), window, n_jobs=jobs)
        elif backend == "numpy":
            def fn() -> Any:
                return bl.numpy_pretrain(path, window)
        else:
            def fn() -> Any:
                return bl.reference_pretrain(path, window)
    return Stage(stage, backend, fn, units, _UNITS[stage])


# ------------------------------------------------------------------------------------------------
# measuring


def measure(st: Stage, *, repeat: int, warmup: int, time_cap: float, probe: MemoryProbe) -> dict[str, Any]:
    """Warm up, then time ``repeat`` rounds of ``st.fn``, reading peak memory around every run.

    ``peak_growth_bytes`` is the growth of the peak over the resident memory before the first run of
    the stage in this process (so memory freed by an earlier run and reused is not missed);
    ``peak_rss_bytes`` is the highest peak of any run.
    """
    note = []
    fn = st.fn
    gc.collect()
    rss_input = probe.reset()
    first_peak: int | None = None
    warm: list[float] = []
    for _ in range(warmup):
        t0 = time.perf_counter()
        fn()
        warm.append(time.perf_counter() - t0)
        if first_peak is None:
            first_peak = probe.peak()
        if warm[-1] > time_cap:
            break
    first = warm[-1] if warm else None
    if first is not None and first > time_cap:
        note.append(f"one run took {first:.1f} s > --time-cap {time_cap:g} s: 1 timed run")
        repeat = 1
    loops = 1
    if first is not None and first < MIN_ROUND:
        loops = min(MAX_LOOPS, max(1, math.ceil(MIN_ROUND / max(first, 1e-7))))
    seconds: list[float] = []
    peaks: list[int] = []
    for _ in range(repeat):
        gc.collect()
        if rss_input is not None and first_peak is not None:
            probe.reset()
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        seconds.append((time.perf_counter() - t0) / loops)
        peak = probe.peak()
        if peak is not None:
            peaks.append(peak)
            if first_peak is None:
                first_peak = peak
    growth = peak_rss = None
    if probe.method == "vmhwm" and rss_input is not None and first_peak is not None:
        peak_rss = max([first_peak, *peaks])
        growth = max(0, first_peak - rss_input)
    else:
        gc.collect()
        tracemalloc.start()
        try:
            fn()
            growth = int(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    median = statistics.median(seconds)
    return {
        "status": "ok",
        "seconds": seconds,
        "warmup_seconds": warm,
        "loops": loops,
        "median": median,
        "min": min(seconds),
        "max": max(seconds),
        "units": st.units,
        "unit": st.unit,
        "throughput": st.units / median if median > 0 else None,
        "peak_rss_bytes": peak_rss,
        "rss_before_bytes": rss_input,
        "peak_growth_bytes": growth,
        "memory_method": probe.method,
        "note": "; ".join(note) or None,
    }


def _measure_here(spec: dict[str, Any], stage: str) -> dict[str, Any]:
    """Time one stage with one backend on one prepared size, in this process."""
    backend = spec["backend"]
    row: dict[str, Any] = {"stage": stage, "backend": backend, "size": spec["label"], "n_tokens": spec["n_tokens"]}
    try:
        state = load_state(spec["dir"])
        with backend_context(backend):
            st = make_stage(stage, backend, state, jobs=spec["jobs"], window=spec["window"])
            del state  # what the stage does not hold is freed before it runs
            try:
                row.update(measure(st, repeat=spec["repeat"], warmup=spec["warmup"],
                                   time_cap=spec["time_cap"], probe=MemoryProbe()))
            finally:
                del st
    except Exception as exc:  # noqa: BLE001 - a failed measurement is reported, the others go on
        logger.warning("%s %s %s failed: %s", spec["label"], stage, backend, exc)
        row.update(status="failed", reason=f"{type(exc).__name__}: {exc}")
    gc.collect()
    return row


def _can_fork() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def _forked(func: Callable[[], Any]) -> tuple[bool, Any]:
    """Run ``func()`` in a forked child: ``(True, its result)`` (JSON round-tripped), or
    ``(False, why it failed)``.

    The child starts from this process as it is (modules imported, nothing of the work loaded), so
    the work's memory is its own and nothing of it stays in this process afterwards.
    """
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, send the result, leave without running any exit handler
        code = 1
        try:
            os.close(r)
            try:
                data = json.dumps({"ok": func()}).encode()
            except Exception as exc:  # noqa: BLE001 - reported to the parent
                data = json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode()
            with os.fdopen(w, "wb") as f:
                f.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    try:
        with os.fdopen(r, "rb") as f:
            data = f.read()
        _, status = os.waitpid(pid, 0)
    except BaseException:  # Ctrl-C: the child goes too
        with contextlib.suppress(OSError):
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        raise
    if data:
        got = json.loads(data)
        return ("ok" in got), got.get("ok", got.get("error"))
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        return False, f"the process died: killed by signal {-code}" + (" (out of memory?)" if code == -9 else "")
    return False, f"the process died: exit status {code}"


def _measure_forked(spec: dict[str, Any], stage: str) -> dict[str, Any]:
    """:func:`_measure_here` in a process forked for this measurement alone."""
    ok, got = _forked(lambda: _measure_here(spec, stage))
    if ok:
        return got  # type: ignore[no-any-return]
    return {"stage": stage, "backend": spec["backend"], "size": spec["label"], "n_tokens": spec["n_tokens"],
            "status": "failed", "reason": f"measuring failed: {got}"}


def _progress_line(row: dict[str, Any]) -> str:
    head = f"{row['size']:>5} {row['stage']:<9} {row['backend']:<9}"
    if row["status"] != "ok":
        return f"{head} {row['status']}: {row.get('reason', '')}"
    return f"{head} {_fmt_seconds(row['median'])} (median of {len(row['seconds'])})"


# ------------------------------------------------------------------------------------------------
# the whole run


@dataclass
class BenchConfig:
    """What to run; see ``cooc bench --help``."""

    sizes: list[int] = field(default_factory=lambda: parse_sizes(DEFAULT_SIZES))
    stages: list[str] = field(default_factory=lambda: list(STAGES))
    backends: list[str] = field(default_factory=lambda: list(BACKENDS))
    repeat: int = 5
    warmup: int = 1
    jobs: int = 1
    window: int = 3
    reference_cap: int = 2 << 30
    time_cap: float = 30.0
    in_process: bool = False
    seed: int = 0
    tmp_dir: str | None = None


def _fmt_bytes(n: float) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"


def _growth(stage: str, backend: str, prev: dict[str, Any], cur: dict[str, Any]) -> float:
    """How much longer a run should take at ``cur`` than at ``prev`` (for the time-cap estimate)."""
    n = float(cur["n_tokens"]) / float(prev["n_tokens"])
    v = float(cur["vocabulary"]) / max(1.0, float(prev["vocabulary"]))
    nz = float(cur["nonzeros"]) / max(1.0, float(prev["nonzeros"]))
    if backend == "reference":
        return max(n, v * v)  # the dense tables grow with V^2
    if stage in ("neighbors", "classify"):
        return max(v, nz)
    if stage == "normalize":
        return nz
    return n


def _skip_reason(stage: str, backend: str, cfg: BenchConfig, info: dict[str, Any],
                 previous: dict[tuple[str, str], tuple[dict[str, Any], float]]) -> str | None:
    if backend == "cython" and _backend.compiled_module() is None:
        return "the compiled backend (cooc._ext) is not built in this installation"
    if backend == "reference" and stage != "tokenize":  # tokenizing makes no V x V table
        need = bl.reference_memory_estimate(info["vocabulary"], info["n_tokens"], cfg.window,
                                            normalized=stage != "count")
        if need > cfg.reference_cap:
            return (f"the dense V x V tables would need ~{_fmt_bytes(need)} (V = {info['vocabulary']:,}) "
                    f"> --reference-cap {_fmt_bytes(cfg.reference_cap)}")
    if (stage, backend) in previous:
        prev_info, prev_seconds = previous[(stage, backend)]
        est = prev_seconds * _growth(stage, backend, prev_info, info)
        if est > cfg.time_cap:
            return (f"~{est:.0f} s per run estimated from {prev_seconds:.2f} s at {prev_info['label']} "
                    f"> --time-cap {cfg.time_cap:g} s")
    return None


def machine_facts() -> dict[str, Any]:
    """CPU model, cores, memory, OS, Python, numpy, scipy, cooc version and backend."""
    from .. import __version__

    cpu = platform.processor() or platform.machine()
    physical = None
    with contextlib.suppress(OSError):  # no /proc (not Linux): the facts stay unknown
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        models = re.findall(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
        if models:
            cpu = models[0].strip()
        cores = set(re.findall(r"^physical id\s*:\s*(\d+)\s*$.*?^core id\s*:\s*(\d+)\s*$", text, re.MULTILINE | re.DOTALL))
        physical = len(cores) or None
    mem = None
    with contextlib.suppress(OSError):
        m = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(encoding="ascii"), re.MULTILINE)
        mem = int(m.group(1)) * 1024 if m else None
    usable: int | None
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu": cpu,
        "cores_logical": os.cpu_count(),
        "cores_physical": physical,
        "cores_usable": usable,
        "memory_bytes": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "numpy": np.__version__,
        "scipy": __import__("scipy").__version__,
        "cooc": __version__,
        "backend": _backend.BACKEND,
        "compiled_backend_available": _backend.compiled_module() is not None,
    }


def _add_speedups(rows: list[dict[str, Any]]) -> None:
    medians = {(r["size"], r["stage"], r["backend"]): r["median"] for r in rows if r["status"] == "ok"}
    for r in rows:
        if r["status"] != "ok":
            continue
        r["speedup"] = {
            other: (medians[(r["size"], r["stage"], other)] / r["median"] if r["median"] > 0 else None)
            for other in BACKENDS
            if other != r["backend"] and (r["size"], r["stage"], other) in medians
        }


def run_benchmarks(cfg: BenchConfig, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run every (size, stage, backend) of ``cfg``; returns the document ``--json`` writes."""
    probe_method = MemoryProbe().method
    in_process = cfg.in_process or not _can_fork()
    doc: dict[str, Any] = {
        "format": FORMAT,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_facts(),
        "settings": {
            "sizes": [size_label(n) for n in cfg.sizes], "stages": cfg.stages, "backends": cfg.backends,
            "repeat": cfg.repeat, "warmup": cfg.warmup, "jobs": cfg.jobs, "window": cfg.window,
            "reference_cap_bytes": cfg.reference_cap, "time_cap_seconds": cfg.time_cap,
            "isolation": "in-process" if in_process else "a forked process per measurement",
            "memory_method": probe_method, "memory_description": MemoryProbe.describe(probe_method, in_process),
            "min_round_seconds": MIN_ROUND, "neighbors_queries": N_QUERIES, "neighbors_topn": TOPN,
            "classify_docs": N_TRAIN + N_TEST, "seed": cfg.seed,
        },
        "corpora": [],
        "measurements": [],
    }
    rows: list[dict[str, Any]] = doc["measurements"]
    previous: dict[tuple[str, str], tuple[dict[str, Any], float]] = {}
    with tempfile.TemporaryDirectory(prefix="cooc-bench-", dir=cfg.tmp_dir) as tmp_name:
        tmp = Path(tmp_name)
        for n in cfg.sizes:
            label = size_label(n)
            if progress:
                progress(f"{label:>5} generating the corpus and the stage inputs")
            t0 = time.perf_counter()
            if in_process:
                info = prepare_size(tmp / label, n, seed=cfg.seed, window=cfg.window)
            else:  # the corpus and the inputs are made in a child, so this process stays small
                ok, info = _forked(functools.partial(prepare_size, tmp / label, n, seed=cfg.seed, window=cfg.window))
                if not ok:
                    raise BenchError(f"preparing the {label} corpus failed: {info}")
            logger.info("prepared %s in %.2f s", label, time.perf_counter() - t0)
            doc["corpora"].append(info)
            for backend in cfg.backends:
                todo = []
                for stage in cfg.stages:
                    reason = _skip_reason(stage, backend, cfg, info, previous)
                    if reason is None:
                        todo.append(stage)
                    else:
                        row: dict[str, Any] = {"stage": stage, "backend": backend, "size": label,
                                               "n_tokens": n, "status": "skipped", "reason": reason}
                        rows.append(row)
                        if progress:
                            progress(_progress_line(row))
                if not todo:
                    continue
                spec = {"dir": str(tmp / label), "label": label, "n_tokens": n, "backend": backend,
                        "repeat": cfg.repeat, "warmup": cfg.warmup, "jobs": cfg.jobs,
                        "window": cfg.window, "time_cap": cfg.time_cap}
                for stage in todo:
                    row = _measure_here(spec, stage) if in_process else _measure_forked(spec, stage)
                    if row["status"] == "ok":  # the fastest run: load on the machine only slows runs down
                        previous[(stage, backend)] = (info, row["min"])
                    rows.append(row)
                    if progress:
                        progress(_progress_line(row))
            with contextlib.suppress(OSError):
                for f in (tmp / label).iterdir():
                    f.unlink()
    order = {(s, b): i for i, (s, b) in enumerate((s, b) for s in STAGES for b in BACKENDS)}
    rows.sort(key=lambda r: (r["n_tokens"], order[(r["stage"], r["backend"])]))
    _add_speedups(rows)
    return doc


# ------------------------------------------------------------------------------------------------
# output


def _fmt_seconds(s: float) -> str:
    if s >= 100:
        return f"{s:.0f} s"
    if s >= 1:
        return f"{s:.3g} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} µs"


def _fmt_rate(x: float | None, unit: str) -> str:
    if x is None:
        return "-"
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{x / scale:.3g}{suffix} {_UNIT_SHORT[unit]}"
    return f"{x:.3g} {_UNIT_SHORT[unit]}"


def _fmt_ratio(x: float | None) -> str:
    if x is None:
        return "-"
    return f"x{x:.3g}" if x < 1000 else f"x{x:,.0f}"


def _machine_line(m: dict[str, Any]) -> str:
    cores = m.get("cores_physical") or m.get("cores_logical")
    kind = "compiled kernels" if m.get("compiled_backend_available") else "no compiled kernels"
    return (f"cooc {m.get('cooc')} ({kind}), Python {m.get('python')}, numpy {m.get('numpy')}, "
            f"scipy {m.get('scipy')}; {m.get('cpu')}, {cores} cores")


def format_table(doc: dict[str, Any]) -> str:
    """The results as text: one block per corpus size."""
    s = doc["settings"]
    lines = [
        "cooc bench: " + _machine_line(doc["machine"]),
        (f"median / min / max of {s['repeat']} timed runs after {s['warmup']} warm-up run(s) (runs under "
         f"{s['min_round_seconds'] * 1e3:.0f} ms are looped); window {s['window']}; jobs {s['jobs']}; "
         f"{s['isolation']}"),
        "memory: " + s["memory_description"],
        ("throughput: corpus tokens/s (tokenize, count, pretrain), non-zeros/s (normalize), "
         f"queries/s (neighbors: top-{s['neighbors_topn']} of {s['neighbors_queries']} words), docs/s "
         f"(classify: fit + predict {s['classify_docs']} sentences)"),
        "vs python / vs numpy: how many times faster than the pure-Python twin / the numpy-scipy baseline",
    ]
    header = (f"{'stage':<10}{'backend':<10}{'median':>10}{'min':>10}{'max':>10}  {'throughput':>16}"
              f"{'peak MB':>9}{'+MB':>8}{'vs python':>11}{'vs numpy':>10}")
    rows = doc["measurements"]
    for info in doc["corpora"]:
        lines += ["", (f"{info['label']} tokens: {info['n_tokens']:,} tokens, {info['sentences']:,} sentences, "
                       f"V = {info['vocabulary']:,}, {info['nonzeros']:,} non-zeros, "
                       f"{_fmt_bytes(info['bytes'])} of text"),
                  header]
        for r in rows:
            if r["size"] != info["label"]:
                continue
            head = f"{r['stage']:<10}{r['backend']:<10}"
            if r["status"] != "ok":
                lines.append(f"{head}{r['status']}: {r.get('reason', '')}")
                continue
            sp_ = r.get("speedup", {})
            peak, grow = r.get("peak_rss_bytes"), r.get("peak_growth_bytes")
            lines.append(
                f"{head}{_fmt_seconds(r['median']):>10}{_fmt_seconds(r['min']):>10}{_fmt_seconds(r['max']):>10}"
                f"  {_fmt_rate(r['throughput'], r['unit']):>16}"
                f"{(f'{peak / (1 << 20):.0f}' if peak is not None else '-'):>9}"
                f"{(f'{grow / (1 << 20):.1f}' if grow is not None else '-'):>8}"
                f"{('-' if r['backend'] == 'python' else _fmt_ratio(sp_.get('python'))):>11}"
                f"{('-' if r['backend'] == 'numpy' else _fmt_ratio(sp_.get('numpy'))):>10}"
                + (f"  ({r['note']})" if r.get("note") else "")
            )
    return "\n".join(lines) + "\n"


def load_results(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a ``--json`` file, checking that it is one."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BenchError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BenchError(f"{path} is not valid JSON: {exc}") from None
    ok = (isinstance(doc, dict) and str(doc.get("format", "")).startswith("cooc-bench/")
          and isinstance(doc.get("measurements"), list)
          and all(isinstance(r, dict) and {"stage", "backend", "size", "status"} <= r.keys()
                  for r in doc["measurements"]))
    if not ok:
        raise BenchError(f"{path} is not a cooc bench result (write one with cooc bench --json)")
    return doc  # type: ignore[no-any-return]


def compare(a: dict[str, Any], b: dict[str, Any], name_a: str = "A", name_b: str = "B") -> str:
    """The ratio table between two runs: B's median time over A's, per (size, stage, backend)."""
    def key(r: dict[str, Any]) -> tuple[str, str, str]:
        return (r["size"], r["stage"], r["backend"])

    ma = {key(r): r for r in a["measurements"] if r["status"] == "ok"}
    mb = {key(r): r for r in b["measurements"] if r["status"] == "ok"}
    lines = [f"A = {name_a}: " + _machine_line(a.get("machine", {})) + f" ({a.get('created', '?')})",
             f"B = {name_b}: " + _machine_line(b.get("machine", {})) + f" ({b.get('created', '?')})",
             "B/A = B's median time / A's (below 1: B is faster); speed-up = A/B",
             "",
             f"{'size':<7}{'stage':<10}{'backend':<10}{'A median':>11}{'B median':>11}{'B/A':>8}{'speed-up':>10}"]
    logs: dict[str, list[float]] = {}
    common = [k for k in ma if k in mb]
    sizes = {r["size"]: r.get("n_tokens", 0) for r in a["measurements"] + b["measurements"]}
    order = {(s, be): i for i, (s, be) in enumerate((s, be) for s in STAGES for be in BACKENDS)}
    common.sort(key=lambda k: (sizes.get(k[0], 0), order.get((k[1], k[2]), 0)))
    for k in common:
        ra, rb = ma[k]["median"], mb[k]["median"]
        ratio = rb / ra if ra > 0 else float("inf")
        if 0 < ratio < float("inf"):
            logs.setdefault(k[2], []).append(math.log(ratio))
        lines.append(f"{k[0]:<7}{k[1]:<10}{k[2]:<10}{_fmt_seconds(ra):>11}{_fmt_seconds(rb):>11}"
                     f"{ratio:>8.3g}{(ra / rb if rb > 0 else float('inf')):>10.3g}")
    if not common:
        lines.append("(no measurement in common)")
    if logs:
        lines += ["", "geometric mean of B/A: " + ", ".join(
            f"{be} {math.exp(sum(v) / len(v)):.3g} ({len(v)})" for be, v in logs.items())]
    only_a = sorted(set(ma) - set(mb))
    only_b = sorted(set(mb) - set(ma))
    for name, only in (("A", only_a), ("B", only_b)):
        if 0 < len(only) <= 6:
            lines.append(f"only in {name}: " + ", ".join("/".join(k) for k in only))
        elif only:
            in_sizes = sorted({k[0] for k in only}, key=lambda label: sizes.get(label, 0))
            lines.append(f"only in {name}: {len(only)} measurements (sizes {', '.join(in_sizes)})")
    return "\n".join(lines) + "\n"


def plot(doc: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Median time against corpus size, log-log, one panel per stage and one line per backend."""
    from ..charts import DPI, _pyplot

    plt = _pyplot()
    stages = [s for s in STAGES if any(r["stage"] == s and r["status"] == "ok" for r in doc["measurements"])]
    ncols = min(3, max(1, len(stages)))
    nrows = max(1, math.ceil(len(stages) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.9 * nrows), squeeze=False)
    styles = {"cython": ("#2563eb", "o"), "python": ("#f59e0b", "s"), "numpy": ("#10b981", "^"),
              "reference": ("#ef4444", "x")}
    for ax, stage in zip(axes.flat, stages):
        for backend in BACKENDS:
            pts = sorted((r["n_tokens"], r["median"]) for r in doc["measurements"]
                         if r["stage"] == stage and r["backend"] == backend and r["status"] == "ok")
            if pts:
                color, marker = styles[backend]
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=marker, color=color, label=backend)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(stage, fontsize=10, fontweight="bold")
        ax.set_xlabel("corpus tokens", fontsize=8)
        ax.set_ylabel("seconds per run", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, which="major", alpha=0.3)
    for ax in list(axes.flat)[len(stages):]:
        ax.set_visible(False)
    handles, labels = [], []
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
    m = doc.get("machine", {})
    fig.suptitle(f"cooc bench: median seconds per run against corpus size, log-log (lower is faster)\n"
                 f"{m.get('cpu', '?')}, Python {m.get('python', '?')}", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    out = Path(path)
    fig.savefig(out, dpi=DPI)
    plt.close(fig)
    return out


# ------------------------------------------------------------------------------------------------
# the command


#: Options of ``cooc bench --growth`` alone (:mod:`cooc.bench.growth`), by ``argparse`` destination.
_GROWTH_ONLY = {"memory_limit": "--memory-limit", "dim": "--dim", "min_count": "--min-count", "types": "--types",
                "data_dir": "--data-dir"}


def _given(args: argparse.Namespace, dest: str, default: str) -> str:
    """An option's text, or its default when it was not given (the parser's defaults are None so that
    ``--growth`` can tell which options were given)."""
    value = getattr(args, dest, None)
    return default if value is None else str(value)


def _config_from_args(args: argparse.Namespace) -> BenchConfig:
    for dest, option in _GROWTH_ONLY.items():
        if getattr(args, dest, None) is not None:
            raise BenchError(f"{option} applies to --growth only")
    reference_cap = _given(args, "reference_cap", "2GB")
    try:
        cap = _parse_size("--reference-cap", reference_cap, minimum=1 << 20)
    except ValueError:
        raise BenchError(f"--reference-cap must be a size like 500MB or 2GB, got {reference_cap!r}") from None
    jobs_text = str(args.jobs).strip()
    jobs = -1 if jobs_text == "-1" else _parse_count(jobs_text, "--jobs", 1)
    tmp_dir = args.tmp_dir
    if tmp_dir is not None and not Path(tmp_dir).is_dir():
        raise BenchError(f"--tmp-dir {tmp_dir} is not a directory")
    return BenchConfig(
        sizes=parse_sizes(_given(args, "sizes", DEFAULT_SIZES)),
        stages=_parse_names(_given(args, "stages", ",".join(STAGES)), STAGES, "stage"),
        backends=_parse_names(_given(args, "backends", ",".join(BACKENDS)), BACKENDS, "backend"),
        repeat=_parse_count(_given(args, "repeat", "5"), "--repeat", 1),
        warmup=_parse_count(_given(args, "warmup", "1"), "--warmup", 0),
        jobs=check_n_jobs(jobs),
        window=_parse_count(args.window, "--window", 1),
        reference_cap=cap,
        time_cap=_parse_seconds(_given(args, "time_cap", "30"), "--time-cap"),
        in_process=bool(args.in_process),
        seed=_parse_count(args.seed, "--seed", 0),
        tmp_dir=tmp_dir,
    )


def _command(cfg: BenchConfig) -> str:
    """The command line that repeats this run."""
    parts = ["cooc bench", "--sizes " + ",".join(size_label(n) for n in cfg.sizes),
             "--stages " + ",".join(cfg.stages), "--backends " + ",".join(cfg.backends),
             f"--repeat {cfg.repeat}", f"--warmup {cfg.warmup}", f"--jobs {cfg.jobs}",
             f"--window {cfg.window}", f"--reference-cap {_fmt_bytes(cfg.reference_cap).replace(' ', '')}",
             f"--time-cap {cfg.time_cap:g}", f"--seed {cfg.seed}"]
    if cfg.in_process:
        parts.append("--in-process")
    return " ".join(parts)


def _check_output(path: str, what: str) -> Path:
    """``path`` where an output file can be written (checked before anything runs)."""
    p = Path(path)
    if p.is_dir():
        raise BenchError(f"{what} {p} is a directory")
    if not p.parent.is_dir():
        raise BenchError(f"{what}: directory {p.parent} does not exist")
    if not os.access(p.parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise BenchError(f"{what} {p} is not writable")
    return p


def output_paths(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    """The checked ``--json`` and ``--plot`` paths (None when not asked for); with ``--plot``,
    matplotlib must import (the ``plot`` extra)."""
    json_path = _check_output(args.json, "--json") if args.json else None
    plot_path = _check_output(args.plot, "--plot") if args.plot else None
    if plot_path is not None:
        from ..charts import _pyplot

        try:
            _pyplot()
        except ImportError as exc:
            raise BenchError(f"--plot: {exc}") from None
    return json_path, plot_path


def _write_json(doc: dict[str, Any], path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def run(args: argparse.Namespace) -> int:
    """``cooc bench``: results on stdout, progress on stderr, one-line errors with exit status 2."""
    try:
        if args.compare:
            a, b = (load_results(p) for p in args.compare)
            sys.stdout.write(compare(a, b, args.compare[0], args.compare[1]))
            return 0
        cfg = _config_from_args(args)
        json_path, plot_path = output_paths(args)
        progress = None if args.quiet else (lambda line: print("cooc bench: " + line, file=sys.stderr, flush=True))
        doc = run_benchmarks(cfg, progress)
        doc["command"] = _command(cfg)
        sys.stdout.write(format_table(doc))
        if json_path is not None:
            _write_json(doc, json_path)
            print(f"cooc bench: measurements written to {json_path}", file=sys.stderr)
        if plot_path is not None:
            plot(doc, plot_path)
            print(f"cooc bench: plot written to {plot_path}", file=sys.stderr)
        return 0
    except BenchError as exc:
        print(f"cooc bench: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"cooc bench: error: {exc}", file=sys.stderr)
        return 2
