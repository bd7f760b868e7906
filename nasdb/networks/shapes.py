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
    """Node classification: ``features`` inputs per node, ``classes`` outputs, and the GNN's
    hidden width and numbers of linear layers before and after its op nodes."""

    name: str
    features: int
    classes: int
    dim: int = 128
    num_pre: int = 0
    num_pro: int = 1


# The benchmarks' own tasks, as their tables were measured.
BENCHMARK_TASKS: dict[str, dict[str, ImageTask]] = {
    "nb201": {
        "cifar10": ImageTask("cifar10", 3, 32, 10),
        "cifar100": ImageTask("cifar100", 3, 32, 100),
        "imagenet16-120": ImageTask("imagenet16-120", 3, 16, 120),
    },
    "nb101": {"cifar10": ImageTask("cifar10", 3, 32, 10)},
    "nbmacro": {"cifar10": ImageTask("cifar10", 3, 32, 10)},
    # NAS-Bench-Graph: the datasets' feature and class counts, and the widths and layer
    # counts under which every parameter count of the bench files is reproduced.
    "nbgraph": {
        t.name: t
        for t in (
            GraphTask("cora", 1433, 7, 256, 0, 1),
            GraphTask("citeseer", 3703, 6, 256, 0, 1),
            GraphTask("pubmed", 500, 3, 128, 0, 0),
            GraphTask("cs", 6805, 15, 128, 1, 0),
            GraphTask("physics", 8415, 5, 256, 1, 0),
            GraphTask("photo", 745, 8, 128, 0, 0),
            GraphTask("computers", 767, 10, 64, 1, 1),
            GraphTask("arxiv", 128, 40, 128, 0, 1),
            GraphTask("proteins", 8, 112, 256, 1, 1),
        )
    },
}
