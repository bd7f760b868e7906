"""Training on a miss: what a miss costs besides training, and how fast trainings go.

Prints JSON lines:
- ``overhead``: claim, write-back (one generation) and view refresh per miss, measured
  around real NB201 trainings on digits (1 epoch) in a fresh catalog;
- ``throughput``: trainings per hour of a random search with ``--miss train`` on NB201 /
  digits, 1 and 2 workers, local process pool, and Ray on the same work if installed;
- ``writers``: rows written per second by 4 concurrent processes appending trained rows
  (each a copy of one real training's row under its own architecture index), and that
  none is lost.

    python benchmarks/bench_miss.py [--n 4] [--rows 10]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from pathlib import Path

from nasdb import claims, train_miss
from nasdb.db import connect
from nasdb.networks import recipes, tasks, training

SPACE, TASK = "nb201", "digits10"


def _home(root: Path, name: str, base: Path | None = None) -> Path:
    home = root / name
    if base is not None:  # write-back into a copy of a full catalog: its wide table rebuilds
        import shutil

        shutil.copytree(base, home)
    tasks.add(TASK, SPACE, "digits", home=home)
    return home


def overhead(root: Path, n: int, base: Path | None = None) -> dict:
    home = _home(root, "overhead" if base is None else "overhead-full", base)
    task = tasks.get(TASK, home)
    recipe = recipes.get("nb201-short")
    recipe = recipe.with_epochs(recipe.epochs)
    db = connect(home)
    phases = {"claim": [], "write_back": [], "refresh": [], "train": []}
    for arch in range(0, 15625, 15625 // n)[:n]:
        t0 = time.perf_counter()
        path = claims.claim_path(home, SPACE, TASK, arch, 1, recipe.sha256, 0)
        assert claims.try_claim(path)
        t1 = time.perf_counter()
        result = training.train(SPACE, arch, task, recipe, 0, device="cpu")
        t2 = time.perf_counter()
        row = train_miss._training_row(result, recipe, task, train_miss.source_name(SPACE, TASK))
        train_miss.write_back(home, [row])
        claims.release(path)
        t3 = time.perf_counter()
        db.refresh()
        db.sql("SELECT count(*) FROM trainings").fetchall()
        t4 = time.perf_counter()
        for k, v in zip(phases, (t1 - t0, t3 - t2, t4 - t3, t2 - t1), strict=True):
            v and phases[k].append(v)
    mean = {f"{k}_ms": round(1000 * sum(v) / len(v), 2) for k, v in phases.items()}
    return {"bench": "overhead", "catalog": str(base or "fresh"), "misses": n, **mean}


def throughput(root: Path, n: int, workers: int, executor: str) -> dict:
    from nasdb import runner

    home = _home(root, f"tp-{executor}-{workers}")
    db = connect(home)
    start = time.perf_counter()
    bench = db.benchmark(SPACE, TASK, miss="train", recipe="nb201-short", workers=workers,
                         executor=executor)  # fmt: skip
    try:
        traj = runner.run("rs", bench, 0, runner.Budget(n))
    finally:
        bench.miss.close()
    wall = time.perf_counter() - start
    return {"bench": "throughput", "executor": executor, "workers": workers,
            "trainings": len(traj.arch), "wall_s": round(wall, 2),
            "train_s": round(float(traj.cost.sum()), 2),
            "trainings_per_hour": round(len(traj.arch) / wall * 3600, 1)}  # fmt: skip


def _writer(home: str, row: dict, first: int, count: int) -> None:
    for arch in range(first, first + count):
        train_miss.write_back(Path(home), [{**row, "arch_index": arch, "arch_id": str(arch)}])


def writers(root: Path, rows: int, procs: int = 4) -> dict:
    home = _home(root, "writers")
    task = tasks.get(TASK, home)
    recipe = recipes.get("nb201-short")
    result = training.train(SPACE, 0, task, recipe, 0, device="cpu")
    row = train_miss._training_row(result, recipe, task, train_miss.source_name(SPACE, TASK))
    ctx = multiprocessing.get_context("spawn")
    ps = [ctx.Process(target=_writer, args=(str(home), row, i * rows, rows))
          for i in range(procs)]  # fmt: skip
    start = time.perf_counter()
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    wall = time.perf_counter() - start
    if any(p.exitcode != 0 for p in ps):
        raise SystemExit(f"a writer process failed: exit codes {[p.exitcode for p in ps]}")
    stored = connect(home).sql("SELECT count(DISTINCT arch_index) FROM trainings").fetchall()[0][0]
    return {"bench": "writers", "processes": procs, "rows": procs * rows, "stored": stored,
            "wall_s": round(wall, 2), "rows_per_s": round(procs * rows / wall, 2)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4, help="trainings per measurement")
    ap.add_argument("--rows", type=int, default=10, help="rows per writer process")
    ap.add_argument("--home", type=Path, default=None,
                    help="also measure the overhead in a copy of this catalog")  # fmt: skip
    ap.add_argument("--only-overhead", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="nasdb-bench-miss-") as tmp:
        root = Path(tmp)
        print(json.dumps(overhead(root, args.n)), flush=True)
        if args.home is not None:
            print(json.dumps(overhead(root, args.n, args.home)), flush=True)
        if args.only_overhead:
            return
        for w in (1, 2):
            print(json.dumps(throughput(root, args.n, w, "local")), flush=True)
        try:
            import ray  # noqa: F401

            print(json.dumps(throughput(root, args.n, 2, "ray")), flush=True)
        except ImportError:
            skipped = {"bench": "throughput", "executor": "ray", "skipped": "not installed"}
            print(json.dumps(skipped))
        print(json.dumps(writers(root, args.rows)), flush=True)


if __name__ == "__main__":
    main()
