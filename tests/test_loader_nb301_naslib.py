"""nb301_naslib_zc: NASLib's 500 DARTS cells with val accuracy and 11 proxies."""

from __future__ import annotations

import ast
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from conftest import counts, loader_check, run_cli
from nasdb.loaders import naslib_zc_nb301

from nasdb import spaces
from nasdb.testing.loaders import json_doc

NAME = "nb301_naslib_zc"
SUBDIR = "nb301/naslib"
FILE = "zc_nasbench301.json"
FIRST = (
    "[[(0, 4), (1, 3), (0, 2), (2, 3), (2, 3), (0, 3), (2, 6), (3, 5)], "
    "[(0, 3), (1, 3), (1, 1), (0, 5), (2, 3), (0, 2), (4, 4), (3, 1)]]"
)
S = spaces.get("nb301")


@pytest.fixture(scope="module")
def table(shared_data) -> pa.Table:
    return naslib_zc_nb301.read(shared_data / SUBDIR).evaluations


@pytest.fixture(scope="module")
def raw(shared_data) -> dict:
    return json.loads((shared_data / SUBDIR / FILE).read_text())["nasbench301"]["cifar10"]


def values(table: pa.Table, metric: str) -> dict[int, float]:
    rows = table.filter(pc.field("metric") == metric)
    return dict(zip(rows["arch_index"].to_pylist(), rows["value"].to_pylist(), strict=True))


def test_counts_units_fidelity(table):
    assert table.num_rows == 6000
    kinds = counts(table, "metric", "unit", "fidelity")
    assert kinds[("valid_accuracy", "%", 100)] == 500
    assert kinds[("params", "M", None)] == kinds[("flops", "M", None)] == 500
    assert {k[0] for k in kinds} == {"valid_accuracy", *naslib_zc_nb301.PROXIES}
    assert len(naslib_zc_nb301.PROXIES) == 11
    assert set(table["task"].to_pylist()) == {"cifar10"}
    assert table["seed"].null_count == table["device"].null_count == 6000


def test_published_values(table, raw):
    acc = np.array(list(values(table, "valid_accuracy").values()))
    assert (acc.min(), acc.max()) == pytest.approx((90.72790451712282, 94.33027993111271))
    assert np.median(acc) == pytest.approx(93.13526735389136)
    params = np.array(list(values(table, "params").values()))
    assert (params.min(), params.max()) == pytest.approx((0.56689, 1.325354))
    first = S.index(FIRST)
    assert values(table, "valid_accuracy")[first] == raw[FIRST]["val_accuracy"]
    assert values(table, "synflow")[first] == pytest.approx(95.08835691324988)


def test_keys_map_to_canonical_genotypes(table, raw):
    keys = list(raw)
    index = S.indices(keys)
    assert len(set(index.tolist())) == 500
    assert set(index.tolist()) == set(table["arch_index"].to_pylist())
    # NASLib lists a node's edges in either order; 499 keys are not canonical
    descending = sum(
        cell[2 * k][0] > cell[2 * k + 1][0]
        for key in keys
        for cell in ast.literal_eval(key)
        for k in range(4)
    )
    assert descending == 1942
    assert (
        sum(
            S.naslib_string(i).replace(" ", "") != k.replace(" ", "")
            for i, k in zip(index, keys, strict=True)
        )
        == 499
    )
    g = S.genotype(S.index(FIRST))
    # first key's reduction node 3 is written (1, avg_pool), (0, dil_conv_3x3)
    assert g.reduce[2:4] == [("dil_conv_3x3", 0), ("avg_pool_3x3", 1)]
    assert g.normal[:2] == [("sep_conv_5x5", 0), ("sep_conv_3x3", 1)]


# catalog ------------------------------------------------------------------------------
checked = loader_check(NAME)


def test_wide_view_and_info(checked):
    home = checked.home
    result = run_cli(
        "sql",
        "SELECT count(*) AS n, count(DISTINCT iso_id) AS iso, max(valid_accuracy) AS best "
        "FROM nb301",
        "--format",
        "csv",
        "--home",
        str(home),
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[1] == "500,500,94.33027993111271"
    best = (
        "[[(0, 1), (1, 4), (1, 4), (0, 4), (0, 0), (1, 3), (1, 0), (0, 3)], "
        "[(1, 4), (0, 4), (1, 4), (0, 2), (1, 4), (0, 3), (2, 4), (3, 3)]]"
    )
    genotype = S.genotype_strings([S.index(best)])[0]
    for form in (best, genotype, str(S.index(best))):
        result = run_cli("info", "nb301", form, "--home", str(home))
        assert result.exit_code == 0, result.output
        assert "94.3303" in result.output and f"index: {S.index(best)}" in result.output


# bad inputs ---------------------------------------------------------------------------
def fails(checked, edit, *needles: str) -> None:
    """``edit(records, document)`` of the file must fail naming the file and ``needles``."""
    change = json_doc(lambda data: edit(data["nasbench301"]["cifar10"], data))
    checked.fails(FILE, change, FILE, *needles)


def test_wrong_structure(checked):
    fails(checked, lambda recs, data: data.update({"nasbench301": {"cifar100": recs}}),
          "one dataset, 'cifar10'")  # fmt: skip


def test_a_cell_missing(checked):
    fails(checked, lambda recs, data: recs.pop(FIRST), "499 cells, expected 500")


def test_wrong_fields(checked):
    def rename(recs, _):
        recs[FIRST]["val_acc"] = recs[FIRST].pop("val_accuracy")

    fails(checked, rename, "unexpected field(s) val_acc", "val_accuracy")


def test_value_not_a_number(checked):
    fails(checked, lambda recs, _: recs[FIRST].update({"snip": "381.2"}),
          "snip is '381.2'", "finite number")  # fmt: skip


@pytest.mark.parametrize(
    "bad, needle",
    [
        (FIRST.replace("(3, 5)]", "(3, 7)]", 1), "op code 7"),
        (FIRST.replace("(0, 4), (1, 3)", "(0, 4), (2, 3)", 1), "may read only nodes 0..1"),
        (FIRST.replace("(2, 6), (3, 5)", "(3, 6), (3, 5)", 1), "reads node 3 twice"),
        ("[[(0, 4)], []]", "must list 8"),
        ("not a cell", "not a NASLib compact genotype"),
    ],
)
def test_key_that_is_not_a_cell(checked, bad, needle):
    fails(checked, lambda recs, _: recs.update({bad: recs.pop(FIRST)}), needle)


def test_one_genotype_twice(checked):
    cells = ast.literal_eval(FIRST)
    cells[0][0], cells[0][1] = cells[0][1], cells[0][0]  # node 2's edges swapped
    same = str(cells)

    def add(recs, _):
        other = next(k for k in recs if k != FIRST)
        recs[same] = recs.pop(other)

    fails(checked, add, "are one genotype")


def test_fractions_instead_of_percent(checked):
    def scale(recs, _):
        for rec in recs.values():
            rec["val_accuracy"] /= 100

    fails(checked, scale, "expected percent")


def test_raw_parameter_counts(checked):
    def raw_counts(recs, _):
        for rec in recs.values():
            rec["params"] *= 1e6

    fails(checked, raw_counts, "params ranges", "expected millions")
