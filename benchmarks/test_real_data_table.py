"""The parts of benchmarks/real_data.py that need no gensim: the tokens kept, the error without
gensim, the table.

    python -m pytest benchmarks/test_real_data_table.py
"""

from __future__ import annotations

import pytest

import cooc
from real_data import drop_short_tokens, format_real_table, gensim_test_data, word2vec_embeddings


def test_drop_short_tokens():
    assert drop_short_tokens("The president's U.S. visit, don't") == "the president visit don"
    assert drop_short_tokens("a I x", 2) == ""
    assert drop_short_tokens("ab abc abcd", 4) == "abcd"
    text = "Ça va? l'été 2 fois"
    assert cooc.tokenize(drop_short_tokens(text)) == [t for t in cooc.tokenize(text) if len(t) >= 2]


@pytest.fixture
def no_gensim(monkeypatch):
    """Make ``import gensim`` fail, as on an installation without the [eval] extra."""
    import sys

    for name in [m for m in sys.modules if m == "gensim" or m.startswith("gensim.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "gensim", None)


def test_word2vec_without_gensim_is_a_clear_error(no_gensim):
    with pytest.raises(ImportError, match=r"needs gensim: pip install 'cooc\[eval\]'"):
        word2vec_embeddings(["good food", "bad food"], min_count=1)
    with pytest.raises(ImportError, match=r"pip install 'cooc\[eval\]'"):
        gensim_test_data("wordsim353.tsv")


def test_format_real_table():
    def r(m):
        return {"mean": m, "ci95": 0.01, "runs": [m]}

    result = {
        "corpus": {"units": 406, "tokens": 356770, "tokens_kept": 314466, "V": 9715, "window": 3,
                   "min_count": 5},
        "wordsim353": {k: {"pearson": 0.0, "spearman": v, "oov": 26.0} for k, v in
                       [("random", -0.05), ("count", 0.29), ("ppmi", 0.382), ("word2vec", 0.128)]},
        "classify": {"count + centroid": r(0.593), "count + probe": r(0.571), "ppmi + centroid": r(0.613),
                     "word2vec + centroid": r(0.587), "random + centroid": r(0.584),
                     "tf-idf + centroid (no pretraining)": r(0.6)},
        "folds": 10, "seeds": 10,
    }
    table = format_real_table(result).splitlines()
    assert table[0].startswith("corpus: Lee + Wikipedia excerpt, 406 units, 356,770 tokens (314,466 kept), V = 9,715")
    assert table[2] == ("| representation | WordSim353 Spearman | nearest centroid, 10-fold CV x 10 seeds | "
                        "linear probe |")
    assert "| raw counts, L2 rows (the reference) | 0.290 | 59.3 % +- 1.0 | 57.1 % +- 1.0 |" in table
    assert "| PPMI, cds 0.75 | 0.382 | 61.3 % +- 1.0 | - |" in table
    assert "| gensim word2vec skip-gram (100 d) | 0.128 | 58.7 % +- 1.0 | - |" in table
    assert table[-1] == "| TF-IDF, no pretraining | - | 60.0 % +- 1.0 | - |"
    assert not any("SVD" in line for line in table)  # rows without a model are left out
