"""Shared fixtures: where the real data is, and how to check that a bad ingest changed nothing."""

from __future__ import annotations

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
from nasdb.testing.loaders import check_loader, snapshot  # noqa: F401 (tests import snapshot here)
from nasdb.testing.loaders import ingest_fails as assert_ingest_fails  # noqa: F401

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


def loader_check(name: str, fixture: str = "checked", **facts: Any) -> Any:
    """A module fixture running ``check_loader`` once on the real files of source ``name``.

    Its value holds the catalog of that one ingest (``home``, ``db``) for the module's fact
    tests, and ``fails`` runs the module's own damage cases against it. ``facts`` go to
    ``check_loader`` (expected rows, known values, damaged files).
    """
    from nasdb import loaders

    @pytest.fixture(scope="module", name=fixture)
    def checked(tmp_path_factory, request):
        packaged = loaders.get(name).SOURCE.package is not None
        root = None if packaged else request.getfixturevalue("shared_data")
        return check_loader(name, root, tmp_path_factory.mktemp(name), **facts)

    return checked


def source_db() -> Any:
    """A module fixture ``db``: the catalog of the module's ``checked`` ingest, one source
    (it stands in for the session ``db`` that holds them all)."""

    @pytest.fixture(scope="module")
    def db(checked):
        return checked.db

    return db


def counts(table: pa.Table, *keys: str) -> dict[tuple, int]:
    """How many values loader rows hold per combination of ``keys`` (NULL values not counted)."""
    rows = table.group_by(list(keys)).aggregate([("value", "count")]).to_pylist()
    return {tuple(r[k] for k in keys): r["value_count"] for r in rows}


def by_index(table: pa.Table, task: str, metric: str, size: int = 15_625) -> np.ndarray:
    """One quantity of loader rows by official index, NaN where the source has no row."""
    rows = table.filter((pc.field("task") == task) & (pc.field("metric") == metric))
    out = np.full(size, np.nan)
    out[rows["arch_index"].to_numpy()] = rows["value"].to_numpy()
    return out
