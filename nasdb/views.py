"""SQL views over the catalog's Parquet files: the long tables and one wide view per space.

A wide view has one row per (architecture, task) and one column per measured quantity.
Column names, decided per task: the metric; ``_<device>`` when measured on a device;
``_e<epochs>`` when not the fidelity ``lookup`` reads by default for that task (its
highest); ``_<source>`` when not the source ``lookup`` prefers at that fidelity. So the
unsuffixed column of a task always holds what ``lookup`` answers with its defaults.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from nasdb import loaders
from nasdb.schema import (
    ARCHITECTURES,
    EVALUATIONS,
    PREDICTIONS,
    RUNS,
    SOURCES,
    SURROGATES,
    TRAININGS,
)  # fmt: skip

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


# Tables written one file at a time after ingest; their files may differ in schema
# version, so they are read by column name.
GLOBBED = {
    "runs": RUNS, "surrogates": SURROGATES, "predictions": PREDICTIONS, "trainings": TRAININGS,
}  # fmt: skip


def _glob_sql(gen, table: str) -> str:
    files = gen.files(table)
    if not files:
        return _files_sql([], GLOBBED[table])
    listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    return f"SELECT * FROM read_parquet([{listed}], union_by_name = true)"


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


def base_statements(gen) -> list[str]:
    """The long views over one generation's files (:class:`nasdb.manifest.Generation`):
    evaluations, sources, architectures, search runs, surrogates and their predictions."""
    from nasdb import spaces

    out = [
        "CREATE OR REPLACE VIEW evaluations AS "
        + _files_sql(gen.files("evaluations"), EVALUATIONS),
        f"CREATE OR REPLACE VIEW sources AS {_files_sql(gen.files('sources'), SOURCES)}",
        "CREATE OR REPLACE VIEW architectures_base AS "
        + _files_sql(gen.files("architectures"), ARCHITECTURES),
        *(f"CREATE OR REPLACE VIEW {t} AS {_glob_sql(gen, t)}" for t in GLOBBED),
    ]
    present = gen.stems("architectures")
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
        "SELECT space, k.task, k.metric, k.device, k.fidelity, name, bool_or(k.seed IS NULL) "
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


def statements(gen) -> list[str]:
    """All views of a generation, the wide ones over their materialised files."""
    base = base_statements(gen)
    return base + [wide_view(space, gen.path("wide", space)) for space in gen.stems("wide")]


def default_choice(entries) -> tuple:
    """The (fidelity, source) ``lookup`` reads for one (task, metric, device) by default.

    ``entries`` are (fidelity, source, has_aggregate): the seed aggregate where any source
    has one, then the highest fidelity, then the source of highest priority.
    """
    entries = list(entries)
    if any(agg for _, _, agg in entries):
        entries = [e for e in entries if e[2]]
    top = max((f for f, _, _ in entries if f is not None), default=None)
    return top, min((s for f, s, _ in entries if f == top), key=source_order)


def source_order(source: str) -> tuple:
    """Sort key of sources: the preferred one first."""
    return (-loaders.priority(source), source)


def _wide_select(space: str, combos: list[tuple]) -> str:
    """Name a column for every measured quantity of each task, then pivot the long rows."""
    by_quantity: dict[tuple, list] = defaultdict(list)
    for task, metric, device, fidelity, source, has_aggregate in combos:
        by_quantity[(task, metric, device)].append((fidelity, source, has_aggregate))
    mapping, names = [], {}
    for (task, metric, device), entries in sorted(
        by_quantity.items(), key=lambda kv: (kv[0][1], kv[0][2] or "", kv[0][0] or "")
    ):
        top, preferred = default_choice(entries)
        # At each fidelity the source lookup would take first names the column.
        first: dict = {}
        for fidelity, source, _ in sorted(entries, key=lambda e: (not e[2], *source_order(e[1]))):
            first.setdefault(fidelity, source)
        for fidelity, source, has_aggregate in sorted(
            entries, key=lambda e: (-(e[0] or 0), *source_order(e[1]))
        ):
            name = metric + (f"_{device}" if device else "")
            if fidelity != top:
                name += f"_e{fidelity}"
            if source != (preferred if fidelity == top else first[fidelity]):
                name += f"_{source}"
            col = _ident(name)
            names.setdefault(col, None)
            values = (task, metric, device, fidelity, source, has_aggregate, col)
            mapping.append("(" + ", ".join(_lit(v) for v in values) + ")")
    long = (
        "SELECT e.arch_index, e.task, m.col, avg(e.value) AS v FROM evaluations e JOIN (VALUES "
        + ", ".join(mapping)
        + ") m(task, metric, device, fidelity, source, aggregate_only, col)"
        " ON e.metric = m.metric AND e.task IS NOT DISTINCT FROM m.task"
        " AND e.device IS NOT DISTINCT FROM m.device"
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
