"""NASLib's NAS-Bench-Suite-Zero sample on NAS-Bench-301: 500 DARTS cells, 11 proxies.

``zc_nasbench301.json`` is ``{"nasbench301": {"cifar10": {key: record}}}``. The key is
NASLib's compact genotype written as a Python literal, ``"[[(0, 4), (1, 3), ...8],
[...8]]"``: the normal then the reduction cell, each 8 (input, op code) edges, two per
intermediate node, op codes in NAS-Bench-301 order (0 max_pool_3x3, 1 avg_pool_3x3,
2 skip_connect, 3 sep_conv_3x3, 4 sep_conv_5x5, 5 dil_conv_3x3, 6 dil_conv_5x5). NASLib
does not sort a node's two edges, so keys are mapped to the canonical genotype; two keys
naming one genotype are an error.

Each record holds ``val_accuracy`` (percent) and 11 plain numbers: ``flops`` and
``params`` in millions and the proxies epe_nas, fisher, grad_norm, grasp, jacov,
l2_norm, plain, snip, synflow. Unlike the NB201 file there are no compute times and no
``nwot``/``zen``.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path
from typing import Any

import numpy as np
from nasdb.loaders.base import (
    ZC_PROXIES_11,
    ZC_UNITS,
    Source,
    SourceData,
    concat,
    evaluations,
    expect_rows,
    is_number,
    load_json,
    percent,
    zc_score_tables,
)

from nasdb import spaces
from nasdb.errors import IngestError, UnknownName

FILE = "zc_nasbench301.json"
CELLS = 500
PROXIES = ZC_PROXIES_11
FIELDS = frozenset({"val_accuracy", *PROXIES})
UNITS = ZC_UNITS
# DARTS networks as NAS-Bench-301 trains them (8 cells, 32 channels) have about 0.3-2 M
# parameters and 0.1-0.4 GFLOPs; raw counts would be a million times larger.
MILLIONS_BELOW = {"params": 50.0, "flops": 5_000.0}
TRAIN_EPOCHS = 100  # NAS-Bench-301's training length on CIFAR-10

SOURCE = Source(
    name="nb301_naslib_zc",
    space="nb301",
    title="NASLib zero-cost proxies and val accuracy of 500 NAS-Bench-301 DARTS cells",
    upstream="automl/NASLib benchmarks branch @9052f54 naslib/data/zc_nasbench301.json",
    version="NAS-Bench-Suite-Zero sample of 500 cells, 11 proxies",
    licence="Apache-2.0",
    subdir="nb301/naslib",
    files=(FILE,),
)


def _cell_index(space, key: str, path: Path) -> int:
    try:
        value = ast.literal_eval(key)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        value = None
    if not isinstance(value, (list, tuple)):
        raise IngestError(
            f"{path}: key {key[:80]!r} is not a NASLib compact genotype "
            "[[(input, op), ...8], [...8]]"
        )
    try:
        return space.index(value)
    except UnknownName as exc:
        raise IngestError(f"{path}: key {key[:80]!r} is not a DARTS cell ({exc})") from None


def _is_number(value: Any) -> bool:
    return is_number(value) and math.isfinite(value)


def read(path: Path) -> SourceData:
    f = path / FILE
    data = load_json(f)
    if not (isinstance(data, dict) and list(data) == ["nasbench301"]):
        raise IngestError(f"{f}: expected one top-level key 'nasbench301'")
    tasks = data["nasbench301"]
    if not (isinstance(tasks, dict) and list(tasks) == ["cifar10"]):
        raise IngestError(f"{f}: expected 'nasbench301' to hold one dataset, 'cifar10'")
    records = tasks["cifar10"]
    if not isinstance(records, dict):
        raise IngestError(f"{f}: cifar10 holds a {type(records).__name__}, expected cell records")
    expect_rows(f, len(records), CELLS, "cells")

    space = spaces.get(SOURCE.space)
    n = len(records)
    index = np.empty(n, dtype=np.int64)
    values = {name: np.empty(n) for name in sorted(FIELDS)}
    for row, (key, rec) in enumerate(records.items()):
        index[row] = _cell_index(space, key, f)
        where = f"{f}: cell {key[:60]}"
        if not isinstance(rec, dict):
            raise IngestError(f"{where}: record is a {type(rec).__name__}, expected an object")
        if rec.keys() != FIELDS:
            extra = ", ".join(sorted(rec.keys() - FIELDS)) or "none"
            missing = ", ".join(sorted(FIELDS - rec.keys())) or "none"
            raise IngestError(
                f"{where}: unexpected field(s) {extra}, missing {missing}; "
                f"expected {', '.join(sorted(FIELDS))}"
            )
        for name, value in rec.items():
            if not _is_number(value):
                raise IngestError(f"{where}: {name} is {value!r}, expected a finite number")
            values[name][row] = value

    uniq, counts = np.unique(index, return_counts=True)
    if len(uniq) != n:
        dup = int(uniq[counts > 1][0])
        keys = [k for k, i in zip(records, index, strict=True) if i == dup]
        raise IngestError(
            f"{f}: keys {keys[0]} and {keys[1]} are one genotype (a node's edges in another "
            "order); expected each cell once"
        )
    for name, limit in MILLIONS_BELOW.items():
        v = values[name]
        if v.min() <= 0 or v.max() >= limit:
            raise IngestError(
                f"{f}: {name} ranges {v.min():g}..{v.max():g}, expected millions "
                f"(DARTS CIFAR networks: 0..{limit:g} M)"
            )

    tables = [
        evaluations(
            SOURCE.space,
            SOURCE.name,
            index,
            percent(values["val_accuracy"], f, "val_accuracy"),
            task="cifar10",
            metric="valid_accuracy",
            unit="%",
            fidelity=TRAIN_EPOCHS,
        )
    ]
    scores = {name: values[name] for name in PROXIES}
    tables += zc_score_tables(SOURCE.space, SOURCE.name, index, scores, task="cifar10")
    return SourceData(concat(tables), [f])
