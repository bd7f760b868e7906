"""HW-NAS-Bench hardware costs of the NAS-Bench-201 cells, from the original pickle.

``HW-NAS-Bench-v1_0.pickle`` (in the root of the GATECH-EIC/HW-NAS-Bench repository) is
one pickled dict with a key per search space:

- ``nasbench201``: dataset (``cifar10``, ``cifar100``, ``ImageNet16-120``) -> a dict of
  ``<device>_<quantity>`` -> 15,625 values in the official NB201 index order (numpy
  arrays, or lists), plus ``config``: the 15,625 network configs, each with the cell's
  ``arch_str``, which pins that order and is checked against nasdb's
- ``fbnet``: per-operator lookup tables (``ConvBlock_H…_W…_Cin…`` -> cost) from which the
  HW-NAS-Bench API sums the cost of an FBNet-space network. nasdb has no FBNet space, so
  this part is skipped unread.

The rows are exactly those of :mod:`nasdb.loaders.hw_nas_bench_csv` (same tasks, devices,
metrics and units; Edge TPU ``-1`` compiler failures are rows marked infeasible), which reads a CSV
export of this same file; only the source name differs. The pickle may name only numpy
arrays, numpy scalars and plain containers.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from nasdb.loaders.base import Source, SourceData, concat, require
from nasdb.loaders.hw_nas_bench_csv import COLUMNS, DATASETS, device_tables, failed
from nasdb.loaders.nb201_results import RESULT_CLASSES, official_strings

from nasdb.errors import IngestError
from nasdb.safe_pickle import loads, read_bytes
from nasdb.spaces.nb201 import SIZE

FILE = "HW-NAS-Bench-v1_0.pickle"
SPACE_KEY = "nasbench201"
ARRAY_CLASSES = RESULT_CLASSES | {
    "numpy.core.multiarray._reconstruct",
    "numpy._core.multiarray._reconstruct",
    "numpy.ndarray",
}

SOURCE = Source(
    name="nb201_hwnas_pickle",
    space="nb201",
    title="HW-NAS-Bench latency and energy of NAS-Bench-201 cells, from the original pickle",
    upstream=f"GATECH-EIC/HW-NAS-Bench {FILE}",
    version="HW-NAS-Bench v1.0",
    licence="MIT",
    subdir="nb201/hw_nas_bench",
    files=(FILE,),
    priority=11,
    user_supplied=True,
)


def _mapping(value: Any, path: Path, where: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise IngestError(f"{path}: {where} is a {type(value).__name__}, expected a dict")
    return value


def _key(mapping: Mapping, key: str, path: Path, where: str) -> Any:
    if key not in mapping:
        raise IngestError(f"{path}: {where} has no {key!r}; expected config, {', '.join(COLUMNS)}")
    return mapping[key]


def _column(value: Any, path: Path, where: str, column: str) -> tuple[np.ndarray, np.ndarray]:
    """One metric's 15,625 values as float64 (positive), and the mask of cells upstream
    marks as failed (their value NaN)."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):  # ragged nested lists
        arr = np.array([], dtype=object)
    if arr.ndim != 1 or arr.dtype.kind not in "iuf":
        raise IngestError(f"{path}: {where} is not a flat list of numbers")
    if len(arr) != SIZE:
        raise IngestError(f"{path}: {where} has {len(arr)} values, expected {SIZE} (truncated?)")
    values = arr.astype(np.float64)
    infeasible = failed(values, column)
    bad = ~(np.isfinite(values) & (values > 0)) & ~infeasible
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise IngestError(
            f"{path}: {where}[{i}] is {float(values[i])}, expected a positive measurement"
        )
    return np.where(infeasible, np.nan, values), infeasible


def _check_configs(value: Any, path: Path, where: str, official: list[str]) -> None:
    """The configs' arch strings must follow the official NB201 index order."""
    if isinstance(value, Mapping) and len(value) == SIZE:  # keyed by index
        value = [value.get(i) for i in range(SIZE)]
    if not isinstance(value, (list, tuple)) or len(value) != SIZE:
        n = len(value) if hasattr(value, "__len__") else 0
        raise IngestError(f"{path}: {where} holds {n} configs, expected {SIZE}")
    for i, config in enumerate(value):
        arch = config.get("arch_str") if isinstance(config, Mapping) else None
        if arch != official[i]:
            raise IngestError(
                f"{path}: {where}[{i}] has arch_str {arch!r}, but the official NB201 cell {i} "
                f"is {official[i]}"
            )


def load(path: Path) -> Any:
    data = read_bytes(require(path))
    with warnings.catch_warnings():
        # numpy 2 warns on pickles from numpy 1 (module numpy.core, dtype align flag)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", np.exceptions.VisibleDeprecationWarning)
        return loads(data, path, allowed=ARRAY_CLASSES)


def read(path: Path) -> SourceData:
    f = path / FILE
    top = _mapping(load(f), f, "the pickle")
    if SPACE_KEY not in top:
        raise IngestError(f"{f}: no {SPACE_KEY!r} entry; expected the HW-NAS-Bench dict")
    bench = _mapping(top[SPACE_KEY], f, SPACE_KEY)
    official = official_strings()
    index = np.arange(SIZE)
    tables = []
    for dataset, task in DATASETS.items():
        where = f"{SPACE_KEY}/{dataset}"
        if dataset not in bench:
            expected = ", ".join(DATASETS)
            raise IngestError(f"{f}: {SPACE_KEY} has no {dataset!r}; expected {expected}")
        metrics = _mapping(bench[dataset], f, where)
        _check_configs(_key(metrics, "config", f, where), f, f"{where}/config", official)
        tables += device_tables(
            SOURCE.name,
            index,
            task,
            (_column(_key(metrics, c, f, where), f, f"{where}/{c}", c) for c in COLUMNS),
        )
    return SourceData(concat(tables), [f])
