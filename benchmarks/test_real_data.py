"""The research comparison of benchmarks/real_data.py on real data from the gensim wheel (the [eval]
extra): WordSim353, Lee + Wikipedia, Pang & Lee polarity, and gensim's word2vec as a comparison row.

Skipped without gensim installed (there is no data):

    python -m pytest benchmarks/test_real_data.py
"""

from __future__ import annotations

import bz2
import io
import json

import numpy as np
import pytest

pytest.importorskip("gensim")

import cooc  # noqa: E402
from cooc.evaluate import build_representations, compare_classifiers, read_labelled  # noqa: E402
from real_data import (  # noqa: E402
    gensim_test_data, real_corpus, wiki_articles, word2vec_embeddings, word2vec_sentences,
)

DUMP = """<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10" xml:lang="en">
  <siteinfo><sitename>Wikipedia</sitename></siteinfo>
  <page><title>AccessibleComputing</title><ns>0</ns><id>10</id>
    <revision><text xml:space="preserve">#REDIRECT [[Computer accessibility]]

{{Redr|move|from CamelCase|up}}</text></revision></page>
  <page><title>Anarchism</title><ns>0</ns><id>12</id>
    <revision><text xml:space="preserve">{{Use British English|date=January 2014}}
'''Anarchism''' is a [[political philosophy]] that advocates [[self-governance|selfgoverned]] societies.&lt;ref&gt;Woodcock, refsource&lt;/ref&gt;

==Notable thinkers==
* [[Pierre-Joseph Proudhon|Proudhon]]
* [[Kropotkin]]

Closing paragraph about mutualism.</text></revision></page>
  <page><title>Talk:Anarchism</title><ns>1</ns><id>13</id>
    <revision><text xml:space="preserve">A discussion page about talkpagetext, not an article.</text></revision></page>
</mediawiki>
"""


@pytest.fixture(scope="module")
def lines():
    return real_corpus()


@pytest.mark.parametrize("compress", [True, False])
def test_wiki_articles_keeps_link_text_and_short_lines(tmp_path, compress):
    """One text per article; link text, headings and one-word list items are kept (the former extractor
    dropped every line of 40 characters or less); templates, references, redirects and talk pages are
    not article text."""
    path = tmp_path / ("dump.xml.bz2" if compress else "dump.xml")
    data = DUMP.encode("utf-8")
    path.write_bytes(bz2.compress(data) if compress else data)
    articles = wiki_articles(path)
    assert len(articles) == 1
    words = cooc.tokenize(articles[0])
    for kept in ("anarchism", "political", "philosophy", "selfgoverned", "notable", "thinkers",
                 "proudhon", "kropotkin", "closing", "mutualism"):
        assert kept in words, kept
    for dropped in ("governance", "pierre", "woodcock", "refsource", "british", "redirect",
                    "accessibility", "talkpagetext"):
        assert dropped not in words, dropped
    assert "\n" not in articles[0]


def test_article_is_one_context_unit(tmp_path):
    """Windows run across the lines of an article (as in gensim's WikiCorpus), never across articles."""
    path = tmp_path / "dump.xml"
    path.write_text(DUMP, encoding="utf-8")
    emb = cooc.pretrain(wiki_articles(path), window=3)
    i, j = emb.key_to_index["kropotkin"], emb.key_to_index["closing"]
    assert emb.counts[i, j] == 1


def test_real_corpus_is_the_readme_corpus(lines):
    """The README's corpus has 357k tokens and V = 9.7k (V: below) at min_count 5: Lee documents + the
    106 articles, stopwords removed, tokens of >= 2 letters."""
    assert len(lines) == 300 + 106
    n_tokens = sum(len(cooc.preprocess(t)) for t in lines)
    assert abs(n_tokens - 357_000) < 1_000
    assert all(len(t) >= 2 for t in cooc.tokenize(lines[0] + " " + lines[-1]))
    with pytest.raises(ValueError, match="unit"):
        real_corpus(unit="sentence")


def test_polarity_file_needs_cp1252():
    path = gensim_test_data("pang_lee_polarity.cor")
    with pytest.raises(ValueError, match="pang_lee_polarity.cor: line .*cp1252"):
        read_labelled(path)
    texts, labels = read_labelled(path, encoding="cp1252")
    assert len(texts) == 200 and sorted(set(labels)) == ["neg", "pos"]


def test_wordsim_ordering_of_representations(lines):
    """The README's figures: PPMI >= 0.38 (0.382); PPMI-SVD 0.483 with the default seed (seeds 0-9:
    0.465-0.486), and with context vectors added (w+c) 0.507 (seeds 0-9: 0.490-0.507). The bounds
    here sit below those figures: this test guards the ordering, the README reports the figures."""
    pairs = gensim_test_data("wordsim353.tsv")
    count = cooc.pretrain(lines, window=3, min_count=5)
    ppmi = cooc.pretrain(lines, window=3, min_count=5, weighting="ppmi")
    svd = cooc.pretrain(lines, window=3, min_count=5, weighting="ppmi", dim=300)
    wc = cooc.pretrain(lines, window=3, min_count=5, weighting="ppmi", dim=300, add_context=True)
    assert abs(len(count) - 9_700) < 50  # the README's V = 9.7k
    rnd = cooc.random_embeddings(count, dim=300)
    s = {name: m.evaluate_word_pairs(pairs)[1][0] for name, m in
         [("count", count), ("ppmi", ppmi), ("svd", svd), ("w+c", wc), ("random", rnd)]}
    assert abs(s["random"]) < 0.15
    assert 0.27 < s["count"] < s["ppmi"] < s["svd"] < s["w+c"]
    assert s["ppmi"] >= 0.38 and s["svd"] >= 0.46 and s["w+c"] >= 0.48
    assert count.evaluate_word_pairs(pairs)[2] < 30  # OOV percentage


def test_word2vec_sees_cooc_tokens_and_is_deterministic():
    lee = real_corpus(wiki=False)
    count = cooc.pretrain(lee, window=3, min_count=5)
    w2v = word2vec_embeddings(lee, window=3, min_count=5, epochs=1)
    # same token lists: the same vocabulary with the same frequencies
    assert sorted(w2v.index_to_key) == count.index_to_key
    freq = dict(zip(count.index_to_key, count.frequencies.tolist()))
    assert {w: int(f) for w, f in zip(w2v.index_to_key, w2v.frequencies)} == freq
    assert isinstance(w2v.vectors, np.ndarray) and w2v.vectors.shape == (len(count), 100)
    np.testing.assert_allclose(np.linalg.norm(w2v.vectors, axis=1), 1.0)
    again = word2vec_embeddings(lee, window=3, min_count=5, epochs=1)
    np.testing.assert_array_equal(w2v.vectors, again.vectors)
    other = word2vec_embeddings(lee, window=3, min_count=5, epochs=1, seed=2)
    assert not np.array_equal(w2v.vectors, other.vectors)


def test_word2vec_sentences_are_split_not_truncated():
    """gensim ignores the tokens of a sentence after the 10,000th: long texts are cut into pieces."""
    text = " ".join(f"zq{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}" for i in range(25_000))
    sents = word2vec_sentences(["the a", text, "short text"], cooc.STOPWORDS)
    assert [len(s) for s in sents] == [10_000, 10_000, 5_000, 2]
    assert [t for s in sents[:3] for t in s] == cooc.preprocess(text)


def test_classify_comparison_with_word2vec():
    lee = real_corpus(wiki=False)
    models = build_representations(lee, window=3, min_count=5, dim=20)
    models["word2vec"] = word2vec_embeddings(lee, window=3, min_count=5, epochs=1)
    texts, labels = read_labelled(gensim_test_data("pang_lee_polarity.cor"), encoding="cp1252")
    res = compare_classifiers(models, texts, labels, folds=2, seeds=1, finetune=False)
    assert {"word2vec + centroid", "word2vec + probe", "ppmi + centroid"} <= set(res)
    json.dumps(res)  # plain data


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
