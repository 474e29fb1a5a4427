"""The reference walk-through, "Pretraining vs Fine-Tuning", on cooc's public API.

:func:`run` prints, byte for byte, what the reference script prints (its charts left out unless a
directory is given for them). The corpus and labelled sentences are the reference's, shipped as data in
``cooc/data/demo.json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from .analyze import analyze
from .classify import classify
from .embeddings import Embeddings
from .pretrain import pretrain, random_embeddings

__all__ = ["heldout_runs", "load_demo_data", "run"]

RULE = "=" * 65


def load_demo_data() -> dict[str, Any]:
    """The reference's corpus, labelled sentences, test sentences and word groups."""
    text = resources.files("cooc").joinpath("data/demo.json").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


#: Draws of training sentences behind the accuracy chart, and random seeds behind the similarity chart.
CHART_DRAWS = 200
CHART_SEEDS = 20


def heldout_runs(emb: Embeddings, pool: list[tuple[str, str]], draws: int = CHART_DRAWS,
                 seed: int = 0) -> dict[str, list[float]]:
    """Accuracy of the reference's classifier with random and with pretrained vectors, each draw
    training on one sentence per class of ``pool`` and testing on all the others.

    The walk-through's own test sentences repeat its labelled sentences' words, so both approaches score
    100 % there; one training sentence per class leaves most sentiment words unseen, which is where
    pretraining shows. Random vectors are drawn anew (seed = draw) for each draw.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, (_, label) in enumerate(pool):
        by_label.setdefault(label, []).append(i)
    runs: dict[str, list[float]] = {"random": [], "pretrained": []}
    for d in range(draws):
        chosen = {int(rng.choice(idx)) for idx in by_label.values()}
        train = [pool[i] for i in sorted(chosen)]
        held = [pool[i] for i in range(len(pool)) if i not in chosen]
        for name, vec in (("random", random_embeddings(emb, seed=d, method="reference")), ("pretrained", emb)):
            correct = sum(classify(train, vec, text)[0] == truth for text, truth in held)
            runs[name].append(correct / len(held))
    return runs


def _evaluate(
    say: Callable[[str], None],
    name: str,
    emb: Embeddings,
    train: list[tuple[str, str]],
    cases: list[tuple[str, str]],
    detailed: bool,
) -> float:
    say(f"--- {name} ---")
    correct = 0
    for text, truth in cases:
        pred, pos, neg = classify(train, emb, text)
        correct += pred == truth
        mark = "OK" if pred == truth else "WRONG"
        if detailed:
            say(f"  [{mark:>5s}] pred={pred:>8s} true={truth:>8s}  pos={pos:+.3f} neg={neg:+.3f}  {text[:45]}...")
        else:
            say(f"  [{mark:>5s}] pred={pred:>8s}  {text[:50]}...")
    accuracy = correct / len(cases) * 100
    say(f"  Accuracy: {correct}/{len(cases)} = {accuracy:.0f}%\n")
    return accuracy


def run(out: TextIO, charts_dir: str | Path | None = None) -> dict[str, Any]:
    """Print the walk-through to ``out``; with ``charts_dir``, also save its two bar charts there.

    Returns the figures shown (accuracies and group similarities), for callers that want them.
    """
    def say(line: str = "") -> None:
        out.write(line + "\n")

    data = load_demo_data()
    corpus: list[str] = data["corpus"]
    train = [tuple(x) for x in data["labelled"]]
    test = [tuple(x) for x in data["test"]]
    transfer = [tuple(x) for x in data["transfer"]]

    say(RULE)
    say("STAGE 1: PRETRAINING ON GENERAL CORPUS")
    say(RULE)
    say(f"\nGeneral corpus: {len(corpus)} sentences")
    say("Topics: science, daily life, nature, general patterns")
    emb = pretrain(corpus, window=3)
    say(f"Vocabulary size: {len(emb)} words")
    say(f"Representation dimension: {emb.vector_size} (co-occurrence features)")

    say("\n--- Pretrained Nearest Neighbors ---")
    say("(Words that appear in similar contexts cluster together)\n")
    for word in data["probe_words"]:
        neighbours = emb.most_similar(word, topn=4) if word in emb else []
        say(f'  "{word}" --> ' + ", ".join(f"{w} ({s:.3f})" for w, s in neighbours))
    say()
    say("  Notice: positive words cluster with positive words,")
    say("  negative words cluster with negative words.")
    say("  The model learned this from co-occurrence, not from labels.")

    say()
    say(RULE)
    say("STAGE 2: FINE-TUNING FOR SENTIMENT CLASSIFICATION")
    say(RULE)
    say(f"\nLabeled sentiment data: {len(train)} examples")
    for text, label in train:
        say(f"  [{label:>8s}] {text}")

    say()
    say(RULE)
    say("COMPARISON: RANDOM vs PRETRAINED vs FINE-TUNED")
    say(RULE)
    baseline = random_embeddings(emb, seed=42, method="reference")
    approaches = [("Random features", baseline), ("Pretrained features", emb)]
    say(f"\nTest sentences: {len(test)} (unseen during training)")
    say()
    accuracies = {name: _evaluate(say, name, vec, train, test, True) for name, vec in approaches}
    if charts_dir is not None:
        from .charts import accuracy_chart

        pool = train + test + transfer
        runs = heldout_runs(emb, pool)
        path = accuracy_chart(
            runs, Path(charts_dir) / "random_vs_pretrained_accuracy.png",
            title="Sentiment on held-out sentences: random vs pretrained vectors",
            subtitle=f"1 labelled sentence per class, {len(pool) - 2} held out; "
                     f"{CHART_DRAWS} draws, 95% interval",
        )
        say(f"  [Saved chart: {path}]")

    say(RULE)
    say("TRANSFER LEARNING: NEW DOMAIN, NO NEW TRAINING")
    say(RULE)
    say("\nDomain: Product reviews (never seen during pretraining)")
    say("Using sentiment model trained on movie review data.\n")
    transfer_acc = {name: _evaluate(say, name, vec, train, transfer, False) for name, vec in approaches}
    say("The pretrained representations transfer across domains because")
    say('they encode general language patterns ("excellent" is positive,')
    say('"terrible" is negative) -- not domain-specific rules.')
    say()
    say("This is the core insight of the pretrain-then-fine-tune paradigm:")
    say("learn language structure once, apply it to many tasks.")

    say()
    say(RULE)
    say("WHAT PRETRAINING CAPTURES (REPRESENTATION ANALYSIS)")
    say(RULE)
    say("\nWithin-group vs between-group similarity:")
    say("(Higher within-group = better representation)\n")
    groups: dict[str, list[str]] = data["word_groups"]
    result = analyze(emb, groups)
    for name, value in result.within.items():
        say(f"  {name:>8s} words avg similarity: {value:.4f}")
        say(f"           words: {', '.join(result.present[name])}")
    for (g1, g2), cross in result.between.items():
        say(f"\n  {g1} vs {g2} avg similarity: {cross:.4f}")
    say()
    say("  Within-group similarity > between-group similarity")
    say("  --> Pretraining learned that positive words behave alike")
    say("      and negative words behave alike, purely from")
    say("      co-occurrence patterns. No labels were used.")
    if charts_dir is not None:
        from .charts import similarity_chart

        baseline_runs = [analyze(random_embeddings(emb, seed=s, method="reference"), groups)
                         for s in range(CHART_SEEDS)]
        path = similarity_chart(result, Path(charts_dir) / "within_vs_between_similarity.png",
                                baseline=baseline_runs)
        say(f"  [Saved chart: {path}]")

    say()
    say("Modern NLP stands on decades of classical foundations.")
    say("Pretraining vs fine-tuning is an engineering strategy,")
    say("not magic -- it reuses expensive computation efficiently.")
    return {"accuracy": accuracies, "transfer_accuracy": transfer_acc, "similarity": result}
