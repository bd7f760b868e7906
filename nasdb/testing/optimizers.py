"""``check_optimizer``: the contracts every search algorithm keeps, checked on real tables.

A contributor who writes an :class:`~nasdb.optimizers.base.Optimizer` calls it from a test
and learns whether the runner, the CLI and comparisons can rely on the algorithm:

- it asks only for architectures the benchmark answers: indices inside the space, valid
  there (an NB-101 cell is an upper-triangular DAG of at most 7 nodes and 9 edges), at a
  fidelity the benchmark has;
- a seed fixes its trajectory and another seed changes it;
- it keeps the ask/tell contract with several asks in flight and answers told in another
  order, as asynchronous search (``nasdb.runner._run_async``) tells them;
- a run stops at its budget, in evaluations or in simulated seconds;
- a multi-objective optimizer is run on two objectives and told both;
- bad parameters fail with one :class:`~nasdb.errors.NasdbError` line naming the parameter.

A failure raises AssertionError naming the check, the benchmark and what went wrong.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Sequence

import numpy as np

from nasdb import optimizers, runner
from nasdb.benchmark import Benchmark
from nasdb.errors import LookupMiss, NasdbError

# (space, task, db.benchmark keywords) of the benchmarks an optimizer is checked on.
SINGLE = (
    ("nb201", "cifar10", {}),  # two fidelities (12 and 200 epochs) for multi-fidelity runs
    ("nbgraph", "proteins", {}),  # 2,021 of 26,206 GNNs trained: most indices unanswerable
    ("nb101", "cifar10", {}),  # cells, whose DAGs the kit checks
)
MULTI = ("nb201", "cifar10", {"metric": ["test_accuracy", "latency"], "device": "edgegpu"})
WORKERS = 4  # asks in flight in the asynchronous check


def check_optimizer(
    optimizer: str | type,
    benchmark: Benchmark | Sequence[Benchmark] | None = None,
    *,
    db=None,
    params: dict | None = None,
    budget: int = 60,
    seeds: tuple[int, int] = (0, 1),
) -> list[str]:
    """Run every check on each benchmark the optimizer accepts; return what was checked.

    ``optimizer`` is a registry name or an Optimizer subclass; ``benchmark`` one or more
    benchmarks, by default those of :data:`SINGLE` (and :data:`MULTI` for multi-objective
    optimizers) from ``db`` (``nasdb.connect()`` if None), with a few-shot transfer prior
    for optimizers that need one. ``params`` are passed to the optimizer; ``budget`` is the
    evaluations per run, enough to leave an optimizer's start-up phase.
    """
    cls = optimizers.get(optimizer) if isinstance(optimizer, str) else optimizer
    label = f"check_optimizer({cls.name or cls.__name__})"
    _expect(label, "name", _name_problem(cls))
    benches = _benchmarks(cls, benchmark, db)
    if not benches:
        raise AssertionError(f"{label}: it refuses every benchmark it was given")
    done = [f"params on {benches[0].describe()}"]
    _check_params(cls, benches[0], f"{label} on {benches[0].describe()}: params")
    for bench in benches:
        for name, check in CHECKS:
            where = f"{label} on {bench.describe()}: {name}"
            try:
                check(cls, bench, params or {}, budget, seeds, where)
            except AssertionError:
                raise
            except LookupMiss as exc:
                raise AssertionError(f"{where}: asked what the benchmark lacks: {exc}") from None
            except Exception as exc:  # the optimizer's own failure, said where it happened
                raise AssertionError(f"{where}: {type(exc).__name__}: {exc}") from exc
            done.append(f"{name} on {bench.describe()}")
    return done


# which benchmarks --------------------------------------------------------------------------
def _benchmarks(cls: type, given, db) -> list[Benchmark]:
    """The benchmarks given, or the defaults; those the optimizer refuses are left out."""
    if given is None:
        if db is None:
            from nasdb import connect

            db = connect()
        specs = [*SINGLE, *([MULTI] if cls.multi_objective or cls.min_objectives > 1 else [])]
        given = [b for space, task, kw in specs if (b := _default(db, cls, space, task, kw))]
    elif isinstance(given, Benchmark):
        given = [given]
    out = []
    for bench in given:
        try:
            cls.check(bench.problem, bench.describe())
        except NasdbError:
            continue
        out.append(bench)
    return out


def _default(db, cls: type, space: str, task: str, kw: dict) -> Benchmark | None:
    """A default benchmark; for optimizers that need a prior, one where a prior is built."""
    if not cls.needs_prior:
        return db.benchmark(space, task, **kw)
    try:
        return db.benchmark(space, task, **kw, prior="few-shot:5")
    except NasdbError:  # no other task to transfer from
        return None


def _name_problem(cls: type) -> str | None:
    if not cls.name:
        return "the class sets no `name`, which runs and reports are labelled with"
    registered = optimizers.REGISTRY.get(cls.name)
    if registered and optimizers.get(cls.name) is not cls:
        return f"name {cls.name!r} is the registry's name of {registered}"
    return None


# the checks ---------------------------------------------------------------------------------
def _valid_proposals(cls, bench: Benchmark, params, budget, seeds, where) -> None:
    """A run asks only for valid, answerable architectures at the benchmark's fidelities;
    the same seed gives the same trajectory and another seed another one."""
    first, again, other = (runner.run(cls, bench, s, runner.Budget(budget), params)
                           for s in (seeds[0], seeds[0], seeds[1]))  # fmt: skip
    _expect(where, "budget", None if len(first.arch) == budget else
            f"{len(first.arch)} trials for a budget of {budget} evaluations")  # fmt: skip
    _expect(where, "architectures", _invalid(bench, first.arch))
    fids = {None if f == -1 else int(f) for f in first.fidelity.tolist()}
    allowed = set(bench.fidelities) if cls.multi_fidelity else {bench.fidelity}
    if not fids <= allowed:
        extra, listed = sorted(fids - allowed, key=str), sorted(allowed, key=str)
        _expect(where, "fidelities", f"asked at {extra}; the benchmark has {listed}")
    shape = (budget, bench.n_objectives)
    if first.values.shape != shape:
        _expect(where, "values", f"shape {first.values.shape}, not {shape}")
    _expect(where, "values", None if np.isfinite(first.values).all() else
            "a trajectory holds values that are not finite")  # fmt: skip
    for field in ("arch", "fidelity", "values"):
        if not np.array_equal(getattr(first, field), getattr(again, field), equal_nan=True):
            _expect(where, "reproducible", f"seed {seeds[0]} gave two different {field} sequences")
    if np.array_equal(first.arch, other.arch) and np.array_equal(first.fidelity, other.fidelity):
        _expect(where, "seeds differ", f"seeds {seeds[0]} and {seeds[1]} asked the same {budget} "
                "architectures: is the optimizer's randomness drawn from self.rng?")  # fmt: skip


def _seconds_budget(cls, bench: Benchmark, params, budget, seeds, where) -> None:
    """A budget in simulated seconds stops at the trial that crosses it, not before."""
    limit = float(np.median(bench.cost(bench.valid[:100]))) * budget / 4
    traj = runner.run(cls, bench, seeds[0], runner.Budget(seconds=limit), params)
    spent = np.cumsum(traj.cost)
    if not (len(spent) and spent[-1] >= limit and (len(spent) < 2 or spent[-2] < limit)):
        total = spent[-1] if len(spent) else 0.0
        _expect(where, "seconds", f"{len(spent)} trials spent {total:.0f} s of {limit:.0f} s")


def _asks_before_tells(cls, bench: Benchmark, params, budget, seeds, where) -> None:
    """With WORKERS asks in flight, told in a seeded random order, every ask stays valid,
    the run completes, and the same seed asks the same sequence again."""
    first = _async(cls, bench, params, budget, seeds[0], where)
    _expect(where, "architectures", _invalid(bench, np.array([a for a, _ in first])))
    again = _async(cls, bench, params, budget, seeds[0], where)
    _expect(where, "reproducible", None if first == again else
            f"seed {seeds[0]} asked two different sequences with asks in flight")  # fmt: skip


def _async(cls, bench: Benchmark, params, budget, seed, where) -> list[tuple[int, object]]:
    opt = runner.make_optimizer(cls, bench, seed, params)
    order = np.random.default_rng(seed)  # the order trainings finish in
    asked: list[tuple[int, object]] = []
    pending: list[tuple[int, object]] = []
    while len(asked) < budget or pending:
        if len(asked) < budget and len(pending) < WORKERS:
            got = opt.ask()
            index, fid = got if cls.multi_fidelity else (got, bench.fidelity)
            problem = _invalid(bench, np.array([index]))
            _expect(where, f"ask {len(asked)} with {len(pending)} in flight", problem)
            asked.append((int(index), fid))
            pending.append((int(index), fid))
            continue
        index, fid = pending.pop(int(order.integers(len(pending))))
        opt.tell(index, _fitness(opt, bench, index, fid))
    return asked


CHECKS: tuple[tuple[str, Callable], ...] = (
    ("asks before tells", _asks_before_tells),  # first: it checks each ask before using it
    ("valid proposals, seeded", _valid_proposals),
    ("seconds budget", _seconds_budget),
)


# parameters ---------------------------------------------------------------------------------
def _check_params(cls: type, bench: Benchmark, where: str) -> None:
    """Unknown names, wrong types, out-of-bounds values and a negative seed each fail with
    one NasdbError line that names what was wrong."""
    cases: list[tuple[dict, int, str]] = [({"no_such_parameter": 1}, 0, "no_such_parameter"),
                                          ({}, -1, "seed")]  # fmt: skip
    hints = typing.get_type_hints(cls.__init__)
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if name in ("self", "problem", "seed"):
            continue
        if hints.get(name) in (int, float, bool) or isinstance(param.default, (int, float)):
            cases.append(({name: "many"}, 0, name))
    for name, (low, *_rest) in cls.bounds.items():
        if isinstance(low, (int, float)):
            cases.append(({name: low - 1}, 0, name))
    for given, seed, needle in cases:
        try:
            runner.make_optimizer(cls, bench, seed, given)
        except NasdbError as exc:
            text = str(exc)
            if "\n" in text or needle not in text:
                _expect(where, f"{given or {'seed': seed}}", f"the error {text!r} is not one "
                        f"line naming {needle!r}")  # fmt: skip
            continue
        except Exception as exc:
            _expect(where, f"{given or {'seed': seed}}", f"raised {type(exc).__name__}: {exc}; "
                    "expected a NasdbError")  # fmt: skip
        _expect(where, f"{given or {'seed': seed}}", "was accepted")


# helpers ------------------------------------------------------------------------------------
def _invalid(bench: Benchmark, arch: np.ndarray) -> str | None:
    """What is wrong with asked architectures, or None."""
    if arch.dtype.kind not in "iu":
        return f"asked for {arch[:3].tolist()}: architecture indices must be integers"
    size = len(bench.valid_mask)
    outside = arch[(arch < 0) | (arch >= size)]
    if len(outside):
        return f"asked for index {int(outside[0])}, outside the space's 0..{size - 1}"
    lacking = arch[~bench.valid_mask[arch]]
    if len(lacking):
        return f"asked for architecture {int(lacking[0])}, which the benchmark cannot answer"
    space = bench.space
    if hasattr(space, "spec"):  # cells: a DAG the space's rules allow
        for index in np.unique(arch).tolist():
            problem = _bad_cell(*space.spec(index))
            if problem:
                return f"asked for cell {index}: {problem}"
    return None


def _bad_cell(matrix, ops) -> str | None:
    m = np.asarray(matrix)
    if (np.tril(m) != 0).any():
        return "its adjacency matrix is not upper-triangular"
    if len(ops) > 7 or m.sum() > 9:
        return f"{len(ops)} nodes and {int(m.sum())} edges (at most 7 and 9)"
    if ops[0] != "input" or ops[-1] != "output":
        return f"its ops run from {ops[0]!r} to {ops[-1]!r}, not input to output"
    return None


def _fitness(opt, bench: Benchmark, index: int, fid):
    """What the runner tells: oriented values, every objective for multi-objective ones."""
    v = bench.values(index, fid)
    return v * bench.signs if opt.multi_objective else float(v[0] * bench.signs[0])


def _expect(where: str, what: str, problem: str | None) -> None:
    if problem:
        raise AssertionError(f"{where}: {what}: {problem}")
