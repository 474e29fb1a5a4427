"""The ``cooc`` command. Results go to stdout; diagnostics to stderr; errors exit non-zero.

Subcommands:

- ``cooc demo [--charts DIR]``: the reference walk-through.
- ``cooc pretrain CORPUS... -o MODEL.npz``: count co-occurrences of text files into a model file.
- ``cooc neighbors MODEL.npz WORD... [-k N] [--jobs N]``: nearest neighbours of words in a model.
- ``cooc bench [...]``: benchmark comparisons (see ``cooc bench --help``).
- ``cooc evaluate similarity|classify|real-data ...``: word-pair similarity and classification
  comparisons; ``real-data`` reproduces the table of README.md on gensim's test data.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from typing import Any, NoReturn

from . import __version__, _backend
from .text import STOPWORDS

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class CliError(Exception):
    """An error reported to the user as one line on stderr, exit status 2."""


def _cmd_demo(args: argparse.Namespace) -> int:
    from . import demo

    if (args.corpus is None) != (args.labelled is None):
        raise CliError("--corpus and --labelled go together")
    if args.corpus is not None:
        from .demo_real import run_real

        run_real(sys.stdout, args.corpus, args.labelled, encoding=args.encoding)
        return 0

    if args.charts is not None:
        from .charts import _pyplot

        try:
            _pyplot()
        except ImportError as exc:
            raise CliError(str(exc)) from None
    demo.run(sys.stdout, charts_dir=args.charts)
    return 0


class _Progress:
    """A tqdm bar on stderr when tqdm is installed and the output is a terminal or asked for."""

    def __init__(self, total: int | None, quiet: bool) -> None:
        self.bar = None
        if quiet:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        self.bar = tqdm(total=total, unit="B", unit_scale=True, desc="tokenizing", file=sys.stderr,
                        leave=False)

    def __call__(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _cmd_pretrain(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .corpus import LineCorpus
    from .embeddings import pretrain

    names = ("weighting", "cds", "shift", "distance", "dim", "p", "seed", "add_context")
    weighting = {k: getattr(args, k) for k in names}
    if args.scheduler is not None or args.dask_workers is not None:
        import inspect

        from .dask import pretrain_from_cli

        defaults = inspect.signature(pretrain).parameters
        changed = [f"--{k.replace('_', '-')}" for k, v in weighting.items() if v != defaults[k].default]
        if changed:
            raise CliError(f"{', '.join(changed)}: not available with a Dask cluster, which counts raw "
                           "co-occurrences (reweight a saved model's counts with Embeddings.reweight)")
        return pretrain_from_cli(args)

    out = Path(args.output)
    if out.is_dir():
        raise CliError(f"output {out} is a directory")
    if not out.parent.exists():
        raise CliError(f"output directory {out.parent} does not exist")
    corpus = LineCorpus(args.corpus, encoding=args.encoding, errors=args.errors)
    stopwords = None if args.no_stopwords else STOPWORDS
    progress = _Progress(corpus.total_bytes, args.quiet)
    t0 = time.perf_counter()
    try:
        emb = pretrain(
            corpus, window=args.window, min_count=args.min_count, max_vocab_size=args.max_vocab,
            memory_limit=args.memory_limit, n_jobs=args.jobs, stopwords=stopwords, progress=progress,
            **weighting,
        )
    finally:
        progress.close()
    return save_and_report(emb, out, t0)


def save_and_report(emb: Any, out: Any, t0: float) -> int:
    """Write the model (atomically) and print the closing summary of ``cooc pretrain`` on stderr."""
    from .io import save

    save(emb, out)
    seconds = time.perf_counter() - t0
    tokens = int(emb.frequencies.sum()) if emb.frequencies is not None else 0
    nnz = emb.counts.nnz if emb.counts is not None else 0
    print(
        f"cooc pretrain: {tokens:,} tokens, V={len(emb):,}, {nnz:,} non-zeros, {seconds:.2f} s, "
        f"{tokens / max(seconds, 1e-9):,.0f} tokens/s -> {out}",
        file=sys.stderr,
    )
    return 0


def _cmd_neighbors(args: argparse.Namespace) -> int:
    from .io import load

    emb = load(args.model)
    known = [w for w in args.words if w in emb]
    # one batch for every known word: the model's transpose is built once, queries share the threads
    answers = dict(zip(known, emb.most_similar_batch(known, topn=args.k, n_jobs=args.jobs)))
    status = 0
    for word in args.words:
        if word not in answers:
            print(f"cooc neighbors: error: word {word!r} is not in the vocabulary", file=sys.stderr)
            status = 2
            continue
        print(f"{word}\t" + "\t".join(f"{w} {s:.4f}" for w, s in answers[word]))
    return status


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _jobs(text: str) -> int:
    if text.strip() == "-1":
        return -1
    return _positive_int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cooc",
        description="Word co-occurrence representations: pretrain, classify, analyze.",
    )
    parser.add_argument(
        "--version", action="version", version=f"cooc {__version__} (backend: {_backend.BACKEND})"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("demo", help="run the reference walk-through (pretrain, classify, analyze)")
    p.add_argument(
        "--charts", metavar="DIR", default=None,
        help="also save the two bar charts as PNG files in DIR (needs matplotlib: cooc[plot])",
    )
    p.add_argument("--corpus", nargs="+", default=None, metavar="PATH",
                   help="run the walk-through on your own unlabelled text (one sentence per line)")
    p.add_argument("--labelled", default=None, metavar="PATH",
                   help="your labelled sentences: fastText '__label__x text' or 'label<TAB>text'")
    p.add_argument("--encoding", default=None, help="encoding of the labelled file (default utf-8)")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("pretrain", help="count co-occurrences of text files (one sentence per line)")
    p.add_argument("corpus", nargs="+", metavar="CORPUS", help="text files: plain, .gz, .bz2 or .xz")
    p.add_argument("-o", "--output", required=True, metavar="MODEL.npz", help="model file to write")
    p.add_argument("--window", type=_positive_int, default=3, help="window half-width (default 3)")
    p.add_argument("--min-count", type=_positive_int, default=1, help="drop rarer words (default 1)")
    p.add_argument("--max-vocab", type=_positive_int, default=None, help="keep the N most frequent words")
    p.add_argument("--memory-limit", default=None, metavar="SIZE",
                   help="working-memory budget for counting, e.g. 2GB; above it partial counts spill to disk")
    p.add_argument("--jobs", type=_jobs, default=1, metavar="N", help="threads (-1: all cores)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="count on a running Dask cluster, e.g. tcp://host:8786 (needs cooc[dask]; every "
                        "worker must read the files: shared storage or URLs such as s3://...)")
    p.add_argument("--dask-workers", type=_positive_int, default=None, metavar="N",
                   help="count on a local Dask cluster of N worker processes (needs cooc[dask])")
    p.add_argument("--no-stopwords", action="store_true", help="keep the 28 stopwords")
    p.add_argument("--weighting", choices=["count", "ppmi", "sppmi"], default="count",
                   help="vectors from raw counts (default, the reference), PPMI or shifted PPMI")
    p.add_argument("--cds", type=float, default=0.75, help="context-distribution smoothing of (S)PPMI (0.75)")
    p.add_argument("--shift", type=float, default=None, help="k of SPPMI (default 5; 1 for ppmi)")
    p.add_argument("--distance", choices=["uniform", "harmonic", "linear"], default="uniform",
                   help="weight of a pair d apart: 1 (default), 1/d (GloVe), (window - d + 1) / window")
    p.add_argument("--dim", type=_positive_int, default=None, metavar="N",
                   help="dense vectors: truncated SVD of the weighted matrix to N dimensions")
    p.add_argument("--p", type=float, default=0.5, help="eigenvalue weight of the SVD (default 0.5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the randomized SVD (default 0)")
    p.add_argument("--add-context", action="store_true",
                   help="with --dim: add the SVD's context vectors to the word vectors (w+c)")
    p.add_argument("--encoding", default="utf-8", help="text encoding of the corpus (default utf-8)")
    p.add_argument("--errors", default="strict", choices=["strict", "replace", "ignore"],
                   help="what to do with undecodable bytes (default: stop with an error)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_pretrain)

    p = sub.add_parser("neighbors", help="nearest neighbours of words in a model file")
    p.add_argument("model", metavar="MODEL.npz")
    p.add_argument("words", nargs="+", metavar="WORD")
    p.add_argument("-k", type=_positive_int, default=10, help="how many neighbours (default 10)")
    p.add_argument("-j", "--jobs", type=_positive_int, default=1,
                   help="threads answering the queries (default 1; results do not depend on it)")
    p.set_defaults(func=_cmd_neighbors)

    from .bench import add_parser as add_bench_parser
    from .evaluate import add_parser as add_evaluate_parser

    add_bench_parser(sub)
    add_evaluate_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cooc`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="cooc: %(message)s", stream=sys.stderr)
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"cooc {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, KeyError, OSError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"cooc {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"cooc {args.command}: error: out of memory; try a --memory-limit below the free memory",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"cooc {args.command}: interrupted", file=sys.stderr)
        return 130
