"""Trainings per hour: NB201 cells trained on scikit-learn's digits with a short recipe.

Prints one JSON object per line: for 1 and 2 worker processes (each one torch thread),
how many 1-epoch trainings of random NB201 cells finish per hour of wall time. Usage:

    python benchmarks/bench_training.py [--trainings 8] [--epochs 1] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from nasdb.networks import recipes, tasks, training


def _one(args) -> float:
    index, home, epochs, seed, device = args
    recipe = recipes.get("nb201", epochs)
    result = training.train("nb201", index, "digits", recipe, seed, device=device, home=home)
    return result.train_seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trainings", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        tasks.add("digits", "nb201", "digits", home=home)
        cells = np.random.default_rng(0).choice(15_625, args.trainings, replace=False)
        for workers in args.workers:
            jobs = [(int(c), home, args.epochs, 0, args.device) for c in cells]
            start = time.perf_counter()
            with ProcessPoolExecutor(workers) as pool:
                seconds = list(pool.map(_one, jobs))
            wall = time.perf_counter() - start
            print(
                json.dumps(
                    {
                        "benchmark": "trainings_per_hour",
                        "space": "nb201",
                        "task": "digits",
                        "epochs": args.epochs,
                        "device": args.device,
                        "workers": workers,
                        "trainings": len(jobs),
                        "wall_s": round(wall, 2),
                        "median_train_s": round(float(np.median(seconds)), 3),
                        "trainings_per_hour": round(3600 * len(jobs) / wall, 1),
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
