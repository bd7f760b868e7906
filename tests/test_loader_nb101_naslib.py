"""NASLib's 500 NB101 specs: one row per spec, numbered per cell; bad inputs."""

from __future__ import annotations

from conftest import loader_check

from nasdb.testing.loaders import json_doc

FILE = "zc_nasbench101.json"
TWO_VERTEX = "043721b9c7fe8c5fad811d47d83132ec"

checked = loader_check("nb101_naslib_zc")


def test_every_spec_is_a_row(checked):
    db = checked.db
    rows = db.sql(
        "SELECT count(*), count(DISTINCT arch_index), max(seed), min(value), max(value) "
        "FROM evaluations WHERE source = 'nb101_naslib_zc' AND metric = 'valid_accuracy'"
    ).fetchall()[0]
    assert rows[:3] == (500, 292, 54)  # 55 specs prune to input -> output
    assert 70 < rows[3] < rows[4] < 95
    seeds = db.sql(
        "SELECT count(*) FROM evaluations e JOIN architectures a USING (space, arch_index) "
        "WHERE e.source = 'nb101_naslib_zc' AND e.metric = 'synflow' "
        f"AND a.arch_id = '{TWO_VERTEX}'"
    ).fetchall()[0]
    assert seeds == (55,)
    metrics = db.metrics("nb101")
    assert {"synflow", "jacov", "epe_nas", "fisher", "grasp", "snip"} <= set(metrics)


def fails(checked, change, *needles: str) -> None:
    checked.fails(FILE, json_doc(lambda data: change(data["nasbench101"]["cifar10"])), *needles)


def test_missing_proxy(checked):
    fails(checked, lambda rows: next(iter(rows.values())).pop("synflow"), FILE, "synflow")


def test_bad_key(checked):
    fails(checked, lambda rows: rows.__setitem__("(1, 2, 3)", rows.pop(next(iter(rows)))),
          FILE, "expected 56")  # fmt: skip


def test_invalid_cell(checked):
    unconnected = "(" + ", ".join(["0"] * 49 + ["0", "4", "4", "4", "4", "4", "1"]) + ")"
    fails(checked, lambda rows: rows.__setitem__(unconnected, rows.pop(next(iter(rows)))),
          FILE, "not connected")  # fmt: skip
