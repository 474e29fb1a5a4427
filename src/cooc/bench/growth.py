"""``cooc bench --growth``: how the time and peak memory of the whole pipeline grow with corpus size.

The pipeline is the one the README recommends on real text, one stage per fresh process:

- ``count``: a corpus file -> counts, ``cooc.pretrain(path, window, min_count=, memory_limit=, n_jobs=)``;
- ``ppmi``: counts -> PPMI, :func:`cooc.weighting.ppmi` with float32 values (what
  ``pretrain(..., weighting="ppmi", dim=)`` hands the SVD);
- ``svd``: PPMI -> dense vectors, :func:`cooc.weighting.svd` to ``dim`` dimensions, rows
  L2-normalized and stored as float32 (as ``pretrain(..., dim=)`` stores them);
- ``neighbors``: a model on the dense vectors and the top-:data:`TOPN` neighbours of :data:`N_QUERIES`
  words spread over the vocabulary (:meth:`cooc.Embeddings.most_similar_batch`).

For each size, :func:`run_growth` writes a deterministic Zipf corpus
(:func:`cooc.bench.baselines.write_zipf_text`: ``types`` word types, sentences of
:data:`SENTENCE_LENGTHS` tokens) into a temporary directory, or reuses it from ``data_dir``, then runs
each stage in a new Python interpreter (``sys.executable`` running :mod:`cooc.bench.growth_stage`)
that loads the previous stage's output from disk, times the stage once (wall clock) and reads the peak
resident memory of the stage (the kernel's high-water mark ``VmHWM``, reset once the input is loaded:
interpreter, libraries and input included).
BLAS threads of the child follow ``jobs`` unless ``OMP_NUM_THREADS`` and the like are set.

:func:`format_growth` prints the figures as markdown tables with the growth exponent between
consecutive sizes (``log(t2 / t1) / log(n2 / n1)``: 1 is linear in the tokens); :func:`plot_growth`
draws time and peak memory against tokens, log-log.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._parallel import check_n_jobs
from .._validate import parse_size as _parse_size
from . import baselines as bl
from .growth_stage import N_QUERIES, STAGES, TOPN
from .harness import (
    BenchError,
    _fmt_bytes,
    _machine_line,
    _parse_count,
    _write_json,
    machine_facts,
    output_paths,
    parse_sizes,
    size_label,
)

__all__ = [
    "DEFAULT_SIZES",
    "FORMAT",
    "STAGES",
    "GrowthConfig",
    "config_from_args",
    "exponents",
    "format_growth",
    "plot_growth",
    "run",
    "run_growth",
]

DEFAULT_SIZES = "1M,10M,50M,200M"
#: Format tag of the JSON files written by ``cooc bench --growth --json``.
FORMAT = "cooc-bench-growth/1"
#: Sentence lengths of the generated corpus (both ends included).
SENTENCE_LENGTHS = (8, 30)
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass
class GrowthConfig:
    """What ``cooc bench --growth`` runs; see ``cooc bench --help``."""

    sizes: list[int] = field(default_factory=lambda: parse_sizes(DEFAULT_SIZES))
    types: int = 1_000_000
    min_count: int = 5
    window: int = 3
    dim: int = 300
    memory_limit: int | None = 4 << 30
    jobs: int = 1
    seed: int = 0
    tmp_dir: str | None = None
    data_dir: str | None = None


_CHILD = "import sys; from cooc.bench.growth_stage import main; sys.exit(main())"


def _child_env(jobs: int) -> dict[str, str]:
    env = dict(os.environ)
    for var in _THREAD_VARS:
        env.setdefault(var, str(jobs))
    return env


def _run_child(spec: dict[str, Any]) -> dict[str, Any]:
    """:func:`cooc.bench.growth_stage.run_stage` in a new interpreter: ``{"status": "ok", ...figures}`` or
    ``{"status": "failed", "reason": ...}`` (the last line the process wrote on stderr, or its signal)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(spec)], capture_output=True, text=True,
                          env=_child_env(int(spec["jobs"])), check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode == 0:
        lines = proc.stdout.strip().splitlines()
        with contextlib.suppress(ValueError, IndexError):
            got = json.loads(lines[-1])
            if isinstance(got, dict):
                return {"status": "ok", "process_seconds": elapsed, **got}
        return {"status": "failed", "reason": "the stage's process gave no result"}
    if proc.returncode < 0:
        reason = f"killed by signal {-proc.returncode}" + (" (out of memory?)" if proc.returncode == -9 else "")
    else:
        tail = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        reason = tail[-1].strip() if tail else f"exit status {proc.returncode}"
    return {"status": "failed", "reason": reason}


# ------------------------------------------------------------------------------------------------
# the whole run


def _corpus_name(n: int, cfg: GrowthConfig) -> str:
    lo, hi = SENTENCE_LENGTHS
    return f"zipf-{size_label(n)}-types{size_label(cfg.types)}-len{lo}to{hi}-seed{cfg.seed}.txt"


def _corpus(n: int, cfg: GrowthConfig, tmp: Path) -> tuple[Path, dict[str, Any]]:
    """The corpus of ``n`` tokens: reused from ``cfg.data_dir`` when it is there, else written (into
    ``data_dir`` to be kept, or into ``tmp``)."""
    name = _corpus_name(n, cfg)
    where = Path(cfg.data_dir) if cfg.data_dir else tmp
    path = where / name
    facts_path = where / (name + ".json")
    if cfg.data_dir and path.is_file() and facts_path.is_file():
        with contextlib.suppress(ValueError, OSError):
            facts = json.loads(facts_path.read_text(encoding="utf-8"))
            if isinstance(facts, dict) and facts.get("bytes") == path.stat().st_size:
                return path, {**facts, "reused": True}
    t0 = time.perf_counter()
    part = where / (name + ".part")
    nbytes = bl.write_zipf_text(part, n, cfg.types, seed=cfg.seed, sentence_lengths=SENTENCE_LENGTHS)
    os.replace(part, path)
    facts = {"bytes": nbytes, "generate_seconds": time.perf_counter() - t0}
    if cfg.data_dir:
        facts_path.write_text(json.dumps(facts) + "\n", encoding="utf-8")
    return path, {**facts, "reused": False}


def exponents(rows: list[dict[str, Any]], sizes: list[int]) -> list[dict[str, Any]]:
    """Growth exponents between consecutive sizes, per stage (and for the ``total``):
    ``log(t2 / t1) / log(n2 / n1)`` for the time and likewise for the peak memory (None where a figure
    is missing)."""
    by = {(r["stage"], r["n_tokens"]): r for r in rows if r["status"] == "ok"}
    out = []
    for stage in (*STAGES, "total"):
        for n1, n2 in zip(sizes, sizes[1:]):
            a, b = by.get((stage, n1)), by.get((stage, n2))
            if a is None or b is None:
                continue
            scale = math.log(n2 / n1)

            def slope(key: str, a: dict[str, Any] = a, b: dict[str, Any] = b) -> float | None:
                x, y = a.get(key), b.get(key)
                return math.log(y / x) / scale if x and y and x > 0 and y > 0 else None

            out.append({"stage": stage, "from": size_label(n1), "to": size_label(n2),
                        "time_exponent": slope("seconds"), "memory_exponent": slope("peak_rss_bytes")})
    return out


def _total(rows: list[dict[str, Any]], n: int) -> dict[str, Any]:
    mine = [r for r in rows if r["n_tokens"] == n]
    row: dict[str, Any] = {"stage": "total", "size": size_label(n), "n_tokens": n}
    if len(mine) == len(STAGES) and all(r["status"] == "ok" for r in mine):
        peaks = [r.get("peak_rss_bytes") for r in mine]
        row.update(status="ok", seconds=sum(r["seconds"] for r in mine),
                   peak_rss_bytes=max(peaks) if all(p is not None for p in peaks) else None)  # type: ignore[type-var]
    else:
        row.update(status="skipped", reason="a stage did not run")
    return row


def run_growth(cfg: GrowthConfig, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run every stage at every size of ``cfg``; returns the document ``--json`` writes."""
    lo, hi = SENTENCE_LENGTHS
    doc: dict[str, Any] = {
        "format": FORMAT,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_facts(),
        "settings": {
            "sizes": [size_label(n) for n in cfg.sizes], "stages": list(STAGES), "types": cfg.types,
            "sentence_lengths": [lo, hi], "min_count": cfg.min_count, "window": cfg.window, "dim": cfg.dim,
            "memory_limit_bytes": cfg.memory_limit, "jobs": cfg.jobs, "seed": cfg.seed,
            "neighbors_queries": N_QUERIES, "neighbors_topn": TOPN,
            "blas_threads": {v: _child_env(cfg.jobs)[v] for v in _THREAD_VARS},
            "isolation": "a new Python process per stage and size",
        },
        "corpora": [],
        "measurements": [],
    }
    rows: list[dict[str, Any]] = doc["measurements"]
    budget = None if cfg.memory_limit is None else int(cfg.memory_limit)
    with tempfile.TemporaryDirectory(prefix="cooc-growth-", dir=cfg.tmp_dir) as tmp_name:
        tmp = Path(tmp_name)
        for n in cfg.sizes:
            label = size_label(n)
            if progress:
                progress(f"{label:>5} corpus ({cfg.types:,} word types, sentences of {lo} to {hi} tokens)")
            path, facts = _corpus(n, cfg, tmp)
            doc["corpora"].append({"label": label, "n_tokens": n, "file": path.name, **facts})
            work = tmp / label
            work.mkdir()
            failed: str | None = None
            for stage in STAGES:
                row: dict[str, Any] = {"stage": stage, "size": label, "n_tokens": n}
                if failed is not None:
                    row.update(status="skipped", reason=f"needs the output of {failed}, which failed")
                else:
                    spec = {"stage": stage, "dir": str(work), "corpus": str(path), "window": cfg.window,
                            "min_count": cfg.min_count, "memory_limit": budget, "jobs": cfg.jobs,
                            "dim": cfg.dim, "seed": cfg.seed, "tmp_dir": str(work)}
                    row.update(_run_child(spec))
                    if row["status"] != "ok":
                        failed = stage
                rows.append(row)
                if progress:
                    progress(_progress_line(row))
            rows.append(_total(rows, n))
            shutil.rmtree(work, ignore_errors=True)
            if not cfg.data_dir:
                path.unlink(missing_ok=True)
    doc["exponents"] = exponents(rows, cfg.sizes)
    return doc


def _progress_line(row: dict[str, Any]) -> str:
    head = f"{row['size']:>5} {row['stage']:<9}"
    if row["status"] != "ok":
        return f"{head} {row['status']}: {row.get('reason', '')}"
    peak = row.get("peak_rss_bytes")
    return f"{head} {row['seconds']:.3g} s, peak {'-' if peak is None else _fmt_bytes(peak)}"


# ------------------------------------------------------------------------------------------------
# output


def _mb(n: int | None) -> str:
    return "-" if n is None else f"{n / (1 << 20):,.0f}"


def _secs(s: float) -> str:
    return f"{s:,.0f}" if s >= 100 else f"{s:.3g}"


def _exp(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def format_growth(doc: dict[str, Any]) -> str:
    """The results as markdown: the corpora, then time and peak memory per stage and size with the
    growth exponents between consecutive sizes."""
    s = doc["settings"]
    limit = s["memory_limit_bytes"]
    lo, hi = s["sentence_lengths"]
    lines = [
        "cooc bench --growth: " + _machine_line(doc["machine"]),
        (f"Zipf corpus over {s['types']:,} word types, sentences of {lo} to {hi} tokens, seed {s['seed']}; "
         f"pretrain(min_count={s['min_count']}, window={s['window']}, memory_limit="
         f"{'None' if limit is None else repr(_fmt_bytes(limit).replace(' ', ''))}, n_jobs={s['jobs']}) "
         f"-> ppmi -> svd(dim={s['dim']}) -> top-{s['neighbors_topn']} neighbours of "
         f"{s['neighbors_queries']} words"),
        ("each stage timed once in a new process; peak = resident memory high-water mark of that process "
         "during the stage (interpreter, libraries and the stage's input included); total = sum of the "
         "times, highest peak"),
        "exponent: log(t2 / t1) / log(n2 / n1) between consecutive sizes (1 = linear in the tokens)",
        "",
        "| size | tokens | text | V | count non-zeros | PPMI non-zeros |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rows = doc["measurements"]

    def get(stage: str, label: str) -> dict[str, Any] | None:
        got = [r for r in rows if r["stage"] == stage and r["size"] == label]
        return got[0] if got else None

    for c in doc["corpora"]:
        cnt, pp = get("count", c["label"]), get("ppmi", c["label"])
        v = f"{cnt['vocabulary']:,}" if cnt and cnt["status"] == "ok" else "-"
        nz = f"{cnt['nonzeros']:,}" if cnt and cnt["status"] == "ok" else "-"
        pnz = f"{pp['nonzeros']:,}" if pp and pp["status"] == "ok" else "-"
        lines.append(f"| {c['label']} | {c['n_tokens']:,} | {_fmt_bytes(c['bytes'])} | {v} | {nz} | {pnz} |")
    labels = [c["label"] for c in doc["corpora"]]
    pairs = list(zip(labels, labels[1:]))
    exps = {(e["stage"], e["from"], e["to"]): e for e in doc.get("exponents", [])}
    for title, key, fmt, ekey in (("seconds", "seconds", _secs, "time_exponent"),
                                  ("peak MB", "peak_rss_bytes", _mb, "memory_exponent")):
        head = [f"{title}: stage", *labels, *(f"exponent {a}->{b}" for a, b in pairs)]
        lines += ["", "| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
        for stage in (*STAGES, "total"):
            cells = [stage]
            for label in labels:
                r = get(stage, label)
                cells.append(fmt(r[key]) if r and r["status"] == "ok" else (r["status"] if r else "-"))
            for a, b in pairs:
                e = exps.get((stage, a, b))
                cells.append(_exp(e[ekey]) if e else "-")
            lines.append("| " + " | ".join(cells) + " |")
    failed = [r for r in rows if r["status"] != "ok" and r["stage"] != "total"]
    if failed:
        lines += [""] + [f"{r['size']} {r['stage']}: {r['status']}: {r.get('reason', '')}" for r in failed]
    return "\n".join(lines) + "\n"


def plot_growth(doc: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Time and peak memory against corpus tokens, log-log, one line per stage (and the total)."""
    from ..charts import DPI, _pyplot

    plt = _pyplot()
    from matplotlib import ticker

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    colors = {"count": "#2563eb", "ppmi": "#f59e0b", "svd": "#10b981", "neighbors": "#ef4444", "total": "#111827"}
    for ax, key, scale, ylabel in ((axes[0], "seconds", 1.0, "seconds"),
                                   (axes[1], "peak_rss_bytes", 1.0 / (1 << 20), "peak resident memory, MB")):
        for stage in (*STAGES, "total"):
            pts = sorted((r["n_tokens"], r[key] * scale) for r in doc["measurements"]
                         if r["stage"] == stage and r["status"] == "ok" and r.get(key))
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", color=colors[stage], label=stage,
                        linestyle="--" if stage == "total" else "-")
        ax.set_xscale("log")
        ax.set_yscale("log")
        for axis in (ax.xaxis, ax.yaxis):  # ticks at 1, 2, 5 x 10^k, labelled plainly
            axis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            axis.set_minor_formatter(ticker.NullFormatter())
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, _pos: size_label(int(round(x)))))
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda y, _pos: f"{y:g}"))
        ax.set_xlabel("corpus tokens")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_title("time per stage", fontsize=10, fontweight="bold")
    axes[1].set_title("peak memory per stage", fontsize=10, fontweight="bold")
    axes[0].legend(fontsize=8)
    s, m = doc["settings"], doc.get("machine", {})
    limit = s["memory_limit_bytes"]
    fig.suptitle(f"cooc: cost growth of count -> PPMI -> SVD {s['dim']} -> neighbours, log-log "
                 f"(min_count {s['min_count']}, window {s['window']}, memory_limit "
                 f"{'none' if limit is None else _fmt_bytes(limit)}, {s['jobs']} thread(s))\n"
                 f"{m.get('cpu', '?')}, Python {m.get('python', '?')}", fontsize=9)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=DPI)
    plt.close(fig)
    return out


# ------------------------------------------------------------------------------------------------
# the command

#: Options of the stage benchmark that mean nothing with ``--growth``, by ``argparse`` destination.
_STAGE_ONLY = {"stages": "--stages", "backends": "--backends", "repeat": "--repeat", "warmup": "--warmup",
               "reference_cap": "--reference-cap", "time_cap": "--time-cap", "in_process": "--in-process",
               "compare": "--compare"}


def config_from_args(args: argparse.Namespace) -> GrowthConfig:
    """The configuration of ``cooc bench --growth``, every option checked (:class:`BenchError` naming it)."""
    for dest, option in _STAGE_ONLY.items():
        if getattr(args, dest, None) not in (None, False):
            raise BenchError(f"{option} does not apply to --growth")
    sizes = parse_sizes(args.sizes if args.sizes is not None else DEFAULT_SIZES)
    types_text = args.types if args.types is not None else "1M"
    try:
        types = _parse_size("--types", str(types_text), base=1000)
    except ValueError:
        raise BenchError(f"--types must be a positive number of word types like 1M or 50k, got {types_text!r}") from None
    limit_text = str(args.memory_limit if args.memory_limit is not None else "4GB").strip()
    limit: int | None
    if limit_text.lower() == "none":
        limit = None
    else:
        try:
            limit = _parse_size("--memory-limit", limit_text, minimum=1 << 20)
        except ValueError:
            raise BenchError(f"--memory-limit must be a size like 256MB or 4GB (at least 1MB) or none, "
                             f"got {limit_text!r}") from None
    jobs_text = str(args.jobs).strip()
    jobs = -1 if jobs_text == "-1" else _parse_count(jobs_text, "--jobs", 1)
    for dest, option in (("tmp_dir", "--tmp-dir"),):
        d = getattr(args, dest)
        if d is not None and not Path(d).is_dir():
            raise BenchError(f"{option} {d} is not a directory")
    data_dir = args.data_dir
    if data_dir is not None:
        try:
            Path(data_dir).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BenchError(f"--data-dir {data_dir}: {exc.strerror or exc}") from None
        if not os.access(data_dir, os.W_OK):
            raise BenchError(f"--data-dir {data_dir} is not writable")
    return GrowthConfig(
        sizes=sizes,
        types=types,
        min_count=_parse_count(args.min_count if args.min_count is not None else "5", "--min-count", 1),
        window=_parse_count(args.window, "--window", 1),
        dim=_parse_count(args.dim if args.dim is not None else "300", "--dim", 1),
        memory_limit=limit,
        jobs=check_n_jobs(jobs),
        seed=_parse_count(args.seed, "--seed", 0),
        tmp_dir=args.tmp_dir,
        data_dir=data_dir,
    )


def command_line(cfg: GrowthConfig) -> str:
    """The command line that repeats this run."""
    limit = "none" if cfg.memory_limit is None else _fmt_bytes(cfg.memory_limit).replace(" ", "")
    return (f"cooc bench --growth --sizes {','.join(size_label(n) for n in cfg.sizes)} "
            f"--types {size_label(cfg.types)} --min-count {cfg.min_count} --window {cfg.window} "
            f"--dim {cfg.dim} --memory-limit {limit} --jobs {cfg.jobs} --seed {cfg.seed}")


def run(args: argparse.Namespace) -> int:
    """``cooc bench --growth``: tables on stdout, progress on stderr, one-line errors with exit status 2."""
    try:
        cfg = config_from_args(args)
        json_path, plot_path = output_paths(args)
        progress = None if args.quiet else (lambda line: print("cooc bench: " + line, file=sys.stderr, flush=True))
        doc = run_growth(cfg, progress)
        doc["command"] = command_line(cfg)
        sys.stdout.write(format_growth(doc))
        if json_path is not None:
            _write_json(doc, json_path)
            print(f"cooc bench: measurements written to {json_path}", file=sys.stderr)
        if plot_path is not None:
            plot_growth(doc, plot_path)
            print(f"cooc bench: plot written to {plot_path}", file=sys.stderr)
        return 0
    except (BenchError, OSError) as exc:
        print(f"cooc bench: error: {exc}", file=sys.stderr)
        return 2
