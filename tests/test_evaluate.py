"""Word-pair evaluation, labelled-data readers, TF-IDF baseline and the comparison (cooc.evaluate)."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
from scipy import stats

import cooc
from cooc.cli.evaluate import add_parser
from cooc.evaluate import TfidfCentroid, compare_classifiers, evaluate_word_pairs, mean_ci, read_labelled

CORPUS = [
    "good food and good wine", "great food great wine", "bad food awful wine", "awful service bad wine",
    "good film great music", "bad film awful music", "happy guests good night", "sad guests bad night",
] * 3


@pytest.fixture
def emb():
    return cooc.pretrain(CORPUS)


def test_evaluate_word_pairs_matches_scipy(tmp_path, emb):
    f = tmp_path / "pairs.tsv"
    f.write_text("# comment\n# w1\tw2\tscore\nGood\tgreat\t9\ngood\tbad\t2\nfood\twine\t6\n"
                 "wine\tunknownword\t5\n\nfilm\tmusic\t7\n", encoding="utf-8")
    (pr, pp), (sr, spv), oov = emb.evaluate_word_pairs(f)
    pairs = [("good", "great", 9), ("good", "bad", 2), ("food", "wine", 6), ("film", "music", 7)]
    model = [emb.similarity(a, b) for a, b, _ in pairs]
    human = [s for *_, s in pairs]
    assert pr == pytest.approx(stats.pearsonr(human, model)[0])
    assert sr == pytest.approx(stats.spearmanr(human, model)[0])
    assert 0 <= pp <= 1 and 0 <= spv <= 1
    assert oov == pytest.approx(20.0)


def test_evaluate_word_pairs_case_sensitive_counts_more_oov(tmp_path, emb):
    f = tmp_path / "pairs.tsv"
    f.write_text("Good\tgreat\t9\ngood\tbad\t2\nfood\twine\t6\nfilm\tmusic\t7\n", encoding="utf-8")
    assert evaluate_word_pairs(emb, f, case_insensitive=False)[2] == pytest.approx(25.0)


@pytest.mark.parametrize("line,match", [("good\tbad\n", "line 2"), ("good\tbad\tx\n", "not a number"),
                                        ("a\tb\tc\td\n", "3 fields")])
def test_evaluate_word_pairs_malformed_line_names_file_and_line(tmp_path, emb, line, match):
    f = tmp_path / "bad.tsv"
    f.write_text("good\tgreat\t9\n" + line, encoding="utf-8")
    with pytest.raises(ValueError, match=match) as info:
        evaluate_word_pairs(emb, f)
    assert "bad.tsv" in str(info.value) and "line 2" in str(info.value)


def test_evaluate_word_pairs_all_oov(tmp_path, emb):
    f = tmp_path / "p.tsv"
    f.write_text("x\ty\t1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="in the vocabulary"):
        evaluate_word_pairs(emb, f)


def test_read_fasttext_and_tsv(tmp_path):
    ft = tmp_path / "a.txt"
    ft.write_text("__label__pos a good film\n\n__label__neg a bad one\n", encoding="utf-8")
    assert read_labelled(ft) == (["a good film", "a bad one"], ["pos", "neg"])
    tsv = tmp_path / "a.tsv"
    tsv.write_text("pos\ta good film\nneg\ta bad one\n", encoding="utf-8")
    assert read_labelled(tsv) == (["a good film", "a bad one"], ["pos", "neg"])


@pytest.mark.parametrize("content,fmt", [("__label__pos ok\n__label__ nothing\n", "fasttext"),
                                         ("__label__pos ok\nno label here\n", "fasttext"),
                                         ("pos\tok\nno tab here\n", "tsv")])
def test_read_labelled_malformed_line(tmp_path, content, fmt):
    f = tmp_path / "l.txt"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=r"l\.txt: line 2"):
        read_labelled(f, format=fmt)


def test_read_labelled_encoding_error_is_reported_and_explicit_encoding_decodes(tmp_path):
    f = tmp_path / "cp.txt"
    f.write_bytes("__label__pos caf\u00e9 ok\n__label__neg na\u00efve \u2013 bad\n".encode("cp1252"))
    with pytest.raises(ValueError, match=r"cp\.txt: line 1: cannot decode byte 0xe9 as utf-8"):
        read_labelled(f)
    texts, labels = read_labelled(f, encoding="cp1252")
    assert texts[1] == "na\u00efve \u2013 bad" and labels == ["pos", "neg"]


def test_tfidf_centroid_learns_words_without_pretraining():
    texts = ["good great film", "great good fun", "bad awful film", "awful bad mess"]
    y = ["pos", "pos", "neg", "neg"]
    clf = TfidfCentroid().fit(texts, y)
    assert clf.predict(["good fun", "awful mess", "unknown"]).tolist()[:2] == ["pos", "neg"]
    assert clf.score(texts, y) == 1.0
    assert clf.idf_.shape == (len(clf.vocabulary_),)


def test_mean_ci():
    m, h = mean_ci([0.5, 0.7])
    assert m == pytest.approx(0.6) and h == pytest.approx(stats.t.ppf(0.975, 1) * np.std([0.5, 0.7], ddof=1) / np.sqrt(2))
    assert mean_ci([0.4]) == (0.4, 0.0)


def test_compare_classifiers_runs_every_approach(emb):
    texts = ["good food", "great wine", "good night", "great music", "happy guests",
             "bad food", "awful wine", "bad night", "awful music", "sad guests"]
    y = ["pos"] * 5 + ["neg"] * 5
    models = {"random": cooc.random_embeddings(emb, dim=8), "count": emb}
    res = compare_classifiers(models, texts, y, folds=5, seeds=2)
    assert set(res) == {"random + centroid", "random + probe", "count + centroid", "count + probe",
                        "fine-tuned", "tf-idf + centroid (no pretraining)"}
    for r in res.values():
        assert 0 <= r["mean"] <= 1 and len(r["runs"]) == 2
    # the centroid runs equal a cross-validation written out by hand
    from cooc.evaluate import _folds
    ya = np.asarray(y)
    correct = 0
    for test in _folds(ya, 5, 0):
        train = np.setdiff1d(np.arange(10), test)
        clf = cooc.NearestCentroid(emb).fit([texts[i] for i in train], ya[train])
        correct += int(np.sum(clf.predict([texts[i] for i in test]) == ya[test]))
    assert res["count + centroid"]["runs"][0] == correct / 10
    with pytest.raises(ValueError, match="folds"):
        compare_classifiers(models, texts, y, folds=6, seeds=1)


def test_cli_parser_registers_the_subcommands():
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    a = parser.parse_args(["evaluate", "similarity", "m.npz", "p1.tsv", "p2.tsv"])
    assert a.pairs == ["p1.tsv", "p2.tsv"] and callable(a.func)
    b = parser.parse_args(["evaluate", "classify", "--corpus", "c.txt", "--labelled", "l.txt", "--folds", "5"])
    assert b.folds == 5 and b.seeds == 10 and b.corpus == ["c.txt"] and callable(b.func)


def test_similarity_command_prints_scores(tmp_path, emb, capsys):
    model = tmp_path / "m.npz"
    emb.save(model)
    pairs = tmp_path / "p.tsv"
    pairs.write_text("good\tgreat\t9\ngood\tbad\t2\nfood\twine\t6\n", encoding="utf-8")
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["evaluate", "similarity", str(model), str(pairs)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "spearman" in out and "oov 0.0%" in out


def test_classify_command(tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    lab = tmp_path / "l.txt"
    lab.write_text("".join(f"__label__{'pos' if i % 2 == 0 else 'neg'} "
                           f"{'good great' if i % 2 == 0 else 'bad awful'} food\n" for i in range(10)),
                   encoding="utf-8")
    out_json = tmp_path / "r.json"
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["evaluate", "classify", "--corpus", str(corpus), "--labelled", str(lab),
                              "--folds", "2", "--seeds", "2", "--min-count", "1", "--dim", "4",
                              "--json", str(out_json), "-q"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "tf-idf + centroid" in out and "+-" in out
    import json
    assert "ppmi+svd + centroid" in json.loads(out_json.read_text())


def test_demo_real_says_plainly_when_pretraining_does_not_help(tmp_path):
    import io

    from cooc.demo_real import run_real

    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    lab = tmp_path / "l.tsv"
    # labels unrelated to the words: nothing can beat random beyond the noise
    lab.write_text("".join(f"{'a' if i % 2 else 'b'}\t{CORPUS[i % 8]}\n" for i in range(16)), encoding="utf-8")
    out = io.StringIO()
    res = run_real(out, corpus, lab, min_count=1, dim=4, folds=2, seeds=3)
    text = out.getvalue()
    assert "do NOT beat random vectors beyond the noise" in res["verdict"]
    assert res["verdict"] in text and "STAGE 1" in text and "2-fold" in text
