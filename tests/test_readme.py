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


def test_python_example_runs(full_home, monkeypatch):
    monkeypatch.setenv("NASDB_HOME", str(full_home))
    for code in _blocks("python"):
        exec(compile(code, "README.md", "exec"), {"__name__": "__main__"})


def test_ci_installs_and_tests_as_the_readme_says():
    ci = (REPO / ".ci" / "run").read_text()
    assert "pip install --quiet -e '.[test]'" in ci and "pip install -e '.[test]'" in README
    assert "pip install --quiet torch==2.13.0" in ci and "pip install torch==2.13.0" in README
    assert "python -m pytest -q" in ci and "python -m pytest -q" in README
