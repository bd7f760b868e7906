"""HW-NAS-Bench CSV loader: real facts and every kind of bad input."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
import pytest
from conftest import loader_check, source_db
from nasdb.loaders import hw_nas_bench_csv as hw
from nasdb.loaders.base import read_csv
from nasdb.loaders.nb201_keys import tuple_indices

from nasdb import spaces
from nasdb.testing.loaders import lines

NAME = "nb201_hwnas"
SIZE = 15_625
EDGETPU_COMPILED = 10_926  # the other 4,699 failed the Edge TPU compiler (-1): infeasible


checked = loader_check(NAME)
db = source_db()


def test_every_device_covers_every_cell(db):
    rows = db.sql(
        "SELECT task, device, metric, unit, count(value), count(DISTINCT arch_index) "
        "FILTER (WHERE value IS NOT NULL), min(value) "
        "FROM evaluations WHERE source = 'nb201_hwnas' GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert {r[0] for r in rows} == {"cifar10", "cifar100", "imagenet16-120"}
    assert len(rows) == 3 * 10
    for task, device, metric, unit, n, distinct, low in rows:
        assert n == distinct
        assert n == (EDGETPU_COMPILED if device == "edgetpu" else SIZE), (task, device, metric)
        assert unit == {"latency": "ms", "energy": "mJ", "arithmetic_intensity": ""}[metric]
        assert low > 0
    devices = {r[1] for r in rows}
    assert devices == {"edgegpu", "raspi4", "edgetpu", "pixel3", "eyeriss", "fpga"}


def test_edgetpu_failures_are_the_minus_one_cells(checked):
    source = checked.source
    t = read_csv(source / "hw_cifar10.csv", ["net", "edgetpu_latency"])
    failed = np.flatnonzero(t.column("edgetpu_latency").to_numpy() == -1)
    index = tuple_indices(t.column("net"), source / "hw_cifar10.csv", "net")
    ev = hw.read(source).evaluations
    mask = pc.and_(pc.equal(ev["device"], "edgetpu"), pc.equal(ev["task"], "cifar10"))
    tpu = ev.filter(mask)
    infeasible = tpu.filter(tpu["infeasible"])
    assert len(failed) == SIZE - EDGETPU_COMPILED
    # a compiler rejection is no latency: a row marked infeasible, with no value
    assert sorted(infeasible["arch_index"].to_pylist()) == sorted(index[failed].tolist())
    assert infeasible["value"].null_count == len(failed)
    assert tpu.filter(pc.invert(tpu["infeasible"]))["value"].null_count == 0


def test_known_cell_matches_hw_nas_bench_api(db):
    # HW-NAS-Bench README prints these for architecture No. 0 on CIFAR-10.
    assert spaces.get("nb201").index("(4, 3, 3, 0, 0, 0)") == 0
    rows = dict(
        db.sql(
            "SELECT device || '_' || metric, value FROM evaluations "
            "WHERE source = 'nb201_hwnas' AND task = 'cifar10' AND arch_index = 0"
        ).fetchall()
    )
    assert rows["edgegpu_latency"] == pytest.approx(5.807418537139893)
    assert rows["edgegpu_energy"] == pytest.approx(24.226614330768584)
    assert rows["raspi4_latency"] == pytest.approx(10.481976820010459)
    assert rows["edgetpu_latency"] == pytest.approx(0.9571811309997429)
    assert rows["pixel3_latency"] == pytest.approx(3.60585)
    assert rows["eyeriss_energy"] == pytest.approx(0.6872827644999999)
    assert rows["fpga_energy"] == pytest.approx(18.01072)


def test_tuple_keys_decode_to_official_order(checked):
    source = checked.source
    # The CSV rows are in official index order, so vectorised decoding must give 0..N-1,
    # and it must agree with the space's own per-key parser.
    t = read_csv(source / "hw_ImageNet16-120.csv", ["net"])
    index = tuple_indices(t.column("net"), source / "hw_ImageNet16-120.csv", "net")
    assert np.array_equal(index, np.arange(SIZE))
    space = spaces.get("nb201")
    sample = t.column("net").to_pylist()[::97]
    assert [space.index(k) for k in sample] == index[::97].tolist()


def test_sensible_ranges(db):
    row = db.sql(
        "SELECT max(value) FILTER (WHERE metric = 'latency'), "
        "max(value) FILTER (WHERE metric = 'energy'), "
        "avg(value) FILTER (WHERE metric = 'latency' AND task = 'imagenet16-120' "
        "  AND device = 'eyeriss') < avg(value) FILTER (WHERE metric = 'latency' "
        "  AND task = 'cifar10' AND device = 'eyeriss') "
        "FROM evaluations WHERE source = 'nb201_hwnas'"
    ).fetchall()[0]
    assert row[0] < 100 and row[1] < 100  # ms and mJ for one 32x32 or 16x16 image
    assert row[2]  # 16x16 ImageNet16-120 inputs are cheaper than 32x32 CIFAR ones


def test_truncated_at_line_end(checked):
    checked.fails("hw_cifar10.csv", lines(lambda rows: rows[:9000]), "8999 rows", "15625")


def test_wrong_columns(checked):
    def rename(rows):
        rows[0] = rows[0].replace("fpga_energy", "fpga_power")

    checked.fails("hw_cifar10.csv", lines(rename), "hw_cifar10.csv", "fpga_energy")


def test_key_that_does_not_parse(checked):
    def bad_key(rows):
        rows[5] = rows[5].replace(rows[5][: rows[5].index(")") + 2], '"(4, 3, 7, 0, 0, 0)"', 1)

    checked.fails("hw_cifar100.csv", lines(bad_key), "(4, 3, 7, 0, 0, 0)", "op tuple")


def test_duplicate_key(checked):
    def repeat(rows):
        key = rows[1][: rows[1].index(")") + 2]
        rows[2] = key + rows[2][rows[2].index(")") + 2 :]

    checked.fails("hw_cifar10.csv", lines(repeat), "hw_cifar10.csv", "exactly once")


@pytest.mark.parametrize(
    "latency, needle",
    [("fast", "numbers"), ("-1.0", "positive")],  # -1 marks a failure only for the Edge TPU
    ids=["text_where_numbers_belong", "negative_latency_outside_edgetpu"],
)
def test_bad_edgegpu_latency(checked, latency, needle):
    def change(rows):
        head, rest = rows[3].split('",', 1)
        rows[3] = f'{head}",{latency},' + rest.split(",", 1)[1]

    checked.fails("hw_cifar10.csv", lines(change), "edgegpu_latency", needle)
