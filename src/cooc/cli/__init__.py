"""The ``cooc`` command. Results go to stdout; diagnostics to stderr; errors exit non-zero.

One module per command group, each registering its subcommands and handlers:

- ``cooc demo [--charts DIR]``: the reference walk-through (:mod:`cooc.cli.demo`).
- ``cooc pretrain CORPUS... -o MODEL.npz``: count co-occurrences of text files into a model file;
  ``cooc neighbors MODEL.npz WORD... [-k N] [--jobs N]``: nearest neighbours of words in a model
  (:mod:`cooc.cli.pretrain`).
- ``cooc evaluate similarity|classify ...``: word-pair similarity and classification comparisons
  (:mod:`cooc.cli.evaluate`).
- ``cooc update MODEL CORPUS... -o OUT`` and ``cooc merge A B ... -o OUT``: domain adaptation of saved
  models (:mod:`cooc.cli.adapt`).
- ``cooc bench [...]``: benchmark comparisons (:mod:`cooc.cli.bench`; see ``cooc bench --help``).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from .. import __version__, _kernels
from . import adapt, bench, demo, evaluate, pretrain
from ._common import CliError, Parser

__all__ = ["CliError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The ``cooc`` argument parser with every subcommand."""
    parser = Parser(
        prog="cooc",
        description="Word co-occurrence representations: pretrain, classify, analyze.",
    )
    parser.add_argument(
        "--version", action="version", version=f"cooc {__version__} (backend: {_kernels.BACKEND})"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    demo.add_parser(sub)
    pretrain.add_parsers(sub)
    adapt.add_parsers(sub)
    bench.add_parser(sub)
    evaluate.add_parser(sub)
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
