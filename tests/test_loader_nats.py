"""NATS-Bench (FreeREA cache) loader: real facts and every kind of bad input."""

from __future__ import annotations

import pytest
from conftest import assert_ingest_fails, ingested_copy


@pytest.fixture()
def copy(tmp_path, shared_data):
    return ingested_copy(tmp_path, "nb201_nats", shared_data / "nb201" / "freerea_nats")


def test_scores_and_params(db):
    rows = db.sql(
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


def test_missing_file(copy):
    src, home = copy
    (src / "cifar100" / "synflow.csv").unlink()
    assert_ingest_fails("nb201_nats", src, home, "synflow.csv", "not found")


def test_truncated_file(copy):
    src, home = copy
    f = src / "cifar10" / "accuracies.csv"
    f.write_bytes(f.read_bytes()[:100_000])
    assert_ingest_fails("nb201_nats", src, home, "accuracies.csv")


def test_corrupt_bytes(copy):
    src, home = copy
    f = src / "ImageNet16-120" / "params.csv"
    data = bytearray(f.read_bytes())
    data[5000:5040] = b"\x00\xff garbage \xfe" * 3 + b"\x00" * 7
    f.write_bytes(bytes(data))
    assert_ingest_fails("nb201_nats", src, home, "params.csv")


def test_wrong_columns(copy):
    src, home = copy
    f = src / "cifar10" / "naswot.csv"
    lines = f.read_text().splitlines()
    lines[0] = "index,score,time=[s],time_pure=[s]"
    f.write_text("\n".join(lines) + "\n")
    assert_ingest_fails("nb201_nats", src, home, "naswot.csv", "naswot")


def test_duplicate_index(copy):
    src, home = copy
    f = src / "cifar10" / "accuracies.csv"
    lines = f.read_text().splitlines()
    lines[2] = "0" + lines[2][lines[2].index(",") :]
    f.write_text("\n".join(lines) + "\n")
    assert_ingest_fails("nb201_nats", src, home, "accuracies.csv", "exactly once")
