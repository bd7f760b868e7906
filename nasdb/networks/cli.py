"""``nasdb task`` and ``nasdb train``: register a dataset once, train one architecture."""

from __future__ import annotations

import json
from pathlib import Path

import click

home_option = click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Catalog directory (default: $NASDB_HOME or the user data dir).",
)


@click.group()
def task() -> None:
    """User tasks: datasets registered for training."""


@task.command(name="add")
@click.argument("name")
@click.option("--space", required=True, help="Search space the task trains (nb201, nb101, ...).")
@click.option("--data", required=True, help="Dataset directory, or a packaged one: digits.")
@click.option("--classes", type=int, default=None, help="Expected class count (checked).")
@home_option
def task_add(name: str, space: str, data: str, classes: int | None, home: Path | None) -> None:
    """Register NAME: the dataset is read and checked once, then recorded in the catalog."""
    from dataclasses import asdict

    from nasdb.networks import tasks

    click.echo(json.dumps(asdict(tasks.add(name, space, data, classes, home))))


@task.command(name="list")
@home_option
def task_list(home: Path | None) -> None:
    """Registered tasks, one JSON object a line."""
    from dataclasses import asdict

    from nasdb.networks import tasks

    for t in tasks.load(home).values():
        click.echo(json.dumps(asdict(t)))


@click.command()
@click.argument("space")
@click.argument("arch")
@click.option("--task", "task_name", required=True, help="A task registered with nasdb task add.")
@click.option("--recipe", default=None, help="Published recipe name or a recipe .json file.")
@click.option("--epochs", type=int, default=None, help="Train this many epochs (a fidelity).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default=None, help="cpu, cuda, cuda:1 (default: cuda if present).")
@click.option("--threads", type=int, default=1, show_default=True, help="CPU threads.")
@home_option
def train(space, arch, task_name, recipe, epochs, seed, device, threads, home) -> None:
    """Train one architecture and print the result (metrics and provenance) as JSON."""
    from nasdb import spaces
    from nasdb.networks import recipes, tasks, training

    t = tasks.get(task_name, home)
    if t.space != space:
        raise tasks.TaskError(f"task {task_name!r} belongs to space {t.space!r}, not {space!r}")
    r = recipes.get(recipe or space, epochs)
    index = spaces.get(space).index(arch)
    result = training.train(space, index, t, r, seed, device=device, threads=threads, home=home)
    click.echo(json.dumps(result.to_dict()))
