"""NAS-Bench-Graph's ``nas_bench_graph.light_read`` on a nasdb catalog.

``from nasdb.compat.nas_bench_graph import light_read, Arch`` replaces
``from nas_bench_graph import light_read, Arch``. ``light_read(dataset)`` returns the
upstream mapping: ``Arch(link, ops).valid_hash()`` -> ``{'valid_perf', 'perf'`` (fractions;
ROC-AUC for proteins), ``'latency'`` (seconds), ``'para'`` (millions)``}``, for the cells the
catalog (source ``nbgraph``) holds; the catalog is ``$NASDB_HOME`` or ``home``.
"""

from __future__ import annotations

import numpy as np
from nas_bench_graph.architecture import Arch

from nasdb.compat._common import connect
from nasdb.errors import NasdbError
from nasdb.spaces.nbgraph import TASKS

SOURCE = "nbgraph"
# upstream key -> (catalog metric, scale from the catalog's unit to upstream's)
FIELDS = {
    "valid_perf": ("valid_accuracy", 0.01),
    "perf": ("test_accuracy", 0.01),
    "latency": ("latency", 0.001),
    "para": ("params", 1.0),
}


class UnknownDataset(NasdbError, FileNotFoundError):
    """Upstream opens ``light/<dataset>.bench``: an unknown name is a missing file there."""


def light_read(dname: str, home=None) -> dict[int, dict]:
    """Every cell of one dataset: its hash -> its four measurements, as upstream's tables."""
    if dname not in TASKS:
        raise UnknownDataset(
            f"unknown NAS-Bench-Graph dataset {dname!r}; one of {', '.join(TASKS)}"
        )
    db = connect(home)
    cols = {}
    for name, (metric, scale) in FIELDS.items():
        key = db.resolve("nbgraph", task=dname, metric=metric, source=SOURCE)
        cols[name] = np.asarray(db.column(key)) * scale
    held = np.flatnonzero(~np.isnan(cols["perf"]))
    rows = zip(*(cols[name][held].tolist() for name in FIELDS), strict=True)
    out = {}
    for h, (valid, perf, latency, para) in zip(held.tolist(), rows, strict=True):
        out[h] = {"valid_perf": valid, "perf": perf, "latency": latency, "para": np.float64(para)}
    return out


__all__ = ["Arch", "UnknownDataset", "light_read"]
