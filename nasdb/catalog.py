"""The catalog directory: Parquet tables committed in generations, plus SQL views over them.

Layout under ``home`` (``<g>`` is the generation that wrote the file)::

    manifest.json                       the live generation: every file below, its bytes and
                                        sha256, each source's metadata (see nasdb.manifest)
    .lock                               the writer lock (see nasdb.lock)
    evaluations/<source>.g<g>.parquet   long-form facts of one source (replaced whole on re-ingest)
    sources/<source>.g<g>.parquet       its provenance row
    architectures/<space>.g<g>.parquet  one row per architecture of the space seen in any source
    wide/<space>.g<g>.parquet           the space's wide table, derived from the evaluations
    runs/<run_id>.g<g>.parquet          trajectories of one search or comparison run
    surrogates/<name>.g<g>.parquet      one fitted surrogate (see nasdb.surrogates.store)
    predictions/<name>.g<g>.parquet     its predictions, apart from the measured evaluations
    models/<name>.g<g>/                 its model files and card
    nasdb.duckdb                        the views in a DuckDB file, for the duckdb CLI

Every change (an ingest of one or many sources, a stored run, a fitted surrogate) goes
through :meth:`Catalog.transaction`: under the writer lock it writes new files, never
touching a file a manifest names, then commits by replacing ``manifest.json`` atomically.
Readers (:mod:`nasdb.db`) read the manifest once and open exactly its files, so they see
the old generation or the new one, never a mix, and never wait for a writer. A crash at
any step leaves the previous generation answering; its leftovers are collected by the
next commit. Files an older generation named are kept for ``$NASDB_GC_GRACE`` seconds
(default an hour) after the commit that retired them, for readers that opened it.

The wide tables and ``nasdb.duckdb`` hold nothing that the other tables do not: a wide
table's manifest entry records the checksums of the files it was built from, and
``nasdb verify`` / ``nasdb repair`` (:mod:`nasdb.integrity`) check and rebuild them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from nasdb import lock, manifest
from nasdb.errors import IngestError, NasdbError

LEGACY_VIEWS_FILE = "views.sql"  # written by catalogs before manifests; removed on commit
HOME_TOKEN = "@NASDB_HOME@"
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


def gc_grace() -> float:
    """Seconds a file that a newer generation no longer names is kept for readers that
    opened an older one: ``$NASDB_GC_GRACE``, default one hour."""
    try:
        return float(os.environ.get("NASDB_GC_GRACE", 3600))
    except ValueError:
        raise NasdbError(
            f"NASDB_GC_GRACE: expected seconds, got {os.environ['NASDB_GC_GRACE']!r}"
        ) from None


def _entry_paths(entries: dict[str, dict]) -> set[str]:
    return {e["path"] for e in entries.values()}


class Transaction:
    """The changes of one future generation, staged under new file names.

    Obtained from :meth:`Catalog.transaction`; its ``gen`` is the staged generation, read
    like a committed one (``tx.gen.path(table, stem)`` answers with staged files).
    """

    def __init__(self, base: manifest.Generation):
        self.base = base
        self.gen = manifest.Generation(
            base.home,
            base.number + 1,
            dict(base.entries),
            dict(base.sources),
            list(base.retired),
        )
        self.written: list[Path] = []
        self.rebuild = False  # commit even without changes (derived files are rebuilt)
        self.committed = False

    @property
    def home(self) -> Path:
        return self.gen.home

    @property
    def changed(self) -> bool:
        g, b = self.gen, self.base
        return self.rebuild or b.adopted or g.entries != b.entries or g.sources != b.sources

    def _new_path(self, table: str, stem: str, suffix: str) -> Path:
        path = self.home / table / f"{stem}.g{self.gen.number}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def put(self, table: str, stem: str, data, **extra) -> Path:
        """Stage ``data`` (an Arrow table) as the file of ``table/stem``; ``extra`` goes
        into its manifest entry."""
        import pyarrow.parquet as pq

        path = self._new_path(table, stem, ".parquet")
        tmp = temp_beside(path)
        try:
            # Small row groups let a lookup's filter skip most of a file (min/max stats).
            pq.write_table(data, tmp, compression="zstd", row_group_size=1 << 16)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return self.put_file(table, stem, Path(tmp), **extra)

    def put_file(
        self, table: str, stem: str, finished: Path, suffix: str = ".parquet", **extra
    ) -> Path:
        """Stage a finished file (moved, not copied) as the file of ``table/stem``."""
        from nasdb.manifest import sha256

        path = self._new_path(table, stem, suffix)
        manifest.fsync(finished)
        os.replace(finished, path)
        self.written.append(path)
        self.gen.entries[f"{table}/{stem}"] = {
            "path": str(path.relative_to(self.home)),
            "bytes": path.stat().st_size,
            "sha256": sha256(path),
            **extra,
        }
        return path

    def put_dir(self, table: str, stem: str, build: Callable[[Path], object]) -> Path:
        """Stage a directory: ``build`` fills a fresh temporary one, which then moves in."""
        from nasdb.manifest import sha256

        path = self._new_path(table, stem, "")
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        try:
            build(tmp)
            files = {}
            for f in sorted(p for p in tmp.rglob("*") if p.is_file()):
                manifest.fsync(f)
                rel = str(f.relative_to(tmp))
                files[rel] = {"bytes": f.stat().st_size, "sha256": sha256(f)}
            if path.exists():  # left by a writer that crashed before committing this number
                shutil.rmtree(path)
            os.replace(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.written.append(path)
        self.gen.entries[f"{table}/{stem}"] = {
            "path": str(path.relative_to(self.home)),
            "files": files,
        }
        return path

    def drop(self, table: str, stem: str) -> None:
        """Leave ``table/stem`` out of the new generation."""
        self.gen.entries.pop(f"{table}/{stem}", None)

    def set_source(self, name: str, meta: dict) -> None:
        self.gen.sources[name] = meta

    def abort(self) -> None:
        """Remove the staged files (never those of a committed generation)."""
        if self.committed:
            return
        for path in self.written:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


class Catalog:
    """Writes and describes one catalog directory; reading goes through :mod:`nasdb.db`."""

    def __init__(self, home: str | os.PathLike | None = None):
        self.home = resolve_home(home)
        _active_home[:] = [self.home]

    # reading -----------------------------------------------------------------------
    def current(self) -> manifest.Generation:
        """The generation committed now (read fresh on every call)."""
        return manifest.read(self.home)

    def table_dir(self, table: str) -> Path:
        return self.home / table

    def files(self, table: str) -> list[Path]:
        """The files of ``table`` in the current generation."""
        return self.current().files(table)

    def source_names(self) -> list[str]:
        return sorted(self.current().sources)

    # writing -----------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Stage changes, then commit them as one new generation, or none of them.

        ::

            with catalog.transaction() as tx:
                tx.put("runs", run_id, table)         # any number of put/put_dir/drop
            # committed here: readers opening the catalog now see every change

        Holds the writer lock (:mod:`nasdb.lock`) from start to commit, so ``tx.gen``
        starts from the latest generation and no other writer interleaves. An exception
        inside the block, or a crash anywhere, leaves the previous generation in place.
        Wide tables and the DuckDB file are brought up to date at commit.
        """
        with lock.writer(self.home):
            tx = Transaction(manifest.read(self.home))
            try:
                yield tx
                if tx.changed:
                    self._refresh_wide(tx)
                    self._commit(tx)
            except BaseException:
                tx.abort()
                raise
            if tx.changed:
                self.write_duckdb(tx.gen)
                self._collect(tx.gen)

    def _commit(self, tx: Transaction) -> None:
        from nasdb.manifest import sha256

        gen = tx.gen
        for entry in gen.entries.values():  # an adopted catalog: checksums on first commit
            if entry.get("sha256", "") is None:
                entry["sha256"] = sha256(self.home / entry["path"])
            elif entry.get("files", {}) is None:
                d = self.home / entry["path"]
                entry["files"] = {
                    str(f.relative_to(d)): {"bytes": f.stat().st_size, "sha256": sha256(f)}
                    for f in sorted(d.rglob("*"))
                    if f.is_file()
                }
        now = time.time()
        live = _entry_paths(gen.entries)
        retired = [r for r in tx.base.retired if now - r["since"] < gc_grace()]
        gone = sorted(_entry_paths(tx.base.entries) - live)
        gen.retired = [r for r in retired if r["path"] not in live] + [
            {"path": p, "since": now} for p in gone
        ]
        for d in {p.parent for p in tx.written}:
            manifest.fsync(d)
        target = self.home / manifest.MANIFEST
        tmp = temp_beside(target)
        with open(tmp, "w") as fh:
            fh.write(gen.to_json())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        tx.committed = True
        manifest.fsync(self.home)

    def _collect(self, gen: manifest.Generation) -> None:
        """Delete files that neither this generation nor a retired one in its grace period
        names: leftovers of crashed writers and expired old generations. Runs under the
        writer lock, so no other writer's staged files can be among them."""
        keep = _entry_paths(gen.entries) | {r["path"] for r in gen.retired}
        for table in (*manifest.TABLES, *manifest.DIRS):
            d = self.home / table
            for p in d.iterdir() if d.is_dir() else []:
                if str(p.relative_to(self.home)) in keep:
                    continue
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)
        for p in self.home.glob(".*.tmp"):
            p.unlink(missing_ok=True)
        (self.home / LEGACY_VIEWS_FILE).unlink(missing_ok=True)

    def ingest(
        self,
        names: Iterable[str],
        root: str | os.PathLike | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> list[Ingested]:
        """Read every named source, and only when all read cleanly, commit them all as one
        generation.

        ``progress`` is called with each source's name once it has been read.
        """
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
        with self.transaction() as tx:
            for source, data, directory, seconds, missing in read:
                start = time.perf_counter()
                self._stage_source(tx, source, data, directory)
                done.append(
                    Ingested(
                        source.name,
                        data.evaluations.num_rows,
                        seconds + time.perf_counter() - start,
                        missing,
                    )
                )
        return done

    def _stage_source(self, tx: Transaction, source, data, directory: Path) -> None:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        from nasdb import spaces
        from nasdb.manifest import sha256
        from nasdb.schema import ARCHITECTURES, KEY_FIELDS, SOURCES

        ev = data.evaluations
        files = [
            {"path": _relative(p, directory), "bytes": p.stat().st_size, "sha256": sha256(p)}
            for p in data.files
        ]
        space = spaces.get(source.space)
        seen = pc.unique(ev.column("arch_index")).to_numpy()
        old = self._old_architectures(tx, source)
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
            "ingested_at": datetime.now(timezone.utc).replace(microsecond=0),
        }
        tx.put("evaluations", source.name, ev)
        tx.put("architectures", source.space, arch.cast(ARCHITECTURES))
        tx.put("sources", source.name, pa.Table.from_pylist([row], schema=SOURCES))
        tx.set_source(source.name, manifest.source_meta(row))

    def _old_architectures(self, tx: Transaction, source):
        """The space's architectures table as staged so far; a damaged one is rebuilt from
        this ingest alone (with a warning), so that the ingest meant to repair it can."""
        import pyarrow.parquet as pq

        path = tx.gen.path("architectures", source.space)
        if path is None:
            return None
        problem = tx.gen.intact("architectures", source.space)
        if problem is None:
            try:
                return pq.read_table(path)
            except Exception as exc:
                problem = f"cannot be read ({type(exc).__name__})"
        import sys

        print(
            f"nasdb: warning: {path.relative_to(self.home)} {problem}; rebuilt from this "
            f"ingest (ingest the space's other sources again if they describe architectures "
            "it does not)",
            file=sys.stderr,
        )
        return None

    # runs, surrogates ------------------------------------------------------------------
    def write_run(self, table, run_id: str) -> Path:
        """Store a run's trajectories as a new generation."""
        return self.write_globbed(RUNS_TABLE, table, run_id)

    def write_globbed(self, table_name: str, table, stem: str) -> Path:
        """Commit one file of a table written after ingest (runs, surrogates, predictions)."""
        with self.transaction() as tx:
            path = tx.put(table_name, stem, table)
        return path

    # derived files -----------------------------------------------------------------
    def _refresh_wide(self, tx: Transaction) -> None:
        """Materialise the wide table of every space whose evaluations, sources or
        architectures changed (each entry records the checksums it was built from)."""
        from nasdb.manifest import sha256

        gen = tx.gen
        for entry in gen.entries.values():  # an adopted catalog: checksums on first commit
            if entry.get("sha256", "") is None:
                entry["sha256"] = sha256(self.home / entry["path"])
        spaces_now = {m["space"] for m in gen.sources.values()}
        for stem in gen.stems("wide"):
            if stem not in spaces_now:
                tx.drop("wide", stem)
        for space in sorted(spaces_now):
            if not (tx.rebuild or tx.base.adopted or gen.entry("wide", space) is None):
                if gen.only_space(space).entries == tx.base.only_space(space).entries:
                    continue  # its inputs did not change (a run, a surrogate)
            con, select = space_views(gen, space)
            try:
                built_from = None if select is None else wide_inputs(gen, space, select)
                old = gen.entry("wide", space)
                if select is None:
                    tx.drop("wide", space)
                elif old is None or old.get("built_from") != built_from:
                    target = tx._new_path("wide", space, ".parquet")
                    tmp = temp_beside(target)
                    try:
                        con.execute(
                            f"COPY ({select}) TO '{tmp}' (FORMAT parquet, COMPRESSION zstd)"
                        )
                        tx.put_file("wide", space, Path(tmp), built_from=built_from)
                    finally:
                        Path(tmp).unlink(missing_ok=True)
            finally:
                con.close()

    def view_statements(self, gen: manifest.Generation | None = None) -> list[str]:
        """CREATE VIEW statements over a generation's files (absolute paths)."""
        from nasdb import views

        return views.statements(gen or self.current())

    def write_duckdb(self, gen: manifest.Generation) -> None:
        """``nasdb.duckdb``: the generation's views in a DuckDB file, for the duckdb CLI.

        Derived: written after the manifest commits, checked by ``nasdb verify`` against
        the manifest and rebuilt by ``nasdb repair``. A view whose files cannot be read
        is left out (``nasdb verify`` names them).
        """
        import duckdb

        target = self.home / DUCKDB_FILE
        tmp = temp_beside(target)
        os.unlink(tmp)  # duckdb creates the file itself
        try:
            con = duckdb.connect(tmp)
            for stmt in self.view_statements(gen):
                try:
                    con.execute(stmt)
                except duckdb.Error:
                    continue
            con.close()
            manifest.fsync(Path(tmp))
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)
            Path(tmp + ".wal").unlink(missing_ok=True)


def space_views(gen: manifest.Generation, space: str):
    """An in-memory DuckDB with the views over one space's files, and the SELECT of its
    wide table (None if its sources hold no rows)."""
    import duckdb

    from nasdb import views

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    for stmt in views.base_statements(gen.only_space(space)):
        con.execute(stmt)
    return con, views.wide_selects(con).get(space)


def wide_inputs(gen: manifest.Generation, space: str, select: str) -> dict[str, str]:
    """What a wide table is built from: its input files' checksums and its SELECT's, so a
    changed input or a changed definition both make it stale."""
    out = {k: e["sha256"] for k, e in sorted(gen.only_space(space).entries.items())}
    out["select"] = hashlib.sha256(select.replace(str(gen.home), HOME_TOKEN).encode()).hexdigest()
    return out


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
