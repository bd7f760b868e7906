"""Torch networks for the catalog's architectures: build, count parameters and FLOPs.

``build(space, arch, task=...)`` takes an architecture in any form the space's ``index``
reads. ``task`` is a benchmark task of the space (default: its reference task, such as
``'cifar10'`` or ``'cora'``), a task registered
with ``nasdb task add``, or an :class:`~nasdb.networks.shapes.ImageTask`. Parameter counts
equal the benchmark tables'; FLOPs are torch's own count of one forward pass on one
input (a multiply-accumulate is 2 FLOPs; NAS papers' "FLOPs" are the MACs, half that).
"""

from __future__ import annotations

import importlib

import numpy as np

from nasdb import spaces
from nasdb.errors import NasdbError
from nasdb.networks.shapes import BENCHMARK_TASKS, GraphTask, ImageTask

BUILT_SPACES = ("nb101", "nb201", "nbgraph", "nbmacro")


class NetworkError(NasdbError):
    """A network that cannot be built: unknown space or task, or a bad shape."""


def _module(space: str):
    if space not in BUILT_SPACES:
        raise NetworkError(
            f"no network builder for space {space!r}; available: {', '.join(BUILT_SPACES)}"
        )
    return importlib.import_module(f"nasdb.networks.{space}")


def task_shape(space: str, task, home=None) -> ImageTask | GraphTask:
    """The input/output shape of ``task``: a benchmark task or a registered one."""
    if isinstance(task, (ImageTask, GraphTask)):
        return task
    if task is None:  # the space's reference task, e.g. cifar10 or cora
        task = spaces.get(space).reference_task
    known = BENCHMARK_TASKS.get(space, {})
    if task in known:
        return known[task]
    from nasdb.networks import tasks

    registered = task if isinstance(task, tasks.Task) else tasks.find(task, home)
    if registered is not None:
        if registered.space != space:
            raise NetworkError(
                f"task {task!r} is registered for space {registered.space!r}, not {space!r}"
            )
        return registered.shape
    raise NetworkError(
        f"unknown task {task!r} for space {space!r}; benchmark tasks: "
        f"{', '.join(known) or 'none'}; register one with `nasdb task add`"
    )


def build(space: str, arch, task=None, home=None):
    """A freshly initialised ``torch.nn.Module`` for ``arch`` on ``task``.

    ``home`` is the catalog whose task registry names user tasks (default: $NASDB_HOME).
    """
    module = _module(space)
    return module.build(spaces.get(space).index(arch), task_shape(space, task, home))


def params(space: str, arch, task=None) -> int:
    """Trainable parameters of the built network (counted on the module)."""
    from nasdb.networks.counts import count_params

    return count_params(build(space, arch, task))


def flops(space: str, arch, task=None) -> int:
    """torch.utils.flop_counter FLOPs of one forward pass on one input of ``task``."""
    from nasdb.networks.counts import count_flops

    if space == "nbgraph":
        raise NetworkError("FLOPs of a GNN depend on the graph it runs on; not counted")
    import torch

    shape = task_shape(space, task)
    with torch.device("meta"):  # weights without memory; the counter needs only shapes
        net = build(space, arch, shape)
    return count_flops(net, shape)


def param_counts(space: str, indices, task=None) -> np.ndarray:
    """Parameter counts of many architectures at once, without building each network."""
    return _module(space).param_counts(np.asarray(indices), task_shape(space, task))


def flop_counts(space: str, indices, task=None) -> np.ndarray:
    """FLOPs (as :func:`flops` counts them) of many NB201 or NB101 cells without building
    each network: NB201's are linear in the cell's op counts, NB101's follow from its graph."""
    if space not in ("nb101", "nb201"):
        raise NetworkError(f"flop_counts covers nb101 and nb201; use flops() for {space}")
    return _module(space).flop_counts(np.asarray(indices), task_shape(space, task))
