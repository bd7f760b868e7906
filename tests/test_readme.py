"""The README's examples run as written against the full catalog."""

from __future__ import annotations

import os
import re
import subprocess
import sys

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


def test_python_example_runs(full_home, monkeypatch):
    monkeypatch.setenv("NASDB_HOME", str(full_home))
    for code in _blocks("python"):
        exec(compile(code, "README.md", "exec"), {"__name__": "__main__"})



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
