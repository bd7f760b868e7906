"""NATS-Bench (FreeREA cache) loader: real facts and the bad inputs of its CSV tables."""

from __future__ import annotations

from conftest import loader_check

from nasdb.testing.loaders import lines

checked = loader_check("nb201_nats")


def test_scores_and_params(checked):
    rows = checked.db.sql(
        "SELECT task, count(*) FILTER (WHERE params IS NOT NULL), "
        "count(*) FILTER (WHERE nregions IS NOT NULL), min(params), max(params) "
        "FROM nb201 WHERE task IN ('cifar10', 'cifar100', 'imagenet16-120') "
        "GROUP BY task ORDER BY task"
    ).fetchall()
    assert [r[:3] for r in rows] == [
        ("cifar10", 15_625, 15_625),
        ("cifar100", 15_625, 15_625),
        ("imagenet16-120", 15_625, 0),
    ]
    assert all(0 < r[3] < r[4] < 2 for r in rows)  # millions of parameters


def test_duplicate_index(checked):
    def repeat(rows):
        rows[2] = "0" + rows[2][rows[2].index(",") :]

    checked.fails("cifar10/accuracies.csv", lines(repeat), "accuracies.csv", "exactly once")


def test_missing_score_file(checked):
    checked.fails("cifar100/synflow.csv", lambda f: f.unlink(), "synflow.csv", "not found")
