"""AnalogNAS-Bench loader: tuple encoding, units, agreement with NATS and every bad input."""

from __future__ import annotations

import importlib.util
import io
import pickle
import sys
import types

import numpy as np
import pandas as pd
import pytest
from conftest import loader_check
from nasdb.loaders import analog_nasbench as loader

from nasdb import spaces
from nasdb.catalog import package_dir
from nasdb.safe_pickle import Record

if importlib.util.find_spec("analognasbench") is None:
    pytest.skip("analog-nasbench is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def data():
    return loader.read(package_dir("analognasbench")).evaluations.to_pandas()


@pytest.fixture(scope="module")
def wide(data):
    return data.pivot(index="arch_index", columns="metric", values="value")


checked = loader_check("analog_nasbench")


def _raw(f) -> dict:
    """The file as plain dicts, read with the loader's restricted mapping."""
    from nasdb import safe_pickle

    return safe_pickle.loads(f.read_bytes(), f, records=loader._RECORDS)


def test_every_cell_once_with_all_metrics(data, wide):
    assert wide.shape == (15_625, 21)
    assert sorted(wide.index) == list(range(15_625))
    assert not wide.isna().any().any()
    assert set(data.unit) == {"%"} and set(data.task) == {"cifar10"}
    assert "test_accuracy" not in set(data.metric)
    assert data.device.isna().all() and data.seed.isna().all()


def test_percent_and_fidelity(data, wide):
    assert 93 < wide.baseline_accuracy.max() <= 100
    assert wide.baseline_accuracy.min() >= 9
    fid = data.groupby("metric").fidelity.first()
    assert fid.baseline_accuracy == 200 and fid.qat_accuracy == 220
    assert fid.analog_accuracy == 400 and fid.analog_drift_accuracy_60s_std == 400
    # hardware-aware training recovers most of what plain mapping to analog tiles loses
    assert wide.analog_accuracy.median() > wide.noisy_accuracy.median() + 10


def test_keys_follow_naslib_tuple(wide):
    """Key (0,0,0,0,0,0) is all skip connections: NB201 index of that cell holds it."""
    space = spaces.get("nb201")
    raw = _raw(package_dir("analognasbench") / "data.anb")
    for key in [(0, 0, 0, 0, 0, 0), (1, 1, 1, 1, 1, 1), (2, 2, 2, 2, 2, 2), (0, 0, 0, 4, 3, 2)]:
        idx = space.from_tuple(key)
        assert space.tuple(idx) == key
        assert wide.baseline_accuracy[idx] == raw[key].baseline_accuracy
    all_none = space.index("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    assert wide.baseline_accuracy[all_none] == 10.0  # chance: nothing reaches the output


def test_drift_values_match_upstream_objects(wide):
    raw = _raw(package_dir("analognasbench") / "data.anb")
    space = spaces.get("nb201")
    for key in list(raw)[::997]:
        rec, row = raw[key], wide.loc[space.from_tuple(key)]
        for seconds in loader.DRIFT_SECONDS:
            drift = getattr(rec, f"analog_drift_{seconds}")
            assert row[f"analog_drift_accuracy_{seconds}s"] == drift.value
            assert row[f"analog_drift_accuracy_{seconds}s_std"] == drift.uncertainty


def test_agrees_with_nats(wide, shared_data):
    nats = pd.read_csv(shared_data / "nb201" / "freerea_nats" / "cifar10" / "accuracies.csv")
    acc = nats.set_index("index").accuracy.sort_index().to_numpy()
    base = wide.baseline_accuracy.sort_index().to_numpy()
    assert np.corrcoef(base, acc)[0, 1] > 0.999
    assert abs(np.median(base - acc)) < 1


def test_wrong_structure(checked):
    def plain(f):
        f.write_bytes(pickle.dumps({key: {"baseline_accuracy": 90.0} for key in _raw(f)}))

    checked.fails(loader.FILE, plain, "data.anb", "Architecture record")


@pytest.fixture()
def rewrite(monkeypatch):
    """Re-pickle a file after an edit, naming upstream's classes as upstream does.

    Stub modules stand in for ``analognasbench.data`` while pickling, so the test never
    imports the package's own classes either.
    """
    package, module = types.ModuleType("analognasbench"), types.ModuleType("analognasbench.data")
    package.data = module
    for name in ("Architecture", "DriftMeasurement"):
        stub = type(name, (), {"__module__": module.__name__, "__qualname__": name})
        setattr(module, name, stub)
    monkeypatch.setitem(sys.modules, "analognasbench", package)
    monkeypatch.setitem(sys.modules, "analognasbench.data", module)

    class Pickler(pickle.Pickler):
        def reducer_override(self, obj):
            if isinstance(obj, Record):
                return (getattr(module, type(obj).__name__), (), obj.__dict__)
            return NotImplemented

    def run(edit):
        def rewritten(f) -> None:
            table = _raw(f)
            edit(table)
            buf = io.BytesIO()
            Pickler(buf, protocol=4).dump(table)
            f.write_bytes(buf.getvalue())

        return rewritten

    return run


def test_text_where_numbers_belong(checked, rewrite):
    def edit(table):
        next(iter(table.values())).qat_accuracy = "93.1"

    checked.fails(loader.FILE, rewrite(edit), "data.anb", "non-numeric")


def test_out_of_range(checked, rewrite):
    def edit(table):
        next(iter(table.values())).ptq_accuracy = 120.0

    checked.fails(loader.FILE, rewrite(edit), "data.anb", "0..100")


def test_missing_cell(checked, rewrite):
    checked.fails(loader.FILE, rewrite(lambda table: table.pop((0, 0, 0, 0, 0, 0))),
                  "data.anb", "15624", "15625")  # fmt: skip


def test_bad_key(checked, rewrite):
    def edit(table):
        table[(0, 0, 0, 0, 0, 7)] = table.pop((0,) * 6)

    checked.fails(loader.FILE, rewrite(edit), "data.anb", "(0, 0, 0, 0, 0, 7)")
