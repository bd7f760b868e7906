"""A benchmark as an objective: what search algorithms query instead of training.

A :class:`Benchmark` holds, per fidelity, the dense columns of its objectives (NaN = the
table has no value), so ``query`` is a numpy gather and one architecture a few array hits.
It also says what an evaluation would have cost, which architectures are valid (those
with a value for every objective at every fidelity), and what happens on a miss.

Optimizers never see a Benchmark: they get its :class:`Problem`, the space moves
restricted to valid architectures, and learn values only through ``tell``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from nasdb import costs, proxies, spaces
from nasdb.db import _UNSET, DENSE_MAX
from nasdb.errors import LookupMiss, NasdbError, UnknownName

# Metrics where smaller is better; everything else (accuracies, proxy scores) is maximised.
_MINIMISED = ("latency", "energy", "params", "flops", "loss", "error", "perplexity", "time", "co2")

# Re-exported: the constants of the nominal cost model (see nasdb.costs).
NOMINAL_SECONDS_PER_EPOCH = costs.NOMINAL_SECONDS_PER_EPOCH
DEFAULT_SECONDS_PER_EPOCH = costs.DEFAULT_SECONDS_PER_EPOCH
TRAIN_TIME_METRICS = costs.TRAIN_TIME_METRICS

MissPolicy = Callable[["Benchmark", np.ndarray, "int | None"], np.ndarray]


def table_only(bench: Benchmark, missing: np.ndarray, fidelity: int | None) -> np.ndarray:
    """The default miss policy: the table is all there is, so a miss is an error."""
    sp = spaces.get(bench.space_name)
    raise LookupMiss(
        f"{bench.space_name}: no value for architecture {sp.arch_id(int(missing[0]))} in "
        f"{bench.describe(fidelity)}; the table does not hold it"
    )


def default_direction(metric: str) -> str:
    name = metric.lower()
    return "min" if any(tag in name for tag in _MINIMISED) else "max"


@dataclass(frozen=True)
class Objective:
    metric: str
    direction: str  # "max" or "min"
    device: str | None
    unit: str


class Benchmark:
    """Tabulated objective(s) of one (space, task), at one or several fidelities."""

    # What runs report of their incumbent, and per-seed values of the first objective:
    # set by nasdb.protocol (attach_reported, attach_seeds), absent by default.
    reported_metric: str | None = None
    reported_fidelity: int | None = None
    reported_column: np.ndarray | None = None
    seed_columns: np.ndarray | None = None

    def __init__(
        self,
        space: str,
        task: str | None,
        objectives: Sequence[Objective],
        columns: dict[int | None, np.ndarray],
        fidelity: int | None,
        costs: dict[int | None, np.ndarray | float],
        miss: MissPolicy = table_only,
        proxy: np.ndarray | None = None,
    ):
        self.space_name = space
        self.task = task
        self.objectives = tuple(objectives)
        self.metrics = tuple(o.metric for o in self.objectives)
        self.directions = tuple(o.direction for o in self.objectives)
        self.signs = np.array([1.0 if d == "max" else -1.0 for d in self.directions])
        self.n_objectives = len(self.objectives)
        self.fidelity = fidelity
        self.fidelities = tuple(sorted(columns, key=lambda f: -1 if f is None else f))
        self.miss = miss
        self.proxy = proxy  # a zero-cost proxy column: known before training, so optimizers see it
        # (n_objectives, size) per fidelity, and the first objective alone for the fast path
        self._columns = {f: np.atleast_2d(c) for f, c in columns.items()}
        self._primary = {f: c[0] for f, c in self._columns.items()}
        self._costs = costs
        # what the costs are per fidelity (measured, modelled or nominal, and how)
        self.cost_models = {f: "given" for f in costs}
        self.cost_model = self.cost_models[fidelity]
        size = self._columns[fidelity].shape[1]
        # A surrogate miss policy answers objectives at its fidelity for the architectures
        # it covers (a mask per objective); those are valid even where the table has no value.
        covers = getattr(miss, "covers", None)
        self._measured = ~np.isnan(self._primary[fidelity])
        self.predicted_std = np.full(size, np.nan)  # ensemble spread where a surrogate answered
        ok = np.ones(size, dtype=bool)
        for f, col in self._columns.items():
            nan = np.isnan(col)
            if covers is not None and f == miss.fidelity:
                nan &= ~covers
            ok &= ~nan.any(axis=0)
        self.valid = np.flatnonzero(ok)
        if not len(self.valid):
            raise UnknownName(f"{self.describe()}: no architecture has every value")
        self.valid_mask = ok
        self._problem: Problem | None = None

    # naming ------------------------------------------------------------------------
    def describe(self, fidelity=-1) -> str:
        fidelity = self.fidelity if fidelity == -1 else fidelity
        metrics = ",".join(o.metric + (f"@{o.device}" if o.device else "") for o in self.objectives)
        text = f"{self.space_name}/{self.task}/{metrics}"
        return text + (f" at {fidelity} epochs" if fidelity is not None else "")

    @property
    def space(self):
        return spaces.get(self.space_name)

    # values ------------------------------------------------------------------------
    def _fidelity(self, fidelity) -> int | None:
        if fidelity is None:
            return self.fidelity
        if fidelity not in self._columns:
            listed = ", ".join(str(f) for f in self.fidelities)
            raise UnknownName(f"{self.describe()}: no fidelity {fidelity}; available: {listed}")
        return fidelity

    def query(self, archs, fidelity: int | None = None) -> np.ndarray:
        """Values of a batch: shape (n,) for one objective, (n, n_objectives) for several."""
        fid = self._fidelity(fidelity)
        cols = self._columns[fid]
        if type(archs) is int and 0 <= archs < cols.shape[1]:
            idx = np.array([archs])
        else:
            idx = self.space.indices(archs)
        out = cols[:, idx].T
        bad = np.isnan(out).any(axis=1)
        if bad.any():
            out = out.copy()
            out[bad] = np.reshape(self.miss(self, idx[bad], fid), (int(bad.sum()), -1))
        return out[:, 0] if self.n_objectives == 1 else out

    def value(self, index: int, fidelity: int | None = None) -> float:
        """The first objective of one architecture index: the search loop's fast path."""
        v = self._primary[fidelity if fidelity is not None else self.fidelity][index]
        if v != v:
            return float(np.ravel(self.query(np.array([index]), fidelity))[0])
        return float(v)

    def values(self, index: int, fidelity: int | None = None) -> np.ndarray:
        """Every objective of one architecture index."""
        v = self._columns[fidelity if fidelity is not None else self.fidelity][:, index]
        if np.isnan(v).any():
            return np.ravel(self.query(np.array([index]), fidelity))
        return v

    def cost(self, archs, fidelity: int | None = None) -> np.ndarray:
        """Simulated training seconds of each architecture at ``fidelity``."""
        c = self._costs[self._fidelity(fidelity)]
        idx = self.space.indices(archs)
        return c[idx] if isinstance(c, np.ndarray) else np.full(len(idx), c)

    def cost_of(self, index: int, fidelity: int | None = None) -> float:
        c = self._costs[fidelity if fidelity is not None else self.fidelity]
        return float(c[index]) if isinstance(c, np.ndarray) else c

    def optimum(self, fidelity: int | None = None) -> float:
        """Best measured first-objective value over the valid architectures."""
        col = self._primary[self._fidelity(fidelity)][self.valid]
        if fidelity in (None, self.fidelity):
            col = col[self._measured[self.valid]]
        if not len(col):  # nothing measured before the search (a task trained on a miss)
            return float("nan")
        return float(np.nanmax(col) if self.directions[0] == "max" else np.nanmin(col))

    def is_predicted(self, archs) -> np.ndarray:
        """Which of ``archs`` a surrogate answered (rather than the table)."""
        return ~np.isnan(self.predicted_std[np.asarray(archs, dtype=np.int64)])

    def origins(self, archs) -> np.ndarray:
        """Where each architecture's first objective came from: table, surrogate or train."""
        archs = np.asarray(archs, dtype=np.int64)
        out = np.full(len(archs), "table", dtype=object)
        trained = getattr(self.miss, "trained_mask", None)
        if trained is not None:
            out[trained[archs]] = "train"
        out[self.is_predicted(archs)] = "surrogate"
        return out

    def primary_column(self, fidelity: int | None = None) -> np.ndarray:
        """First-objective values of the valid architectures, in ``valid`` order."""
        return self._primary[self._fidelity(fidelity)][self.valid]

    @property
    def problem(self) -> Problem:
        if self._problem is None:
            self._problem = Problem(self)
        return self._problem

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_problem"] = None  # rebuilt where it is used; holds memo tables
        if hasattr(self.miss, "fill_all"):  # a surrogate: answer everything once, ship values
            self.miss.fill_all(self)
            state["miss"] = table_only
        return state


class Problem:
    """What an optimizer may know: the space's moves over valid architectures, no values."""

    def __init__(self, bench: Benchmark):
        sp = bench.space
        self.space = bench.space_name
        self.size = sp.size
        self.n_objectives = bench.n_objectives
        self.directions = bench.directions
        self.fidelities = bench.fidelities
        self.fidelity = bench.fidelity
        self.valid = bench.valid
        self.n_valid = len(bench.valid)
        self._mask = bench.valid_mask
        self._all_valid = self.n_valid == sp.size
        self._sp = sp
        self._table = getattr(sp, "neighbour_table", None) if self._all_valid else None
        self._flat = self._table.ravel() if self._table is not None else None
        self._proxy = bench.proxy
        self._neighbours: dict[int, np.ndarray] = {}
        self._prior = getattr(bench, "prior", None)  # see nasdb.transfer.attach
        self.prior_shots = getattr(bench, "prior_shots", 0)
        self._sign = float(bench.signs[0])

    @property
    def has_proxy(self) -> bool:
        return self._proxy is not None

    def proxy(self, indices) -> np.ndarray:
        """Zero-cost proxy scores (higher = more promising; NaN where not computed)."""
        if self._proxy is None:
            raise NasdbError(f"{self.space}: this benchmark was built without proxy=")
        return self._proxy[np.asarray(indices, dtype=np.int64)]

    @property
    def has_prior(self) -> bool:
        return self._prior is not None

    def prior_best(self, n: int, told: dict[int, float] | None = None) -> np.ndarray:
        """The n valid architectures the transfer prior rates best, not yet in ``told``
        (index -> fitness); with ``prior_shots`` measurements told, refitted on them."""
        told = told or {}
        prior = self._prior
        if self.prior_shots and len(told) >= 3:
            prior = prior.update({i: f * self._sign for i, f in told.items()})
        pool = self.valid[~np.isin(self.valid, list(told))]
        return prior.best(n, among=pool)

    def prior_score(self) -> np.ndarray:
        """The prior's mean as normal scores over every index (higher = more promising,
        -inf where invalid or unknown), for optimizers that sample from it."""
        from scipy.stats import norm, rankdata

        raw = self._prior.score()
        out = np.full(self.size, -np.inf)
        ok = np.isfinite(raw) & self._mask
        out[ok] = norm.ppf((rankdata(raw[ok]) - 0.5) / ok.sum())
        return out

    def sample(self, rng: np.random.Generator, n: int = 1) -> np.ndarray:
        """n valid architectures uniformly at random, with replacement."""
        return self.valid[rng.integers(0, self.n_valid, size=n)]

    def permutation(self, rng: np.random.Generator) -> np.ndarray:
        """Every valid architecture once, in random order (sampling without replacement)."""
        return rng.permutation(self.valid)

    def is_valid(self, index: int) -> bool:
        return 0 <= index < self.size and bool(self._mask[index])

    @property
    def has_neighbours(self) -> bool:
        return hasattr(self._sp, "neighbours")

    def neighbours(self, index: int) -> np.ndarray:
        """Valid architectures one move away."""
        if self._table is not None:
            return self._table[index]
        hit = self._neighbours.get(index)
        if hit is None:
            if not self.has_neighbours:
                raise NasdbError(f"{self.space}: the space does not enumerate neighbours")
            near = self._sp.neighbours(index)
            hit = near if self._all_valid else near[self._mask[near]]
            self._neighbours[index] = hit
        return hit

    def mutate(self, index: int, rng) -> int:
        """A random valid neighbour; a random valid architecture where there is none.

        ``rng`` is a numpy Generator, or anything with ``below(n)`` and the Generator as
        ``.rng`` (see :class:`nasdb.optimizers.base.Uniforms`), which is faster per draw.
        """
        below = getattr(rng, "below", None) or (lambda n: int(rng.integers(n)))
        if self._flat is not None:
            width = self._table.shape[1]
            return int(self._flat[index * width + below(width)])
        gen = getattr(rng, "rng", rng)
        if self.has_neighbours:
            near = self.neighbours(index)
            if len(near):
                return int(near[below(len(near))])
            return int(self.sample(gen, 1)[0])
        if not hasattr(self._sp, "mutate"):
            raise NasdbError(
                f"space {self._sp.name!r} defines no mutation or neighbours; "
                "use an algorithm that only samples (rs, sh, hb)"
            )
        for _ in range(100):
            j = self._sp.mutate(index, gen)
            if self._mask[j]:
                return int(j)
        return int(self.sample(gen, 1)[0])

    def encode(self, indices) -> np.ndarray:
        """Features of architectures for predictors (one-hot ops and links)."""
        return self._sp.one_hot(np.asarray(indices, dtype=np.int64))

    @property
    def has_encoding(self) -> bool:
        return hasattr(self._sp, "one_hot_groups")

    @property
    def groups(self) -> tuple[int, ...]:
        """Sizes of the one-hot groups of ``encode`` (one categorical choice each)."""
        return self._sp.one_hot_groups

    def decode(self, scores, rng: np.random.Generator) -> int:
        """The architecture that takes the largest score in every group; where that is not
        a valid architecture, a random valid one (continuous relaxations land anywhere)."""
        try:
            index = self._sp.from_one_hot(scores)
        except NasdbError:
            index = -1
        if self.is_valid(index):
            return index
        return int(self.sample(rng, 1)[0])


# building ---------------------------------------------------------------------------


def build(
    db,
    space: str,
    task: str | None,
    metric: str | Sequence[str] = "test_accuracy",
    *,
    fidelity=_UNSET,
    device=_UNSET,
    source: str | None = None,
    directions: Sequence[str] | None = None,
    seconds_per_epoch: float | None = None,
    miss: MissPolicy = table_only,
    proxy: str | None = None,
    surrogate: str | None = None,
) -> Benchmark:
    """Resolve each objective's key at every fidelity the first one has, and load columns.

    ``metric`` is one name or several (a multi-objective benchmark); ``device`` applies to
    the metrics measured on devices (latency, energy). Fidelities are those the catalog
    holds for the first metric; ``fidelity`` picks the target (default: the highest).
    ``proxy`` names a zero-cost proxy of the same task (e.g. ``synflow``, ``naswot``) that
    optimizers may use as a free fitness estimate. ``surrogate`` names fitted surrogates
    of objectives at the target fidelity (comma-separated; ``"auto"``: the best fitted one
    of each objective that has one) that answer where the table has no value, for every
    architecture the catalog knows and no source marks infeasible.
    """
    metrics = [metric] if isinstance(metric, str) else list(metric)
    if not metrics:
        raise UnknownName("a benchmark needs at least one metric")
    if directions is None:
        directions = [default_direction(m) for m in metrics]
    if len(directions) != len(metrics) or any(d not in ("max", "min") for d in directions):
        raise UnknownName(f"directions must be one of max/min per metric; got {directions}")
    if space not in db.spaces():
        raise UnknownName(
            f"space {space!r} is not in the catalog; it has: "
            f"{', '.join(db.spaces()) or 'nothing (run nasdb ingest)'}"
        )
    if spaces.get(space).size > DENSE_MAX:
        raise UnknownName(
            f"{space}: a benchmark keeps dense columns over the space's index, and its "
            f"{spaces.get(space).size:,} architectures are too many; query it with lookup or SQL"
        )
    tasks = db.tasks(space)
    if task is None and len(tasks) == 1:
        task = tasks[0]
    if task not in tasks:
        raise UnknownName(f"{space}: no task {task!r}; available: {', '.join(tasks)}")
    keys = [k for k in db.keys() if k.space == space and k.task == task]
    available = sorted({k.metric for k in keys})
    for m in metrics:
        if m not in available:
            raise UnknownName(f"{space}/{task}: no metric {m!r}; available: {', '.join(available)}")

    def device_for(m: str):
        devs = {k.device for k in keys if k.metric == m}
        if devs == {None}:
            return None
        if device is _UNSET:
            return _UNSET  # resolve lists the devices when ambiguous
        if device not in devs:
            listed = ", ".join(sorted(d for d in devs if d))
            raise UnknownName(f"{space}/{task}/{m}: no device {device!r}; available: {listed}")
        return device

    first = metrics[0]
    first_device = device_for(first)
    fids = sorted(
        {
            k.fidelity
            for k in keys
            if k.metric == first
            and (first_device is _UNSET or k.device == first_device)
            and (source is None or k.source == source)
        },
        key=lambda f: -1 if f is None else f,
    )
    if fidelity is _UNSET:  # what lookup reads by default: the main source's top fidelity
        target = db.resolve(space, task=task, metric=first, device=first_device, source=source)
        target = target.fidelity
    elif fidelity in fids:
        target = fidelity
    else:
        listed = ", ".join("none" if f is None else str(f) for f in fids)
        raise UnknownName(f"{space}/{task}/{first}: no fidelity {fidelity!r}; available: {listed}")

    def load(f) -> tuple[list, np.ndarray]:
        found = []
        for i, m in enumerate(metrics):
            mf = {k.fidelity for k in keys if k.metric == m}
            fid = f if f in mf else (_UNSET if None not in mf else None)
            # ``source`` names the first objective's
            found.append(
                db.resolve(
                    space,
                    task=task,
                    metric=m,
                    fidelity=fid,
                    device=device_for(m),
                    source=source if i == 0 else None,
                )
            )
        return found, np.vstack([db.column(k) for k in found])

    target_keys, columns = load(target)
    columns = {target: columns}
    first_key = target_keys[0]
    if surrogate is None and source is None:
        _refuse_shrinking(db, space, task, first_key, columns[target][0], keys)
    objectives = [
        Objective(m, d, k.device, k.unit)
        for m, d, k in zip(metrics, directions, target_keys, strict=True)
    ]
    covered = ~np.isnan(columns[target]).any(axis=0)
    for f in fids:
        if f == target:
            continue
        try:
            _, cols = load(f)
        except UnknownName:  # e.g. only per-seed rows there: not a default answer
            continue
        # Offer another fidelity only where it answers every architecture the target does.
        if not np.isnan(cols[:, covered]).any():
            columns[f] = cols
    cost = {
        f: costs.training_cost(db, space, task, f, keys, seconds_per_epoch, source) for f in columns
    }
    proxy_col = None
    if proxy is not None:
        proxies.check(keys, space, task, proxy, metrics)
        proxy_col = db.column(db.resolve(space, task=task, metric=proxy))
    if surrogate is not None:
        miss = db.surrogate_miss(target_keys, surrogate)
    seconds = {f: c.seconds for f, c in cost.items()}
    bench = Benchmark(space, task, objectives, columns, target, seconds, miss, proxy_col)
    bench.cost_models = {f: c.describe() for f, c in cost.items()}
    bench.cost_model = bench.cost_models[target]
    return bench


def _count(col: np.ndarray) -> int:
    return int(np.count_nonzero(~np.isnan(col)))


def _refuse_shrinking(db, space, task, key, column, keys) -> None:
    """Refuse an objective whose default key covers fewer architectures than another
    source's key of the same quantity, naming both counts and the options that choose
    either. (Within one source, a shorter training curve is what the source measured.)"""
    have = _count(column)
    best = None
    others = {(k.fidelity, k.source) for k in keys if k.metric == key.metric}
    for f, src in sorted(others - {(f, key.source) for f, _ in others}, key=str):
        try:
            alt = db.resolve(space, task=task, metric=key.metric, device=key.device,
                             fidelity=f, source=src)  # fmt: skip
        except UnknownName:
            continue
        n = _count(db.column(alt))
        if n > have and (best is None or n > best[0]):
            best = (n, alt)
    if best is None:
        return
    n, alt = best
    way = [f"--fidelity {alt.fidelity}"] if alt.fidelity != key.fidelity else []
    default_there = db.resolve(space, task=task, metric=key.metric, device=key.device,
                               fidelity=alt.fidelity)  # fmt: skip
    if alt.source != default_there.source:
        way.append(f"--source {alt.source}")
    at = f" at {key.fidelity} epochs" if key.fidelity is not None else ""
    alt_at = f" at {alt.fidelity} epochs" if alt.fidelity is not None else ""
    raise UnknownName(
        f"{space}/{task}/{key.metric}{at} covers {have:,} architectures (source {key.source}),"
        f" {alt.source}{alt_at} covers {n:,}: pass {' '.join(way)} to search the {n:,},"
        f" or --source {key.source} to search the {have:,}"
    )
