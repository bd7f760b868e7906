"""The query API over the full catalog built from ../shared/data and the installed packages."""

from __future__ import annotations

import numpy as np
import pytest

from nasdb import loaders, spaces
from nasdb.errors import LookupMiss, UnknownName

OPTIMA = {"cifar10": (6111, 94.37), "cifar100": (9930, 73.51), "imagenet16-120": (857, 47.31)}


@pytest.mark.parametrize("task", OPTIMA)
def test_nats_optima(db, task):
    index, acc = OPTIMA[task]
    got = db.lookup("nb201", [index], task=task, metric="test_accuracy")
    assert round(float(got[0]), 2) == acc
    best = db.sql(
        "SELECT arg_max(arch_index, value), max(value) FROM evaluations WHERE space = 'nb201' "
        "AND source = 'nb201_nats' AND metric = 'test_accuracy' AND task = ?",
        params=[task],
    ).fetchall()[0]
    assert best[0] == index and round(best[1], 2) == acc


def test_nb201_counts_and_iso_classes(db):
    per_task = db.sql(
        "SELECT task, count(DISTINCT arch_id) FROM evaluations WHERE source = 'nb201_nats' "
        "AND metric = 'test_accuracy' GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert per_task == [("cifar10", 15_625), ("cifar100", 15_625), ("imagenet16-120", 15_625)]
    iso = db.sql("SELECT count(DISTINCT iso_id) FROM architectures WHERE space = 'nb201'")
    assert iso.fetchall()[0][0] == 6_466


def test_hw_nas_bench_complete(db):
    rows = db.sql(
        "SELECT task, device, metric, count(value), count(*) FILTER (WHERE infeasible) "
        "FROM evaluations WHERE source = 'nb201_hwnas' AND metric = 'latency' GROUP BY ALL"
    ).fetchall()
    assert len(rows) == 18  # 6 devices x 3 datasets
    # The Edge TPU compiler rejected 4,699 cells; upstream marks them -1, nasdb marks them
    # infeasible (a row with no value).
    assert all(r[3] == (10_926 if r[1] == "edgetpu" else 15_625) for r in rows)
    assert all(r[4] == (4_699 if r[1] == "edgetpu" else 0) for r in rows)


def test_nbgraph_counts(db):
    rows = dict(
        db.sql(
            "SELECT task, count(DISTINCT arch_id) FROM evaluations WHERE space = 'nbgraph' "
            "AND metric = 'test_accuracy' GROUP BY ALL"
        ).fetchall()
    )
    assert rows.pop("proteins") == 2_021
    assert rows == dict.fromkeys(
        ["cora", "citeseer", "pubmed", "cs", "physics", "photo", "computers", "arxiv"], 26_206
    )


def test_lookup_forms_agree(db):
    nb201 = spaces.get("nb201")
    forms = [6111, "6111", nb201.string(6111), nb201.tuple(6111)]
    values = [db.lookup("nb201", f, task="cifar10", metric="test_accuracy")[0] for f in forms]
    assert len(set(values)) == 1
    batch = db.lookup("nb201", np.arange(15_625), task="cifar10", metric="test_accuracy")
    assert batch.shape == (15_625,) and batch.argmax() == 6111
    assert db.lookup("nb201", forms, task="cifar10", metric="test_accuracy").tolist() == values


def test_lookup_defaults_pick_highest_fidelity_and_preferred_source(db):
    key = db.resolve("nb201", task="cifar10", metric="test_accuracy")
    assert (key.source, key.fidelity) == ("nb201_nats", 200)
    low = db.resolve("nb201", task="cifar10", metric="test_accuracy", fidelity=12)
    assert low.source == "nb201_mini"
    every = np.arange(15_625)
    v1 = db.lookup("nb201", every, task="cifar10", metric="test_accuracy", source="nb201_v1")
    nats = db.lookup("nb201", every, task="cifar10", metric="test_accuracy")
    assert 0 < np.abs(v1 - nats).max() < 2.3  # NB201 v1.x and NATS differ by up to 2.2 points


def test_lookup_on_a_device(db):
    lat = db.lookup("nb201", [0, 6111], task="cifar10", metric="latency", device="edgegpu")
    assert (lat > 0).all()
    with pytest.raises(UnknownName, match="device"):
        db.lookup("nb201", [0], task="cifar10", metric="latency")


def test_lookup_miss_names_the_architecture(db):
    # Zero-cost tables hold only the 9,445 cells without unreachable ops.
    held = set(
        r[0]
        for r in db.sql(
            "SELECT arch_index FROM evaluations WHERE source = 'nb201_zc' AND metric = 'jacov' "
            "AND task = 'cifar10'"
        ).fetchall()
    )
    missing = next(i for i in range(15_625) if i not in held)
    with pytest.raises(LookupMiss, match=f"architecture {missing}"):
        db.lookup("nb201", [missing], task="cifar10", metric="jacov", source="nb201_zc")


def test_unknown_names_list_what_exists(db):
    with pytest.raises(UnknownName, match="cifar10"):
        db.lookup("nb201", [0], task="mnist", metric="test_accuracy")
    with pytest.raises(UnknownName, match="test_accuracy"):
        db.lookup("nb201", [0], task="cifar10", metric="accuracy")
    with pytest.raises(UnknownName, match="nbgraph"):
        db.lookup("nb999", [0], task="cifar10", metric="test_accuracy")


def test_listings(db):
    assert {"nb201", "nbgraph"} <= set(db.spaces())
    assert {"cifar10", "cifar100", "imagenet16-120"} <= set(db.tasks("nb201"))
    assert "test_accuracy" in db.metrics("nbgraph", "cora")
    assert "edgegpu" in db.devices("nb201")

    names = [r[0] for r in db.sources().fetchall()]
    assert sorted(names) == sorted(loaders.bundled()) and "nbgraph" in names
    assert {"nbmacro", "accel", "tnb101_micro"} <= set(db.spaces())


def test_relations_convert(db):
    rel = db.sql("SELECT * FROM nb201 WHERE task = 'cifar10' LIMIT 10")
    assert rel.to_arrow_table().num_rows == 10
    assert len(rel.df()) == 10
