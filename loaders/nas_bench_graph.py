"""NAS-Bench-Graph "light" tables as shipped in the PyPI package nas-bench-graph 1.4.0.

One pickle per dataset, ``light/<dataset>.bench``: a dict from ``Arch(link, ops).valid_hash()``
to ``valid_perf``, ``perf`` (test), ``latency`` (seconds) and ``para`` (millions of
parameters). The package reads them with plain ``pickle``; here they go through the
restricted unpickler, which only has to rebuild numpy float64 scalars.

Facts behind the numbers (NAS-Bench-Graph paper, Qin et al., NeurIPS 2022, appendix tables
of hyper-parameters and hardware, as transcribed in public code that reuses them):

- every architecture is trained with one fixed recipe per dataset for 400 (Cora, CiteSeer,
  Coauthor-CS), 200 (Coauthor-Physics) or 500 epochs (the others); that budget is the
  ``fidelity`` of both performances. The light tables are aggregated over the paper's three
  seeds, so ``seed`` is NULL.
- each dataset ran on one machine: an NVIDIA Tesla V100 16 GB, except PubMed and ogbn-arXiv
  on a GeForce RTX 3090 24 GB; ``latency`` carries that GPU as ``device``.
- ogbn-proteins is scored by ROC-AUC (the OGB metric, chance level 50) rather than
  accuracy. Its rows keep the names ``valid_accuracy``/``test_accuracy`` so that one
  column answers for every task of the space; read them as ROC-AUC for that task. Its
  space is the 2,021 cells built from the five operations the paper kept for it.

The source's files are ``light/<dataset>.bench`` below the package directory, so the
installed package itself is a valid source directory.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from nasdb.loaders.base import Source, SourceData, concat, evaluations, is_positive

from nasdb import safe_pickle
from nasdb.errors import IngestError
from nasdb.spaces.nbgraph import LINKS, OPS, SIZE, TASKS

SPACE = "nbgraph"
_BASE = len(OPS) + 1
# Architectures per dataset: all unique cells; proteins uses a five-operation subset.
EXPECTED = {task: 26_206 for task in TASKS} | {"proteins": 2_021}
EPOCHS = {
    "cora": 400,
    "citeseer": 400,
    "pubmed": 500,
    "cs": 400,
    "physics": 200,
    "photo": 500,
    "computers": 500,
    "arxiv": 500,
    "proteins": 500,
}
GPU = {task: "v100" for task in TASKS} | {"pubmed": "rtx3090", "arxiv": "rtx3090"}
FIELDS = ("valid_perf", "perf", "latency", "para")
_NUMBER_TYPES = (int, float, np.integer, np.floating)

SOURCE = Source(
    name="nbgraph",
    space=SPACE,
    title="NAS-Bench-Graph: GNN validation/test performance, latency and parameters on 9 graphs",
    upstream="nas-bench-graph==1.4.0 (PyPI; THUMNLab/NAS-Bench-Graph) nas_bench_graph/light",
    version="1.4.0",
    licence="Apache-2.0",
    subdir="nas_bench_graph",
    files=tuple(f"light/{task}.bench" for task in TASKS),
    package="nas_bench_graph",
)


def _load(path: Path) -> dict:
    data = safe_pickle.read_bytes(path)
    bench = safe_pickle.loads(data, path, allowed=safe_pickle.NUMPY_SCALARS)
    if not isinstance(bench, dict):
        raise IngestError(f"{path}: holds a {type(bench).__name__}, expected a dict keyed by hash")
    return bench


def _hashes(path: Path, bench: dict) -> np.ndarray:
    """Keys as int64, each one a decodable NAS-Bench-Graph hash."""
    keys = list(bench)
    bad = next((k for k in keys if type(k) is not int or not 0 <= k < SIZE), None)
    if bad is not None:
        raise IngestError(f"{path}: key {bad!r} is not an architecture hash in 0..{SIZE - 1}")
    h = np.fromiter(keys, dtype=np.int64, count=len(keys))
    digits = (h[:, None] // _BASE ** np.arange(4)) % _BASE
    invalid = (h // _BASE**4 >= len(LINKS)) | (digits >= len(OPS)).any(axis=1)
    if invalid.any():
        raise IngestError(
            f"{path}: key {int(h[invalid][0])} is not a NAS-Bench-Graph hash "
            f"(link code < {len(LINKS)}, four op codes < {len(OPS)})"
        )
    return h


def _values(path: Path, bench: dict) -> np.ndarray:
    """(n, 4) float64 of FIELDS, refusing missing fields and anything but plain numbers."""
    try:
        rows = [tuple(v[f] for f in FIELDS) for v in bench.values()]
    except (KeyError, TypeError):
        key, entry = next(
            (k, v) for k, v in bench.items() if not isinstance(v, dict) or set(FIELDS) - set(v)
        )
        got = ", ".join(map(str, entry)) if isinstance(entry, dict) else type(entry).__name__
        raise IngestError(
            f"{path}: entry {key!r} holds {got}; expected a dict with {', '.join(FIELDS)}"
        ) from None
    types = {type(x) for row in rows for x in row}
    odd = [t for t in types if not issubclass(t, _NUMBER_TYPES) or issubclass(t, bool)]
    if odd:
        raise IngestError(
            f"{path}: values of type {odd[0].__name__} where numbers belong "
            f"(fields {', '.join(FIELDS)})"
        )
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(FIELDS))


def _check_ranges(path: Path, values: np.ndarray) -> None:
    perf, cost = values[:, :2], values[:, 2:]
    if not ((perf >= 0) & (perf <= 1)).all():
        raise IngestError(f"{path}: valid_perf/perf outside 0..1 (expected fractions)")
    if not is_positive(cost).all():
        raise IngestError(f"{path}: latency/para must be positive numbers")


def read(path: Path) -> SourceData:
    tables, files = [], []
    for task in TASKS:
        f = path / "light" / f"{task}.bench"
        bench = _load(f)
        if len(bench) != EXPECTED[task]:
            raise IngestError(
                f"{f}: {len(bench)} architectures, expected {EXPECTED[task]} "
                "(truncated or wrong file?)"
            )
        index = _hashes(f, bench)
        values = _values(f, bench)
        _check_ranges(f, values)
        epochs = EPOCHS[task]
        columns = (
            ("valid_accuracy", values[:, 0] * 100, "%", epochs, None),
            ("test_accuracy", values[:, 1] * 100, "%", epochs, None),
            ("latency", values[:, 2] * 1000, "ms", None, GPU[task]),
            ("params", values[:, 3], "M", None, None),
        )
        for metric, value, unit, fidelity, device in columns:
            tables.append(
                evaluations(
                    SPACE,
                    SOURCE.name,
                    index,
                    value,
                    task=task,
                    metric=metric,
                    unit=unit,
                    fidelity=fidelity,
                    device=device,
                )
            )
        files.append(f)
    return SourceData(concat(tables), files)
