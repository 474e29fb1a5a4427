"""tokenize / preprocess: the reference's semantics, checked against a per-character isalpha loop."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cooc
from oracle import REFERENCE_STOPWORDS, reference_preprocess, reference_tokenize

# Characters where tokenizers usually go wrong: case mappings that change length ('İ' lowercases to
# 'i' + combining dot, 'ẞ' to 'ß'), non-letters that look like letters (digits of all scripts,
# superscripts, fractions, combining marks, Roman numerals), titlecase digraphs, final sigma, CJK,
# Hangul, ligatures, whitespace of every kind, apostrophes and hyphens.
TRICKY = list(
    "İıßẞ²³¹½⅓0123456789٣७"
    "\u0301\u0308\u0307\u0300"
    "中文字日本語한국어"
    "ǅǈΣσςДжéÉŒﬁﬀ"
    "ⅷⅧⓐⒶ"
    " \t\n\r\u00a0\u2003\u3000'’-‐_.,!?\"()"
    "abcXYZ"
    "the and of"
)

texts = st.text(alphabet=st.one_of(st.sampled_from(TRICKY), st.characters()), max_size=80)


@settings(max_examples=200, deadline=None)
@given(text=texts)
def test_tokenize_equals_isalpha_loop(text):
    assert cooc.tokenize(text) == reference_tokenize(text)


@settings(max_examples=200, deadline=None)
@given(text=texts)
def test_preprocess_equals_reference(text):
    assert cooc.preprocess(text) == reference_preprocess(text)
    assert cooc.preprocess(text, stopwords=None) == reference_tokenize(text)
    assert cooc.preprocess(text, stopwords=["zz", "x"]) == reference_preprocess(text, {"zz", "x"})


@settings(max_examples=100, deadline=None)
@given(words=st.lists(st.sampled_from(sorted(REFERENCE_STOPWORDS) + ["movie", "good"]), max_size=12),
       seps=st.sampled_from([" ", ", ", "\n", " - ", "1"]))
def test_stopwords_removed_whatever_the_case(words, seps):
    text = seps.join(w.upper() if i % 2 else w for i, w in enumerate(words))
    assert cooc.preprocess(text) == [w for w in words if w not in REFERENCE_STOPWORDS]
    assert cooc.preprocess(text, stopwords=None) == words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("   \t\n ", []),
        ("Hello, World!", ["hello", "world"]),
        ("abc123def", ["abc", "def"]),
        ("x² y³", ["x", "y"]),
        ("STRASSE straße ẞ", ["strasse", "straße", "ß"]),
        ("İ", ["i"]),  # 'İ'.lower() is 'i' + U+0307 (a combining mark, not alphabetic)
        ("e\u0301t\u00e9", ["e", "té"]),  # decomposed accent splits; precomposed does not
        ("don't stop-motion", ["don", "t", "stop", "motion"]),
        ("中文 字", ["中文", "字"]),
        ("ΣΟΦΟΣ ΣΑ", ["σοφος", "σα"]),  # str.lower() of the whole text: final sigma in context
    ],
)
def test_tokenize_examples(text, expected):
    # Each expectation follows from the rule "maximal isalpha runs of text.lower()";
    # the loop agrees, so the example cannot be wrong in a way the loop is right.
    assert reference_tokenize(text) == expected
    assert cooc.tokenize(text) == expected


def test_stopwords_are_the_reference_28():
    assert len(cooc.STOPWORDS) == 28
    assert set(cooc.STOPWORDS) == REFERENCE_STOPWORDS
    assert not hasattr(cooc.STOPWORDS, "add")  # cannot be changed by accident


def test_preprocess_default_and_none():
    text = "The movie was excellent and it is not bad at all"
    assert cooc.preprocess(text) == ["movie", "excellent", "bad"]
    assert cooc.preprocess(text, stopwords=None) == reference_tokenize(text)
    assert cooc.preprocess(text, stopwords=set()) == reference_tokenize(text)
    assert cooc.preprocess(text, stopwords=("movie",)) == [
        t for t in reference_tokenize(text) if t != "movie"
    ]


@pytest.mark.parametrize("bad", [None, b"bytes", 3, ["a list"]])
def test_tokenize_rejects_non_text(bad):
    with pytest.raises(TypeError):
        cooc.tokenize(bad)
