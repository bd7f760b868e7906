"""``nasdb surrogate``: fit, evaluate, list and query surrogates stored in the catalog."""

from __future__ import annotations

from pathlib import Path

import click

from nasdb.errors import NasdbError
from nasdb.validate import Int

_home = click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Catalog directory (default: $NASDB_HOME or the user data dir).",
)


def _target(fn):
    for option in reversed(
        [
            click.option("--task", default=None, help="Task (default: the space's only one)."),
            click.option("--metric", default="test_accuracy", show_default=True),
            click.option("--device", default=None, help="Device of a latency/energy metric."),
            click.option("--fidelity", default=None, help="Epochs (default: the highest)."),
            click.option("--source", default=None, help="Source of the rows (default: preferred)."),
            click.option(
                "--features",
                type=click.Choice(["flat", "path", "flat+path", "graph"]),
                default=None,
                help="Features (default: gin graph; trees flat+path for nb101, else flat).",
            ),
            click.option(
                "--proxies",
                default="",
                help="Zero-cost proxies as extra features: a,b,c or 'auto' (all the task has).",
            ),
            click.option("--members", type=Int(1), default=None, help="Ensemble size."),
            click.option("--threads", type=Int(1), default=None, help="Threads per model."),
            _home,
        ]
    ):
        fn = option(fn)
    return fn


def _key(db, space, task, metric, device, fidelity, source):
    from nasdb.cli import _fidelity
    from nasdb.db import _UNSET

    if task is None:
        tasks = db.tasks(space)
        task = tasks[0] if len(tasks) == 1 else None
    return db.resolve(
        space,
        task=task,
        metric=metric,
        fidelity=_fidelity(fidelity),
        device=device if device is not None else _UNSET,
        source=source,
    )


def _proxies(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",") if p.strip())


def _ints(text: str, option: str) -> list[int]:
    try:
        out = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise NasdbError(f"{option}: expected comma-separated integers, got {text!r}") from None
    if not out:
        raise NasdbError(f"{option}: give at least one number")
    return out


@click.group()
def surrogate() -> None:
    """Surrogate models that predict where the tables end."""


@surrogate.command()
@click.argument("space")
@click.option("--model", type=click.Choice(["xgb", "lgb", "gin"]), default="xgb", show_default=True)
@click.option("--train-size", type=Int(1), default=None, help="Training rows (default: 80 %).")
@click.option("--split", type=click.Choice(["random", "iso"]), default="random", show_default=True)
@click.option("--seed", type=Int(0), default=0, show_default=True)
@click.option("--param", "params", multiple=True, help="Hyperparameter KEY=VALUE.")
@click.option("--name", default=None, help="Name to store it under (default: from the key).")
@click.option("--max-test", type=Int(1), default=None, help="Score on at most this many held out.")
@click.option(
    "--predictions/--no-predictions",
    default=True,
    show_default=True,
    help="Write predictions for every known architecture to the predictions view.",
)
@_target
def fit(space, model, train_size, split, seed, params, name, max_test, predictions, task, metric,
        device, fidelity, source, features, proxies, members, threads, home) -> None:  # fmt: skip
    """Fit a surrogate on the catalog's rows of one key and store it with its card."""
    from nasdb.cli import _fidelity, _parse_params
    from nasdb.db import _UNSET, connect
    from nasdb.surrogates import store

    db = connect(home)
    card = db.fit_surrogate(
        space,
        task=task,
        metric=metric,
        device=device if device is not None else _UNSET,
        fidelity=_fidelity(fidelity),
        source=source,
        model=model,
        features=features,
        proxies=_proxies(proxies),
        train_size=train_size,
        split=split,
        seed=seed,
        members=members,
        params=_parse_params(params, False),
        threads=threads,
        max_test=max_test,
        name=name,
        predictions=predictions,
    )
    name = card["name"]
    sel, held = card["selection"], card["held_out"]
    click.echo(
        f"surrogate {name}: {model} on {sel['train_rows']:,} of {sel['measured_rows']:,} rows "
        f"({', '.join(f'{k}={v}' for k, v in card['target'].items() if v is not None)}) "
        f"in {card['fit_seconds']} s"
    )
    click.echo(
        f"held out ({sel['scored_rows']:,}, {split} split): "
        + ", ".join(f"{k} {v:.4f}" for k, v in held.items())
    )
    iso = card["held_out_without_twins"]
    click.echo(
        f"held out without isomorphic twins in training ({iso['rows']:,}; "
        f"{iso['twin_fraction']:.1%} had one): "
        + ", ".join(f"{k} {iso[k]:.4f}" for k in held)
    )
    click.echo(f"card: {store.model_dir(db.catalog, name) / 'card.md'}")


@surrogate.command(name="eval")
@click.argument("space")
@click.option("--models", default="xgb,lgb", show_default=True, help="Comma-separated.")
@click.option("--train-sizes", default="100,1000,10000", show_default=True)
@click.option("--splits", default="random", show_default=True, help="random,iso")
@click.option("--seeds", type=Int(1), default=1, show_default=True, help="Seeds 0..N-1 per size.")
@click.option("--max-test", type=Int(1), default=None, help="Score on at most this many held out.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@_target
def eval_(space, models, train_sizes, splits, seeds, max_test, plot, fmt, output, task, metric,
          device, fidelity, source, features, proxies, members, threads, home) -> None:  # fmt: skip
    """Held-out R², Kendall tau, Spearman and sparse tau of models over training sizes."""
    import duckdb
    import pyarrow as pa
    from tqdm import tqdm

    from nasdb.db import connect
    from nasdb.output import write
    from nasdb.surrogates import evaluation, training
    from nasdb.surrogates import models as registry
    from nasdb.validate import output_file

    db = connect(home)
    for path, option in ((plot, "--plot"), (output, "--output")):
        if path is not None:
            output_file(path, db.home, option)
    key = _key(db, space, task, metric, device, fidelity, source)
    names = [m.strip() for m in models.split(",") if m.strip()]
    for m in names:
        registry.get(m)  # unknown or not installed: fail before any fit
    split_names = [s.strip() for s in splits.split(",") if s.strip()]
    for s in split_names:
        if s not in training.SPLITS:
            raise NasdbError(f"--splits: {s!r} is not one of {', '.join(training.SPLITS)}")
    rows = evaluation.learning_curve(
        db, key, names, _ints(train_sizes, "--train-sizes"), split_names, range(seeds),
        features=features, proxies=_proxies(proxies), members=members, max_test=max_test,
        threads=threads,
        progress=lambda it: tqdm(it, desc="fitting", unit="fit", disable=None, leave=False),
    )  # fmt: skip
    if plot is not None:
        title = f"{space} {key.describe()}"
        click.echo(f"wrote {evaluation.plot(rows, plot, title)}", err=output is None)
    write(duckdb.connect().from_arrow(pa.Table.from_pylist(rows)), fmt, output)


@surrogate.command(name="list")
@_home
def list_(home) -> None:
    """The fitted surrogates and their held-out scores."""
    from nasdb.db import connect
    from nasdb.output import write

    db = connect(home)
    write(
        db.sql(
            "SELECT name, space, task, metric, device, fidelity, model, features, split, "
            "train_rows, round(kendall_tau, 4) AS kendall_tau, "
            "round(iso_kendall_tau, 4) AS iso_kendall_tau, round(r2, 4) AS r2, "
            "round(spearman, 4) AS spearman, round(sparse_kendall_tau, 4) AS sparse_tau "
            "FROM surrogates ORDER BY name"
        ),
        "table",
        None,
    )


@surrogate.command()
@click.argument("name")
@click.argument("archs", nargs=-1, required=True)
@_home
def predict(name, archs, home) -> None:
    """Predictions (mean ± std) of a fitted surrogate for some architectures, beside the
    table's value where it has one; none for architectures the source marks infeasible."""
    import numpy as np

    from nasdb.db import connect

    db = connect(home)
    served = db.surrogate(name)
    t = served.target
    sp = db.space(t["space"])
    idx = np.array([sp.index(a) for a in archs], dtype=np.int64)
    key = db.resolve(t["space"], task=t["task"], metric=t["metric"], device=t["device"],
                     fidelity=t["fidelity"], seed=t["seed"], source=t["source"])  # fmt: skip
    infeasible = np.isin(idx, db.infeasible(key))
    mean, std = np.full(len(idx), np.nan), np.full(len(idx), np.nan)
    mean[~infeasible], std[~infeasible] = served.predict(idx[~infeasible])
    measured = db.column(key)[idx]
    rows = [
        (sp.arch_id(int(i)), None, None, "infeasible")
        if bad
        else (sp.arch_id(int(i)), float(m), float(s), None if np.isnan(v) else float(v))
        for i, m, s, v, bad in zip(idx, mean, std, measured, infeasible, strict=True)
    ]
    from nasdb.output import table

    click.echo(table(["arch_id", f"predicted_{t['metric']}", "std", "measured"], rows), nl=False)
