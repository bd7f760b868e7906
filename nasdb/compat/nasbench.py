"""NAS-Bench-101's ``nasbench.api`` on a nasdb catalog, without TensorFlow.

``from nasdb.compat import nasbench as api`` (or ``from nasdb.compat.nasbench import api``)
then ``api.NASBench(path)``, ``api.ModelSpec(matrix, ops)`` and ``nasbench.query(spec)``
as upstream. Differences, all forced by what the catalog holds:

- The ``dataset_file`` argument is accepted and not read; the catalog is the ``home``
  keyword or ``$NASDB_HOME``.
- Upstream answers each query from one of the three training repeats drawn at random.
  Where the catalog holds per-repeat rows (source ``nb101_tfrecord``) a repeat is drawn the
  same way (seeded by ``seed``); otherwise each field is the one value the catalog holds:
  the mean over the repeats (``nb101_freerea`` test accuracy), or the one repeat
  ``nb101_vis`` publishes (validation accuracy and training time of its first 20,001 cells).
- ``module_adjacency``/``module_operations`` are the cell's stored pruned representative:
  the same graph up to the numbering of its inner vertices, with the same hash.
- A field no ingested source holds raises :class:`MissingField` (a ``KeyError``) naming it
  and the source that provides it, e.g. ``train_accuracy`` -> ``nb101_tfrecord``.
"""

from __future__ import annotations

import copy
import random
import sys
from collections.abc import Iterator

import numpy as np

from nasdb.compat._common import Field, Fields, MissingField, Reader, connect
from nasdb.errors import NasdbError, UnknownName
from nasdb.spaces.nb101_cells import (
    INPUT,
    MAX_EDGES,
    MAX_VERTICES,
    OPS,
    OUTPUT,
    fingerprint,
    prune,
)

CONV1X1, CONV3X3, MAXPOOL3X3 = "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3"
VALID_EPOCHS = (4, 12, 36, 108)
_SOURCES = ("nb101_tfrecord",)


class OutOfDomainError(NasdbError):
    """A spec or epoch budget outside the NAS-Bench-101 space (upstream's exception name)."""


def _fields(epochs: int, stage: str) -> dict[str, Field]:
    """Catalog fields of one training stage ('final' or 'halfway') of a budget."""
    at = epochs if stage == "final" else epochs // 2
    final108 = stage == "final" and epochs == 108
    vis = ("nb101_vis",) if stage == "final" else ()
    return {
        "training_time": Field("cifar10", "train_time", _SOURCES + vis, at, "tpu_v2"),
        "train_accuracy": Field("cifar10", "train_accuracy", _SOURCES, at, scale=0.01),
        "validation_accuracy": Field("cifar10", "valid_accuracy", _SOURCES + vis, at, scale=0.01),
        "test_accuracy": Field(
            "cifar10",
            "test_accuracy",
            _SOURCES + (("nb101_freerea",) if final108 else ()),
            at,
            scale=0.01,
        ),
    }


class ModelSpec:
    """A cell: adjacency matrix and op labels, pruned of vertices off every input->output path."""

    def __init__(self, matrix, ops, data_format: str = "channels_last"):
        if not isinstance(matrix, np.ndarray):
            matrix = np.array(matrix)
        shape = np.shape(matrix)
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError(f"matrix must be square, got shape {shape}")
        if shape[0] != len(ops):
            raise ValueError(f"length of ops ({len(ops)}) must match matrix dimensions {shape}")
        if np.tril(matrix).any():
            raise ValueError("matrix must be upper triangular (a DAG in topological order)")
        self.original_matrix = copy.deepcopy(matrix)
        self.original_ops = copy.deepcopy(list(ops))
        self.data_format = data_format
        self.valid_spec = True
        kept = prune(np.asarray(matrix), list(range(len(ops)))) if len(ops) >= 2 else None
        if kept is None:  # the input does not reach the output
            self.matrix, self.ops, self.valid_spec = None, None, False
        else:
            self.matrix = copy.deepcopy(kept[0])
            self.ops = [self.original_ops[i] for i in kept[1]]

    def hash_spec(self, canonical_ops) -> str:
        """nasbench's module hash; ``canonical_ops`` fixes the op labels (config available_ops)."""
        labels = [-1] + [list(canonical_ops).index(op) for op in self.ops[1:-1]] + [-2]
        return fingerprint(np.asarray(self.matrix), labels)


class NASBench:
    """Upstream's query object; loads in milliseconds since columns are read on first use."""

    def __init__(self, dataset_file=None, seed=None, home=None):
        self.config = {
            "module_vertices": MAX_VERTICES,
            "max_edges": MAX_EDGES,
            "available_ops": list(OPS),
            "num_repeats": 3,
        }
        self.dataset_file = dataset_file
        self._rng = random.Random(seed)
        self._db = connect(home)
        self._space = self._db.space("nb101")
        self._read = Reader(self._db, "nb101")
        self.valid_epochs = set(VALID_EPOCHS)
        self.reset_budget_counters()

    # budget --------------------------------------------------------------------------
    def get_budget_counters(self) -> tuple[float, int]:
        return self.training_time_spent, self.total_epochs_spent

    def reset_budget_counters(self) -> None:
        self._training_time = 0.0
        self._untimed = 0
        self.total_epochs_spent = 0

    @property
    def training_time_spent(self) -> float:
        if self._untimed:
            raise MissingField(
                f"training_time_spent: {self._untimed} queried cells have no training time in "
                "the catalog; it comes from source nb101_tfrecord (run: nasdb ingest "
                "nb101_tfrecord)"
            )
        return self._training_time

    @training_time_spent.setter
    def training_time_spent(self, value: float) -> None:
        self._training_time, self._untimed = float(value), 0

    # queries -------------------------------------------------------------------------
    def query(self, model_spec: ModelSpec, epochs: int = 108, stop_halfway: bool = False):
        """Fixed statistics plus one repeat's metrics at ``epochs`` (halfway ones if asked)."""
        if epochs not in self.valid_epochs:
            raise OutOfDomainError(
                f"invalid number of epochs {epochs!r}, must be one of {sorted(self.valid_epochs)}"
            )
        index = self._index(model_spec)
        stage = "halfway" if stop_halfway else "final"
        table = _fields(epochs, stage)
        seeds = self._read.seeds(table["test_accuracy"])
        seed = self._rng.choice(seeds) if seeds else None
        what = f"cell {self._space.arch_id(index)} at {epochs} epochs ({stage})"
        data = Fields(self._fixed(index))
        metrics = self._read.fields(table, index, what, seed)
        data.update(metrics)
        data.absent.update(metrics.absent)
        if "training_time" in data:
            self._training_time += data["training_time"]
        else:
            self._untimed += 1
        self.total_epochs_spent += epochs // 2 if stop_halfway else epochs
        return data

    def is_valid(self, model_spec: ModelSpec) -> bool:
        try:
            self._check_spec(model_spec)
        except OutOfDomainError:
            return False
        return True

    def hash_iterator(self) -> Iterator[str]:
        return (h.decode() for h in self._space.cells.hashes)

    def get_metrics_from_hash(self, module_hash: str) -> tuple[dict, dict]:
        """(fixed statistics, {epochs: [per-repeat dicts of halfway_* and final_* fields]})."""
        try:
            index = self._space.index(module_hash)
        except UnknownName:
            raise KeyError(module_hash) from None
        computed = {}
        for epochs in VALID_EPOCHS:
            repeats = []
            for seed in range(self.config["num_repeats"]):
                entry = Fields()
                for stage in ("halfway", "final"):
                    table = {f"{stage}_{k}": f for k, f in _fields(epochs, stage).items()}
                    table = {
                        k: Field(f.task, f.metric, _SOURCES, f.fidelity, f.device, f.scale)
                        for k, f in table.items()
                    }  # per-repeat values: that source only
                    what = f"repeat {seed} of cell {module_hash} at {epochs} epochs"
                    part = self._read.fields(table, index, what, seed)
                    entry.update(part)
                    entry.absent.update(part.absent)
                repeats.append(entry)
            computed[epochs] = repeats
        return self._fixed(index), computed

    def get_metrics_from_spec(self, model_spec: ModelSpec) -> tuple[dict, dict]:
        self._check_spec(model_spec)
        return self.get_metrics_from_hash(self._hash_spec(model_spec))

    # helpers -------------------------------------------------------------------------
    def _fixed(self, index: int) -> dict:
        adjacency, ops = self._space.spec(index)
        params = self._read.value(
            Field("cifar10", "params", ("nb101_tfrecord", "nb101_freerea")), index
        )
        fixed = {"module_adjacency": adjacency.astype(np.int8), "module_operations": ops}
        if params is not None:
            fixed["trainable_parameters"] = int(round(params * 1e6))
        return fixed

    def _hash_spec(self, model_spec: ModelSpec) -> str:
        return model_spec.hash_spec(self.config["available_ops"])

    def _index(self, model_spec: ModelSpec) -> int:
        self._check_spec(model_spec)
        return self._space.index(self._hash_spec(model_spec))

    def _check_spec(self, model_spec: ModelSpec) -> None:
        if not model_spec.valid_spec:
            raise OutOfDomainError("invalid spec, provided graph is disconnected.")
        n = len(model_spec.ops)
        edges = int(np.sum(model_spec.matrix))
        if n > self.config["module_vertices"]:
            raise OutOfDomainError(
                f"too many vertices, got {n} (max vertices = {self.config['module_vertices']})"
            )
        if edges > self.config["max_edges"]:
            raise OutOfDomainError(
                f"too many edges, got {edges} (max edges = {self.config['max_edges']})"
            )
        if model_spec.ops[0] != INPUT:
            raise OutOfDomainError("first operation should be 'input'")
        if model_spec.ops[-1] != OUTPUT:
            raise OutOfDomainError("last operation should be 'output'")
        for op in model_spec.ops[1:-1]:
            if op not in self.config["available_ops"]:
                raise OutOfDomainError(
                    f"unsupported op {op} (available ops = {self.config['available_ops']})"
                )


# ``from nasdb.compat.nasbench import api`` mirrors upstream's ``from nasbench import api``.
api = sys.modules[__name__]

__all__ = [
    "CONV1X1",
    "CONV3X3",
    "MAXPOOL3X3",
    "INPUT",
    "OUTPUT",
    "ModelSpec",
    "NASBench",
    "OutOfDomainError",
]
