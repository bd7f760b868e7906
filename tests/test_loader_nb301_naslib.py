"""nb301_naslib_zc: NASLib's 500 DARTS cells with val accuracy and 11 proxies."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from conftest import assert_ingest_fails, copy_fixtures, run_cli
from nasdb.loaders import naslib_zc_nb301

from nasdb import spaces

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
    kinds = {
        (r["metric"], r["unit"], r["fidelity"], r["n"])
        for r in table.group_by(["metric", "unit", "fidelity"])
        .aggregate([("value", "count")])
        .rename_columns(["metric", "unit", "fidelity", "n"])
        .to_pylist()
    }
    assert ("valid_accuracy", "%", 100, 500) in kinds
    assert ("params", "M", None, 500) in kinds and ("flops", "M", None, 500) in kinds
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
# ``home`` holds a valid ingest, so a failed one has something to leave alone.
home, src = copy_fixtures(NAME, SUBDIR)


def test_wide_view_and_info(home):
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
def rewrite(src: Path, edit) -> None:
    data = json.loads((src / FILE).read_text())
    edit(data["nasbench301"]["cifar10"], data)
    (src / FILE).write_text(json.dumps(data))


def test_missing_file(home, src):
    (src / FILE).unlink()
    assert_ingest_fails(NAME, src, home, FILE, "file not found")


def test_truncated(home, src):
    f = src / FILE
    f.write_bytes(f.read_bytes()[:100_000])
    assert_ingest_fails(NAME, src, home, FILE, "not readable JSON")


def test_corrupt_bytes(home, src):
    f = src / FILE
    data = bytearray(f.read_bytes())
    data[5000:5040] = b"\x00\xff garbage \xfe" * 3 + b"\x00" * 7
    f.write_bytes(bytes(data))
    assert_ingest_fails(NAME, src, home, FILE, "not readable JSON")


def test_wrong_structure(home, src):
    rewrite(src, lambda recs, data: data.update({"nasbench301": {"cifar100": recs}}))
    assert_ingest_fails(NAME, src, home, FILE, "one dataset, 'cifar10'")


def test_a_cell_missing(home, src):
    rewrite(src, lambda recs, data: recs.pop(FIRST))
    assert_ingest_fails(NAME, src, home, FILE, "499 cells, expected 500")


def test_wrong_fields(home, src):
    def rename(recs, _):
        recs[FIRST]["val_acc"] = recs[FIRST].pop("val_accuracy")

    rewrite(src, rename)
    assert_ingest_fails(NAME, src, home, FILE, "unexpected field(s) val_acc", "val_accuracy")


def test_value_not_a_number(home, src):
    rewrite(src, lambda recs, _: recs[FIRST].update({"snip": "381.2"}))
    assert_ingest_fails(NAME, src, home, FILE, "snip is '381.2'", "finite number")


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
def test_key_that_is_not_a_cell(home, src, bad, needle):
    rewrite(src, lambda recs, _: recs.update({bad: recs.pop(FIRST)}))
    assert_ingest_fails(NAME, src, home, FILE, needle)


def test_one_genotype_twice(home, src):
    cells = ast.literal_eval(FIRST)
    cells[0][0], cells[0][1] = cells[0][1], cells[0][0]  # node 2's edges swapped
    same = str(cells)

    def add(recs, _):
        other = next(k for k in recs if k != FIRST)
        recs[same] = recs.pop(other)

    rewrite(src, add)
    assert_ingest_fails(NAME, src, home, FILE, "are one genotype")


def test_fractions_instead_of_percent(home, src):
    def scale(recs, _):
        for rec in recs.values():
            rec["val_accuracy"] /= 100

    rewrite(src, scale)
    assert_ingest_fails(NAME, src, home, FILE, "expected percent")


def test_raw_parameter_counts(home, src):
    def raw_counts(recs, _):
        for rec in recs.values():
            rec["params"] *= 1e6

    rewrite(src, raw_counts)
    assert_ingest_fails(NAME, src, home, FILE, "params ranges", "expected millions")
