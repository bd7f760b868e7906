"""Shared fixtures: where the real data is, and how to check that a bad ingest changed nothing."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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
def nb101_enumerated():
    """NB101's 423,624 cells enumerated once per run, and the seconds it took.

    The cells go into the cache that ingests read when it holds none, so a clean checkout
    enumerates once for the enumeration tests and the catalog together, not twice.
    """
    from nasdb.catalog import cache_dir
    from nasdb.spaces import nb101_cells

    start = time.perf_counter()
    cells = nb101_cells.enumerate_cells()
    seconds = time.perf_counter() - start
    path = cache_dir() / nb101_cells.CACHE_FILE
    if nb101_cells.Cells.load(path) is None:
        cells.save(path)
    return cells, seconds


@pytest.fixture(scope="session")
def full_home(request, tmp_path_factory, shared_data) -> Path:
    """A catalog with every source ingested from the real data, built once per test run."""
    from nasdb.catalog import cache_dir
    from nasdb.spaces import nb101_cells

    if nb101_cells.Cells.load(cache_dir() / nb101_cells.CACHE_FILE) is None:
        request.getfixturevalue("nb101_enumerated")
    return ingest_ok("all", shared_data, tmp_path_factory.mktemp("full_home"))


@pytest.fixture(scope="session")
def db(full_home):
    from nasdb import connect

    return connect(full_home)


def run_cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def ingest_ok(name: str, source: Path, home: Path) -> Path:
    """Ingest ``source`` into ``home``; it must succeed."""
    result = run_cli("ingest", name, "--source", str(source), "--home", str(home))
    assert result.exit_code == 0, result.output
    return home


def private_copy(tmp_path: Path, files_dir: Path, below: str = "") -> Path:
    """A copy of a source's files under ``tmp_path / 'src'`` that a test may damage.

    ``below`` nests the files as in a data root (``src/<below>``), which a packaged source
    needs: given its own directory without its first file, ingest reads the installed
    package instead. The root is returned either way; it is what ``--source`` takes.
    """
    root = tmp_path / "src"
    shutil.copytree(files_dir, root / below if below else root)
    return root


_INGESTED: dict[tuple[str, Path, str], Path] = {}  # one untouched catalog per source and run


def ingested_copy(tmp_path: Path, name: str, files_dir: Path, below: str = "") -> tuple[Path, Path]:
    """A private copy of the source files and a catalog that already holds them once.

    Bad-input tests damage the copy and check that a failed ingest leaves the catalog as it
    was. Returns ``(src, home)``, ``src`` laid out as :func:`private_copy` says. The source
    is ingested once per run; every call gets its own copy of that catalog.
    """
    src = private_copy(tmp_path, files_dir, below)
    key = (name, Path(files_dir), below)
    if key not in _INGESTED:
        _INGESTED[key] = ingest_ok(name, src, tmp_path / "ingested-once")
    return src, shutil.copytree(_INGESTED[key], tmp_path / "home")


def copy_fixtures(name: str, subdir: str) -> tuple[Any, Any]:
    """``home`` and ``src`` fixtures for a loader's bad-input tests, bound in its module.

    ``home`` (once per module) is a catalog that already holds the real files; ``src`` is a
    private copy of them for one test to damage. A failed ingest from ``src`` must leave
    ``home`` byte-identical.
    """

    @pytest.fixture(scope="module")
    def home(tmp_path_factory, shared_data) -> Path:
        return ingested_copy(tmp_path_factory.mktemp(name), name, shared_data / subdir)[1]

    @pytest.fixture
    def src(tmp_path, shared_data) -> Path:
        return private_copy(tmp_path, shared_data / subdir)

    return home, src


def by_index(table: pa.Table, task: str, metric: str, size: int = 15_625) -> np.ndarray:
    """One quantity of loader rows by official index, NaN where the source has no row."""
    rows = table.filter((pc.field("task") == task) & (pc.field("metric") == metric))
    out = np.full(size, np.nan)
    out[rows["arch_index"].to_numpy()] = rows["value"].to_numpy()
    return out


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
