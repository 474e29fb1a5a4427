"""Real data from the gensim wheel (the [eval] extra): WordSim353, Lee + Wikipedia, Pang & Lee polarity.

The only test file allowed to skip: without gensim installed there is no data.
"""

from __future__ import annotations

import io

import pytest

pytest.importorskip("gensim")

import cooc  # noqa: E402
from cooc.evaluate import gensim_test_data, read_labelled, real_corpus  # noqa: E402


@pytest.fixture(scope="module")
def lines():
    return real_corpus()


def test_polarity_file_needs_cp1252():
    path = gensim_test_data("pang_lee_polarity.cor")
    with pytest.raises(ValueError, match="pang_lee_polarity.cor: line .*cp1252"):
        read_labelled(path)
    texts, labels = read_labelled(path, encoding="cp1252")
    assert len(texts) == 200 and sorted(set(labels)) == ["neg", "pos"]


def test_wordsim_ordering_of_representations(lines):
    """The issue's anchors (ours, on this extraction of the data): PPMI > counts, SVD > PPMI."""
    pairs = gensim_test_data("wordsim353.tsv")
    count = cooc.pretrain(lines, window=3, min_count=5)
    ppmi = cooc.pretrain(lines, window=3, min_count=5, weighting="ppmi")
    svd = cooc.pretrain(lines, window=3, min_count=5, weighting="ppmi", dim=300)
    rnd = cooc.random_embeddings(count, dim=300)
    s = {name: m.evaluate_word_pairs(pairs)[1][0] for name, m in
         [("count", count), ("ppmi", ppmi), ("svd", svd), ("random", rnd)]}
    assert abs(s["random"]) < 0.15
    assert 0.2 < s["count"] < s["ppmi"] < s["svd"]
    assert s["ppmi"] >= 0.32 and s["svd"] >= 0.43
    assert count.evaluate_word_pairs(pairs)[2] < 40  # OOV percentage


def test_demo_real_on_lee_and_polarity(tmp_path):
    from cooc.demo_real import run_real

    corpus = tmp_path / "lee.txt"
    corpus.write_text("\n".join(real_corpus(wiki=False)) + "\n", encoding="utf-8")
    out = io.StringIO()
    res = run_real(out, corpus, gensim_test_data("pang_lee_polarity.cor"), encoding="cp1252",
                   dim=50, folds=5, seeds=2)
    text = out.getvalue()
    assert "VERDICT" in text and "5-fold" in text
    assert res["verdict"] in text
