"""examples/support_tickets.py runs end to end (small size) and reports sane, reproducible results."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

pytest.importorskip("sklearn", reason="the example needs scikit-learn (cooc[sklearn])")

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "support_tickets.py"
ROWS = ["random vectors", "general only", "general + domain (update)", "domain only"]


@pytest.fixture(scope="module")
def example():
    if not EXAMPLE.is_file():  # a test run from an installed wheel's copy of tests/ has no examples/
        pytest.skip("examples/ is not next to tests/")
    spec = importlib.util.spec_from_file_location("support_tickets", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_small_run_reports_every_model_and_classifier(example):
    results = example.run(small=True)
    assert list(results) == ROWS
    for row in results.values():
        assert list(row) == ["nearest centroid", "logistic regression"]
        for r in row.values():
            assert 0.0 <= r["mean"] <= 1.0 and math.isfinite(r["ci95"]) and r["ci95"] >= 0.0
            assert len(r["runs"]) >= 2 and all(0.0 <= a <= 1.0 for a in r["runs"])
            assert r["mean"] == pytest.approx(sum(r["runs"]) / len(r["runs"]))


def test_seeded_runs_are_equal_and_seeds_differ(example):
    assert example.run(small=True) == example.run(small=True)
    a, b = example.general_corpus(50, __import__("random").Random(0)), example.general_corpus(
        50, __import__("random").Random(1))
    assert a != b


def test_the_data_is_what_the_docstring_says(example):
    import random

    texts, labels = example.tickets(40, random.Random(0))
    assert len(texts) == 40 and sorted(set(labels)) == sorted(example.CLASSES)
    # every ticket names its problem with at least two of its class's words
    for text, label in zip(texts, labels):
        assert len(set(text.split()) & set(example.CLASSES[label])) >= 2
    # the general corpus never puts two words of one class in a sentence: synonyms meet only in the domain
    for sentence in example.general_corpus(300, random.Random(0)):
        for words in example.CLASSES.values():
            assert len(set(sentence.split()) & set(words)) <= 1


def test_command_line_prints_a_table_and_json(example, capsys):
    assert example.main(["--small"]) == 0
    out = capsys.readouterr().out
    for row in ROWS:
        assert row in out
    assert example.main(["--small", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert list(doc) == ROWS
