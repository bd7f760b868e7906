"""NB201 robustness loader (Jung et al., ICLR 2023): real facts and every kind of bad input."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_ingest_fails, copy_fixtures
from nasdb.loaders import robustness as rb

from nasdb import connect, spaces

NAME = "nb201_robustness"
SIZE = 15_625


home, src = copy_fixtures(NAME, rb.SOURCE.subdir)


@pytest.fixture(scope="module")
def source(shared_data):
    return shared_data / rb.SOURCE.subdir


@pytest.fixture(scope="module")
def db(home):
    return connect(home)


@pytest.fixture(scope="module")
def wide(db):
    """metric -> values in official index order."""
    rows = db.sql(
        "SELECT metric, list(value ORDER BY arch_index) FROM evaluations "
        "WHERE source = 'nb201_robustness' GROUP BY metric"
    ).fetchall()
    return {metric: np.array(values) for metric, values in rows}


def _lines(src):
    return (src / rb.FILE).read_text().splitlines()


def _write(src, lines):
    (src / rb.FILE).write_text("\n".join(lines) + "\n")


def test_all_metrics_cover_every_cell(db):
    rows = db.sql(
        "SELECT metric, task, device, fidelity, unit, count(DISTINCT arch_index), count(*), "
        "min(value), max(value) FROM evaluations WHERE source = 'nb201_robustness' "
        "GROUP BY ALL"
    ).fetchall()
    assert len(rows) == 1 + 32
    for metric, task, device, fidelity, unit, distinct, n, low, high in rows:
        assert (task, device, fidelity, unit) == ("cifar10", None, 200, "%"), metric
        assert distinct == n == SIZE, metric
        assert 0 <= low <= high <= 100, metric
    names = {r[0] for r in rows}
    assert {
        "valid_accuracy",
        "robust_accuracy_fgsm_linf_0.1",
        "robust_accuracy_fgsm_linf_255.0",
        "robust_accuracy_pgd_linf_8.0",
        "robust_accuracy_apgd_ce_linf_1.0",
        "robust_accuracy_square_linf_3.0",
    } <= names


def test_percent_and_known_cell(wide):
    # First row of the file: (4, 0, 3, 1, 4, 3) with 84.99 % validation accuracy.
    i = spaces.get("nb201").index("(4, 0, 3, 1, 4, 3)")
    assert wide["valid_accuracy"][i] == pytest.approx(84.99)
    assert wide["robust_accuracy_apgd_ce_linf_0.1"][i] == pytest.approx(84.6)
    assert wide["robust_accuracy_fgsm_linf_255.0"][i] == pytest.approx(9.9)
    assert wide["valid_accuracy"].max() == pytest.approx(91.57)
    assert 80 < wide["valid_accuracy"].mean() < 90  # percent, not fractions


def test_stronger_budget_never_helps(wide):
    for attack in ("apgd_ce", "square", "pgd"):
        eps = rb.EPSILONS[{"apgd_ce": "aa_apgd-ce", "square": "aa_square"}.get(attack, attack)]
        stack = np.stack([wide[f"robust_accuracy_{attack}_linf_{e}"] for e in eps])
        assert (np.diff(stack, axis=0) <= 1e-9).all(), attack
    # At 8/255 PGD leaves almost nothing; a small budget barely hurts.
    assert np.median(wide["robust_accuracy_pgd_linf_8.0"]) < 1
    assert np.median(wide["robust_accuracy_pgd_linf_0.1"]) > 80


def test_attacks_are_per_isomorphism_class(wide):
    # Upstream attacked one network per class (6,466) and copied to its members.
    iso = spaces.get("nb201").iso_ids
    for metric in ("robust_accuracy_pgd_linf_1.0", "robust_accuracy_square_linf_0.5"):
        values = wide[metric]
        assert np.array_equal(values, values[iso]), metric
    assert len(np.unique(iso)) == 6_466


def test_missing_file(src, home):
    (src / rb.FILE).unlink()
    assert_ingest_fails(NAME, src, home, rb.FILE, "not found")


def test_truncated_file(src, home):
    f = src / rb.FILE
    f.write_bytes(f.read_bytes()[:2_000_000])
    assert_ingest_fails(NAME, src, home, rb.FILE)


def test_truncated_at_line_end(src, home):
    _write(src, _lines(src)[:10_001])
    assert_ingest_fails(NAME, src, home, rb.FILE, "10000 rows", "15625")


def test_corrupt_bytes(src, home):
    f = src / rb.FILE
    data = bytearray(f.read_bytes())
    data[300_000:300_040] = b"\x00\xff garbage \xfe" * 3 + b"\x00" * 7
    f.write_bytes(bytes(data))
    assert_ingest_fails(NAME, src, home, rb.FILE)


def test_wrong_columns(src, home):
    lines = _lines(src)
    lines[0] = lines[0].replace("pgd@Linf_eps-8.0", "pgd@L2_eps-8.0")
    _write(src, lines)
    assert_ingest_fails(NAME, src, home, rb.FILE, "pgd@Linf_eps-8.0")


def test_key_that_does_not_parse(src, home):
    lines = _lines(src)
    lines[7] = (
        '"|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"' + lines[7][lines[7].index('",') + 1 :]
    )
    _write(src, lines)
    assert_ingest_fails(NAME, src, home, rb.FILE, "none~0", "op tuple")


def test_duplicate_key(src, home):
    lines = _lines(src)
    key = lines[1][: lines[1].index('",') + 1]
    lines[2] = key + lines[2][lines[2].index('",') + 1 :]
    _write(src, lines)
    assert_ingest_fails(NAME, src, home, rb.FILE, "exactly once")


def test_accuracy_out_of_range(src, home):
    lines = _lines(src)
    head, rest = lines[4].split('",', 1)
    lines[4] = head + '",184.99,' + rest.split(",", 1)[1]
    _write(src, lines)
    assert_ingest_fails(NAME, src, home, rb.FILE, "val_accs", "0..100")


def test_fractions_instead_of_percent(src, home):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    t = pacsv.read_csv(src / rb.FILE)
    scaled = [
        t.column(n) if n == "net" else pa.compute.divide(t.column(n), 100.0) for n in t.column_names
    ]
    pacsv.write_csv(pa.table(scaled, names=t.column_names), src / rb.FILE)
    assert_ingest_fails(NAME, src, home, rb.FILE, "percentages")
