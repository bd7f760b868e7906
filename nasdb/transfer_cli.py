"""``nasdb transfer``: leave-one-out evaluation of transfer priors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import click

from nasdb.errors import NasdbError
from nasdb.output import table
from nasdb.validate import Int


def _ints(text: str, option: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise NasdbError(f"{option} {text!r}: expected comma-separated integers") from None
    if not values or min(values) < 0:
        raise NasdbError(f"{option} {text!r}: expected non-negative integers")
    return values


@click.group()
def transfer() -> None:
    """Transfer priors from other tasks and devices."""


@transfer.command(name="eval")
@click.argument("space")
@click.option("--metric", default="test_accuracy", show_default=True)
@click.option("--targets", default=None, help="Targets (task, device or task/device), a,b,c.")
@click.option("--shots", default="0,5,10,20,50", show_default=True, help="Target samples k.")
@click.option("--draws", type=Int(1), default=10, show_default=True, help="Random draws per k.")
@click.option("--seeds", type=Int(1), default=50, show_default=True, help="Search seeds.")
@click.option("--budget", type=Int(1), default=100, show_default=True, help="Search evaluations.")
@click.option("--algorithm", "-a", default="rea", show_default=True)
@click.option("--no-search", is_flag=True, help="Rank correlations only.")
@click.option(
    "--protocol",
    type=click.Choice(["loo", "help"]),
    default="loo",
    show_default=True,
    help="help: HELP's NB201 latency protocol (9 source devices, 6 targets, 10 samples).",
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write rank.csv, search.csv, results.jsonl and transfer.png here.",
)
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None)
def eval_(
    space,
    metric,
    targets,
    shots,
    draws,
    seeds,
    budget,
    algorithm,
    no_search,
    protocol,
    report_dir,
    home,
) -> None:
    """Each setting of METRIC in SPACE as the target, all others as sources."""
    from nasdb import optimizers, transfer_eval
    from nasdb import transfer as tr
    from nasdb.cli import _connect
    from nasdb.validate import output_dir

    db = _connect(home)
    optimizers.get(algorithm)
    if report_dir is not None:
        output_dir(report_dir, db.home, "--report")
    if protocol == "help":
        if (space, metric) != ("nb201", "latency"):
            raise NasdbError(
                "--protocol help is HELP's NB201 setting: nasdb transfer eval nb201 "
                "--metric latency --protocol help"
            )
        rank, search = transfer_eval.help_rows(db, draws), []
    else:
        every = tr.settings(db, space, metric) if space in db.spaces() else []
        if not every:
            tr.build(db, space, metric=metric)  # raises the error naming what exists
        chosen = every
        if targets:
            wanted = targets.split(",")
            chosen = [s for s in every if any(s.matches(w) for w in wanted)]
            if not chosen:
                listed = ", ".join(s.describe() for s in every)
                raise NasdbError(f"--targets {targets!r}: none of {space} {metric}'s: {listed}")
        rank = transfer_eval.rank_rows(db, space, metric, chosen, _ints(shots, "--shots"), draws)
        search = (
            []
            if no_search
            else transfer_eval.search_rows(db, space, metric, chosen, algorithm, seeds, budget)
        )
    for rows in (rank, search):
        if rows:
            click.echo(table(list(rows[0]), [list(r.values()) for r in rows]))
    if search:
        with_prior = [r["evals_to_top1_median"] for r in search if r["prior"] != "none"]
        without = [r["evals_to_top1_median"] for r in search if r["prior"] == "none"]
        import numpy as np

        click.echo(
            f"median over targets of evaluations to the top 1 %: {np.median(without):g} "
            f"without the prior, {np.median(with_prior):g} with it"
        )
    if report_dir is not None:
        report_dir.mkdir(parents=True, exist_ok=True)
        for name, rows in (("rank.csv", rank), ("search.csv", search)):
            if rows:
                with open(report_dir / name, "w", newline="") as fh:
                    writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
                    writer.writeheader()
                    writer.writerows(rows)
        with open(report_dir / "results.jsonl", "w") as fh:
            for row in rank + search:
                fh.write(
                    json.dumps({"bench": "transfer", "space": space, "metric": metric, **row})
                    + "\n"
                )
        transfer_eval.plot(rank if protocol == "loo" else [], search, report_dir / "transfer.png")
        click.echo(f"wrote {report_dir}")
