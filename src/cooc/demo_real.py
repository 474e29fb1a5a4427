"""The walk-through on the user's own data: ``cooc demo --corpus PATH --labelled PATH``.

Same three stages as :mod:`cooc.demo` (pretrain, classify, compare with random vectors), but on a real
corpus and labelled file, with held-out evaluation (repeated stratified k-fold) instead of six fixed
sentences, and a plain statement when pretrained vectors do not beat random ones beyond the noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from .corpus import LineCorpus
from .demo import RULE
from .evaluate import build_representations, compare_classifiers, read_labelled

__all__ = ["run_real"]


def run_real(
    out: TextIO,
    corpus: str | Path | Sequence[str | Path],
    labelled: str | Path,
    *,
    window: int = 3,
    min_count: int = 5,
    dim: int = 300,
    folds: int = 10,
    seeds: int = 10,
    encoding: str | None = None,
    corpus_encoding: str = "utf-8",
    probe_words: Sequence[str] = (),
) -> dict[str, Any]:
    """Pretrain on ``corpus``, evaluate on ``labelled`` (held out), print the walk-through to ``out``.

    Returns ``{"results": {name: {"mean", "ci95", "runs"}}, "verdict": str}``.
    """
    def say(line: str = "") -> None:
        out.write(line + "\n")

    paths = [corpus] if isinstance(corpus, (str, Path)) else list(corpus)
    texts, labels = read_labelled(labelled, encoding=encoding)
    say(RULE)
    say("STAGE 1: PRETRAINING ON YOUR CORPUS")
    say(RULE)
    models = build_representations(
        LineCorpus(paths, encoding=corpus_encoding), window=window, min_count=min_count, dim=dim
    )
    count = models["count"]
    tokens = int(count.frequencies.sum()) if count.frequencies is not None else 0
    say(f"\nCorpus: {', '.join(map(str, paths))}: {tokens:,} tokens kept, vocabulary {len(count):,} words "
        f"(window {window}, min_count {min_count})")
    words = list(probe_words)
    if not words and count.frequencies is not None:
        order = sorted(range(len(count)), key=lambda i: -int(count.frequencies[i]))  # type: ignore[index]
        words = [count.index_to_key[i] for i in order[:5]]
    say("\n--- Nearest neighbours (PPMI + SVD) ---")
    for w in words:
        if w in models["ppmi+svd"]:
            nb = models["ppmi+svd"].most_similar(w, topn=4)
            say(f'  "{w}" --> ' + ", ".join(f"{x} ({s:.3f})" for x, s in nb))
        else:
            say(f'  "{w}" is not in the vocabulary')

    say()
    say(RULE)
    say("STAGE 2: CLASSIFICATION, HELD OUT")
    say(RULE)
    classes = sorted(set(labels))
    say(f"\nLabelled data: {labelled}: {len(texts)} texts, classes {', '.join(classes)}")
    say(f"Evaluation: {folds}-fold cross-validation, repeated with {seeds} seeds; mean accuracy and 95% interval\n")
    results = compare_classifiers(models, texts, labels, folds=folds, seeds=seeds)
    width = max(len(n) for n in results)
    for name, r in results.items():
        say(f"  {name:<{width}}  {100 * r['mean']:5.1f}% +- {100 * r['ci95']:.1f}")

    say()
    say(RULE)
    say("VERDICT")
    say(RULE)
    rnd = results["random + centroid"]
    best_name = max((n for n in results if not n.startswith("random")), key=lambda n: results[n]["mean"])
    best = results[best_name]
    gap = best["mean"] - rnd["mean"]
    noise = best["ci95"] + rnd["ci95"]
    if gap > noise:
        verdict = (f"Pretraining helps here: {best_name} beats random vectors by {100 * gap:.1f} points, "
                   f"more than the noise ({100 * noise:.1f}).")
    else:
        verdict = (f"Pretrained vectors do NOT beat random vectors beyond the noise on this data: the best, "
                   f"{best_name}, is {100 * gap:+.1f} points from random, within the 95% intervals "
                   f"({100 * noise:.1f}). More unlabelled text, or a task closer to the corpus, may change "
                   f"that.")
    say("\n" + verdict)
    tfidf = results.get("tf-idf + centroid (no pretraining)")
    if tfidf is not None and tfidf["mean"] >= best["mean"]:
        say("TF-IDF with no pretraining at all does as well or better.")
    return {"results": results, "verdict": verdict}
