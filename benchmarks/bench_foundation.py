"""Speed and memory of the foundation: ingest, cold start, lookups, and nas-bench-graph's API.

Prints one JSON object per line. Usage:

    python benchmarks/bench_foundation.py [--source ../shared/data] [--repeat 7]

Cold starts run in fresh processes; the same run measures nas-bench-graph's own
``light_read`` + dict queries on the same architectures, so the ratio is like for like.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Peak RSS from VmHWM: ru_maxrss of a forked child can report the parent's peak.
PEAK = "int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])"

COLD_NASDB = """
import time
t0 = time.perf_counter()
import nasdb
db = nasdb.connect({home!r})
v = db.lookup("nbgraph", [{arch}], task="cora", metric="test_accuracy")
t1 = time.perf_counter()
print(t1 - t0, {peak})
"""

COLD_NBG = """
import time
t0 = time.perf_counter()
from nas_bench_graph import light_read
bench = light_read("cora")
v = bench[{arch}]["perf"]
t1 = time.perf_counter()
print(t1 - t0, {peak})
"""


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def cold(code: str, repeat: int) -> tuple[float, float, float]:
    """Median in-process time to first answer, median wall time incl. interpreter, peak RSS."""
    inner, wall, rss = [], [], []
    for _ in range(repeat):
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
        wall.append(time.perf_counter() - start)
        inner.append(float(out[0]))
        rss.append(int(out[1]) / 1024)
    return statistics.median(inner), statistics.median(wall), max(rss)


def per_call(fn, n: int, repeat: int) -> float:
    """Median seconds per call over ``repeat`` loops of ``n`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - start) / n)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    import numpy as np

    import nasdb
    from nasdb import loaders
    from nasdb.catalog import Catalog

    home = Path(tempfile.mkdtemp(prefix="nasdb-bench-"))
    start = time.perf_counter()
    done = Catalog(home).ingest(loaders.bundled(), args.source)
    total = time.perf_counter() - start
    for item in done:
        emit(bench="ingest", source=item.name, rows=item.rows, seconds=round(item.seconds, 3))
    emit(
        bench="ingest_all",
        sources=len(done),
        rows=sum(i.rows for i in done),
        seconds=round(total, 2),
        goal_seconds=60,
    )

    db = nasdb.connect(home)
    cora = db.sql("SELECT arch_index FROM nbgraph WHERE task = 'cora' ORDER BY arch_index")
    archs = np.array([r[0] for r in cora.fetchall()], dtype=np.int64)
    arch = int(archs[0])

    t_nasdb, wall_nasdb, rss_nasdb = cold(
        COLD_NASDB.format(home=str(home), arch=arch, peak=PEAK), args.repeat
    )
    t_nbg, wall_nbg, rss_nbg = cold(COLD_NBG.format(arch=arch, peak=PEAK), args.repeat)
    emit(
        bench="cold_start",
        tool="nasdb",
        seconds=round(t_nasdb, 4),
        wall_with_interpreter=round(wall_nasdb, 4),
        peak_rss_mb=round(rss_nasdb, 1),
        goal_seconds=0.5,
    )
    emit(
        bench="cold_start",
        tool="nas_bench_graph.light_read",
        seconds=round(t_nbg, 4),
        wall_with_interpreter=round(wall_nbg, 4),
        peak_rss_mb=round(rss_nbg, 1),
        ratio_nasdb_faster=round(t_nbg / t_nasdb, 2),
    )

    kw = {"task": "cifar10", "metric": "test_accuracy"}
    db.lookup("nb201", 6111, **kw)
    single = per_call(lambda: db.lookup("nb201", 6111, **kw), 20_000, args.repeat)
    emit(bench="single_lookup", space="nb201", microseconds=round(single * 1e6, 2), goal_us=20)

    from nas_bench_graph import light_read

    bench = light_read("cora")
    ncora = {"task": "cora", "metric": "test_accuracy"}
    db.lookup("nbgraph", arch, **ncora)
    ours = per_call(lambda: db.lookup("nbgraph", arch, **ncora), 20_000, args.repeat)
    theirs = per_call(lambda: bench[arch]["perf"], 20_000, args.repeat)
    emit(
        bench="single_lookup",
        space="nbgraph",
        microseconds=round(ours * 1e6, 2),
        nas_bench_graph_dict_us=round(theirs * 1e6, 3),
    )

    rng = np.random.default_rng(0)
    for space, pool, kwargs in (("nb201", np.arange(15_625), kw), ("nbgraph", archs, ncora)):
        batch = rng.choice(pool, size=1_000_000)
        db.lookup(space, batch, **kwargs)
        per = per_call(lambda b=batch, s=space, k=kwargs: db.lookup(s, b, **k), 1, args.repeat)
        record = {
            "bench": "batch_lookup",
            "space": space,
            "batch": len(batch),
            "archs_per_second": round(len(batch) / per),
            "goal_per_second": 10_000_000,
        }
        if space == "nbgraph":
            ids = batch.tolist()
            start = time.perf_counter()
            [bench[a]["perf"] for a in ids]
            record["nas_bench_graph_per_second"] = round(len(ids) / (time.perf_counter() - start))
            record["ratio"] = round(
                record["archs_per_second"] / record["nas_bench_graph_per_second"], 1
            )
        emit(**record)

    import resource

    emit(
        bench="peak_rss",
        process="benchmark (ingest all + lookups)",
        mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    )
    if not os.environ.get("NASDB_BENCH_KEEP"):
        import shutil

        shutil.rmtree(home)


if __name__ == "__main__":
    main()
