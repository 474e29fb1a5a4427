"""The issue-5 table, measured with cooc on gensim's real test data (pip install 'cooc[eval]').

Corpus: gensim's Lee news corpus + the paragraphs of its English Wikipedia excerpt (window 3,
min_count 5). Word similarity: WordSim353 (Spearman). Classification: Pang & Lee polarity, 200
sentences (cp1252), 10-fold cross-validation repeated with 10 seeds, mean accuracy +- 95% interval.

    python examples/real_data.py [--seeds 10] [--folds 10]
"""

from __future__ import annotations

import argparse
import time

import cooc
from cooc.evaluate import (
    build_representations, compare_classifiers, gensim_test_data, read_labelled, real_corpus,
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--seeds", type=int, default=10)
    args = ap.parse_args()

    t0 = time.perf_counter()
    lines = real_corpus()
    models = build_representations(lines, window=3, min_count=5, dim=300)
    count = models["count"]
    print(f"corpus: {len(lines)} lines, {int(count.frequencies.sum()):,} tokens kept, V = {len(count):,} "
          f"(window 3, min_count 5); backend {cooc.BACKEND}; built in {time.perf_counter() - t0:.1f} s")

    pairs = gensim_test_data("wordsim353.tsv")
    texts, labels = read_labelled(gensim_test_data("pang_lee_polarity.cor"), encoding="cp1252")
    res = compare_classifiers(models, texts, labels, folds=args.folds, seeds=args.seeds)

    names = {"count": "raw counts, L2 rows (the reference)", "ppmi": "PPMI, cds 0.75",
             "ppmi+svd": "PPMI -> SVD 300, p = 0.5", "random": "random vectors"}
    print()
    print(f"| representation | WordSim353 Spearman (OOV %) | nearest centroid, {args.folds}-fold CV x {args.seeds} "
          f"seeds | linear probe |")
    print("|---|---|---|---|")
    for key, label in names.items():
        (_, _), (rho, _), oov = models[key].evaluate_word_pairs(pairs)
        c = res[f"{key} + centroid"]
        p = res[f"{key} + probe"]
        print(f"| {label} | {rho:.3f} ({oov:.0f}%) | {100 * c['mean']:.1f} % +- {100 * c['ci95']:.1f} | "
              f"{100 * p['mean']:.1f} % +- {100 * p['ci95']:.1f} |")
    ft = res["fine-tuned (ppmi+svd)"]
    tf = res["tf-idf + centroid (no pretraining)"]
    print(f"| PPMI-SVD, fine-tuned (softmax + word vectors) | - | - | {100 * ft['mean']:.1f} % +- "
          f"{100 * ft['ci95']:.1f} |")
    print(f"| TF-IDF, no pretraining | - | {100 * tf['mean']:.1f} % +- {100 * tf['ci95']:.1f} | - |")
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
