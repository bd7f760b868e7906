"""NASLib's NAS-Bench-Suite-Zero sample on NAS-Bench-101: 11 proxies and val accuracy.

``zc_nasbench101.json`` maps ``nasbench101`` -> ``cifar10`` -> cell -> record. A cell key
is NASLib's 56-tuple written as text: the 7x7 adjacency row by row, then one op code per
vertex (0 input, 1 output, 2 maxpool3x3, 3 conv1x1, 4 conv3x3). NASLib sampled raw specs,
so 500 keys prune to 292 cells (55 of them to input -> output alone).

Every key is its own measurement: the proxies come from a fresh initialisation each time
(equal keys' scores differ), and ``val_accuracy`` is one of nasbench's three 108-epoch
repeats, drawn anew per key. So no two rows are merged: a cell's k-th key in file order
is stored with ``seed`` k. Those seeds number NASLib's draws, not nasbench's repeats, and
there is no aggregate row; the wide view averages the draws.

NASLib built each network from the raw spec, before pruning: on 3 cells the keys that
prune alike still report slightly different ``params``/``flops``, from vertices nasbench
would have dropped. Values are kept as reported; ``params`` and ``flops`` are already in
millions. The file records no compute times.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from nasdb.loaders.base import (
    ZC_PROXIES_11,
    ZC_UNITS,
    Source,
    SourceData,
    concat,
    evaluations,
    is_number,
    load_json,
    percent,
    zc_score_tables,
)

from nasdb.errors import IngestError, UnknownName
from nasdb.spaces import get as get_space

FILE = "zc_nasbench101.json"
ROWS = 500
EPOCHS = 108
PROXIES = ZC_PROXIES_11
FIELDS = frozenset({"val_accuracy", *PROXIES})
UNITS = ZC_UNITS
MAX_MILLIONS = 1e5  # NB101 networks: below 50 M params and 20 GFLOPs

SOURCE = Source(
    name="nb101_naslib_zc",
    space="nb101",
    title="NASLib zero-cost proxies and val accuracy, 500 NAS-Bench-101 specs (292 cells)",
    upstream="automl/NASLib@9052f54 (benchmarks branch) naslib/data/zc_nasbench101.json",
    version="NAS-Bench-Suite-Zero sample of 500 specs, 11 proxies",
    licence="Apache-2.0",
    subdir="nb101/naslib",
    files=(FILE,),
    priority=3,
)


def _parse_key(path: Path, key: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in key.strip().strip("()").split(","))
    except ValueError:
        raise IngestError(f"{path}: key {key!r} is not a tuple of integers") from None
    if len(values) != 56:
        raise IngestError(f"{path}: key {key!r} has {len(values)} entries, expected 56")
    return values


def read(path: Path) -> SourceData:
    f = path / FILE
    data = load_json(f)
    records = data.get("nasbench101", {}).get("cifar10") if isinstance(data, dict) else None
    if not isinstance(records, dict):
        raise IngestError(f"{f}: expected an object nasbench101 -> cifar10 -> cell records")
    if len(records) != ROWS:
        raise IngestError(f"{f}: {len(records)} cells, expected {ROWS} (truncated file?)")
    space = get_space("nb101")
    n = len(records)
    index = np.empty(n, dtype=np.int64)
    values = {name: np.empty(n) for name in ("val_accuracy", *PROXIES)}
    for row, (key, rec) in enumerate(records.items()):
        try:
            index[row] = space.from_naslib_tuple(_parse_key(f, key))
        except UnknownName as exc:
            raise IngestError(f"{f}: key {key}: {exc}") from None
        if not isinstance(rec, dict) or set(rec) != FIELDS:
            got = sorted(rec) if isinstance(rec, dict) else type(rec).__name__
            raise IngestError(f"{f}: key {key}: fields {got}; expected {', '.join(sorted(FIELDS))}")
        for name, v in rec.items():
            if not is_number(v) or not np.isfinite(v):
                raise IngestError(f"{f}: key {key}: {name} is {v!r}, expected a finite number")
            values[name][row] = v
    # k-th key of a cell in file order -> seed k
    order = np.argsort(index, kind="stable")
    seed = np.empty(n, dtype=np.int64)
    starts = np.r_[True, index[order][1:] != index[order][:-1]]
    run_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    seed[order] = np.arange(n) - run_start

    for name in UNITS:
        v = values[name]
        if v.min() <= 0 or v.max() > MAX_MILLIONS:
            raise IngestError(
                f"{f}: {name} ranges {v.min():g}..{v.max():g}, expected millions (NB101)"
            )
    val = percent(values["val_accuracy"], f, "val_accuracy")
    tables = []
    for s in range(int(seed.max()) + 1):
        at = seed == s
        tables.append(
            evaluations(
                "nb101",
                SOURCE.name,
                index[at],
                val[at],
                task="cifar10",
                metric="valid_accuracy",
                unit="%",
                fidelity=EPOCHS,
                seed=s,
            )
        )
        scores = {p: values[p][at] for p in PROXIES}
        tables += zc_score_tables("nb101", SOURCE.name, index[at], scores, task="cifar10", seed=s)
    return SourceData(concat(tables), [f])
