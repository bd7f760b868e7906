"""The catalog directory: Parquet tables written atomically, plus SQL views over them.

Layout under ``home``::

    evaluations/<source>.parquet   long-form facts of one source (replaced whole on re-ingest)
    sources/<source>.parquet       its provenance row
    architectures/<space>.parquet  one row per architecture of the space seen in any source
    wide/<space>.parquet           the space's wide table, derived from the evaluations
    runs/<run_id>.parquet          trajectories of one search or comparison run
    surrogates/<name>.parquet      one fitted surrogate (see nasdb.surrogates.store)
    predictions/<name>.parquet     its predictions, apart from the measured evaluations
    models/<name>/                 its model files and card
    views.sql                      the view definitions, derived from the tables
    nasdb.duckdb                   the same views in a DuckDB file, for the duckdb CLI

Every file is written to a temporary name and renamed into place, and a whole ingest is
validated in memory before the first write, so a failed ingest leaves the catalog as it was.
The wide tables, ``views.sql`` and the DuckDB file hold nothing that the other tables do
not, and are rebuilt by :meth:`Catalog.rebuild_views`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from nasdb.errors import IngestError, NasdbError

VIEWS_FILE = "views.sql"
HOME_TOKEN = "@NASDB_HOME@"  # views.sql names files relative to the home, so a catalog can move
TABLES = ("evaluations", "sources", "architectures", "wide")
# Search runs, surrogates and predictions are read through a glob, so a new file needs no
# view rebuild (and does not make the saved views stale); only a table's first file
# switches its view on.
RUNS_TABLE = "runs"
DUCKDB_FILE = "nasdb.duckdb"


def default_home() -> Path:
    env = os.environ.get("NASDB_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("nasdb"))


_active_home: list[Path] = []  # the home of the catalog this process opened last


def cache_dir() -> Path:
    """Where derived tables such as the NB101 cell list are kept.

    ``$NASDB_CACHE`` if set, else ``cache`` under the home in use (the catalog this process
    opened last, else the default home), so ``--home`` keeps every file nasdb writes there.
    """
    env = os.environ.get("NASDB_CACHE")
    if env:
        return Path(env).expanduser()
    return (_active_home[-1] if _active_home else default_home()) / "cache"


def resolve_home(home: str | os.PathLike | None) -> Path:
    return Path(home).expanduser() if home is not None else default_home()


def temp_beside(path: Path) -> str:
    """A temporary file beside ``path`` with the permissions a plain new file would get."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return tmp


@dataclass
class Ingested:
    name: str
    rows: int
    seconds: float
    missing: int = 0  # NaN values upstream that are no row (see nasdb.validate)


class Catalog:
    """Writes and describes one catalog directory; reading goes through :mod:`nasdb.db`."""

    def __init__(self, home: str | os.PathLike | None = None):
        self.home = resolve_home(home)
        _active_home[:] = [self.home]

    # paths -------------------------------------------------------------------------
    def table_dir(self, table: str) -> Path:
        return self.home / table

    def files(self, table: str) -> list[Path]:
        d = self.table_dir(table)
        return sorted(d.glob("*.parquet")) if d.is_dir() else []

    def source_names(self) -> list[str]:
        return [p.stem for p in self.files("sources")]

    # writing -----------------------------------------------------------------------
    def _write_parquet(self, table, path: Path) -> None:
        import pyarrow.parquet as pq

        tmp = temp_beside(path)
        try:
            # Small row groups let a lookup's filter skip most of a file (min/max stats).
            pq.write_table(table, tmp, compression="zstd", row_group_size=1 << 16)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _write_text(self, text: str, path: Path) -> None:
        tmp = temp_beside(path)
        Path(tmp).write_text(text)
        os.replace(tmp, path)

    def ingest(
        self,
        names: Iterable[str],
        root: str | os.PathLike | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> list[Ingested]:
        """Read every named source, and only when all read cleanly, write them all.

        ``progress`` is called with each source's name once it has been read.
        """
        import time

        from nasdb import loaders, validate

        read = []
        for name in names:
            module = loaders.get(name)
            start = time.perf_counter()
            directory = source_dir(module.SOURCE, root)
            data = module.read(directory)
            missing = validate.evaluations(module.SOURCE, data, directory)
            read.append((module.SOURCE, data, directory, time.perf_counter() - start, missing))
            if progress:
                progress(name)
        done = []
        for source, data, directory, seconds, missing in read:
            start = time.perf_counter()
            self._write_source(source, data, directory)
            done.append(
                Ingested(
                    source.name,
                    data.evaluations.num_rows,
                    seconds + time.perf_counter() - start,
                    missing,
                )
            )
        self.rebuild_views()
        return done

    def _write_source(self, source, data, directory: Path) -> None:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        from nasdb import spaces
        from nasdb.loaders.base import sha256
        from nasdb.schema import ARCHITECTURES, KEY_FIELDS, SOURCES

        ev = data.evaluations
        files = [
            {"path": _relative(p, directory), "bytes": p.stat().st_size, "sha256": sha256(p)}
            for p in data.files
        ]
        space = spaces.get(source.space)
        arch_path = self.table_dir("architectures") / f"{source.space}.parquet"
        seen = pc.unique(ev.column("arch_index")).to_numpy()
        old = pq.read_table(arch_path) if arch_path.exists() else None
        if old is not None:
            seen = np.concatenate([seen, old.column("arch_index").to_numpy()])
        seen = np.unique(seen)
        described = space.architectures(seen)
        # Where the space itself cannot describe an architecture, the files can (this
        # source's first, then what earlier sources stored).
        for given in (data.architectures, old):
            if given is not None:
                _fill(described, seen, given)
        arch = pa.table(
            {"space": [source.space] * len(seen), "arch_index": seen, **described}
        ).select(ARCHITECTURES.names)
        keys = ev.group_by(list(KEY_FIELDS), use_threads=False).aggregate([("value", "count")])
        keys = keys.rename_columns([*KEY_FIELDS, "rows"]).sort_by(
            [(f, "ascending") for f in KEY_FIELDS]
        )
        row = {
            "name": source.name,
            "space": source.space,
            "title": source.title,
            "upstream": source.upstream,
            "version": source.version,
            "licence": source.licence,
            "files": files,
            "rows": ev.num_rows,
            "keys": keys.to_pylist(),
            "ingested_at": datetime.now(timezone.utc),
        }
        self._write_parquet(ev, self.table_dir("evaluations") / f"{source.name}.parquet")
        self._write_parquet(arch.cast(ARCHITECTURES), arch_path)
        self._write_parquet(
            pa.Table.from_pylist([row], schema=SOURCES),
            self.table_dir("sources") / f"{source.name}.parquet",
        )

    # views -------------------------------------------------------------------------
    def view_statements(self) -> list[str]:
        """CREATE VIEW statements over the current Parquet files (absolute paths)."""
        from nasdb import views

        return views.statements(self)

    def table_listing(self) -> str:
        """The Parquet files the views cover, to tell a stale ``views.sql`` from a fresh one."""
        names = [str(p.relative_to(self.home)) for t in TABLES for p in self.files(t)]
        return "-- tables: " + " ".join(names)

    def saved_views(self) -> str | None:
        """``views.sql`` with this home's path put in, or None if missing or stale."""
        try:
            text = (self.home / VIEWS_FILE).read_text()
        except OSError:
            return None
        header, _, body = text.partition("\n")
        if header != self.table_listing():
            return None
        return body.replace(HOME_TOKEN, str(self.home).replace("'", "''"))

    def write_run(self, table, run_id: str) -> Path:
        """Store a run's trajectories."""
        return self.write_globbed(RUNS_TABLE, table, run_id)

    def write_globbed(self, table_name: str, table, stem: str) -> Path:
        """Write one file of a table whose view globs its folder (runs, surrogates,
        predictions), so only its first file rewrites the views (wide tables untouched)."""
        first = not self.files(table_name)
        path = self.table_dir(table_name) / f"{stem}.parquet"
        self._write_parquet(table, path)
        if first:
            self.rebuild_views(materialise=False)
        return path

    def rebuild_views(self, materialise: bool = True) -> None:
        """Materialise the wide tables, then write ``views.sql`` and the DuckDB file.

        ``materialise=False`` reuses the wide files already there (the evaluations have not
        changed), for writers of other tables such as search runs.
        """
        import duckdb

        from nasdb import views

        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        statements = views.base_statements(self)
        for stmt in statements:
            con.execute(stmt)
        selects = views.wide_selects(con)
        for stale in self.files("wide"):
            if stale.stem not in selects:
                stale.unlink()
        for space, select in selects.items():
            target = self.table_dir("wide") / f"{space}.parquet"
            if not materialise and target.exists():
                statements.append(views.wide_view(space, target))
                continue
            tmp = temp_beside(target)
            try:
                con.execute(f"COPY ({select}) TO '{tmp}' (FORMAT parquet, COMPRESSION zstd)")
                os.replace(tmp, target)
            finally:
                Path(tmp).unlink(missing_ok=True)
            statements.append(views.wide_view(space, target))
        con.close()
        body = ";\n".join(statements) + ";\n"
        portable = body.replace(str(self.home).replace("'", "''"), HOME_TOKEN)
        self._write_text(self.table_listing() + "\n" + portable, self.home / VIEWS_FILE)
        target = self.home / DUCKDB_FILE
        tmp = temp_beside(target)
        os.unlink(tmp)  # duckdb creates the file itself
        try:
            con = duckdb.connect(tmp)
            for stmt in statements:
                con.execute(stmt)
            con.close()
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)
            Path(tmp + ".wal").unlink(missing_ok=True)


def _fill(described: dict[str, list], seen, given) -> None:
    """Put ``given``'s encoding and iso_id where ``described`` (rows = ``seen``) has None."""
    import numpy as np

    index = given.column("arch_index").to_numpy()
    if not len(seen) or not len(index):
        return
    rows = np.minimum(np.searchsorted(seen, index), len(seen) - 1)
    known = (seen[rows] == index).tolist()
    for column in ("encoding", "iso_id"):
        target = described[column]
        if None not in target:
            continue
        values = given.column(column).to_pylist()
        for row, value, ok in zip(rows.tolist(), values, known, strict=True):
            if ok and target[row] is None:
                target[row] = value


def _relative(path: Path, directory: Path) -> str:
    try:
        return str(path.relative_to(directory))
    except ValueError:
        return str(path)


def source_dir(source, root: str | os.PathLike | None) -> Path:
    """Directory that holds a source's files.

    ``root`` may be a data root laid out like ../shared/data (the source's ``subdir`` below
    it) or the source's own directory. A source that ships inside a PyPI package reads the
    installed package when ``root`` is absent or does not hold its files.
    """
    if root is None:
        if source.package is None:
            raise NasdbError(
                f"{source.name}: pass --source DIR (a data root such as ../shared/data "
                f"holding {source.subdir}/, or the directory with {source.files[0]})"
            )
        return package_dir(source.package)
    root = Path(root).expanduser()
    if not root.is_dir():
        raise IngestError(f"{root}: source directory not found")
    nested = root / source.subdir
    if nested.is_dir():
        return nested
    if (root / source.files[0]).exists() or source.package is None:
        return root
    return package_dir(source.package)  # a data root without this source's files


def package_dir(package: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise IngestError(f"package {package!r} is not installed (pip install {package})")
    return Path(next(iter(spec.submodule_search_locations)))
