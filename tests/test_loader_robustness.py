"""NB201 robustness loader (Jung et al., ICLR 2023): real facts and every kind of bad input."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import loader_check, source_db
from nasdb.loaders import robustness as rb

from nasdb import spaces
from nasdb.testing.loaders import lines

NAME = "nb201_robustness"
SIZE = 15_625


checked = loader_check(NAME)
db = source_db()


@pytest.fixture(scope="module")
def wide(db):
    """metric -> values in official index order."""
    rows = db.sql(
        "SELECT metric, list(value ORDER BY arch_index) FROM evaluations "
        "WHERE source = 'nb201_robustness' GROUP BY metric"
    ).fetchall()
    return {metric: np.array(values) for metric, values in rows}


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


def test_truncated_at_line_end(checked):
    checked.fails(rb.FILE, lines(lambda rows: rows[:10_001]), "10000 rows", "15625")


def test_wrong_columns(checked):
    def rename(rows):
        rows[0] = rows[0].replace("pgd@Linf_eps-8.0", "pgd@L2_eps-8.0")

    checked.fails(rb.FILE, lines(rename), rb.FILE, "pgd@Linf_eps-8.0")


def test_key_that_does_not_parse(checked):
    def bad_key(rows):
        rows[7] = (
            '"|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"' + rows[7][rows[7].index('",') + 1 :]
        )

    checked.fails(rb.FILE, lines(bad_key), rb.FILE, "none~0", "op tuple")


def test_duplicate_key(checked):
    def repeat(rows):
        key = rows[1][: rows[1].index('",') + 1]
        rows[2] = key + rows[2][rows[2].index('",') + 1 :]

    checked.fails(rb.FILE, lines(repeat), rb.FILE, "exactly once")


def test_accuracy_out_of_range(checked):
    def above(rows):
        head, rest = rows[4].split('",', 1)
        rows[4] = head + '",184.99,' + rest.split(",", 1)[1]

    checked.fails(rb.FILE, lines(above), rb.FILE, "val_accs", "0..100")


def test_fractions_instead_of_percent(checked):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    def scale(path):
        t = pacsv.read_csv(path)
        scaled = [
            t.column(n) if n == "net" else pa.compute.divide(t.column(n), 100.0)
            for n in t.column_names
        ]
        pacsv.write_csv(pa.table(scaled, names=t.column_names), path)

    checked.fails(rb.FILE, scale, rb.FILE, "percentages")
