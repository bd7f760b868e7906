"""The query side: SQL through DuckDB and a vectorised lookup for search loops.

``lookup`` keeps, per asked key, one dense float array indexed by the space's integer
architecture index (NaN where the table has no value), so a batch lookup is one numpy
gather and a single lookup a few dictionary hits. Spaces whose index range is too large
for that (``size > DENSE_MAX``) get a ``SparseColumn`` read the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from nasdb import spaces
from nasdb.catalog import Catalog, resolve_home
from nasdb.errors import LookupMiss, NasdbError, UnknownName

DENSE_MAX = 1 << 25  # 256 MiB of float64 per column; larger spaces get a SparseColumn
_KEY_COLUMNS = ("space", "task", "metric", "device", "fidelity", "seed", "unit", "source")


@dataclass(frozen=True)
class Key:
    """One column of values: everything that identifies a measurement but the architecture."""

    space: str
    task: str | None
    metric: str
    device: str | None
    fidelity: int | None
    seed: int | None
    unit: str
    source: str

    def describe(self) -> str:
        parts = [f"task={self.task}", f"metric={self.metric}"]
        if self.device is not None:
            parts.append(f"device={self.device}")
        if self.fidelity is not None:
            parts.append(f"fidelity={self.fidelity}")
        if self.seed is not None:
            parts.append(f"seed={self.seed}")
        parts.append(f"source={self.source}")
        return ", ".join(parts)


_UNSET = object()


class SparseColumn:
    """The values of one key over a huge space: sorted indices and their values.

    Indexed like the dense array ``lookup`` reads (a one-element slice or an integer
    array), NaN where the table has no value, so the lookup code is the same for both.
    """

    __slots__ = ("index", "values")

    def __init__(self, index: np.ndarray, values: np.ndarray):
        order = np.argsort(index, kind="stable")
        self.index = np.asarray(index, dtype=np.int64)[order]
        self.values = np.asarray(values, dtype=np.float64)[order]

    def __getitem__(self, where: slice | np.ndarray) -> np.ndarray:
        if isinstance(where, slice):
            where = np.arange(where.start, where.stop, where.step or 1, dtype=np.int64)
        where = np.asarray(where, dtype=np.int64)
        if not len(self.index):
            return np.full(where.shape, np.nan)
        pos = np.searchsorted(self.index, where).clip(0, len(self.index) - 1)
        return np.where(self.index[pos] == where, self.values[pos], np.nan)


class Database:
    """An open catalog in an in-memory DuckDB.

    Views are defined on the first SQL query; lookups read the source's own Parquet file
    directly, so a search loop's first answer does not wait for view binding.
    """

    def __init__(self, home: str | os.PathLike | None = None):
        self.catalog = Catalog(home)
        self.home: Path = self.catalog.home
        self._con = duckdb.connect(":memory:")
        self._con.execute("SET enable_progress_bar = false")
        # Lookups read one small file per key: one thread needs a fraction of the memory.
        self._con.execute("SET threads = 1")
        self._sandboxes: dict[bool, duckdb.DuckDBPyConnection] = {}
        self._keys: list[Key] | None = None
        self._resolved: dict[tuple, Key] = {}
        self._columns: dict[Key, np.ndarray | SparseColumn] = {}
        self._taught: set[str] = set()
        self._served: dict = {}
        self._known: dict[str, np.ndarray] = {}

    def _sandbox(self, allow_files: bool = False) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with the catalog's views that can read but never write
        (see :mod:`nasdb.sandbox`); lookups keep their own connection."""
        con = self._sandboxes.get(allow_files)
        if con is None:
            from nasdb import sandbox

            saved = self.catalog.saved_views()
            # missing or stale (a crash between table writes): derive from the tables
            views = [saved] if saved is not None else self.catalog.view_statements()
            con = self._sandboxes[allow_files] = sandbox.connect(self.home, views, allow_files)
        return con

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection :meth:`sql` runs on, with the catalog's views defined.

        Its settings are locked and it reads no file outside the catalog, but statements
        run on it directly skip :meth:`sql`'s check, which is what refuses writes into the
        catalog (COPY TO a file in it): run user SQL through :meth:`sql`.
        """
        return self._sandbox()

    # SQL ---------------------------------------------------------------------------
    def sql(self, query: str, params=None, *, allow_files: bool = False) -> duckdb.DuckDBPyRelation:
        """A DuckDB relation: ``.df()``, ``.to_arrow_table()``, ``.pl()``, ``.fetchall()``.

        The query only reads: it cannot write files, attach databases, load extensions or
        change settings, and reads no file outside the catalog unless ``allow_files``.
        """
        from nasdb import sandbox

        con = self._sandbox(allow_files)
        sandbox.check(query, con)
        try:
            return con.sql(query, params=params)
        except duckdb.Error as exc:
            raise NasdbError(f"SQL error: {str(exc).splitlines()[0]}") from None

    # listing -----------------------------------------------------------------------
    def keys(self) -> list[Key]:
        """Every distinct measured column in the catalog."""
        if self._keys is None:
            files = self.catalog.files("sources")
            if not files:
                return []
            cols = ", ".join(f"k.{c}" for c in _KEY_COLUMNS if c not in ("space", "source"))
            rows = self._con.execute(
                f"SELECT space, {cols}, name FROM (SELECT space, name, unnest(keys) AS k "
                "FROM read_parquet(?)) ORDER BY ALL",
                [[str(f) for f in files]],
            ).fetchall()
            self._keys = [Key(*r) for r in rows]
        return self._keys

    def _distinct(self, field: str, **where) -> list:
        vals = {
            getattr(k, field)
            for k in self.keys()
            if all(v is None or getattr(k, f) == v for f, v in where.items())
        }
        return sorted(vals, key=lambda v: (v is None, str(v)))

    def spaces(self) -> list[str]:
        return self._distinct("space")

    def tasks(self, space: str | None = None) -> list[str]:
        return self._distinct("task", space=space)

    def metrics(self, space: str | None = None, task: str | None = None) -> list[str]:
        return self._distinct("metric", space=space, task=task)

    def devices(self, space: str | None = None) -> list[str]:
        return [d for d in self._distinct("device", space=space) if d is not None]

    def sources(self) -> duckdb.DuckDBPyRelation:
        return self.sql(
            "SELECT name, space, title, licence, rows, ingested_at FROM sources ORDER BY name"
        )

    def space(self, name: str):
        """The space object; one whose architectures only files describe (it has ``learn``)
        first learns them from this catalog's architectures table."""
        sp = spaces.get(name)
        if name not in self._taught:
            self._taught.add(name)
            path = self.catalog.table_dir("architectures") / f"{name}.parquet"
            if hasattr(sp, "learn") and path.is_file():
                import pyarrow.parquet as pq

                table = pq.read_table(path, columns=["arch_index", "encoding"])
                sp.learn(table.column(0).to_numpy(), table.column(1).to_pylist())
        return sp

    # lookup ------------------------------------------------------------------------
    def resolve(
        self,
        space: str,
        *,
        task: str | None = None,
        metric: str,
        fidelity=_UNSET,
        device=_UNSET,
        seed=_UNSET,
        source: str | None = None,
    ) -> Key:
        """The one key a lookup reads; unset fields are filled by documented defaults.

        ``fidelity``: the highest the data has. ``seed``: the aggregate over seeds.
        ``source``: the one with the highest priority. ``device``/``task``: must be
        unambiguous. Passing ``None`` explicitly asks for a NULL field.
        """
        memo = (space, task, metric, fidelity, device, seed, source)
        hit = self._resolved.get(memo)
        if hit is not None:
            return hit
        if space not in self.spaces():
            raise UnknownName(
                f"space {space!r} is not in the catalog; it has: "
                f"{', '.join(self.spaces()) or 'nothing (run nasdb ingest)'}"
            )
        cands = [k for k in self.keys() if k.space == space]

        def narrow(field: str, value, label: str):
            nonlocal cands
            if value is _UNSET:
                return
            have = sorted({getattr(k, field) for k in cands}, key=str)
            cands = [k for k in cands if getattr(k, field) == value]
            if not cands:
                listed = ", ".join("none" if h is None else str(h) for h in have)
                raise UnknownName(f"{space}: no {label} {value!r} here; available: {listed}")

        narrow("metric", metric, "metric")
        narrow("task", task if task is not None else _UNSET, "task")
        narrow("source", source if source is not None else _UNSET, "source")
        narrow("device", device, "device")
        narrow("fidelity", fidelity, "fidelity")
        narrow("seed", seed, "seed")
        for field in ("task", "device"):
            values = {getattr(k, field) for k in cands}
            if len(values) > 1:
                listed = ", ".join(sorted("none" if v is None else v for v in values))
                raise UnknownName(f"{space} {metric}: pass {field}= one of {listed}")
        if seed is _UNSET and any(k.seed is None for k in cands):
            cands = [k for k in cands if k.seed is None]
        if len({k.seed for k in cands}) > 1:
            listed = ", ".join(str(s) for s in sorted({k.seed for k in cands}))
            raise UnknownName(f"{space} {metric}: pass seed= one of {listed}")
        if fidelity is _UNSET:
            top = max((k.fidelity for k in cands if k.fidelity is not None), default=None)
            cands = [k for k in cands if k.fidelity == top]
        if len(cands) > 1:
            from nasdb import loaders

            cands.sort(key=lambda k: (-loaders.priority(k.source), k.source))
        key = cands[0]
        self._resolved[memo] = key
        return key

    def column(self, key: Key) -> np.ndarray | SparseColumn:
        """Values of one key by architecture index, NaN where the table has none.

        A dense array, or a ``SparseColumn`` where the space is too large for one.
        """
        col = self._columns.get(key)
        if col is None:
            path = self.catalog.table_dir("evaluations") / f"{key.source}.parquet"
            where, params = ["space = ?", "metric = ?"], [key.space, key.metric]
            for field in ("task", "device", "fidelity", "seed"):
                value = getattr(key, field)
                # Plain comparisons let DuckDB push the filter into the Parquet scan.
                where.append(f"{field} IS NULL" if value is None else f"{field} = ?")
                params += [] if value is None else [value]
            res = self._con.execute(
                f"SELECT arch_index, value FROM read_parquet(?) WHERE {' AND '.join(where)}",
                [str(path), *params],
            ).fetchnumpy()
            size = spaces.get(key.space).size
            if size > DENSE_MAX:
                col = SparseColumn(res["arch_index"], res["value"])
            else:
                col = np.full(size, np.nan)
                col[res["arch_index"]] = res["value"]
                col.setflags(write=False)
            self._columns[key] = col
        return col

    def lookup(
        self,
        space: str,
        archs,
        *,
        task: str | None = None,
        metric: str,
        fidelity=_UNSET,
        device=_UNSET,
        seed=_UNSET,
        source: str | None = None,
        surrogate: str | None = None,
    ):
        """Values for a batch of architectures (indices, ids, strings or op tuples).

        With ``surrogate`` (a fitted surrogate's name, or ``"auto"`` for the best one of
        this key), architectures the table lacks are predicted instead of raising
        ``LookupMiss``, and the result is an :class:`~nasdb.surrogates.serving.Answer`
        that marks them (``predicted``, ``std``).
        """
        key = self.resolve(
            space,
            task=task,
            metric=metric,
            fidelity=fidelity,
            device=device,
            seed=seed,
            source=source,
        )
        col = self._columns.get(key)
        if col is None:
            col = self.column(key)
        sp = self.space(space)
        if surrogate is not None:
            from nasdb.surrogates import serving

            return serving.answer(self, key, col, sp.indices(archs), surrogate)
        if type(archs) is int and 0 <= archs < sp.size:
            out = col[archs : archs + 1]
        else:
            out = col[sp.indices(archs)]
        if np.isnan(out).any():
            bad = sp.indices(archs)[np.isnan(out)][0]
            raise LookupMiss(
                f"{space}: no value for architecture {sp.arch_id(int(bad))} "
                f"({key.describe()}); the table does not hold it"
            )
        return out

    # surrogates ----------------------------------------------------------------------
    def surrogate(self, name: str, space: str | None = None):
        """A fitted surrogate, loaded once and checked (see :mod:`nasdb.surrogates.store`)."""
        from nasdb.surrogates.serving import Served

        hit = self._served.get(name)
        if hit is None:
            hit = self._served[name] = Served(self, name)
        if space is not None and hit.target["space"] != space:
            from nasdb.errors import SurrogateError

            raise SurrogateError(
                f"surrogate {name!r} was fitted for space {hit.target['space']}, not {space}"
            )
        return hit

    def fit_surrogate(
        self,
        space: str,
        *,
        task: str | None = None,
        metric: str = "test_accuracy",
        device=_UNSET,
        fidelity=_UNSET,
        source: str | None = None,
        model: str = "xgb",
        features: str | None = None,
        proxies=(),
        train_size: int | None = None,
        split: str = "random",
        seed: int = 0,
        members: int | None = None,
        params: dict | None = None,
        threads: int | None = None,
        max_test: int | None = None,
        name: str | None = None,
        predictions: bool = True,
    ) -> dict:
        """Fit a surrogate on this catalog's rows of one key, store it, return its card.

        ``features``: flat, path (NB101), flat+path or graph (the GIN's, and its default;
        trees default to flat+path for NB101, flat elsewhere). ``proxies``: zero-cost proxy
        names as extra features, or ``("auto",)`` for all the task has. ``train_size`` rows train
        (default 80 %), the rest are held out for the card's scores; ``split="iso"`` keeps
        isomorphism classes on one side. See :mod:`nasdb.surrogates`.
        """
        from nasdb.surrogates import store, training

        if task is None and len(self.tasks(space)) == 1:
            task = self.tasks(space)[0]
        key = self.resolve(
            space, task=task, metric=metric, device=device, fidelity=fidelity, source=source
        )
        plan = training.Plan(
            key,
            model=model,
            features=features,
            proxies=proxies,
            train_size=train_size,
            split=split,
            seed=seed,
            members=members,
            params=dict(params or {}),
            threads=threads,
            max_test=max_test,
        )
        name = name or store.default_name(plan)
        store.check_name(name)
        return store.save_fitted(self, training.fit(self, plan), name, predictions)

    def surrogate_miss(self, key: Key, surrogate: str):
        """A Benchmark miss policy answering ``key`` from a fitted surrogate."""
        from nasdb.surrogates import serving

        served = serving.served_for(self, key, surrogate)
        return serving.SurrogateMiss(served, self.known(key.space), key.fidelity)

    def known(self, space: str) -> np.ndarray:
        """Mask over the space's indices: the architectures whose encoding the catalog holds
        (and so the ones a surrogate can describe)."""
        hit = self._known.get(space)
        if hit is None:
            path = self.catalog.table_dir("architectures") / f"{space}.parquet"
            idx = self._con.execute(
                "SELECT arch_index FROM read_parquet(?) WHERE encoding IS NOT NULL", [str(path)]
            ).fetchnumpy()["arch_index"]
            hit = np.zeros(spaces.get(space).size, dtype=bool)
            hit[idx] = True
            self._known[space] = hit
        return hit

    def benchmark(
        self,
        space: str,
        task: str | None = None,
        metric="test_accuracy",
        *,
        fidelity=_UNSET,
        device=_UNSET,
        source: str | None = None,
        directions=None,
        seconds_per_epoch: float | None = None,
        miss=None,
        proxy: str | None = None,
        surrogate: str | None = None,
    ):
        """An objective for search algorithms; see :func:`nasdb.benchmark.build`."""
        from nasdb import benchmark

        return benchmark.build(
            self,
            space,
            task,
            metric,
            fidelity=fidelity,
            device=device,
            source=source,
            directions=directions,
            seconds_per_epoch=seconds_per_epoch,
            miss=miss or benchmark.table_only,
            proxy=proxy,
            surrogate=surrogate,
        )

    def info(self, space: str, arch) -> tuple[dict, duckdb.DuckDBPyRelation]:
        """How an architecture is written, and every value the catalog holds for it."""
        sp = self.space(space)
        index = sp.index(arch)
        rel = self.sql(
            "SELECT task, metric, device, fidelity, seed, value, unit, source FROM evaluations "
            "WHERE space = $space AND arch_index = $index ORDER BY ALL",
            params={"space": space, "index": index},
        )
        return sp.describe(index), rel


def connect(home: str | os.PathLike | None = None) -> Database:
    """Open the catalog at ``home`` (default: ``$NASDB_HOME`` or the user data dir)."""
    return Database(resolve_home(home))
