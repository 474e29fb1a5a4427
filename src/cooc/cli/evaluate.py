"""``cooc evaluate similarity`` and ``cooc evaluate classify``."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from .. import charts
from ..corpus import LineCorpus
from ..embeddings import load
from ..evaluate import build_representations, compare_classifiers, read_labelled
from ._common import Progress, positive_int

__all__ = ["add_parser"]


def _cmd_similarity(args: argparse.Namespace) -> int:
    emb = load(args.model)
    rows = []
    for path in args.pairs:
        (pr, pp), (sr, sp), oov = emb.evaluate_word_pairs(path, encoding=args.encoding)
        if args.json:
            rows.append({"file": path, "pearson": _finite(pr), "pearson_pvalue": _finite(pp),
                         "spearman": _finite(sr), "spearman_pvalue": _finite(sp), "oov_percent": _finite(oov)})
        else:
            print(f"{path}\tpearson {pr:.4f}\tspearman {sr:.4f}\toov {oov:.1f}%")
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
    return 0


def _finite(x: float) -> float | None:
    """A float for JSON: None for NaN or an infinity (e.g. a correlation of too few pairs)."""
    value = float(x)
    return value if math.isfinite(value) else None


def _cmd_classify(args: argparse.Namespace) -> int:
    texts, labels = read_labelled(args.labelled, encoding=args.encoding)
    corpus = LineCorpus(args.corpus, encoding=args.corpus_encoding)
    progress = Progress(quiet=args.quiet, command="evaluate classify", desc="")
    with progress.stages_from_log():
        progress.stage("counting and weighting the corpus")
        models = build_representations(corpus, window=args.window, min_count=args.min_count, dim=args.dim)
    if not args.quiet:
        print(f"corpus: V={len(models['count'])}; labelled: {len(texts)} texts, "
              f"{len(set(labels))} classes; {args.folds}-fold CV x {args.seeds} seeds", file=sys.stderr)
    progress.stage("cross-validation")
    try:
        res = compare_classifiers(models, texts, labels, folds=args.folds, seeds=args.seeds,
                                  finetune=not args.no_finetune, progress=progress.note)
    finally:
        progress.close()
    width = max(len(n) for n in res)
    for name, r in res.items():
        print(f"{name:<{width}}  {100 * r['mean']:5.1f}% +- {100 * r['ci95']:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    if args.plot:
        _bar_chart(res, args.plot, chance=100 / len(set(labels)))
    return 0


def _bar_chart(res: dict[str, dict[str, Any]], out: str, chance: float | None = None) -> None:
    names = list(res)
    means = [100 * res[n]["mean"] for n in names]
    bounds = [charts.clipped_interval(m, 100 * res[n]["ci95"]) for m, n in zip(means, names)]
    plt = charts._pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(res) + 1.6))
    colors = ["#9ca3af" if n.startswith("random") else "#f59e0b" if n.startswith("tf-idf") else "#2563eb"
              for n in names]
    charts.interval_bars(ax, names, means, [b[0] for b in bounds], [b[1] for b in bounds], colors,
                         horizontal=True)
    runs = len(next(iter(res.values()))["runs"]) if res else 0
    ax.set_xlim(0, 100)
    if chance is not None:
        ax.axvline(chance, color="#dc2626", linestyle="--", linewidth=1.2)
    ax.set_xlabel(f"accuracy (%), mean and 95% interval over {runs} cross-validation seeds"
                  + ("" if chance is None else f"; dashed: chance {chance:.0f}%"))
    ax.set_title("Classification accuracy on held-out folds", fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    charts._save(fig, plt, Path(out))


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``cooc evaluate similarity`` and ``cooc evaluate classify``."""
    p: argparse.ArgumentParser = subparsers.add_parser("evaluate", help="word-similarity and classification evaluation")
    sub = p.add_subparsers(dest="evaluate_command", metavar="WHAT")
    sub.required = True
    s = sub.add_parser("similarity", help="Pearson / Spearman / OOV of a model on word-pair files")
    s.add_argument("model", metavar="MODEL.npz", help="a model file written by cooc pretrain")
    s.add_argument("pairs", nargs="+", metavar="PAIRS", help="WordSim353 / SimLex-999 style files")
    s.add_argument("--encoding", default=None, help="encoding of the pair files (default utf-8)")
    s.add_argument("--json", action="store_true",
                   help="a JSON document on stdout: one {file, pearson, spearman, oov_percent, ...} per file")
    s.set_defaults(func=_cmd_similarity)
    c = sub.add_parser("classify", help="cross-validated accuracy: random vs pretrained vs fine-tuned vs TF-IDF")
    c.add_argument("--corpus", required=True, nargs="+", metavar="C", help="unlabelled text, one sentence per line")
    c.add_argument("--labelled", required=True, metavar="L", help="fastText '__label__x text' or 'label<TAB>text'")
    c.add_argument("--folds", type=positive_int, default=10, help="cross-validation folds (default 10)")
    c.add_argument("--seeds", type=positive_int, default=10,
                   help="repetitions with other random folds and vectors (default 10)")
    c.add_argument("--window", type=positive_int, default=3, help="co-occurrence window (default 3)")
    c.add_argument("--min-count", type=positive_int, default=5,
                   help="words seen fewer times are dropped before counting (default 5)")
    c.add_argument("--dim", type=positive_int, default=300, help="dimensions of the SVD vectors (default 300)")
    c.add_argument("--encoding", default=None, help="encoding of the labelled file (default utf-8)")
    c.add_argument("--corpus-encoding", default="utf-8", help="text encoding of --corpus (default utf-8)")
    c.add_argument("--no-finetune", action="store_true", help="skip the (slower) fine-tuned classifier")
    c.add_argument("--json", default=None, metavar="OUT", help="also write every score to this JSON file")
    c.add_argument("--plot", default=None, metavar="OUT.png",
                   help="a chart of the accuracies with their intervals (needs cooc[plot])")
    c.add_argument("-q", "--quiet", action="store_true",
                   help="no progress (shown only on a terminal) and no summary line on stderr")
    c.set_defaults(func=_cmd_classify)
    return p
