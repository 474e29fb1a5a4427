"""``cooc classifier train|predict|evaluate``: fit a classifier on a model and labelled texts, save it
(without the model: its path and SHA-256), then label new texts or score it on labelled ones."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..embeddings import load
from ..evaluate import read_labelled
from ..finetune import FineTunedClassifier, NearestCentroid, load_classifier, save_classifier
from ..io import read_text
from ._common import CliError, Progress, check_not_an_input, options_checked, positive_int

__all__ = ["add_parser"]

OPTIONS = {"max_epochs": "--max-epochs", "random_state": "--seed", "learning_rate": "--learning-rate"}


def _cmd_train(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if out.is_dir():
        raise CliError(f"output {out} is a directory")
    if not out.parent.is_dir():
        raise CliError(f"output directory {out.parent} does not exist")
    check_not_an_input(out, [args.model, args.labelled])
    texts, labels = read_labelled(args.labelled, format="tsv", encoding=args.encoding)
    if len(set(labels)) < 2:
        raise CliError(f"{args.labelled}: needs at least 2 classes, found {len(set(labels))}: "
                       f"{sorted(set(labels))}")
    emb = load(args.model)
    clf: Any
    if args.kind == "centroid":
        clf = NearestCentroid(emb)
    else:
        clf = FineTunedClassifier(emb, mode=args.kind, max_epochs=args.max_epochs,
                                  learning_rate=args.learning_rate, random_state=args.seed)
    progress = Progress(quiet=args.quiet, command="classifier train", desc=f"training on {len(texts)} texts")
    try:
        with options_checked(OPTIONS):
            clf.fit(texts, labels)
        progress.stage("saving")
        save_classifier(clf, out, args.model)
    finally:
        progress.close()
    train_acc = float(np.mean(clf.predict(texts) == np.asarray(labels)))
    if not args.quiet:
        print(f"cooc classifier train: {type(clf).__name__} ({args.kind}) on {len(texts)} texts, "
              f"{len(clf.classes_)} classes, training accuracy {100 * train_acc:.1f}% -> {out}",
              file=sys.stderr)
    return 0


def _texts(args: argparse.Namespace) -> list[str]:
    if bool(args.texts) == bool(args.input):
        raise CliError("give the texts as arguments or --input FILE (one text per line), not both or neither")
    if args.texts:
        return list(args.texts)
    if args.input == "-":
        lines = sys.stdin.read().splitlines()
    else:
        lines = read_text(args.input, args.encoding).splitlines()
    texts = [ln for ln in lines if ln.strip()]
    if not texts:
        raise CliError(f"--input {args.input}: no texts (one per line)")
    return texts


def _cmd_predict(args: argparse.Namespace) -> int:
    texts = _texts(args)
    clf = load_classifier(args.classifier, args.model)
    proba = clf.predict_proba(texts)
    labels = clf.classes_[np.argmax(proba, axis=1)]
    if args.json:
        doc = [{"text": t, "label": _plain(lab),
                "probabilities": {str(c): float(p) for c, p in zip(clf.classes_.tolist(), row)}}
               for t, lab, row in zip(texts, labels.tolist(), proba)]
        json.dump(doc, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        for t, lab in zip(texts, labels.tolist()):
            print(f"{lab}\t{t}")
    return 0


def _plain(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def _cmd_evaluate(args: argparse.Namespace) -> int:
    texts, labels = read_labelled(args.labelled, format="tsv", encoding=args.encoding)
    clf = load_classifier(args.classifier, args.model)
    pred = np.asarray([str(p) for p in clf.predict(texts).tolist()])
    truth = np.asarray(labels)
    correct = pred == truth
    per_class: dict[str, dict[str, Any]] = {c: {"n": int(np.sum(truth == c)), "accuracy": float(np.mean(correct[truth == c]))}
                 for c in sorted(set(labels))}
    unknown = sorted(set(labels) - {str(c) for c in clf.classes_.tolist()})
    result: dict[str, Any] = {"classifier": str(args.classifier), "labelled": str(args.labelled), "n": int(truth.size),
              "correct": int(correct.sum()), "accuracy": float(correct.mean()), "per_class": per_class,
              "unknown_labels": unknown}
    if args.json:
        json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        print(f"accuracy {100 * result['accuracy']:.2f}% ({result['correct']}/{result['n']})")
        for c, r in per_class.items():
            print(f"{c}\t{100 * r['accuracy']:.2f}%\t(n={r['n']})")
    if unknown:
        print(f"cooc classifier evaluate: warning: labels the classifier never saw: {', '.join(unknown)}",
              file=sys.stderr)
    return 0


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``cooc classifier train``, ``predict`` and ``evaluate``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "classifier", help="train a text classifier on a model, save it, predict, evaluate")
    sub = p.add_subparsers(dest="classifier_command", metavar="WHAT")
    sub.required = True

    t = sub.add_parser("train", help="fit a classifier on labelled texts and save it (the model is referenced, "
                                     "not copied)")
    t.add_argument("model", metavar="MODEL.npz", help="a model file from cooc pretrain")
    t.add_argument("labelled", metavar="LABELLED.tsv", help="one 'label<TAB>text' per line")
    t.add_argument("-o", "--output", required=True, metavar="CLF.npz", help="classifier file to write")
    t.add_argument("--kind", choices=["centroid", "probe", "finetune"], default="centroid",
                   help="nearest centroid (default); a softmax probe on frozen vectors; or the probe "
                        "fine-tuning the vectors of the training words")
    t.add_argument("--max-epochs", type=positive_int, default=200, help="probe/finetune: epochs at most (200)")
    t.add_argument("--learning-rate", type=float, default=0.05, help="probe/finetune: Adam step (0.05)")
    t.add_argument("--seed", type=int, default=0, help="probe/finetune: random seed (0)")
    t.add_argument("--encoding", default=None, help="encoding of the labelled file (default utf-8)")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress (shown on a terminal only) and no summary")
    t.set_defaults(func=_cmd_train)

    r = sub.add_parser("predict", help="label texts with a saved classifier")
    r.add_argument("classifier", metavar="CLF.npz", help="a classifier file written by cooc classifier train")
    r.add_argument("texts", nargs="*", metavar="TEXT", help="texts to label (or --input)")
    r.add_argument("--input", default=None, metavar="FILE", help="texts, one per line (- for standard input)")
    r.add_argument("--model", default=None, metavar="PATH", help="the model file, if moved since training")
    r.add_argument("--json", action="store_true", help="a JSON document: label and probabilities per text")
    r.add_argument("--encoding", default=None, help="encoding of --input (default utf-8)")
    r.set_defaults(func=_cmd_predict)

    e = sub.add_parser("evaluate", help="accuracy of a saved classifier on labelled texts")
    e.add_argument("classifier", metavar="CLF.npz", help="a classifier file written by cooc classifier train")
    e.add_argument("labelled", metavar="LABELLED.tsv", help="one 'label<TAB>text' per line")
    e.add_argument("--model", default=None, metavar="PATH", help="the model file, if moved since training")
    e.add_argument("--json", action="store_true", help="a JSON document on stdout")
    e.add_argument("--encoding", default=None, help="encoding of the labelled file (default utf-8)")
    e.set_defaults(func=_cmd_evaluate)
    return p
