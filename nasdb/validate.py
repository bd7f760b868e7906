"""Checks on what users and upstream files hand to nasdb, each failing with one clear line.

- :func:`evaluations`: every ingested value lies in its metric's physical range (accuracies
  0-100 %, costs >= 0, perplexity >= 1, ...; :func:`value_range`), before anything is written.
- :func:`integer`, :func:`number`, :func:`optimizer_params`: numeric options and algorithm
  parameters of the right type and range.
- :func:`output_file`, :func:`output_dir`: results never written into the catalog, and a
  missing directory named as such.
- :func:`catalog_home`: a reading command on a directory that holds no catalog says so
  instead of answering from nothing.
"""

from __future__ import annotations

import inspect
import math
import numbers
import os
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from types import UnionType

import click

from nasdb.errors import IngestError, NasdbError

INF = math.inf


@dataclass(frozen=True)
class Range:
    """Closed interval of physically possible values; ``finite``: +-inf is refused too."""

    low: float = -INF
    high: float = INF
    finite: bool = True

    def __and__(self, other: Range) -> Range:
        return Range(
            max(self.low, other.low), min(self.high, other.high), self.finite or other.finite
        )

    def describe(self) -> str:
        if self.low == -INF and self.high == INF:
            return "any finite number" if self.finite else "any number"
        if self.high == INF:
            return f">= {self.low:g}"
        if self.low == -INF:
            return f"<= {self.high:g}"
        return f"in [{self.low:g}, {self.high:g}]"


UNBOUNDED = Range(finite=False)  # scores such as zero-cost proxies (naswot is -inf upstream)
NON_NEGATIVE = Range(0.0)

# Units of quantities that cannot be negative: times, costs, sizes, rates, losses.
UNIT_RANGES: dict[str, Range] = {
    "%": Range(0.0, 100.0),
    "ms": NON_NEGATIVE,
    "s": NON_NEGATIVE,
    "mJ": NON_NEGATIVE,
    "W": NON_NEGATIVE,
    "g": NON_NEGATIVE,
    "kWh": NON_NEGATIVE,
    "M": NON_NEGATIVE,
    "img/s": NON_NEGATIVE,
    "nats": NON_NEGATIVE,
    "": UNBOUNDED,  # scores, features and ratios unless a name rule below says more
}

# Rules by metric name, intersected with the unit's range.
NAME_RANGES: tuple[tuple[str, Range], ...] = (
    ("perplexity", Range(1.0)),  # exp(cross-entropy) >= 1
    ("loss", NON_NEGATIVE),  # cross-entropy, whatever its unit
    ("accuracy", Range(0.0, 100.0)),
    ("_std", NON_NEGATIVE),
    ("_time", NON_NEGATIVE),
    ("latency", NON_NEGATIVE),
    ("energy", NON_NEGATIVE),
    ("power", NON_NEGATIVE),
    ("throughput", NON_NEGATIVE),
    ("params", NON_NEGATIVE),
    ("flops", NON_NEGATIVE),
    ("run_ok", Range(0.0, 1.0)),  # a flag
)


def value_range(metric: str, unit: str) -> Range:
    """The range a value of ``metric`` measured in ``unit`` must lie in."""
    if unit not in UNIT_RANGES:
        raise IngestError(
            f"metric {metric!r} has unit {unit!r}, which has no range in nasdb.validate "
            f"(known units: {', '.join(repr(u) for u in UNIT_RANGES)})"
        )
    out = UNIT_RANGES[unit]
    for part, rng in NAME_RANGES:
        if part in metric:
            out = out & rng
    return out


MISSING_KEY = b"nasdb.missing"  # schema metadata: values a loader left out as NaN


def missing(table) -> int:
    """How many NaN values the loader left out of ``table`` (see ``loaders.base``)."""
    meta = table.schema.metadata or {}
    return int(meta.get(MISSING_KEY, b"0"))


def evaluations(source, data, directory: Path) -> int:
    """Refuse a source with a value outside its metric's range or a NaN row, naming the
    file, the row and the value; return how many NaN values its loader left out."""
    import numpy as np
    import pyarrow.compute as pc

    ev = data.evaluations
    if not ev.num_rows:
        return missing(ev)
    metric = pc.dictionary_encode(ev.column("metric")).combine_chunks()
    unit = pc.dictionary_encode(pc.fill_null(ev.column("unit"), "")).combine_chunks()
    n_units = len(unit.dictionary)
    code = metric.indices.to_numpy() * n_units + unit.indices.to_numpy()
    low = np.full(len(metric.dictionary) * n_units, -np.inf)
    high = np.full_like(low, np.inf)
    finite = np.zeros(len(low), dtype=bool)
    ranges = {}
    for c in np.unique(code).tolist():
        m, u = metric.dictionary[c // n_units].as_py(), unit.dictionary[c % n_units].as_py()
        rng = ranges[c] = value_range(m, u)
        low[c], high[c], finite[c] = rng.low, rng.high, rng.finite
    value = ev.column("value").to_numpy(zero_copy_only=False).astype(np.float64)  # NULL: NaN
    nan = np.isnan(value)
    if "infeasible" in ev.column_names:  # rows a source marks as impossible hold no value
        marked = pc.fill_null(ev.column("infeasible"), False).to_numpy(zero_copy_only=False)
        nan &= ~marked.astype(bool)
    bad = nan | (value < low[code]) | (value > high[code]) | (finite[code] & np.isinf(value))
    if not bad.any():
        return missing(ev)
    rows = np.flatnonzero(bad)
    i = int(rows[0])
    row = ev.slice(i, 1).to_pylist()[0]
    keys = ("arch_id", "task", "device", "fidelity", "seed")
    where = ", ".join(f"{k}={row[k]}" for k in keys if row[k] is not None)
    files = data.files[0] if len(data.files) == 1 else f"{directory} ({len(data.files)} files)"
    more = f" (and {len(rows) - 1:,} more)" if len(rows) > 1 else ""
    if nan[i]:
        problem = "is NaN; a missing value must be left out, not stored"
    else:
        unit_text = f" {row['unit']}" if row["unit"] else ""
        problem = (
            f"= {row['value']!r}{unit_text} is outside its range: {row['metric']} must be "
            f"{ranges[int(code[i])].describe()}"
        )
    raise IngestError(
        f"{files}: {source.name} row {i:,} ({where}): {row['metric']} {problem}{more}"
    )


# options and parameters -----------------------------------------------------------------------
def integer(value, name: str, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int in [low, high], or one error line naming ``name``."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if ok and ((low is not None and value < low) or (high is not None and value > high)):
        ok = False
    if not ok:
        kind = (
            "a positive integer" if (low, high) == (1, None) else f"an integer{_bounds(low, high)}"
        )
        raise NasdbError(f"{name} must be {kind}; got {value!r}")
    return int(value)


def number(
    value, name: str, low: float | None = None, high: float | None = None, above: bool = False
) -> float:
    """``value`` as a finite float in [low, high] (``above``: strictly above ``low``)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = ok and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if above else value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        if above and low == 0 and high is None:
            kind = "a positive finite number"
        else:
            bounds = f" above {low:g}" if above and low is not None else _bounds(low, high)
            kind = f"a finite number{bounds}"
        raise NasdbError(f"{name} must be {kind}; got {value!r}")
    return float(value)


def _bounds(low, high) -> str:
    if low is not None and high is not None:
        return f" from {low} to {high}"
    if low is not None:
        return f" >= {low}"
    if high is not None:
        return f" <= {high}"
    return ""


def optimizer_params(cls: type, params: dict, algorithm: str) -> None:
    """Check an algorithm's ``--param`` values against its constructor before it runs.

    Names must be parameters of ``cls``; values must have the annotated type (an int
    parameter refuses 2.5, a bool one refuses "yes"); ``cls.bounds`` maps a parameter to
    ``(low, high)`` or ``(low, high, True)`` for a low bound that is excluded; a bound may
    name another parameter (``sample_size`` <= ``population_size``).
    """
    sig = inspect.signature(cls.__init__)
    hints = typing.get_type_hints(cls.__init__)
    accepted = [p for p in sig.parameters if p not in ("self", "problem", "seed")]
    values = {p: sig.parameters[p].default for p in accepted}
    for key, value in params.items():
        if key not in values:
            raise NasdbError(
                f"{algorithm}: unknown parameter {key!r}; it takes: "
                f"{', '.join(accepted) or 'no parameters'}"
            )
        values[key] = _typed(value, hints.get(key), f"{algorithm} parameter {key}")
    for key, (low, high, *strict) in getattr(cls, "bounds", {}).items():
        value = values.get(key)
        if value is None:
            continue
        low, high = (values[b] if isinstance(b, str) else b for b in (low, high))
        name = f"{algorithm} parameter {key}"
        if isinstance(value, int) and not strict:
            integer(value, name, low, high)
        else:
            number(value, name, low, high, above=bool(strict))


def _typed(value, hint, name: str):
    """``value`` checked against a constructor annotation (int, float, bool, str, Optional)."""
    args = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, UnionType) else ()
    if args:
        if value is None and type(None) in args:
            return None
        hint = next((a for a in args if a is not type(None)), None)
    if hint is bool:
        if not isinstance(value, bool):
            raise NasdbError(f"{name} must be true or false; got {value!r}")
    elif hint is int:
        integer(value, name)
    elif hint is float:
        return number(value, name)
    elif hint is str and not isinstance(value, str):
        raise NasdbError(f"{name} must be a string; got {value!r}")
    return value


# paths ------------------------------------------------------------------------------------------
def _inside(path: Path, home: Path) -> bool:
    path, home = Path(os.path.realpath(path)), Path(os.path.realpath(home))
    return path == home or home in path.parents


def output_file(path: Path, home: Path, option: str = "--output") -> Path:
    """A file results may be written to: outside the catalog, in an existing directory."""
    if _inside(path, home):
        raise NasdbError(f"{option} {path}: inside the catalog {home}; write results outside it")
    if not path.parent.is_dir():
        raise NasdbError(f"{option} {path}: directory {path.parent} does not exist")
    if path.is_dir():
        raise NasdbError(f"{option} {path}: is a directory; expected a file name")
    return path


def output_dir(path: Path, home: Path, option: str = "--output") -> Path:
    """A directory report files may be written to: outside the catalog; its parent must
    exist (the directory itself is created)."""
    if _inside(path, home):
        raise NasdbError(f"{option} {path}: inside the catalog {home}; write reports outside it")
    if path.exists() and not path.is_dir():
        raise NasdbError(f"{option} {path}: is a file; expected a directory")
    if not path.exists() and not path.parent.is_dir():
        raise NasdbError(f"{option} {path}: directory {path.parent} does not exist")
    return path


def is_catalog(home: Path) -> bool:
    """A manifest, the sources folder of a catalog from before manifests, or a registry of
    tasks added with ``nasdb task add`` (a home whose rows are all still to be trained)."""
    from nasdb.manifest import MANIFEST
    from nasdb.networks.tasks import REGISTRY_FILE

    return any((home / name).exists() for name in (MANIFEST, "sources", REGISTRY_FILE))


def catalog_home(home: Path) -> Path:
    """``home`` if it holds a catalog; reading a directory that does not is a mistake."""
    if not is_catalog(home):
        raise NasdbError(
            f"not a nasdb catalog: {home} (run nasdb ingest SOURCE --source DATA --home {home})"
        )
    return home


# click option types ----------------------------------------------------------------------------
class Int(click.ParamType):
    """An integer option in [low, high]; anything else is one ``nasdb: error:`` line."""

    name = "integer"

    def __init__(self, low: int | None = None, high: int | None = None):
        self.low, self.high = low, high

    def convert(self, value, param, ctx):
        option = param.opts[0] if param is not None else "value"
        if isinstance(value, str):
            try:
                value = int(value.strip().replace("_", ""))
            except ValueError:
                pass
        return integer(value, option, self.low, self.high)


class Number(click.ParamType):
    """A finite number option above ``low`` (strictly, with ``above``)."""

    name = "number"

    def __init__(self, low: float | None = None, above: bool = False):
        self.low, self.above = low, above

    def convert(self, value, param, ctx):
        option = param.opts[0] if param is not None else "value"
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass
        return number(value, option, self.low, above=self.above)


def run_id_of(text: str) -> str:
    """A stored run's id, as ``nasdb search``/``compare`` print it; a path is a mistake."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", text) or text.endswith(".parquet"):
        raise NasdbError(
            f"nasdb report takes a run id such as 20250101-120000-1a2b3c, not a path: {text!r} "
            '(ids: nasdb sql "SELECT DISTINCT run_id FROM runs")'
        )
    return text
