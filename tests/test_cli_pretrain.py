"""`cooc pretrain` and `cooc neighbors`: results on stdout, one-line errors with exit status 2."""

from __future__ import annotations

import gzip

import pytest

import cooc
from cooc.cli import main

CORPUS = [
    "the excellent restaurant served wonderful food all evening",
    "the terrible service at the awful restaurant disappointed everyone",
    "wonderful results came from great effort and dedication",
    "the garden produced excellent flowers in the warm spring",
]


@pytest.fixture
def corpus_file(tmp_path):
    path = tmp_path / "corpus.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(CORPUS) + "\n")
    return path


def test_pretrain_writes_a_model_equal_to_the_api(corpus_file, tmp_path, capsys):
    out = tmp_path / "model.npz"
    assert main(["pretrain", str(corpus_file), "-o", str(out), "--window", "2", "--jobs", "2", "-q"]) == 0
    err = capsys.readouterr().err
    assert "tokens" in err and "non-zeros" in err and "tokens/s" in err
    model = cooc.load(out)
    expected = cooc.pretrain(CORPUS, window=2)
    assert model.index_to_key == expected.index_to_key
    assert (model.counts != expected.counts).nnz == 0
    assert model.window == 2


@pytest.mark.parametrize(
    "flags,kwargs",
    [
        (["--weighting", "ppmi"], {"weighting": "ppmi"}),
        (["--weighting", "sppmi", "--shift", "2", "--cds", "0.5", "--distance", "harmonic"],
         {"weighting": "sppmi", "shift": 2.0, "cds": 0.5, "distance": "harmonic"}),
        (["--weighting", "ppmi", "--dim", "3", "--p", "0.25", "--seed", "4"],
         {"weighting": "ppmi", "dim": 3, "p": 0.25, "seed": 4}),
        (["--weighting", "ppmi", "--dim", "3", "--add-context"], {"weighting": "ppmi", "dim": 3, "add_context": True}),
    ],
    ids=["ppmi", "sppmi-harmonic", "svd", "svd-w+c"],
)
def test_pretrain_weighting_options_equal_the_api(corpus_file, tmp_path, flags, kwargs):
    out = tmp_path / "model.npz"
    assert main(["pretrain", str(corpus_file), "-o", str(out), "-q", *flags]) == 0
    model = cooc.load(out)
    expected = cooc.pretrain(CORPUS, **kwargs)
    assert model.index_to_key == expected.index_to_key
    assert (model.counts != expected.counts).nnz == 0
    if "dim" in kwargs:
        assert model.vectors.shape == (len(expected), kwargs["dim"])
        assert model.vectors.tobytes() == expected.vectors.tobytes()
    else:
        assert (model.vectors != expected.vectors).nnz == 0
        assert not (expected.vectors != cooc.pretrain(CORPUS).vectors).nnz == 0  # not the raw counts


def test_neighbors_prints_the_api_result(corpus_file, tmp_path, capsys):
    out = tmp_path / "model.npz"
    assert main(["pretrain", str(corpus_file), "-o", str(out), "-q"]) == 0
    capsys.readouterr()
    assert main(["neighbors", str(out), "excellent", "-k", "3"]) == 0
    line = capsys.readouterr().out.strip()
    expected = cooc.pretrain(CORPUS).most_similar("excellent", topn=3)
    assert line == "excellent\t" + "\t".join(f"{w} {s:.4f}" for w, s in expected)



@pytest.mark.parametrize("jobs", ["1", "2"])
def test_neighbors_of_many_words_keep_their_order_and_report_unknown_ones(corpus_file, tmp_path, capsys, jobs):
    out = tmp_path / "model.npz"
    assert main(["pretrain", str(corpus_file), "-o", str(out), "-q"]) == 0
    capsys.readouterr()
    model = cooc.load(out)
    words = ["terrible", "nosuchword", "excellent", "terrible"]
    assert main(["neighbors", str(out), *words, "-k", "2", "--jobs", jobs]) == 2
    captured = capsys.readouterr()
    lines = captured.out.strip().split("\n")
    assert [line.split("\t")[0] for line in lines] == ["terrible", "excellent", "terrible"]
    for line in lines:
        word = line.split("\t")[0]
        assert line == word + "\t" + "\t".join(f"{w} {s:.4f}" for w, s in model.most_similar(word, topn=2))
    assert captured.err.count("\n") == 1 and "nosuchword" in captured.err

@pytest.mark.parametrize(
    "argv,message",
    [
        (["pretrain", "{missing}", "-o", "{out}"], "not found"),
        (["pretrain", "{corpus}", "-o", "{out}", "--window", "0"], "--window"),
        (["pretrain", "{corpus}", "-o", "{out}", "--memory-limit", "lots"], "--memory-limit"),
        (["pretrain", "{corpus}", "-o", "{tmp}"], "directory"),
        (["neighbors", "{corpus}", "word"], "cannot load"),
        (["neighbors", "{model}", "nosuchword"], "nosuchword"),
        (["pretrain", "{corpus}", "-o", "{out}", "--add-context"], "needs --dim"),
        (["pretrain", "{corpus}", "-o", "{out}", "--weighting", "ppmi", "--cds", "2"], "cds"),
        (["pretrain", "{corpus}", "-o", "{out}", "--weighting", "tfidf"], "--weighting"),
        (["pretrain", "{corpus}", "-o", "{out}", "--distance", "harmonic", "--scheduler", "tcp://127.0.0.1:1"],
         "not available with a Dask cluster"),
        (["pretrain", "{corpus}", "-o", "{out}", "--dask-workers", "2", "--add-context"], "needs --dim"),
    ],
)
def test_errors_are_one_line_and_exit_2(argv, message, corpus_file, tmp_path, capsys):
    model = tmp_path / "m.npz"
    assert main(["pretrain", str(corpus_file), "-o", str(model), "-q"]) == 0
    capsys.readouterr()
    fill = {"missing": str(tmp_path / "nope.txt"), "out": str(tmp_path / "o.npz"), "corpus": str(corpus_file),
            "tmp": str(tmp_path), "model": str(model)}
    args = [a.format(**fill) for a in argv]
    try:
        status = main(args)
    except SystemExit as exc:  # argparse usage errors
        status = exc.code
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert message in err
    assert not (tmp_path / "o.npz").exists()


def test_demo_on_user_data_through_the_cli(tmp_path, capsys):
    rng = __import__("numpy").random.default_rng(0)
    good = ["great", "lovely", "superb", "fine", "nice"]
    bad = ["awful", "poor", "dreadful", "bad", "nasty"]
    filler = [f"w{chr(97 + i)}" for i in range(20)]
    corpus = tmp_path / "corpus.txt"
    lines = []
    for _ in range(400):
        pool = good if rng.random() < 0.5 else bad
        lines.append(" ".join(list(rng.choice(pool, 3)) + list(rng.choice(filler, 4))))
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    labelled = tmp_path / "labelled.txt"
    rows = []
    for i in range(40):
        label, pool = ("pos", good) if i % 2 else ("neg", bad)
        rows.append(f"__label__{label} " + " ".join(rng.choice(pool, 2)) + " " + " ".join(rng.choice(filler, 2)))
    labelled.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert main(["demo", "--corpus", str(corpus), "--labelled", str(labelled)]) == 0
    out = capsys.readouterr().out
    assert "STAGE 1" in out and "VERDICT" in out
    assert "random + centroid" in out and "tf-idf" in out
    assert main(["demo", "--corpus", str(corpus)]) == 2
    assert "go together" in capsys.readouterr().err
