"""nasdb: a database of neural-architecture-search benchmark results with a query API."""

from __future__ import annotations

__all__ = ["connect", "Database"]


def __getattr__(name: str):
    # Importing duckdb only when the query side is used keeps `nasdb --help` instant.
    if name in __all__:
        from nasdb import db

        return getattr(db, name)
    raise AttributeError(f"module 'nasdb' has no attribute {name!r}")
