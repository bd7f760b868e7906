"""The ``nasdb`` command. User mistakes end in one error line and exit status 2."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from nasdb.errors import NasdbError
from nasdb.output import FORMATS, write
from nasdb.validate import Int, Number


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


def _connect(home: Path | None):
    """The catalog a reading command reads; a directory that holds none is an error."""
    from nasdb.catalog import resolve_home
    from nasdb.db import connect
    from nasdb.validate import catalog_home

    return connect(catalog_home(resolve_home(home)))


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
        nan = f"; {item.missing:,} values missing upstream, not stored" if item.missing else ""
        click.echo(f"{item.name}: {item.rows:,} rows in {item.seconds:.2f} s{nan}")


@main.command(name="list")
@home_option
def list_(home: Path | None) -> None:
    """Sources in the catalog with their rows and licences."""
    db = _connect(home)
    rows = db.sql("SELECT name, space, rows, licence, upstream FROM sources ORDER BY name")
    write(rows, "table", None)


@main.command()
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file (outside the catalog) instead of standard output.",
)
@click.option(
    "--allow-files",
    is_flag=True,
    help="Let the query read files outside the catalog (read_csv('my.csv'), ...).",
)
@home_option
def sql(query: str, fmt: str, output: Path | None, allow_files: bool, home: Path | None) -> None:
    """Run a read-only SQL query over the catalog's views."""
    from nasdb.validate import output_file

    db = _connect(home)
    if output is not None:
        output_file(output, db.home)
    write(db.sql(query, allow_files=allow_files), fmt, output)


@main.command()
@click.argument("space")
@click.argument("arch")
@home_option
def info(space: str, arch: str, home: Path | None) -> None:
    """Everything the catalog knows about one architecture."""
    db = _connect(home)
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


def _parse_params(items: tuple[str, ...], prefixed: bool) -> dict:
    """``key=value`` (or ``algorithm.key=value``) pairs; values read as JSON where they can be."""
    import json

    out: dict = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise NasdbError(f"--param {item!r}: expected KEY=VALUE")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        if prefixed:
            alg, dot, key = key.partition(".")
            if not dot:
                raise NasdbError(f"--param {item!r}: expected ALGORITHM.KEY=VALUE")
            out.setdefault(alg, {})[key] = value
        else:
            out[key] = value
    return out


def _budget(evaluations: int | None, seconds: float | None):
    from nasdb.runner import Budget

    return Budget(evaluations if evaluations is not None or seconds else 100, seconds)


def _fidelity(value: str | None):
    from nasdb.db import _UNSET

    if value is None:
        return _UNSET
    if not value.isdigit():
        raise NasdbError(f"--fidelity must be a number of epochs; got {value!r}")
    return int(value)


def _benchmark(db, space, task, metrics, device, fidelity, source, proxy=None, surrogate=None):
    from nasdb.db import _UNSET

    return db.benchmark(
        space,
        task,
        list(metrics) or "test_accuracy",
        fidelity=_fidelity(fidelity),
        device=device if device is not None else _UNSET,
        source=source,
        proxy=proxy,
        surrogate=surrogate,
    )


def _search_options(fn):
    for option in reversed(
        [
            click.option(
                "--metric", "metrics", multiple=True, help="Objective; repeat for several."
            ),
            click.option("--device", default=None, help="Device of latency/energy objectives."),
            click.option("--fidelity", default=None, help="Target fidelity (epochs)."),
            click.option(
                "--source", default=None, help="Source of the values (default: preferred)."
            ),
            click.option("--proxy", default=None, help="Zero-cost proxy optimizers may use."),
            click.option(
                "--surrogate",
                default=None,
                help="Fitted surrogate answering where the table has no value ('auto': best).",
            ),
            click.option("--budget", type=Int(1), default=None, help="Evaluations (default 100)."),
            click.option(
                "--seconds", type=Number(0, above=True), default=None, help="Simulated seconds."
            ),
            home_option,
        ]
    ):
        fn = option(fn)
    return fn


@main.command()
@click.argument("space")
@click.argument("task", required=False)
@click.option("--algorithm", "-a", default="rs", show_default=True, help="Search algorithm.")
@click.option("--seed", type=Int(0), default=0, show_default=True)
@click.option("--param", "params", multiple=True, help="Algorithm parameter KEY=VALUE.")
@click.option("--save/--no-save", default=True, show_default=True, help="Store in the catalog.")
@_search_options
def search(space, task, algorithm, seed, params, save, metrics, device, fidelity, source, proxy,
           surrogate, budget, seconds, home) -> None:  # fmt: skip
    """One search run on a benchmark; the trajectory goes to the catalog's runs view."""
    import numpy as np

    from nasdb import runner

    db = _connect(home)
    bench = _benchmark(db, space, task, metrics, device, fidelity, source, proxy, surrogate)
    traj = runner.run(
        algorithm, bench, seed, _budget(budget, seconds), _parse_params(params, False)
    )
    final = int(np.nanargmax(traj.best * bench.signs[0])) if np.isfinite(traj.best).any() else None
    click.echo(
        f"{algorithm} on {bench.describe()}, seed {seed}: {len(traj.arch)} trials, "
        f"{traj.time[-1]:,.0f} simulated seconds"
    )
    if final is not None:
        arch = int(traj.arch[final])
        click.echo(
            f"best {bench.metrics[0]}: {traj.best[-1]:.6g} (arch {bench.space.arch_id(arch)}, "
            f"trial {final}); table optimum {bench.optimum():.6g}"
        )
    if save:
        run_id = runner.new_run_id()
        db.catalog.write_run(runner.to_table([(algorithm, bench, seed, traj)], run_id), run_id)
        click.echo(f"run {run_id}: nasdb sql \"SELECT * FROM runs WHERE run_id = '{run_id}'\"")


@main.command()
@click.option(
    "--benchmark",
    "-b",
    "benches",
    multiple=True,
    required=True,
    help="SPACE/TASK, e.g. nb201/cifar10; repeat for several.",
)
@click.option("--algorithm", "-a", "algorithms", multiple=True, required=True)
@click.option("--seeds", type=Int(1), default=10, show_default=True, help="Seeds 0..N-1.")
@click.option("--workers", type=Int(1), default=2, show_default=True, help="Processes.")
@click.option("--param", "params", multiple=True, help="ALGORITHM.KEY=VALUE.")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write curves (PNG/SVG), final.csv and summary.txt here.",
)
@_search_options
def compare(benches, algorithms, seeds, workers, params, report_dir, metrics, device, fidelity,
            source, proxy, surrogate, budget, seconds, home) -> None:  # fmt: skip
    """Algorithms x benchmarks x seeds in parallel; stored in the catalog's runs view."""
    from nasdb import optimizers, runner

    for a in algorithms:
        optimizers.get(a)
    by_algorithm = _parse_params(params, True)
    for a in by_algorithm:
        if a not in algorithms:
            raise NasdbError(
                f"--param {a}.KEY=VALUE: algorithm {a!r} is not compared; -a gave "
                f"{', '.join(algorithms)}"
            )
    if report_dir is not None:
        from nasdb.catalog import resolve_home
        from nasdb.validate import output_dir

        output_dir(report_dir, resolve_home(home), "--report")
    plan = _budget(budget, seconds)
    db = _connect(home)
    benchmarks = []
    for text in benches:
        space, _, task = text.partition("/")
        benchmarks.append(
            _benchmark(db, space, task or None, metrics, device, fidelity, source, proxy, surrogate)
        )
    table = runner.compare(
        algorithms,
        benchmarks,
        seeds,
        plan,
        params=by_algorithm,
        workers=workers,
    )
    run_id = table.column("run_id")[0].as_py()
    db.catalog.write_run(table, run_id)
    click.echo(f"run {run_id}: {table.num_rows:,} trials stored (view runs)")
    _report(table, report_dir)


def _report(table, report_dir: Path | None) -> None:
    from nasdb import report

    if report_dir is not None:
        for path in report.write(table, report_dir):
            click.echo(f"wrote {path}")
    click.echo(report.text(report.summary(table.to_pandas())), nl=False)


@main.command(name="report")
@click.argument("run_id")
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write curves (PNG/SVG), final.csv and summary.txt here.",
)
@click.option("--x", type=click.Choice(["trials", "time"]), default="trials", show_default=True)
@home_option
def report_(run_id: str, output: Path | None, x: str, home: Path | None) -> None:
    """Final table, ranks and significance tests of a stored run; curves with --output."""
    import pyarrow.parquet as pq

    from nasdb import report
    from nasdb.validate import output_dir, run_id_of

    catalog = _connect(home).catalog
    if output is not None:
        output_dir(output, catalog.home)
    path = catalog.table_dir("runs") / f"{run_id_of(run_id)}.parquet"
    if not path.is_file():
        have = [p.stem for p in catalog.files("runs")]
        raise NasdbError(
            f"no run {run_id!r}; available: {', '.join(have[-10:]) or 'none (run nasdb compare)'}"
        )
    table = pq.read_table(path)
    if output is not None:
        for p in report.write(table, output, x):
            click.echo(f"wrote {p}")
    click.echo(report.text(report.summary(table.to_pandas())), nl=False)


from nasdb.surrogate_cli import surrogate  # noqa: E402

main.add_command(surrogate)
