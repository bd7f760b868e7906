"""NAS-Bench-101 speed and memory: enumeration, ingest per source, cold start, lookups.

Prints one JSON object per line. Usage:

    python benchmarks/bench_nb101.py [--source ../shared/data] [--repeat 5]

The enumeration runs cold, without a cache; everything after it reads the cache it wrote,
in a private ``NASDB_CACHE``. Cold starts run in fresh processes with every NB101 source
of the data root ingested; "all of NB101 open" means the test, validation, parameter and
energy columns are all loaded before the peak RSS is read.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench_foundation import PEAK, cold, emit

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("nb101_freerea", "nb101_vis", "nb101_ecnas", "nb101_naslib_zc")

COLD = """
import time
t0 = time.perf_counter()
import nasdb
db = nasdb.connect({home!r})
v = db.lookup("nb101", "02e5a0247bbdcf2860b7e96f74961594", metric="test_accuracy", fidelity=108)
t1 = time.perf_counter()
for kw in (
    {{"metric": "valid_accuracy", "fidelity": 108, "source": "nb101_vis"}},
    {{"metric": "params"}},
    {{"metric": "total_energy", "seed": 0}},
    {{"metric": "train_time", "device": "tpu_v2"}},
):
    db.column(db.resolve("nb101", **kw))
import nasdb.spaces
nasdb.spaces.get("nb101").encodings(list(range(1000)))
print(t1 - t0, {peak})
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nasdb-bench-nb101-"))
    os.environ["NASDB_CACHE"] = str(work / "cache")
    home = work / "home"

    from nasdb import spaces
    from nasdb.catalog import Catalog
    from nasdb.spaces import nb101_cells

    start = time.perf_counter()
    cells = nb101_cells.enumerate_cells()
    emit(
        what="enumeration_cold_s",
        value=round(time.perf_counter() - start, 2),
        cells=len(cells.hashes),
        cores=os.cpu_count(),
    )
    cells.save(work / "cache" / nb101_cells.CACHE_FILE)
    loads = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        nb101_cells.Cells.load(work / "cache" / nb101_cells.CACHE_FILE)
        loads.append(time.perf_counter() - start)
    emit(what="cell_cache_load_s", value=round(statistics.median(loads), 4))

    import numpy as np

    space = spaces.get("nb101")
    start = time.perf_counter()
    space.architectures(np.arange(space.size))
    emit(what="architectures_all_rows_s", value=round(time.perf_counter() - start, 2))

    from nasdb import loaders
    from nasdb.catalog import source_dir

    catalog = Catalog(home)
    for name in SOURCES:
        module = loaders.get(name)
        start = time.perf_counter()
        module.read(source_dir(module.SOURCE, args.source))
        read_s = round(time.perf_counter() - start, 2)
        start = time.perf_counter()
        (done,) = catalog.ingest([name], args.source)
        emit(
            what="ingest_s",
            source=name,
            rows=done.rows,
            read_s=read_s,
            note="value adds writing Parquet and rebuilding the materialised views",
            value=round(time.perf_counter() - start, 2),
        )

    inner, wall, rss = cold(COLD.format(home=str(home), peak=PEAK), args.repeat)
    emit(
        what="cold_first_answer_s",
        value=round(inner, 3),
        wall_incl_interpreter_s=round(wall, 3),
        peak_rss_mb_all_nb101_open=round(rss, 1),
        goal_s=0.5,
        goal_mb=300,
    )

    import nasdb

    db = nasdb.connect(home)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, space.size, 100_000)
    db.lookup("nb101", idx[:10], metric="test_accuracy", fidelity=108)
    start = time.perf_counter()
    db.lookup("nb101", idx, metric="test_accuracy", fidelity=108)
    seconds = time.perf_counter() - start
    emit(what="batch_lookup_indices_per_s", value=round(len(idx) / seconds))
    hashes = space.arch_ids(idx[:20_000])
    start = time.perf_counter()
    db.lookup("nb101", hashes, metric="test_accuracy", fidelity=108)
    emit(what="batch_lookup_hashes_per_s", value=round(20_000 / (time.perf_counter() - start)))
    specs = [space.spec(int(i)) for i in idx[:2_000]]
    start = time.perf_counter()
    db.lookup("nb101", specs, metric="test_accuracy", fidelity=108)
    emit(
        what="batch_lookup_adjacency_ops_per_s", value=round(2_000 / (time.perf_counter() - start))
    )


if __name__ == "__main__":
    main()
