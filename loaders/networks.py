"""Parameter counts and FLOPs of every NB201 and NB101 network, computed by nasdb itself.

No upstream files: the rows come from :mod:`nasdb.networks`, whose builders reproduce the
benchmarks' parameter counts exactly. The builder module is the source's one "file", so
its sha256 in ``sources`` names the code that produced the rows.

``flops`` follows the catalog's convention (and the benchmarks'): millions of
multiply-accumulates of one forward pass on one input image, i.e. torch's
``FlopCounterMode`` count (2 FLOPs per MAC) halved. Upstream counters also count
BatchNorm, ReLU and pooling element by element, which torch's does not: NB201 cells
without pooling count 1.2-11 % more in NAS-Bench-Suite-Zero than here (a 3x3 conv edge
adds 1.2 % element-wise work, a 1x1 one 11 %), and pooling edges have no MACs at all;
the networks tests check that this element-wise work is the whole difference. Published
rows keep priority.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from nasdb.loaders.base import Source, SourceData, concat, evaluations

from nasdb.networks.shapes import BENCHMARK_TASKS


def source(space: str) -> Source:
    return Source(
        name=f"{space}_networks",
        space=space,
        title=f"{space} parameter counts and FLOPs of the networks nasdb builds",
        upstream=f"nasdb.networks.{space} (computed, no upstream file)",
        version="1",
        licence="Apache-2.0",
        subdir=f"{space}_networks",
        files=(f"networks/{space}.py",),
        priority=-5,
        package="nasdb",
        # Computed in about a minute for NB101, so not part of ``ingest all``.
        user_supplied=True,
    )


def read_space(space: str, path: Path) -> SourceData:
    from nasdb import networks, spaces

    size = spaces.get(space).size
    index = np.arange(size, dtype=np.int64)
    tables = []
    for task, shape in BENCHMARK_TASKS[space].items():
        if space == "nb101":
            from nasdb.networks import nb101

            both = nb101.counts(index, shape)
            params, flops = both[:, 0], both[:, 1]
        else:
            params = networks.param_counts(space, index, shape)
            flops = networks.flop_counts(space, index, shape)
        for metric, value in (("params", params / 1e6), ("flops", flops / 2e6)):
            tables.append(
                evaluations(space, f"{space}_networks", index, value, task=task, metric=metric,
                            unit="M")
            )
    return SourceData(concat(tables), [path / f"networks/{space}.py"])
