"""HW-NAS-Bench original pickle: same rows as the CSV export, and bad input fails cleanly."""

from __future__ import annotations

import pickle

import numpy as np
import pyarrow as pa
import pytest
import upstream_nb201 as u
from nasdb.loaders import hw_nas_bench_csv as csv_loader
from nasdb.loaders import hw_nas_bench_pickle as hp

from nasdb.spaces.nb201 import SIZE
from nasdb.testing import check_loader

NAME = "nb201_hwnas_pickle"
FILE = hp.FILE


def numpy1_pickle(obj) -> bytes:
    """Pickle as numpy 1.x wrote it: protocol 3, arrays rebuilt through ``numpy.core``."""
    data = pickle.dumps(obj, protocol=3)
    return data.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


@pytest.fixture(scope="module")
def arrays():
    return u.hw_arrays(seed=7)


@pytest.fixture(scope="module")
def blob(arrays):
    return numpy1_pickle(u.hw_payload(arrays))


@pytest.fixture(scope="module")
def checked(tmp_path_factory, blob):
    """The loader kit on a checkout holding the pickle: 3 datasets x 10 quantities x cells."""
    directory = tmp_path_factory.mktemp("hw_nas_bench_repo")
    (directory / FILE).write_bytes(blob)
    kit = tmp_path_factory.mktemp("hwnas_pickle_kit")
    return check_loader(NAME, directory, kit, rows=3 * 10 * SIZE)


def _comparable(table: pa.Table) -> list[tuple]:
    t = table.drop_columns(["source"])
    return sorted(zip(*(t.column(c).to_pylist() for c in t.column_names), strict=True))


def test_the_pickle_holds_numpy_1_arrays(blob):
    assert b"cnumpy.core.multiarray\n_reconstruct" in blob
    assert b"numpy._core" not in blob


def test_same_rows_as_the_csv_loader(arrays, tmp_path, blob):
    (tmp_path / FILE).write_bytes(blob)
    u.write_hw_csvs(tmp_path, arrays)
    from_pickle = hp.read(tmp_path).evaluations
    from_csv = csv_loader.read(tmp_path).evaluations
    assert from_pickle.schema == from_csv.schema
    assert set(from_pickle["source"].to_pylist()) == {NAME}
    assert _comparable(from_pickle) == _comparable(from_csv)


def test_rows_values_and_edgetpu_failures(checked, arrays):
    db = checked.db
    n = db.sql("SELECT count(value) FROM evaluations WHERE source = $s", params={"s": NAME})
    assert n.fetchall() == [(3 * (9 * SIZE + SIZE - len(u.EDGETPU_FAILED)),)]
    rows = db.sql(
        "SELECT arch_index, value, unit FROM evaluations WHERE source = $s "
        "AND task = 'imagenet16-120' AND device = 'eyeriss' AND metric = 'energy' "
        "ORDER BY arch_index",
        params={"s": NAME},
    ).fetchall()
    assert [r[0] for r in rows] == list(range(SIZE))
    assert np.array_equal([r[1] for r in rows], arrays["ImageNet16-120"]["eyeriss_energy"])
    assert {r[2] for r in rows} == {"mJ"}
    tpu = db.sql(
        "SELECT arch_index FROM evaluations WHERE source = $s AND device = 'edgetpu' "
        "AND task = 'cifar100' AND NOT infeasible",
        params={"s": NAME},
    ).fetchall()
    assert set(r[0] for r in tpu).isdisjoint(u.EDGETPU_FAILED.tolist())
    assert len(tpu) == SIZE - len(u.EDGETPU_FAILED)
    infeasible = db.sql(
        "SELECT arch_index FROM evaluations WHERE source = $s AND device = 'edgetpu' "
        "AND task = 'cifar100' AND infeasible AND value IS NULL ORDER BY arch_index",
        params={"s": NAME},
    ).fetchall()
    assert [r[0] for r in infeasible] == sorted(u.EDGETPU_FAILED.tolist())


def test_plain_lists_read_the_same(arrays, tmp_path, blob):
    (tmp_path / FILE).write_bytes(pickle.dumps(u.hw_payload(arrays, as_lists=True), protocol=4))
    other = tmp_path / "arrays"
    other.mkdir()
    (other / FILE).write_bytes(blob)
    assert hp.read(tmp_path).evaluations.equals(hp.read(other).evaluations)


# bad input --------------------------------------------------------------------------------
def test_no_nasbench201_space(checked, arrays):
    def edit(src):
        payload = u.hw_payload(arrays)
        payload.pop("nasbench201")
        (src / FILE).write_bytes(pickle.dumps(payload))

    checked.fails("", edit, FILE, "'nasbench201'")


def test_missing_metric(checked, arrays):
    def edit(src):
        payload = u.hw_payload(arrays)
        payload["nasbench201"]["cifar100"].pop("fpga_energy")
        (src / FILE).write_bytes(pickle.dumps(payload))

    checked.fails("", edit, FILE, "nasbench201/cifar100", "'fpga_energy'")


def test_short_metric(checked, arrays):
    def edit(src):
        payload = u.hw_payload(arrays)
        short = arrays["cifar10"]["raspi4_latency"][:900]
        payload["nasbench201"]["cifar10"]["raspi4_latency"] = short
        (src / FILE).write_bytes(pickle.dumps(payload))

    checked.fails("", edit, FILE, "raspi4_latency", "900 values", "15625")


def test_text_where_numbers_belong(checked, arrays):
    def edit(src):
        payload = u.hw_payload(arrays, as_lists=True)
        payload["nasbench201"]["cifar10"]["pixel3_latency"][4] = "fast"
        (src / FILE).write_bytes(pickle.dumps(payload))

    checked.fails("", edit, FILE, "pixel3_latency", "numbers")


def test_negative_latency_outside_edgetpu(checked, arrays):
    def edit(src):
        payload = u.hw_payload(arrays)
        payload["nasbench201"]["cifar10"]["edgegpu_latency"][3] = -1.0
        (src / FILE).write_bytes(pickle.dumps(payload))

    checked.fails("", edit, FILE, "edgegpu_latency[3]", "positive")


def test_configs_in_another_order(checked, arrays):
    def edit(src):
        payload = u.hw_payload(arrays)
        configs = payload["nasbench201"]["ImageNet16-120"]["config"]
        configs[7], configs[8] = configs[8], configs[7]
        (src / FILE).write_bytes(pickle.dumps(payload))

    checked.fails("", edit, FILE, "config[7]", "official NB201 cell 7")


def test_not_a_dict(checked):
    def edit(src):
        (src / FILE).write_bytes(pickle.dumps([1, 2, 3]))

    checked.fails("", edit, FILE, "expected a dict")
