"""NAS-Bench-101 results as cached by FreeREA: two gzipped pandas pickles over all cells.

Each frame has an ``index`` column: the cell's position in the sorted list of all
423,624 nasbench hashes, which is nasdb's ``arch_index`` for ``nb101``, so the rows join
through the enumeration of the space and need no translation.

- ``accuracies.pkl.gz``: ``accuracy``, the 108-epoch CIFAR-10 test accuracy as a fraction,
  averaged over nasbench's three repeats -> ``test_accuracy`` in percent, seed NULL
- ``params.pkl.gz``: ``params``, trainable parameters in millions -> ``params``

``params.pkl.gz`` also holds ``time=[s]`` and ``time_pure=[s]``: the seconds FreeREA spent
counting each network's parameters. They measure FreeREA's own bookkeeping, not training,
inference or a proxy, so they are not ingested.

The pickles are read only through the restricted unpickler, with the DataFrame allow-list.
"""

from __future__ import annotations

import gzip
import warnings
import zlib
from pathlib import Path

import numpy as np
from nasdb.loaders.base import Source, SourceData, concat, evaluations, expect_permutation, require

from nasdb.errors import IngestError
from nasdb.safe_pickle import PANDAS_FRAME, loads, read_bytes
from nasdb.spaces.nb101 import SIZE

ACCURACIES, PARAMS = "accuracies.pkl.gz", "params.pkl.gz"
EPOCHS = 108
MAX_PARAMS_M = 100.0  # the largest NB101 network has 50 M parameters

SOURCE = Source(
    name="nb101_freerea",
    space="nb101",
    title="NAS-Bench-101 mean test accuracy at 108 epochs and params, all 423,624 cells",
    upstream="NiccoloCavagnero/FreeREA@9c2a726 cached_metrics/nasbench101",
    version="NAS-Bench-101, 108 epochs, mean over 3 repeats",
    licence="MIT",
    subdir="nb101/freerea",
    files=(ACCURACIES, PARAMS),
    priority=8,
)


def _gunzip(path: Path) -> bytes:
    try:
        return gzip.decompress(path.read_bytes())
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise IngestError(f"{path}: not a readable gzip file ({exc})") from None


def read_columns(path: Path, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The named numeric columns of a gzipped DataFrame pickle, with names and types checked."""
    data = read_bytes(require(path), _gunzip)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"numpy\.core", DeprecationWarning)
        frame = loads(data, path, allowed=PANDAS_FRAME, pandas_compat=True)
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise IngestError(f"{path}: holds a {type(frame).__name__}, expected a pandas DataFrame")
    names = [str(c) for c in frame.columns]
    missing = [c for c in columns if c not in names]
    if missing or len(set(names)) != len(names):
        raise IngestError(
            f"{path}: columns {', '.join(names)}; expected {', '.join(columns)} once each"
        )
    frame.columns = names
    out = {}
    for c in columns:
        if frame[c].dtype.kind not in "iuf":
            raise IngestError(f"{path}: column {c!r} is {frame[c].dtype}, expected numbers")
        out[c] = frame[c].to_numpy(dtype=np.float64)
        if not np.isfinite(out[c]).all():
            raise IngestError(f"{path}: column {c!r} has missing values, expected one per cell")
    index = out["index"]
    if not np.array_equal(index, np.round(index)):
        raise IngestError(f"{path}: column 'index' holds non-integers, expected cell indices")
    expect_permutation(path, index.astype(np.int64), SIZE)
    return out


def read(path: Path) -> SourceData:
    acc_path, params_path = path / ACCURACIES, path / PARAMS
    acc = read_columns(acc_path, ("index", "accuracy"))
    fraction = acc["accuracy"]
    if fraction.min() < 0 or fraction.max() > 1:
        raise IngestError(
            f"{acc_path}: column 'accuracy' ranges {fraction.min():g}..{fraction.max():g}, "
            "expected fractions in 0..1"
        )
    params = read_columns(params_path, ("index", "params"))
    p = params["params"]
    if p.min() <= 0 or p.max() > MAX_PARAMS_M:
        raise IngestError(
            f"{params_path}: column 'params' ranges {p.min():g}..{p.max():g}, "
            f"expected millions (NB101: 0.2..50 M)"
        )
    tables = [
        evaluations(
            "nb101",
            SOURCE.name,
            acc["index"].astype(np.int64),
            fraction * 100,
            task="cifar10",
            metric="test_accuracy",
            unit="%",
            fidelity=EPOCHS,
        ),
        evaluations(
            "nb101",
            SOURCE.name,
            params["index"].astype(np.int64),
            p,
            task="cifar10",
            metric="params",
            unit="M",
        ),
    ]
    return SourceData(concat(tables), [acc_path, params_path])
