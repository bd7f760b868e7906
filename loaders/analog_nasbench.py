"""AnalogNAS-Bench (PyPI analog-nasbench 0.1.3): NB201 cells on CIFAR-10 under analog noise.

``analognasbench/data.anb`` pickles a dict from an op tuple to an ``Architecture`` object
holding digital, quantised and simulated analog in-memory-computing accuracies, plus the
accuracy after conductance drift for 60 s, 1 h, 1 day and 30 days, each as a
``DriftMeasurement`` (value and uncertainty) or a ``"value ± uncertainty"`` string. The
package's classes are never imported: the restricted unpickler maps them to plain records.

Facts checked against the data and upstream's training script (IBM/analog-nas
``analognasbench/training_script.py``, whose 25-run averages explain the values' 0.0004 grid):

- keys use the NASLib/zero-cost tuple (edges 0→1, 0→2, 0→3, 1→2, 1→3, 2→3; codes
  0 skip, 1 none, 2 conv3x3, 3 conv1x1, 4 avgpool): the script builds each cell with
  NASLib's ``set_spec`` and the paper lists the same codes. Among all 720 edge orders ×
  120 code assignments, this one also gives the highest rank correlation of
  ``baseline_accuracy`` with NATS-Bench CIFAR-10 test accuracy (0.991, Pearson 0.9994;
  the runner-up reaches 0.969). The values are this benchmark's own runs (0.3 points from
  NATS-Bench in the median), so they keep their own metric names, not ``test_accuracy``.
- all values are already percentages (baseline up to 94.07).
- ``fidelity`` counts all training epochs behind a value: 200 for the digital model
  (``baseline``, ``ptq``, ``noisy`` = that model mapped onto simulated analog tiles, and
  ``baseline_drift``), 200 + 20 quantisation-aware epochs for ``qat``, 200 + 200
  hardware-aware epochs for ``analog`` and ``analog_drift``.
- analog numbers are simulations (IBM AIHWKit, PCM noise model), not measurements on a
  device; accuracies carry no ``device`` anyway. One training run per cell with an
  unrecorded seed, so ``seed`` is NULL.
- drift ``_std`` is the standard deviation over 25 drift draws; 0 is a real value there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from nasdb.loaders.base import (
    Source,
    SourceData,
    concat,
    evaluations,
    expect_permutation,
    is_percent,
)

from nasdb import safe_pickle, spaces
from nasdb.errors import IngestError
from nasdb.spaces.nb201 import SIZE

SPACE = "nb201"
TASK = "cifar10"
FILE = "data.anb"
ACCURACIES = ("baseline", "ptq", "qat", "noisy", "analog")  # <name>_accuracy upstream
EPOCHS = {"baseline": 200, "ptq": 200, "qat": 220, "noisy": 200, "analog": 400}
DRIFT_KINDS = ("baseline", "analog")
DRIFT_SECONDS = (60, 3600, 86400, 2592000)
_RECORDS = {
    "analognasbench.data.Architecture": type("Architecture", (safe_pickle.Record,), {}),
    "analognasbench.data.DriftMeasurement": type("DriftMeasurement", (safe_pickle.Record,), {}),
}
_ARCH, _DRIFT = _RECORDS.values()

SOURCE = Source(
    name="analog_nasbench",
    space=SPACE,
    title="AnalogNAS-Bench: NB201 CIFAR-10 accuracy digital, quantised, analog and under drift",
    upstream="analog-nasbench==0.1.3 (PyPI; IBM/analog-nas analognasbench) analognasbench/data.anb",
    version="0.1.3",
    licence="Apache-2.0",
    subdir="analognasbench",
    files=(FILE,),
    priority=-10,
    package="analognasbench",
)


def _number(x) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise TypeError
    return float(x)


def _drift(x) -> tuple[float, float]:
    """(value, uncertainty) of a drift entry in any of the forms upstream uses."""
    if isinstance(x, _DRIFT):
        return _number(x.value), _number(x.uncertainty)
    if isinstance(x, str):
        value, sep, unc = x.partition("±")
        return float(value), float(unc) if sep else 0.0
    return _number(x), 0.0


def _row(arch) -> list[float]:
    out = [_number(getattr(arch, f"{name}_accuracy")) for name in ACCURACIES]
    for kind in DRIFT_KINDS:
        for seconds in DRIFT_SECONDS:
            out.extend(_drift(getattr(arch, f"{kind}_drift_{seconds}")))
    return out


def _key(path: Path, key) -> tuple[int, ...]:
    if (
        not isinstance(key, tuple)
        or len(key) != 6
        or any(type(c) is not int or not 0 <= c < 5 for c in key)
    ):
        raise IngestError(f"{path}: key {key!r} is not a 6-tuple of op codes 0..4")
    return key


def read(path: Path) -> SourceData:
    f = path / FILE
    data = safe_pickle.loads(safe_pickle.read_bytes(f), f, records=_RECORDS)
    if not isinstance(data, dict):
        raise IngestError(f"{f}: holds a {type(data).__name__}, expected a dict of architectures")
    if len(data) != SIZE:
        raise IngestError(f"{f}: {len(data)} architectures, expected {SIZE} (truncated?)")
    rows = []
    for key, arch in data.items():
        _key(f, key)
        if not isinstance(arch, _ARCH):
            raise IngestError(
                f"{f}: entry {key} is a {type(arch).__name__}, expected an Architecture record"
            )
        try:
            rows.append(_row(arch))
        except (AttributeError, TypeError, ValueError) as exc:
            what = exc.args[0] if isinstance(exc, AttributeError) and exc.args else "a non-number"
            raise IngestError(
                f"{f}: entry {key} has missing or non-numeric fields ({what}); expected "
                "<baseline|ptq|qat|noisy|analog>_accuracy numbers and "
                "<baseline|analog>_drift_<seconds> measurements"
            ) from None
        if getattr(arch, "architecture", key) != key:
            raise IngestError(f"{f}: entry {key} describes architecture {arch.architecture!r}")
    values = np.array(rows, dtype=np.float64)
    if not is_percent(values).all():
        raise IngestError(f"{f}: accuracies outside 0..100 (expected percentages)")
    index = spaces.get(SPACE).indices(list(data))
    expect_permutation(f, index, SIZE)

    tables = []
    columns = [
        (f"{name}_accuracy", values[:, i], EPOCHS[name]) for i, name in enumerate(ACCURACIES)
    ]
    col = len(ACCURACIES)
    for kind in DRIFT_KINDS:
        for seconds in DRIFT_SECONDS:
            metric = f"{kind}_drift_accuracy_{seconds}s"
            columns.append((metric, values[:, col], EPOCHS[kind]))
            columns.append((f"{metric}_std", values[:, col + 1], EPOCHS[kind]))
            col += 2
    for metric, value, epochs in columns:
        tables.append(
            evaluations(
                SPACE,
                SOURCE.name,
                index,
                value,
                task=TASK,
                metric=metric,
                unit="%",
                fidelity=epochs,
            )
        )
    return SourceData(concat(tables), [f])
