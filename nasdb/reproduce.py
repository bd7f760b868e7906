"""``nasdb reproduce``: the published NB201/NATS search protocol, run by nasdb and set next
to the published table (:mod:`nasdb.published`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nasdb import published, runner
from nasdb.errors import NasdbError

ALGORITHMS = ("rs", "rea", "reinforce", "bohb")
TASKS = ("cifar10", "cifar100", "imagenet16-120")


def incumbents(table) -> dict[tuple[str, str, int], int]:
    """(algorithm, task, seed) -> the architecture each run ends with (first to reach the
    best objective)."""
    df = table.select(["algorithm", "task", "seed", "trial", "arch_index", "value", "best"])
    df = df.to_pandas()
    out = {}
    for (alg, task, seed), run in df.groupby(["algorithm", "task", "seed"], sort=False):
        run = run.sort_values("trial")
        final = run["best"].iloc[-1]
        out[(alg, task, int(seed))] = int(run.loc[run["value"] == final, "arch_index"].iloc[0])
    return out


def run(
    db,
    which: str = "nb201",
    seeds: int = 100,
    algorithms=ALGORITHMS,
    tasks=TASKS,
    workers: int = 2,
    progress: bool = True,
) -> tuple[list[dict], object]:
    """Rows of (algorithm, task, nasdb mean/std, published mean/std) and the runs table.

    nb201: every search on CIFAR-10 under 12,000 s, the incumbent's 200-epoch test accuracy
    looked up on each task. nats: a search per task under that task's budget.
    """
    if which not in ("nb201", "nats"):
        raise NasdbError(f"reproduce: unknown table {which!r}; available: nb201, nats")
    if seeds <= 0:
        raise NasdbError(f"--seeds must be positive; got {seeds}")
    params = {a: published.PARAMS[a] for a in algorithms if a in published.PARAMS}
    search_tasks = ["cifar10"] if which == "nb201" else list(tasks)
    tables = []
    for task in search_tasks:
        bench = db.benchmark("nb201", task, protocol=True)
        seconds = published.NB201_SECONDS if which == "nb201" else published.NATS_SECONDS[task]
        tables.append(
            runner.compare(
                list(algorithms),
                [bench],
                seeds,
                runner.Budget(seconds=seconds),
                params=params,
                workers=workers,
                progress=progress,
            )
        )
    import pyarrow as pa

    table = pa.concat_tables(tables)
    chosen = incumbents(table)
    rows = []
    for alg in algorithms:
        for task in tasks:
            src = "cifar10" if which == "nb201" else task
            archs = np.array([chosen[(alg, src, s)] for s in range(seeds)])
            acc = db.lookup("nb201", archs, task=task, metric="test_accuracy", fidelity=200)
            pub = published.NB201_TEST.get(alg, {}).get(task) if which == "nb201" else None
            rows.append(
                {
                    "algorithm": alg,
                    "task": task,
                    "seeds": seeds,
                    "mean": float(np.mean(acc)),
                    "std": float(np.std(acc, ddof=1)) if seeds > 1 else 0.0,
                    "published_mean": pub[0] if pub else None,
                    "published_std": pub[1] if pub else None,
                }
            )
    return rows, table


def within_std(row: dict) -> bool | None:
    """nasdb's mean lies within the published standard deviation of the published mean."""
    if row["published_mean"] is None:
        return None
    return abs(row["mean"] - row["published_mean"]) <= row["published_std"]


def text(rows: list[dict], which: str, echo: Callable[[str], None]) -> None:
    from nasdb.output import table as fmt

    cols = ["algorithm", "task", "seeds", "nasdb", "published", "within_std"]
    out = []
    for r in rows:
        pub = (
            f"{r['published_mean']:.2f} ± {r['published_std']:.2f}"
            if r["published_mean"] is not None
            else "-"
        )
        ok = within_std(r)
        out.append(
            (
                r["algorithm"],
                r["task"],
                r["seeds"],
                f"{r['mean']:.2f} ± {r['std']:.2f}",
                pub,
                "-" if ok is None else ("yes" if ok else "no"),
            )
        )
    echo(fmt(cols, out).rstrip("\n"))
    if which == "nb201":
        echo(f"published: {published.NB201_CITATION}")
        echo(
            "protocol: search on CIFAR-10 valid_accuracy at 12 epochs under "
            f"{published.NB201_SECONDS:,} simulated seconds; reported: the chosen cell's "
            "test_accuracy at 200 epochs on each dataset"
        )
    else:
        echo(
            "protocol: search on each dataset's valid_accuracy at 12 epochs under "
            + ", ".join(f"{t} {s:,} s" for t, s in published.NATS_SECONDS.items())
            + "; the NATS-Bench table itself is not held in nasdb.published"
        )
