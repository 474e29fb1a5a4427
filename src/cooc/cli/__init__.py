"""The ``cooc`` command. Results go to stdout; diagnostics to stderr; errors exit non-zero.

One module per command group, each registering its subcommands and handlers:

- ``cooc demo [--charts DIR]``: the reference walk-through (:mod:`cooc.cli.demo`).
- ``cooc pretrain CORPUS... -o MODEL.npz``: count co-occurrences of text files into a model file
  (``-o DIR --shards N``: a sharded model directory, :mod:`cooc.sharded`);
  ``cooc neighbors MODEL WORD... [-k N] [--jobs N]``: nearest neighbours of words in a model file or
  sharded model (:mod:`cooc.cli.pretrain`).
- ``cooc evaluate similarity|classify ...``: word-pair similarity and classification comparisons
  (:mod:`cooc.cli.evaluate`).
- ``cooc update MODEL CORPUS... -o OUT`` and ``cooc merge A B ... -o OUT``: domain adaptation of saved
  models (:mod:`cooc.cli.adapt`).
- ``cooc classifier train|predict|evaluate ...``: a saved text classifier on a model
  (:mod:`cooc.cli.classifier`).
- ``cooc bench [...]``: benchmark comparisons (:mod:`cooc.cli.bench`; see ``cooc bench --help``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from .. import __version__, _backend
from . import adapt, bench, classifier, demo, evaluate, pretrain
from ._common import CliError, OneLineHandler, Parser

__all__ = ["CliError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The ``cooc`` argument parser with every subcommand."""
    parser = Parser(
        prog="cooc",
        description="Word co-occurrence representations: pretrain, classify, analyze.",
    )
    parser.add_argument(
        "--version", action="version", version=f"cooc {__version__} (backend: {_backend.BACKEND})"
    )
    parser.add_argument("--debug", action="store_true",
                        help="show the library's debug log, and the traceback of an unexpected error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    demo.add_parser(sub)
    pretrain.add_parsers(sub)
    adapt.add_parsers(sub)
    bench.add_parser(sub)
    evaluate.add_parser(sub)
    classifier.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cooc`` console script; returns the exit status.

    Results go to stdout. On stderr: warnings of the ``cooc`` logger, one line each; an error, one
    line (exit status 2 for bad input: options, files, models; 1 for anything unexpected, whose
    traceback goes to the ``cooc`` logger at debug level, shown with ``--debug``); Ctrl-C, one line
    and exit status 130. No traceback otherwise.
    """
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        print("cooc: interrupted", file=sys.stderr)
        return 130
    command = getattr(args, "command", None) or ""
    debug = bool(getattr(args, "debug", False))
    log = logging.getLogger("cooc")
    handler = OneLineHandler(command, logging.DEBUG if debug else logging.WARNING)
    level = log.level
    log.addHandler(handler)
    if debug:
        log.setLevel(logging.DEBUG)
    try:
        return _run(args, command, log)
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


def _say(command: str, text: object) -> None:
    print(f"cooc {command}: error: {' '.join(str(text).split())}", file=sys.stderr)


def _os_message(exc: OSError) -> str:
    """An OSError as ``what: file`` without ``[Errno N]``."""
    what = exc.strerror or str(exc)
    name = exc.filename
    if name is not None and os.fspath(name) not in what:
        what = f"{what}: {os.fspath(name)}"
        if exc.filename2 is not None:
            what += f" -> {os.fspath(exc.filename2)}"
    return what


def _run(args: argparse.Namespace, command: str, log: logging.Logger) -> int:
    """Run the command's handler; every exception becomes one line and an exit status."""
    try:
        return int(args.func(args))
    except CliError as exc:
        _say(command, exc)
        return 2
    except KeyError as exc:
        _say(command, exc.args[0] if exc.args else exc)
        return 2
    except UnicodeError as exc:
        hint = "" if "--encoding" in str(exc) else " (give the corpus's encoding with --encoding)"
        _say(command, f"{exc}{hint}")
        return 2
    except (ValueError, TypeError) as exc:
        _say(command, exc)
        return 2
    except OSError as exc:
        _say(command, _os_message(exc))
        return 2
    except MemoryError:
        _say(command, "out of memory; try a --memory-limit below the free memory")
        return 2
    except KeyboardInterrupt:
        print(f"cooc {command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last resort: one line, never a traceback
        log.debug("unexpected error in cooc %s", command, exc_info=True)
        hint = "" if log.isEnabledFor(logging.DEBUG) else " (run with --debug for the traceback)"
        _say(command, f"internal error: {type(exc).__name__}: {exc}{hint}")
        return 1
