"""nasbench-vis 20k subset: hashes are the first 20,001 cells; every kind of bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import assert_ingest_fails
from nb101_fixtures import ingested_once, private_copy

from nasdb import spaces

FILE = "data-20k.json"


@pytest.fixture(scope="module")
def base(tmp_path_factory, shared_data):
    return ingested_once(tmp_path_factory, shared_data, "nb101_vis", "nb101/nasbench_vis")


@pytest.fixture()
def copy(base, tmp_path):
    return private_copy(base, tmp_path)


def test_hashes_are_the_first_cells_of_the_enumeration(shared_data):
    keys = json.loads((shared_data / "nb101/nasbench_vis" / FILE).read_text())["key"]
    space = spaces.get("nb101")
    np.testing.assert_array_equal(space.indices_of_hashes(keys), np.arange(20_001))


def test_rows(db):
    rows = db.sql(
        "SELECT metric, fidelity, seed, device, count(*), min(value), max(value) "
        "FROM evaluations WHERE source = 'nb101_vis' GROUP BY ALL ORDER BY metric, fidelity"
    ).fetchall()
    assert [r[:5] for r in rows] == [
        ("params", None, None, None, 20_001),
        ("train_time", 108, 0, "tpu_v2", 20_001),
        *[("valid_accuracy", e, 0, None, 20_001) for e in (4, 12, 36, 108)],
    ]
    assert round(rows[-1][6], 2) == 94.91  # best 108-epoch validation accuracy among them
    # parameter counts agree with the FreeREA table on every shared cell
    differ = db.sql(
        "SELECT count(*) FROM evaluations a JOIN evaluations b USING (arch_index) "
        "WHERE a.source = 'nb101_vis' AND b.source = 'nb101_freerea' "
        "AND a.metric = 'params' AND b.metric = 'params' AND abs(a.value - b.value) > 1e-6"
    ).fetchall()[0][0]
    assert differ == 0


def _edit(src, change) -> None:
    f = src / FILE
    data = json.loads(f.read_text())
    change(data)
    f.write_text(json.dumps(data))


def test_missing_file(copy):
    src, home = copy
    (src / FILE).unlink()
    assert_ingest_fails("nb101_vis", src, home, FILE, "not found")


def test_truncated(copy):
    src, home = copy
    f = src / FILE
    f.write_bytes(f.read_bytes()[:100_000])
    assert_ingest_fails("nb101_vis", src, home, FILE, "JSON")


def test_corrupt_bytes(copy):
    src, home = copy
    f = src / FILE
    data = bytearray(f.read_bytes())
    data[5000:5010] = b"\xff\x00\xfe garbag"
    f.write_bytes(bytes(data))
    assert_ingest_fails("nb101_vis", src, home, FILE)


def test_missing_field(copy):
    src, home = copy
    _edit(src, lambda d: d.pop("36_final_validation_accuracy"))
    assert_ingest_fails("nb101_vis", src, home, FILE, "36_final_validation_accuracy")


def test_short_list(copy):
    src, home = copy
    _edit(src, lambda d: d["final_training_time"].pop())
    assert_ingest_fails("nb101_vis", src, home, FILE, "final_training_time", "20,001")


def test_unknown_hash(copy):
    src, home = copy
    _edit(src, lambda d: d["key"].__setitem__(7, "f" * 32))
    assert_ingest_fails("nb101_vis", src, home, FILE, "f" * 32)
