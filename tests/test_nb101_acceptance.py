"""NAS-Bench-101 in the catalog: all cells, lookups by graph, the published optimum."""

from __future__ import annotations

import json

import numpy as np
from conftest import run_cli

from nasdb import spaces

BEST_HASH = "02e5a0247bbdcf2860b7e96f74961594"  # 94.32 % mean test accuracy at 108 epochs
C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"


def test_every_cell_is_in_the_catalog(db):
    assert spaces.get("nb101").size == 423_624
    n, distinct = db.sql(
        "SELECT count(*), count(DISTINCT arch_id) FROM architectures WHERE space = 'nb101'"
    ).fetchall()[0]
    assert n == distinct == 423_624


def test_cell_given_as_adjacency_and_ops(db):
    # the best cell as nasbench's API takes it, and drawn with two vertices swapped:
    # the same network, so the same hash and accuracy
    matrix = np.array(
        [
            [0, 1, 1, 0, 0, 1, 1],
            [0, 0, 0, 0, 0, 1, 0],
            [0, 0, 0, 1, 0, 0, 0],
            [0, 0, 0, 0, 1, 0, 0],
            [0, 0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 0],
        ]
    )
    ops = ["input", C1, C3, MP, C3, C3, "output"]
    space = spaces.get("nb101")
    i = space.index((matrix, ops))
    assert space.arch_id(i) == BEST_HASH
    order = [0, 2, 1, 3, 4, 5, 6]
    swapped = matrix[np.ix_(order, order)]
    assert not np.array_equal(swapped, matrix)
    assert space.index((swapped, [ops[v] for v in order])) == i
    value = db.lookup("nb101", (matrix, ops), metric="test_accuracy", fidelity=108)
    assert round(float(value[0]), 2) == 94.32
    expected = db.sql(
        "SELECT test_accuracy FROM nb101 WHERE arch_id = $h", params={"h": BEST_HASH}
    ).fetchall()[0][0]
    assert value[0] == expected
    batch = db.lookup("nb101", [(matrix, ops), BEST_HASH, i], metric="test_accuracy", fidelity=108)
    assert (batch == value[0]).all()


def test_best_cell_is_the_published_one(db):
    (arch_id, value, params), *_ = db.sql(
        "SELECT arch_id, test_accuracy, params FROM nb101 ORDER BY test_accuracy DESC LIMIT 1"
    ).fetchall()
    assert arch_id == BEST_HASH and round(value, 2) == 94.32
    assert round(params, 2) == 32.43


def test_subset_hashes_are_cells_of_the_enumeration(shared_data):
    keys = json.loads((shared_data / "nb101/nasbench_vis/data-20k.json").read_text())["key"]
    space = spaces.get("nb101")
    assert space.arch_ids(np.arange(len(keys))) == keys


def test_info_and_wide_view(full_home):
    result = run_cli("info", "nb101", "01|00;input,output", "--home", str(full_home))
    assert result.exit_code == 0, result.output
    assert "043721b9c7fe8c5fad811d47d83132ec" in result.output and "nb101_ecnas" in result.output
    result = run_cli("sql", "SELECT * FROM nb101 LIMIT 3", "--home", str(full_home))
    assert result.exit_code == 0 and "test_accuracy" in result.output
