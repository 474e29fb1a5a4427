"""What every ``cooc`` command shares: the parser class, the user-error exception, option types and
the progress bar."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

__all__ = ["CliError", "Parser", "Progress", "jobs", "positive_int"]


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class CliError(Exception):
    """An error reported to the user as one line on stderr, exit status 2."""


def positive_int(text: str) -> int:
    """An option's value that must be an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def jobs(text: str) -> int:
    """A number of threads: a positive integer, or -1 for every core."""
    if text.strip() == "-1":
        return -1
    return positive_int(text)


class Progress:
    """A tqdm bar on stderr when tqdm is installed and not ``quiet``; otherwise nothing."""

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
