"""Shared fixtures: where the real data is, and how to check that a bad ingest changed nothing."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from nasdb.cli import main

REPO = Path(__file__).resolve().parents[1]
# The NB101 cell list is enumerated once per checkout, not in the user's own cache.
os.environ.setdefault("NASDB_CACHE", str(REPO / ".pytest_cache" / "nasdb"))


def shared_data_dir() -> Path:
    return Path(os.environ.get("NASDB_SHARED_DATA", REPO.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real benchmark files; in CI they must be there, elsewhere tests skip without them."""
    path = shared_data_dir()
    if not (path / "DATA.md").is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the benchmark data at {path} (set NASDB_SHARED_DATA)")
        pytest.skip(f"benchmark data not found at {path}")
    return path


@pytest.fixture(scope="session")
def full_home(tmp_path_factory, shared_data) -> Path:
    """A catalog with every source ingested from the real data, built once per test run."""
    home = tmp_path_factory.mktemp("full_home")
    result = run_cli("ingest", "all", "--source", str(shared_data), "--home", str(home))
    assert result.exit_code == 0, result.output
    return home


@pytest.fixture(scope="session")
def db(full_home):
    from nasdb import connect

    return connect(full_home)


def run_cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def snapshot(home: Path) -> dict[str, str]:
    """sha256 of every file under ``home``: equal snapshots mean byte-identical catalogs."""
    if not home.exists():
        return {}
    return {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.rglob("*"))
        if p.is_file()
    }


def assert_ingest_fails(name: str, source: Path, home: Path, *needles: str) -> str:
    """Ingest must fail with one error line naming the problem, leaving ``home`` untouched."""
    before = snapshot(home)
    result = CliRunner().invoke(
        main, ["ingest", name, "--source", str(source), "--home", str(home)]
    )
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("nasdb: error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert snapshot(home) == before
    return lines[0]
