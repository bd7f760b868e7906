"""What a network needs to know about a task: input and output shapes, nothing else."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageTask:
    """Square images of ``channels`` x ``size`` x ``size`` in ``classes`` classes."""

    name: str
    channels: int
    size: int
    classes: int


@dataclass(frozen=True)
class GraphTask:
    """Node classification: ``features`` inputs per node, ``classes`` outputs."""

    name: str
    features: int
    classes: int


# The benchmarks' own tasks, as their tables were measured.
BENCHMARK_TASKS: dict[str, dict[str, ImageTask]] = {
    "nb201": {
        "cifar10": ImageTask("cifar10", 3, 32, 10),
        "cifar100": ImageTask("cifar100", 3, 32, 100),
        "imagenet16-120": ImageTask("imagenet16-120", 3, 16, 120),
    },
    "nb101": {"cifar10": ImageTask("cifar10", 3, 32, 10)},
    "nbmacro": {"cifar10": ImageTask("cifar10", 3, 32, 10)},
}
