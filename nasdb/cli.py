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
    write(db.sources().select("name, space, rows, licence, upstream"), "table", None)


@main.command()
@home_option
def verify(home: Path | None) -> None:
    """Check every catalog file against the manifest; exit status 1 if any is damaged."""
    from nasdb import integrity

    gen, problems = integrity.verify(home)
    if integrity.duckdb_problem(gen) == integrity.LAGS:
        click.echo(f"note: {integrity.DUCKDB_FILE} {integrity.LAGS}; nasdb repair rewrites it")
    for problem in problems:
        click.echo(f"damaged: {problem}")
    files = len(gen.entries)
    if problems:
        click.echo(f"generation {gen.number}: {len(problems)} of {files} files need a fix")
        sys.exit(1)
    click.echo(f"generation {gen.number}: {files} files match the manifest; derived files agree")


@main.command()
@home_option
def repair(home: Path | None) -> None:
    """Rebuild what the manifest and the remaining files allow; name what needs re-ingest."""
    from nasdb import integrity

    done, left = integrity.repair(home)
    for line in done:
        click.echo(f"repaired: {line}")
    for line in left:
        click.echo(f"still damaged: {line}")
    if left:
        sys.exit(1)
    if not done:
        click.echo("nothing to repair")


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
    import duckdb

    from nasdb.db import connect

    db = connect(home)
    db.con  # noqa: B018 (binds the views, leaving damaged files out)
    for line in db.damage:
        click.echo(f"nasdb: warning: {line} (left out of the views)", err=True)
    rel = db.sql(query)
    try:
        write(rel, fmt, output)
    except duckdb.Error as exc:  # raised while reading: a damaged file names its fix
        raise db.explain(exc) from None


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


def _benchmark(db, space, task, metrics, device, fidelity, source, proxy=None, surrogate=None,
               training: dict | None = None):  # fmt: skip
    from nasdb.db import _UNSET

    training = dict(training or {})
    if training.get("miss") not in (None, "table"):
        return db.benchmark(
            space, task, list(metrics) or "test_accuracy", fidelity=_fidelity(fidelity),
            surrogate=surrogate, miss=training["miss"], recipe=training["recipe"],
            train_seed=training["train_seed"], executor=training["executor"],
            workers=training["train_workers"], address=training["address"],
        )  # fmt: skip
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
            click.option(
                "--proxy",
                default=None,
                help="Training-free proxy optimizers may use (a zero-cost score, params, "
                "flops; 'nasdb describe SPACE' lists them per task).",
            ),
            click.option(
                "--surrogate",
                default=None,
                help="Fitted surrogate answering where the table has no value ('auto': best).",
            ),
            click.option("--budget", type=int, default=None, help="Evaluations (default 100)."),
            click.option("--seconds", type=float, default=None, help="Simulated training seconds."),
            home_option,
        ]
    ):
        fn = option(fn)
    return fn


def _training_options(fn):
    """--miss and how a miss is trained (see nasdb.train_miss)."""
    for option in reversed(
        [
            click.option(
                "--miss",
                default=None,
                help="What answers where the table has no value: table (an error), surrogate, "
                "train, or surrogate,train (train needs a task from nasdb task add).",
            ),
            click.option("--recipe", default=None, help="Training recipe on a miss "
                         "(default: the space's; a name or a .json file)."),  # fmt: skip
            click.option("--train-seed", type=int, default=0, show_default=True,
                         help="Seed of trainings on a miss."),  # fmt: skip
            click.option("--executor", type=click.Choice(["local", "ray"]), default="local",
                         show_default=True, help="Where trainings run."),  # fmt: skip
            click.option("--address", default=None, help="Ray cluster address (--executor ray)."),
            click.option("--train-workers", type=int, default=1, show_default=True,
                         help="Trainings in flight at once."),  # fmt: skip
        ]
    ):
        fn = option(fn)
    return fn


def _close_training(benches) -> None:
    """Shut trainings' executors down and say what was trained and what was read back."""
    for bench in benches:
        policy = getattr(bench.miss, "train", bench.miss)
        if getattr(policy, "trains", False):
            policy.close()
            click.echo(
                f"trained {policy.trained_here} architectures on {bench.describe()} "
                f"(source {policy.source}; nasdb sql \"SELECT * FROM trainings\")"
            )


def _axis_options(fn):
    """--x and --y of report curves."""
    fn = click.option(
        "--y",
        type=click.Choice(["regret", "best"]),
        default="regret",
        show_default=True,
        help="Curves: regret to the table's optimum on a log axis (missing hypervolume for "
        "several objectives), or the best value so far.",
    )(fn)
    return click.option(
        "--x",
        type=click.Choice(["trials", "time"]),
        default="trials",
        show_default=True,
        help="Curves over evaluations or simulated training seconds.",
    )(fn)


class _SearchCommand(click.Command):
    """A command whose help ends with the algorithms, their parameters and the sources."""

    def format_epilog(self, ctx, formatter) -> None:
        from nasdb import describe

        for block in (describe.algorithms_help(), describe.sources_help()):
            formatter.write_paragraph()
            formatter.write_text("\b\n" + block)


@main.command()
@click.argument("space", required=False)
@click.argument("task", required=False)
@home_option
def describe(space: str | None, task: str | None, home: Path | None) -> None:
    """What exists: spaces (no argument), a space's tasks, or a task's metrics; algorithms."""
    from nasdb import describe as d
    from nasdb.db import connect
    from nasdb.output import table

    db = connect(home)
    if space is None:
        click.echo(d.spaces_text(db))
        rows = [(a.name, a.summary, a.objectives, a.fidelities,
                 " ".join(f"{k}={d._default(v)}" for k, v in a.parameters))
                for a in d.algorithms()]  # fmt: skip
        cols = ["algorithm", "what", "objectives", "fidelities", "parameters"]
        click.echo(table(cols, rows), nl=False)
    elif task is None:
        click.echo(d.tasks_text(db, space), nl=False)
    else:
        click.echo(table(*d.metrics_table(db, space, task)), nl=False)


@main.command(cls=_SearchCommand)
@click.argument("space")
@click.argument("task", required=False)
@click.option("--algorithm", "-a", default="rs", show_default=True, help="Search algorithm.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--param", "params", multiple=True, help="Algorithm parameter KEY=VALUE.")
@click.option("--save/--no-save", default=True, show_default=True, help="Store in the catalog.")
@_search_options
@_training_options
def search(space, task, algorithm, seed, params, save, metrics, device, fidelity, source, proxy,
           surrogate, budget, seconds, home, **training) -> None:  # fmt: skip
    """One search run on a benchmark; the trajectory goes to the catalog's runs view."""
    import numpy as np

    from nasdb import runner
    from nasdb.db import connect

    db = connect(home)
    bench = _benchmark(db, space, task, metrics, device, fidelity, source, proxy, surrogate,
                       training)  # fmt: skip
    try:
        traj = runner.run(
            algorithm, bench, seed, _budget(budget, seconds), _parse_params(params, False)
        )
    finally:
        _close_training([bench])
    final = int(np.nanargmax(traj.best * bench.signs[0])) if np.isfinite(traj.best).any() else None
    click.echo(
        f"{algorithm} on {bench.describe()}, seed {seed}: {len(traj.arch)} trials, "
        f"{traj.time[-1]:,.0f} simulated seconds"
    )
    click.echo(f"cost per evaluation: {bench.cost_model}")
    if final is not None:
        arch = int(traj.arch[final])
        optimum = bench.optimum()
        click.echo(
            f"best {bench.metrics[0]}: {traj.best[-1]:.6g} (arch {bench.space.arch_id(arch)}, "
            f"trial {final}); "
            + (f"table optimum {optimum:.6g}" if optimum == optimum else "no published values")
        )
    if bench.n_objectives > 1:
        _search_front(bench, traj)
    if save:
        run_id = runner.new_run_id()
        db.catalog.write_run(runner.to_table([(algorithm, bench, seed, traj)], run_id), run_id)
        click.echo(f"run {run_id}: nasdb sql \"SELECT * FROM runs WHERE run_id = '{run_id}'\"")


def _search_front(bench, traj) -> None:
    """How a multi-objective run did against the table's true Pareto front."""
    from nasdb import pareto

    front = pareto.front(bench)
    target = -1 if bench.fidelity is None else bench.fidelity
    values = traj.values[traj.fidelity == target]
    click.echo(
        f"hypervolume {front.hv(values):.4f} of the true front's {front.best_hv:.4f}, "
        f"IGD {front.igd(values):.4f} (objectives normalised to the front, reference "
        f"point {pareto.REFERENCE}); {front.on_front(values)} of the "
        f"{len(front.points)} true-front points found"
    )


@main.command(cls=_SearchCommand)
@click.option(
    "--benchmark",
    "-b",
    "benches",
    multiple=True,
    required=True,
    help="SPACE/TASK, e.g. nb201/cifar10; repeat for several.",
)
@click.option("--algorithm", "-a", "algorithms", multiple=True, required=True)
@click.option("--seeds", type=int, default=10, show_default=True, help="Seeds 0..N-1.")
@click.option("--workers", type=int, default=2, show_default=True, help="Processes.")
@click.option("--param", "params", multiple=True, help="ALGORITHM.KEY=VALUE.")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write curves (PNG/SVG), final.csv and summary.txt here.",
)
@_axis_options
@_search_options
@_training_options
def compare(benches, algorithms, seeds, workers, params, report_dir, x, y, metrics, device,
            fidelity, source, proxy, surrogate, budget, seconds, home,
            **training) -> None:  # fmt: skip
    """Algorithms x benchmarks x seeds in parallel; stored in the catalog's runs view."""
    from nasdb import optimizers, runner
    from nasdb.db import connect

    for a in algorithms:
        optimizers.get(a)
    if seeds <= 0:
        raise NasdbError(f"--seeds must be positive; got {seeds}")
    plan = _budget(budget, seconds)
    db = connect(home)
    benchmarks = []
    for text in benches:
        space, _, task = text.partition("/")
        benchmarks.append(
            _benchmark(db, space, task or None, metrics, device, fidelity, source, proxy, surrogate,
                       training)  # fmt: skip
        )
    try:
        table = runner.compare(
            algorithms,
            benchmarks,
            seeds,
            plan,
            params=_parse_params(params, True),
            workers=workers,
        )
    finally:
        _close_training(benchmarks)
    run_id = table.column("run_id")[0].as_py()
    db.catalog.write_run(table, run_id)
    click.echo(f"run {run_id}: {table.num_rows:,} trials stored (view runs)")
    for bench in benchmarks:
        click.echo(f"cost per evaluation on {bench.describe()}: {bench.cost_model}")
    _report(table, report_dir, x, y)


def _report(table, report_dir: Path | None, x: str = "trials", y: str = "regret") -> None:
    from nasdb import report

    if report_dir is not None:
        for path in report.write(table, report_dir, x, y):
            click.echo(f"wrote {path}")
    click.echo(report.text(report.summary(table)), nl=False)


@main.command(name="report")
@click.argument("run_id")
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write curves (PNG/SVG), final.csv and summary.txt here.",
)
@_axis_options
@home_option
def report_(run_id: str, output: Path | None, x: str, y: str, home: Path | None) -> None:
    """Final table, ranks and significance tests of a stored run; curves with --output."""
    import pyarrow.parquet as pq

    from nasdb import report
    from nasdb.catalog import Catalog

    gen = Catalog(home).current()
    path = gen.path("runs", run_id)
    if path is None:
        have = gen.stems("runs")
        raise NasdbError(
            f"no run {run_id!r}; available: {', '.join(have[-10:]) or 'none (run nasdb compare)'}"
        )
    table = pq.read_table(path)
    if output is not None:
        for p in report.write(table, output, x, y):
            click.echo(f"wrote {p}")
    click.echo(report.text(report.summary(table)), nl=False)


from nasdb.surrogate_cli import surrogate  # noqa: E402

main.add_command(surrogate)

from nasdb.networks.cli import task, train  # noqa: E402

main.add_command(task)
main.add_command(train)
