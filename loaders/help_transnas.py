"""HELP's TransNAS-Bench-101 micro files: the 4,096 cells and their inference time per task.

``architecture.pt`` lists the cells as HELP encodes them: a fixed 8x8 adjacency (node 0
the input, nodes 1-6 the six edges of the cell as operation nodes, node 7 the output)
and an 8x6 one-hot matrix of node types, whose columns 0-3 on rows 1-6 are the edge op
digits of :mod:`nasdb.spaces.tnb101` (0 none, 1 skip, 2 conv1x1, 3 conv3x3; column 0
also marks the input row and column 5 the output row). The loader decodes every cell and
requires each of the 4,096 exactly once; HELP lists them in TransNAS-Bench's own order.

``latency/<task>.pt`` holds, in that cell order, the inference time of the whole task
network (TransNAS-Bench's ``model_info.inference_time``): one forward pass of a
1x3x720x1080 input on the TransNAS-Bench authors' GPU, mean over 800 timed passes.
TransNAS-Bench records seconds; HELP's values (3 ms to 250 ms) are in milliseconds. Each
file first repeats the files of the tasks before it in the order class_scene,
class_object, room_layout, jigsaw, segmentsemantic, normal, autoencoder, so the task's
own values are its last 4,096; the loader checks that the repeated part is exactly the
earlier files. All files are read without torch through a restricted unpickler.
``hardware_embedding_index.pt`` lists HELP's reference cells, a parameter of the HELP
method rather than a measurement, and is not ingested.
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
    number_list,
)

from nasdb.errors import IngestError
from nasdb.safe_pickle import NUMPY_ARRAYS, load_torch_plain
from nasdb.spaces.graphs import edge_cell
from nasdb.spaces.tnb101 import EDGES, SIZE, TASKS, index_of_digits

SPACE = "tnb101_micro"
ARCHITECTURES = "architecture.pt"
DEVICE = "gpu"
NODES = len(EDGES) + 2
OP_COLUMNS = 6  # input/none, skip, conv1x1, conv3x3, (unused), output
KEYS = {"adjacency_matrix": (NODES, NODES), "operation": (NODES, OP_COLUMNS)}

SOURCE = Source(
    name="tnb101_help",
    space=SPACE,
    title="HELP's TransNAS-Bench-101 micro cells and their GPU inference time on seven tasks",
    upstream="Anessa01/Help-transNAS@a3947e1 data/transnasbench",
    version="TransNAS-Bench-101 v1.0 inference times, as packaged for HELP",
    licence="none stated (HELP and TransNAS-Bench-101: MIT)",
    subdir="transnas101/help",
    files=(ARCHITECTURES, *(f"latency/{task}.pt" for task in TASKS)),
    priority=5,
)


def cell_indices(path: Path) -> np.ndarray:
    """Index of each listed cell, in file order, after checking HELP's encoding."""
    cells = load_torch_plain(path, NUMPY_ARRAYS)
    if not isinstance(cells, list):
        raise IngestError(f"{path}: holds a {type(cells).__name__}, expected a list of cells")
    for i, cell in enumerate(cells):
        ok = isinstance(cell, dict) and set(cell) == set(KEYS)
        ok = ok and all(
            isinstance(cell[k], np.ndarray) and cell[k].shape == shape and cell[k].dtype.kind == "f"
            for k, shape in KEYS.items()
        )
        if not ok:
            raise IngestError(
                f"{path}: cell {i} is not a dict of float arrays adjacency_matrix (8x8) and "
                "operation (8x6)"
            )
    if len(cells) != SIZE:
        raise IngestError(f"{path}: {len(cells):,} cells, expected {SIZE:,} (truncated?)")
    adjacency = np.stack([c["adjacency_matrix"] for c in cells])
    wrong = (adjacency != edge_cell(EDGES, 3)).any(axis=(1, 2))
    if wrong.any():
        raise IngestError(
            f"{path}: cell {int(np.flatnonzero(wrong)[0])} has another adjacency than the "
            "micro cell's (input, six edge ops, output)"
        )
    ops = np.stack([c["operation"] for c in cells])
    one_hot = ((ops == 0) | (ops == 1)).all(axis=(1, 2)) & (ops.sum(axis=2) == 1).all(axis=1)
    codes = ops.argmax(axis=2)
    edges = codes[:, 1:-1]
    ok = one_hot & (codes[:, 0] == 0) & (codes[:, -1] == OP_COLUMNS - 1) & (edges < 4).all(axis=1)
    if not ok.all():
        raise IngestError(
            f"{path}: cell {int(np.flatnonzero(~ok)[0])} is not one-hot input, six op digits "
            "0-3 and output"
        )
    index = index_of_digits(edges)
    expect_permutation(path, index, SIZE)
    return index


def latencies(path: Path, position: int) -> np.ndarray:
    """The whole list of the ``position``-th task file: earlier tasks, then its own 4,096."""
    arr = number_list(load_torch_plain(path), path, "latencies")
    expected = SIZE * (position + 1)
    if len(arr) != expected:
        raise IngestError(
            f"{path}: {len(arr):,} latencies, expected {expected:,} ({position} earlier task(s) "
            f"then its own {SIZE:,})"
        )
    bad = ~(np.isfinite(arr) & (arr > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise IngestError(f"{path}: entry {i} is {arr[i]}, expected a positive latency")
    return arr


def read(path: Path) -> SourceData:
    index = cell_indices(path / ARCHITECTURES)
    tables, files, own = [], [path / ARCHITECTURES], []
    for position, task in enumerate(TASKS):
        f = path / "latency" / f"{task}.pt"
        values = latencies(f, position)
        earlier = np.concatenate(own) if own else np.empty(0)
        if not np.array_equal(values[: len(earlier)], earlier):
            i = int(np.flatnonzero(values[: len(earlier)] != earlier)[0])
            raise IngestError(
                f"{f}: entry {i} is {values[i]}, but the earlier task files say {earlier[i]}; "
                "each file must first repeat the tasks before it"
            )
        own.append(values[len(earlier) :])
        tables.append(
            evaluations(
                SPACE,
                SOURCE.name,
                index,
                own[-1],
                task=task,
                metric="latency",
                unit="ms",
                device=DEVICE,
            )
        )
        files.append(f)
    return SourceData(concat(tables), files)
