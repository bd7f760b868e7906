"""The ``nasdb`` command. User mistakes end in one error line and exit status 2."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from nasdb.errors import NasdbError
from nasdb.output import FORMATS, write


class _Group(click.Group):
    """Turns every NasdbError into one line on stderr instead of a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except NasdbError as exc:
            click.echo(f"nasdb: error: {exc}", err=True)
            ctx.exit(2)


home_option = click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Catalog directory (default: $NASDB_HOME or the user data dir).",
)


@click.group(cls=_Group)
@click.version_option(package_name="nasdb")
def main() -> None:
    """nasdb: neural-architecture-search benchmark results, queryable with SQL."""


def _expand(names: tuple[str, ...]) -> list[str]:
    from nasdb import loaders

    out: list[str] = []
    for name in names:
        if name in loaders.REGISTRY:
            picked = [name]
        else:
            picked = [n for n in loaders.bundled() if name in ("all", loaders.get(n).SOURCE.space)]
            if not picked:
                loaders.get(name)  # raises the error that lists what exists
        out += [n for n in picked if n not in out]
    return out


@main.command()
@click.argument("names", nargs=-1, required=True)
@click.option(
    "--source",
    "source",
    type=click.Path(path_type=Path),
    default=None,
    help="Data root laid out like ../shared/data, or one source's own directory.",
)
@home_option
def ingest(names: tuple[str, ...], source: Path | None, home: Path | None) -> None:
    """Ingest sources: a source name, a space name (all its sources) or 'all'."""
    from tqdm import tqdm

    from nasdb.catalog import Catalog

    todo = _expand(names)
    with tqdm(total=len(todo), desc="reading", unit="source", file=sys.stderr) as bar:

        def step(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update(1)

        done = Catalog(home).ingest(todo, source, progress=step)
    for item in done:
        click.echo(f"{item.name}: {item.rows:,} rows in {item.seconds:.2f} s")


@main.command(name="list")
@home_option
def list_(home: Path | None) -> None:
    """Sources in the catalog with their rows and licences."""
    from nasdb.db import connect

    db = connect(home)
    rows = db.sql("SELECT name, space, rows, licence, upstream FROM sources ORDER BY name")
    write(rows, "table", None)


@main.command()
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
@home_option
def sql(query: str, fmt: str, output: Path | None, home: Path | None) -> None:
    """Run a SQL query over the catalog's views."""
    from nasdb.db import connect

    write(connect(home).sql(query), fmt, output)


@main.command()
@click.argument("space")
@click.argument("arch")
@home_option
def info(space: str, arch: str, home: Path | None) -> None:
    """Everything the catalog knows about one architecture."""
    from nasdb.db import connect

    db = connect(home)
    described, rel = db.info(space, arch)
    for k, v in described.items():
        click.echo(f"{k}: {v}")
    write(rel, "table", None)


@main.command()
@home_option
def quickstart(home: Path | None) -> None:
    """Build a catalog from the data inside installed packages and answer a few questions."""
    from nasdb.quickstart import run

    run(home, click.echo)
