"""The catalog directory: exact replacement on re-ingest, atomic files, rebuildable views."""

from __future__ import annotations

import shutil

import duckdb
import pytest
from conftest import ingest_ok, run_cli, snapshot

from nasdb import connect
from nasdb.catalog import DUCKDB_FILE, Catalog


@pytest.fixture(scope="module")
def nats_once(tmp_path_factory, shared_data):
    return ingest_ok("nb201_nats", shared_data, tmp_path_factory.mktemp("nats") / "home")


@pytest.fixture()
def nats_home(nats_once, tmp_path):
    """A private copy of one ingest: tests re-ingest, move and damage it."""
    return shutil.copytree(nats_once, tmp_path / "home")


def _counts(home):
    db = connect(home)
    return db.sql("SELECT source, count(*) FROM evaluations GROUP BY ALL ORDER BY ALL").fetchall()


def test_reingest_replaces_rows_exactly(nats_home, shared_data):
    before = _counts(nats_home)
    assert before == [("nb201_nats", 453_125)]
    result = run_cli("ingest", "nb201_nats", "--source", str(shared_data), "--home", str(nats_home))
    assert result.exit_code == 0, result.output
    assert _counts(nats_home) == before
    db = connect(nats_home)
    dupes = db.sql(
        "SELECT count(*) FROM (SELECT space, arch_id, task, metric, device, fidelity, seed, source"
        " FROM evaluations GROUP BY ALL HAVING count(*) > 1)"
    ).fetchall()[0][0]
    assert dupes == 0
    assert db.sql("SELECT count(*) FROM sources").fetchall()[0][0] == 1
    assert db.sql("SELECT count(*) FROM architectures").fetchall()[0][0] == 15_625


def test_no_temporary_files_left(nats_home):
    assert not [p for p in nats_home.rglob("*") if p.name.endswith(".tmp")]


def test_provenance_records_every_file(nats_home, shared_data):
    sums = {}
    for line in (shared_data / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.removeprefix("./")] = digest
    db = connect(nats_home)
    files = db.sql("SELECT unnest(files, recursive := true) FROM sources").fetchall()
    assert len(files) == 18
    for path, _size, digest in files:
        assert sums[f"nb201/freerea_nats/{path}"] == digest
    licence, upstream = db.sql("SELECT licence, upstream FROM sources").fetchall()[0]
    assert licence == "MIT" and "FreeREA@9c2a726" in upstream


def test_views_rebuild_from_parquet_alone(nats_home):
    query = "SELECT count(*), max(test_accuracy) FROM nb201 WHERE task = 'cifar10'"
    expected = connect(nats_home).sql(query).fetchall()[0]
    tables = {k: v for k, v in snapshot(nats_home).items() if k.endswith(".parquet")}
    (nats_home / DUCKDB_FILE).unlink()
    assert connect(nats_home).sql(query).fetchall()[0] == expected  # views from the manifest
    assert run_cli("verify", "--home", str(nats_home)).exit_code == 1
    assert run_cli("repair", "--home", str(nats_home)).exit_code == 0
    con = duckdb.connect(str(nats_home / DUCKDB_FILE), read_only=True)
    assert con.execute(query).fetchall()[0] == expected
    con.close()
    assert {k: v for k, v in snapshot(nats_home).items() if k.endswith(".parquet")} == tables


def test_empty_catalog_answers_with_empty_views(tmp_path):
    db = connect(tmp_path / "empty")
    assert db.sql("SELECT count(*) FROM evaluations").fetchall()[0][0] == 0
    assert db.spaces() == []


def test_a_moved_catalog_still_answers(nats_home, tmp_path):
    moved = tmp_path / "elsewhere"
    nats_home.rename(moved)
    got = connect(moved).lookup("nb201", [6111], task="cifar10", metric="test_accuracy")
    assert round(float(got[0]), 2) == 94.37


def test_files_the_manifest_does_not_name_are_not_read(nats_home):
    # A file no commit named (as a crashed writer leaves) is not part of any generation.
    (evaluations,) = Catalog(nats_home).files("evaluations")
    extra = nats_home / "evaluations" / "copy.parquet"
    extra.write_bytes(evaluations.read_bytes())
    n = connect(nats_home).sql("SELECT count(*) FROM evaluations").fetchall()[0][0]
    assert n == 453_125
