"""`cooc classifier train|predict|evaluate`, saved classifiers, `--json` outputs and progress on stderr."""

from __future__ import annotations

import io
import json
import logging
import shutil
import sys

import numpy as np
import pytest

import cooc
from cooc.cli import main
from cooc.cli._common import Progress
from cooc.finetune import FineTunedClassifier, NearestCentroid, load_classifier, save_classifier

CORPUS = [
    "the battery drains fast after the update",
    "my battery dies quickly and the charger is hot",
    "login fails with the right password",
    "the password reset email never arrives so login is blocked",
    "please refund my payment for the order",
    "the refund for the cancelled order did not arrive",
] * 3

LABELLED = [
    ("battery", "battery drains fast"),
    ("battery", "charger hot battery dies"),
    ("battery", "battery dies after update"),
    ("login", "login fails"),
    ("login", "password reset never arrives"),
    ("login", "cannot login password"),
    ("refund", "refund my payment"),
    ("refund", "cancelled order refund"),
    ("refund", "payment for the order"),
]


@pytest.fixture
def files(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    model = tmp_path / "model.npz"
    assert main(["pretrain", str(corpus), "-o", str(model), "-q"]) == 0
    labelled = tmp_path / "labelled.tsv"
    labelled.write_text("".join(f"{lab}\t{text}\n" for lab, text in LABELLED), encoding="utf-8")
    return tmp_path, model, labelled


def run(capsys, *args):
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def texts_labels():
    return [t for _, t in LABELLED], [lab for lab, _ in LABELLED]


@pytest.mark.parametrize("kind", ["centroid", "probe", "finetune"])
def test_train_then_predict_equals_the_api(files, capsys, kind):
    tmp, model, labelled = files
    clf_file = tmp / "clf.npz"
    status, out, err = run(capsys, "classifier", "train", model, labelled, "-o", clf_file, "--kind", kind,
                           "--max-epochs", "30")
    assert status == 0, err
    assert out == "" and "9 texts" in err and "3 classes" in err
    emb = cooc.load(model)
    texts, labels = texts_labels()
    api = (NearestCentroid(emb) if kind == "centroid"
           else FineTunedClassifier(emb, mode=kind, max_epochs=30)).fit(texts, labels)
    queries = ["my battery is hot", "password", "refund please", "zzz unknown"]
    status, out, err = run(capsys, "classifier", "predict", clf_file, *queries, "--json")
    assert status == 0, err
    doc = json.loads(out)
    assert [d["text"] for d in doc] == queries
    assert [d["label"] for d in doc] == api.predict(queries).tolist()
    got = np.array([[d["probabilities"][c] for c in api.classes_] for d in doc])
    np.testing.assert_allclose(got, api.predict_proba(queries), rtol=1e-12, atol=1e-15)
    status, out, _ = run(capsys, "classifier", "predict", clf_file, *queries)
    assert out.splitlines() == [f"{lab}\t{q}" for lab, q in zip(api.predict(queries).tolist(), queries)]


def test_evaluate_reports_the_accuracy(files, capsys):
    tmp, model, labelled = files
    clf_file = tmp / "clf.npz"
    assert run(capsys, "classifier", "train", model, labelled, "-o", clf_file, "-q")[0] == 0
    test = tmp / "test.tsv"
    test.write_text("battery\tbattery hot\nlogin\tpassword\nrefund\tbattery\nrefund\trefund order\n",
                    encoding="utf-8")
    status, out, err = run(capsys, "classifier", "evaluate", clf_file, test, "--json")
    assert status == 0, err
    doc = json.loads(out)
    clf = load_classifier(clf_file)
    pred = clf.predict(["battery hot", "password", "battery", "refund order"])
    expected = float(np.mean(pred == np.array(["battery", "login", "refund", "refund"])))
    assert doc["accuracy"] == pytest.approx(expected) and doc["n"] == 4
    assert 0.0 <= doc["accuracy"] <= 1.0 and doc["accuracy"] < 1.0   # "battery" as refund is wrong
    status, out, _ = run(capsys, "classifier", "evaluate", clf_file, test)
    assert out.startswith(f"accuracy {100 * expected:.2f}%")


def test_predict_reads_texts_from_a_file(files, capsys):
    tmp, model, labelled = files
    clf_file = tmp / "clf.npz"
    assert run(capsys, "classifier", "train", model, labelled, "-o", clf_file, "-q")[0] == 0
    inp = tmp / "in.txt"
    inp.write_text("battery hot\n\nrefund order\n", encoding="utf-8")
    status, out, err = run(capsys, "classifier", "predict", clf_file, "--input", inp)
    assert status == 0, err
    assert [ln.split("\t")[1] for ln in out.splitlines()] == ["battery hot", "refund order"]
    status, _, err = run(capsys, "classifier", "predict", clf_file)
    assert status == 2 and "--input" in err


@pytest.mark.parametrize("bad, line", [("battery\tok\nno tab here\n", 2), ("battery\tok\n\t text\n", 2),
                                       ("a\tb\tc\n", 1)])
def test_bad_labelled_lines_name_the_file_and_line(files, capsys, bad, line):
    tmp, model, _ = files
    labelled = tmp / "bad.tsv"
    labelled.write_text(bad, encoding="utf-8")
    status, out, err = run(capsys, "classifier", "train", model, labelled, "-o", tmp / "clf.npz")
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert str(labelled) in err and f"line {line}" in err
    assert not (tmp / "clf.npz").exists()


def test_one_class_is_refused(files, capsys):
    tmp, model, _ = files
    labelled = tmp / "one.tsv"
    labelled.write_text("a\tbattery\na\tlogin\n", encoding="utf-8")
    status, _, err = run(capsys, "classifier", "train", model, labelled, "-o", tmp / "clf.npz")
    assert status == 2 and "2 classes" in err


def test_a_changed_model_is_refused_naming_both_files(files, capsys):
    tmp, model, labelled = files
    clf_file = tmp / "clf.npz"
    assert run(capsys, "classifier", "train", model, labelled, "-o", clf_file, "-q")[0] == 0
    original = tmp / "original.npz"
    shutil.copy(model, original)
    cooc.pretrain(CORPUS[:4]).save(model)   # the same path, another model
    status, out, err = run(capsys, "classifier", "predict", clf_file, "battery")
    assert status == 2 and out == ""
    assert str(model) in err and str(clf_file.name) in err and "SHA-256" in err
    with pytest.raises(ValueError, match="SHA-256"):
        load_classifier(clf_file)
    # --model points at the model it was fitted on
    status, out, err = run(capsys, "classifier", "predict", clf_file, "battery", "--model", original)
    assert status == 0 and out.startswith("battery\t"), err


def test_a_moved_model_is_found_relative_to_the_classifier_or_with_model(files, capsys, tmp_path_factory):
    tmp, model, labelled = files
    clf_file = tmp / "clf.npz"
    assert run(capsys, "classifier", "train", model, labelled, "-o", clf_file, "-q")[0] == 0
    moved = tmp_path_factory.mktemp("moved")
    shutil.move(str(model), moved / "model.npz")
    status, _, err = run(capsys, "classifier", "predict", clf_file, "battery")
    assert status == 2 and str(clf_file) in err and str(model) in err and "--model" in err
    status, out, err = run(capsys, "classifier", "predict", clf_file, "battery", "--model", moved / "model.npz")
    assert status == 0 and out.startswith("battery\t"), err
    # the two files moved together: found next to the classifier
    shutil.move(str(clf_file), moved / "clf.npz")
    status, out, err = run(capsys, "classifier", "predict", moved / "clf.npz", "battery")
    assert status == 0 and out.startswith("battery\t"), err


def test_not_a_classifier_file(files, capsys):
    tmp, model, _ = files
    status, _, err = run(capsys, "classifier", "predict", model, "battery")
    assert status == 2 and "not a cooc classifier file" in err and str(model) in err
    junk = tmp / "junk.npz"
    junk.write_bytes(b"PK\x03\x04 not a zip")
    status, _, err = run(capsys, "classifier", "predict", junk, "battery")
    assert status == 2 and "not a cooc classifier file" in err
    status, _, err = run(capsys, "classifier", "predict", tmp / "missing.npz", "battery")
    assert status == 2 and "missing.npz" in err


def test_saved_file_holds_no_pickle_and_round_trips(files):
    tmp, model, _ = files
    texts, labels = texts_labels()
    emb = cooc.load(model)
    clf = FineTunedClassifier(emb, mode="finetune", max_epochs=20).fit(texts, labels)
    path = save_classifier(clf, tmp / "ft.npz", model)
    with np.load(path, allow_pickle=False) as npz:   # every member loads without pickle
        members = {k: npz[k] for k in npz.files}
    meta = json.loads(bytes(members["meta"]))
    assert meta["kind"] == "FineTunedClassifier" and meta["params"]["mode"] == "finetune"
    assert meta["model"]["sha256"] == __import__("hashlib").sha256(model.read_bytes()).hexdigest()
    back = load_classifier(path)
    assert back.tuned_words_ == clf.tuned_words_
    np.testing.assert_array_equal(back.predict_proba(texts), clf.predict_proba(texts))
    with pytest.raises(TypeError, match="clf must be"):
        save_classifier(object(), tmp / "x.npz", model)


def test_neighbors_json_equals_the_api(files, capsys):
    _, model, _ = files
    status, out, err = run(capsys, "neighbors", model, "battery", "nosuchword", "refund", "-k", "3", "--json")
    assert status == 2 and "nosuchword" in err
    doc = json.loads(out)
    emb = cooc.load(model)
    assert list(doc) == ["battery", "refund"]
    for word, rows in doc.items():
        assert [(r["word"], r["similarity"]) for r in rows] == [(w, pytest.approx(s)) for w, s in
                                                               emb.most_similar(word, topn=3)]


def test_evaluate_similarity_json(files, capsys):
    tmp, model, _ = files
    pairs = tmp / "pairs.txt"
    pairs.write_text("battery\tcharger\t8\nbattery\trefund\t1\nlogin\tpassword\t9\nlogin\tzzz\t3\n",
                     encoding="utf-8")
    status, out, err = run(capsys, "evaluate", "similarity", model, pairs, "--json")
    assert status == 0, err
    [row] = json.loads(out)
    (pr, _), (sr, _), oov = cooc.load(model).evaluate_word_pairs(pairs)
    assert row["file"] == str(pairs)
    assert row["pearson"] == pytest.approx(pr) and row["spearman"] == pytest.approx(sr)
    assert row["oov_percent"] == pytest.approx(oov) and oov == 25.0


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_silent_when_redirected_or_quiet(monkeypatch):
    for stream, quiet in ((io.StringIO(), False), (_Terminal(), True)):
        monkeypatch.setattr(sys, "stderr", stream)
        p = Progress(100, quiet, desc="reading")
        with p.stages_from_log():
            logging.getLogger("cooc").info("counting")
        p(50)
        p.note("a note")
        p.close()
        assert stream.getvalue() == ""


def test_progress_without_tqdm_writes_one_line_per_stage(monkeypatch):
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    monkeypatch.setitem(sys.modules, "tqdm", None)   # import tqdm fails
    p = Progress(100, False, command="pretrain", desc="reading")
    p(10)
    with p.stages_from_log():
        logging.getLogger("cooc.counting").info("counting  pairs")
        logging.getLogger("cooc").debug("not a stage")
    p.close()
    assert term.getvalue() == "cooc pretrain: reading\ncooc pretrain: counting pairs\n"
    assert logging.getLogger("cooc").level == logging.NOTSET   # restored


def test_progress_with_tqdm_shows_a_bar_per_stage(monkeypatch):
    pytest.importorskip("tqdm", reason="the optional extra cooc[progress]")
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    p = Progress(1000, False, desc="reading")
    p(500)
    with p.stages_from_log():
        logging.getLogger("cooc").info("weighting")
    p.close()
    text = term.getvalue()
    assert "reading" in text and "weighting" in text and "\r" in text


def test_pretrain_redirected_writes_only_the_summary(tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    assert main(["pretrain", str(corpus), "-o", str(tmp_path / "m.npz")]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and len(err.splitlines()) == 1 and "tokens/s" in err
