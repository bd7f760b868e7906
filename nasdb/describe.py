"""What exists: spaces, tasks, metrics, devices and proxies of a catalog, and the search
algorithms with their parameters, read from the catalog's keys and the optimizer classes
themselves so the listing cannot drift from the code."""

from __future__ import annotations

import inspect
import sys
import textwrap
from dataclasses import dataclass

from nasdb import optimizers, proxies, spaces
from nasdb.errors import UnknownName


@dataclass(frozen=True)
class Algorithm:
    name: str
    summary: str  # the module docstring's first clause
    parameters: tuple[tuple[str, object], ...]  # (name, default) beyond problem and seed
    objectives: str  # "1" or "2+"
    fidelities: str  # "one" or "several"


def algorithms() -> list[Algorithm]:
    """Every registered algorithm, its parameters from its constructor's signature."""
    out = []
    for name in optimizers.names():
        cls = optimizers.get(name)
        sig = inspect.signature(cls.__init__)
        params = tuple(
            (p.name, p.default)
            for p in sig.parameters.values()
            if p.name not in ("self", "problem", "seed")
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        )
        doc = (sys.modules[cls.__module__].__doc__ or cls.__doc__ or "").strip().splitlines()
        first = doc[0] if doc else ""
        summary = first.split(":")[0].rstrip(".,")
        out.append(
            Algorithm(
                name,
                summary,
                params,
                "2+" if cls.min_objectives > 1 else "1",
                "several" if cls.multi_fidelity else "one",
            )
        )
    return out


def _default(value) -> str:
    return "?" if value is inspect.Parameter.empty else repr(value)


def algorithms_help() -> str:
    """The algorithm list for ``--help``: name, what it is, KEY=default parameters."""
    lines = ["Algorithms (--param KEY=VALUE; compare: --param ALGORITHM.KEY=VALUE):"]
    for a in algorithms():
        params = " ".join(f"{k}={_default(v)}" for k, v in a.parameters) or "no parameters"
        needs = []
        if a.objectives != "1":
            needs.append("needs 2 objectives")
        if a.fidelities != "one":
            needs.append("needs several fidelities")
        extra = f" [{', '.join(needs)}]" if needs else ""
        lines.append(f"  {a.name}: {a.summary}{extra}. {params}")
    return "\n".join(lines)


def sources_help() -> str:
    """Source names ``--source`` takes, from the loader registry."""
    from nasdb import loaders

    return "Sources (--source): " + ", ".join(loaders.names())


def _keys(db, space=None, task=None):
    return [k for k in db.keys() if (space is None or k.space == space)
            and (task is None or k.task == task)]  # fmt: skip


def _fidelities(keys) -> str:
    """Epochs held, consecutive runs written as ranges: ``1-50`` or ``12, 200``."""
    fids = sorted({k.fidelity for k in keys if k.fidelity is not None})
    runs: list[list[int]] = []
    for f in fids:
        if runs and f == runs[-1][-1] + 1:
            runs[-1].append(f)
        else:
            runs.append([f])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs)


def _listing(values) -> str:
    return ",".join(sorted({v for v in values if v is not None})) or "-"


def block(title: str, fields: list[tuple[str, str]]) -> str:
    """A title line and indented ``name: value`` lines, long lists wrapped at 100 columns."""
    lines = [title]
    for name, value in fields:
        lines += textwrap.wrap(
            value or "-", 100, initial_indent=f"  {name}: ", subsequent_indent=" " * 4
        )
    return "\n".join(lines) + "\n"


def spaces_text(db) -> str:
    """Each space: its size, tasks, devices and sources."""
    out = [] if db.spaces() else ["the catalog is empty: nasdb ingest all --source DIR\n"]
    for space in db.spaces():
        keys = _keys(db, space)
        tasks = [str(t) for t in db.tasks(space) if t is not None]
        out.append(
            block(
                f"{space}: {spaces.get(space).size:,} architectures",
                [
                    ("tasks", ", ".join(tasks)),
                    ("devices", ", ".join(db.devices(space))),
                    ("sources", ", ".join(sorted({k.source for k in keys}))),
                ],
            )
        )
    return "".join(out)


def tasks_text(db, space: str) -> str:
    """Each task of ``space``: metrics, fidelities, devices and training-free proxies."""
    _check_space(db, space)
    out = []
    for task in db.tasks(space):
        keys = _keys(db, space, task)
        metrics = sorted({k.metric for k in keys})
        out.append(
            block(
                f"{space}/{task}" if task is not None else f"{space} (no task)",
                [
                    (f"metrics ({len(metrics)})", ", ".join(metrics)),
                    ("fidelities (epochs)", _fidelities(keys) or "none"),
                    ("devices", _listing(k.device for k in keys).replace(",", ", ")),
                    ("proxies", ", ".join(proxies.allowed(keys, space, task))),
                ],
            )
        )
    return "".join(out)


def metrics_table(db, space: str, task: str) -> tuple[list[str], list[tuple]]:
    """One row per metric of (space, task): unit, devices, fidelities, seeds, sources."""
    _check_space(db, space)
    tasks = db.tasks(space)
    if task not in tasks:
        listed = ", ".join(str(t) for t in tasks)
        raise UnknownName(f"{space}: no task {task!r}; available: {listed}")
    keys = _keys(db, space, task)
    rows = []
    for metric in sorted({k.metric for k in keys}):
        mk = [k for k in keys if k.metric == metric]
        rows.append(
            (
                metric,
                _listing(k.unit for k in mk) if any(k.unit for k in mk) else "",
                _devices(mk),
                _fidelities(mk) or "-",
                "yes" if any(k.seed is not None for k in mk) else "no",
                _listing(k.source for k in mk),
                "yes" if any(proxies.is_training_free(k) for k in mk) else "",
            )
        )
    return ["metric", "unit", "devices", "fidelities", "per_seed", "sources", "proxy"], rows


def _devices(keys) -> str:
    devs = sorted({k.device for k in keys if k.device is not None})
    return ",".join(devs) if len(devs) <= 3 else f"{len(devs)} devices"


def _check_space(db, space: str) -> None:
    if space not in db.spaces():
        raise UnknownName(
            f"space {space!r} is not in the catalog; it has: "
            f"{', '.join(db.spaces()) or 'nothing (run nasdb ingest)'}"
        )
