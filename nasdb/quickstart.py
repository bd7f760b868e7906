"""A first catalog from the benchmarks that ship inside PyPI packages: no network, no files."""

from __future__ import annotations

import os
from collections.abc import Callable

from nasdb import loaders
from nasdb.catalog import Catalog
from nasdb.output import table

QUESTIONS = (
    (
        "Best NAS-Bench-Graph architecture per dataset (test accuracy, %)",
        "SELECT task, count(*) AS archs, round(max(test_accuracy), 2) AS best, "
        "arg_max(encoding, test_accuracy) AS architecture "
        "FROM nbgraph GROUP BY task ORDER BY task",
    ),
    (
        "NB201 cells that lose least accuracy on analog hardware (CIFAR-10, %)",
        "SELECT arch_id, encoding, round(baseline_accuracy, 2) AS digital, "
        "round(analog_accuracy, 2) AS analog FROM nb201 "
        "WHERE analog_accuracy IS NOT NULL ORDER BY analog_accuracy DESC LIMIT 5",
    ),
)


def package_sources() -> list[str]:
    """Benchmarks read from installed packages; computed sources (``*_networks``, a minute
    of building NB101 networks) are ingested by name only, as ``ingest all`` leaves them."""
    return [n for n in loaders.bundled() if loaders.get(n).SOURCE.package]


def run(home: str | os.PathLike | None, echo: Callable[[str], None]) -> None:
    from nasdb.db import connect

    catalog = Catalog(home)
    for item in catalog.ingest(package_sources()):
        echo(f"ingested {item.name}: {item.rows:,} rows in {item.seconds:.2f} s")
    echo(f"catalog: {catalog.home}")
    db = connect(catalog.home)
    for title, query in QUESTIONS:
        rel = db.sql(query)
        echo(f'\n{title}\n  nasdb sql "{query}"')
        echo(table(rel.columns, rel.fetchall()))
    best = db.sql(
        "SELECT arch_index FROM nbgraph WHERE task = 'cora' ORDER BY test_accuracy DESC LIMIT 1"
    ).fetchall()[0][0]
    value = db.lookup("nbgraph", [best], task="cora", metric="test_accuracy")[0]
    echo(
        f'Python: nasdb.connect().lookup("nbgraph", [{best}], task="cora", '
        f'metric="test_accuracy") -> {value:.2f}'
    )
