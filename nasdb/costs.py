"""What an evaluation would have cost: simulated training seconds per architecture.

Per (space, task, fidelity), the first of these that the catalog allows:

- ``measured``: training times the catalog holds (NB101's TPU times, NATS-Bench's and
  NAS-Bench-201's seconds per epoch, NAS-Bench-NLP's wall times). Architectures without
  one cost the mean of those with one.
- ``modelled``: derived from measured per-architecture inference times where a space has
  no training times. A training step costs about three forward passes (the backward pass
  about twice the forward one; Kaplan et al. 2020 count 6N against 2N FLOPs per token).
  NB201: HELP's GTX 1080 Ti time for a forward pass of a batch of 256 CIFAR-10 images,
  times 3, times the batches of an epoch; ImageNet16-120's 16x16 images scale that time
  by the cell's FLOPs ratio (:func:`nb201_flops`). NAS-Bench-Graph trains full-batch, one
  forward pass over the graph per epoch: 3 x its measured latency.
- ``nominal``: a constant per epoch (``NOMINAL_SECONDS_PER_EPOCH``), not a measurement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Nominal training cost in seconds per epoch, used when the catalog holds neither training
# nor inference times. These are not measurements: they only make budgets in simulated
# seconds comparable across fidelities (cost = epochs x seconds per epoch), scaled to each
# task's number of training images (CIFAR: 50k, ImageNet16-120: 151.7k). Pass
# seconds_per_epoch= to use your own.
NOMINAL_SECONDS_PER_EPOCH = {
    ("nb201", "cifar10"): 12.0,
    ("nb201", "cifar10-valid"): 6.0,
    ("nb201", "cifar100"): 12.0,
    ("nb201", "imagenet16-120"): 36.0,
    ("nbgraph", None): 0.1,  # full-batch GNN training on one graph
}
DEFAULT_SECONDS_PER_EPOCH = 10.0
TRAIN_TIME_METRICS = ("train_time", "training_time")
# Sources whose train_time is seconds per epoch; every other one's is the run's total.
PER_EPOCH_TIME_SOURCES = ("nb201_nats_tss", "nb201_v1_pth")

BACKWARD_FACTOR = 3.0  # training step / forward pass
NB201_TRAIN_IMAGES = {
    "cifar10": 50_000,
    "cifar10-valid": 25_000,
    "cifar100": 50_000,
    "imagenet16-120": 151_700,
}
NB201_BATCH = 256
NB201_LATENCY_DEVICE = "gtx1080ti_bs256"  # HELP; measured on CIFAR-10-sized inputs
# NB201 FLOPs depend on the dataset's image size and classes; cifar10-valid trains the
# CIFAR-10 network.
_NB201_FLOPS_TASK = {"cifar10-valid": "cifar10"}


@dataclass(frozen=True)
class Cost:
    """Simulated seconds of one evaluation at one fidelity, and where they come from."""

    seconds: np.ndarray | float  # per architecture index, or one constant
    kind: str  # measured, modelled or nominal
    basis: str  # how, in words

    def describe(self) -> str:
        return f"{self.kind} ({self.basis})"


def nb201_flops(db, task: str) -> np.ndarray:
    """FLOPs (M) of all 15,625 NB201 cells on ``task``.

    A cell's FLOPs are exactly linear in its op counts (each op's FLOPs do not depend on
    where it sits): fitted by least squares on the cells the catalog holds FLOPs for
    (NAS-Bench-Suite-Zero, NASLib), which it reproduces to rounding.
    """
    from nasdb import spaces

    task = _NB201_FLOPS_TASK.get(task, task)
    rows = db.con.execute(
        "SELECT arch_index, avg(value) AS v FROM evaluations WHERE space = 'nb201' "
        "AND metric = 'flops' AND task = ? GROUP BY arch_index",
        [task],
    ).fetchnumpy()
    counts = _nb201_op_counts(spaces.get("nb201").ops)
    if len(rows["v"]) < counts.shape[1]:
        from nasdb.errors import UnknownName

        raise UnknownName(f"nb201/{task}: too few FLOPs in the catalog to fit the cell model")
    coef, *_ = np.linalg.lstsq(counts[rows["arch_index"]], rows["v"], rcond=None)
    return counts @ coef


def _nb201_op_counts(ops: np.ndarray) -> np.ndarray:
    """A constant and the number of edges with each op that computes (no none/skip)."""
    from nasdb.spaces.nb201 import OPS

    cols = [np.ones(len(ops))]
    for op in ("nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"):
        cols.append((ops == OPS.index(op)).sum(axis=1))
    return np.column_stack(cols).astype(float)


def training_cost(db, space, task, fidelity, keys, seconds_per_epoch=None, source=None) -> Cost:
    """The cost of evaluating each architecture of (space, task) at ``fidelity``."""
    epochs = fidelity if fidelity is not None else 1
    if seconds_per_epoch is not None:
        return Cost(float(seconds_per_epoch * epochs), "nominal", f"{seconds_per_epoch} s/epoch")
    measured = _measured(db, keys, fidelity, source, epochs)
    if measured is not None:
        return measured
    modelled = _modelled(db, space, task, epochs)
    if modelled is not None:
        return modelled
    per_epoch = NOMINAL_SECONDS_PER_EPOCH.get(
        (space, task), NOMINAL_SECONDS_PER_EPOCH.get((space, None), DEFAULT_SECONDS_PER_EPOCH)
    )
    return Cost(float(per_epoch * epochs), "nominal", f"{per_epoch:g} s/epoch, not measured")


def _measured(db, keys, fidelity, source, epochs) -> Cost | None:
    """Training times at this fidelity: the objective's own source first, then the mean
    over seeds, then the lowest seed."""
    timed = [k for k in keys if k.metric in TRAIN_TIME_METRICS and k.fidelity == fidelity]
    if not timed:
        return None
    timed.sort(key=lambda k: (k.source != source, k.seed is not None, k.seed or 0))
    key = timed[0]
    col = np.array(db.column(key), dtype=float)
    if key.source in PER_EPOCH_TIME_SOURCES:
        col *= epochs
    held = int(np.count_nonzero(~np.isnan(col)))
    basis = f"{key.metric} of {key.source}"
    if held < len(col):
        basis += f" for {held:,} architectures, their mean elsewhere"
    return Cost(_filled(col), "measured", basis)


def _filled(seconds: np.ndarray) -> np.ndarray:
    """Architectures without a time cost the mean of those with one."""
    return np.nan_to_num(seconds, nan=float(np.nanmean(seconds)))


def _modelled(db, space, task, epochs) -> Cost | None:
    """Training seconds from measured inference times (see the module docstring)."""
    devices = {k.device for k in db.keys() if k.space == space and k.metric == "latency"}
    if space == "nb201" and task in NB201_TRAIN_IMAGES and NB201_LATENCY_DEVICE in devices:
        forward = np.array(
            db.column(
                db.resolve(space, task="cifar10", metric="latency", device=NB201_LATENCY_DEVICE)
            )  # fmt: skip
        )
        basis = f"{BACKWARD_FACTOR:g} x HELP's {NB201_LATENCY_DEVICE} forward time per batch"
        if task == "imagenet16-120":
            forward *= nb201_flops(db, task) / nb201_flops(db, "cifar10")
            basis += ", scaled by FLOPs to 16x16 images"
        batches = math.ceil(NB201_TRAIN_IMAGES[task] / NB201_BATCH)
        seconds = _filled(forward / 1000 * BACKWARD_FACTOR * batches * epochs)
        return Cost(seconds, "modelled", basis + f" x {batches} batches x {epochs} epochs")
    devices = {k.device for k in db.keys() if k.space == space and k.task == task
               and k.metric == "latency"}  # fmt: skip
    if space == "nbgraph" and len(devices) == 1:
        (device,) = devices
        forward = db.column(db.resolve(space, task=task, metric="latency", device=device))
        seconds = _filled(np.asarray(forward) / 1000 * BACKWARD_FACTOR * epochs)
        basis = f"{BACKWARD_FACTOR:g} x the {device} full-graph latency x {epochs} epochs"
        return Cost(seconds, "modelled", basis)
    return None
