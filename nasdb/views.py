"""SQL views over the catalog's Parquet files: the long tables and one wide view per space.

A wide view has one row per (architecture, task) and one column per measured quantity.
Column names: the metric; ``_<device>`` when measured on a device; ``_e<epochs>`` when
below the highest fidelity the space has for it; ``_<source>`` when a lower-priority
source holds the same quantity (the unsuffixed column is the preferred source).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from nasdb.schema import ARCHITECTURES, EVALUATIONS, SOURCES

_DUCK_TYPES = {"string": "VARCHAR", "int64": "BIGINT", "int32": "INTEGER", "double": "DOUBLE"}


def _duck_type(t) -> str:
    import pyarrow as pa

    if pa.types.is_list(t):
        return _duck_type(t.value_type) + "[]"
    if pa.types.is_struct(t):
        return "STRUCT(" + ", ".join(f"{f.name} {_duck_type(f.type)}" for f in t) + ")"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ"
    return _DUCK_TYPES[str(t)]


def _files_sql(files: list[Path], schema) -> str:
    if files:
        listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        return f"SELECT * FROM read_parquet([{listed}])"
    cols = ", ".join(f"CAST(NULL AS {_duck_type(f.type)}) AS {f.name}" for f in schema)
    return f"SELECT {cols} LIMIT 0"


def _lit(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def _is(column: str, value) -> str:
    return f"{column} IS NULL" if value is None else f"{column} = {_lit(value)}"


def _ident(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def statements(catalog) -> list[str]:
    import duckdb

    from nasdb import spaces

    out = [
        "CREATE OR REPLACE VIEW evaluations AS "
        + _files_sql(catalog.files("evaluations"), EVALUATIONS),
        f"CREATE OR REPLACE VIEW sources AS {_files_sql(catalog.files('sources'), SOURCES)}",
        "CREATE OR REPLACE VIEW architectures_base AS "
        + _files_sql(catalog.files("architectures"), ARCHITECTURES),
    ]
    present = [p.stem for p in catalog.files("architectures")]
    refs = ", ".join(f"({_lit(s)}, {_lit(spaces.get(s).reference_task)})" for s in present)
    refs = refs or "(NULL, NULL)"
    out.append(
        "CREATE OR REPLACE VIEW architectures AS "
        "SELECT a.*, p.params, p.flops FROM architectures_base a LEFT JOIN ("
        " SELECT e.space, e.arch_index,"
        " min(e.value) FILTER (WHERE e.metric = 'params') AS params,"
        " min(e.value) FILTER (WHERE e.metric = 'flops') AS flops"
        f" FROM evaluations e JOIN (VALUES {refs}) r(space, task)"
        " ON e.space = r.space AND e.task = r.task"
        " WHERE e.metric IN ('params', 'flops') GROUP BY e.space, e.arch_index"
        ") p ON a.space = p.space AND a.arch_index = p.arch_index"
    )
    if not present:
        return out
    con = duckdb.connect()
    for stmt in out[:2]:
        con.execute(stmt)
    combos = con.execute(
        "SELECT space, metric, device, fidelity, source, bool_or(seed IS NULL) "
        "FROM evaluations GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    con.close()
    for space in present:
        out.append(_wide_view(space, [c[1:] for c in combos if c[0] == space]))
    return out


def _priority(source: str) -> int:
    from nasdb import loaders

    try:
        return loaders.get(source).SOURCE.priority
    except Exception:  # a source written by an older version: lowest priority
        return -1


def _wide_view(space: str, combos: list[tuple]) -> str:
    top_fidelity: dict[tuple, int] = {}
    by_quantity: dict[tuple, list] = defaultdict(list)
    for metric, device, fidelity, source, has_aggregate in combos:
        if fidelity is not None:
            key = (metric, device)
            top_fidelity[key] = max(top_fidelity.get(key, fidelity), fidelity)
        by_quantity[(metric, device, fidelity)].append((source, has_aggregate))
    columns = []
    for (metric, device, fidelity), sources in sorted(
        by_quantity.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", -(kv[0][2] or 0))
    ):
        sources.sort(key=lambda s: (-_priority(s[0]), s[0]))
        name = metric + (f"_{device}" if device else "")
        if fidelity is not None and fidelity != top_fidelity[(metric, device)]:
            name += f"_e{fidelity}"
        for rank, (source, has_aggregate) in enumerate(sources):
            col = _ident(name + (f"_{source}" if rank else ""))
            cond = " AND ".join(
                [
                    f"metric = {_lit(metric)}",
                    _is("device", device),
                    _is("fidelity", fidelity),
                    f"source = {_lit(source)}",
                    *(["seed IS NULL"] if has_aggregate else []),
                ]
            )
            columns.append(f'avg(e.value) FILTER (WHERE {cond}) AS "{col}"')
    return (
        f'CREATE OR REPLACE VIEW "{_ident(space)}" AS SELECT e.arch_id, e.arch_index, '
        "a.encoding, a.iso_id, e.task, "
        + ", ".join(columns)
        + " FROM evaluations e JOIN architectures_base a"
        " ON a.space = e.space AND a.arch_index = e.arch_index"
        f" WHERE e.space = {_lit(space)} GROUP BY e.arch_id, e.arch_index, a.encoding,"
        " a.iso_id, e.task"
    )
