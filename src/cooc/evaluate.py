"""Honest evaluation: word-similarity benchmarks, labelled-data readers, cross-validated comparisons.

- :func:`evaluate_word_pairs` scores a model on WordSim353 / SimLex-999 style files (Pearson, Spearman,
  out-of-vocabulary ratio), like gensim's ``KeyedVectors.evaluate_word_pairs``;
- :func:`read_labelled` reads fastText ``__label__x text`` lines or ``label<TAB>text`` TSV;
- :func:`compare_classifiers` runs repeated k-fold cross-validation of random vectors, pretrained
  vectors (count, PPMI, PPMI + SVD) with nearest centroid and with a linear probe, fine-tuned vectors,
  and a TF-IDF baseline with no pretraining, and reports mean accuracy with a 95% interval;
- :func:`real_corpus`, :func:`word2vec_embeddings` and :func:`real_data_table` reproduce issue 5's table
  on gensim's test data (the ``[eval]`` extra);
- :func:`add_parser` registers ``cooc evaluate similarity``, ``classify`` and ``real-data``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .embeddings import Embeddings, unit_rows
from .text import preprocess

__all__ = [
    "TfidfCentroid",
    "add_parser",
    "compare_classifiers",
    "drop_short_tokens",
    "evaluate_word_pairs",
    "format_real_table",
    "gensim_test_data",
    "read_labelled",
    "real_corpus",
    "real_data_table",
    "wiki_articles",
    "word2vec_embeddings",
]

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------------
# word similarity


def _read_text(path: str | os.PathLike[str], encoding: str | None) -> tuple[str, str]:
    """The text of a file; a decoding error names the file, the line and the byte."""
    raw = Path(path).read_bytes()
    enc = encoding or "utf-8"
    try:
        return raw.decode(enc), enc
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValueError(
            f"{path}: line {line}: cannot decode byte 0x{raw[exc.start]:02x} as {enc}; "
            f"give the file's encoding (e.g. encoding='cp1252' / --encoding cp1252)"
        ) from None


def evaluate_word_pairs(
    emb: Embeddings,
    path: str | os.PathLike[str],
    delimiter: str = "\t",
    case_insensitive: bool = True,
    encoding: str | None = None,
) -> tuple[tuple[float, float], tuple[float, float], float]:
    """Correlation of the model's cosine similarities with human scores of word pairs.

    The file holds one pair per line, ``word1<delimiter>word2<delimiter>score``; lines starting with
    ``#`` and blank lines are skipped. Pairs with a word outside the vocabulary are left out and
    counted in the out-of-vocabulary ratio (as gensim does, without a ``dummy4unknown`` option).

    Parameters
    ----------
    emb : Embeddings
    path : path of the pairs file (WordSim353, SimLex-999, ...)
    delimiter : str, default tab
    case_insensitive : bool, default True
        Look words up lowercased (cooc's vocabularies are lowercase).
    encoding : str or None
        Text encoding (UTF-8 by default).

    Returns
    -------
    pearson : (float, float)
        Pearson's r and its p-value.
    spearman : (float, float)
        Spearman's rho and its p-value.
    oov_ratio : float
        Percentage of pairs left out, in [0, 100] (as gensim reports it).

    Raises
    ------
    ValueError
        A malformed line (naming the file and the line), or no pair in the vocabulary.
    """
    from scipy import stats

    if not isinstance(emb, Embeddings):
        raise TypeError(f"expected cooc.Embeddings, got {type(emb).__name__}")
    text, _ = _read_text(path, encoding)
    model_sims: list[float] = []
    human: list[float] = []
    total = oov = 0
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = stripped.split(delimiter)
        if len(parts) != 3:
            raise ValueError(
                f"{path}: line {lineno}: expected 'word1{delimiter!r}word2{delimiter!r}score' "
                f"(3 fields), got {len(parts)}: {line!r}"
            )
        a, b, score_text = (x.strip() for x in parts)
        try:
            score = float(score_text)
        except ValueError:
            raise ValueError(f"{path}: line {lineno}: score {score_text!r} is not a number") from None
        if not math.isfinite(score):
            raise ValueError(f"{path}: line {lineno}: score {score_text!r} is not finite")
        total += 1
        if case_insensitive:
            a, b = a.lower(), b.lower()
        if a not in emb or b not in emb:
            oov += 1
            continue
        model_sims.append(emb.similarity(a, b))
        human.append(score)
    if total == 0:
        raise ValueError(f"{path}: no word pairs found")
    if len(human) < 2:
        raise ValueError(f"{path}: only {len(human)} of {total} pairs are in the vocabulary")
    pearson = stats.pearsonr(human, model_sims)
    spearman = stats.spearmanr(human, model_sims)
    ratio = 100.0 * oov / total
    logger.info("%s: Pearson %.4f, Spearman %.4f, %.1f%% OOV", path, pearson[0], spearman[0], ratio)
    return (
        (float(pearson[0]), float(pearson[1])),
        (float(spearman[0]), float(spearman[1])),
        ratio,
    )


# ------------------------------------------------------------------------------------------------
# labelled data


def read_labelled(
    path: str | os.PathLike[str], *, format: str = "auto", encoding: str | None = None
) -> tuple[list[str], list[str]]:
    """Read labelled texts: fastText ``__label__x text`` lines or ``label<TAB>text`` TSV.

    Parameters
    ----------
    path : path
    format : {"auto", "fasttext", "tsv"}
        ``"auto"`` picks fastText when the first non-blank line starts with ``__label__``.
    encoding : str or None
        UTF-8 by default; a file that does not decode is an error naming the line (e.g. gensim's
        ``pang_lee_polarity.cor`` needs ``encoding="cp1252"``).

    Returns
    -------
    texts, labels : list of str, list of str

    Raises
    ------
    ValueError
        A malformed line or an undecodable byte (naming the file and the line), or an empty file.
    """
    text, _ = _read_text(path, encoding)
    lines = text.splitlines()
    if format == "auto":
        first = next((ln for ln in lines if ln.strip()), "")
        format = "fasttext" if first.lstrip().startswith("__label__") else "tsv"
    if format not in ("fasttext", "tsv"):
        raise ValueError(f"format must be 'auto', 'fasttext' or 'tsv', not {format!r}")
    texts: list[str] = []
    labels: list[str] = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if format == "fasttext":
            head, _, rest = line.strip().partition(" ")
            if not head.startswith("__label__") or len(head) == len("__label__") or not rest.strip():
                raise ValueError(f"{path}: line {lineno}: expected '__label__LABEL text', got {line[:60]!r}")
            label, body = head[len("__label__"):], rest.strip()
        else:
            parts = line.split("\t")
            if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
                raise ValueError(f"{path}: line {lineno}: expected 'label<TAB>text', got {line[:60]!r}")
            label, body = parts[0].strip(), parts[1].strip()
        labels.append(label)
        texts.append(body)
    if not texts:
        raise ValueError(f"{path}: no labelled lines")
    return texts, labels


# ------------------------------------------------------------------------------------------------
# real data shipped in the gensim wheel (the [eval] extra)


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
    from .text import tokenize

    return " ".join(t for t in tokenize(text) if len(t) >= min_len)


def real_corpus(wiki: bool = True, *, unit: str = "article", min_len: int = 2) -> list[str]:
    """The Lee news corpus (300 documents, one per line) plus, with ``wiki``, the English Wikipedia
    excerpt of gensim's test data (106 articles; see :func:`wiki_articles`).

    This is the corpus of issue 5's table: 357k tokens once the stopwords are removed, V = 9.7k at
    ``min_count=5``.

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
    from .text import STOPWORDS

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
# classification comparison


def _tokens(texts: Sequence[str], stopwords: Any) -> list[list[str]]:
    return [preprocess(t, stopwords) for t in texts]


class TfidfCentroid:
    """TF-IDF document vectors (scipy.sparse, no pretraining) with a nearest-centroid rule.

    Vocabulary and IDF come from the training texts only (smoothed IDF ``log((1 + n) / (1 + df)) + 1``,
    rows L2-normalized); a text goes to the class whose centroid has the highest cosine.
    """

    def __init__(self, stopwords: Any = None) -> None:
        from .text import STOPWORDS

        self.stopwords = STOPWORDS if stopwords is None else stopwords

    def _matrix(self, texts: Sequence[str]) -> sp.csr_matrix:
        rows: list[int] = []
        cols: list[int] = []
        vals: list[int] = []
        for i, toks in enumerate(_tokens(texts, self.stopwords)):
            counts: dict[int, int] = {}
            for t in toks:
                j = self.vocabulary_.get(t)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            rows.extend([i] * len(counts))
            cols.extend(counts)
            vals.extend(counts.values())
        m = sp.csr_matrix((np.asarray(vals, dtype=np.float64), (rows, cols)),
                          shape=(len(texts), len(self.vocabulary_)))
        m = sp.csr_matrix(m.multiply(self.idf_[None, :]))
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sp.csr_matrix(sp.diags(1.0 / norms) @ m)

    def fit(self, texts: Sequence[str], labels: Sequence[Any]) -> TfidfCentroid:
        toks = _tokens(texts, self.stopwords)
        vocab: dict[str, int] = {}
        for doc in toks:
            for t in doc:
                vocab.setdefault(t, len(vocab))
        self.vocabulary_ = vocab
        df = np.zeros(len(vocab))
        for doc in toks:
            for j in {vocab[t] for t in doc}:
                df[j] += 1
        self.idf_ = np.log((1 + len(toks)) / (1 + df)) + 1.0
        x = self._matrix(texts)
        y = np.asarray(list(labels))
        self.classes_ = np.unique(y)
        cents = np.vstack([np.asarray(x[y == c].mean(axis=0)).ravel() for c in self.classes_])
        self.centroids_ = unit_rows(cents.astype(np.float64))
        return self

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        scores = np.asarray(self._matrix(texts) @ self.centroids_.T)
        return np.asarray(self.classes_[np.argmax(scores, axis=1)])

    def score(self, texts: Sequence[str], labels: Sequence[Any]) -> float:
        return float(np.mean(self.predict(texts) == np.asarray(list(labels))))


def _folds(y: np.ndarray, k: int, seed: int) -> list[np.ndarray]:
    """Stratified fold assignment: each class shuffled and dealt round-robin into ``k`` folds."""
    rng = np.random.default_rng(seed)
    fold = np.empty(y.size, dtype=np.int64)
    start = 0
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        fold[idx] = (np.arange(idx.size) + start) % k
        start += idx.size
    return [np.flatnonzero(fold == f) for f in range(k)]


def mean_ci(values: Sequence[float]) -> tuple[float, float]:
    """Mean and half-width of a 95% t-interval over the runs (0 for a single value)."""
    from scipy import stats

    v = np.asarray(values, dtype=np.float64)
    if v.size < 2:
        return float(v.mean()), 0.0
    half = float(stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
    return float(v.mean()), half


def build_representations(
    corpus: Any, *, window: int = 3, min_count: int = 5, dim: int = 300, seed: int = 0,
    add_context: bool = True, **kwargs: Any
) -> dict[str, Embeddings]:
    """Random, count, PPMI and PPMI + SVD models of one corpus (same vocabulary); with
    ``add_context`` also PPMI + SVD with context vectors added (``"ppmi+svd w+c"``)."""
    from .embeddings import pretrain, random_embeddings

    count = pretrain(corpus, window=window, min_count=min_count, **kwargs)   # the corpus is counted once
    jobs = kwargs.get("n_jobs", 1)
    k = min(dim, len(count) - 1)
    models = {"random": random_embeddings(count, dim=min(dim, len(count)), seed=seed), "count": count,
              "ppmi": count.reweight("ppmi", n_jobs=jobs), "ppmi+svd": count.reweight("ppmi", dim=k, n_jobs=jobs)}
    if add_context:
        models["ppmi+svd w+c"] = count.reweight("ppmi", dim=k, add_context=True, n_jobs=jobs)
    return models


def compare_classifiers(
    models: dict[str, Embeddings],
    texts: Sequence[str],
    labels: Sequence[Any],
    *,
    folds: int = 10,
    seeds: int = 10,
    probe: bool = True,
    finetune: bool = True,
    tfidf: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Repeated stratified k-fold accuracy of every representation and classifier.

    Returns ``{name: {"mean": float, "ci95": float, "runs": [accuracy per seed]}}`` where each run is
    the accuracy over all held-out folds of one seed's split.
    """
    from .classify import NearestCentroid
    from .finetune import FineTunedClassifier

    texts = list(texts)
    y = np.asarray([str(x) for x in labels])
    if len(texts) != y.size:
        raise ValueError(f"got {len(texts)} texts but {y.size} labels")
    if np.unique(y).size < 2:
        raise ValueError("need at least 2 classes")
    smallest = min(int(np.sum(y == c)) for c in np.unique(y))
    if folds < 2 or folds > smallest:
        raise ValueError(f"folds must be in [2, {smallest}] (the smallest class has {smallest} texts)")
    makers: dict[str, Callable[[], Any]] = {}
    for name, emb in models.items():
        makers[f"{name} + centroid"] = lambda emb=emb: NearestCentroid(emb)  # type: ignore[misc]
        if probe:
            makers[f"{name} + probe"] = lambda emb=emb: FineTunedClassifier(emb, mode="probe")  # type: ignore[misc]
    if finetune:
        base = models.get("ppmi+svd") or next(iter(models.values()))
        makers["fine-tuned (ppmi+svd)" if "ppmi+svd" in models else "fine-tuned"] = (
            lambda: FineTunedClassifier(base, mode="finetune")
        )
    if tfidf:
        makers["tf-idf + centroid (no pretraining)"] = lambda: TfidfCentroid()
    results: dict[str, dict[str, Any]] = {}
    arr = np.asarray(texts, dtype=object)
    for name, make in makers.items():
        runs = []
        for seed in range(seeds):
            correct = 0
            for test in _folds(y, folds, seed):
                train = np.setdiff1d(np.arange(y.size), test)
                clf = make()
                if hasattr(clf, "random_state"):
                    clf.random_state = seed
                clf.fit(list(arr[train]), y[train])
                correct += int(np.sum(clf.predict(list(arr[test])) == y[test]))
            runs.append(correct / y.size)
        mean, half = mean_ci(runs)
        results[name] = {"mean": mean, "ci95": half, "runs": runs}
        if progress is not None:
            progress(f"{name}: {100 * mean:.1f}% +- {100 * half:.1f}")
    return results


# ------------------------------------------------------------------------------------------------
# issue 5's table on gensim's real test data

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
    """Issue 5's comparison on gensim's test data: WordSim353 and Pang & Lee polarity.

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


# ------------------------------------------------------------------------------------------------
# command line


def _cmd_similarity(args: argparse.Namespace) -> int:
    from .io import load

    emb = load(args.model)
    for path in args.pairs:
        (pr, _), (sr, _), oov = evaluate_word_pairs(emb, path, encoding=args.encoding)
        print(f"{path}\tpearson {pr:.4f}\tspearman {sr:.4f}\toov {oov:.1f}%")
    return 0


def _cmd_classify(args: argparse.Namespace) -> int:
    from .corpus import LineCorpus

    if args.word2vec:
        _need_gensim("--word2vec")

    texts, labels = read_labelled(args.labelled, encoding=args.encoding)
    corpus = LineCorpus(args.corpus, encoding=args.corpus_encoding)
    models = build_representations(corpus, window=args.window, min_count=args.min_count, dim=args.dim)
    if args.word2vec:
        models["word2vec"] = word2vec_embeddings(corpus, window=args.window, min_count=args.min_count)
    print(f"corpus: V={len(models['count'])}; labelled: {len(texts)} texts, "
          f"{len(set(labels))} classes; {args.folds}-fold CV x {args.seeds} seeds", file=sys.stderr)
    res = compare_classifiers(models, texts, labels, folds=args.folds, seeds=args.seeds,
                              finetune=not args.no_finetune,
                              progress=None if args.quiet else (lambda s: print(s, file=sys.stderr)))
    width = max(len(n) for n in res)
    for name, r in res.items():
        print(f"{name:<{width}}  {100 * r['mean']:5.1f}% +- {100 * r['ci95']:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    if args.plot:
        _bar_chart(res, args.plot)
    return 0


def _need_gensim(what: str) -> None:
    """Fail early, in one line, when gensim (the [eval] extra) is missing."""
    try:
        import gensim  # type: ignore[import-untyped,import-not-found,unused-ignore]  # noqa: F401
    except ImportError:
        from .cli import CliError

        raise CliError(f"{what} needs gensim: pip install 'cooc[eval]'") from None


def _cmd_real_data(args: argparse.Namespace) -> int:
    _need_gensim("cooc evaluate real-data (gensim's test data)")
    result = real_data_table(folds=args.folds, seeds=args.seeds, word2vec=not args.no_word2vec,
                             probe=not args.no_probe, finetune=not args.no_finetune,
                             progress=None if args.quiet else (lambda s: print(s, file=sys.stderr)))
    print(format_real_table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


def _bar_chart(res: dict[str, dict[str, Any]], out: str) -> None:
    from .charts import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 0.4 * len(res) + 1))
    names = list(res)
    ax.barh(names, [100 * res[n]["mean"] for n in names], xerr=[100 * res[n]["ci95"] for n in names])
    ax.invert_yaxis()
    ax.set_xlabel("accuracy (%), 95% interval")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``cooc evaluate similarity``, ``classify`` and ``real-data`` on the cooc subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser("evaluate", help="word-similarity and classification evaluation")
    sub = p.add_subparsers(dest="evaluate_command", metavar="WHAT")
    sub.required = True
    s = sub.add_parser("similarity", help="Pearson / Spearman / OOV of a model on word-pair files")
    s.add_argument("model", metavar="MODEL.npz")
    s.add_argument("pairs", nargs="+", metavar="PAIRS", help="WordSim353 / SimLex-999 style files")
    s.add_argument("--encoding", default=None, help="encoding of the pair files (default utf-8)")
    s.set_defaults(func=_cmd_similarity)
    c = sub.add_parser("classify", help="cross-validated accuracy: random vs pretrained vs fine-tuned vs TF-IDF")
    c.add_argument("--corpus", required=True, nargs="+", metavar="C", help="unlabelled text, one sentence per line")
    c.add_argument("--labelled", required=True, metavar="L", help="fastText '__label__x text' or 'label<TAB>text'")
    c.add_argument("--folds", type=_positive, default=10)
    c.add_argument("--seeds", type=_positive, default=10)
    c.add_argument("--window", type=_positive, default=3)
    c.add_argument("--min-count", type=_positive, default=5)
    c.add_argument("--dim", type=_positive, default=300)
    c.add_argument("--encoding", default=None, help="encoding of the labelled file (default utf-8)")
    c.add_argument("--corpus-encoding", default="utf-8")
    c.add_argument("--no-finetune", action="store_true", help="skip the (slower) fine-tuned classifier")
    c.add_argument("--word2vec", action="store_true",
                   help="add gensim word2vec skip-gram trained on the same tokens (needs gensim: cooc[eval])")
    c.add_argument("--json", default=None, metavar="OUT")
    c.add_argument("--plot", default=None, metavar="OUT.png")
    c.add_argument("-q", "--quiet", action="store_true")
    c.set_defaults(func=_cmd_classify)
    r = sub.add_parser("real-data", help="issue 5's table on gensim's test data: WordSim353 and Pang & Lee "
                       "polarity, pretrained on Lee news + a Wikipedia excerpt (needs cooc[eval])")
    r.add_argument("--folds", type=_positive, default=10)
    r.add_argument("--seeds", type=_positive, default=10)
    r.add_argument("--no-word2vec", action="store_true", help="skip the gensim word2vec row")
    r.add_argument("--no-probe", action="store_true", help="skip the linear-probe column")
    r.add_argument("--no-finetune", action="store_true", help="skip the (slower) fine-tuned classifier")
    r.add_argument("--json", default=None, metavar="OUT")
    r.add_argument("-q", "--quiet", action="store_true")
    r.set_defaults(func=_cmd_real_data)
    return p
