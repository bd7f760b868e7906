"""NATS-Bench topology results as cached by FreeREA: one CSV per quantity and dataset.

Each CSV is keyed by the official NAS-Bench-201 index. ``accuracies.csv`` holds the
200-epoch test accuracy averaged over seeds; the others hold parameter counts and
training-free scores with the seconds each took to compute. Upstream writes ImageNet16-120
parameter counts in units, the other datasets' in millions; nasdb stores millions.
"""

from __future__ import annotations

from pathlib import Path

from nasdb.loaders.base import (
    Source,
    SourceData,
    concat,
    evaluations,
    expect_permutation,
    numeric,
    read_csv,
)

from nasdb.errors import IngestError
from nasdb.spaces.nb201 import SIZE

DATASETS = {"cifar10": "cifar10", "cifar100": "cifar100", "ImageNet16-120": "imagenet16-120"}
# file stem -> (metric, unit, fidelity, has a compute-time column)
QUANTITIES = {
    "accuracies": ("test_accuracy", "accuracy", "%", 200, False),
    "params": ("params", "params", "M", None, False),
    "synflow": ("synflow", "synflow", "", None, True),
    "logsynflow": ("logsynflow", "logsynflow", "", None, True),
    "naswot": ("naswot", "naswot", "", None, True),
    "nregions": ("nregions", "nregions", "", None, True),
}
TIME_COLUMN = "time=[s]"
# The ImageNet16-120 parameter file counts single parameters; the others count millions.
PARAMS_SCALE = {"cifar10": 1.0, "cifar100": 1.0, "ImageNet16-120": 1e-6}

SOURCE = Source(
    name="nb201_nats",
    space="nb201",
    title="NATS-Bench topology (NAS-Bench-201) accuracies, params and training-free scores",
    upstream="NiccoloCavagnero/FreeREA@9c2a726 cached_metrics/nats",
    version="NATS-Bench tss, 200 epochs",
    licence="MIT",
    subdir="nb201/freerea_nats",
    files=tuple(f"{d}/{q}.csv" for d in DATASETS for q in QUANTITIES),
    priority=10,
)


def read(path: Path) -> SourceData:
    tables, files = [], []
    for folder, task in DATASETS.items():
        for stem, (metric, column, unit, fidelity, timed) in QUANTITIES.items():
            f = path / folder / f"{stem}.csv"
            cols = ["index", column] + ([TIME_COLUMN] if timed else [])
            t = read_csv(f, cols)
            index = numeric(t, "index", f).astype("int64")
            expect_permutation(f, index, SIZE)
            values = numeric(t, column, f)
            if metric == "params":
                values = values * PARAMS_SCALE[folder]
                if not ((values > 0) & (values < 10)).all():
                    raise IngestError(f"{f}: parameter counts outside 0..10 M; wrong file?")
            common = dict(task=task, fidelity=fidelity)
            tables.append(
                evaluations(
                    "nb201",
                    SOURCE.name,
                    index,
                    values,
                    metric=metric,
                    unit=unit,
                    **common,
                )
            )
            if timed:
                tables.append(
                    evaluations(
                        "nb201",
                        SOURCE.name,
                        index,
                        numeric(t, TIME_COLUMN, f),
                        metric=f"{metric}_time",
                        unit="s",
                        **common,
                    )
                )
            files.append(f)
    return SourceData(concat(tables), files)
