"""The command line: formats, info, list, quickstart, and one-line errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pyarrow.parquet as pq
from conftest import run_cli
from test_honest_views import NBGRAPH_BEST


def test_quickstart_needs_only_installed_packages(tmp_path):
    home = tmp_path / "qs"
    result = run_cli("quickstart", "--home", str(home))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    ingested = sorted(ln.split()[1] for ln in lines if ln.startswith("ingested "))
    assert ingested == ["analog_nasbench:", "nbgraph:"], result.output  # the README's two
    assert "cora" in result.output and "proteins" in result.output
    listed = run_cli("list", "--home", str(home))
    assert "nbgraph" in listed.output and "analog_nasbench" in listed.output
    # the answers, not just rows: every dataset's best GNN, as the wide view gives it
    for task, encoding, acc in NBGRAPH_BEST:
        archs = "2021" if task == "proteins" else "26206"
        (line,) = [ln for ln in lines if ln.split()[:1] == [task]]
        assert line.split() == [task, archs, f"{acc:g}", encoding], line
    assert not [ln for ln in lines if "NULL" in ln.split() and "nasdb sql" not in ln]
    analog = "5780     |nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|"
    assert [ln.split()[-2:] for ln in lines if ln.startswith(analog)] == [["93.47", "91.33"]]
    assert re.search(r'task="cora", metric="test_accuracy"\) -> 83\.13$', result.output, re.M)


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
