"""The README's examples run as written against the full catalog."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO

README = (REPO / "README.md").read_text()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_five_sql_examples_answer(db):
    queries = _blocks("sql")
    assert len(queries) == 5
    for query in queries:
        rows = db.sql(query).fetchall()
        assert rows, query


def _run_as_scripts() -> list[str]:
    """Blocks that tests/test_networks.py and tests/test_reports.py run as scripts."""
    networks = README.split("<!-- networks-example -->\n", 1)[1]
    return [
        re.match(r"```python\n(.*?)```", networks, flags=re.S)[1],
        next(b for b in _blocks("python") if "runner.compare(" in b),
    ]


def test_python_example_runs(full_home, monkeypatch):
    monkeypatch.setenv("NASDB_HOME", str(full_home))
    scripts = _run_as_scripts() + _section_blocks(TUNING)  # run as scripts by other tests
    for code in _blocks("python"):
        if code not in scripts:
            exec(compile(code, "README.md", "exec"), {"__name__": "__main__"})


TUNING = "## syne-tune and Optuna"


def _section_blocks(title: str) -> list[str]:
    section = README.split(f"\n{title}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_tuning_library_examples_store_runs_that_nasdb_report_ranks(full_home, tmp_path):
    """Each example runs as a script and prints the ``nasdb report`` command of its stored
    run; that command, run from a shell, ranks the library's runs with nasdb's."""
    home = tmp_path / "home"
    shutil.copytree(full_home, home)
    env = {**os.environ, "NASDB_HOME": str(home)}
    blocks = _section_blocks(TUNING)
    assert len(blocks) == 2
    ranked = []
    for i, code in enumerate(blocks):
        script = tmp_path / f"example{i}.py"
        script.write_text(code)
        done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                              text=True, cwd=tmp_path, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        argv = shlex.split(done.stdout.strip().splitlines()[-1])
        assert argv[:2] == ["nasdb", "report"]
        nasdb = str(Path(sys.executable).with_name("nasdb"))
        report = subprocess.run([nasdb, *argv[1:]], env=env, capture_output=True, text=True)
        assert report.returncode == 0, report.stderr
        rows = report.stdout.split("average_rank", 1)[1].splitlines()[2:]
        ranked.append(sorted(r.split()[0] for r in rows if r.strip() and r[0] != "("))
    assert ranked == [["rea", "rs", "synetune:asha"], ["optuna:tpe", "rs"]]



def test_loader_kit_example_passes_under_pytest(tmp_path, shared_data):
    """The 'Adding a benchmark' example, saved as a test file and run by pytest."""
    section = README[README.index("## Adding a benchmark") :]
    code = re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)
    (tmp_path / "test_example.py").write_text(code)
    env = {**os.environ, "NASDB_SHARED_DATA": str(shared_data)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_example.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
