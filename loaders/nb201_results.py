"""Training results of NAS-Bench-201 / NATS-Bench cells, as the upstream API stores them.

The NB201 v1.x single file and the NATS-Bench topology archive keep, per architecture and
training schedule, the state dict of the API's ``ArchResults`` object. It is built from
plain containers only (dicts, lists, tuples, an OrderedDict here and there, floats):

- ``arch_index`` (int) and ``arch_str`` (the cell's arch string)
- ``dataset_seed``: upstream dataset name -> sorted list of the seeds trained on it
- ``all_results``: ``(dataset, seed)`` -> the state dict of one training run
  (``ResultsCount``), whose fields used here are

  - ``epochs``: length of the schedule the run was trained with
  - ``train_acc1es``, ``train_losses``: epoch number -> top-1 (%) / loss on the training set
  - ``train_times``: epoch number -> seconds, or None where upstream has no times
  - ``eval_names`` and ``eval_acc1es`` / ``eval_losses``: keyed ``'<set>@<epoch>'``
  - ``params``, ``flop``: millions of parameters / FLOPs of the network
  - ``latency``: seconds per evaluation batch, a list, or None when not measured

  and ``net_state_dict`` (None: the files read here carry no weights), ``arch_config``,
  ``seed``, ``name``, ``train_acc5es``, ``eval_times``, which are not read.

Upstream datasets and evaluation sets map onto nasdb tasks the way the upstream API's own
``(dataset, 'valid' / 'test')`` shorthand resolves them:

- ``cifar10-valid`` (trained on the train half of the CIFAR-10 training set): its
  ``x-valid`` set (the other half) is CIFAR-10's validation accuracy, task ``cifar10``;
  its ``ori-test`` (the test set) becomes task ``cifar10-valid`` ``test_*``; its training
  numbers and costs stay under task ``cifar10-valid``
- ``cifar10`` (trained on train+valid): ``ori-test`` -> ``cifar10`` ``test_*``
- ``cifar100``, ``ImageNet16-120``: ``x-valid`` -> ``valid_*``, ``x-test`` -> ``test_*``.
  Their ``ori-test`` is the union of those two equal halves (its accuracy is their mean),
  so it is not stored.

Each run gives rows at ``fidelity`` = its ``epochs`` from its last epoch: ``train_accuracy``,
``train_loss``, ``valid_*`` / ``test_*`` accuracy (%) and loss, and ``train_time`` (mean
seconds per training epoch). Rows carry the run's seed; a row with seed NULL holds the
mean over the seeds, as the upstream API averages them. Epochs before the last are not
stored: epoch 12 of the 200-epoch schedule is not the 12-epoch schedule, and the schema's
``fidelity`` names the schedule. ``params`` and ``flops`` (M) and ``latency`` (device
``gpu_bs256``, ms for one forward pass of a batch of 256 images on the GPU upstream
evaluated with, which it does not name) do not depend on the seed or schedule: one row per
task with seed and fidelity NULL, the mean over all runs. Upstream marks a missing latency
with None or a non-positive value; those give no row.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from nasdb.loaders.base import concat, evaluations

from nasdb import spaces
from nasdb.errors import IngestError
from nasdb.safe_pickle import NUMPY_SCALARS
from nasdb.spaces.nb201 import SIZE

# Names the result pickles may use: OrderedDict and sets (by their Python 2 names too, as
# pickle protocol 2 writes them), numpy scalars, and the helper protocol 2 uses for bytes.
RESULT_CLASSES = NUMPY_SCALARS | {
    "collections.OrderedDict",
    "builtins.set",
    "builtins.frozenset",
    "__builtin__.set",
    "__builtin__.frozenset",
    "_codecs.encode",
}
DATASETS = {
    "cifar10-valid": "cifar10-valid",
    "cifar10": "cifar10",
    "cifar100": "cifar100",
    "ImageNet16-120": "imagenet16-120",
}
# (upstream dataset, evaluation set) -> (task, metric prefix); None: known, not stored
EVAL_SETS: dict[tuple[str, str], tuple[str, str] | None] = {
    ("cifar10-valid", "x-valid"): ("cifar10", "valid"),
    ("cifar10-valid", "ori-test"): ("cifar10-valid", "test"),
    ("cifar10", "ori-test"): ("cifar10", "test"),
    ("cifar100", "x-valid"): ("cifar100", "valid"),
    ("cifar100", "x-test"): ("cifar100", "test"),
    ("cifar100", "ori-test"): None,
    ("ImageNet16-120", "x-valid"): ("imagenet16-120", "valid"),
    ("ImageNet16-120", "x-test"): ("imagenet16-120", "test"),
    ("ImageNet16-120", "ori-test"): None,
}
LATENCY_DEVICE = "gpu_bs256"


def official_strings() -> list[str]:
    space = spaces.get("nb201")
    return [space.string(i) for i in range(SIZE)]


def check_meta_archs(value: Any, path: Path, key: str = "meta_archs") -> list[str]:
    """The file's list of arch strings must be the official index order, all 15,625."""
    if not isinstance(value, (list, tuple)):
        raise IngestError(f"{path}: {key} is a {type(value).__name__}, expected a list")
    if len(value) != SIZE:
        raise IngestError(f"{path}: {key} lists {len(value)} architectures, expected {SIZE}")
    official = official_strings()
    if list(value) != official:
        i = next(i for i, (a, b) in enumerate(zip(value, official, strict=True)) if a != b)
        raise IngestError(
            f"{path}: {key}[{i}] is {value[i]!r}, but the official NB201 cell {i} is {official[i]}"
        )
    return official


def _number(value: Any, path: Path, where: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise IngestError(f"{path}: {where}: {what} is a {type(value).__name__}, expected a number")
    return float(value)


def _field(state: Any, key: str, path: Path, where: str) -> Any:
    if not isinstance(state, Mapping):
        raise IngestError(f"{path}: {where} is a {type(state).__name__}, expected a dict")
    if key not in state:
        raise IngestError(f"{path}: {where} has no {key!r}")
    return state[key]


def _at(container: Any, key: Any, path: Path, where: str, what: str) -> Any:
    """``container[key]`` of a per-epoch dict (or list), with a clear error when absent."""
    if isinstance(container, Mapping):
        if key in container:
            return container[key]
    elif isinstance(container, (list, tuple)) and isinstance(key, int):
        if 0 <= key < len(container):
            return container[key]
    else:
        raise IngestError(
            f"{path}: {where}: {what} is a {type(container).__name__}, expected a dict"
        )
    raise IngestError(f"{path}: {where}: {what} has no entry {key!r}")


class Rows:
    """Collects final-epoch values of many runs, then emits per-seed and mean rows.

    Plain lists inside, so that rows collected in worker processes pickle back cheaply.
    """

    def __init__(self, source: str):
        self.source = source
        # (task, metric, unit, fidelity) -> parallel lists of arch index, seed, value
        self.runs: dict[tuple, tuple[list, list, list]] = {}
        # (task, metric, unit, device) -> parallel lists of arch index, value
        self.costs: dict[tuple, tuple[list, list]] = {}

    def run(self, key: tuple, index: int, seed: int, value: float) -> None:
        idx, seeds, values = self.runs.setdefault(key, ([], [], []))
        idx.append(index)
        seeds.append(seed)
        values.append(value)

    def cost(self, key: tuple, index: int, value: float) -> None:
        idx, values = self.costs.setdefault(key, ([], []))
        idx.append(index)
        values.append(value)

    def merge(self, other: Rows) -> None:
        for key, lists in other.runs.items():
            for mine, theirs in zip(self.runs.setdefault(key, ([], [], [])), lists, strict=True):
                mine.extend(theirs)
        for key, lists in other.costs.items():
            for mine, theirs in zip(self.costs.setdefault(key, ([], [])), lists, strict=True):
                mine.extend(theirs)

    def table(self):
        tables = []
        for (task, metric, unit, fidelity), (idx, seeds, values) in sorted(self.runs.items()):
            idx, seeds, values = np.array(idx), np.array(seeds), np.array(values, dtype=float)
            common = dict(task=task, metric=metric, unit=unit, fidelity=fidelity)
            for seed in np.unique(seeds):
                pick = seeds == seed
                tables.append(
                    evaluations(
                        "nb201", self.source, idx[pick], values[pick], seed=int(seed), **common
                    )
                )
            archs, means = _means(idx, values)
            tables.append(evaluations("nb201", self.source, archs, means, **common))
        for (task, metric, unit, device), (idx, values) in sorted(
            self.costs.items(), key=lambda kv: tuple(str(k) for k in kv[0])
        ):
            archs, means = _means(np.array(idx), np.array(values, dtype=float))
            common = dict(task=task, metric=metric, unit=unit, device=device)
            tables.append(evaluations("nb201", self.source, archs, means, **common))
        return concat(tables)


def _means(idx: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    archs, inverse = np.unique(idx, return_inverse=True)
    sums = np.bincount(inverse, weights=values, minlength=len(archs))
    return archs, sums / np.bincount(inverse, minlength=len(archs))


def add_schedules(
    rows: Rows, path: Path, index: int, obj: Any, epochs_of: Mapping[str, int], official: str
) -> None:
    """Rows of one architecture: ``obj`` maps a schedule key to an ArchResults state dict."""
    where = f"architecture {index}"
    if not isinstance(obj, Mapping):
        raise IngestError(
            f"{path}: {where} holds a {type(obj).__name__}, expected a dict of schedules "
            f"({', '.join(map(repr, epochs_of))})"
        )
    if not obj:
        raise IngestError(f"{path}: {where} has no schedules; expected {list(epochs_of)}")
    for hp, state in obj.items():
        if hp not in epochs_of:
            raise IngestError(
                f"{path}: {where} has schedule {hp!r}; expected {', '.join(map(repr, epochs_of))}"
            )
        at = f"{where} schedule {hp!r}"
        stated = _field(state, "arch_index", path, at)
        if isinstance(stated, bool) or not isinstance(stated, (int, np.integer)) or stated != index:
            raise IngestError(f"{path}: {at} says arch_index {stated!r}, expected {index}")
        arch_str = _field(state, "arch_str", path, at)
        if arch_str != official:
            raise IngestError(
                f"{path}: {at} is {arch_str!r}, but the official NB201 cell {index} is {official}"
            )
        _add_arch_results(rows, path, index, state, epochs_of[hp], at)


def _add_arch_results(rows: Rows, path: Path, index: int, state: Any, epochs: int, where: str):
    """Rows of one ArchResults state dict, every run trained for ``epochs`` epochs."""
    results = _field(state, "all_results", path, where)
    if not isinstance(results, Mapping) or not results:
        raise IngestError(f"{path}: {where}: all_results is empty or not a dict")
    for key, run in results.items():
        if (
            not isinstance(key, tuple)
            or len(key) != 2
            or key[0] not in DATASETS
            or isinstance(key[1], bool)
            or not isinstance(key[1], (int, np.integer))
        ):
            raise IngestError(
                f"{path}: {where}: all_results key {key!r} is not (dataset, seed) with a "
                f"dataset among {', '.join(DATASETS)}"
            )
        _add_run(rows, path, index, key[0], int(key[1]), run, epochs, f"{where} run {key!r}")


def _add_run(rows, path, index, dataset, seed, run, epochs, where) -> None:
    stated = _field(run, "epochs", path, where)
    if stated != epochs:
        raise IngestError(f"{path}: {where} trained {stated!r} epochs, expected {epochs}")
    last = epochs - 1
    task = DATASETS[dataset]

    def record(task: str, metric: str, unit: str, value: float) -> None:
        rows.run((task, metric, unit, epochs), index, seed, value)

    accuracy = _at(_field(run, "train_acc1es", path, where), last, path, where, "train_acc1es")
    loss = _at(_field(run, "train_losses", path, where), last, path, where, "train_losses")
    record(task, "train_accuracy", "%", _accuracy(accuracy, path, where, "train accuracy"))
    record(task, "train_loss", "", _loss(loss, path, where, "train loss"))
    times = run.get("train_times")
    if times is not None:
        if not isinstance(times, Mapping):
            raise IngestError(
                f"{path}: {where}: train_times is a {type(times).__name__}, expected a dict"
            )
        if times:
            seconds = [_number(t, path, where, "a training time") for t in times.values()]
            if not all(math.isfinite(t) and t >= 0 for t in seconds):
                raise IngestError(f"{path}: {where}: train_times holds a negative or NaN time")
            record(task, "train_time", "s", math.fsum(seconds) / len(seconds))
    names = run.get("eval_names") or []
    if not isinstance(names, (list, tuple)):
        raise IngestError(f"{path}: {where}: eval_names is a {type(names).__name__}, not a list")
    accuracies = _field(run, "eval_acc1es", path, where) if names else {}
    losses = _field(run, "eval_losses", path, where) if names else {}
    for name in names:
        if (dataset, name) not in EVAL_SETS:
            raise IngestError(f"{path}: {where}: unknown evaluation set {name!r} for {dataset}")
        target = EVAL_SETS[(dataset, name)]
        if target is None:
            continue
        eval_task, prefix = target
        key = f"{name}@{last}"
        acc = _at(accuracies, key, path, where, "eval_acc1es")
        record(eval_task, f"{prefix}_accuracy", "%", _accuracy(acc, path, where, key))
        los = _at(losses, key, path, where, "eval_losses")
        record(eval_task, f"{prefix}_loss", "", _loss(los, path, where, key))
    for field, metric in (("params", "params"), ("flop", "flops")):
        value = _number(_field(run, field, path, where), path, where, field)
        if not (math.isfinite(value) and value > 0):
            raise IngestError(f"{path}: {where}: {field} is {value}, expected a positive number")
        rows.cost((task, metric, "M", None), index, value)
    latency = _latency(run.get("latency"), path, where)
    if latency is not None:
        rows.cost((task, "latency", "ms", LATENCY_DEVICE), index, latency * 1000.0)


def _accuracy(value: Any, path: Path, where: str, what: str) -> float:
    v = _number(value, path, where, what)
    if not 0.0 <= v <= 100.0:
        raise IngestError(f"{path}: {where}: {what} is {v}, expected a percentage 0..100")
    return v


def _loss(value: Any, path: Path, where: str, what: str) -> float:
    v = _number(value, path, where, what)
    if not (math.isfinite(v) and v >= 0):
        raise IngestError(f"{path}: {where}: {what} loss is {v}, expected a finite loss >= 0")
    return v


def _latency(value: Any, path: Path, where: str) -> float | None:
    """Mean seconds per batch, as upstream averages the list; None where not measured."""
    if value is None:
        return None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise IngestError(
            f"{path}: {where}: latency is a {type(value).__name__}, expected a list of seconds"
        )
    seconds = [_number(v, path, where, "a latency") for v in value]
    if any(math.isnan(s) or math.isinf(s) for s in seconds):
        raise IngestError(f"{path}: {where}: latency holds NaN or infinity")
    mean = sum(seconds) / len(seconds) if seconds else -1.0
    return mean if mean > 0 else None  # upstream reads a non-positive mean as "not measured"
