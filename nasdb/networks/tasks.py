"""User tasks: a dataset registered once under a name, then trained and searched on.

The registry is ``tasks.json`` in the catalog home, one entry per task: the space, where
the data is (a directory or a packaged dataset name), its input/output shape and the
fingerprint of the data read at registration. :func:`_write_registry` is the only place
that writes it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from nasdb.catalog import resolve_home, temp_beside
from nasdb.errors import NasdbError
from nasdb.networks.shapes import BENCHMARK_TASKS, GraphTask, ImageTask

REGISTRY_FILE = "tasks.json"
SPACES = ("nb101", "nb201", "nbgraph", "nbmacro")
GRAPH_SPACES = ("nbgraph",)


class TaskError(NasdbError):
    """A task that cannot be registered or found."""


@dataclass(frozen=True)
class Task:
    name: str
    space: str
    data: str  # a directory (absolute) or a packaged dataset name
    classes: int
    fingerprint: str
    channels: int = 0  # images: channels x size x size
    size: int = 0
    features: int = 0  # graphs: features per node

    @property
    def shape(self) -> ImageTask | GraphTask:
        if self.space in GRAPH_SPACES:
            return GraphTask(self.name, self.features, self.classes)
        return ImageTask(self.name, self.channels, self.size, self.classes)


def _path(home) -> Path:
    return resolve_home(home) / REGISTRY_FILE


def load(home=None) -> dict[str, Task]:
    path = _path(home)
    if not path.is_file():
        return {}
    try:
        entries = json.loads(path.read_text())
        return {e["name"]: Task(**e) for e in entries}
    except (ValueError, TypeError, KeyError) as exc:
        raise TaskError(f"{path}: damaged task registry ({exc}); remove it and re-add") from None


def find(name: str, home=None) -> Task | None:
    return load(home).get(name)


def get(name: str, home=None) -> Task:
    task = find(name, home)
    if task is None:
        have = ", ".join(load(home)) or "none"
        raise TaskError(f"unknown task {name!r}; registered: {have} (add one: nasdb task add)")
    return task


def _write_registry(home, tasks: dict[str, Task]) -> None:
    """Replace the registry file atomically: the one write of this module."""
    path = _path(home)
    tmp = temp_beside(path)
    with open(tmp, "w") as fh:
        json.dump([asdict(t) for t in tasks.values()], fh, indent=1)
    os.replace(tmp, path)


def add(name: str, space: str, data: str, classes: int | None = None, home=None) -> Task:
    """Read the dataset once (so a bad one fails here), then record the task."""
    from nasdb.networks import datasets

    if space not in SPACES:
        raise TaskError(f"--space {space!r}: tasks can be added to {', '.join(SPACES)}")
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise TaskError(f"task name {name!r}: use letters, digits, '-' and '_'")
    if name in BENCHMARK_TASKS.get(space, {}):
        raise TaskError(f"task {name!r} is one of {space}'s benchmark tasks; pick another name")
    existing = load(home)
    if name in existing:
        raise TaskError(f"task {name!r} is already registered (data {existing[name].data})")
    packaged = datasets.PACKAGED_GRAPHS if space in GRAPH_SPACES else datasets.PACKAGED
    where = data if data in packaged else str(Path(data).expanduser().resolve())
    ds = _read(space, where)
    if classes is not None and classes != ds.classes:
        raise TaskError(f"--data {data}: {ds.classes} classes found, --classes says {classes}")
    if space in GRAPH_SPACES:
        task = Task(name, space, where, ds.classes, ds.fingerprint, features=ds.features)
    else:
        task = Task(name, space, where, ds.classes, ds.fingerprint, ds.channels, ds.size)
    existing[name] = task
    _write_registry(home, existing)
    return task


def _read(space: str, data: str):
    from nasdb.networks import datasets

    return datasets.read_graph(data) if space in GRAPH_SPACES else datasets.read(data)


def dataset(task: Task):
    """The task's data, checked against the fingerprint taken at registration."""
    ds = _read(task.space, task.data)
    if ds.fingerprint != task.fingerprint:
        raise TaskError(
            f"task {task.name!r}: the data at {task.data} changed since it was registered "
            "(fingerprint differs); register it again under a new name"
        )
    return ds
