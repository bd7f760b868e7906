"""Memory of one search run against its budget: peak RSS of ``nasdb search`` in a fresh
process for growing budgets, and how fast a budget past the cap is refused.

Prints one JSON object per line. Usage:

    python benchmarks/bench_run_memory.py --home CATALOG [--save]   # holding nb201_nats

``--save`` stores each run in the catalog, which adds the runs table to the peak.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def search(home: str, budget: int, save: bool) -> dict:
    """Run ``nasdb search`` in a child process; its wall time and exit status."""
    args = [sys.executable, "-m", "nasdb", "search", "nb201", "cifar10", "-a", "rea"]
    args += ["--budget", str(budget), "--save" if save else "--no-save", "--home", home]
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    return {
        "budget": budget,
        "exit_status": done.returncode,
        "seconds": round(time.perf_counter() - start, 2),
        "stderr": done.stderr.strip()[-160:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", required=True)
    parser.add_argument("--budgets", default="1000,100000,1000000,1000000000000")
    parser.add_argument("--save", action="store_true", help="Store the runs (in --home).")
    args = parser.parse_args()
    for budget in (int(b) for b in args.budgets.split(",")):
        # each child runs alone, so the children's peak RSS so far is this one's when it grows
        record = search(args.home, budget, args.save)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        record.update(saved=args.save, peak_rss_mb_so_far=round(peak))
        print(json.dumps({"bench": "run_memory", **record}))


if __name__ == "__main__":
    main()
