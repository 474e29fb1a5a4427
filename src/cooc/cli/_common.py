"""What every ``cooc`` command shares: the parser class, the user-error exception, option types and
the progress bar."""

from __future__ import annotations

import argparse
import codecs
import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NoReturn

__all__ = [
    "CliError",
    "OneLineHandler",
    "Parser",
    "Progress",
    "check_encoding",
    "check_not_an_input",
    "jobs",
    "on_terminal",
    "option_names",
    "options_checked",
    "positive_int",
]


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class CliError(Exception):
    """An error reported to the user as one line on stderr, exit status 2."""


def option_names(message: str, options: Mapping[str, str], *, bare: bool = True) -> str:
    """``message`` with the Python parameter names of ``options`` replaced by their CLI options:
    ``"(e.g. dim=300)"`` -> ``"(e.g. --dim 300)"``, ``"errors='replace'"`` -> ``"--errors replace"``,
    and with ``bare`` (a parameter check's message) ``"dim must be ..."`` -> ``"--dim must be ..."``."""
    for name, option in sorted(options.items(), key=lambda kv: -len(kv[0])):
        message = re.sub(rf"(?<![\w\-.'\"]){re.escape(name)}=(['\"]?)([^'\"\s,;)]*)\1",
                         lambda m: f"{option} {m.group(2)}", message)
        if bare:
            message = re.sub(rf"(?<![\w\-.'\"]){re.escape(name)}(?![\w'\"=(])", option, message)
    return message


@contextmanager
def options_checked(options: Mapping[str, str]) -> Iterator[None]:
    """Turn a ValueError or TypeError raised inside (a parameter check) into a :class:`CliError` whose
    message names the CLI options instead of the Python parameters."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        raise CliError(option_names(str(exc), options)) from None


def check_encoding(encoding: str, errors: str = "strict") -> None:
    """A text encoding the corpus can be decoded with; CliError naming ``--encoding`` otherwise."""
    try:
        info = codecs.lookup(encoding)
    except (LookupError, TypeError, ValueError):
        raise CliError(f"--encoding {encoding!r}: unknown encoding (e.g. utf-8, cp1252, latin-1)") from None
    if not getattr(info, "_is_text_encoding", True):  # rot13, base64, zlib...: not bytes to text
        raise CliError(f"--encoding {encoding!r}: not a text encoding (e.g. utf-8, cp1252, latin-1)")
    try:
        codecs.lookup_error(errors)
    except LookupError:
        raise CliError(f"--errors {errors!r}: unknown error handler") from None


def check_not_an_input(output: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]]) -> None:
    """Refuse writing ``output`` when it is one of ``inputs`` (the same file, by any path)."""
    for item in inputs:
        try:
            same = os.path.samefile(output, item)
        except (OSError, ValueError):  # one of them does not exist (or is no local path): not the same
            continue
        if same:
            raise CliError(f"the output {os.fspath(output)} is the input {os.fspath(item)}: writing the "
                           f"model would replace it; choose another -o")


class OneLineHandler(logging.Handler):
    """Log records as one line each on the current ``sys.stderr``: ``cooc COMMAND: warning: ...``."""

    def __init__(self, command: str, level: int) -> None:
        super().__init__(level)
        self.command = command

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = " ".join(record.getMessage().split())
            if record.exc_info and record.levelno <= logging.DEBUG:
                import traceback

                text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            print(f"cooc {self.command}: {record.levelname.lower()}: {text}", file=sys.stderr)
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


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


def on_terminal(stream: Any = None) -> bool:
    """Whether ``stream`` (``sys.stderr`` by default) is a terminal."""
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


class Progress:
    """The progress of a long command on stderr, on a terminal only.

    On a terminal (``sys.stderr.isatty()``) and not ``quiet``: a tqdm bar per stage when tqdm is
    installed (the ``progress`` extra), else one plain line per stage. Redirected to a file, or with
    ``quiet``: nothing, so a log file holds no carriage returns. Stages come from :meth:`stage` and,
    inside :meth:`stages_from_log`, from the ``cooc`` logger's INFO messages (what the library reports
    as it goes).
    """

    def __init__(self, total: int | None = None, quiet: bool = False, *, command: str = "pretrain",
                 desc: str = "reading", unit: str = "B") -> None:
        self.command = command
        self.active = not quiet and on_terminal()
        self.bar: Any = None
        self._tqdm: Any = None
        if self.active:
            try:
                from tqdm import tqdm
            except ImportError:
                pass
            else:
                self._tqdm = tqdm
        if desc:
            self.stage(desc, total, unit)

    def stage(self, desc: str, total: int | None = None, unit: str = "it") -> None:
        """Start the stage ``desc``: a new bar (of ``total`` steps, if known), or one line."""
        if not self.active:
            return
        self._close_bar()
        if self._tqdm is not None:
            self.bar = self._tqdm(total=total, unit=unit, unit_scale=unit == "B", desc=desc, file=sys.stderr,
                                  leave=False, dynamic_ncols=True)
        else:
            print(f"cooc {self.command}: {desc}", file=sys.stderr, flush=True)

    def note(self, text: str) -> None:
        """A line of progress (e.g. an intermediate result) on a terminal, above the bar if any."""
        if not self.active:
            return
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def __call__(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def _close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def close(self) -> None:
        """End the last stage (the bar disappears)."""
        self._close_bar()

    @contextmanager
    def stages_from_log(self) -> Iterator[None]:
        """While inside, each INFO message of the ``cooc`` logger starts a stage."""
        if not self.active:
            yield
            return
        log = logging.getLogger("cooc")
        handler = _StageHandler(self)
        level = log.level
        log.addHandler(handler)
        if not log.isEnabledFor(logging.INFO):
            log.setLevel(logging.INFO)
        try:
            yield
        finally:
            log.removeHandler(handler)
            log.setLevel(level)


class _StageHandler(logging.Handler):
    """INFO records of the ``cooc`` logger as stages of a :class:`Progress` (warnings and errors are the
    :class:`OneLineHandler`'s)."""

    def __init__(self, progress: Progress) -> None:
        super().__init__(logging.INFO)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno != logging.INFO:
            return
        try:
            self.progress.stage(" ".join(record.getMessage().split()))
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)
