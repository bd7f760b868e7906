"""The command line: formats, info, list, quickstart, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow.parquet as pq
from conftest import run_cli


def test_quickstart_needs_only_installed_packages(tmp_path):
    home = tmp_path / "qs"
    result = run_cli("quickstart", "--home", str(home))
    assert result.exit_code == 0, result.output
    assert "ingested nbgraph" in result.output and "ingested analog_nasbench" in result.output
    assert "cora" in result.output and "proteins" in result.output
    listed = run_cli("list", "--home", str(home))
    assert "nbgraph" in listed.output and "analog_nasbench" in listed.output


def test_sql_formats(full_home, tmp_path):
    query = (
        "SELECT task, max(test_accuracy) AS best FROM nb201 "
        "WHERE task IN ('cifar10', 'cifar100', 'imagenet16-120') GROUP BY task ORDER BY task"
    )
    as_csv = run_cli("sql", query, "--format", "csv", "--home", str(full_home)).output
    assert as_csv.splitlines()[0] == "task,best" and as_csv.count("\n") == 4
    as_json = json.loads(run_cli("sql", query, "--format", "json", "--home", str(full_home)).output)
    assert [r["task"] for r in as_json] == ["cifar10", "cifar100", "imagenet16-120"]
    out = tmp_path / "best.parquet"
    result = run_cli(
        "sql", query, "--format", "parquet", "--output", str(out), "--home", str(full_home)
    )
    assert result.exit_code == 0 and pq.read_table(out).num_rows == 3
    table = run_cli("sql", query, "--home", str(full_home)).output
    assert "(3 rows)" in table and "94.3733" in table


def test_info_shows_every_value(full_home):
    result = run_cli("info", "nb201", "6111", "--home", str(full_home))
    assert result.exit_code == 0
    assert "arch_string: |nor_conv_3x3~0|" in result.output
    assert "nb201_hwnas" in result.output and "nb201_nats" in result.output


def test_errors_are_one_line_without_traceback(full_home):
    for args in (
        ["sql", "SELEC 1"],
        ["info", "nb201", "99999"],
        ["ingest", "nb999", "--source", "."],
        ["sql", "SELECT 1", "--format", "parquet"],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "nasdb", *args, "--home", str(full_home)],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith("nasdb: error:") and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
