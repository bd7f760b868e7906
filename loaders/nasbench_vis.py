"""The first 20,001 NAS-Bench-101 cells by hash, as exported for nasbench-vis.

``data-20k.json`` is one object of parallel lists: ``key`` (the nasbench hash, in sorted
order, so exactly the first 20,001 cells of nasdb's enumeration), validation accuracy
as a fraction after 4, 12, 36 and 108 epochs (``<e>_final_validation_accuracy``),
``final_training_time`` in seconds and ``trainable_parameters`` as a plain count.

Each value comes from ONE of nasbench's three training repeats per budget; the export
does not say which. It is stored as ``seed`` 0 so that it is never read as the mean over
repeats (seed NULL), which nasbench does not publish for validation accuracy. The
training time belongs to the 108-epoch run (284-5,411 s; a 4-epoch run takes about a
minute), so it is ``train_time`` at fidelity 108, on ``device`` ``tpu_v2``, the
accelerator nasbench trained on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from nasdb.loaders.base import Source, SourceData, concat, evaluations, load_json

from nasdb.errors import IngestError, UnknownName
from nasdb.spaces import get as get_space

FILE = "data-20k.json"
CELLS = 20_001
EPOCHS = (4, 12, 36, 108)
SEED = 0  # one repeat, which one unrecorded upstream
DEVICE = "tpu_v2"
FIELDS = (
    "key",
    *(f"{e}_final_validation_accuracy" for e in EPOCHS),
    "final_training_time",
    "trainable_parameters",
)

SOURCE = Source(
    name="nb101_vis",
    space="nb101",
    title="NAS-Bench-101 validation accuracy at 4/12/36/108 epochs and training time, "
    "first 20,001 cells",
    upstream="tiga1231/nasbench-vis@7aec0e7 static/data/data-20k.json",
    version="NAS-Bench-101, one repeat per budget, first 20,001 hashes",
    licence="none stated by the repository (NAS-Bench-101 data: Apache-2.0)",
    subdir="nb101/nasbench_vis",
    files=(FILE,),
    priority=6,
)


def _numbers(path: Path, name: str, values: Any) -> np.ndarray:
    if not isinstance(values, list) or len(values) != CELLS:
        n = len(values) if isinstance(values, list) else type(values).__name__
        raise IngestError(f"{path}: {name!r} has {n} entries, expected a list of {CELLS:,}")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise IngestError(f"{path}: {name!r} holds a non-number, expected numbers")
    out = np.array(values, dtype=np.float64)
    if not (np.isfinite(out) & (out >= 0)).all():
        raise IngestError(f"{path}: {name!r} holds a negative or missing value")
    return out


def read(path: Path) -> SourceData:
    f = path / FILE
    data = load_json(f)
    if not isinstance(data, dict):
        raise IngestError(f"{f}: holds a {type(data).__name__}, expected an object of lists")
    missing = [k for k in FIELDS if k not in data]
    if missing:
        raise IngestError(f"{f}: missing field(s) {', '.join(missing)}; expected {FIELDS}")
    keys = data["key"]
    if not isinstance(keys, list) or len(keys) != CELLS:
        n = len(keys) if isinstance(keys, list) else type(keys).__name__
        raise IngestError(f"{f}: 'key' has {n} entries, expected {CELLS:,} hashes")
    if not all(isinstance(k, str) for k in keys):
        raise IngestError(f"{f}: 'key' holds a non-string, expected 32-hex nasbench hashes")
    try:
        index = get_space("nb101").indices_of_hashes(keys)
    except UnknownName as exc:
        raise IngestError(f"{f}: {exc}") from None
    if len(np.unique(index)) != CELLS:
        raise IngestError(f"{f}: 'key' repeats a hash, expected {CELLS:,} distinct cells")

    tables = []
    for e in EPOCHS:
        name = f"{e}_final_validation_accuracy"
        acc = _numbers(f, name, data[name])
        if acc.max() > 1:
            raise IngestError(f"{f}: {name!r} exceeds 1, expected fractions")
        tables.append(
            evaluations(
                "nb101",
                SOURCE.name,
                index,
                acc * 100,
                task="cifar10",
                metric="valid_accuracy",
                unit="%",
                fidelity=e,
                seed=SEED,
            )
        )
    seconds = _numbers(f, "final_training_time", data["final_training_time"])
    tables.append(
        evaluations(
            "nb101",
            SOURCE.name,
            index,
            seconds,
            task="cifar10",
            metric="train_time",
            unit="s",
            fidelity=EPOCHS[-1],
            seed=SEED,
            device=DEVICE,
        )
    )
    params = _numbers(f, "trainable_parameters", data["trainable_parameters"])
    if params.min() < 1000:
        raise IngestError(f"{f}: 'trainable_parameters' below 1000, expected plain counts")
    tables.append(
        evaluations(
            "nb101", SOURCE.name, index, params / 1e6, task="cifar10", metric="params", unit="M"
        )
    )
    return SourceData(concat(tables), [f])
