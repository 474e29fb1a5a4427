"""Peak resident memory of ``cooc.pretrain`` with and without ``memory_limit``.

    python -m pytest benchmarks/test_bench_memory.py --benchmark-only --benchmark-verbose \
        --benchmark-json=memory.json

Each run is a child process (``python -c``) that pretrains one corpus file with ``min_count=1`` and
reports its own peak RSS (``VmHWM`` of ``/proc/self/status``, else ``ru_maxrss``, which on Linux
keeps the parent's peak from before ``exec``); the figure is in the
benchmark's ``extra_info["peak_mb"]``, never asserted. Corpus shapes: many short lines (about 4M
Zipf tokens, V about 200k), one long line of about 50 MB (read in pieces,
:func:`cooc.corpus.max_line_chars_for`), and a short text repeated. ``COOC_BENCH_SMOKE=1`` makes
every corpus tiny.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from corpora import SMOKE, write_zipf_text

N_TOKENS = 20_000 if SMOKE else 4_000_000
VOCAB = 2_000 if SMOKE else 200_000
LONG_TOKENS = 20_000 if SMOKE else 8_000_000   # about 50 MB of text on one line
LIMITS = [None, "256MB", "64MB", "16MB"]

CHILD = r"""
import json, pathlib, resource, sys
import cooc
limit = None if sys.argv[2] == "None" else sys.argv[2]
emb = cooc.pretrain(pathlib.Path(sys.argv[1]), min_count=1, memory_limit=limit)
try:  # VmHWM starts afresh at exec; ru_maxrss keeps the parent's peak from before it on Linux
    with open("/proc/self/status") as f:
        peak_kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
except OSError:
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_mb": peak_kb / 1024, "V": len(emb.index_to_key), "nnz": int(emb.counts.nnz)}))
"""


def peak_of(python: str, path: Path, limit: str | None) -> dict[str, float]:
    """Peak RSS (MB), vocabulary size and non-zeros of one pretrain in a fresh ``python``."""
    out = subprocess.run([python, "-c", CHILD, str(path), str(limit)], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def make_corpora(directory: Path) -> dict[str, Path]:
    """The three corpus shapes, written once into ``directory``."""
    short = directory / "short-lines.txt"
    if not short.exists():
        write_zipf_text(short, N_TOKENS, VOCAB, seed=1)
    long_line = directory / "one-line.txt"
    if not long_line.exists():
        tmp = directory / "one-line.tmp"
        write_zipf_text(tmp, LONG_TOKENS, VOCAB, seed=2)
        data = tmp.read_bytes().replace(b"\n", b" ")
        long_line.write_bytes(data.rstrip(b" ") + b"\n")
        tmp.unlink()
    repetitive = directory / "repetitive.txt"
    if not repetitive.exists():
        para = directory / "para.tmp"
        write_zipf_text(para, 2_000, 500, seed=3)
        text = para.read_bytes()
        para.unlink()
        copies = max(1, N_TOKENS // 2_000)
        repetitive.write_bytes(text * copies)
    return {"short-lines": short, "one-line": long_line, "repetitive": repetitive}


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_corpora(tmp_path_factory.mktemp("memory-corpora"))


@pytest.mark.parametrize("limit", LIMITS, ids=lambda v: f"limit={v}")
@pytest.mark.parametrize("shape", ["short-lines", "one-line", "repetitive"])
def test_peak_rss_of_pretrain(benchmark, corpora, shape, limit):
    benchmark.group = f"pretrain peak RSS: {shape}"
    result: dict[str, float] = {}

    def run() -> None:
        result.update(peak_of(sys.executable, corpora[shape], limit))

    benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(result, corpus=shape, memory_limit=str(limit),
                                corpus_mb=corpora[shape].stat().st_size / 1e6)
    assert result["nnz"] > 0


if __name__ == "__main__":
    # Old against new in one run, alternating: python benchmarks/test_bench_memory.py DIR PYTHON...
    out_dir, pythons = Path(sys.argv[1]), sys.argv[2:]
    out_dir.mkdir(parents=True, exist_ok=True)
    files = make_corpora(out_dir)
    for shape, path in files.items():
        for limit in LIMITS:
            row = [f"{peak_of(py, path, limit)['peak_mb']:.0f}" for py in pythons]
            print(shape, f"{path.stat().st_size / 1e6:.0f}MB", limit, *row, flush=True)
