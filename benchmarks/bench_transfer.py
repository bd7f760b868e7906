"""Transfer priors: build and update times, and the leave-one-out figures.

For each family of targets (NB201 latency on its 33 device settings, NB201's datasets,
NAS-Bench-Graph's nine datasets, TransNAS-Bench-101 latency on its seven tasks) every target
in turn is predicted from all the others. Prints one JSON object per line. Usage:

    python benchmarks/bench_transfer.py --home CATALOG [--seeds 50] [--draws 10] [--help-draws 50]

HELP's protocol draws its 10 target samples 50 times by default: its mean over six devices
moves by 0.002 between 10 and 50 draws, as much as the few-shot models compared for it differ.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

FAMILIES = (
    ("nb201", "latency"),
    ("nb201", "test_accuracy"),
    ("nbgraph", "test_accuracy"),
    ("tnb101_micro", "latency"),
)


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True)
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--draws", type=int, default=10)
    parser.add_argument("--help-draws", type=int, default=50)
    parser.add_argument("--budget", type=int, default=100)
    args = parser.parse_args()

    import nasdb
    from nasdb import transfer, transfer_eval

    db = nasdb.connect(args.home)
    for row in transfer_eval.help_rows(db, args.help_draws):
        emit(bench="help_protocol", **row)
    for space, metric in FAMILIES:
        targets = transfer.settings(db, space, metric)
        for target in targets:
            start = time.perf_counter()
            prior = db.prior(space, task=target.task, metric=metric, device=target.device)
            built = time.perf_counter() - start
            truth = transfer._column(db, space, metric, target)
            measured = np.flatnonzero(~np.isnan(truth))
            picked = np.random.default_rng(0).choice(measured, 10, replace=False)
            start = time.perf_counter()
            prior.update({int(i): float(truth[i]) for i in picked})
            emit(
                bench="prior_time",
                space=space,
                metric=metric,
                target=target.describe(),
                sources=len(prior.sources),
                build_seconds=round(built, 4),
                few_shot_update_seconds=round(time.perf_counter() - start, 4),
            )
        for row in transfer_eval.rank_rows(db, space, metric, targets, draws=args.draws):
            emit(bench="rank", space=space, metric=metric, **row)
        rows = transfer_eval.search_rows(
            db, space, metric, targets, seeds=args.seeds, budget=args.budget
        )
        for row in rows:
            emit(bench="search", space=space, metric=metric, **row)
        summary = {
            use: float(
                np.median(
                    [r["evals_to_top1_median"] for r in rows if (r["prior"] != "none") == use]
                )
            )
            for use in (False, True)
        }
        emit(
            bench="search_summary",
            space=space,
            metric=metric,
            targets=len(targets),
            median_evals_to_top1_without=summary[False],
            median_evals_to_top1_with=summary[True],
        )


if __name__ == "__main__":
    main()
