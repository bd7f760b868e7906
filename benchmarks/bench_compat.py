"""Drop-in upstream APIs (nasdb.compat): open + first query, and per-query time.

Prints one JSON object per line. Usage:

    python benchmarks/bench_compat.py [--home /path/to/catalog] [--queries 2000]

"open" runs in a fresh process per API: the seconds from ``import`` to the first answer
and the process's peak resident memory (VmHWM). "query" times each compat call over
random architectures in one warm process. The upstream figures each line stands beside,
and where they come from:

- NAS-Bench-101 ``api.NASBench(tfrecord)``: its README warns the load "will take some
  time" and needs TensorFlow; google-research/nasbench pull request #33 measures 120 s
  for the full file (30 s with that patch).
- NAS-Bench-201 v1.0 ``NASBench201API(pth)``: about 28 GB of RAM to initialise
  (D-X-Y/AutoDL-Projects issue #78, 2020-08-20) for a 2.2 GB file (NAS-Bench-201 README).
- NATS-Bench ``create(..., fast_mode=False)``: a 1 GB archive exhausts a 12 GB Colab
  machine (D-X-Y/NATS-Bench issue #25).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PEAK = "int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])"

OPEN = {
    "nasbench": (
        "from nasdb.compat.nasbench import api\n"
        "nb = api.NASBench('nasbench_only108.tfrecord')\n"
        "spec = api.ModelSpec([[0, 1, 1], [0, 0, 1], [0, 0, 0]],"
        " ['input', 'conv3x3-bn-relu', 'output'])\n"
        "nb.query(spec)['test_accuracy']\n",
        {"upstream_open_s": 120, "upstream_source": "google-research/nasbench PR #33"},
    ),
    "nats": (
        "from nasdb.compat.nats import create\n"
        "api = create(None, 'tss', fast_mode=True)\n"
        "api.get_more_info(6111, 'cifar10', hp='200', is_random=False)['test-accuracy']\n",
        {"upstream_peak_gb": 12, "upstream_source": "NATS-Bench issue #25 (fast_mode=False)"},
    ),
    "nas_201_api": (
        "from nasdb.compat.nas_201_api import NASBench201API\n"
        "api = NASBench201API(None, verbose=False)\n"
        "api.get_more_info(6111, 'cifar10', hp='200', is_random=False)['test-accuracy']\n",
        {"upstream_peak_gb": 28, "upstream_source": "AutoDL-Projects issue #78 (v1.0 file)"},
    ),
    "hw_nas_bench": (
        "from nasdb.compat.hw_nas_bench import HWNASBenchAPI\n"
        "HWNASBenchAPI(None).query_by_index(0, 'cifar10')\n",
        {},
    ),
    "nas_bench_graph": (
        "from nasdb.compat.nas_bench_graph import light_read\nlen(light_read('cora'))\n",
        {},
    ),
}


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def open_and_first_query(name: str, home: str) -> None:
    code, upstream = OPEN[name]
    script = (
        "import time\nt0 = time.perf_counter()\n"
        + code
        + f"print(time.perf_counter() - t0, {PEAK})\n"
    )
    env = {**os.environ, "NASDB_HOME": home, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    emit(
        bench="compat_open_first_query",
        api=name,
        seconds=round(float(out[0]), 3),
        peak_rss_mb=round(int(out[1]) / 1024, 1),
        **upstream,
    )


def per_query(home: str, n: int) -> None:
    from nasdb import connect
    from nasdb.compat.hw_nas_bench import HWNASBenchAPI
    from nasdb.compat.nas_201_api import NASBench201API
    from nasdb.compat.nas_bench_graph import light_read
    from nasdb.compat.nasbench import api
    from nasdb.compat.nats import create

    rng = random.Random(0)
    nb = api.NASBench(None, home=home)
    space = connect(home).space("nb101")
    specs = []
    for index in rng.sample(range(space.size), n):
        matrix, ops = space.spec(index)
        specs.append(api.ModelSpec(matrix, ops))
    nats = create(None, "tss", home=home)
    nb201 = NASBench201API(None, verbose=False, home=home)
    hw = HWNASBenchAPI(None, home=home)
    cells = [rng.randrange(15625) for _ in range(n)]
    calls = {
        "nasbench.query": (lambda s: nb.query(s), specs),
        "nasbench.ModelSpec+is_valid": (lambda s: nb.is_valid(api.ModelSpec(s.matrix, s.ops)),
                                        specs),
        "nats.get_more_info": (
            lambda i: nats.get_more_info(i, "cifar100", hp="200", is_random=False), cells),
        "nats.get_cost_info": (lambda i: nats.get_cost_info(i, "cifar10", hp="200"), cells),
        "nats.query_index_by_arch": (lambda s: nats.query_index_by_arch(s),
                                     [nats.arch(i) for i in cells]),
        "nas_201_api.get_more_info": (
            lambda i: nb201.get_more_info(i, "cifar10", hp="200", is_random=False), cells),
        "hw_nas_bench.query_by_index": (lambda i: hw.query_by_index(i, "cifar10"), cells),
    }  # fmt: skip
    for name, (call, args) in calls.items():
        call(args[0])  # columns load on first use; that is the open line's business
        t0 = time.perf_counter()
        for a in args:
            call(a)
        emit(bench="compat_query", call=name, queries=len(args),
             us_per_query=round((time.perf_counter() - t0) / len(args) * 1e6, 1))  # fmt: skip
    t0 = time.perf_counter()
    size = len(light_read("cora", home=home))
    emit(bench="compat_query", call="nas_bench_graph.light_read", cells=size,
         seconds=round(time.perf_counter() - t0, 3))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", default=os.environ.get("NASDB_HOME"))
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    if not args.home:
        parser.error("--home (or $NASDB_HOME): a catalog with the NB101 and NB201 sources")
    for name in OPEN:
        open_and_first_query(name, args.home)
    per_query(args.home, args.queries)


if __name__ == "__main__":
    main()
