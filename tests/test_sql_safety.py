"""User SQL reads the catalog and cannot change a byte of it: COPY, EXPORT, ATTACH, INSTALL,
LOAD, SET and ``--output`` into the home are refused with one line and exit status 2."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO, ingest_ok, snapshot

from nasdb import connect
from nasdb.cli import main
from nasdb.errors import NasdbError

SOURCE = "nb201_naslib_zc"  # small: 54,314 rows


@pytest.fixture(scope="module")
def home(tmp_path_factory, shared_data):
    """A catalog with one source and one stored run (so the runs view reads files too)."""
    home = ingest_ok(SOURCE, shared_data / "nb201" / "naslib", tmp_path_factory.mktemp("sql"))
    ran = CliRunner().invoke(
        main,
        ["search", "nb201", "cifar10", "--metric", "valid_accuracy", "--budget", "5"]
        + ["--home", str(home)],
    )
    assert ran.exit_code == 0, ran.output
    return home


def sql(home, query: str, *options: str):
    return CliRunner().invoke(main, ["sql", query, *options, "--home", str(home)])


def assert_refused(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert line.startswith("nasdb: error: ") and "\n" not in line, result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in line, line


def test_reading_the_views_still_works(home):
    result = sql(home, "SELECT count(*) AS n FROM evaluations", "--format", "csv")
    assert result.exit_code == 0 and result.stdout == "n\n54314\n"
    runs = sql(home, "SELECT count(*) AS n FROM runs", "--format", "csv")
    assert runs.stdout == "n\n5\n"
    described = sql(home, "DESCRIBE nb201")
    assert described.exit_code == 0 and "valid_accuracy" in described.stdout


@pytest.mark.parametrize(
    "statement",
    [
        "COPY (SELECT 1 AS a) TO '{home}/evaluations/x.parquet'",
        "COPY (SELECT * FROM evaluations LIMIT 1) TO '{home}/evaluations/" + SOURCE + ".parquet'",
        "COPY (SELECT 1 AS a) TO '{outside}/x.csv'",
        "EXPORT DATABASE '{home}/export'",
        "ATTACH '{home}/nasdb.duckdb' AS cat",
        "ATTACH '{home}/new.duckdb' AS cat",
        "INSTALL httpfs",
        "LOAD json",
        "SET threads = 1",
        "RESET threads",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "SET allowed_directories = ['/']",
        "EXPLAIN ANALYZE COPY (SELECT 1) TO '{home}/x.csv'",
        "SELECT 1; COPY (SELECT 1) TO '{home}/x.csv'",
        "PREPARE p AS SELECT 1",
    ],
)
def test_writing_statements_are_refused_and_the_home_is_unchanged(home, tmp_path, statement):
    before = snapshot(home)
    query = statement.format(home=home, outside=tmp_path)
    assert_refused(sql(home, query), "not allowed")
    assert snapshot(home) == before
    assert not any(tmp_path.iterdir())


def test_in_memory_tables_are_allowed_and_touch_nothing(home, tmp_path):
    before = snapshot(home)
    query = (
        "CREATE TABLE t AS SELECT * FROM evaluations; INSERT INTO t SELECT * FROM evaluations; "
        "SELECT count(*) AS n FROM t"
    )
    result = sql(home, query, "--format", "csv")
    assert result.exit_code == 0 and result.stdout == "n\n108628\n"
    assert snapshot(home) == before


def test_the_guards_of_duckdb_hold_on_their_own(home, tmp_path):
    """Statements the check lets through still meet a locked, file-less connection."""
    before = snapshot(home)
    con = connect(home).con  # the connection db.sql runs on, without the statement check
    for query in (
        f"COPY (SELECT 1) TO '{tmp_path}/x.csv'",
        f"ATTACH '{tmp_path}/new.duckdb'",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "INSTALL httpfs",
        "SELECT * FROM read_text('/etc/hostname')",
    ):
        with pytest.raises(Exception, match="Permission|locked|disabled"):
            con.execute(query)
    assert snapshot(home) == before and not any(tmp_path.iterdir())


def test_output_into_the_home_is_refused(home, tmp_path):
    before = snapshot(home)
    link = tmp_path / "link"
    link.symlink_to(home)
    for target in (home / "wide" / "nb201.parquet", home / "x.csv", link / "runs" / "x.parquet"):
        result = sql(home, "SELECT 1 AS a", "--format", "parquet", "--output", str(target))
        assert_refused(result, "--output", "inside the catalog")
    assert snapshot(home) == before


def test_output_into_a_missing_directory_is_one_line(home, tmp_path):
    target = tmp_path / "missing" / "x.csv"
    assert_refused(sql(home, "SELECT 1", "--output", str(target)), "does not exist", "missing")
    ok = sql(home, "SELECT 1 AS a", "--format", "csv", "--output", str(tmp_path / "x.csv"))
    assert ok.exit_code == 0 and (tmp_path / "x.csv").read_text() == "a\n1\n"


def test_user_files_are_read_only_with_allow_files(home, tmp_path):
    mine = tmp_path / "mine.csv"
    mine.write_text("arch_index,note\n6111,best\n")
    query = f"SELECT note FROM read_csv('{mine}')"
    assert_refused(sql(home, query), "Permission")
    allowed = sql(home, query, "--allow-files", "--format", "csv")
    assert allowed.exit_code == 0 and allowed.stdout == "note\nbest\n"
    before = snapshot(home)
    copy = f"COPY (SELECT 1) TO '{home}/evaluations/x.parquet'"
    assert_refused(sql(home, copy, "--allow-files"), "not allowed")
    # IMPORT DATABASE would run the COPY statements of a load.sql the user's files hold
    (tmp_path / "schema.sql").write_text("CREATE TABLE t (a INTEGER);\n")
    (tmp_path / "load.sql").write_text(f"COPY t TO '{home}/evaluations/x.parquet';\n")
    for query in (f"IMPORT DATABASE '{tmp_path}'", f"PRAGMA import_database('{tmp_path}')"):
        assert_refused(sql(home, query, "--allow-files"), "not allowed")
    assert snapshot(home) == before


def test_python_sql_is_read_only_too(home, tmp_path):
    db = connect(home)
    before = snapshot(home)
    with pytest.raises(NasdbError, match="not allowed"):
        db.sql(f"COPY (SELECT 1) TO '{home}/evaluations/x.parquet'")
    with pytest.raises(NasdbError, match="Permission"):
        db.sql(f"SELECT * FROM read_csv('{tmp_path}/none.csv')")
    assert db.sql("SELECT count(*) FROM sources").fetchall() == [(1,)]
    assert snapshot(home) == before


def test_errors_while_fetching_are_one_line(home):
    # binds fine; the cast fails only when rows are produced
    result = sql(home, "SELECT CAST(encoding AS INTEGER) FROM architectures")
    assert_refused(result, "SQL error", "Conversion Error")
    process = subprocess.run(
        [sys.executable, "-m", "nasdb", "sql", "SELECT CAST(encoding AS INTEGER) FROM nb201"]
        + ["--format", "json", "--home", str(home)],
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    assert process.returncode == 2 and process.stderr.count("\n") == 1, process.stderr


def test_readme_allow_files_example_runs_from_a_shell(full_home, tmp_path):
    readme = (REPO / "README.md").read_text()
    block = next(b for b in re.findall(r"```bash\n(.*?)```", readme, re.S) if "--allow-files" in b)
    env = {
        **os.environ,
        "NASDB_HOME": str(full_home),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    ran = subprocess.run(
        ["bash", "-ec", block], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    assert "94.3733" in ran.stdout and "(2 rows)" in ran.stdout  # 6111, the cifar10 optimum
    asked = block.replace(" --allow-files", "")
    refused = subprocess.run(
        ["bash", "-c", asked], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert refused.returncode == 2 and "Permission" in refused.stderr, refused.stderr
