"""nasbench-vis 20k subset: hashes are the first 20,001 cells; every kind of bad input."""

from __future__ import annotations

import json

import numpy as np
from conftest import loader_check
from test_loader_nb101_freerea import params_differ

from nasdb import spaces
from nasdb.testing.loaders import json_doc

FILE = "data-20k.json"

checked = loader_check("nb101_vis")


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
    assert params_differ(db, "nb101_vis") == 0


def test_missing_field(checked):
    checked.fails(FILE, json_doc(lambda d: d.pop("36_final_validation_accuracy")),
                  FILE, "36_final_validation_accuracy")  # fmt: skip


def test_short_list(checked):
    checked.fails(FILE, json_doc(lambda d: d["final_training_time"].pop()),
                  FILE, "final_training_time", "20,001")  # fmt: skip


def test_unknown_hash(checked):
    checked.fails(FILE, json_doc(lambda d: d["key"].__setitem__(7, "f" * 32)), "f" * 32)
