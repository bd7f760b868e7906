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
    import duckdb

    from nasdb.validate import output_file

    db = _connect(home)
    if output is not None:
        output_file(output, db.home)
    rel = db.sql(query, allow_files=allow_files)  # binds the views, leaving damaged files out
    for line in db.damage:
        click.echo(f"nasdb: warning: {line} (left out of the views)", err=True)
    try:
        write(rel, fmt, output)
    except duckdb.Error as exc:  # raised while reading: a damaged file names its fix
        raise db.explain(exc) from None


def _predicted_note(bench, arch: int) -> str:
    """`` predicted (± std, surrogate name)`` where a surrogate gave ``arch``'s first
    objective rather than the table."""
    if not bench.is_predicted([arch])[0]:
        return ""
    served = getattr(bench.miss, "served", {}).get(0)
    name = f", surrogate {served.name}" if served is not None else ""
    return f" predicted (± {bench.predicted_std[arch]:.3g}{name})"


@main.command()
@click.argument("space")
@click.argument("arch")
@home_option
@click.option(
    "--plot",
    "plot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw the architecture (cell DAG or layer chain) to this .png or .svg file.",
)
def info(space: str, arch: str, home: Path | None, plot: Path | None) -> None:
    """Everything the catalog knows about one architecture."""
    if plot is not None:
        from nasdb.plot import check_target, draw

        check_target(plot)
    db = _connect(home)
    described, rel = db.info(space, arch)
    for k, v in described.items():
        click.echo(f"{k}: {v}")
    write(rel, "table", None)
    if plot is not None:
        sp = db.space(space)
        index = sp.index(arch)
        click.echo(f"drawn to {draw(sp, index, plot, f'{space} {sp.arch_id(index)}')}")


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
               protocol: dict | None = None):  # fmt: skip
    """Without --metric, the space's published protocol (NB201: valid_accuracy at 12
    epochs, reporting test_accuracy at 200; see nasdb.protocol); with --miss train, what
    the table lacks is trained (see nasdb.train_miss)."""
    from nasdb.db import _UNSET

    protocol = protocol or {}
    if protocol.get("miss") not in (None, "table"):
        return db.benchmark(
            space, task, list(metrics) or "test_accuracy", fidelity=_fidelity(fidelity),
            surrogate=surrogate, miss=protocol["miss"], recipe=protocol["recipe"],
            train_seed=protocol["train_seed"], executor=protocol["executor"],
            workers=protocol["train_workers"], address=protocol["address"],
            prior=protocol.get("prior"),
        )  # fmt: skip
    report_fidelity = protocol.get("report_fidelity")
    return db.benchmark(
        space,
        task,
        list(metrics) or None,
        fidelity=_fidelity(fidelity),
        device=device if device is not None else _UNSET,
        source=source,
        proxy=proxy,
        surrogate=surrogate,
        report_metric=protocol.get("report_metric"),
        report_fidelity=_fidelity(report_fidelity),
        search_on_test=protocol.get("search_on_test", False),
        per_seed=protocol.get("per_seed", False),
        protocol=True,
        prior=protocol.get("prior"),
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
            click.option(
                "--prior",
                default=None,
                help="Transfer prior from the other tasks/devices: zero-shot, few-shot:K or auto.",
            ),
            click.option(
                "--report-metric",
                default=None,
                help="Metric reported of the incumbent (NB201 default: test_accuracy).",
            ),
            click.option(
                "--report-fidelity", default=None, help="Its epochs (NB201 default: 200)."
            ),
            click.option(
                "--search-on-test",
                is_flag=True,
                help="Allow searching on the reported metric (selection on the test set).",
            ),
            click.option(
                "--per-seed",
                is_flag=True,
                help="Each query draws one training seed's value (where per-seed data exist).",
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


def _report_dir_option(*decls: str):
    """The folder a run's report (curves, final.csv, summary.txt) is written to."""
    return click.option(
        *decls,
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Write curves (PNG/SVG), final.csv and summary.txt here.",
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
@click.option("--seed", type=Int(0), default=0, show_default=True)
@click.option("--param", "params", multiple=True, help="Algorithm parameter KEY=VALUE.")
@click.option("--save/--no-save", default=True, show_default=True, help="Store in the catalog.")
@_search_options
@_training_options
def search(space, task, algorithm, seed, params, save, metrics, device, fidelity, source, proxy,
           surrogate, report_metric, report_fidelity, search_on_test, per_seed, prior, budget,
           seconds, home, **training) -> None:  # fmt: skip
    """One search run on a benchmark; the trajectory goes to the catalog's runs view."""
    import numpy as np

    from nasdb import runner

    db = _connect(home)
    protocol = dict(report_metric=report_metric, report_fidelity=report_fidelity,
                    search_on_test=search_on_test, per_seed=per_seed, prior=prior, **training)
    bench = _benchmark(db, space, task, metrics, device, fidelity, source, proxy, surrogate,
                       protocol)  # fmt: skip
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
            f"best {bench.metrics[0]}: {traj.best[-1]:.6g}{_predicted_note(bench, arch)} "
            f"(arch {bench.space.arch_id(arch)}, trial {final}); "
            + (f"table optimum {optimum:.6g}" if optimum == optimum else "no published values")
        )
        if bench.reported_column is not None:
            click.echo(
                f"reported {bench.reported_metric} at {bench.reported_fidelity} epochs of that "
                f"architecture: {bench.reported_column[arch]:.6g}"
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
@click.option("--seeds", type=Int(1), default=10, show_default=True, help="Seeds 0..N-1.")
@click.option("--workers", type=Int(1), default=2, show_default=True, help="Processes.")
@click.option("--param", "params", multiple=True, help="ALGORITHM.KEY=VALUE.")
@_report_dir_option("--report", "report_dir")
@_axis_options
@_search_options
@_training_options
def compare(benches, algorithms, seeds, workers, params, report_dir, x, y, metrics, device,
            fidelity, source, proxy, surrogate, report_metric, report_fidelity, search_on_test,
            per_seed, prior, budget, seconds, home, **training) -> None:  # fmt: skip
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
    protocol = dict(report_metric=report_metric, report_fidelity=report_fidelity,
                    search_on_test=search_on_test, per_seed=per_seed, prior=prior, **training)
    benchmarks = []
    for text in benches:
        space, _, task = text.partition("/")
        benchmarks.append(
            _benchmark(db, space, task or None, metrics, device, fidelity, source, proxy,
                       surrogate, protocol)  # fmt: skip
        )
    try:
        table = runner.compare(
            algorithms,
            benchmarks,
            seeds,
            plan,
            params=by_algorithm,
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
@_report_dir_option("--output")
@_axis_options
@home_option
def report_(run_id: str, output: Path | None, x: str, y: str, home: Path | None) -> None:
    """Final table, ranks and significance tests of a stored run; curves with --output."""
    import pyarrow.parquet as pq

    from nasdb import report
    from nasdb.validate import output_dir, run_id_of

    gen = _connect(home).generation
    if output is not None:
        output_dir(output, gen.home)
    path = gen.path("runs", run_id_of(run_id))
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


@main.command()
@click.argument("table", type=click.Choice(["nb201", "nats"]))
@click.option("--seeds", type=int, default=500, show_default=True, help="Runs per algorithm.")
@click.option(
    "--algorithm", "-a", "algorithms", multiple=True, help="Default: rs, rea, reinforce, bohb."
)
@click.option("--workers", type=int, default=2, show_default=True, help="Processes.")
@home_option
def reproduce(table, seeds, algorithms, workers, home) -> None:
    """The published NB201/NATS search protocol, next to the published table."""
    from nasdb import reproduce as rep
    from nasdb.db import connect

    db = connect(home)
    rows, runs = rep.run(db, table, seeds, algorithms or rep.ALGORITHMS, workers=workers)
    run_id = runs.column("run_id")[0].as_py()
    db.catalog.write_run(runs, run_id)
    click.echo(f"run {run_id}: {runs.num_rows:,} trials stored (view runs)")
    rep.text(rows, table, click.echo)


from nasdb.surrogate_cli import surrogate  # noqa: E402

main.add_command(surrogate)

from nasdb.networks.cli import task, train  # noqa: E402

main.add_command(task)
main.add_command(train)

from nasdb.transfer_cli import transfer  # noqa: E402

main.add_command(transfer)
