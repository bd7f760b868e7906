"""NB101 FreeREA pickles: the published optimum, and every kind of bad input."""

from __future__ import annotations

import gzip
import pickle

import pytest
from conftest import assert_ingest_fails
from nb101_fixtures import ingested_once, private_copy

BEST_HASH = "02e5a0247bbdcf2860b7e96f74961594"


@pytest.fixture(scope="module")
def base(tmp_path_factory, shared_data):
    return ingested_once(tmp_path_factory, shared_data, "nb101_freerea", "nb101/freerea")


@pytest.fixture()
def copy(base, tmp_path):
    return private_copy(base, tmp_path)


def test_every_cell_once(db):
    rows = db.sql(
        "SELECT metric, count(*), count(DISTINCT arch_index), min(value), max(value) "
        "FROM evaluations WHERE source = 'nb101_freerea' GROUP BY metric ORDER BY metric"
    ).fetchall()
    assert [r[:3] for r in rows] == [
        ("params", 423_624, 423_624),
        ("test_accuracy", 423_624, 423_624),
    ]
    params, acc = rows
    assert 0.22 < params[3] < 0.23 and 49.9 < params[4] < 50  # millions
    assert 9.9 < acc[3] < 10 and round(acc[4], 2) == 94.32


def test_best_cell_is_the_published_one(db):
    (arch_id, value), *_ = db.sql(
        "SELECT arch_id, test_accuracy FROM nb101 ORDER BY test_accuracy DESC LIMIT 2"
    ).fetchall()
    assert arch_id == BEST_HASH and round(value, 2) == 94.32


def _write_gz_pickle(path, obj) -> None:
    path.write_bytes(gzip.compress(pickle.dumps(obj)))


def test_missing_file(copy):
    src, home = copy
    (src / "params.pkl.gz").unlink()
    assert_ingest_fails("nb101_freerea", src, home, "params.pkl.gz", "not found")


def test_truncated_gzip(copy):
    src, home = copy
    f = src / "accuracies.pkl.gz"
    f.write_bytes(f.read_bytes()[:500_000])
    assert_ingest_fails("nb101_freerea", src, home, "accuracies.pkl.gz", "gzip")


def test_corrupt_bytes(copy):
    src, home = copy
    f = src / "params.pkl.gz"
    data = bytearray(f.read_bytes())
    data[1000:1040] = b"\x00\xff garbage \xfe" * 3 + b"\x00" * 7
    f.write_bytes(bytes(data))
    assert_ingest_fails("nb101_freerea", src, home, "params.pkl.gz")


def test_truncated_pickle(copy):
    src, home = copy
    f = src / "accuracies.pkl.gz"
    f.write_bytes(gzip.compress(gzip.decompress(f.read_bytes())[:-5000]))
    assert_ingest_fails("nb101_freerea", src, home, "accuracies.pkl.gz", "pickle")


def test_wrong_columns(copy):
    src, home = copy
    f = src / "accuracies.pkl.gz"
    raw = gzip.decompress(f.read_bytes())
    assert raw.count(b"accuracy") == 1
    f.write_bytes(gzip.compress(raw.replace(b"accuracy", b"accurac_")))
    assert_ingest_fails("nb101_freerea", src, home, "accuracies.pkl.gz", "accuracy")


def test_not_a_frame(copy):
    src, home = copy
    _write_gz_pickle(src / "params.pkl.gz", [1, 2, 3])
    assert_ingest_fails("nb101_freerea", src, home, "params.pkl.gz", "expected a pandas DataFrame")


class Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned",))


def test_forbidden_class(copy):
    src, home = copy
    _write_gz_pickle(src / "params.pkl.gz", Evil())
    assert_ingest_fails("nb101_freerea", src, home, "params.pkl.gz", "does not allow")
