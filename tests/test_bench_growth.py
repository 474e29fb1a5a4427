"""``cooc bench --growth``: count -> PPMI -> SVD -> neighbours at each size, tables, JSON, plot, errors."""

from __future__ import annotations

import collections
import contextlib
import io
import json
import math
import time

import numpy as np
import pytest

import cooc
from cooc import cli
from cooc.bench import baselines as bl
from cooc.bench import growth

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TINY = ["bench", "--growth", "--sizes", "50k,20k", "--dim", "10", "-q"]


def cooc_main(argv: list[str]) -> int:
    """``cooc ARGV`` through the real ``cooc`` parser."""
    parser = cli.build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return int(args.func(args))


def _row(doc: dict, stage: str, size: str) -> dict:
    rows = [r for r in doc["measurements"] if (r["stage"], r["size"]) == (stage, size)]
    assert len(rows) == 1, rows
    return rows[0]


def _has_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One run at 20k and 50k tokens (dim 10): its JSON, its table and its directories (the corpora kept
    in ``data``, the work in ``tmp``, the plot ``growth.png`` when matplotlib is installed)."""
    d = tmp_path_factory.mktemp("growth")
    out = d / "growth.json"
    (d / "tmp").mkdir()
    plot = ["--plot", str(d / "growth.png")] if _has_matplotlib() else []
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        status = cooc_main([*TINY, "--data-dir", str(d / "data"), "--tmp-dir", str(d / "tmp"), "--json", str(out),
                            *plot])
    assert status == 0
    return json.loads(out.read_text(encoding="utf-8")), stdout.getvalue(), d / "data"


def test_json_has_every_stage_at_every_size_with_real_figures(tiny_run):
    doc, _, _ = tiny_run
    assert doc["format"] == growth.FORMAT
    s = doc["settings"]
    assert s["sizes"] == ["20k", "50k"] and s["stages"] == ["count", "ppmi", "svd", "neighbors"]
    assert (s["dim"], s["min_count"], s["window"], s["jobs"], s["types"]) == (10, 5, 3, 1, 1_000_000)
    assert s["memory_limit_bytes"] == 4 << 30 and s["sentence_lengths"] == [8, 30]
    assert doc["command"].startswith("cooc bench --growth --sizes 20k,50k")
    assert [c["n_tokens"] for c in doc["corpora"]] == [20_000, 50_000]
    assert all(c["bytes"] > 5 * c["n_tokens"] and not c["reused"] for c in doc["corpora"])

    vocab = {}
    for size in ("20k", "50k"):
        rows = {st: _row(doc, st, size) for st in growth.STAGES}
        for st, r in rows.items():
            assert r["status"] == "ok", r
            assert r["seconds"] > 0 and r["process_seconds"] > r["seconds"]
            if r["memory_method"] == "vmhwm":
                # a Python process with numpy and scipy holds tens of MB; these tiny stages far less than 2 GB
                assert 20 << 20 < r["rss_before_bytes"] <= r["peak_rss_bytes"] < 2 << 30, r
            else:
                assert 20 << 20 < r["peak_rss_bytes"] < 2 << 30, r
        v = rows["count"]["vocabulary"]
        assert v > 100 and all(rows[st]["vocabulary"] == v for st in growth.STAGES)
        assert 0 < rows["ppmi"]["nonzeros"] <= rows["count"]["nonzeros"]
        assert rows["svd"]["dim"] == rows["neighbors"]["dim"] == 10
        assert rows["neighbors"]["queries"] == 100 and rows["neighbors"]["answers"] == 100 * 10
        total = _row(doc, "total", size)
        assert total["seconds"] == pytest.approx(sum(rows[st]["seconds"] for st in growth.STAGES))
        assert total["peak_rss_bytes"] == max(rows[st]["peak_rss_bytes"] for st in growth.STAGES)
        vocab[size] = v
    assert vocab["50k"] > vocab["20k"]


def test_vocabulary_is_that_of_the_kept_corpus(tiny_run):
    """V is the number of words seen at least min_count times in the generated file (stopwords aside)."""
    doc, _, data = tiny_run
    for c in doc["corpora"]:
        lines = (data / c["file"]).read_text(encoding="ascii").splitlines()
        counts = collections.Counter(w for line in lines for w in line.split())
        assert sum(counts.values()) == c["n_tokens"]
        lengths = [len(line.split()) for line in lines]
        assert min(lengths[:-1]) >= 8 and max(lengths) <= 30
        expected = sum(1 for w, n in counts.items() if n >= 5 and w not in cooc.STOPWORDS)
        assert _row(doc, "count", c["label"])["vocabulary"] == expected


def test_exponents_are_computed_from_the_times_and_peaks(tiny_run):
    doc, _, _ = tiny_run
    exps = {e["stage"]: e for e in doc["exponents"]}
    assert set(exps) == {*growth.STAGES, "total"}
    for stage, e in exps.items():
        assert (e["from"], e["to"]) == ("20k", "50k")
        a, b = _row(doc, stage, "20k"), _row(doc, stage, "50k")
        assert e["time_exponent"] == pytest.approx(math.log(b["seconds"] / a["seconds"]) / math.log(2.5))
        assert e["memory_exponent"] == pytest.approx(
            math.log(b["peak_rss_bytes"] / a["peak_rss_bytes"]) / math.log(2.5))


def test_table_prints_each_stage_size_and_exponent(tiny_run):
    doc, table, _ = tiny_run
    lines = table.splitlines()
    assert lines[0].startswith("cooc bench --growth:")
    exps = {e["stage"]: e for e in doc["exponents"]}
    for title, key, ekey in (("seconds", "seconds", "time_exponent"), ("peak MB", "peak_rss_bytes", "memory_exponent")):
        start = lines.index(f"| {title}: stage | 20k | 50k | exponent 20k->50k |")
        body = {line.split(" | ")[0][2:]: line.strip("| ").split(" | ") for line in lines[start + 2: start + 7]}
        assert list(body) == [*growth.STAGES, "total"]
        for stage, cells in body.items():
            assert cells[3] == f"{exps[stage][ekey]:.2f}"
            for cell, size in zip(cells[1:3], ("20k", "50k")):
                value = _row(doc, stage, size)[key]
                assert cell == (growth._secs(value) if key == "seconds" else growth._mb(value))
    for c in doc["corpora"]:
        v = _row(doc, "count", c["label"])["vocabulary"]
        assert any(line.startswith(f"| {c['label']} | {c['n_tokens']:,} |") and f"| {v:,} |" in line for line in lines)


def test_data_dir_corpora_are_reused(tiny_run, tmp_path, capsys):
    doc, _, data = tiny_run
    out = tmp_path / "again.json"
    assert cooc_main(["bench", "--growth", "--sizes", "20k", "--dim", "10", "-q", "--data-dir", str(data),
                      "--json", str(out)]) == 0
    again = json.loads(out.read_text(encoding="utf-8"))
    (corpus,) = again["corpora"]
    assert corpus["reused"] and corpus["bytes"] == doc["corpora"][0]["bytes"]
    assert _row(again, "count", "20k")["vocabulary"] == _row(doc, "count", "20k")["vocabulary"]


def test_the_work_directory_is_removed(tiny_run):
    _, _, data = tiny_run
    assert list((data.parent / "tmp").iterdir()) == []  # stage outputs and spilled runs are gone
    assert sorted(p.name for p in data.iterdir()) == sorted(
        f"zipf-{n}-types1M-len8to30-seed0.txt{ext}" for n in ("20k", "50k") for ext in ("", ".json"))


def test_plot_draws_a_png(tiny_run):
    pytest.importorskip("matplotlib")
    out = tiny_run[2].parent / "growth.png"
    assert out.read_bytes()[:8] == PNG_SIGNATURE and out.stat().st_size > 10_000


def test_without_data_dir_the_corpus_is_removed_too(tmp_path, capsys):
    # min_count above any frequency leaves no word: pretrain refuses, the stages after it cannot run
    out = tmp_path / "fail.json"
    (tmp_path / "tmp").mkdir()
    assert cooc_main(["bench", "--growth", "--sizes", "5k", "--dim", "5", "--types", "2k", "--min-count", "100000",
                      "-q", "--json", str(out), "--tmp-dir", str(tmp_path / "tmp")]) == 0
    assert list((tmp_path / "tmp").iterdir()) == []
    doc = json.loads(out.read_text(encoding="utf-8"))
    count = _row(doc, "count", "5k")
    assert count["status"] == "failed" and "ValueError" in count["reason"]
    for stage in ("ppmi", "svd", "neighbors"):
        r = _row(doc, stage, "5k")
        assert r["status"] == "skipped" and "count" in r["reason"]
    assert _row(doc, "total", "5k")["status"] == "skipped" and doc["exponents"] == []
    table = capsys.readouterr().out
    assert "| count | failed |" in table and "5k count: failed: ValueError" in table


def test_exponents_of_known_figures():
    rows = [{"stage": "count", "n_tokens": n, "status": "ok", "seconds": s, "peak_rss_bytes": m}
            for n, s, m in ((1_000_000, 2.0, 100), (10_000_000, 20.0, 1000), (40_000_000, 160.0, 1000))]
    rows.append({"stage": "svd", "n_tokens": 1_000_000, "status": "failed"})
    got = growth.exponents(rows, [1_000_000, 10_000_000, 40_000_000])
    assert [(e["stage"], e["from"], e["to"]) for e in got] == [("count", "1M", "10M"), ("count", "10M", "40M")]
    assert got[0]["time_exponent"] == pytest.approx(1.0) and got[0]["memory_exponent"] == pytest.approx(1.0)
    assert got[1]["time_exponent"] == pytest.approx(1.5) and got[1]["memory_exponent"] == pytest.approx(0.0)


@pytest.mark.parametrize(
    "args, words",
    [
        (["--growth", "--sizes", "10q"], "--sizes"),
        (["--growth", "--sizes", "0"], "--sizes"),
        (["--growth", "--sizes", "-1M"], "--sizes"),
        (["--growth", "--sizes", ","], "--sizes"),
        (["--growth", "--dim", "0"], "--dim"),
        (["--growth", "--dim", "-3"], "--dim"),
        (["--growth", "--dim", "many"], "--dim"),
        (["--growth", "--min-count", "0"], "--min-count"),
        (["--growth", "--types", "0"], "--types"),
        (["--growth", "--types", "1Q"], "--types"),
        (["--growth", "--memory-limit", "lots"], "--memory-limit"),
        (["--growth", "--memory-limit", "10kB"], "--memory-limit"),
        (["--growth", "--jobs", "0"], "--jobs"),
        (["--growth", "--window", "0"], "--window"),
        (["--growth", "--tmp-dir", "/nonexistent-dir"], "--tmp-dir"),
        (["--growth", "--data-dir", "FILE/sub"], "--data-dir"),
        (["--growth", "--json", "/nonexistent-dir/out.json"], "--json"),
        (["--growth", "--json", "FILE/out.json"], "--json"),
        (["--growth", "--json", "DIR"], "--json"),
        (["--growth", "--plot", "DIR"], "--plot"),
        (["--growth", "--repeat", "3"], "--repeat does not apply to --growth"),
        (["--growth", "--backends", "numpy"], "--backends does not apply"),
        (["--growth", "--in-process"], "--in-process does not apply"),
        (["--dim", "10"], "--dim applies to --growth only"),
        (["--memory-limit", "4GB"], "--memory-limit applies to --growth only"),
    ],
)
def test_bad_values_exit_2_with_one_line(tmp_path, capsys, args, words):
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    subst = {"FILE/sub": str(tmp_path / "afile" / "sub"), "FILE/out.json": str(tmp_path / "afile" / "out.json"),
             "DIR": str(tmp_path)}
    t0 = time.perf_counter()
    status = cooc_main(["bench", *[subst.get(a, a) for a in args]])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    lines = err.strip("\n").splitlines()
    assert len(lines) == 1, err
    assert "error" in lines[0] and words in lines[0]
    assert time.perf_counter() - t0 < 2  # stopped before generating or timing anything


def test_cli_default_sizes_are_the_growth_defaults():
    from cooc.cli import bench as cli_bench

    assert cli_bench.GROWTH_SIZES == growth.DEFAULT_SIZES


# ------------------------------------------------------------------------------------------------
# the generator


def test_zipf_text_sentence_lengths_option(tmp_path):
    n = bl.write_zipf_text(tmp_path / "a.txt", 30_000, 5_000, seed=4, sentence_lengths=(8, 30))
    data = (tmp_path / "a.txt").read_bytes()
    assert n == len(data)
    lengths = [len(line.split()) for line in data.decode().splitlines()]
    assert sum(lengths) == 30_000
    assert min(lengths[:-1]) >= 8 and max(lengths) <= 30  # the last sentence is cut at the end
    assert set(range(8, 31)) <= set(lengths[:-1])
    bl.write_zipf_text(tmp_path / "b.txt", 30_000, 5_000, seed=4, sentence_lengths=(8, 30))
    assert (tmp_path / "b.txt").read_bytes() == data


def test_zipf_text_default_lengths_stay_5_to_40(tmp_path):
    bl.write_zipf_text(tmp_path / "a.txt", 30_000, 5_000, seed=4)
    lengths = [len(line.split()) for line in (tmp_path / "a.txt").read_text().splitlines()]
    assert min(lengths[:-1]) == 5 and max(lengths) == 40
    words = (tmp_path / "a.txt").read_text().split()
    freq = np.sort(np.unique(words, return_counts=True)[1])[::-1]
    assert freq[0] > 5 * freq[9]  # Zipf: the top word is far more frequent than the tenth


@pytest.mark.parametrize("lengths", [(0, 5), (9, 8)])
def test_zipf_text_refuses_bad_sentence_lengths(tmp_path, lengths):
    with pytest.raises(ValueError, match="sentence_lengths"):
        bl.write_zipf_text(tmp_path / "a.txt", 1_000, 100, sentence_lengths=lengths)
    assert not (tmp_path / "a.txt").exists()
