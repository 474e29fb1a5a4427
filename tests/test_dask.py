"""cooc.dask: counting on a Dask cluster gives exactly the single-machine model.

One LocalCluster of 2 worker processes serves the whole module. Every run is compared with
cooc.pretrain on the same corpus: vocabulary, frequencies, integer counts and vectors, array by array.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

dask = pytest.importorskip("dask", reason="cooc.dask needs the extra cooc[dask]")
distributed = pytest.importorskip("distributed", reason="cooc.dask needs the extra cooc[dask]")
db = pytest.importorskip("dask.bag")

import cooc
import cooc.dask as cd
from cooc.cli.pretrain import pretrain_on_dask
from cooc.text import STOPWORDS

# ------------------------------------------------------------------------------------------------
# fixtures


def make_lines(n: int, seed: int) -> list[str]:
    """Zipf-distributed made-up words, stopwords, capitals, punctuation, accents and empty lines."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}" for i in range(600)]
    vocab += sorted(STOPWORDS) + ["café", "naïve", "straße", "Zoë"]
    p = 1.0 / np.arange(1, len(vocab) + 1)
    p /= p.sum()
    order = rng.permutation(len(vocab))
    lines = []
    for _ in range(n):
        toks = [vocab[order[i]] for i in rng.choice(len(vocab), size=int(rng.integers(0, 25)), p=p)]
        toks = [t.upper() if rng.random() < 0.05 else t for t in toks]
        lines.append(" ".join(toks) + (rng.choice([".", ",", "!", "", "  -"]) if toks else ""))
    return lines


def _write(path: Path, lines: list[str], newline: str, opener=open) -> Path:
    with opener(path, "wb") as f:
        f.write(newline.join(lines).encode("utf-8") + newline.encode())
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Several files: plain with \\n, \\r\\n and \\r line ends, .gz and .bz2 (gz big enough to be
    counted in several groups under a 1MB memory_limit)."""
    d = tmp_path_factory.mktemp("corpus")
    return [
        _write(d / "a.txt", make_lines(1500, 1), "\n"),
        _write(d / "b.txt", make_lines(800, 2), "\r\n"),
        _write(d / "c.txt", make_lines(300, 3), "\r"),
        _write(d / "d.txt.gz", make_lines(3000, 4), "\n", gzip.open),
        _write(d / "e.txt.bz2", make_lines(400, 5), "\n", bz2.open),
    ]


def assert_same_model(got: cooc.Embeddings, ref: cooc.Embeddings) -> None:
    assert got.index_to_key == ref.index_to_key
    assert got.frequencies.dtype == np.int64
    np.testing.assert_array_equal(got.frequencies, ref.frequencies)
    assert got.window == ref.window and got.stopwords == ref.stopwords
    for a, b in ((got.counts, ref.counts), (got.vectors, ref.vectors)):
        assert a.shape == b.shape and a.dtype == b.dtype
        assert a.indices.dtype == b.indices.dtype
        np.testing.assert_array_equal(a.indptr, b.indptr)
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_array_equal(a.data, b.data)  # exact: same integers, same floats


# ------------------------------------------------------------------------------------------------
# equality with cooc.pretrain


SETTINGS = {
    "defaults": {},
    "window5-min3": {"window": 5, "min_count": 3},
    "no-stopwords-max200": {"stopwords": None, "max_vocab_size": 200},
    "custom-stop-min2-max50": {
        "stopwords": {"wa", "wb", "the", "café"}, "min_count": 2, "max_vocab_size": 50, "window": 2
    },
}


@pytest.mark.parametrize("params", SETTINGS.values(), ids=SETTINGS.keys())
def test_files_equal_single_machine(client, corpus, params):
    ref = cooc.pretrain(cooc.LineCorpus(corpus), **params)
    # 4kB partitions: the plain files are split into many whole-line blocks
    got = cd.pretrain([str(p) for p in corpus], client=client, partition_size="4kB", **params)
    assert_same_model(got, ref)
    assert len(got) > 10 and got.counts.nnz > 100


def test_partitioning_memory_limit_and_fan_in_do_not_change_counts(client, corpus):
    ref = cooc.pretrain(cooc.LineCorpus(corpus), min_count=2)
    for kwargs in ({"partition_size": 3000}, {"memory_limit": "1MB", "split_every": 2}, {}):
        assert_same_model(cd.pretrain(corpus, client=client, min_count=2, **kwargs), ref)


def test_memory_limit_counts_a_compressed_file_in_groups(client, corpus, monkeypatch):
    """A .gz file is one partition; under a small budget its text is counted group by group."""
    budget = 1 << 20
    group = budget // cd.counting_bytes_per_char(3)
    with gzip.open(corpus[3], "rt", encoding="utf-8") as f:
        text = f.read()
    assert len(text) > 2 * group  # the fixture is big enough for several groups
    ref = cooc.pretrain(cooc.LineCorpus(corpus[3]))
    assert_same_model(cd.pretrain(str(corpus[3]), client=client, memory_limit=budget), ref)
    # the same partition function, in this process: several counting calls, one exact sum
    calls = []
    real = cd.partition_counts
    monkeypatch.setattr(
        cd, "partition_counts", lambda chunks, *a: calls.append(len(chunks)) or real(chunks, *a)
    )
    fs, parts = cd._plan_files([str(corpus[3])], 1 << 30, "utf-8", None)
    reader = cd._Reader(fs, "utf-8", "strict", 4096)
    [(_, indices, data)] = cd._count_partition(parts, reader, cd._Index(ref.index_to_key), 3, group)
    assert len(calls) >= 2
    np.testing.assert_array_equal(data, ref.counts.data)
    np.testing.assert_array_equal(indices, ref.counts.indices)


@pytest.mark.parametrize("size", [5, 64, 1000, 1 << 20])
def test_partitions_are_whole_lines(corpus, size):
    """Every line of every file is in exactly one partition, whatever the partition size."""
    fs, parts = cd._plan_files([str(p) for p in corpus], size, "utf-8", None)
    reader = cd._Reader(fs, "utf-8", "strict", 50)
    lines = [line for part in parts for chunk in reader.chunks([part]) for line in chunk.split("\n")]
    expected = list(cooc.LineCorpus(corpus))
    assert sorted(lines) == sorted(expected)
    n_plain = sum(1 for p in parts if p.length is not None)
    assert sum(1 for p in parts if p.length is None) == 2  # .gz and .bz2: one partition each
    assert n_plain == sum(-(-os.path.getsize(p) // size) for p in corpus[:3])


def test_line_corpus_url_and_glob_inputs(client, corpus):
    ref = cooc.pretrain(cooc.LineCorpus(corpus[:2]))
    assert_same_model(cd.pretrain(cooc.LineCorpus(corpus[:2]), client=client), ref)
    assert_same_model(cd.pretrain([f"file://{p}" for p in corpus[:2]], client=client), ref)
    ref_all = cooc.pretrain(cooc.LineCorpus(sorted(corpus)))
    assert_same_model(cd.pretrain(str(corpus[0].parent / "*"), client=client), ref_all)


def test_bag_of_lines_equals_single_machine(client, corpus):
    lines = make_lines(2000, 9) + ["two\nlines in one item", "", "a\r\nb c"]
    ref = cooc.pretrain(lines, window=2)  # an iterable of str: one sentence per item
    bag = db.from_sequence(lines, npartitions=7)
    assert_same_model(cd.pretrain(bag, 2, client=client), ref)
    # dask's own reader: one item per line (line ends kept, counting as spaces)
    ref_files = cooc.pretrain(cooc.LineCorpus(corpus))
    bag = db.read_text([str(p) for p in corpus], blocksize=None, encoding="utf-8")
    assert_same_model(cd.pretrain(bag, client=client), ref_files)


def test_default_client_and_address(client, corpus):
    ref = cooc.pretrain(cooc.LineCorpus(corpus[0]))
    with distributed.Client(client.scheduler.address) as c:  # becomes the default client
        assert_same_model(cd.pretrain(str(corpus[0])), ref)
        assert distributed.default_client() is c
    assert_same_model(cd.pretrain(str(corpus[0]), client=client.scheduler.address), ref)


# ------------------------------------------------------------------------------------------------
# a worker killed in the middle of a run


class KillOnce(distributed.WorkerPlugin):
    """Kills its worker process (``os._exit``) when a task whose key contains ``prefix`` starts
    executing, once across the cluster: the marker file records the pid of the killed worker."""

    name = "cooc-test-kill-once"

    def __init__(self, prefix: str, marker: str) -> None:
        self.prefix = prefix
        self.marker = marker

    def transition(self, key, start, finish, **kwargs):
        name = key[0] if isinstance(key, tuple) else str(key)
        if finish == "executing" and self.prefix in name and not os.path.exists(self.marker):
            with open(self.marker, "w") as f:
                f.write(str(os.getpid()))
            os._exit(1)


@pytest.mark.parametrize("prefix", ["cooc-vocabulary", "cooc-count"], ids=["pass1", "pass2"])
def test_killed_worker_is_retried_and_result_is_identical(client, corpus, tmp_path, prefix):
    ref = cooc.pretrain(cooc.LineCorpus(corpus), min_count=2)
    marker = tmp_path / "killed"
    before = set(client.run(os.getpid).values())
    client.register_plugin(KillOnce(prefix, str(marker)))
    try:
        got = cd.pretrain(corpus, client=client, min_count=2, partition_size="8kB")
    finally:
        client.unregister_worker_plugin(KillOnce.name)
    assert marker.exists(), "no worker was killed: the kill hook never matched a task"
    killed = int(marker.read_text())
    assert killed in before
    assert_same_model(got, ref)
    # the nanny restarts the killed worker: the cluster is back to 2 processes, one of them new
    client.wait_for_workers(2, timeout=30)
    deadline = time.monotonic() + 30
    while killed in (now := set(client.run(os.getpid).values())) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert killed not in now and len(now) == 2


# ------------------------------------------------------------------------------------------------
# errors


def test_empty_corpus_is_a_clear_error(client, tmp_path):
    empty = _write(tmp_path / "empty.txt", [], "")
    (tmp_path / "empty.gz").write_bytes(b"")
    stop = _write(tmp_path / "stop.txt", ["the and of", "", "...", "A THE"], "\n")
    with pytest.raises(ValueError, match="empty corpus"):
        cd.pretrain([str(empty), str(tmp_path / "empty.gz")], client=client)
    with pytest.raises(ValueError, match="empty corpus") as info:
        cd.pretrain(str(stop), client=client)
    with pytest.raises(ValueError) as single:
        cooc.pretrain(stop)
    assert str(info.value) == str(single.value)  # same counts of sentences and characters
    with pytest.raises(ValueError, match="empty corpus"):
        cd.pretrain(db.from_sequence([], npartitions=1), client=client)
    with pytest.raises(ValueError, match="min_count=50 leaves no vocabulary"):
        cd.pretrain(str(stop), client=client, stopwords=None, min_count=50)


def test_missing_files_are_a_clear_error(client, corpus, tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(FileNotFoundError, match="corpus file not found") as info:
        cd.pretrain([str(corpus[0]), str(missing)], client=client)
    assert str(missing) in str(info.value)
    with pytest.raises(FileNotFoundError, match="no corpus file matches"):
        cd.pretrain(str(tmp_path / "*.nothing"), client=client)
    with pytest.raises(IsADirectoryError, match="directory"):
        cd.pretrain(str(tmp_path), client=client)
    with pytest.raises(ValueError, match="empty"):
        cd.pretrain([], client=client)


def test_file_content_errors_come_back_from_the_workers(client, tmp_path):
    fake = tmp_path / "fake.gz"
    fake.write_text("plain text\n")
    with pytest.raises(ValueError, match="gzip magic bytes"):
        cd.pretrain(str(fake), client=client)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"good line\nbad \xff byte\n")
    with pytest.raises(ValueError, match=r"invalid utf-8 data at byte 14"):
        cd.pretrain(str(bad), client=client)
    ref = cooc.pretrain(cooc.LineCorpus(bad, errors="replace"))
    assert_same_model(cd.pretrain(str(bad), client=client, errors="replace"), ref)


def test_bad_parameters(client, corpus):
    with pytest.raises(ValueError, match="window"):
        cd.pretrain(str(corpus[0]), 0, client=client)
    with pytest.raises(ValueError, match="partition_size"):
        cd.pretrain(str(corpus[0]), client=client, partition_size="lots")
    with pytest.raises(ValueError, match="split_every"):
        cd.pretrain(str(corpus[0]), client=client, split_every=1)
    with pytest.raises(TypeError, match="client"):
        cd.pretrain(str(corpus[0]), client=42)
    with pytest.raises(TypeError, match="Bag of lines"):
        cd.pretrain(42, client=client)


def test_no_client_is_a_clear_error(corpus, monkeypatch):
    try:
        distributed.default_client()
    except ValueError:  # no client in this process: the real case
        pass
    else:  # another test left a default client: stand in for distributed's answer when there is none
        def no_client():
            raise ValueError("No clients found")
        monkeypatch.setattr(distributed, "default_client", no_client)
    with pytest.raises(ValueError, match="needs a Dask cluster"):
        cd.pretrain(str(corpus[0]))


def test_imports_without_dask_and_names_the_extra():
    code = (
        "import sys\n"
        "for m in ('dask', 'dask.bag', 'distributed', 'fsspec'): sys.modules[m] = None\n"
        "import cooc.dask\n"
        "try:\n"
        "    cooc.dask.pretrain('corpus.txt')\n"
        "except ImportError as e:\n"
        "    print(e)\n"
        "import argparse\n"
        "from cooc.cli import CliError\n"
        "from cooc.cli.pretrain import pretrain_on_dask\n"
        "args = argparse.Namespace(scheduler='tcp://x:1', dask_workers=None, output='m.npz')\n"
        "try:\n"
        "    pretrain_on_dask(args)\n"
        "except CliError as e:\n"
        "    print('cli:', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    first, cli = out.stdout.splitlines()
    assert "cooc[dask]" in first and "not installed" in first
    assert cli.startswith("cli: ") and "cooc[dask]" in cli


# ------------------------------------------------------------------------------------------------
# the command-line handler


def test_cli_handler_against_a_scheduler(client, corpus, tmp_path, capsys):
    args = argparse.Namespace(
        corpus=[str(p) for p in corpus], output=str(tmp_path / "model.npz"), window=3, min_count=2,
        max_vocab=None, memory_limit=None, jobs=1, no_stopwords=False, encoding="utf-8",
        errors="strict", quiet=True, scheduler=client.scheduler.address, dask_workers=None,
        weighting="count", cds=0.75, shift=None, distance="uniform", dim=None, p=0.5, seed=0, add_context=False,
    )
    assert pretrain_on_dask(args) == 0
    assert "tokens/s" in capsys.readouterr().err
    got = cooc.load(tmp_path / "model.npz")
    ref = cooc.pretrain(cooc.LineCorpus(corpus), min_count=2)
    assert got.index_to_key == ref.index_to_key
    assert (got.counts != ref.counts).nnz == 0
    from cooc.cli import CliError

    args.dask_workers = 2
    with pytest.raises(CliError, match="exclusive"):
        pretrain_on_dask(args)


# ------------------------------------------------------------------------------------------------
# vocabulary=, the recipe, and merging models counted on the cluster


def test_vocabulary_and_recipe_equal_single_machine(client, corpus):
    words = ["waa", "wab", "wba", "café", "the", "zzz-never"]
    ref = cooc.pretrain(cooc.LineCorpus(corpus), vocabulary=words, stopwords=None)
    got = cd.pretrain([str(p) for p in corpus], client=client, partition_size="4kB", vocabulary=words,
                      stopwords=None)
    assert_same_model(got, ref)
    assert got.recipe == ref.recipe and got.recipe.vocabulary is not None
    assert cd.pretrain(corpus[:2], client=client).recipe == cooc.pretrain(cooc.LineCorpus(corpus[:2])).recipe
    with pytest.raises(TypeError, match="vocabulary"):
        cd.pretrain(corpus, client=client, vocabulary="waa")


def test_merge_and_update_of_cluster_models_equal_single_machine(client, corpus):
    from cooc.embeddings import merge

    first, rest = corpus[:2], corpus[2:]
    ref = cooc.pretrain(cooc.LineCorpus(corpus))
    a = cd.pretrain([str(p) for p in first], client=client, partition_size="4kB")
    b = cd.pretrain([str(p) for p in rest], client=client, partition_size="4kB")
    assert_same_model(merge(a, b), ref)
    assert merge(a, b).recipe == ref.recipe
    assert_same_model(a.update(cooc.LineCorpus(rest)), ref)
    # a cluster model and a single-machine model were made the same way
    assert_same_model(merge(a, cooc.pretrain(cooc.LineCorpus(rest))), ref)


# ------------------------------------------------------------------------------------------------
# row blocks: each block summed in its own tree


def _blocks_used(caplog) -> int:
    found = [r.args[0] for r in caplog.records if "row block(s)" in r.getMessage()]
    assert found, "no row-block message was logged"
    return int(found[-1])


@pytest.mark.parametrize("n_blocks", [1, 2, 5, "V+3"])
@pytest.mark.parametrize("params", [{"min_count": 3}, {"vocabulary": ["waa", "wab", "wba", "café", "the"],
                                                        "stopwords": None}], ids=["min3", "vocabulary"])
def test_row_blocks_equal_single_machine(client, corpus, caplog, params, n_blocks):
    files = corpus if n_blocks != "V+3" else corpus[2:3]  # one block per word: keep the graph small
    ref = cooc.pretrain(cooc.LineCorpus(files), **params)
    blocks = len(ref) + 3 if n_blocks == "V+3" else n_blocks
    caplog.set_level("INFO", logger="cooc.dask")
    got = cd.pretrain([str(p) for p in files], client=client, partition_size="8kB", n_blocks=blocks,
                      **params)
    assert_same_model(got, ref)
    assert _blocks_used(caplog) == min(blocks, len(ref))  # more blocks than words: one word each


def test_memory_limit_chooses_more_blocks(client, corpus, caplog):
    caplog.set_level("INFO", logger="cooc.dask")
    ref = cooc.pretrain(cooc.LineCorpus(corpus))
    assert_same_model(cd.pretrain(corpus, client=client), ref)
    default = _blocks_used(caplog)
    assert default == 2  # the fixture's workers have ample memory: one block per worker
    assert_same_model(cd.pretrain(corpus, client=client, memory_limit="1MB"), ref)
    freq = ref.frequencies
    expected = cd._auto_blocks(cd.estimated_nnz(freq, 3), 1 << 20, 2, cd.DEFAULT_SPLIT_EVERY)
    assert _blocks_used(caplog) == min(expected, len(ref)) > default
    assert cd.estimated_nnz(freq, 3) >= ref.counts.nnz  # an upper bound


def test_block_bounds():
    rng = np.random.default_rng(0)
    freq = rng.zipf(1.5, size=1000)
    for b in (1, 2, 7, 64, 999, 1000, 5000):
        bounds = cd.block_bounds(freq, 3, b)
        assert bounds.dtype == np.int64 and bounds[0] == 0 and bounds[-1] == 1000
        assert len(bounds) == min(b, 1000) + 1 and np.all(np.diff(bounds) >= 1)
    # about equal weights when no single row dominates
    flat = np.full(1200, 4)
    sizes = np.diff(cd.block_bounds(flat, 2, 8))
    assert sizes.min() >= 149 and sizes.max() <= 151
    with pytest.raises(ValueError, match="non-empty"):
        cd.block_bounds([], 3, 2)


def test_a_sum_task_receives_one_block_only(corpus, monkeypatch):
    """The graph of pass 2, run in this process: every call of the summing function gets parts of
    one block, and each tree's root is its block's rows of the single-machine counts."""
    ref = cooc.pretrain(cooc.LineCorpus(corpus), min_count=2)
    fs, parts = cd._plan_files([str(p) for p in corpus], 4000, "utf-8", None)
    reader = cd._Reader(fs, "utf-8", "strict", 4096)
    bag = db.from_sequence(parts, npartitions=len(parts))
    seen = []
    real = cd._sum_block

    def recording(items):
        seen.append(sorted({b for b, _ in items}))
        return real(items)

    monkeypatch.setattr(cd, "_sum_block", recording)
    bounds = cd.block_bounds(ref.frequencies, 3, 6)
    roots, labels = cd._block_sums(bag, reader, cd._Index(ref.index_to_key), 3, 1 << 20, bounds, 3, "t")
    results = dask.compute(*roots, scheduler="sync")
    assert len(parts) > 9 and len(seen) >= 6 * 4  # several levels of sums per block
    assert all(len(ids) == 1 for ids in seen)
    for b, (got_b, (indptr, indices, data)) in enumerate(results):
        assert got_b == b
        rows = ref.counts[bounds[b]:bounds[b + 1]]
        np.testing.assert_array_equal(indptr, rows.indptr)
        np.testing.assert_array_equal(indices, rows.indices)
        np.testing.assert_array_equal(data, rows.data)
    assert any(v.startswith("summing row block 6 of 6") for v in labels.values())
    # the summing function refuses parts of two blocks
    one = (np.zeros(2, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int64))
    with pytest.raises(RuntimeError, match=r"row blocks \[0, 1\]"):
        real([(0, one), (1, one)])


def test_split_rows_copies_the_blocks():
    csr = (np.array([0, 2, 3, 3, 5]), np.array([0, 3, 1, 0, 2], np.int32), np.arange(5, dtype=np.int64))
    blocks = cd._split_rows(csr, np.array([0, 1, 3, 4]))
    assert [b for b, _ in blocks] == [0, 1, 2]
    assert [p.tolist() for _, (p, _, _) in blocks] == [[0, 2], [0, 1, 1], [0, 2]]
    assert [d.tolist() for _, (_, _, d) in blocks] == [[0, 1], [2], [3, 4]]
    assert all(d.base is None and i.base is None for _, (_, i, d) in blocks)


def test_bad_n_blocks(client, corpus):
    with pytest.raises(ValueError, match="n_blocks"):
        cd.pretrain(str(corpus[0]), client=client, n_blocks=0)
    with pytest.raises((TypeError, ValueError), match="n_blocks"):
        cd.pretrain(str(corpus[0]), client=client, n_blocks="2")


# ------------------------------------------------------------------------------------------------
# failures of the cluster: one clear exception naming the stage


class FailingReader(cd._Reader):
    """Reads every part once; the second read of a part after its first bytes fails with EIO (so the
    vocabulary pass succeeds and the counting pass fails)."""

    def __init__(self, fs, marker_dir: str) -> None:
        super().__init__(fs, "utf-8", "strict", 4096)
        object.__setattr__(self, "marker_dir", marker_dir)

    def _block_text(self, part):
        if part.start > 0:
            marker = os.path.join(self.marker_dir, str(part.start))
            if os.path.exists(marker):
                import errno
                raise OSError(errno.EIO, "Input/output error", part.path)
            open(marker, "w").close()
        return super()._block_text(part)


def test_unreadable_part_names_the_stage_and_file(client, corpus, tmp_path):
    fs, parts = cd._plan_files([str(corpus[0])], 8000, "utf-8", None)
    assert len(parts) > 2
    bag = db.from_sequence(parts, npartitions=len(parts))
    reader = FailingReader(fs, str(tmp_path))
    with pytest.raises(OSError) as info:
        cd._run(client, bag, reader, "a.txt", 3, None, 1, None, 1 << 20, 8)
    msg = str(info.value)
    assert info.value.errno == 5 and info.value.filename == str(corpus[0])
    assert msg.startswith("[Errno 5] counting pass (2 row block(s) of a.txt): reading bytes ")
    assert "Input/output error" in msg and not isinstance(info.value, cd.ClusterError)


class KillAlways(distributed.WorkerPlugin):
    """Kills its worker process whenever a task whose key contains ``prefix`` starts executing."""

    name = "cooc-test-kill-always"

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def transition(self, key, start, finish, **kwargs):
        name = key[0] if isinstance(key, tuple) else str(key)
        if finish == "executing" and self.prefix in name:
            os._exit(1)


def test_killed_worker_is_a_cluster_error_naming_block_and_memory(corpus):
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, memory_limit="1GiB",
            dashboard_address=None, worker_dashboard_address=None,
        )
    c = distributed.Client(cluster, set_as_default=False)
    try:
        c.register_plugin(KillAlways("cooc-sum-"))
        with pytest.raises(cd.ClusterError) as info:
            cd.pretrain(corpus, client=c, partition_size="8kB", n_blocks=3)
    finally:
        c.close()
        cluster.close()
    msg = str(info.value)
    # Dask gives up on one of the tasks the dead worker held: a sum, or another of the counting pass
    import re
    assert re.match(r"(summing row block [123] of 3|counting partition \d+ of \d+|counting pass \(3 row "
                    r"block\(s\) of .*\)) failed: a worker holding it died 1 time\(s\)", msg), msg
    assert "2 worker(s), memory limit 1.00 GiB each" in msg
    assert ("n_blocks" in msg) != msg.startswith("counting partition")  # the advice fits the stage
    assert isinstance(info.value, RuntimeError) and "\n" not in msg


def test_lost_scheduler_and_timeouts_are_cluster_errors():
    from distributed.client import FutureCancelledError
    from distributed.comm.core import CommClosedError

    cluster = cd._Cluster("tcp://10.0.0.1:8786", [(2 << 30, 1), (2 << 30, 1)])
    for exc in (CommClosedError("in <TCP>: Stream is closed"), FutureCancelledError("k", "lost")):
        err = cluster.failure(exc, "counting pass (4 row block(s) of x)")
        assert isinstance(err, cd.ClusterError)
        assert str(err).startswith("counting pass (4 row block(s) of x) failed: lost the connection "
                                   "to the Dask scheduler tcp://10.0.0.1:8786")
    err = cluster.failure(TimeoutError("no answer in 30 s"), "vocabulary pass")
    assert isinstance(err, cd.ClusterError) and "timed out" in str(err)
    err = cluster.failure(PermissionError(13, "Permission denied", "/c.txt"), "vocabulary pass")
    assert type(err) is PermissionError and err.filename == "/c.txt"
    assert str(err) == "[Errno 13] vocabulary pass: Permission denied: '/c.txt'"
    assert cluster.failure(ValueError("bad"), "x") is None
    assert cluster.memory() == "2 worker(s), memory limit 2.00 GiB each, up to 1 thread(s) each"
    assert cluster.per_thread == 2 << 30
    assert cd._Cluster("", [(0, 2)]).per_thread is None
