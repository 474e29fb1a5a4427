"""``cooc bench``: the options; the harness itself (:mod:`cooc.bench.harness`) is imported only when
the command runs."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parser"]

# The harness's defaults (cooc.bench.harness.STAGES, BACKENDS, DEFAULT_SIZES and cooc.bench.growth's
# GROWTH_SIZES; a test holds them equal).
STAGES = ("tokenize", "count", "normalize", "neighbors", "classify", "pretrain")
BACKENDS = ("cython", "python", "numpy", "reference")
DEFAULT_SIZES = "10k,100k,1M,10M"
GROWTH_SIZES = "1M,10M,50M,200M"


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.growth:
        from ..bench.growth import run as run_growth

        return run_growth(args)
    from ..bench.harness import run

    return run(args)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``cooc bench``; its handler imports the harness (:mod:`cooc.bench`) when it runs."""
    p = subparsers.add_parser(
        "bench",
        help="time each stage against the pure-Python twin, numpy/scipy and the reference",
        description=(
            "Generate deterministic Zipf-like corpora and time each stage (tokenize, count, normalize, "
            "neighbors, classify, pretrain) with each backend: the compiled kernels (cython), their "
            "pure-Python twins (python), a numpy/scipy baseline (numpy) and the reference's dense "
            "V x V algorithm (reference). Prints median/min/max seconds, throughput, peak memory and "
            "speed-ups; --compare A.json B.json prints the ratios between two saved runs. With --growth, "
            "it measures instead how the time and peak memory of the recommended pipeline (pretrain to "
            "counts, PPMI, SVD, neighbour queries) grow with corpus size, each stage in a new process."
        ),
    )
    p.add_argument("--growth", action="store_true",
                   help="cost growth of count -> PPMI -> SVD -> neighbours with corpus size (markdown tables, "
                        "growth exponents); uses --sizes, --jobs, --window, --seed, --json, --plot, --tmp-dir "
                        "and the options below marked 'with --growth'")
    p.add_argument("--sizes", default=None, metavar="LIST",
                   help=f"corpus sizes in tokens (default {DEFAULT_SIZES}; with --growth {GROWTH_SIZES})")
    p.add_argument("--stages", default=None, metavar="LIST",
                   help=f"stages to time (default: all of {','.join(STAGES)})")
    p.add_argument("--backends", default=None, metavar="LIST",
                   help=f"backends to time (default: all of {','.join(BACKENDS)})")
    p.add_argument("--repeat", default=None, metavar="N", help="timed runs per measurement (default 5)")
    p.add_argument("--warmup", default=None, metavar="N", help="untimed runs before them (default 1)")
    p.add_argument("--jobs", default="1", metavar="N",
                   help="threads for cooc's tokenize, count and pretrain, and with --growth for every stage "
                        "and BLAS (default 1; -1: all cores)")
    p.add_argument("--window", default="3", metavar="N", help="co-occurrence window (default 3)")
    p.add_argument("--json", default=None, metavar="OUT", help="write every measurement and the machine facts")
    p.add_argument("--plot", default=None, metavar="OUT.png",
                   help="draw time against corpus size (needs matplotlib: cooc[plot])")
    p.add_argument("--reference-cap", default=None, metavar="SIZE",
                   help="skip the reference when its dense tables would pass this (default 2GB)")
    p.add_argument("--time-cap", default=None, metavar="SECONDS",
                   help="skip a run estimated (from the previous size) to take longer; a first run longer "
                        "than this is timed once (default 30)")
    p.add_argument("--seed", default="0", metavar="N", help="corpus seed (default 0)")
    p.add_argument("--in-process", action="store_true",
                   help="measure in this process instead of a fresh one per backend and size")
    p.add_argument("--tmp-dir", default=None, metavar="DIR", help="where the corpora are generated")
    p.add_argument("--memory-limit", default=None, metavar="SIZE",
                   help="with --growth: memory_limit of pretrain (default 4GB; none: no limit)")
    p.add_argument("--dim", default=None, metavar="N", help="with --growth: SVD dimensions (default 300)")
    p.add_argument("--min-count", default=None, metavar="N", help="with --growth: min_count (default 5)")
    p.add_argument("--types", default=None, metavar="N",
                   help="with --growth: word types of the generated Zipf corpus (default 1M)")
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="with --growth: keep the generated corpora in DIR and reuse them (default: a "
                        "temporary directory, removed)")
    p.add_argument("--compare", nargs=2, default=None, metavar=("A.json", "B.json"),
                   help="print the ratio table between two --json files and exit")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=_cmd_bench)
    return p  # type: ignore[no-any-return]
