"""NAS-Bench-Macro loader: published facts of the JSON, lookups by seed, every bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import loader_check, run_cli, source_db
from nasdb.loaders import nas_bench_macro as loader

from nasdb.testing.loaders import json_doc

NAME = "nbmacro"
SIZE = 6_561
BEST = ("22212220", "22212202")  # one trained network, two keys


checked = loader_check(NAME)
db = source_db()


def fails(checked, change, *needles: str) -> None:
    checked.fails(loader.FILE, json_doc(change), *needles)


def test_every_architecture_three_seeds_and_the_mean(db):
    rows = db.sql(
        "SELECT metric, seed, fidelity, unit, count(*), count(DISTINCT arch_index) "
        "FROM evaluations WHERE source = 'nbmacro' GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert rows == [
        ("flops", None, None, "M", SIZE, SIZE),
        ("params", None, None, "M", SIZE, SIZE),
        ("test_accuracy", 0, 50, "%", SIZE, SIZE),
        ("test_accuracy", 1, 50, "%", SIZE, SIZE),
        ("test_accuracy", 2, 50, "%", SIZE, SIZE),
        ("test_accuracy", None, 50, "%", SIZE, SIZE),
        ("test_accuracy_std", None, 50, "%", SIZE, SIZE),
    ]


def test_best_architecture(db):
    best = db.sql(
        "SELECT arch_id, test_accuracy, params, flops FROM nbmacro "
        "WHERE test_accuracy = (SELECT max(test_accuracy) FROM nbmacro) ORDER BY arch_id"
    ).fetchall()
    assert [r[0] for r in best] == sorted(BEST)
    assert best[0][1] == pytest.approx(93.1267, abs=1e-4)  # 93.13 %, mean of three runs
    assert best[0][2] == pytest.approx(1.985514) and best[0][3] == pytest.approx(85.164544)
    runs = db.lookup("nbmacro", [BEST[0]] * 3, task="cifar10", metric="test_accuracy", seed=None)
    assert runs.tolist() == pytest.approx([93.126663] * 3)
    per_seed = [
        db.lookup("nbmacro", BEST[0], task="cifar10", metric="test_accuracy", seed=s)[0]
        for s in (0, 1, 2)
    ]
    assert per_seed == pytest.approx([93.28, 93.33, 92.77], abs=1e-4)


def test_worst_and_ranges(db):
    low, high, n = db.sql(
        "SELECT min(test_accuracy), max(test_accuracy), count(*) FROM nbmacro"
    ).fetchall()[0]
    assert n == SIZE and 45 < low < 46 and 93 < high < 93.2
    worst = db.sql("SELECT arch_id FROM nbmacro ORDER BY test_accuracy LIMIT 1").fetchall()[0]
    assert worst == ("00000000",)  # eight identities: the stem and the downsampling 1x1 convs
    p_low, p_high = db.sql("SELECT min(params), max(params) FROM nbmacro").fetchall()[0]
    assert p_low == pytest.approx(0.387882) and p_high == pytest.approx(2.932586)


def test_isomorphic_keys_share_results(db):
    rows = db.sql(
        "SELECT count(DISTINCT iso_id), "
        "count(DISTINCT (test_accuracy, test_accuracy_std, params, flops)) FROM nbmacro"
    ).fetchall()[0]
    assert rows == (3_969, 3_969)  # one trained network per class, each with its own numbers
    same = db.sql(
        "SELECT count(*) FROM nbmacro a JOIN nbmacro b ON a.iso_id = b.iso_id "
        "WHERE a.test_accuracy <> b.test_accuracy"
    ).fetchall()[0]
    assert same == (0,)


def test_wide_view_and_info(checked):
    home = checked.home
    result = run_cli(
        "sql", "SELECT * FROM nbmacro ORDER BY arch_index LIMIT 3", "--home", str(home)
    )
    assert (
        result.exit_code == 0
        and "00000002" in result.output
        and "test_accuracy_std" in result.output
    )
    info = run_cli("info", "nbmacro", BEST[0], "--home", str(home))
    assert info.exit_code == 0, info.output
    assert "trained_as: 22212220" in info.output and "93.33" in info.output


def test_list_instead_of_object(checked):
    def as_list(f):
        f.write_text(json.dumps(list(json.loads(f.read_text()).values())))

    checked.fails(loader.FILE, as_list, loader.FILE, "list", "expected an object")


def test_missing_architecture(checked):
    fails(checked, lambda b: b.pop("11111111"), loader.FILE, "6,560", "6,561")


def test_key_that_is_not_an_architecture(checked):
    fails(checked, lambda b: b.__setitem__("02012103", b.pop("02012100")), "'02012103'", "8-digit")


def test_missing_field(checked):
    fails(checked, lambda b: b["00000000"].pop("flops"), "00000000", "expected test_acc")


def test_text_where_numbers_belong(checked):
    fails(checked, lambda b: b["12121212"].__setitem__("params", "1.5M"),
          "12121212", "numbers only")  # fmt: skip


def test_two_runs_instead_of_three(checked):
    fails(checked, lambda b: b["12121212"]["test_acc"].pop(), "12121212", "list of 3 numbers")


def test_mean_that_is_not_the_mean(checked):
    fails(checked, lambda b: b["22222222"].__setitem__("mean_acc", 99.0),
          "22222222", "mean_acc is not the mean")  # fmt: skip


def test_fractions_instead_of_percent(checked):
    def to_fractions(bench):
        for entry in bench.values():
            entry["test_acc"] = [a / 100 for a in entry["test_acc"]]
            entry["mean_acc"] = float(np.mean(entry["test_acc"]))
            entry["std"] = float(np.std(entry["test_acc"]))

    fails(checked, to_fractions, loader.FILE, "expected percent")


def test_isomorphic_copy_that_differs(checked):
    def change(bench):
        bench["00001001"]["params"] += 1  # trained as 00010010

    fails(checked, change, "00001001", "00010010", "must be equal")
