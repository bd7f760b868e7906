"""The one contract every loader follows: upstream files in, rows of the common schema out.

A loader module defines a module-level ``SOURCE`` (a :class:`Source`) and a function
``read(path: Path) -> SourceData``. ``read`` only reads and validates; it never touches
the catalog, so a bad file can never leave a half-written catalog behind.

Conventions of the common schema (every loader keeps them):

- accuracies in percent (``unit='%'``): ``test_accuracy``, ``valid_accuracy``, ...
- ``params`` and ``flops`` in millions (``'M'``), ``latency`` in ``'ms'``, ``energy`` in ``'mJ'``
- ``fidelity`` is the number of training epochs behind a value; NULL where training does
  not enter (latency, proxies at initialisation, parameter counts)
- ``device`` names the hardware a cost was measured on; NULL for accuracies
- ``seed`` is NULL for a value aggregated over seeds (the upstream mean)
- zero-cost proxies keep their usual short names (``synflow``, ``jacov``, ``nwot``, ...)
  with ``unit=''``; the seconds they took to compute are ``<proxy>_time`` in ``'s'``
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from nasdb import spaces
from nasdb.errors import IngestError
from nasdb.schema import EVALUATIONS


@dataclass(frozen=True)
class Source:
    """Provenance and defaults of one upstream benchmark source."""

    name: str  # catalog name, e.g. "nb201_nats"
    space: str
    title: str
    upstream: str  # repository @ commit / package == version, and path
    version: str
    licence: str
    subdir: str  # where its files sit below a ``--source`` root such as ../shared/data
    files: tuple[str, ...]  # expected files relative to the source directory
    priority: int = 0  # which source answers first when several hold the same key
    package: str | None = None  # PyPI distribution whose installed files are the default


@dataclass
class SourceData:
    """What ``read`` returns: evaluation rows plus the input files they came from.

    ``architectures`` (``arch_index``, ``encoding``, ``iso_id``) is for spaces whose
    architectures only the files describe (NAS-Bench-NLP recipes): the catalog stores
    these descriptions, and the space learns them back from it.
    """

    evaluations: pa.Table
    files: list[Path] = field(default_factory=list)
    architectures: pa.Table | None = None


def require(path: Path) -> Path:
    if not path.is_file():
        raise IngestError(f"{path}: file not found")
    return path


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def evaluations(
    space: str,
    source: str,
    arch_index: np.ndarray,
    value: np.ndarray,
    *,
    task: str,
    metric: str,
    unit: str,
    fidelity: int | None = None,
    device: str | None = None,
    seed: int | None = None,
) -> pa.Table:
    """Long-form rows for one (task, metric, fidelity, device, seed) column of values.

    NaN values are dropped: a missing measurement is no row, never a NaN row.
    """
    idx = np.asarray(arch_index, dtype=np.int64)
    val = np.asarray(value, dtype=np.float64)
    if idx.shape != val.shape:
        raise ValueError("arch_index and value differ in length")
    keep = ~np.isnan(val)
    idx, val = idx[keep], val[keep]
    n = len(idx)

    def const(v, typ):
        return pa.array([v] * n, type=typ) if v is not None else pa.nulls(n, typ)

    cols = {
        "space": const(space, pa.string()),
        "arch_id": pa.array(spaces.get(space).arch_ids(idx), type=pa.string()),
        "arch_index": pa.array(idx, type=pa.int64()),
        "task": const(task, pa.string()),
        "device": const(device, pa.string()),
        "metric": const(metric, pa.string()),
        "fidelity": const(fidelity, pa.int32()),
        "seed": const(seed, pa.int32()),
        "value": pa.array(val, type=pa.float64()),
        "unit": const(unit, pa.string()),
        "source": const(source, pa.string()),
    }
    return pa.table(cols, schema=EVALUATIONS)


def concat(tables: Sequence[pa.Table]) -> pa.Table:
    if not tables:
        return EVALUATIONS.empty_table()
    return pa.concat_tables(tables).combine_chunks()


def printable(text: str, limit: int = 160) -> str:
    """First line of a library message, with control bytes escaped, for a one-line error."""
    line = (text.splitlines() or [""])[0]
    line = "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)
    return line if len(line) <= limit else line[: limit - 3] + "..."


def read_csv(path: Path, columns: Sequence[str], key_type: pa.DataType | None = None) -> pa.Table:
    """Read a CSV and insist on ``columns`` (extra columns are allowed and ignored)."""
    import pyarrow.csv as pacsv

    require(path)
    try:
        table = pacsv.read_csv(path)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise IngestError(f"{path}: not a readable CSV ({printable(str(exc))})") from None
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise IngestError(
            f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(columns)}"
        )
    return table.select(list(columns))


def numeric(table: pa.Table, column: str, path: Path) -> np.ndarray:
    """A column as float64, with a clear error when it holds something else."""
    col = table.column(column)
    if not (
        pa.types.is_integer(col.type)
        or pa.types.is_floating(col.type)
        or pa.types.is_null(col.type)
    ):
        raise IngestError(f"{path}: column {column!r} is {col.type}, expected numbers")
    return col.to_numpy(zero_copy_only=False).astype(np.float64)


def expect_rows(path: Path, n: int, expected: int, what: str = "rows") -> None:
    if n != expected:
        raise IngestError(f"{path}: {n} {what}, expected {expected} (truncated or wrong file?)")


def expect_permutation(path: Path, index: np.ndarray, size: int) -> None:
    """Every architecture of a complete table appears exactly once."""
    if len(index) != size or not np.array_equal(np.sort(index), np.arange(size)):
        raise IngestError(
            f"{path}: {len(index):,} rows, expected each of the {size:,} architectures exactly "
            "once (truncated or wrong file?)"
        )
