"""syne-tune and Optuna on a nasdb benchmark: wall seconds per trial, next to nasdb's own.

Prints one JSON object per line. Usage:

    python benchmarks/bench_integrations.py [--home CATALOG] [--trials 200]

Each line is one library's optimizer on NB201 CIFAR-10 (test accuracy at 200 epochs, and
12 for ASHA): the wall seconds of the run itself, of converting it to ``runs`` rows, per
trial, and the best value found; nasdb's random search and REA give the baseline. The
simulated training seconds the runs stand for are in ``simulated_s``.
"""

from __future__ import annotations

import argparse
import json
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", default=None)
    parser.add_argument("--trials", type=int, default=200)
    args = parser.parse_args()

    import optuna

    import nasdb
    from nasdb import runner
    from nasdb.integrations import optuna as nasdb_optuna
    from nasdb.integrations import syne_tune

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    db = nasdb.connect(args.home)
    bench = db.benchmark("nb201", "cifar10")
    n = args.trials

    def line(library: str, algorithm: str, run_s: float, convert_s: float, table) -> None:
        df = table.to_pandas()
        print(json.dumps({
            "library": library, "algorithm": algorithm, "benchmark": bench.describe(),
            "trials": n, "rows": len(df), "run_s": round(run_s, 3),
            "convert_s": round(convert_s, 3), "ms_per_trial": round(1e3 * run_s / n, 3),
            "best": float(df.best.iloc[-1]), "simulated_s": round(float(df.time.iloc[-1])),
        }), flush=True)  # fmt: skip

    for algorithm in ("rs", "rea"):
        t = time.perf_counter()
        traj = runner.run(algorithm, bench, 0, runner.Budget(n))
        run_s = time.perf_counter() - t
        t = time.perf_counter()
        table = runner.to_table([(algorithm, bench, 0, traj)], "bench")
        line("nasdb", algorithm, run_s, time.perf_counter() - t, table)
    for algorithm in ("rs", "asha", "rea"):
        t = time.perf_counter()
        results = syne_tune.simulate(bench, algorithm, trials=n, seed=0)
        run_s = time.perf_counter() - t
        t = time.perf_counter()
        table = syne_tune.to_runs(bench, results, algorithm)
        line("syne-tune", f"synetune:{algorithm}", run_s, time.perf_counter() - t, table)
    samplers = {"tpe": optuna.samplers.TPESampler, "random": optuna.samplers.RandomSampler}
    for name, sampler in samplers.items():
        t = time.perf_counter()
        study = nasdb_optuna.create_study(bench, sampler=sampler(seed=0))
        study.optimize(nasdb_optuna.Objective(bench), n_trials=n)
        run_s = time.perf_counter() - t
        t = time.perf_counter()
        table = nasdb_optuna.to_runs(bench, study)
        line("optuna", f"optuna:{name}", run_s, time.perf_counter() - t, table)


if __name__ == "__main__":
    main()
