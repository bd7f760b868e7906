"""NAS-Bench-201 v1.x CIFAR-10 results as tabulated by NASWOT (nas-without-training).

These come from the original NAS-Bench-201 API (v1.x, 200 epochs, mean over seeds), not
NATS-Bench: on some cells the test accuracy differs from ``nb201_nats`` by up to 2.2
points, so the table is its own source, below NATS in priority.

The pickle holds one row per official index (``arch``) with its arch string (``cellstr``,
checked against the index). The columns, read with the API calls nas-without-training makes:

- ``test_top1``: 'cifar10' (trained on train+valid), test set -> cifar10 ``test_accuracy``
- ``valid_top1``: 'cifar10-valid' (trained on train), valid set -> cifar10 ``valid_accuracy``,
  the CIFAR-10 validation number NAS-Bench-201 users quote
- ``valid_test_top1``: 'cifar10-valid', test set -> task ``cifar10-valid``
  ``test_accuracy``: a network trained on the training half only, NAS-Bench-201's own
  name for that setting
- ``params`` in millions -> ``params``
- ``score``: the score of the first NASWOT preprint, from the correlations of input
  Jacobians. That is the proxy NAS-Bench-Suite-Zero calls ``jacov``, not the later NASWOT
  log-determinant (rank correlation 0.95 with ``nb201_zc`` jacov, 0.64 with the ``naswot``
  of ``nb201_nats``), so it is stored as ``jacov``. 341 cells have no score upstream.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from nasdb.loaders.base import (
    Source,
    SourceData,
    concat,
    evaluations,
    frame_accuracies,
    millions,
    read_frame,
)

from nasdb.errors import IngestError

FILE = "arch_score_acc.pd"
EPOCHS = 200
# column -> (task, metric)
ACCURACIES = {
    "test_top1": ("cifar10", "test_accuracy"),
    "valid_top1": ("cifar10", "valid_accuracy"),
    "valid_test_top1": ("cifar10-valid", "test_accuracy"),
}

SOURCE = Source(
    name="nb201_v1",
    space="nb201",
    title="NAS-Bench-201 v1.x CIFAR-10 accuracies, params and Jacobian score (NASWOT table)",
    upstream="BayesWatch/nas-without-training@a1aa24c results/arch_score_acc.pd",
    version="NAS-Bench-201 v1.x, 200 epochs, mean over seeds",
    licence="MIT",
    subdir="nb201/naswot",
    files=(FILE,),
    priority=5,
)


def read(path: Path) -> SourceData:
    f = path / FILE
    cols = read_frame(f, [*ACCURACIES, "params", "score"])
    index = cols["arch"]
    tables = frame_accuracies(SOURCE.name, f, cols, ACCURACIES, EPOCHS)
    params = cols["params"]
    if not np.isfinite(params).all():
        raise IngestError(f"{f}: column 'params' has missing values, expected one for every cell")
    tables.append(
        evaluations(
            "nb201",
            SOURCE.name,
            index,
            millions(params, f, "params"),
            task="cifar10",
            metric="params",
            unit="M",
        )
    )
    score = cols["score"].copy()
    score[~np.isfinite(score)] = np.nan
    tables.append(
        evaluations("nb201", SOURCE.name, index, score, task="cifar10", metric="jacov", unit="")
    )
    return SourceData(concat(tables), [f])
