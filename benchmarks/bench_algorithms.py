"""Published algorithms against the baselines at 150 queries (BANANAS' setting, White et
al. 2021): NB101 CIFAR-10 test accuracy and NB201 under the search protocol (valid_accuracy
at 12 epochs, the incumbent's 200-epoch test accuracy reported). One JSON line per
(benchmark, algorithm): mean and std over seeds of the final best and reported values,
and seconds per run.

    python benchmarks/bench_algorithms.py --home CATALOG --seeds 20
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import nasdb
from nasdb import runner


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", required=True)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--queries", type=int, default=150)
    ap.add_argument("--algorithms", default="rs,rea,bananas,reinforce,bohb")
    ap.add_argument("--benchmarks", default="nb101/cifar10,nb201/cifar10,nb201/cifar100,"
                    "nb201/imagenet16-120")  # fmt: skip
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    db = nasdb.connect(args.home)
    for text in args.benchmarks.split(","):
        space, task = text.split("/")
        if space == "nb101":
            bench = db.benchmark(space, task, "test_accuracy", source="nb101_freerea")
        else:
            bench = db.benchmark(space, task, protocol=True)
        for alg in args.algorithms.split(","):
            start = time.perf_counter()
            table = runner.compare([alg], [bench], args.seeds, runner.Budget(args.queries),
                                   workers=args.workers, progress=False)  # fmt: skip
            seconds = time.perf_counter() - start
            df = table.to_pandas().sort_values("trial").groupby("seed").last()
            line = {
                "benchmark": bench.describe(),
                "algorithm": alg,
                "seeds": args.seeds,
                "queries": args.queries,
                "best_mean": round(float(df["best"].mean()), 3),
                "best_std": round(float(df["best"].std()), 3),
                "seconds_per_run": round(seconds / args.seeds * args.workers, 3),
            }
            if df["reported"].notna().any():
                line["reported"] = df["reported_metric"].iloc[0]
                line["reported_mean"] = round(float(np.mean(df["reported"])), 3)
                line["reported_std"] = round(float(np.std(df["reported"], ddof=1)), 3)
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
