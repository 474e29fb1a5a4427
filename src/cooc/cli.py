"""The ``cooc`` command. Results go to stdout; diagnostics to stderr; errors exit non-zero.

Subcommands:

- ``cooc demo [--charts DIR]``: the reference walk-through.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__, _kernels

__all__ = ["main"]


class CliError(Exception):
    """An error reported to the user as one line on stderr, exit status 2."""


def _cmd_demo(args: argparse.Namespace) -> int:
    from . import demo

    if args.charts is not None:
        from .charts import _pyplot

        try:
            _pyplot()
        except ImportError as exc:
            raise CliError(str(exc)) from None
    demo.run(sys.stdout, charts_dir=args.charts)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cooc",
        description="Word co-occurrence representations: pretrain, classify, analyze.",
    )
    parser.add_argument(
        "--version", action="version", version=f"cooc {__version__} (backend: {_kernels.BACKEND})"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("demo", help="run the reference walk-through (pretrain, classify, analyze)")
    p.add_argument(
        "--charts", metavar="DIR", default=None,
        help="also save the two bar charts as PNG files in DIR (needs matplotlib: cooc[plot])",
    )
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cooc`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"cooc {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, KeyError, OSError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"cooc {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"cooc {args.command}: interrupted", file=sys.stderr)
        return 130
