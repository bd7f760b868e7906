"""NB201 cell keys as upstream files write them: op-tuple strings and arch strings.

Several sources key a column by NASLib op tuple (``"(4, 3, 3, 0, 0, 0)"``) or by arch
string; this module turns a whole column into official indices at once and names the file,
column and first bad value when a key is not a cell. The mapping itself is the space's.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nasdb import spaces
from nasdb.errors import IngestError
from nasdb.spaces.nb201 import SIZE

EXAMPLES = {
    "tuple": "an op tuple like '(4, 0, 3, 1, 4, 3)'",
    "string": "an arch string like '|nor_conv_3x3~0|+|none~0|skip_connect~1|+|...~2|'",
}


def _indices(
    values: pa.Array | pa.ChunkedArray, found: np.ndarray, path: Path, column: str, kind: str
) -> np.ndarray:
    """``found`` (-1 where a value names no cell), after naming the first such value."""
    bad = found < 0
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise IngestError(
            f"{path}: {column} {values[row].as_py()!r} (row {row + 1}) is not a cell; "
            f"expected {EXAMPLES[kind]}"
        )
    return found


def _require_strings(
    values: pa.Array | pa.ChunkedArray, path: Path, column: str, kind: str
) -> None:
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        raise IngestError(f"{path}: column {column!r} is {values.type}, expected {EXAMPLES[kind]}")


def tuple_indices(values: pa.Array | pa.ChunkedArray, path: Path, column: str) -> np.ndarray:
    """Official NB201 index of each op-tuple string in a column; a bad key names the file."""
    _require_strings(values, path, column, "tuple")
    found = spaces.get("nb201").indices_of_tuple_strings(values)
    return _indices(values, found, path, column, "tuple")


@functools.cache
def _arch_strings() -> pa.Array:
    """Every cell's arch string, at the position of its official index."""
    space = spaces.get("nb201")
    return pa.array([space.string(i) for i in range(SIZE)])


def string_indices(values: pa.Array | pa.ChunkedArray, path: Path, column: str) -> np.ndarray:
    """Official NB201 index of each arch string in a column; a bad key names the file."""
    _require_strings(values, path, column, "string")
    found = pc.fill_null(pc.index_in(values, value_set=_arch_strings()), -1)
    return _indices(
        values, found.to_numpy(zero_copy_only=False).astype(np.int64), path, column, "string"
    )


def check_pair(
    path: Path, first: tuple[str, Any, np.ndarray], second: tuple[str, Any, np.ndarray]
) -> None:
    """A file that names each cell twice, ``(column, values, indices)``, must agree with itself."""
    (name_a, values_a, index_a), (name_b, values_b, index_b) = first, second
    bad = np.flatnonzero(index_a != index_b)
    if len(bad):
        row = int(bad[0])
        raise IngestError(
            f"{path}: row {row + 1}: {name_a} {values_a[row].as_py()!r} is cell {index_a[row]} "
            f"but {name_b} {values_b[row].as_py()!r} is cell {index_b[row]}; "
            f"{len(bad)} row(s) disagree"
        )
