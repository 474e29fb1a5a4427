"""Charts of the demo, ``cooc bench --plot`` and ``cooc evaluate classify --plot``, drawn with matplotlib
(the optional extra ``cooc[plot]``). The numbers each chart shows are computed by plain functions
(:func:`percent_interval`, :func:`clipped_interval`) that need no matplotlib."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .analyze import GroupSimilarity

__all__ = ["DPI", "MatplotlibMissing", "accuracy_chart", "clipped_interval", "interval_bars",
           "percent_interval", "similarity_chart"]

#: Resolution of every saved chart, dots per inch.
DPI = 150


class MatplotlibMissing(ImportError):
    """Raised when a chart is asked for and matplotlib is not installed."""


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MatplotlibMissing(
            "charts need matplotlib: pip install 'cooc[plot]'"
        ) from None
    return plt


def _save(fig: Any, plt: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def clipped_interval(mean: float, half: float, low: float = 0.0, high: float = 100.0) -> tuple[float, float]:
    """``mean - half`` and ``mean + half`` clipped to ``[low, high]`` (an accuracy is within 0-100 %)."""
    return max(low, mean - half), min(high, mean + half)


def percent_interval(runs: Sequence[float]) -> tuple[float, float, float]:
    """Mean and the 2.5 and 97.5 percentiles of accuracies in [0, 1], in percent, within [0, 100]."""
    v = 100.0 * np.asarray(runs, dtype=np.float64)
    if v.size == 0:
        raise ValueError("runs must not be empty")
    lo, hi = np.percentile(v, [2.5, 97.5])
    return float(v.mean()), max(0.0, float(lo)), min(100.0, float(hi))


def interval_bars(ax: Any, names: Sequence[str], means: Sequence[float], lows: Sequence[float],
                  highs: Sequence[float], colors: Sequence[str], *, horizontal: bool = False) -> None:
    """Bars at ``means`` with whiskers from ``lows`` to ``highs`` (percent), each value written at the
    bar's base inside the bar, so that no label meets the frame or a whisker."""
    m = np.asarray(means, dtype=np.float64)
    err = np.vstack([m - np.asarray(lows, dtype=np.float64), np.asarray(highs, dtype=np.float64) - m])
    pos = np.arange(len(names))
    if horizontal:
        ax.barh(pos, m, xerr=err, color=colors, capsize=4, ecolor="#111827")
        ax.set_yticks(pos, names)
        ax.invert_yaxis()
        for i, v in enumerate(m):
            ax.text(1, i, f"{v:.1f}%", va="center", ha="left", fontsize=8, color="white", fontweight="bold")
    else:
        ax.bar(pos, m, yerr=err, color=colors, capsize=6, ecolor="#111827", width=0.6)
        ax.set_xticks(pos, names)
        for i, v in enumerate(m):
            ax.text(i, 3, f"{v:.0f}%", ha="center", va="bottom", fontsize=11, color="white", fontweight="bold")


def accuracy_chart(runs: Mapping[str, Sequence[float]], path: str | Path, *, chance: float = 50.0,
                   title: str = "Held-out accuracy", subtitle: str = "") -> Path:
    """Mean held-out accuracy per approach with a 95 % interval over the runs and the chance level.

    ``runs`` maps an approach to its accuracies (in [0, 1]) over repeated draws of training and test
    sets; returns the PNG's path.
    """
    plt = _pyplot()
    names = list(runs)
    stats = [percent_interval(runs[n]) for n in names]
    palette = ["#9ca3af", "#2563eb", "#10b981", "#f59e0b"]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    interval_bars(ax, names, [s[0] for s in stats], [s[1] for s in stats], [s[2] for s in stats],
                  [palette[i % len(palette)] for i in range(len(names))])
    ax.axhline(chance, color="#dc2626", linestyle="--", linewidth=1.2)
    ax.text((len(names) - 1) / 2, chance + 1.5, f"chance {chance:.0f}%", color="#dc2626", ha="center",
            va="bottom", fontsize=9)
    ax.set_ylim(0, 105)
    ax.set_ylabel("accuracy on held-out sentences (%)")
    ax.set_title(title + (f"\n{subtitle}" if subtitle else ""), fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    return _save(fig, plt, Path(path))


def similarity_chart(result: GroupSimilarity, path: str | Path,
                     baseline: Sequence[GroupSimilarity] = ()) -> Path:
    """Mean cosine similarity within each group and between groups, pretrained beside random vectors.

    ``baseline`` holds the same analysis on random vectors (several seeds): drawn as grey bars at their
    mean with whiskers over their range. Returns the PNG's path.
    """
    plt = _pyplot()
    labels = [f"within\n{g}" for g in result.within] + [f"between\n{a} / {b}" for a, b in result.between]
    values = list(result.within.values()) + list(result.between.values())
    fig, ax = plt.subplots(figsize=(7.2, 4.2))
    pos = np.arange(len(labels))
    width = 0.38 if baseline else 0.6
    colors = ["#10b981"] * len(result.within) + ["#f59e0b"] * len(result.between)
    ax.bar(pos - (width / 2 if baseline else 0), values, width, color=colors, label="pretrained")
    if baseline:
        rows = np.array([list(b.within.values()) + list(b.between.values()) for b in baseline])
        mean = rows.mean(axis=0)
        err = np.vstack([mean - rows.min(axis=0), rows.max(axis=0) - mean])
        ax.bar(pos + width / 2, mean, width, yerr=err, color="#9ca3af", capsize=4,
               label=f"random vectors ({len(baseline)} seeds: mean, range)")
    top = max([*values, *(rows.max() for _ in [0] if baseline)] + [0.05])
    for i, v in enumerate(values):
        ax.text(pos[i] - (width / 2 if baseline else 0), v + 0.01 * top, f"{v:.3f}", ha="center",
                va="bottom", fontsize=9)
    ax.axhline(0, color="#111827", linewidth=0.8)
    ax.set_ylim(min(0.0, float(np.min(values)) * 1.2, *([float(rows.min()) * 1.2] if baseline else [])), top * 1.25)
    ax.set_xticks(pos, labels)
    ax.set_ylabel("mean cosine similarity")
    ax.set_title("Within-group vs between-group similarity of word vectors", fontsize=11)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    return _save(fig, plt, Path(path))
