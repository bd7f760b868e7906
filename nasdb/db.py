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

from nasdb import manifest, spaces
from nasdb.catalog import Catalog, resolve_home
from nasdb.errors import Infeasible, LookupMiss, NasdbError, UnknownName

_LISTED = ("name", "space", "title", "licence")
DENSE_MAX = 1 << 25  # 256 MiB of float64 per column; larger spaces get a SparseColumn


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
    """One generation of a catalog, open in an in-memory DuckDB.

    The manifest is read once, here: every view and lookup reads exactly the files of that
    generation, whatever writers commit meanwhile (:meth:`refresh` moves on to the latest).
    Views are defined on the first SQL query; lookups read the source's own Parquet file
    directly, so a search loop's first answer does not wait for view binding. A damaged
    file fails only the answers that need it, naming the command that fixes it.
    """

    def __init__(self, home: str | os.PathLike | None = None):
        self.catalog = Catalog(home)
        self.home: Path = self.catalog.home
        self._con = duckdb.connect(":memory:")
        self._con.execute("SET enable_progress_bar = false")
        # Lookups read one small file per key: one thread needs a fraction of the memory.
        self._con.execute("SET threads = 1")
        self.refresh()

    def refresh(self) -> None:
        """Open the latest committed generation (and forget what was read of the last)."""
        self.generation = self.catalog.current()
        self.damage: list[str] = []  # damaged files the views leave out, one message each
        self._sandboxes: dict[bool, duckdb.DuckDBPyConnection] = {}
        self._keys: list[Key] | None = None
        self._resolved: dict[tuple, Key] = {}
        self._columns: dict[Key, np.ndarray | SparseColumn] = {}
        self._taught: set[str] = set()
        self._served: dict = {}
        self._known: dict[str, np.ndarray] = {}
        self._hashed: set[Path] = set()
        self._infeasible: dict[Key, np.ndarray] = {}

    def _sandbox(self, allow_files: bool = False) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with the catalog's views that can read but never write
        (see :mod:`nasdb.sandbox`); lookups keep their own connection."""
        con = self._sandboxes.get(allow_files)
        if con is None:
            from nasdb import sandbox

            con = duckdb.connect(":memory:")
            con.execute("SET enable_progress_bar = false")
            self._bind_views(con)
            self._sandboxes[allow_files] = sandbox.lock(con, self.home, allow_files)
        return con

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection :meth:`sql` runs on, with the catalog's views defined.

        Its settings are locked and it reads no file outside the catalog, but statements
        run on it directly skip :meth:`sql`'s check, which is what refuses writes into the
        catalog (COPY TO a file in it): run user SQL through :meth:`sql`.
        """
        return self._sandbox()

    def _bind_views(self, con: duckdb.DuckDBPyConnection) -> None:
        """Views over this generation's files; damaged files are left out, each with its
        message in ``self.damage``, and a damaged wide table is computed from its sources."""
        from nasdb import views

        gen = self.generation
        bad = {}
        for key in gen.entries:
            table, stem = key.split("/", 1)
            if table in manifest.TABLES:
                problem = gen.intact(table, stem)
                if problem is not None:
                    bad[key] = str(gen.damage(key, problem))
        while True:  # a file that fails when its view binds is left out like the others
            try:
                for stmt in views.statements(gen.without(bad)):
                    con.execute(stmt)
                break
            except duckdb.Error as exc:
                key = self._entry_named(str(exc))
                if key is None or key in bad:
                    raise self.explain(exc) from None
                line = str(exc).splitlines()[0]
                bad[key] = str(gen.damage(key, f"cannot be read ({line})"))
        self.damage = list(bad.values())
        for key in bad:  # a damaged wide table is computed from its sources instead
            table, stem = key.split("/", 1)
            if table == "wide":
                from nasdb.catalog import space_views

                try:
                    scratch, select = space_views(gen.without(bad), stem)
                    scratch.close()
                    con.execute(views.wide_view(stem, select))
                except duckdb.Error:
                    continue  # its sources are damaged too: their messages say so

    def explain(self, exc: Exception) -> NasdbError:
        """A DuckDB error as the user's message: naming the damaged file when it is one."""
        line = str(exc).splitlines()[0]
        key = self._entry_named(line)
        if key is not None:
            return self.generation.damage(key, f"cannot be read ({line})")
        return NasdbError(f"SQL error: {line}")

    def _entry_named(self, text: str) -> str | None:
        """The manifest entry whose file an error message names."""
        for key, entry in self.generation.entries.items():
            if str(self.home / entry["path"]) in text:
                return key
        return None

    def _file(self, table: str, stem: str, hashed: bool = False) -> Path:
        """A file of this generation that looks whole, or the error naming its fix.

        ``hashed``: also check its sha256 against the manifest, once per Database (a
        source's evaluations, before a lookup trusts its values).
        """
        gen = self.generation
        entry = gen.entry(table, stem)
        if entry is None:
            raise UnknownName(f"{table} {stem!r} is not in the catalog")
        problem = gen.intact(table, stem)
        path = gen.path(table, stem)
        if problem is None and hashed and entry.get("sha256") and path not in self._hashed:
            from nasdb.manifest import sha256

            if sha256(path) != entry["sha256"]:
                problem = "is damaged (its sha256 is not the manifest's)"
            self._hashed.add(path)
        if problem is not None:
            raise gen.damage(f"{table}/{stem}", problem)
        return path

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
            raise self.explain(exc) from None

    # listing -----------------------------------------------------------------------
    def keys(self) -> list[Key]:
        """Every distinct measured column in the catalog."""
        if self._keys is None:  # from the manifest: no source's file is read to list it
            rows = [
                (meta["space"], *k[:6], name)
                for name, meta in self.generation.sources.items()
                for k in meta["keys"]
            ]
            rows.sort(key=lambda r: [(v is None, v if v is not None else 0) for v in r])
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
        """Ingested sources, from the manifest: listing reads no source's files."""
        from datetime import datetime

        import pyarrow as pa

        metas = [self.generation.sources[n] for n in sorted(self.generation.sources)]
        table = pa.table(
            {
                **{f: pa.array([m[f] for m in metas], pa.string()) for f in _LISTED},
                "rows": pa.array([m["rows"] for m in metas], pa.int64()),
                "ingested_at": pa.array(
                    [datetime.fromisoformat(m["ingested_at"]) for m in metas],
                    pa.timestamp("s", "UTC"),
                ),
                "upstream": pa.array([m["upstream"] for m in metas], pa.string()),
            }
        )
        return self._con.from_arrow(table)

    def space(self, name: str):
        """The space object; one whose architectures only files describe (it has ``learn``)
        first learns them from this catalog's architectures table."""
        sp = spaces.get(name)
        if name not in self._taught:
            self._taught.add(name)
            if hasattr(sp, "learn") and self.generation.entry("architectures", name):
                import pyarrow.parquet as pq

                path = self._file("architectures", name)
                try:
                    table = pq.read_table(path, columns=["arch_index", "encoding"])
                except Exception as exc:
                    self._taught.discard(name)
                    raise self.generation.damage(
                        f"architectures/{name}", f"cannot be read ({type(exc).__name__})"
                    ) from None
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
        if fidelity is _UNSET:
            top = max((k.fidelity for k in cands if k.fidelity is not None), default=None)
            cands = [k for k in cands if k.fidelity == top]
        if source is None:  # the preferred source; then its seeds, not every source's
            from nasdb.views import source_order

            best = min((k.source for k in cands), key=source_order)
            cands = [k for k in cands if k.source == best]
        if len({k.seed for k in cands}) > 1:
            listed = ", ".join(str(s) for s in sorted({k.seed for k in cands}))
            raise UnknownName(f"{space} {metric}: pass seed= one of {listed}")
        key = cands[0]
        self._resolved[memo] = key
        return key

    def column(self, key: Key) -> np.ndarray | SparseColumn:
        """Values of one key by architecture index, NaN where the table has none.

        A dense array, or a ``SparseColumn`` where the space is too large for one.
        """
        col = self._columns.get(key)
        if col is None:
            path, where, params = self._key_filter(key)
            try:
                res = self._con.execute(
                    f"SELECT arch_index, value FROM read_parquet(?) WHERE {where} "
                    "AND value IS NOT NULL",
                    [str(path), *params],
                ).fetchnumpy()
            except duckdb.Error as exc:
                raise self.explain(exc) from None
            size = spaces.get(key.space).size
            if size > DENSE_MAX:
                col = SparseColumn(res["arch_index"], res["value"])
            else:
                col = np.full(size, np.nan)
                col[res["arch_index"]] = res["value"]
                col.setflags(write=False)
            self._columns[key] = col
        return col

    def _key_filter(self, key: Key) -> tuple[Path, str, list]:
        """The source's evaluations file and a WHERE clause selecting ``key``'s rows."""
        path = self._file("evaluations", key.source, hashed=True)
        where, params = ["space = ?", "metric = ?"], [key.space, key.metric]
        for field in ("task", "device", "fidelity", "seed"):
            value = getattr(key, field)
            # Plain comparisons let DuckDB push the filter into the Parquet scan.
            where.append(f"{field} IS NULL" if value is None else f"{field} = ?")
            params += [] if value is None else [value]
        return path, " AND ".join(where), params

    def infeasible(self, key: Key) -> np.ndarray:
        """Sorted indices of the architectures ``key``'s source marks infeasible: they
        cannot be measured (e.g. the device's compiler rejected them), so they have no
        value and no surrogate fills them. Empty for almost every key."""
        hit = self._infeasible.get(key)
        if hit is None:
            import pyarrow.parquet as pq

            path, where, params = self._key_filter(key)
            hit = np.empty(0, dtype=np.int64)
            if "infeasible" in pq.read_schema(path).names:  # catalogs from before the marker
                res = self._con.execute(
                    f"SELECT arch_index FROM read_parquet(?) WHERE {where} AND infeasible "
                    "ORDER BY arch_index",
                    [str(path), *params],
                ).fetchnumpy()
                hit = res["arch_index"].astype(np.int64)
            self._infeasible[key] = hit
        return hit

    def check_feasible(self, key: Key, indices: np.ndarray) -> None:
        """Raise :class:`~nasdb.errors.Infeasible` if any of ``indices`` is infeasible."""
        bad = np.intersect1d(np.asarray(indices, dtype=np.int64), self.infeasible(key))
        if len(bad):
            raise Infeasible(
                f"{key.space}: architecture {self.space(key.space).arch_id(int(bad[0]))} is "
                f"infeasible ({key.describe()}): the source marks it as impossible to "
                "measure (e.g. rejected by the device's compiler), so it has no value and "
                "no surrogate predicts one"
            )

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
            self.check_feasible(key, sp.indices(archs)[np.isnan(out)])
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

    def surrogate_miss(self, keys: Key | list[Key], surrogate: str):
        """A Benchmark miss policy answering its objectives' ``keys`` from fitted
        surrogates (see :func:`nasdb.surrogates.serving.policy`)."""
        from nasdb.surrogates import serving

        return serving.policy(self, [keys] if isinstance(keys, Key) else list(keys), surrogate)

    def known(self, space: str) -> np.ndarray:
        """Mask over the space's indices: the architectures whose encoding the catalog holds
        (and so the ones a surrogate can describe)."""
        hit = self._known.get(space)
        if hit is None:
            path = self._file("architectures", space)
            try:
                idx = self._con.execute(
                    "SELECT arch_index FROM read_parquet(?) WHERE encoding IS NOT NULL",
                    [str(path)],
                ).fetchnumpy()["arch_index"]
            except duckdb.Error as exc:
                raise self.explain(exc) from None
            hit = np.zeros(spaces.get(space).size, dtype=bool)
            hit[idx] = True
            self._known[space] = hit
        return hit

    def benchmark(
        self,
        space: str,
        task: str | None = None,
        metric=None,
        *,
        fidelity=_UNSET,
        device=_UNSET,
        source: str | None = None,
        directions=None,
        seconds_per_epoch: float | None = None,
        miss=None,
        proxy: str | None = None,
        surrogate: str | None = None,
        report_metric: str | None = None,
        report_fidelity=_UNSET,
        search_on_test: bool = False,
        per_seed: bool = False,
        protocol: bool = False,
        prior=None,
        recipe: str | None = None,
        train_seed: int = 0,
        executor: str = "local",
        workers: int = 1,
        address: str | None = None,
    ):
        """An objective for search algorithms; see :func:`nasdb.benchmark.build`.

        ``report_metric``/``report_fidelity``: what runs report of their incumbent (e.g.
        test accuracy at 200 epochs); searching on it needs ``search_on_test=True``.
        ``per_seed``: each query draws one training seed's value. ``protocol=True``: the
        space's published protocol (NB201: valid_accuracy at 12 epochs, reporting
        test_accuracy at 200) fills in whatever is not given; see :mod:`nasdb.protocol`.
        ``prior``: a transfer prior for the first objective that optimizers may start from
        (``"zero-shot"``, ``"few-shot:K"``, ``"auto"`` or a Prior; see
        :func:`nasdb.transfer.attach`).
        ``miss`` may also name a chain: ``"train"`` or ``"surrogate,train"`` trains what
        the table lacks on a registered task (``recipe``, ``train_seed``, ``workers``
        trainings in flight on the ``executor``, local or ray at ``address``); see
        :mod:`nasdb.train_miss`.
        """
        from nasdb import protocol as proto

        if isinstance(miss, (str, list, tuple)):
            from nasdb import train_miss

            chain = train_miss.parse_chain(miss)
            if "train" in chain:
                bench = train_miss.build(
                    self, space, task, metric or "test_accuracy", chain, fidelity=fidelity,
                    recipe=recipe, seed=train_seed, executor=executor, workers=workers,
                    address=address, surrogate=surrogate,
                )  # fmt: skip
                return self._with_prior(bench, prior)
            if chain == ("surrogate",) and surrogate is None:
                surrogate = "auto"
            miss = None

        if protocol:
            bench = proto.benchmark(
                self, space, task, metric,
                fidelity=fidelity, device=device, source=source, directions=directions,
                seconds_per_epoch=seconds_per_epoch, miss=miss, proxy=proxy,
                surrogate=surrogate, report_metric=report_metric,
                report_fidelity=report_fidelity, search_on_test=search_on_test,
                per_seed=per_seed,
            )  # fmt: skip
            return self._with_prior(bench, prior)
        metric = "test_accuracy" if metric is None else metric
        metrics = [metric] if isinstance(metric, str) else list(metric)
        fid = None if report_fidelity is _UNSET else report_fidelity
        proto.check_sound(space, metrics, fidelity if fidelity is not _UNSET else None,
                          report_metric, fid, search_on_test)  # fmt: skip
        bench = self._benchmark(
            space, task, metric, fidelity=fidelity, device=device, source=source,
            directions=directions, seconds_per_epoch=seconds_per_epoch, miss=miss,
            proxy=proxy, surrogate=surrogate,
        )  # fmt: skip
        if report_metric is not None:
            proto.attach_reported(self, bench, report_metric, fid)
            proto.check_sound(space, metrics, bench.fidelity, report_metric,
                              bench.reported_fidelity, search_on_test)  # fmt: skip
        if per_seed:
            proto.attach_seeds(self, bench)
        return self._with_prior(bench, prior)

    def _with_prior(self, bench, prior):
        if prior is not None:
            from nasdb import transfer

            transfer.attach(self, bench, prior)
        return bench

    def _benchmark(
        self, space, task, metric, *, fidelity, device, source, directions,
        seconds_per_epoch, miss, proxy, surrogate,
    ):  # fmt: skip
        from nasdb import benchmark

        bench = benchmark.build(
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
        return bench

    def prior(
        self,
        space: str,
        *,
        task: str | None = None,
        metric: str,
        device: str | None = None,
        observed=None,
        sources=None,
        model: str = "auto",
        seed: int = 0,
    ):
        """What other tasks and devices say about ``metric`` on a target (task, device):
        a :class:`nasdb.transfer.Prior` with ``mean`` and ``std`` by architecture index,
        built without reading the target's rows; ``observed`` ({arch: value}) adds target
        measurements (few-shot). ``sources``: settings to learn from ("task", "device" or
        "task/device"; default: every other one). See :mod:`nasdb.transfer`."""
        from nasdb import transfer

        return transfer.build(
            self, space, task=task, metric=metric, device=device, observed=observed,
            sources=sources, model=model, seed=seed,
        )  # fmt: skip

    def info(self, space: str, arch) -> tuple[dict, duckdb.DuckDBPyRelation]:
        """How an architecture is written, and every value the catalog holds for it:
        measured, infeasible (no value: the source says it cannot be measured) or
        predicted (by the surrogate named in ``source``)."""
        sp = self.space(space)
        index = sp.index(arch)
        rel = self.sql(
            "SELECT task, metric, device, fidelity, seed, value, unit, source, "
            "CASE WHEN value IS NULL THEN 'infeasible' ELSE 'measured' END AS kind "
            "FROM evaluations WHERE space = $space AND arch_index = $index "
            "UNION ALL SELECT task, metric, device, fidelity, NULL, value, unit, surrogate, "
            "'predicted' FROM predictions WHERE space = $space AND arch_index = $index "
            "ORDER BY ALL",
            params={"space": space, "index": index},
        )
        return sp.describe(index), rel


def connect(home: str | os.PathLike | None = None) -> Database:
    """Open the catalog at ``home`` (default: ``$NASDB_HOME`` or the user data dir)."""
    return Database(resolve_home(home))
