"""Cost of catalog generations: commit latency, the manifest's share of a cold start, and
stored runs per second with concurrent writers.

``cold_start``: a fresh process's time to its first lookup, and the integrity checks'
share of it (reading the manifest; the sha256 of the source file the lookup reads).

Prints one JSON object per line. Usage:

    python benchmarks/bench_catalog.py [--source ../shared/data | --catalog DIR] [--repeat 5]

``--catalog`` copies an existing catalog (one written before manifests is adopted by the
first commit); otherwise NB201 (NATS), NB101 (FreeREA) and NB-Macro are ingested into a
temporary home.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

COLD = """
import time
t0 = time.perf_counter()
import nasdb
from nasdb.catalog import Catalog
t1 = time.perf_counter()
Catalog({home!r}).current()
t2 = time.perf_counter()
db = nasdb.connect({home!r})
v = db.lookup({space!r}, [{arch}], task={task!r}, metric="test_accuracy")
t3 = time.perf_counter()
from nasdb.manifest import sha256
key = db.resolve({space!r}, task={task!r}, metric="test_accuracy")
t4 = time.perf_counter()
sha256(db.generation.path("evaluations", key.source))  # what the first lookup checked
t5 = time.perf_counter()
print(t3 - t0, t2 - t1, t5 - t4)
"""

WRITER = """
import contextlib, io, sys
from nasdb.cli import main
home, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sys.stdin.readline()  # start together
for i in range(n):
    with contextlib.redirect_stdout(io.StringIO()):
        main(["search", "nbmacro", "--budget", "20", "--seed", str(seed * 1000 + i),
              "--home", home], standalone_mode=False)
"""


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def commit_latency(home: Path, repeat: int) -> None:
    import pyarrow as pa

    from nasdb.catalog import Catalog
    from nasdb.schema import RUNS

    catalog = Catalog(home)
    empty = pa.Table.from_pylist([], schema=RUNS)
    start = time.perf_counter()
    catalog.write_run(empty, "bench-first")
    first = time.perf_counter() - start
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        catalog.write_run(empty, f"bench-{i}")
        times.append(time.perf_counter() - start)
    gen = catalog.current()
    emit(
        bench="commit_latency",
        what="one stored run: new file, manifest (fsync, rename), nasdb.duckdb, collection",
        first_commit_s=round(first, 4),
        median_s=round(statistics.median(times), 4),
        files=len(gen.entries),
        manifest_bytes=(home / "manifest.json").stat().st_size,
        generation=gen.number,
    )


def cold_start(home: Path, space: str, arch: int, task: str, repeat: int) -> None:
    code = COLD.format(home=str(home), space=space, arch=arch, task=task)
    inner, manifest, sha = [], [], []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
        inner.append(float(out[0]))
        manifest.append(float(out[1]))
        sha.append(float(out[2]))
    emit(
        bench="cold_start",
        space=space,
        first_lookup_s=round(statistics.median(inner), 4),
        manifest_read_s=round(statistics.median(manifest), 5),
        source_sha256_s=round(statistics.median(sha), 4),
        goal_s=0.25,
    )


def concurrent_writes(home: Path, writers: int, runs_each: int) -> None:
    from nasdb import connect

    before = len(connect(home).generation.stems("runs"))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(home), str(w), str(runs_each)],
            stdin=subprocess.PIPE,
            text=True,
        )
        for w in range(writers)
    ]
    time.sleep(3)  # let every writer import nasdb before the clock starts
    start = time.perf_counter()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.close()
    assert all(p.wait() == 0 for p in procs)
    seconds = time.perf_counter() - start
    stored = len(connect(home).generation.stems("runs")) - before
    emit(
        bench="concurrent_writes",
        writers=writers,
        runs=stored,
        lost=writers * runs_each - stored,
        seconds=round(seconds, 3),
        runs_per_s=round(stored / seconds, 2),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--catalog", default=None, help="Copy this catalog instead of ingesting.")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--runs-each", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nasdb-bench-catalog-") as tmp:
        home = Path(tmp) / "home"
        if args.catalog:
            shutil.copytree(args.catalog, home)
        else:
            from nasdb.catalog import Catalog

            Catalog(home).ingest(["nb201_nats", "nb101_freerea", "nbmacro"], args.source)
        commit_latency(home, args.repeat)
        cold_start(home, "nb201", 6111, "cifar10", args.repeat)
        cold_start(home, "nb101", 0, "cifar10", args.repeat)
        concurrent_writes(home, args.writers, args.runs_each)


if __name__ == "__main__":
    main()
