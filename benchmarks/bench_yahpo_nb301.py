"""Batch prediction speed of the YAHPO NAS-Bench-301 surrogate, on the CPU.

Prints one JSON object per (threads, batch) line: the best and median seconds of
``predict`` on sampled indices, genotypes per second, and the share spent turning
indices into YAHPO codes. Usage:

    python benchmarks/bench_yahpo_nb301.py [--source ../shared/data] [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
from nasdb.surrogates.yahpo_nb301 import YahpoNB301

from nasdb import spaces

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--batches", default="1,100,1000,10000,100000")
    parser.add_argument("--threads", default=f"1,{os.cpu_count()}")
    args = parser.parse_args()
    space = spaces.get("nb301")
    rng = np.random.default_rng(0)
    for threads in sorted({int(t) for t in args.threads.split(",")}):
        model = YahpoNB301(args.source, threads=threads).load()
        for n in (int(b) for b in args.batches.split(",")):
            archs = space.sample(rng, n)
            model.predict(archs)  # warm-up
            times, encode = [], []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                space.yahpo_codes(archs)
                t1 = time.perf_counter()
                model.predict(archs)
                t2 = time.perf_counter()
                encode.append(t1 - t0)
                times.append(t2 - t1)
            best = min(times)
            line = {
                "threads": threads,
                "batch": n,
                "best_s": round(best, 6),
                "median_s": round(statistics.median(times), 6),
                "per_second": round(n / best),
                "encode_share": round(statistics.median(encode) / statistics.median(times), 3),
                "cpus": os.cpu_count(),
            }
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
