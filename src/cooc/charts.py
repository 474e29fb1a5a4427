"""The demo's two bar charts, drawn with matplotlib (the optional extra ``cooc[plot]``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .analyze import GroupSimilarity

__all__ = ["MatplotlibMissing", "accuracy_chart", "similarity_chart"]


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
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def accuracy_chart(accuracies: Mapping[str, float], path: str | Path) -> Path:
    """Bar chart of classification accuracy (%) per approach; returns the PNG's path."""
    plt = _pyplot()
    names = list(accuracies)
    values = [round(accuracies[n], 1) for n in names]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.bar(names, values, color=["#ef4444", "#10b981", "#3b82f6"][: len(names)])
    ax.set_ylabel("Accuracy (%)")
    ax.set_xlabel("Approach")
    ax.set_title("Sentiment Classification: Random vs Pretrained")
    ax.set_ylim(0, 110)
    for i, v in enumerate(values):
        ax.text(i, v + 2, f"{v:.0f}%", ha="center", fontsize=12, fontweight="bold")
    return _save(fig, plt, Path(path))


def similarity_chart(result: GroupSimilarity, path: str | Path) -> Path:
    """Bar chart of within-group and between-group mean cosine similarity; returns the PNG's path."""
    plt = _pyplot()
    labels = [f"{g} (within)" for g in result.within]
    values = [round(v, 4) for v in result.within.values()]
    palette = ["#10b981", "#ef4444", "#8b5cf6", "#0ea5e9"]
    colors = [palette[i % len(palette)] for i in range(len(labels))]
    for (g1, g2), v in result.between.items():
        labels.append(f"{g1[:3]} vs {g2[:3]} (between)")
        values.append(round(v, 4))
        colors.append("#f59e0b")
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar(labels, values, color=colors)
    ax.set_ylabel("Average Cosine Similarity")
    ax.set_xlabel("Group Comparison")
    ax.set_title("Within-Group vs Between-Group Similarity")
    for i, v in enumerate(values):
        ax.text(i, v + 0.01, f"{v:.3f}", ha="center", fontsize=10)
    return _save(fig, plt, Path(path))
