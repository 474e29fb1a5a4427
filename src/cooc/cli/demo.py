"""``cooc demo``: the reference walk-through, on its six sentences or on the user's own data."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import charts, demo, demo_real
from ._common import CliError

__all__ = ["add_parser"]


def _cmd_demo(args: argparse.Namespace) -> int:
    if (args.corpus is None) != (args.labelled is None):
        raise CliError("--corpus and --labelled go together")
    if args.corpus is not None:
        demo_real.run_real(sys.stdout, args.corpus, args.labelled, encoding=args.encoding)
        return 0
    if args.charts is not None:
        try:
            charts._pyplot()
        except ImportError as exc:
            raise CliError(str(exc)) from None
    demo.run(sys.stdout, charts_dir=args.charts)
    return 0


def add_parser(sub: Any) -> None:
    """Register ``cooc demo``."""
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
