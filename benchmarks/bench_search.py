"""Speed of search on the catalog: per-trial overhead, CLI cold run, a comparison grid, and
syne-tune's simulated backend and Optuna's ask/tell on the same NB201 CIFAR-10 table.

Prints one JSON object per line. Usage:

    python benchmarks/bench_search.py [--source ../shared/data] [--home DIR]

syne-tune and Optuna are measured only when installed (``pip install syne-tune optuna
huggingface_hub`` in the benchmark's environment; they are not dependencies of nasdb).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def per_trial(bench, algorithm: str, trials: int, repeat: int = 5) -> float:
    from nasdb import runner

    runner.run(algorithm, bench, 0, runner.Budget(100))
    times = []
    for r in range(repeat):
        start = time.perf_counter()
        runner.run(algorithm, bench, r + 1, runner.Budget(trials))
        times.append((time.perf_counter() - start) / trials)
    return statistics.median(times)


def cli_run(home: Path, save: bool, repeat: int) -> tuple[float, float]:
    """Median wall seconds and max peak RSS (MB) of ``nasdb search`` in fresh processes."""
    code = (
        "import sys, resource; from nasdb.cli import main; sys.argv = sys.argv[1:]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM'))"
        ".split()[1]), file=sys.stderr)"
    )
    args = ["nasdb", "search", "nb201", "cifar10", "--budget", "1000", "--home", str(home)]
    if not save:
        args.append("--no-save")
    walls, rss = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
        )
        walls.append(time.perf_counter() - start)
        rss.append(int(out.stderr.split()[-1]) / 1024)
    return statistics.median(walls), max(rss)


def nb201_ops_table():
    from nasdb import spaces
    from nasdb.spaces.nb201 import OPS

    sp = spaces.get("nb201")
    return sp, OPS


def optuna_rs(col: np.ndarray, trials: int, seed: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sp, ops = nb201_ops_table()
    weights = 5 ** np.arange(5, -1, -1)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.RandomSampler(seed=seed)
    )
    start = time.perf_counter()
    for _ in range(trials):
        t = study.ask()
        code = sum(ops.index(t.suggest_categorical(f"e{i}", ops)) * int(w) for i, w in
                   enumerate(weights))  # fmt: skip
        study.tell(t, float(col[sp._code_to_index[code]]))
    return (time.perf_counter() - start) / trials


def syne_tune_run(col: np.ndarray, cost: float, trials: int, seed: int, scheduler: str) -> float:
    import pandas as pd
    from syne_tune import StoppingCriterion, Tuner
    from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
    from syne_tune.blackbox_repository import UserBlackboxBackend
    from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular
    from syne_tune.config_space import choice, randint
    from syne_tune.optimizer.baselines import REA, RandomSearch

    logging.getLogger("syne_tune").setLevel(logging.ERROR)
    sp, ops = nb201_ops_table()
    hp = pd.DataFrame({f"e{i}": [ops[o] for o in sp.ops[:, i]] for i in range(6)})
    config_space = {f"e{i}": choice(list(ops)) for i in range(6)}
    evals = np.stack([col, np.full(len(col), cost)], axis=-1).reshape(len(col), 1, 1, 2)
    blackbox = BlackboxTabular(
        hyperparameters=hp,
        configuration_space=config_space,
        fidelity_space={"epochs": randint(200, 200)},
        objectives_evaluations=evals,
        fidelity_values=np.array([200]),
        objectives_names=["accuracy", "time"],
    )
    backend = UserBlackboxBackend(blackbox=blackbox, elapsed_time_attr="time")
    cls = RandomSearch if scheduler == "rs" else REA
    kwargs = {"metrics": ["accuracy"]} if scheduler == "rs" else {"metric": "accuracy"}
    sched = cls(config_space, do_minimize=False, random_seed=seed, **kwargs)
    tuner = Tuner(
        trial_backend=backend,
        scheduler=sched,
        stop_criterion=StoppingCriterion(max_num_trials_started=trials),
        n_workers=1,
        sleep_time=0,
        callbacks=[SimulatorCallback()],
        print_update_interval=1e9,
        results_update_interval=1e9,
        save_tuner=False,
    )
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # keep stdout to JSON lines
        tuner.run()
    return (time.perf_counter() - start) / trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--home", default=None, help="An ingested catalog (default: build one).")
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--evaluations", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    import nasdb
    from nasdb import optimizers, runner

    tmp = None
    if args.home is None:
        tmp = Path(tempfile.mkdtemp(prefix="nasdb-bench-search-"))
        from nasdb.catalog import Catalog

        Catalog(tmp).ingest(["nb201_nats", "nb201_mini", "nb201_hwnas"], args.source)
        home = tmp
    else:  # runs are written to a copy, the catalog given stays as it was
        tmp = Path(tempfile.mkdtemp(prefix="nasdb-bench-search-"))
        home = tmp / "home"
        shutil.copytree(args.home, home)
    db = nasdb.connect(home)
    bench = db.benchmark("nb201", "cifar10")

    for alg in ("rs", "rea", "ls"):
        us = per_trial(bench, alg, 10_000) * 1e6  # below the 15,625 cells: no exhaustion
        emit(bench="per_trial", algorithm=alg, microseconds=round(us, 2), goal_us=10)

    for save in (False, True):
        wall, rss = cli_run(home, save, 5)
        emit(
            bench="cli_search_1000_rs",
            stores_run=save,
            seconds=round(wall, 3),
            peak_rss_mb=round(rss, 1),
            goal_seconds=0.6,
            goal_mb=150,
        )

    # the six single-objective methods that run in milliseconds; BANANAS is timed apart
    algorithms = ["rs", "rea", "ls", "sh", "hb", "cmanas"]
    assert all(a in optimizers.names() for a in algorithms)
    start = time.perf_counter()
    table = runner.compare(
        algorithms,
        [bench],
        args.seeds,
        runner.Budget(args.evaluations),
        workers=args.workers,
        progress=False,
    )
    grid = time.perf_counter() - start
    emit(
        bench="compare_grid",
        algorithms=algorithms,
        seeds=args.seeds,
        evaluations=args.evaluations,
        trials=table.num_rows,
        workers=args.workers,
        seconds=round(grid, 2),
        goal_seconds=60,
    )

    start = time.perf_counter()
    for s in range(3):
        runner.run("bananas", bench, s, runner.Budget(args.evaluations))
    emit(
        bench="bananas_run",
        evaluations=args.evaluations,
        seconds_per_run=round((time.perf_counter() - start) / 3, 2),
    )

    col = bench._primary[200]
    cost = bench.cost_of(0)
    ours = {a: per_trial(bench, a, 1000) for a in ("rs", "rea")}
    try:
        t = statistics.median(optuna_rs(col, 1000, s) for s in range(3))
        emit(
            bench="vs_optuna",
            what="1,000-trial random search, ask/tell (RandomSampler); Optuna has no REA",
            optuna_us=round(t * 1e6, 1),
            nasdb_us=round(ours["rs"] * 1e6, 2),
            ratio=round(t / ours["rs"], 1),
        )
    except ImportError:
        emit(bench="vs_optuna", skipped="optuna is not installed")
    for alg in ("rs", "rea"):
        try:
            os.environ.setdefault("SYNETUNE_FOLDER", str(tmp / "syne-tune"))
            t = syne_tune_run(col, cost, 1000, 0, alg)  # one run: each takes minutes
            emit(
                bench="vs_syne_tune",
                what=f"1,000-trial {alg} on UserBlackboxBackend (simulated time)",
                syne_tune_us=round(t * 1e6, 1),
                nasdb_us=round(ours[alg] * 1e6, 2),
                ratio=round(t / ours[alg], 1),
            )
        except ImportError as exc:
            emit(bench="vs_syne_tune", algorithm=alg, skipped=f"not installed: {exc}")
    if tmp is not None and not os.environ.get("NASDB_BENCH_KEEP"):
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
