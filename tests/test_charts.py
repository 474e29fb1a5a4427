"""Charts: the numbers they show (no matplotlib needed) and the files they write (150 dpi and more)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from cooc import charts
from cooc.demo import heldout_runs, load_demo_data
from cooc.pretrain import pretrain


def png_dpi(path: Path) -> float:
    """Horizontal resolution from the PNG's pHYs chunk (pixels per metre), in dots per inch."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    i = 8
    while i < len(data):
        (length,) = struct.unpack(">I", data[i:i + 4])
        kind = data[i + 4:i + 8]
        if kind == b"pHYs":
            ppm_x, _, unit = struct.unpack(">IIB", data[i + 8:i + 17])
            assert unit == 1
            return ppm_x * 0.0254
        i += 12 + length
    raise AssertionError(f"{path}: no pHYs chunk")


def test_clipped_interval() -> None:
    assert charts.clipped_interval(96.0, 8.0) == (88.0, 100.0)
    assert charts.clipped_interval(3.0, 5.0) == (0.0, 8.0)
    assert charts.clipped_interval(50.0, 0.0) == (50.0, 50.0)


def test_percent_interval() -> None:
    mean, lo, hi = charts.percent_interval([1.0] * 9 + [0.5])
    assert mean == pytest.approx(95.0) and 0 <= lo < mean <= hi == 100.0
    assert charts.percent_interval([0.25, 0.25]) == (25.0, 25.0, 25.0)
    with pytest.raises(ValueError, match="runs"):
        charts.percent_interval([])


def test_heldout_runs_are_held_out() -> None:
    data = load_demo_data()
    emb = pretrain(data["corpus"], window=3)
    pool = [tuple(x) for x in data["labelled"] + data["test"] + data["transfer"]]
    runs = heldout_runs(emb, pool, draws=20)
    assert set(runs) == {"random", "pretrained"} and all(len(r) == 20 for r in runs.values())
    # the accuracy is over the held-out sentences only: multiples of 1/16
    assert all(abs(a * (len(pool) - 2) - round(a * (len(pool) - 2))) < 1e-9 for r in runs.values() for a in r)
    assert sum(runs["pretrained"]) > sum(runs["random"])   # what the chart shows
    assert min(runs["random"]) < 1.0                        # not 100 % against 100 %


def test_demo_charts_written_at_150_dpi(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    import io

    from cooc import demo

    out = io.StringIO()
    demo.run(out, charts_dir=tmp_path)
    pngs = sorted(tmp_path.glob("*.png"))
    assert [p.name for p in pngs] == ["random_vs_pretrained_accuracy.png", "within_vs_between_similarity.png"]
    for p in pngs:
        assert png_dpi(p) >= 150, p
        assert f"[Saved chart: {p}]" in out.getvalue()


def test_evaluate_chart_clips_and_writes(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from cooc.cli.evaluate import _bar_chart

    res = {"random + centroid": {"mean": 0.5, "ci95": 0.2, "runs": [0.4, 0.6]},
           "ppmi + centroid": {"mean": 0.97, "ci95": 0.08, "runs": [0.95, 0.99]}}
    out = tmp_path / "eval.png"
    _bar_chart(res, str(out), chance=50.0)
    assert png_dpi(out) >= 150


def test_bench_plot_dpi(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from cooc.bench.harness import plot

    doc = {"machine": {"cpu": "test", "python": "3"},
           "measurements": [{"stage": "count", "backend": b, "status": "ok", "n_tokens": n, "median": t * n}
                            for b, t in (("cython", 1e-7), ("python", 3e-6)) for n in (10_000, 100_000)]}
    out = plot(doc, tmp_path / "bench.png")
    assert png_dpi(out) >= 150
