"""Sharded models (cooc.sharded): written block by block, loaded memory-mapped, queried block by block
with the answers of the in-memory model; partial, corrupt and interrupted writes refused or cleaned."""

from __future__ import annotations

import json
import mmap
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

import cooc
from cooc import sharded
from cooc._stale import _host
from cooc.io import TEMP_PREFIX, ModelFileError
from cooc.sharded import META_NAME, ShardedCSR, ShardWriter, write_block

fsspec = pytest.importorskip("fsspec", reason="URLs need fsspec (the dask extra)")

WORDS = [a + b for a in "abcdefgh" for b in "xyz"]


def corpus(n: int = 300, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, len(WORDS) + 1)
    lines = [" ".join(rng.choice(WORDS, size=int(rng.integers(2, 12)), p=p / p.sum())) for _ in range(n)]
    # ties: twin and twain have the same contexts, so they are equally near gamma
    return lines + ["twin alpha", "twain alpha", "twin beta", "twain beta", "gamma alpha", "gamma beta", "lone"]


@pytest.fixture(scope="module")
def model():
    return cooc.pretrain(corpus(), window=2)


def assert_same_model(a: cooc.Embeddings, b: cooc.Embeddings) -> None:
    assert a.index_to_key == b.index_to_key
    assert a.recipe == b.recipe and a.window == b.window and a.stopwords == b.stopwords
    np.testing.assert_array_equal(a.frequencies, b.frequencies)
    ca = a.counts.tocsr() if isinstance(a.counts, ShardedCSR) else a.counts
    cb = b.counts.tocsr() if isinstance(b.counts, ShardedCSR) else b.counts
    assert ca.dtype == cb.dtype == np.int64 and (ca != cb).nnz == 0
    va = a.vectors.tocsr() if isinstance(a.vectors, ShardedCSR) else a.vectors
    vb = b.vectors.tocsr() if isinstance(b.vectors, ShardedCSR) else b.vectors
    if sp.issparse(va):
        assert (va != vb).nnz == 0
    else:
        assert va.dtype == vb.dtype
        np.testing.assert_array_equal(va, vb)


def memory_mapped(a: np.ndarray) -> bool:
    x = a
    while x is not None:
        if isinstance(x, (np.memmap, mmap.mmap)):
            return True
        x = getattr(x, "base", None)
    return False


# -- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("shards", [1, 3, 7])
def test_round_trip_local_directory(tmp_path, model, shards):
    model.note = "kept"
    try:
        path = model.save(tmp_path / "m", shards=shards)
    finally:
        del model.note
    assert sorted(os.listdir(tmp_path)) == ["m"]   # no temporary directory left
    loaded = cooc.load(path)
    assert loaded.sharded and isinstance(loaded.counts, ShardedCSR) and isinstance(loaded.vectors, ShardedCSR)
    assert loaded.counts.n_blocks == shards and loaded.counts.nnz == model.counts.nnz
    assert loaded.note == "kept"
    assert_same_model(loaded, model)
    meta = json.loads((tmp_path / "m" / META_NAME).read_text())
    assert meta["format"] == "cooc-sharded" and meta["version"] == 1 and meta["vocab_size"] == len(model)
    assert [b[0] for b in meta["matrices"]["counts"]["blocks"]][0] == 0
    assert sum(b[2] for b in meta["matrices"]["counts"]["blocks"]) == model.counts.nnz


def test_round_trip_memory_url(model):
    url = "memory://cooc-test/round-trip"
    path = model.save(url, shards=4)
    assert path == url
    loaded = cooc.load(url)
    assert_same_model(loaded, model)
    assert loaded.most_similar("ax", topn=5) == model.most_similar("ax", topn=5)
    fsspec.filesystem("memory").rm("/cooc-test", recursive=True)


def test_dense_vectors_round_trip_memory_mapped(tmp_path, model):
    dense = model.reweight("ppmi", dim=6)
    loaded = cooc.load(dense.save(tmp_path / "d", shards=2))
    assert isinstance(loaded.vectors, np.ndarray) and loaded.vectors.dtype == np.float32
    assert memory_mapped(loaded.vectors)
    assert_same_model(loaded, dense)
    for w in ("ax", "twin", "lone"):
        assert loaded.most_similar(w, topn=7) == dense.most_similar(w, topn=7)


def test_blocks_are_memory_mapped(tmp_path, model):
    loaded = cooc.load(model.save(tmp_path / "m", shards=3))
    for matrix in (loaded.counts, loaded.vectors):
        for b in range(matrix.n_blocks):
            block = matrix.block(b)
            assert memory_mapped(block.data) and memory_mapped(block.indices)
            assert matrix.block(b) is block   # opened once


def test_vectors_share_the_structure_of_the_counts(tmp_path, model):
    path = model.save(tmp_path / "m", shards=3)
    assert sorted(os.listdir(path / "vectors")) == ["00000.data.npy", "00001.data.npy", "00002.data.npy"]
    meta = json.loads((path / META_NAME).read_text())
    assert meta["matrices"]["vectors"]["structure"] == "counts"
    again = cooc.load(cooc.load(path).save(tmp_path / "again", shards=3))   # kept when resaved
    assert sorted(os.listdir(tmp_path / "again" / "vectors"))[0] == "00000.data.npy"
    assert_same_model(again, model)
    ppmi = model.reweight("ppmi")   # cells of PPMI 0 are dropped: a structure of its own
    assert ppmi.vectors.nnz < model.counts.nnz
    own = ppmi.save(tmp_path / "own", shards=2)
    assert "00000.indices.npy" in os.listdir(own / "vectors")
    assert json.loads((own / META_NAME).read_text())["matrices"]["vectors"]["structure"] == "own"
    meta["matrices"]["vectors"]["blocks"] = [[0, len(model), model.counts.nnz]]
    (path / META_NAME).write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="structure 'counts' does not match"):
        cooc.load(path)


def test_a_pickled_sharded_model_names_its_files(tmp_path, model):
    import pickle

    shd = cooc.load(model.save(tmp_path / "m", shards=3))
    shd.most_similar("ax")   # opens every block
    raw = pickle.dumps(shd)
    assert len(raw) < model.counts.data.nbytes   # the blocks are not in the pickle
    back = pickle.loads(raw)
    assert back.most_similar("ax", topn=4) == model.most_similar("ax", topn=4)


def test_in_memory_load_is_an_ordinary_model(tmp_path, model):
    loaded = cooc.load(model.save(tmp_path / "m", shards=3), in_memory=True)
    assert not loaded.sharded and sp.issparse(loaded.counts)
    assert_same_model(loaded, model)
    assert (loaded.reweight("ppmi").vectors != model.reweight("ppmi").vectors).nnz == 0


# -- queries -------------------------------------------------------------------------------------


@pytest.mark.parametrize("weighting", ["count", "ppmi"])
def test_queries_equal_the_in_memory_model(tmp_path, backend, model, weighting):
    mem = model if weighting == "count" else model.reweight(weighting)
    shd = cooc.load(mem.save(tmp_path / "m", shards=5))
    for w in mem.index_to_key:
        for topn in (0, 1, 3, len(mem) + 2):
            assert shd.most_similar(w, topn=topn) == mem.most_similar(w, topn=topn), (w, topn)
    assert shd.most_similar_batch(mem.index_to_key, topn=4) == mem.most_similar_batch(mem.index_to_key, topn=4)
    assert shd.most_similar_batch([], topn=4) == []
    assert shd.most_similar(positive=["ax", "twin"], negative=["bz"], topn=6) == \
        mem.most_similar(positive=["ax", "twin"], negative=["bz"], topn=6)
    vec = mem["cz"] + 0.5 * mem["alpha"]
    assert shd.most_similar(vec, topn=8) == mem.most_similar(vec, topn=8)
    assert shd.similarity("twin", "twain") == mem.similarity("twin", "twain")
    for w in ("ax", "lone", "twin"):
        np.testing.assert_array_equal(shd[w], mem[w])
        np.testing.assert_array_equal(shd.get_vector(w), mem.get_vector(w))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_signed_vectors_with_ties(tmp_path, backend, seed):
    rng = np.random.default_rng(seed)
    n, dim = 120, 40
    m = sp.random(n, dim, density=0.08, random_state=seed, format="csr",
                  data_rvs=lambda k: rng.integers(-3, 4, size=k).astype(float))
    m.eliminate_zeros()
    m = sp.vstack([m, m[:20], sp.csr_matrix((3, dim))], format="csr")   # duplicated and empty rows
    words = [f"w{i:03d}" for i in range(m.shape[0])]
    mem = cooc.Embeddings(words, m, stopwords=None)
    shd = cooc.load(mem.save(tmp_path / "r", shards=int(rng.integers(2, 9))))
    assert shd.counts is None and isinstance(shd.vectors, ShardedCSR)
    for topn in (1, 5, 30, 200):
        assert shd.most_similar_batch(words, topn=topn) == mem.most_similar_batch(words, topn=topn)
    q = rng.integers(-2, 3, size=dim).astype(float)
    assert shd.most_similar(q, topn=10) == mem.most_similar(q, topn=10)


def test_ties_follow_vocabulary_order(tmp_path, model):
    shd = cooc.load(model.save(tmp_path / "m", shards=len(model)))   # one row per block
    got = shd.most_similar("gamma", topn=3)
    assert got == model.most_similar("gamma", topn=3)
    assert [w for w, _ in got[:2]] == ["twain", "twin"] and got[0][1] == got[1][1]


def test_operations_needing_the_whole_matrix_say_so(tmp_path, model):
    shd = cooc.load(model.save(tmp_path / "m", shards=2))
    for call, what in [
        (lambda: shd.reweight("ppmi"), "reweight"),
        (lambda: shd.restrict_vocab(min_count=2), "restrict_vocab"),
        (lambda: shd.update(["ax by"]), "update"),
        (lambda: cooc.merge(shd, model), "merge"),
        (lambda: shd.to_scipy(), "to_scipy"),
        (lambda: shd.save(tmp_path / "one.npz"), "save"),
        (lambda: shd.save_word2vec_format(tmp_path / "v.txt"), "save_word2vec_format"),
    ]:
        with pytest.raises(ValueError, match=f"{what}.*sharded.*in_memory=True"):
            call()
    with pytest.raises(TypeError, match="row blocks on disk"):
        np.asarray(shd.vectors)
    with pytest.raises(TypeError, match="in_memory=True"):
        cooc.document_vector("ax bz", shd)
    resaved = cooc.load(shd.save(tmp_path / "again", shards=9))   # a sharded model keeps its blocks
    assert resaved.counts.n_blocks == 2
    assert_same_model(resaved, model)


def test_sharded_matrix_operations(tmp_path, model):
    shd = cooc.load(model.save(tmp_path / "m", shards=4))
    c, m = shd.counts, model.counts
    assert c.shape == m.shape and c.dtype == np.int64 and c.nnz == m.nnz
    assert c.sum() == m.sum()
    np.testing.assert_array_equal(c.sum(axis=0), np.asarray(m.sum(axis=0)).ravel())
    np.testing.assert_array_equal(c.sum(axis=1), np.asarray(m.sum(axis=1)).ravel())
    x = np.arange(m.shape[1] * 2, dtype=np.float64).reshape(-1, 2)
    np.testing.assert_array_equal(c @ x, m @ x)
    np.testing.assert_array_equal(x.T @ c, x.T @ m)
    assert ((c @ sp.identity(m.shape[1], format="csr")) != m).nnz == 0
    for i in (0, 7, len(model) - 1):
        assert (c.getrow(i) != m.getrow(i)).nnz == 0
    with pytest.raises(ValueError, match="max_bytes"):
        c.tocsr(max_bytes=100)
    with pytest.raises(IndexError):
        c.row(len(model))
    with pytest.raises(ValueError, match="axis"):
        c.sum(axis=2)


# -- writing: atomic, interrupted, replaced ------------------------------------------------------


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_interrupted_write_leaves_nothing(tmp_path, model, monkeypatch, error):
    real = sharded.write_block
    calls = []

    def failing(*args, **kwargs):
        calls.append(args)
        if len(calls) == 3:
            raise error("stopped")
        return real(*args, **kwargs)

    monkeypatch.setattr(sharded, "write_block", failing)
    with pytest.raises(error, match="stopped"):
        model.save(tmp_path / "m", shards=4)
    assert os.listdir(tmp_path) == []


def test_interrupted_write_keeps_the_previous_model(tmp_path, model, monkeypatch):
    path = model.save(tmp_path / "m", shards=2)
    monkeypatch.setattr(sharded, "write_block", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        model.reweight("ppmi").save(path, shards=3)
    assert os.listdir(tmp_path) == ["m"]
    assert_same_model(cooc.load(path), model)


def test_interrupted_url_write_is_removed(model, monkeypatch):
    real = sharded.write_block
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("stopped")
        return real(*args, **kwargs)

    monkeypatch.setattr(sharded, "write_block", failing)
    with pytest.raises(RuntimeError):
        model.save("memory://cooc-test/broken", shards=3)
    assert not fsspec.filesystem("memory").exists("/cooc-test/broken")


def test_an_existing_model_is_replaced_only_a_model(tmp_path, model):
    path = model.save(tmp_path / "m", shards=2)
    ppmi = model.reweight("ppmi")
    ppmi.save(path, shards=3)
    assert_same_model(cooc.load(path), ppmi)
    assert os.listdir(tmp_path) == ["m"]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="does not hold a cooc sharded model"):
        model.save(tmp_path / "other", shards=2)
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="not a directory"):
        model.save(tmp_path / "file", shards=2)
    (tmp_path / "empty").mkdir()
    assert_same_model(cooc.load(model.save(tmp_path / "empty", shards=2)), model)


def test_stale_temporary_directories_are_removed(tmp_path, model):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    stale = tmp_path / f"{TEMP_PREFIX}{int(dead.stdout)}@{_host()}-abc.tmp"
    (stale / "counts").mkdir(parents=True)
    model.save(tmp_path / "m", shards=2)
    assert sorted(os.listdir(tmp_path)) == ["m"]


def test_commit_checks_every_block(tmp_path, model):
    m = model.counts
    with ShardWriter(tmp_path / "m", len(model)) as w:
        recs = [write_block(w.where, "counts", 0, 0, 5, m[:5]), write_block(w.where, "counts", 2, 9, len(model), m[9:])]
        recs.append(w.write_block("vectors", 0, 0, len(model), model.vectors))
        with pytest.raises(ValueError, match="counts: block 1 is missing"):
            w.commit(recs, model.index_to_key)
    assert os.listdir(tmp_path) == []
    with ShardWriter(tmp_path / "m", len(model)) as w:
        recs = [write_block(w.where, "counts", 0, 0, 5, m[:5])]
        recs.append(w.write_block("vectors", 0, 0, len(model), model.vectors))
        with pytest.raises(ValueError, match="end at row 5"):
            w.commit(recs, model.index_to_key)
    with ShardWriter(tmp_path / "m", len(model)) as w:
        with pytest.raises(ValueError, match="no vectors"):
            w.commit([], model.index_to_key)
    assert os.listdir(tmp_path) == []


def test_write_block_refuses_bad_blocks(tmp_path, model):
    w = ShardWriter(tmp_path / "m", len(model))
    try:
        with pytest.raises(ValueError, match="2 rows"):
            write_block(w.where, "counts", 0, 0, 3, model.counts[:2])
        with pytest.raises(ValueError, match="matrix_name"):
            write_block(w.where, "weights", 0, 0, 2, model.counts[:2])
        with pytest.raises(ValueError, match="counts must hold integers"):
            write_block(w.where, "counts", 0, 0, 2, model.vectors[:2])
        with pytest.raises(ValueError, match="negative count"):
            write_block(w.where, "counts", 0, 0, 2, -model.counts[:2])
        bad = model.vectors[:2].copy()
        bad.data[0] = np.nan
        with pytest.raises(ValueError, match="NaN"):
            write_block(w.where, "vectors", 0, 0, 2, bad)
        with pytest.raises(TypeError, match="scipy.sparse"):
            write_block(w.where, "counts", 0, 0, 2, model.counts[:2].toarray())
    finally:
        w.abort()
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValueError, match="shards"):
        model.save(tmp_path / "m", shards=0)


# -- reading: partial and corrupt directories ----------------------------------------------------


@pytest.fixture
def saved(tmp_path, model):
    return model.save(tmp_path / "m", shards=3)


def test_missing_metadata_is_an_incomplete_model(saved):
    (saved / META_NAME).unlink()
    with pytest.raises(ModelFileError, match=f"{META_NAME}.*missing.*incomplete"):
        cooc.load(saved)


@pytest.mark.parametrize("rel", ["counts/00001.indices.npy", "counts/00002.indptr.npy", "vectors/00002.data.npy",
                                 "vocab.npz"])
def test_a_missing_file_is_named(saved, rel):
    (saved / rel).unlink()
    with pytest.raises(ModelFileError, match=rel.replace(".", r"\.") + ".*missing") as info:
        cooc.load(saved)
    assert str(info.value.path).endswith(rel)


def test_a_truncated_block_is_named(saved):
    p = saved / "counts" / "00000.data.npy"
    p.write_bytes(p.read_bytes()[:-9])
    with pytest.raises(ModelFileError, match="00000.data.npy"):
        cooc.load(saved)


def test_a_block_of_the_wrong_dtype_is_named(saved):
    p = saved / "vectors" / "00001.data.npy"
    np.save(p, np.load(p).astype(np.float32))
    shd = cooc.load(saved)
    with pytest.raises(ModelFileError, match="00001.data.npy.*float32"):
        shd.vectors.block(1)


def test_indices_out_of_range_are_refused_before_use(saved, model):
    p = saved / "counts" / "00002.indices.npy"
    a = np.load(p)
    a[-1] = len(model) + 5
    np.save(p, a)
    shd = cooc.load(saved)
    with pytest.raises(ModelFileError, match=r"00002\.indices\.npy.*outside"):
        shd.counts.sum()


def test_negative_counts_and_nan_vectors_are_refused(saved):
    p = saved / "counts" / "00000.data.npy"
    a = np.load(p)
    a[0] = -1
    np.save(p, a)
    with pytest.raises(ModelFileError, match=r"00000\.data\.npy.*negative"):
        cooc.load(saved).counts.block(0)
    p = saved / "vectors" / "00001.data.npy"
    a = np.load(p)
    a[0] = np.inf
    np.save(p, a)
    with pytest.raises(ModelFileError, match=r"00001\.data\.npy.*infinite"):
        cooc.load(saved).most_similar("ax")


@pytest.mark.parametrize("edit, problem", [
    (lambda m: m.update(format="other"), "not a cooc sharded model"),
    (lambda m: m.update(version=9), "version 9.*newer"),
    (lambda m: m["matrices"]["counts"]["blocks"].pop(1), "block 1 covers rows"),
    (lambda m: m["matrices"]["counts"]["blocks"].pop(), "end at row"),
    (lambda m: m["matrices"]["vectors"].update(shape=[3, 3]), "does not fit"),
    (lambda m: m.update(window="3"), "window"),
])
def test_inconsistent_metadata_is_refused(saved, edit, problem):
    meta = json.loads((saved / META_NAME).read_text())
    edit(meta)
    (saved / META_NAME).write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match=f"{META_NAME}.*{problem}"):
        cooc.load(saved)


def test_corrupt_metadata_and_plain_directories(saved, tmp_path):
    (saved / META_NAME).write_text("{not json")
    with pytest.raises(ModelFileError, match="corrupt metadata"):
        cooc.load(saved)
    (tmp_path / "plain").mkdir()
    with pytest.raises(IsADirectoryError):   # a directory with no part of a model is not one
        cooc.load(tmp_path / "plain")


def test_cli_neighbors_reads_a_sharded_model(tmp_path, model, capsys):
    from cooc.cli import main

    path = model.save(tmp_path / "m", shards=3)
    assert main(["neighbors", str(path), "ax", "-k", "3"]) == 0
    out = capsys.readouterr().out
    assert all(w in out for w, _ in model.most_similar("ax", topn=3))


# -- Dask: workers write the blocks ----------------------------------------------------------------


@pytest.mark.parametrize("processes", [True, False], ids=["processes", "threads"])
def test_dask_writes_the_blocks_the_client_commits(tmp_path, processes):
    distributed = pytest.importorskip("distributed", reason="cooc.dask needs the extra cooc[dask]")
    import cooc.dask as cd

    lines = corpus(400, seed=7)
    text = tmp_path / "corpus.txt"
    text.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ref = cooc.pretrain(cooc.LineCorpus(text), window=2)
    cluster = distributed.LocalCluster(n_workers=2, processes=processes, threads_per_worker=1,
                                       dashboard_address=None, worker_dashboard_address=None)
    client = distributed.Client(cluster, set_as_default=False)
    try:
        out = tmp_path / "model"
        emb = cd.pretrain(str(text), window=2, client=client, n_blocks=3, output=out)
        assert isinstance(emb.counts, ShardedCSR) and emb.counts.n_blocks == 3
        assert memory_mapped(emb.counts.block(0).data)
        assert sorted(os.listdir(tmp_path)) == ["corpus.txt", "model"]
        assert sorted(os.listdir(out / "vectors")) == [f"0000{b}.data.npy" for b in range(3)]
        assert_same_model(emb, ref)
        assert_same_model(cooc.load(out), ref)
        for w in ref.index_to_key:
            assert emb.most_similar(w, topn=5) == ref.most_similar(w, topn=5)
        if not processes:   # the memory:// filesystem is shared by the threads of this process only
            url = "memory://cooc-test/dask"
            assert_same_model(cd.pretrain(str(text), window=2, client=client, n_blocks=3, output=url), ref)
            fsspec.filesystem("memory").rm("/cooc-test/dask", recursive=True)
    finally:
        client.close()
        cluster.close()


# -- CLI -----------------------------------------------------------------------------------------


def run_cli(argv):
    from cooc.cli import main

    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def test_cli_pretrain_writes_a_sharded_model(tmp_path, capsys):
    text = tmp_path / "corpus.txt"
    text.write_text("\n".join(corpus(200)) + "\n", encoding="utf-8")
    out = tmp_path / "model"
    assert run_cli(["pretrain", str(text), "-o", str(out), "--shards", "3", "--window", "2", "-q"]) == 0
    emb = cooc.load(out)
    assert emb.counts.n_blocks == 3
    assert_same_model(emb, cooc.pretrain(cooc.LineCorpus(text), window=2))
    assert run_cli(["neighbors", str(out), "ax", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ax"][0]["word"] == emb.most_similar("ax", topn=1)[0][0]
    # again onto the same directory: replaced
    assert run_cli(["pretrain", str(text), "-o", str(out), "--shards", "2", "-q"]) == 0
    assert cooc.load(out).counts.n_blocks == 2 and cooc.load(out).window == 3


@pytest.mark.parametrize("make, args, message", [
    (None, ["--shards", "0"], "--shards: expected a positive integer"),
    (None, ["--shards", "x"], "--shards: expected a positive integer"),
    ("file", ["--shards", "2"], "is a file; with --shards the model is a directory"),
    ("dir", ["--shards", "2"], "does not hold a sharded model"),
    ("noparent", ["--shards", "2"], "does not exist"),
])
def test_cli_bad_shards_options(tmp_path, capsys, make, args, message):
    text = tmp_path / "corpus.txt"
    text.write_text("ax by\n", encoding="utf-8")
    out = tmp_path / "out"
    if make == "file":
        out.write_text("x")
    elif make == "dir":
        out.mkdir()
        (out / "mine.txt").write_text("x")
    elif make == "noparent":
        out = tmp_path / "missing" / "out"
    assert run_cli(["pretrain", str(text), "-o", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_cli_update_reads_a_sharded_model(tmp_path):
    text = tmp_path / "corpus.txt"
    text.write_text("\n".join(corpus(100)) + "\n", encoding="utf-8")
    more = tmp_path / "more.txt"
    more.write_text("ax gamma\n", encoding="utf-8")
    model = cooc.pretrain(cooc.LineCorpus(text), window=2)
    src = model.save(tmp_path / "m", shards=2)
    assert run_cli(["update", str(src), str(more), "-o", str(tmp_path / "u.npz"), "-q"]) == 0
    assert_same_model(cooc.load(tmp_path / "u.npz"), model.update(cooc.LineCorpus(more)))


def test_dask_failed_write_leaves_nothing(tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed", reason="cooc.dask needs the extra cooc[dask]")
    import cooc.dask as cd

    text = tmp_path / "corpus.txt"
    text.write_text("\n".join(corpus(100)) + "\n", encoding="utf-8")
    real = cd.write_block

    def failing(where, matrix, b, *args, **kwargs):
        if b == 1:
            raise OSError("disk full")
        return real(where, matrix, b, *args, **kwargs)

    monkeypatch.setattr(cd, "write_block", failing)   # the worker threads run in this process
    cluster = distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=2,
                                       dashboard_address=None, worker_dashboard_address=None)
    client = distributed.Client(cluster, set_as_default=False)
    try:
        with pytest.raises(OSError, match="disk full"):
            cd.pretrain(str(text), client=client, n_blocks=3, output=tmp_path / "model")
    finally:
        client.close()
        cluster.close()
    assert os.listdir(tmp_path) == ["corpus.txt"]
