"""NAS-Bench-Macro: all 6,561 macro networks on CIFAR-10, one JSON file.

``nas-bench-macro_cifar10.json`` maps each 8-digit key to ``test_acc`` (three
independent trainings), their ``mean_acc`` and population ``std``, ``params`` (a count)
and ``flops`` (a count of multiply-accumulates of convolutions and the classifier).

Facts behind the numbers (``train/train.py`` and ``train/collect_benchmark.py`` of
xiusu/NAS-Bench-Macro): every network is trained for 50 epochs with SGD and a cosine
schedule, three times with seeds 0, 1 and 2; each ``test_acc`` is the best CIFAR-10 test
accuracy over the 50 epochs. One network per isomorphism class was trained and its result
copied to every key of the class (see :mod:`nasdb.spaces.nbmacro`); the loader checks that
the copies agree, and that ``mean_acc`` and ``std`` are the mean and standard deviation of
the three runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from nasdb.loaders.base import Source, SourceData, concat, evaluations, printable, require

from nasdb import spaces
from nasdb.errors import IngestError
from nasdb.spaces.nbmacro import LAYERS, SIZE

SPACE = "nbmacro"
FILE = "nas-bench-macro_cifar10.json"
TASK = "cifar10"
EPOCHS = 50
SEEDS = (0, 1, 2)
FIELDS = ("test_acc", "mean_acc", "std", "params", "flops")

SOURCE = Source(
    name="nbmacro",
    space=SPACE,
    title="NAS-Bench-Macro: CIFAR-10 test accuracy (3 seeds), parameters and FLOPs of 6,561 "
    "macro networks",
    upstream="xiusu/NAS-Bench-Macro@61a2bfc nas-bench-macro_cifar10.json",
    version="NAS-Bench-Macro (CVPR 2021)",
    licence="Apache-2.0",
    subdir="nasbench_macro",
    files=(FILE,),
)


def _load(path: Path) -> dict:
    require(path)
    try:
        bench = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError too
        raise IngestError(f"{path}: not valid JSON ({printable(str(exc))})") from None
    if not isinstance(bench, dict):
        raise IngestError(
            f"{path}: holds a {type(bench).__name__}, expected an object keyed by arch"
        )
    return bench


def _index(path: Path, keys: list) -> np.ndarray:
    bad = next(
        (k for k in keys if not (len(k) == LAYERS and set(k) <= set("012") and k.isascii())),
        None,
    )
    if bad is not None:
        raise IngestError(f"{path}: key {bad!r} is not an 8-digit architecture like '02012100'")
    digits = np.frombuffer("".join(keys).encode("ascii"), dtype=np.uint8) - ord("0")
    index = digits.reshape(-1, LAYERS).astype(np.int64) @ 3 ** np.arange(LAYERS - 1, -1, -1)
    if len(index) != SIZE:
        raise IngestError(
            f"{path}: {len(index):,} architectures, expected all {SIZE:,} "
            "(truncated or wrong file?)"
        )
    return index


def _values(path: Path, bench: dict) -> np.ndarray:
    """(n, 7) float64: three runs, mean, std, params, flops; only plain numbers allowed."""
    rows = []
    for key, entry in bench.items():
        if not isinstance(entry, dict) or set(entry) != set(FIELDS):
            got = ", ".join(sorted(entry)) if isinstance(entry, dict) else type(entry).__name__
            raise IngestError(f"{path}: {key} holds {got}; expected {', '.join(FIELDS)}")
        runs = entry["test_acc"]
        if not isinstance(runs, list) or len(runs) != len(SEEDS):
            raise IngestError(f"{path}: {key} test_acc is {runs!r}, expected a list of 3 numbers")
        row = [*runs, *(entry[f] for f in FIELDS[1:])]
        if any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in row):
            raise IngestError(f"{path}: {key} holds {row!r}; expected numbers only")
        rows.append(row)
    try:
        return np.array(rows, dtype=np.float64).reshape(len(rows), len(SEEDS) + 4)
    except OverflowError:
        raise IngestError(f"{path}: a number is too large for a float") from None


def _check(path: Path, keys: list, values: np.ndarray) -> None:
    runs, mean, std = values[:, :3], values[:, 3], values[:, 4]
    costs = values[:, 5:]

    def fail(mask: np.ndarray, what: str) -> None:
        if mask.any():
            row = int(np.flatnonzero(mask)[0])
            raise IngestError(f"{path}: {keys[row]} {what} ({values[row].tolist()})")

    fail(~np.isfinite(values).all(axis=1), "holds a value that is not finite")
    fail(((runs < 0) | (runs > 100)).any(axis=1), "test_acc outside 0-100 (expected percent)")
    fail(~np.isclose(mean, runs.mean(axis=1), rtol=0, atol=1e-6), "mean_acc is not the mean")
    fail(~np.isclose(std, runs.std(axis=1), rtol=0, atol=1e-6), "std is not the runs' std")
    fail((costs <= 0).any(axis=1), "params and flops must be positive counts")
    if runs.max() <= 1:
        raise IngestError(f"{path}: test accuracies are at most 1, expected percent")


def _check_copies(path: Path, index: np.ndarray, values: np.ndarray) -> None:
    """Every key must carry exactly the numbers of the network upstream trained for it."""
    space = spaces.get(SPACE)
    by_index = np.empty_like(values)
    by_index[index] = values
    trained = space.iso_index[index]
    differ = (by_index[trained] != values).any(axis=1)
    if differ.any():
        row = int(np.flatnonzero(differ)[0])
        raise IngestError(
            f"{path}: {space.arch_id(int(index[row]))} differs from "
            f"{space.iso_ids[index[row]]}, the network trained for it (isomorphic copies must "
            "be equal)"
        )


def read(path: Path) -> SourceData:
    f = path / FILE
    bench = _load(f)
    keys = list(bench)
    index = _index(f, keys)  # distinct: an object's keys are, and keys map 1:1 to indices
    values = _values(f, bench)
    _check(f, keys, values)
    _check_copies(f, index, values)
    key = dict(task=TASK, unit="%", fidelity=EPOCHS)
    tables = [
        evaluations(SPACE, SOURCE.name, index, values[:, s], metric="test_accuracy", seed=s, **key)
        for s in SEEDS
    ]
    tables.append(
        evaluations(SPACE, SOURCE.name, index, values[:, 3], metric="test_accuracy", **key)
    )
    tables.append(
        evaluations(SPACE, SOURCE.name, index, values[:, 4], metric="test_accuracy_std", **key)
    )
    for col, metric in ((5, "params"), (6, "flops")):
        tables.append(
            evaluations(
                SPACE, SOURCE.name, index, values[:, col] / 1e6, task=TASK, metric=metric, unit="M"
            )
        )
    return SourceData(concat(tables), [f])
