"""Runs optimizers on benchmarks: one run is optimizer x benchmark x seed x budget.

A run's trajectory has one row per trial (architecture, fidelity, values, simulated cost
and time, best so far). :func:`compare` runs algorithms x benchmarks x seeds in parallel
processes and returns one Arrow table of every trajectory, which
:meth:`nasdb.catalog.Catalog.write_run` stores so SQL sees it as the ``runs`` view.
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from nasdb import optimizers
from nasdb.benchmark import Benchmark
from nasdb.errors import NasdbError
from nasdb.protocol import incumbent_reported

# Trials one run holds in memory (~1 KB each at the peak, while the runs table is built),
# so a run's memory is bounded whatever its budget.
MAX_TRIALS = 1_000_000


@dataclass(frozen=True)
class Budget:
    """Stop after ``evaluations`` trials or ``seconds`` of simulated training, whichever
    comes first; the trial that crosses the seconds budget still counts. A seconds budget
    that has not run out after ``max_trials`` trials is an error, not an endless run."""

    evaluations: int | None = None
    seconds: float | None = None
    max_trials: int = MAX_TRIALS

    def __post_init__(self):
        if self.evaluations is None and self.seconds is None:
            raise NasdbError("a budget needs evaluations or seconds")
        if self.evaluations is not None:
            if isinstance(self.evaluations, bool) or not isinstance(self.evaluations, int):
                raise NasdbError(f"the budget must be whole evaluations; got {self.evaluations!r}")
            if self.evaluations <= 0:
                raise NasdbError(f"the budget must be positive; got {self.evaluations} evaluations")
            if self.evaluations > self.max_trials:
                raise NasdbError(
                    f"a budget of {self.evaluations:,} evaluations is more than a run holds: "
                    f"at most {self.max_trials:,} trials"
                )
        if self.seconds is not None and not (self.seconds > 0 and math.isfinite(self.seconds)):
            raise NasdbError(f"the budget must be positive and finite; got {self.seconds} seconds")


@dataclass
class Trajectory:
    arch: np.ndarray  # int64 (n,)
    fidelity: np.ndarray  # int32 (n,), -1 where the benchmark has no fidelity
    values: np.ndarray  # float64 (n, n_objectives), raw (not oriented)
    cost: np.ndarray  # simulated seconds per trial
    best: np.ndarray  # best first objective so far at the target fidelity (NaN before any)

    @classmethod
    def of(cls, bench: Benchmark, arch, fidelity, values, cost) -> Trajectory:
        """The trials in the order they were made; ``best`` follows from the values."""
        arch = np.asarray(arch, dtype=np.int64)
        fidelity = np.asarray(fidelity, dtype=np.int32)
        values = np.asarray(values, dtype=np.float64).reshape(len(arch), bench.n_objectives)
        cost = np.asarray(cost, dtype=np.float64)
        return cls(arch, fidelity, values, cost, _best(values[:, 0], fidelity, bench))

    @property
    def time(self) -> np.ndarray:
        return np.cumsum(self.cost)


def make_optimizer(
    algorithm: str | type, bench: Benchmark, seed: int, params: dict | None = None
):
    """An optimizer by registry name, or its class (one not registered yet, under test)."""
    from nasdb import validate

    cls = optimizers.get(algorithm) if isinstance(algorithm, str) else algorithm
    algorithm = algorithm if isinstance(algorithm, str) else cls.name or cls.__name__
    cls.check(bench.problem, bench.describe())
    validate.integer(seed, "seed", 0)
    validate.optimizer_params(cls, params or {}, algorithm)
    try:
        return cls(bench.problem, seed, **(params or {}))
    except (TypeError, ValueError) as exc:
        raise NasdbError(f"{algorithm}: {exc}") from None


def run(
    algorithm: str | type, bench: Benchmark, seed: int, budget: Budget, params: dict | None = None
) -> Trajectory:
    """One seeded run; the same arguments give the same trajectory."""
    opt = make_optimizer(algorithm, bench, seed, params)
    if getattr(bench.miss, "submit", None) is not None and not opt.multi_fidelity:
        return _run_async(opt, bench, budget)
    draws = None
    if bench.seed_columns is not None:  # per-seed mode: every query draws one seed's value
        from nasdb.protocol import SeedDraws

        draws = SeedDraws(bench.seed_columns, seed)
    if not opt.multi_fidelity and not opt.multi_objective and bench.n_objectives == 1:
        if budget.seconds is None and draws is None:
            return _run_fast(opt, bench, budget.evaluations)
    return _run_general(opt, bench, budget, draws)


def _run_fast(opt, bench: Benchmark, n: int) -> Trajectory:
    """Single objective, single fidelity, a budget in evaluations: the hot loop."""
    col = bench._primary[bench.fidelity].tolist()
    sign = float(bench.signs[0])
    ask, tell = opt.ask, opt.tell
    archs, vals = [0] * n, [0.0] * n
    for t in range(n):
        a = ask()
        v = col[a]
        if v != v:
            v = bench.value(a)
        tell(a, sign * v)
        archs[t] = a
        vals[t] = v
    arch = np.array(archs, dtype=np.int64)
    fid = np.full(n, -1 if bench.fidelity is None else bench.fidelity)
    return Trajectory.of(bench, arch, fid, vals, bench.cost(arch) if n else np.zeros(0))


def _run_general(opt, bench: Benchmark, budget: Budget, draws=None) -> Trajectory:
    n_max = budget.evaluations if budget.evaluations is not None else budget.max_trials
    limit = budget.seconds if budget.seconds is not None else float("inf")
    signs = bench.signs
    mo, mf = opt.multi_objective, opt.multi_fidelity
    target = bench.fidelity
    archs, fids, vals, costs = [], [], [], []
    spent = 0.0
    while len(archs) < n_max and spent < limit:
        asked = opt.ask()
        a, f = asked if mf else (asked, target)
        v = bench.values(a, f)
        if draws is not None and f == target:
            v = v.copy()
            v[0] = draws(a)
        opt.tell(a, v * signs if mo else float(v[0] * signs[0]))
        c = bench.cost_of(a, f)
        spent += c
        archs.append(a)
        fids.append(-1 if f is None else f)
        vals.append(v)
        costs.append(c)
    if budget.evaluations is None and spent < limit:
        raise NasdbError(
            f"{opt.name} on {bench.describe()}: {len(archs):,} trials spent {spent:,.0f} of "
            f"{limit:,.0f} simulated seconds; a run holds at most {budget.max_trials:,} trials, "
            "so pass fewer --seconds"
        )
    return Trajectory.of(bench, archs, fids, vals, costs)


def _run_async(opt, bench: Benchmark, budget: Budget) -> Trajectory:
    """Keep up to ``bench.miss.workers`` trainings in flight: the optimizer is asked again
    before earlier asks are told, and told in the order trainings finish."""
    from concurrent.futures import FIRST_COMPLETED, wait

    policy = bench.miss
    n_max = budget.evaluations if budget.evaluations is not None else 1 << 62
    limit = budget.seconds if budget.seconds is not None else float("inf")
    signs, mo = bench.signs, opt.multi_objective
    target = bench.fidelity
    archs, vals, costs = [], [], []
    pending: dict = {}
    asked, spent = 0, 0.0

    def record(a: int) -> None:
        nonlocal spent
        v = bench.values(a, target)
        opt.tell(a, v * signs if mo else float(v[0] * signs[0]))
        c = bench.cost_of(a, target)
        spent += c if c == c else 0.0
        archs.append(a)
        vals.append(v)
        costs.append(c)

    while len(archs) < asked or (asked < n_max and spent < limit):
        if asked < n_max and spent < limit and len(pending) < policy.workers:
            a = int(opt.ask())
            asked += 1
            if bench._primary[target][a] == bench._primary[target][a] or policy.has(a):
                record(a)
            else:
                pending.setdefault(policy.submit(a), []).append(a)
            continue
        done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
        for fut in done:
            fut.result()  # a failed training is an error here, not a value
            for a in pending.pop(fut):
                record(a)
    fid = np.full(len(archs), -1 if target is None else target)
    return Trajectory.of(bench, archs, fid, vals, costs)


def _best(first: np.ndarray, fid: np.ndarray, bench: Benchmark) -> np.ndarray:
    sign = bench.signs[0]
    target = -1 if bench.fidelity is None else bench.fidelity
    oriented = np.where(fid == target, first * sign, -np.inf)
    best = np.fmax.accumulate(oriented) if len(first) else oriented  # a diverged NaN never wins
    return np.where(np.isinf(best), np.nan, best * sign)


# comparisons ------------------------------------------------------------------------------
def new_run_id() -> str:
    return f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def to_table(
    rows: Sequence[tuple[str, Benchmark, int, Trajectory]], run_id: str
):  # -> pyarrow.Table
    """Trajectories as one Arrow table in the ``runs`` schema.

    Built by DuckDB from numpy columns: converting numpy through pyarrow would import
    pandas, which costs a one-run CLI call more than the search itself.
    """
    import duckdb

    from nasdb.schema import RUNS

    width = max(t.values.shape[1] for *_, t in rows)
    cols: dict[str, list[np.ndarray]] = {}

    def add(name: str, array) -> None:
        cols.setdefault(name, []).append(np.asarray(array))

    for algorithm, bench, seed, traj in rows:
        n = len(traj.arch)
        device = next((o.device for o in bench.objectives if o.device), None)
        labels = (
            ("algorithm", algorithm),
            ("benchmark", bench.describe()),
            ("space", bench.space_name),
            ("task", bench.task or ""),
            ("metric", ",".join(bench.metrics)),
            ("direction", bench.directions[0]),
            ("device", device or ""),
        )
        for name, value in labels:
            add(name, np.full(n, value, dtype=object))
        add("seed", np.full(n, seed, dtype=np.int64))
        add("trial", np.arange(n, dtype=np.int32))
        add("arch_index", traj.arch)
        add("arch_id", np.array(bench.space.arch_ids(traj.arch), dtype=object))
        add("fidelity", traj.fidelity)
        add("m", np.full(n, traj.values.shape[1], dtype=np.int32))
        for j in range(width):
            add(f"v{j}", traj.values[:, j] if j < traj.values.shape[1] else np.full(n, np.nan))
        add("cost", traj.cost)
        add("time", traj.time)
        add("best", traj.best)
        add("predicted", bench.is_predicted(traj.arch))
        models = {-1 if f is None else f: m for f, m in bench.cost_models.items()}
        add("cost_model", np.array([models[f] for f in traj.fidelity.tolist()], dtype=object))
        reported = bench.reported_metric
        if reported and bench.reported_fidelity is not None:
            reported = f"{reported}@{bench.reported_fidelity}"
        add("reported_metric", np.full(n, reported or "", dtype=object))
        add("reported", incumbent_reported(bench, traj.arch, traj.best))
        add("origin", bench.origins(traj.arch))
    # DuckDB reads this dict of numpy columns by its variable name in the query below
    frame = {name: np.concatenate(parts) for name, parts in cols.items()}  # noqa: F841
    vs = ", ".join(f"v{j}" for j in range(width))
    select = (
        "SELECT $run_id AS run_id, algorithm, benchmark, space, NULLIF(task, '') AS task, "
        "metric, direction, NULLIF(device, '') AS device, seed, trial, arch_index, arch_id, "
        "NULLIF(fidelity, -1) AS fidelity, v0 AS value, "
        f'list_slice([{vs}], 1, m) AS "values", cost, time, best, predicted, cost_model, '
        "NULLIF(reported_metric, '') AS reported_metric, reported, origin FROM frame"
    )
    con = duckdb.connect()
    table = con.sql(select, params={"run_id": run_id}).to_arrow_table()
    con.close()
    from nasdb import pareto

    benches = list({id(bench): bench for _, bench, _, _ in rows}.values())
    return pareto.attach(table.cast(RUNS), benches)  # optimum and true front, for reports


_WORKER_BENCHES: list[Benchmark] = []


def _init_worker(benches: list[Benchmark] | str) -> None:
    """Hold the benchmarks: given, or in the pickle file ``compare`` wrote for workers."""
    if isinstance(benches, str):
        import pickle

        with open(benches, "rb") as f:
            benches = pickle.load(f)  # written by this process's parent a moment ago
    _WORKER_BENCHES[:] = benches


def _run_chunk(algorithm: str, b: int, seeds: list[int], budget: Budget, params: dict | None):
    bench = _WORKER_BENCHES[b]
    return [(algorithm, b, s, run(algorithm, bench, s, budget, params)) for s in seeds]


def compare(
    algorithms: Sequence[str],
    benchmarks: Sequence[Benchmark],
    seeds: int | Sequence[int],
    budget: Budget,
    *,
    params: dict[str, dict] | None = None,
    workers: int | None = 2,
    progress: bool = True,
    run_id: str | None = None,
):  # -> pyarrow.Table
    """Every algorithm on every benchmark with every seed; returns the ``runs`` table.

    Runs are spread over ``workers`` processes (``1`` runs them here), each holding the
    benchmarks once; a tqdm bar counts finished runs on stderr.
    """
    seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if not seeds:
        raise NasdbError("compare needs at least one seed")
    params = params or {}
    for algorithm in algorithms:  # every refusal before any work starts
        for bench in benchmarks:
            make_optimizer(algorithm, bench, seeds[0], params.get(algorithm))
    if workers is not None:
        from nasdb.validate import integer

        integer(workers, "workers", 1)
    workers = max(1, min(workers or os.cpu_count() or 1, os.cpu_count() or 1))
    if any(getattr(b.miss, "trains", False) for b in benchmarks):
        workers = 1  # runs share the benchmarks' trainings, which spread over their executor
    chunk = max(1, len(seeds) // (4 * workers))
    jobs = [
        (algorithm, b, seeds[i : i + chunk])
        for algorithm in algorithms
        for b in range(len(benchmarks))
        for i in range(0, len(seeds), chunk)
    ]
    from tqdm import tqdm

    total = len(algorithms) * len(benchmarks) * len(seeds)
    results: dict[tuple[str, int, int], Trajectory] = {}
    with tqdm(total=total, desc="runs", unit="run", disable=not progress) as bar:
        if workers == 1:
            _init_worker(list(benchmarks))
            for algorithm, b, chunk_seeds in jobs:
                for alg, bi, s, traj in _run_chunk(
                    algorithm, b, chunk_seeds, budget, params.get(algorithm)
                ):
                    results[(alg, bi, s)] = traj
                    bar.update(1)
        else:
            for alg, bi, s, traj in _in_processes(jobs, benchmarks, budget, params, workers):
                results[(alg, bi, s)] = traj
                bar.update(1)
    rows = [
        (algorithm, benchmarks[b], s, results[(algorithm, b, s)])
        for algorithm in algorithms
        for b in range(len(benchmarks))
        for s in seeds
    ]
    return to_table(rows, run_id or new_run_id())


def _in_processes(jobs, benchmarks, budget: Budget, params: dict, workers: int):
    """Run ``jobs`` in spawned processes, yielding results as they finish.

    A worker that dies (killed, out of memory, or a script without a ``__main__`` guard
    whose import starts another comparison) breaks the pool: that is an error, never a
    wait for results that cannot come.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    # The check multiprocessing makes itself: a spawned worker is still importing the
    # user's script, so this call came from its top level, not from a task.
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise NasdbError(
            "runner.compare was called while a worker process imported the script that "
            "started it: put the script's top-level code under "
            "`if __name__ == \"__main__\":` (or pass workers=1)"
        )
    import pickle
    import tempfile

    # Benchmarks reach workers through a file, not the start-up pipe: CPython writes a new
    # process's start-up data while holding the pipe's read end itself, so megabytes of
    # columns written to a worker that died on start-up would block the parent forever.
    with tempfile.TemporaryDirectory(prefix="nasdb-compare-") as tmp:
        path = os.path.join(tmp, "benchmarks.pickle")
        with open(path, "wb") as f:
            pickle.dump(list(benchmarks), f, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            with ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(path,),
            ) as pool:
                futures = [
                    pool.submit(_run_chunk, a, b, s, budget, params.get(a)) for a, b, s in jobs
                ]
                for fut in as_completed(futures):
                    yield from fut.result()
        except BrokenProcessPool:
            raise NasdbError(
                "compare: a worker process died before its runs finished (killed, out of "
                "memory, or a script without an `if __name__ == \"__main__\":` guard that "
                "starts work when workers import it); nothing was stored"
            ) from None
