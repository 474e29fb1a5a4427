"""The ``cooc`` command: results on stdout, one-line errors on stderr, non-zero exit on error."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

import cooc
import cooc.charts
from cooc.cli import main

EXPECTED = (Path(__file__).resolve().parent / "data" / "expected_output.txt").read_text(encoding="utf-8")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _run(*args: str, code: str | None = None, **env_changes) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(env_changes)
    cmd = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "cooc", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def _no_matplotlib():
    raise cooc.charts.MatplotlibMissing("charts need matplotlib: pip install 'cooc[plot]'")


def test_charts_without_matplotlib_in_process(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(cooc.charts, "_pyplot", _no_matplotlib)
    status = main(["demo", "--charts", str(tmp_path / "charts")])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""  # stops before printing anything
    lines = err.strip("\n").splitlines()
    assert len(lines) == 1, err
    assert "matplotlib" in lines[0]
    assert not (tmp_path / "charts").exists() or not any((tmp_path / "charts").iterdir())


BLOCK_MATPLOTLIB = (
    "import sys\n"
    "sys.modules['matplotlib'] = None  # any 'import matplotlib' now raises ImportError\n"
    "sys.argv[0] = 'cooc'\n"
    "from cooc.cli import main\n"
    "raise SystemExit(main(sys.argv[1:]))\n"
)


def test_charts_without_matplotlib_subprocess(tmp_path):
    proc = _run("demo", "--charts", str(tmp_path), code=BLOCK_MATPLOTLIB)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip("\n").splitlines()
    assert len(lines) == 1, proc.stderr
    assert "matplotlib" in lines[0] and "cooc[plot]" in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_charts_written_with_matplotlib(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="matplotlib is not installed (the optional extra cooc[plot])")
    status = main(["demo", "--charts", str(tmp_path)])
    out, _ = capsys.readouterr()
    assert status == 0
    pngs = sorted(tmp_path.glob("*.png"))
    assert [p.name for p in pngs] == ["random_vs_pretrained_accuracy.png", "within_vs_between_similarity.png"]
    for p in pngs:
        assert p.read_bytes()[:8] == PNG_SIGNATURE
        assert p.stat().st_size > 1000
    saved = [line for line in out.splitlines() if "[Saved chart:" in line]
    assert len(saved) == 2
    assert all(str(tmp_path) in line for line in saved)
    # apart from the two "saved" lines, the output is the reference's
    rest = "".join(line + "\n" for line in out.splitlines() if "[Saved chart:" not in line)
    assert rest == EXPECTED


def test_version_in_process(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"cooc {importlib.metadata.version('cooc')}")
    assert cooc.__version__ == importlib.metadata.version("cooc")


def test_version_subprocess():
    proc = _run("--version")
    assert proc.returncode == 0
    assert proc.stdout.split()[:2] == ["cooc", importlib.metadata.version("cooc")]


@pytest.mark.parametrize("argv", [["frobnicate"], [], ["demo", "--no-such-flag"]])
def test_bad_command_line_exits_non_zero(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code not in (0, None)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "error" in captured.err


def test_unknown_subcommand_subprocess():
    proc = _run("frobnicate")
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert "frobnicate" in proc.stderr


def test_demo_in_process_writes_stdout_only(capsys):
    status = main(["demo"])
    out, err = capsys.readouterr()
    assert status == 0
    assert out == EXPECTED
    assert err == ""


def test_every_cli_option_has_help_text():
    """Every argument of every command says what it is for (``cooc CMD --help``)."""
    import argparse

    from cooc.cli import build_parser

    missing = []

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{prefix} {name}")
            elif not action.help and not isinstance(action, argparse._VersionAction):
                missing.append(f"{prefix} {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), "cooc")
    assert not missing, missing
