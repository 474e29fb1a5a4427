"""The research comparison on real data shipped in the gensim wheel: WordSim353 and Pang & Lee
polarity, pretrained on the Lee news corpus plus an English Wikipedia excerpt, with gensim's word2vec
skip-gram on the same tokens as a comparison row.

Needs gensim (``pip install 'cooc[eval]'``). Prints the markdown table of the README:

    python benchmarks/real_data.py [--folds 10] [--seeds 10] [--no-word2vec] [--json OUT]

The library's own evaluation (word-pair correlations, cross-validated classification) is
:mod:`cooc.evaluate` and ``cooc evaluate``; this script adds the corpus, the word2vec row and the table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cooc import Embeddings, preprocess, tokenize
from cooc.evaluate import build_representations, compare_classifiers, evaluate_word_pairs, read_labelled
from cooc.text import STOPWORDS
from cooc.weighting import unit_rows


def gensim_test_data(name: str = "") -> Path:
    """Path of a file in ``gensim/test/test_data`` (gensim must be installed: ``cooc[eval]``)."""
    try:
        import gensim  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        raise ImportError("the real test data ships with gensim: pip install 'cooc[eval]'") from None
    path = Path(gensim.__file__).parent / "test" / "test_data" / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is not in this gensim installation")
    return path


WIKI_EXCERPT = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"


def _wiki_pages(path: str | os.PathLike[str]) -> list[list[str]]:
    """The non-blank lines of each article's text (see :func:`wiki_articles`)."""
    import bz2

    from gensim.corpora.wikicorpus import extract_pages, filter_wiki  # type: ignore[import-untyped,import-not-found,unused-ignore]

    path = Path(path)
    with path.open("rb") as raw:
        compressed = raw.read(3) == b"BZh"
    pages: list[list[str]] = []
    with (bz2.open(path, "rb") if compressed else path.open("rb")) as f:
        for _title, markup, _pageid in extract_pages(f, filter_namespaces=("0",)):
            if not markup or markup.lstrip()[:9].lower() == "#redirect":
                continue
            lines = [line.strip() for line in filter_wiki(markup).splitlines() if line.strip()]
            if lines:
                pages.append(lines)
    return pages


def wiki_articles(path: str | os.PathLike[str]) -> list[str]:
    """The plain text of every article of a MediaWiki XML dump (``.bz2`` or plain XML), one per article.

    Markup is removed by gensim's ``filter_wiki`` (the extractor of gensim's ``WikiCorpus``): the text
    of links is kept (``[[a|b]]`` gives ``b``, ``[[c]]`` gives ``c``); templates, references, comments
    and table syntax are dropped. Every line of the article is kept, headings and list items included,
    and the lines are joined by spaces, so an article is one context unit, as in ``WikiCorpus`` (and as
    a document is one line of the Lee corpus). Redirect pages (``#REDIRECT [[target]]``) hold no text
    and are skipped, as are pages outside the article namespace.
    """
    return [" ".join(lines) for lines in _wiki_pages(path)]


def drop_short_tokens(text: str, min_len: int = 2) -> str:
    """``text`` as its tokens (:func:`cooc.tokenize`) of at least ``min_len`` letters, space-separated.

    gensim's ``WikiCorpus`` and ``simple_preprocess`` keep tokens of 2 letters or more; cooc's tokenizer
    keeps single letters, so ``"the president's U.S. visit"`` gives ``s``, ``u``, ``s`` tokens that take
    window positions. ``cooc.pretrain`` tokenizes the result back into exactly the kept tokens.

    >>> drop_short_tokens("The president's U.S. visit")
    'the president visit'
    """
    return " ".join(t for t in tokenize(text) if len(t) >= min_len)


def real_corpus(wiki: bool = True, *, unit: str = "article", min_len: int = 2) -> list[str]:
    """The Lee news corpus (300 documents, one per line) plus, with ``wiki``, the English Wikipedia
    excerpt of gensim's test data (106 articles; see :func:`wiki_articles`).

    This is the corpus of the table in the README: 357k tokens once the stopwords are removed, V = 9.7k
    at ``min_count=5``.

    Parameters
    ----------
    wiki : bool, default True
        Add the Wikipedia articles to the Lee documents.
    unit : {"article", "line"}
        The context unit of the Wikipedia text: a whole article (the default, as gensim's
        ``WikiCorpus``), or each line of the extracted text (paragraphs, headings and list items apart).
    min_len : int, default 2
        Drop tokens shorter than this (as gensim's tokenizers do, see :func:`drop_short_tokens`); 1 keeps
        the text as it is.

    Returns
    -------
    list of str
        One context unit per item.
    """
    if unit not in ("article", "line"):
        raise ValueError(f"unit must be 'article' or 'line', not {unit!r}")
    texts = gensim_test_data("lee_background.cor").read_text(encoding="utf-8").splitlines()
    if wiki:
        pages = _wiki_pages(gensim_test_data(WIKI_EXCERPT))
        for lines in pages:
            if unit == "article":
                texts.append(" ".join(lines))
            else:
                texts.extend(lines)
    if min_len > 1:
        texts = [drop_short_tokens(t, min_len) for t in texts]
    return texts


# ------------------------------------------------------------------------------------------------
# gensim word2vec on the same tokens (the [eval] extra)

#: gensim's Word2Vec silently truncates a sentence after this many tokens; longer ones are split.
_W2V_MAX_SENTENCE = 10_000


def word2vec_sentences(texts: Any, stopwords: Any) -> list[list[str]]:
    """cooc's token list of each text (:func:`cooc.preprocess`), cut into pieces of at most 10,000
    tokens (gensim's ``Word2Vec`` ignores whatever follows in a longer sentence); empty ones dropped."""
    sentences: list[list[str]] = []
    for text in texts:
        toks = preprocess(text, stopwords)
        sentences.extend(toks[i:i + _W2V_MAX_SENTENCE] for i in range(0, len(toks), _W2V_MAX_SENTENCE))
    return sentences


def word2vec_embeddings(
    texts: Any,
    *,
    window: int = 3,
    min_count: int = 5,
    vector_size: int = 100,
    epochs: int = 5,
    seed: int = 1,
    workers: int = 1,
    stopwords: Any = None,
) -> Embeddings:
    """A gensim word2vec skip-gram model of ``texts``, as :class:`cooc.Embeddings` (rows L2-normalized).

    The tokens are cooc's: :func:`cooc.preprocess` of each text (lowercase letter runs, ``stopwords``
    removed, the reference's by default), one text per word2vec sentence, so word2vec sees exactly the
    token sequences ``cooc.pretrain`` counts (a text longer than gensim's 10,000-token sentence limit
    is split rather than truncated). Every other setting is gensim's default (negative sampling 5,
    ``sample=1e-3``, ``alpha=0.025``). With ``workers=1`` and a fixed ``seed`` the vectors are
    identical from run to run.

    Raises
    ------
    ImportError
        gensim is not installed (``pip install 'cooc[eval]'``).
    """
    try:
        from gensim.models import Word2Vec  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        raise ImportError("the word2vec comparison needs gensim: pip install 'cooc[eval]'") from None
    stop = STOPWORDS if stopwords is None else frozenset(stopwords)
    sentences = word2vec_sentences(texts, stop)
    if not sentences:
        raise ValueError("empty corpus: no token left after removing stopwords")
    model = Word2Vec(sentences, sg=1, window=window, min_count=min_count, vector_size=vector_size,
                     epochs=epochs, seed=seed, workers=workers)
    kv = model.wv
    vectors = unit_rows(np.array(kv.vectors, dtype=np.float64))
    freqs = [int(kv.get_vecattr(w, "count")) for w in kv.index_to_key]
    return Embeddings(list(kv.index_to_key), vectors, stopwords=stop, frequencies=freqs, window=window)


# ------------------------------------------------------------------------------------------------
# the table on gensim's real test data

REAL_ROWS = {
    "count": "raw counts, L2 rows (the reference)",
    "ppmi": "PPMI, cds 0.75",
    "ppmi+svd": "PPMI -> SVD 300, p = 0.5",
    "ppmi+svd w+c": "PPMI -> SVD 300, p = 0.5, word + context vectors (w+c)",
    "word2vec": "gensim word2vec skip-gram (100 d)",
    "random": "random vectors",
}


def real_data_table(
    *,
    folds: int = 10,
    seeds: int = 10,
    word2vec: bool = True,
    probe: bool = True,
    finetune: bool = True,
    window: int = 3,
    min_count: int = 5,
    dim: int = 300,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The comparison on gensim's test data: WordSim353 and Pang & Lee polarity.

    Pretrains count, PPMI, PPMI + SVD (and, with ``word2vec``, gensim's skip-gram on the same tokens;
    :func:`word2vec_embeddings`) on :func:`real_corpus`, scores each on WordSim353 (Spearman), and
    cross-validates nearest centroid (and a linear probe, fine-tuning, TF-IDF) on the 200 Pang & Lee
    sentences (:func:`compare_classifiers`).

    Returns
    -------
    dict
        ``{"corpus": {...}, "wordsim353": {model: {"pearson", "spearman", "oov"}},
        "classify": {name: {"mean", "ci95", "runs"}}, "folds": int, "seeds": int}``
    """
    say = progress or (lambda _msg: None)
    corpus = real_corpus()
    models = build_representations(corpus, window=window, min_count=min_count, dim=dim)
    if word2vec:
        models["word2vec"] = word2vec_embeddings(corpus, window=window, min_count=min_count)
    count = models["count"]
    stop = count.stopwords
    info = {
        "units": len(corpus),
        "tokens": sum(len(preprocess(t, stop)) for t in corpus),
        "tokens_kept": int(count.frequencies.sum()) if count.frequencies is not None else 0,
        "V": len(count),
        "window": window,
        "min_count": min_count,
    }
    say(f"corpus: Lee + Wikipedia excerpt, {info['units']} units, {info['tokens']:,} tokens "
        f"({info['tokens_kept']:,} kept), V = {info['V']:,}")
    pairs = gensim_test_data("wordsim353.tsv")
    wordsim: dict[str, dict[str, float]] = {}
    for name, emb in models.items():
        (pr, _), (sr, _), oov = evaluate_word_pairs(emb, pairs)
        wordsim[name] = {"pearson": pr, "spearman": sr, "oov": oov}
        say(f"WordSim353 {name}: Spearman {sr:.3f} ({oov:.0f}% OOV)")
    texts, labels = read_labelled(gensim_test_data("pang_lee_polarity.cor"), encoding="cp1252")
    res = compare_classifiers(models, texts, labels, folds=folds, seeds=seeds, probe=probe,
                              finetune=finetune, progress=progress)
    return {"corpus": info, "wordsim353": wordsim, "classify": res, "folds": folds, "seeds": seeds}


def format_real_table(result: dict[str, Any]) -> str:
    """The markdown table of :func:`real_data_table`'s result."""

    def acc(name: str) -> str:
        r = result["classify"].get(name)
        return "-" if r is None else f"{100 * r['mean']:.1f} % +- {100 * r['ci95']:.1f}"

    ft, tf = "fine-tuned (ppmi+svd)", "tf-idf + centroid (no pretraining)"
    probe = ft in result["classify"] or any(n.endswith(" + probe") for n in result["classify"])
    c = result["corpus"]
    lines = [
        f"corpus: Lee + Wikipedia excerpt, {c['units']} units, {c['tokens']:,} tokens "
        f"({c['tokens_kept']:,} kept), V = {c['V']:,}; window {c['window']}, min_count {c['min_count']}",
        "",
        f"| representation | WordSim353 Spearman | nearest centroid, {result['folds']}-fold CV x "
        f"{result['seeds']} seeds |" + (" linear probe |" if probe else ""),
        "|---|---|---|" + ("---|" if probe else ""),
    ]
    for key, label in REAL_ROWS.items():
        if key not in result["wordsim353"]:
            continue
        row = f"| {label} | {result['wordsim353'][key]['spearman']:.3f} | {acc(key + ' + centroid')} |"
        lines.append(row + (f" {acc(key + ' + probe')} |" if probe else ""))
    if ft in result["classify"]:
        lines.append("| PPMI-SVD, fine-tuned | - | - |" + (f" {acc(ft)} |" if probe else ""))
    if tf in result["classify"]:
        lines.append(f"| TF-IDF, no pretraining | - | {acc(tf)} |" + (" - |" if probe else ""))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python benchmarks/real_data.py``: the table on stdout, progress on stderr."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--folds", type=int, default=10)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--no-word2vec", action="store_true", help="skip the gensim word2vec row")
    p.add_argument("--no-probe", action="store_true", help="skip the linear-probe column")
    p.add_argument("--no-finetune", action="store_true", help="skip the (slower) fine-tuned classifier")
    p.add_argument("--json", default=None, metavar="OUT")
    p.add_argument("-q", "--quiet", action="store_true")
    args = p.parse_args(argv)
    result = real_data_table(folds=args.folds, seeds=args.seeds, word2vec=not args.no_word2vec,
                             probe=not args.no_probe, finetune=not args.no_finetune,
                             progress=None if args.quiet else (lambda s: print(s, file=sys.stderr)))
    print(format_real_table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
