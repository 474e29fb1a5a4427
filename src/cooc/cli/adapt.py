"""``cooc update MODEL CORPUS... -o OUT`` and ``cooc merge A B ... -o OUT``: domain adaptation of saved
models (:meth:`cooc.Embeddings.update`, :func:`cooc.embeddings.merge`)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from ..corpus import LineCorpus
from ..embeddings import Embeddings, load, merge
from ..sharded import is_sharded
from ..io import read_text
from ._common import CliError, Progress, jobs, positive_int

__all__ = ["add_parsers"]


def _output(args: argparse.Namespace) -> Path:
    out = Path(args.output)
    if out.is_dir():
        raise CliError(f"-o/--output {out} is a directory")
    if not out.parent.exists():
        raise CliError(f"-o/--output: directory {out.parent} does not exist")
    return out


def _load(path: str, option: str) -> Embeddings:
    p = Path(path)
    if not p.exists():
        raise CliError(f"{option} {path}: no such file")
    if p.is_dir() and not is_sharded(p):
        raise CliError(f"{option} {path}: is a directory, not a model file")
    return load(p, in_memory=True)   # updating and merging need the whole counts


def _vocabulary(path: str | None) -> list[str] | None:
    """Words of a ``--vocabulary`` file: one per line; blank lines and ``#`` comments are skipped."""
    if path is None:
        return None
    if not Path(path).is_file():
        raise CliError(f"--vocabulary {path}: no such file")
    words = []
    for lineno, line in enumerate(read_text(path).splitlines(), 1):
        word = line.strip()
        if not word or word.startswith("#"):
            continue
        if len(word.split()) != 1:
            raise CliError(f"--vocabulary {path}: line {lineno}: expected one word, got {line!r}")
        words.append(word)
    if not words:
        raise CliError(f"--vocabulary {path}: no words")
    return words


def _report(command: str, emb: Embeddings, out: Path, t0: float, as_json: bool, inputs: dict[str, Any]) -> int:
    emb.save(out)
    seconds = time.perf_counter() - t0
    tokens = int(emb.frequencies.sum()) if emb.frequencies is not None else 0
    nnz = int(emb.counts.nnz) if emb.counts is not None else 0
    if as_json:
        print(json.dumps({"command": command, "output": str(out), "words": len(emb), "tokens": tokens,
                          "nonzeros": nnz, "seconds": round(seconds, 3), "recipe": emb.recipe.to_dict(),
                          **inputs}, sort_keys=True))
    else:
        print(f"cooc {command}: {tokens:,} tokens, V={len(emb):,}, {nnz:,} non-zeros, {seconds:.2f} s -> {out}",
              file=sys.stderr)
    return 0


def _cmd_update(args: argparse.Namespace) -> int:
    out = _output(args)
    emb = _load(args.model, "MODEL")
    vocabulary = _vocabulary(args.vocabulary)
    corpus = LineCorpus(args.corpus, encoding=args.encoding, errors=args.errors)
    progress = Progress(corpus.total_bytes, args.quiet or args.json)
    t0 = time.perf_counter()
    try:
        new = emb.update(corpus, vocabulary=vocabulary, min_count=args.min_count, n_jobs=args.jobs,
                         memory_limit=args.memory_limit, progress=progress)
    finally:
        progress.close()
    return _report("update", new, out, t0, args.json,
                   {"model": args.model, "corpus": list(args.corpus), "words_before": len(emb)})


def _cmd_merge(args: argparse.Namespace) -> int:
    if len(args.models) < 2:
        raise CliError(f"MODEL: give at least two models to merge, got {len(args.models)}")
    out = _output(args)
    t0 = time.perf_counter()
    models = [_load(path, "MODEL") for path in args.models]
    try:
        merged = merge(*models, n_jobs=args.jobs)
    except ValueError as exc:  # name the files, not their positions
        text = str(exc)
        for i, path in reversed(list(enumerate(args.models, 1))):
            text = text.replace(f"models 1 and {i}", f"{args.models[0]} and {path}")
            text = text.replace(f"model {i})", f"{path})")
        raise CliError(text) from None
    return _report("merge", merged, out, t0, args.json, {"models": list(args.models)})


def add_parsers(sub: Any) -> None:
    """Register ``cooc update`` and ``cooc merge``."""
    p = sub.add_parser(
        "update",
        help="add the counts of more text to a saved model (the model's own recipe: tokenizer, stopwords, "
             "window, weighting)",
        description="Count CORPUS exactly as MODEL was counted, add the counts on the union of the "
                    "vocabularies, remake the vectors by MODEL's weighting, and write the new model to OUT. "
                    "With min_count 1, the result equals pretraining on all the text at once.",
    )
    p.add_argument("model", metavar="MODEL", help="model file written by cooc pretrain (or update, merge)")
    p.add_argument("corpus", nargs="+", metavar="CORPUS",
                   help="text files, one sentence per line: plain, .gz, .bz2 or .xz")
    p.add_argument("-o", "--output", required=True, metavar="OUT.npz", help="model file to write")
    p.add_argument("--vocabulary", default=None, metavar="FILE",
                   help="the word list (one word per line) MODEL was pretrained with, when it was")
    p.add_argument("--min-count", type=positive_int, default=None, metavar="N",
                   help="after adding, drop words seen fewer than N times in all the text, with their "
                        "counts (default: keep every word)")
    p.add_argument("--jobs", type=jobs, default=1, metavar="N", help="threads (-1: all cores; default 1)")
    p.add_argument("--memory-limit", default=None, metavar="SIZE",
                   help="working-memory budget for counting, e.g. 2GB; above it partial counts spill to disk")
    p.add_argument("--encoding", default="utf-8", help="text encoding of the corpus (default utf-8)")
    p.add_argument("--errors", default="strict", choices=["strict", "replace", "ignore"],
                   help="what to do with undecodable bytes (default: stop with an error)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON summary (words, tokens, non-zeros, recipe) on stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_update)

    p = sub.add_parser(
        "merge",
        help="sum the counts of models made the same way",
        description="Sum the counts and frequencies of the MODELs on the union of their vocabularies and "
                    "remake the vectors by their common recipe; models made differently are refused, "
                    "naming the setting that differs.",
    )
    p.add_argument("models", nargs="+", metavar="MODEL", help="two or more model files")
    p.add_argument("-o", "--output", required=True, metavar="OUT.npz", help="model file to write")
    p.add_argument("--jobs", type=jobs, default=1, metavar="N",
                   help="threads making the vectors (-1: all cores; default 1)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON summary (words, tokens, non-zeros, recipe) on stdout")
    p.set_defaults(func=_cmd_merge)
