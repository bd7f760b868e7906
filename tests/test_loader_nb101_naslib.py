"""NASLib's 500 NB101 specs: one row per spec, numbered per cell; bad inputs."""

from __future__ import annotations

import json

import pytest
from conftest import assert_ingest_fails
from nb101_fixtures import ingested_once, private_copy

FILE = "zc_nasbench101.json"
TWO_VERTEX = "043721b9c7fe8c5fad811d47d83132ec"


@pytest.fixture(scope="module")
def base(tmp_path_factory, shared_data):
    return ingested_once(tmp_path_factory, shared_data, "nb101_naslib_zc", "nb101/naslib")


@pytest.fixture()
def copy(base, tmp_path):
    return private_copy(base, tmp_path)


def test_every_spec_is_a_row(db):
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


def _edit(src, change) -> None:
    f = src / FILE
    data = json.loads(f.read_text())
    change(data["nasbench101"]["cifar10"])
    f.write_text(json.dumps(data))


def test_missing_file(copy):
    src, home = copy
    (src / FILE).unlink()
    assert_ingest_fails("nb101_naslib_zc", src, home, FILE, "not found")


def test_truncated(copy):
    src, home = copy
    f = src / FILE
    f.write_bytes(f.read_bytes()[:10_000])
    assert_ingest_fails("nb101_naslib_zc", src, home, FILE, "JSON")


def test_corrupt_bytes(copy):
    src, home = copy
    f = src / FILE
    data = bytearray(f.read_bytes())
    data[2000:2008] = b"\xff\xfe\x00garb"
    f.write_bytes(bytes(data))
    assert_ingest_fails("nb101_naslib_zc", src, home, FILE)


def test_missing_proxy(copy):
    src, home = copy
    _edit(src, lambda rows: next(iter(rows.values())).pop("synflow"))
    assert_ingest_fails("nb101_naslib_zc", src, home, FILE, "synflow")


def test_bad_key(copy):
    src, home = copy

    def change(rows):
        key = next(iter(rows))
        rows["(1, 2, 3)"] = rows.pop(key)

    _edit(src, change)
    assert_ingest_fails("nb101_naslib_zc", src, home, FILE, "expected 56")


def test_invalid_cell(copy):
    src, home = copy

    def change(rows):
        key = next(iter(rows))
        rows["(" + ", ".join(["0"] * 49 + ["0", "4", "4", "4", "4", "4", "1"]) + ")"] = rows.pop(
            key
        )

    _edit(src, change)
    assert_ingest_fails("nb101_naslib_zc", src, home, FILE, "not connected")
