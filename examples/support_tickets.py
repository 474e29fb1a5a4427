"""Pretrain on general text, adapt to a domain, fine-tune on a few labelled tickets: does it help?

The whole scenario on synthetic, seeded data (the same numbers on every run):

1. a *general* corpus of everyday sentences, where a few support words appear in their everyday sense
   ("the car battery", "a birthday card");
2. a *domain* corpus of support conversations, where the words of one problem co-occur ("the battery
   drains", "the charger overheats") and synonyms meet only here;
3. a small labelled set of tickets in four classes (battery, login, billing, shipping), each ticket
   naming its problem with a few of its class's words among filler words.

Four word-vector models share one vocabulary treatment (PPMI + SVD): random vectors (no pretraining),
general-only, general then adapted with ``Embeddings.update(domain)``, and domain-only. Each feeds two
classifiers: :class:`cooc.NearestCentroid` and scikit-learn's ``LogisticRegression`` on
:class:`cooc.DocumentVectorizer`. Accuracy is cross-validated (repeated stratified k-fold) and shown with
a 95% interval over the repeats. The numbers are whatever they are: read them, do not assume them.

Run:  python examples/support_tickets.py [--small] [--json]
Needs scikit-learn (``pip install cooc[sklearn]``).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from typing import Any

import numpy as np

import cooc
from cooc.evaluate import mean_ci
from cooc.finetune import NearestCentroid
from cooc.vectorize import DocumentVectorizer

CLASSES: dict[str, list[str]] = {
    "battery": ["battery", "charger", "charging", "drains", "overheats", "power", "cable", "dies", "percent",
                "swollen", "adapter", "outlet", "hot", "plugged", "unplugged", "shutdown"],
    "login": ["login", "password", "signin", "locked", "verification", "code", "username", "reset",
              "twofactor", "authenticator", "credentials", "lockout", "email", "link", "expired", "logout"],
    "billing": ["refund", "invoice", "charged", "payment", "reimbursement", "card", "subscription",
                "cancel", "receipt", "overcharged", "billing", "renewal", "debit", "price", "discount", "plan"],
    "shipping": ["package", "delivery", "courier", "tracking", "parcel", "arrived", "late", "address",
                 "shipped", "warehouse", "lost", "damaged", "box", "dispatch", "doorstep", "carrier"],
}

# Everyday words, and support words in an everyday sense: the general corpus knows these words, but
# not what they mean in a support ticket.
EVERYDAY = ["morning", "coffee", "garden", "weekend", "friends", "dinner", "river", "music", "school",
            "teacher", "holiday", "city", "train", "market", "bread", "rain", "summer", "walk", "park",
            "book", "film", "family", "kitchen", "window", "street", "evening", "neighbour", "dog", "cat",
            "bicycle", "lunch", "museum", "beach", "mountain", "village", "festival", "letter", "song"]
EVERYDAY_SENSES = {
    "battery": ["car", "flashlight", "radio"], "card": ["birthday", "greeting", "postcard"],
    "power": ["station", "cut", "storm"], "code": ["dress", "school", "rules"],
    "box": ["gift", "cardboard", "toys"], "plan": ["holiday", "weekend", "trip"],
    "price": ["market", "bread", "apples"], "address": ["speech", "crowd", "mayor"],
    "link": ["chain", "bridge", "history"], "hot": ["summer", "coffee", "soup"],
    "late": ["train", "bus", "evening"],
}
FILLER = ["my", "the", "is", "it", "please", "help", "since", "yesterday", "today", "again", "still",
          "cannot", "problem", "issue", "phone", "app", "order", "thanks", "urgent", "need", "why", "not"]


def general_corpus(n: int, rng: random.Random) -> list[str]:
    """Everyday sentences; a fifth of them use a support word in its everyday sense."""
    out = []
    for _ in range(n):
        words = rng.sample(EVERYDAY, 5)
        if rng.random() < 0.2:
            word, senses = rng.choice(sorted(EVERYDAY_SENSES.items()))
            words[rng.randrange(5)] = word
            words.insert(rng.randrange(6), rng.choice(senses))
        out.append(" ".join(words))
    return out


def domain_corpus(n: int, rng: random.Random) -> list[str]:
    """Support conversations: the words of one problem meet in a sentence, with filler and a little
    noise from another class."""
    names = sorted(CLASSES)
    out = []
    for _ in range(n):
        cls = rng.choice(names)
        words = rng.sample(CLASSES[cls], 3) + rng.sample(FILLER, 3)
        if rng.random() < 0.1:
            words.append(rng.choice(CLASSES[rng.choice(names)]))
        rng.shuffle(words)
        out.append(" ".join(words))
    return out


def tickets(n: int, rng: random.Random) -> tuple[list[str], list[str]]:
    """Labelled tickets: two words of the class, one in five also a word of another class, filler."""
    names = sorted(CLASSES)
    texts, labels = [], []
    for i in range(n):
        cls = names[i % len(names)]
        words = rng.sample(CLASSES[cls], 2) + rng.sample(FILLER, 4)
        if rng.random() < 0.2:
            words.append(rng.choice(CLASSES[rng.choice([c for c in names if c != cls])]))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(cls)
    return texts, labels


def build_models(general: list[str], domain: list[str], dim: int, seed: int) -> dict[str, cooc.Embeddings]:
    """The four representations; ``general+domain`` is the general model updated with the domain text."""
    params: dict[str, Any] = {"window": 3, "weighting": "ppmi", "dim": dim, "seed": seed, "stopwords": None}
    base = cooc.pretrain(general, **params)
    if hasattr(base, "update"):
        adapted = base.update(domain)
    else:  # a cooc without Embeddings.update: the same model, counted from both texts at once
        print("note: this cooc has no Embeddings.update; general+domain is pretrained on both texts at once",
              file=sys.stderr)
        adapted = cooc.pretrain(general + domain, **params)
    domain_only = cooc.pretrain(domain, **params)
    return {
        "random vectors": cooc.random_embeddings(adapted, dim=dim, seed=seed),
        "general only": base,
        "general + domain (update)": adapted,
        "domain only": domain_only,
    }


def cross_validate(make: Any, texts: list[str], labels: list[str], folds: int, repeats: int) -> dict[str, Any]:
    """Accuracy over all held-out folds of each repeat of stratified k-fold; mean and 95% interval."""
    from sklearn.model_selection import StratifiedKFold

    x = np.asarray(texts, dtype=object)
    y = np.asarray(labels)
    runs = []
    for r in range(repeats):
        correct = 0
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=r).split(x, y):
            clf = make().fit(list(x[train]), y[train])
            correct += int(np.sum(clf.predict(list(x[test])) == y[test]))
        runs.append(correct / y.size)
    mean, half = mean_ci(runs)
    return {"mean": mean, "ci95": half, "runs": runs}


def run(small: bool = False, seed: int = 0) -> dict[str, dict[str, dict[str, Any]]]:
    """The whole scenario; returns ``{model: {classifier: {"mean", "ci95", "runs"}}}``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    sizes = (300, 200, 60, 3, 2, 16) if small else (4000, 2000, 200, 5, 5, 32)
    n_general, n_domain, n_tickets, folds, repeats, dim = sizes
    rng = random.Random(seed)
    general = general_corpus(n_general, rng)
    domain = domain_corpus(n_domain, rng)
    texts, labels = tickets(n_tickets, rng)
    models = build_models(general, domain, dim, seed)
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for name, emb in models.items():
        results[name] = {
            "nearest centroid": cross_validate(lambda emb=emb: NearestCentroid(emb), texts, labels,
                                               folds, repeats),
            "logistic regression": cross_validate(
                lambda emb=emb: make_pipeline(DocumentVectorizer(emb), LogisticRegression(max_iter=1000)),
                texts, labels, folds, repeats),
        }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="a small, fast run (for tests)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the results as a JSON document")
    args = parser.parse_args(argv)
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("support_tickets.py needs scikit-learn: pip install cooc[sklearn]", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    results = run(small=args.small, seed=args.seed)
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
        return 0
    print(f"{'vectors':<28}{'nearest centroid':>20}{'logistic regression':>24}")
    for name, row in results.items():
        cells = [f"{100 * r['mean']:5.1f}% +- {100 * r['ci95']:4.1f}" for r in row.values()]
        print(f"{name:<28}{cells[0]:>20}{cells[1]:>24}")
    print(f"(cross-validated accuracy, 95% interval over repeats; {time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
