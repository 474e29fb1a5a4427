"""``cooc pretrain`` (on this machine or a Dask cluster) and ``cooc neighbors``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .._parallel import check_n_jobs
from .._validate import check_weighting, check_window, parse_size
from ..corpus import LineCorpus, max_line_chars_for
from ..embeddings import Embeddings, load
from ..pretrain import pretrain
from ..text import STOPWORDS
from ..sharded import META_NAME
from ._common import (
    CliError,
    Progress,
    check_encoding,
    check_not_an_input,
    jobs,
    option_names,
    options_checked,
    positive_int,
)

__all__ = ["add_parsers", "pretrain_on_dask", "save_and_report"]

_WEIGHTING = ("weighting", "cds", "shift", "distance", "dim", "p", "seed", "add_context")

OPTIONS = {
    "window": "--window", "min_count": "--min-count", "max_vocab_size": "--max-vocab",
    "memory_limit": "--memory-limit", "n_jobs": "--jobs", "tmp_dir": "--tmp-dir",
    "weighting": "--weighting", "cds": "--cds", "shift": "--shift", "distance": "--distance",
    "dim": "--dim", "p": "--p", "seed": "--seed", "add_context": "--add-context",
    "encoding": "--encoding", "errors": "--errors",
}
"""The parameters of :func:`cooc.pretrain` that ``cooc pretrain`` passes, and their options: a
parameter check's message names the option."""


def _output(args: argparse.Namespace) -> Any:
    if getattr(args, "shards", None) is not None:
        return _sharded_output(args.output)
    out = Path(args.output)
    try:
        is_dir, parent_ok = out.is_dir(), out.parent.is_dir()
    except OSError as exc:  # e.g. a name too long
        raise CliError(f"output {out}: {exc.strerror or exc}") from None
    if is_dir:
        raise CliError(f"output {out} is a directory")
    if out.is_symlink():
        try:
            os.path.realpath(out, strict=True)
        except FileNotFoundError:
            pass  # a dangling link: the file it names is created
        except (OSError, RuntimeError) as exc:
            raise CliError(f"output {out}: cannot follow the symlink ({exc})") from None
    if not parent_ok:
        raise CliError(f"output directory {out.parent} does not exist")
    return out


def _sharded_output(output: str) -> Any:
    """``-o`` with ``--shards``: a URL as given, or a directory that is new, empty or a sharded model."""
    if "://" in output:
        return output
    out = Path(output)
    try:
        if out.is_file():
            raise CliError(f"output {out} is a file; with --shards the model is a directory")
        if out.is_dir() and any(out.iterdir()) and not (out / META_NAME).is_file():
            raise CliError(f"output {out} is a directory that does not hold a sharded model; choose a new "
                           "or empty directory")
        parent_ok = out.parent.is_dir()
    except OSError as exc:
        raise CliError(f"output {out}: {exc.strerror or exc}") from None
    if not parent_ok:
        raise CliError(f"output directory {out.parent} does not exist")
    return out


def _decoding_message(exc: UnicodeError, args: argparse.Namespace) -> str:
    """A decoding error with the corpus file (when there is one, or the message names none) and the
    options that change it."""
    text = " ".join(str(exc).split())
    if not any(str(c) in text for c in args.corpus):
        where = args.corpus[0] if len(args.corpus) == 1 else "the corpus"
        text = f"{where}: cannot decode as {args.encoding} ({text})"
    if "--encoding" not in text:
        text += "; give the corpus's encoding with --encoding (or --errors replace)"
    return text


def _check_options(args: argparse.Namespace, weighting: dict[str, Any]) -> None:
    """The parameter checks of :func:`cooc.pretrain`, before any work, in terms of the options."""
    check_encoding(args.encoding, args.errors)
    with options_checked(OPTIONS):
        check_window(args.window)
        check_weighting(**weighting)
        if args.memory_limit is not None:
            parse_size("memory_limit", args.memory_limit, minimum=1 << 20)
        check_n_jobs(args.jobs)
    if args.tmp_dir is not None and not Path(args.tmp_dir).is_dir():
        raise CliError(f"--tmp-dir {args.tmp_dir} is not a directory")


def _cmd_pretrain(args: argparse.Namespace) -> int:
    weighting = {k: getattr(args, k) for k in _WEIGHTING}
    if args.scheduler is not None or args.dask_workers is not None:
        if args.distance != "uniform":
            raise CliError(f"--distance {args.distance}: not available with a Dask cluster, which counts "
                           "uniform windows")
        with options_checked(OPTIONS):
            check_weighting(**weighting)
        return pretrain_on_dask(args)

    _check_options(args, weighting)
    out = _output(args)
    if not isinstance(out, str):
        check_not_an_input(out, args.corpus)
    budget = None if args.memory_limit is None else parse_size("memory_limit", args.memory_limit, minimum=1 << 20)
    corpus = LineCorpus(args.corpus, encoding=args.encoding, errors=args.errors,
                        max_line_chars=max_line_chars_for(budget))
    stopwords = None if args.no_stopwords else STOPWORDS
    progress = Progress(corpus.total_bytes, args.quiet)
    t0 = time.perf_counter()
    try:
        with progress.stages_from_log():
            emb = pretrain(
                corpus, window=args.window, min_count=args.min_count, max_vocab_size=args.max_vocab,
                memory_limit=args.memory_limit, n_jobs=args.jobs, stopwords=stopwords, progress=progress,
                tmp_dir=args.tmp_dir, **weighting,
            )
    except UnicodeError as exc:
        raise CliError(_decoding_message(exc, args)) from None
    except (ValueError, TypeError) as exc:  # e.g. "pass errors='replace'": name the options
        raise CliError(option_names(str(exc), OPTIONS, bare=False)) from None
    finally:
        progress.close()
    return save_and_report(emb, out, t0, shards=args.shards)


def pretrain_on_dask(args: argparse.Namespace) -> int:
    """``cooc pretrain ... --scheduler ADDRESS`` or ``--dask-workers N``: connect to the scheduler or
    start a local cluster of ``N`` worker processes (one thread each), count, save, report."""
    import importlib.util
    import logging

    from .. import dask as cooc_dask

    if args.scheduler and args.dask_workers:
        raise CliError("--scheduler and --dask-workers are exclusive: use an existing cluster or start one")
    out = _output(args)
    try:
        distributed = cooc_dask.require_dask()
    except ImportError as exc:
        raise CliError(str(exc)) from None
    if not isinstance(out, str):
        check_not_an_input(out, args.corpus)
    check_encoding(args.encoding, args.errors)
    with options_checked(OPTIONS):
        check_window(args.window)
        if args.memory_limit is not None:
            parse_size("memory_limit", args.memory_limit, minimum=1 << 20)
    stopwords = None if args.no_stopwords else STOPWORDS
    # Dask's own INFO messages (cluster start and stop) would drown the one-line summary
    dask_logger = logging.getLogger("distributed")
    level = dask_logger.level
    dask_logger.setLevel(max(level, logging.WARNING))
    t0 = time.perf_counter()
    cluster = None
    try:
        if args.scheduler:
            client = distributed.Client(args.scheduler)
        else:
            cluster = distributed.LocalCluster(n_workers=args.dask_workers, threads_per_worker=1, processes=True)
            client = distributed.Client(cluster)
    except BaseException:
        dask_logger.setLevel(level)
        if cluster is not None:
            cluster.close()
        raise
    try:
        if not args.quiet and importlib.util.find_spec("bokeh") is not None:
            print(f"cooc pretrain: Dask dashboard at {client.dashboard_link}", file=sys.stderr)
        emb = cooc_dask.pretrain(
            args.corpus, window=args.window, min_count=args.min_count, max_vocab_size=args.max_vocab,
            memory_limit=args.memory_limit, stopwords=stopwords, encoding=args.encoding,
            errors=args.errors, client=client, n_blocks=getattr(args, "shards", None),
            output=out if getattr(args, "shards", None) is not None else None,
            **{k: getattr(args, k) for k in _WEIGHTING if k != "distance"},
        )
    except cooc_dask.ClusterError as exc:
        raise CliError(str(exc)) from None
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
        dask_logger.setLevel(level)
    return save_and_report(emb, out, t0)


def save_and_report(emb: Embeddings, out: Any, t0: float, shards: int | None = None) -> int:
    """Write the model (atomically; with ``shards``, as a sharded model, unless it already is one) and
    print the closing summary of ``cooc pretrain`` on stderr."""
    if not emb.sharded:
        emb.save(out, shards=shards)
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
    emb = load(args.model)
    known = [w for w in args.words if w in emb]
    # one batch for every known word: the model's transpose is built once, queries share the threads
    answers = dict(zip(known, emb.most_similar_batch(known, topn=args.k, n_jobs=args.jobs)))
    status = 0
    for word in args.words:
        if word not in answers:
            print(f"cooc neighbors: error: word {word!r} is not in the vocabulary", file=sys.stderr)
            status = 2
        elif not args.json:
            print(f"{word}\t" + "\t".join(f"{w} {s:.4f}" for w, s in answers[word]))
    if args.json:  # {word: [{"word": neighbour, "similarity": cosine}, ...]} for the known words, in order
        doc = {word: [{"word": w, "similarity": float(s)} for w, s in answers[word]]
               for word in dict.fromkeys(args.words) if word in answers}
        json.dump(doc, sys.stdout, indent=2, ensure_ascii=False)
        print()
    return status


def add_parsers(sub: Any) -> None:
    """Register ``cooc pretrain`` and ``cooc neighbors``."""
    p = sub.add_parser("pretrain", help="count co-occurrences of text files (one sentence per line)")
    p.add_argument("corpus", nargs="+", metavar="CORPUS", help="text files: plain, .gz, .bz2 or .xz; - for standard input")
    p.add_argument("-o", "--output", required=True, metavar="MODEL.npz",
                   help="model file to write (with --shards: a directory, or a URL such as s3://bucket/model)")
    p.add_argument("--shards", type=positive_int, default=None, metavar="N",
                   help="write a sharded model: a directory of N row blocks, memory-mapped when loaded, "
                        "for models too large for one process; with a Dask cluster, the N blocks it sums, "
                        "each written by its worker (to storage every worker sees)")
    p.add_argument("--window", type=positive_int, default=3, help="window half-width (default 3)")
    p.add_argument("--min-count", type=positive_int, default=1, help="drop rarer words (default 1)")
    p.add_argument("--max-vocab", type=positive_int, default=None, help="keep the N most frequent words")
    p.add_argument("--memory-limit", default=None, metavar="SIZE",
                   help="working-memory budget for counting, e.g. 2GB; above it partial counts spill to disk")
    p.add_argument("--jobs", type=jobs, default=1, metavar="N", help="threads (-1: all cores)")
    p.add_argument("--tmp-dir", default=None, metavar="DIR",
                   help="where counts above --memory-limit spill (default: the system's temporary "
                        "directory); a run removes what killed runs left there")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="count on a running Dask cluster, e.g. tcp://host:8786 (needs cooc[dask]; every "
                        "worker must read the files: shared storage or URLs such as s3://...)")
    p.add_argument("--dask-workers", type=positive_int, default=None, metavar="N",
                   help="count on a local Dask cluster of N worker processes (needs cooc[dask])")
    p.add_argument("--no-stopwords", action="store_true", help="keep the 28 stopwords")
    p.add_argument("--weighting", choices=["count", "ppmi", "sppmi"], default="count",
                   help="vectors from raw counts (default, the reference), PPMI or shifted PPMI")
    p.add_argument("--cds", type=float, default=0.75, help="context-distribution smoothing of (S)PPMI (0.75)")
    p.add_argument("--shift", type=float, default=None, help="k of SPPMI (default 5; 1 for ppmi)")
    p.add_argument("--distance", choices=["uniform", "harmonic", "linear"], default="uniform",
                   help="weight of a pair d apart: 1 (default), 1/d (GloVe), (window - d + 1) / window")
    p.add_argument("--dim", type=positive_int, default=None, metavar="N",
                   help="dense vectors: truncated SVD of the weighted matrix to N dimensions")
    p.add_argument("--p", type=float, default=0.5, help="eigenvalue weight of the SVD (default 0.5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the randomized SVD (default 0)")
    p.add_argument("--add-context", action="store_true",
                   help="with --dim: add the SVD's context vectors to the word vectors (w+c)")
    p.add_argument("--encoding", default="utf-8", help="text encoding of the corpus (default utf-8)")
    p.add_argument("--errors", default="strict", choices=["strict", "replace", "ignore"],
                   help="what to do with undecodable bytes (default: stop with an error)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress (shown only on a terminal: a tqdm bar per stage with cooc[progress])")
    p.set_defaults(func=_cmd_pretrain)

    p = sub.add_parser("neighbors", help="nearest neighbours of words in a model file")
    p.add_argument("model", metavar="MODEL", help="a model file or sharded model directory written by cooc pretrain")
    p.add_argument("words", nargs="+", metavar="WORD", help="one or more words of the model's vocabulary")
    p.add_argument("-k", type=positive_int, default=10, help="how many neighbours (default 10)")
    p.add_argument("-j", "--jobs", type=positive_int, default=1,
                   help="threads answering the queries (default 1; results do not depend on it)")
    p.add_argument("--json", action="store_true",
                   help="a JSON document on stdout: {word: [{word, similarity}, ...]}")
    p.set_defaults(func=_cmd_neighbors)
