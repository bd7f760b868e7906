"""The DuckDB connection user SQL runs on: it reads the catalog and can change nothing.

Two guards, each enough for the catalog on its own path:

- :func:`check` lets through only statements that read or define in-memory objects
  (SELECT, CREATE/INSERT of in-memory tables, PRAGMA, ...); COPY, EXPORT, ATTACH,
  INSTALL/LOAD, SET and PREPARE are refused before DuckDB runs anything.
- :func:`lock`, once the views are defined, switches DuckDB's own guards on: file access
  only below the catalog (``enable_external_access = false`` with the home as the one
  allowed directory), no extension auto-install or auto-load, no persistent secrets,
  spill files outside the catalog, and ``lock_configuration`` so none of it can be undone.

``allow_files`` keeps external access on, for queries that read the user's own files
(``read_csv('my.csv')``); the statement check still refuses every writing statement.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import duckdb

from nasdb.errors import NasdbError

_T = duckdb.StatementType
READING = {
    _T.SELECT,  # also DESCRIBE, SHOW, SUMMARIZE, FROM-first, VALUES
    _T.EXPLAIN,  # its statement is checked too (EXPLAIN ANALYZE runs it)
    _T.CREATE,  # in-memory tables, views, macros
    _T.INSERT,
    _T.UPDATE,
    _T.DELETE,
    _T.DROP,
    _T.ALTER,
    _T.TRANSACTION,
    _T.PRAGMA,  # only the ones in PRAGMAS
    _T.CALL,
    _T.MULTI,  # PIVOT
}
# PRAGMAs that only describe; others run SQL of their own (IMPORT DATABASE is one).
PRAGMAS = {
    "collations", "database_list", "database_size", "functions", "metadata_info", "platform",
    "show", "show_databases", "show_tables", "show_tables_expanded", "storage_info",
    "table_info", "user_agent", "version",
}  # fmt: skip
_PRAGMA = re.compile(r"^\s*pragma\s+(\w+)", re.I)
_EXPLAIN = re.compile(r"^\s*explain\s*(\([^)]*\)\s*)?(analyze\s+)?(.*)$", re.I | re.S)


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def lock(con: duckdb.DuckDBPyConnection, home: Path, allow_files: bool):
    """Switch off, for good, every way ``con`` could write; call it once its views exist."""
    spill = Path(tempfile.gettempdir()) / f"nasdb-spill-{getattr(os, 'getuid', os.getpid)()}"
    settings = [
        f"temp_directory = {_quoted('' if _inside(spill, home) else str(spill))}",
        "allow_persistent_secrets = false",
        "autoinstall_known_extensions = false",
        "autoload_known_extensions = false",
    ]
    if not allow_files:
        dirs = {str(home), os.path.realpath(home), os.path.abspath(home)}
        listed = ", ".join(_quoted(d.rstrip("/") + "/") for d in sorted(dirs))
        settings += [f"allowed_directories = [{listed}]", "enable_external_access = false"]
    for setting in [*settings, "lock_configuration = true"]:
        con.execute(f"SET {setting}")
    return con


def _inside(path: Path, home: Path) -> bool:
    path, home = Path(os.path.realpath(path)), Path(os.path.realpath(home))
    return path == home or home in path.parents or path in home.parents


def check(query: str, con: duckdb.DuckDBPyConnection) -> None:
    """Refuse ``query`` unless every statement in it only reads (see ``READING``)."""
    try:
        statements = con.extract_statements(query)
    except duckdb.Error as exc:
        raise NasdbError(f"SQL error: {str(exc).splitlines()[0]}") from None
    for stmt in statements:
        try:
            kind = stmt.type
        except ValueError:  # a statement type this duckdb module has no name for
            kind = None
        if kind == _T.EXPLAIN:
            inner = _EXPLAIN.match(stmt.query)
            if inner and inner.group(3).strip():
                check(inner.group(3), con)
                continue
        if kind == _T.PRAGMA:
            pragma = _PRAGMA.match(stmt.query)
            if pragma is None or pragma.group(1).lower() not in PRAGMAS:
                kind = None
        if kind not in READING:
            name = kind.name if kind is not None else stmt.query.split(None, 1)[0].upper()
            raise NasdbError(
                f"SQL statement {name} is not allowed: nasdb sql only reads the catalog "
                "(no COPY, EXPORT, ATTACH, INSTALL/LOAD or SET); save results with --output FILE"
            )
