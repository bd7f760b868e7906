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

from nasdb import loaders
from nasdb.schema import ARCHITECTURES, EVALUATIONS, PREDICTIONS, RUNS, SOURCES, SURROGATES

_DUCK_TYPES = {
    "string": "VARCHAR",
    "int64": "BIGINT",
    "int32": "INTEGER",
    "double": "DOUBLE",
    "bool": "BOOLEAN",
}


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
        return f"SELECT * FROM read_parquet([{listed}], union_by_name = true)"
    cols = ", ".join(f"CAST(NULL AS {_duck_type(f.type)}) AS {f.name}" for f in schema)
    return f"SELECT {cols} LIMIT 0"


# Tables written one file at a time after ingest, read through a glob so that a new file
# appears without a view rebuild.
GLOBBED = {"runs": RUNS, "surrogates": SURROGATES, "predictions": PREDICTIONS}


def _glob_sql(catalog, table: str) -> str:
    if not catalog.files(table):
        return _files_sql([], GLOBBED[table])
    pattern = str(catalog.table_dir(table) / "*.parquet").replace("'", "''")
    return f"SELECT * FROM read_parquet('{pattern}', union_by_name = true)"


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


def base_statements(catalog) -> list[str]:
    """The long views: evaluations, sources, architectures, search runs, surrogates and
    their predictions."""
    from nasdb import spaces

    out = [
        "CREATE OR REPLACE VIEW evaluations AS "
        + _files_sql(catalog.files("evaluations"), EVALUATIONS),
        f"CREATE OR REPLACE VIEW sources AS {_files_sql(catalog.files('sources'), SOURCES)}",
        "CREATE OR REPLACE VIEW architectures_base AS "
        + _files_sql(catalog.files("architectures"), ARCHITECTURES),
        *(f"CREATE OR REPLACE VIEW {t} AS {_glob_sql(catalog, t)}" for t in GLOBBED),
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
    return out


def wide_selects(con) -> dict[str, str]:
    """The SELECT behind each space's wide view; ``con`` has the base views."""
    combos = con.execute(
        "SELECT space, k.metric, k.device, k.fidelity, name, bool_or(k.seed IS NULL) "
        "FROM (SELECT space, name, unnest(keys) AS k FROM sources) GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    by_space: dict[str, list[tuple]] = defaultdict(list)
    for space, *combo in combos:
        by_space[space].append(tuple(combo))
    return {space: _wide_select(space, c) for space, c in by_space.items()}


def wide_view(space: str, select_or_file: str | Path) -> str:
    """A wide view over its materialised Parquet file, or computed live from its SELECT."""
    if isinstance(select_or_file, Path):
        select_or_file = _files_sql([select_or_file], None)
    return f'CREATE OR REPLACE VIEW "{_ident(space)}" AS {select_or_file}'


def statements(catalog) -> list[str]:
    """All views, the wide ones computed live: for a catalog whose saved views are stale."""
    import duckdb

    base = base_statements(catalog)
    con = duckdb.connect()
    for stmt in base:
        con.execute(stmt)
    selects = wide_selects(con)
    con.close()
    return base + [wide_view(space, select) for space, select in selects.items()]


def _wide_select(space: str, combos: list[tuple]) -> str:
    """Name a column for every measured quantity, then pivot the long rows onto them."""
    top_fidelity: dict[tuple, int] = {}
    by_quantity: dict[tuple, list] = defaultdict(list)
    for metric, device, fidelity, source, has_aggregate in combos:
        if fidelity is not None:
            key = (metric, device)
            top_fidelity[key] = max(top_fidelity.get(key, fidelity), fidelity)
        by_quantity[(metric, device, fidelity)].append((source, has_aggregate))
    mapping, names = [], []
    for (metric, device, fidelity), sources in sorted(
        by_quantity.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", -(kv[0][2] or 0))
    ):
        sources.sort(key=lambda s: (-loaders.priority(s[0]), s[0]))
        name = metric + (f"_{device}" if device else "")
        if fidelity is not None and fidelity != top_fidelity[(metric, device)]:
            name += f"_e{fidelity}"
        for rank, (source, has_aggregate) in enumerate(sources):
            col = _ident(name + (f"_{source}" if rank else ""))
            names.append(col)
            values = (metric, device, fidelity, source, has_aggregate, col)
            mapping.append("(" + ", ".join(_lit(v) for v in values) + ")")
    long = (
        "SELECT e.arch_index, e.task, m.col, avg(e.value) AS v FROM evaluations e JOIN (VALUES "
        + ", ".join(mapping)
        + ") m(metric, device, fidelity, source, aggregate_only, col)"
        " ON e.metric = m.metric AND e.device IS NOT DISTINCT FROM m.device"
        " AND e.fidelity IS NOT DISTINCT FROM m.fidelity AND e.source = m.source"
        f" WHERE e.space = {_lit(space)} AND (e.seed IS NULL OR NOT m.aggregate_only)"
        " GROUP BY ALL"
    )
    listed = ", ".join(_lit(n) for n in names)
    return (
        "SELECT a.arch_id, w.arch_index, a.encoding, a.iso_id, w.task, "
        + ", ".join(f'w."{n}"' for n in names)
        + f" FROM (PIVOT ({long}) ON col IN ({listed}) USING first(v)"
        " GROUP BY arch_index, task) w JOIN architectures_base a"
        f" ON a.space = {_lit(space)} AND a.arch_index = w.arch_index"
        " ORDER BY w.task, w.arch_index"
    )
