"""The README's examples run as written against the full catalog."""

from __future__ import annotations

import re

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
    scripts = _run_as_scripts()
    for code in _blocks("python"):
        if code not in scripts:
            exec(compile(code, "README.md", "exec"), {"__name__": "__main__"})

