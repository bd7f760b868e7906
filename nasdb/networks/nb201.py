"""The NAS-Bench-201 / NATS-Bench topology network, built for any of its 15,625 cells.

Layout (NATS-Bench, "tss"): a 3x3 stem convolution to 16 channels, three stages of five
cells at 16, 32 and 64 channels joined by residual blocks that halve the resolution, a
final BatchNorm + ReLU, global average pooling and a linear classifier. A cell has four
nodes; node ``j`` sums one op over each earlier node. Ops: ``none`` (zero),
``skip_connect``, ReLU-Conv-BN 1x1 and 3x3, and 3x3 average pooling without padded zeros.

Parameter counts and FLOPs are linear in how many of each op a cell holds, so
:func:`param_counts` and :func:`flop_counts` give all cells at once from a per-op table
measured on built modules.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import torch
from torch import nn

from nasdb.networks.counts import count_flops, count_params
from nasdb.networks.shapes import ImageTask
from nasdb.spaces.nb201 import OPS, STRING_EDGES

CHANNELS = (16, 32, 64)
CELLS_PER_STAGE = 5


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1):
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )


class Zero(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_op(name: str, channels: int) -> nn.Module:
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown NB201 op {name!r}")


class Cell(nn.Module):
    """Four nodes; node j is the sum of each edge op applied to an earlier node."""

    def __init__(self, ops: list[str], channels: int):
        super().__init__()
        self.edges = list(STRING_EDGES)
        self.ops = nn.ModuleList(make_op(op, channels) for op in ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for node in (1, 2, 3):
            terms = [
                op(nodes[src])
                for (src, dst), op in zip(self.edges, self.ops, strict=True)
                if dst == node
            ]
            nodes.append(sum(terms[1:], terms[0]))
        return nodes[3]


class ResidualReduction(nn.Module):
    """Halves the resolution and widens: two ReLU-Conv-BN 3x3, shortcut avg-pool + 1x1 conv."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.shortcut = nn.Sequential(
            nn.AvgPool2d(2, stride=2), nn.Conv2d(c_in, c_out, 1, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_b(self.conv_a(x)) + self.shortcut(x)


class NB201Network(nn.Module):
    def __init__(self, ops: list[str], task: ImageTask):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(task.channels, CHANNELS[0], 3, padding=1, bias=False),
            nn.BatchNorm2d(CHANNELS[0]),
        )
        layers: list[nn.Module] = []
        for stage, channels in enumerate(CHANNELS):
            if stage:
                layers.append(ResidualReduction(CHANNELS[stage - 1], channels))
            layers.extend(Cell(ops, channels) for _ in range(CELLS_PER_STAGE))
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(CHANNELS[-1]), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(CHANNELS[-1], task.classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.lastact(self.cells(self.stem(x)))
        return self.classifier(self.pool(x).flatten(1))


def cell_ops(index: int) -> list[str]:
    from nasdb import spaces

    space = spaces.get("nb201")
    return [OPS[o] for o in space.ops[space.index(index)]]


def build(index: int, task: ImageTask) -> NB201Network:
    return NB201Network(cell_ops(index), task)


@cache
def _tables(task: ImageTask) -> tuple[int, np.ndarray, int, np.ndarray]:
    """(params of the all-``none`` network, per-op params per edge, the same for FLOPs).

    Measured on built modules: the all-``none`` network, then one op at a time in each
    stage's cells, so the linear model never assumes a formula for any layer.
    """
    base = build_ops(["none"] * 6, task)
    p0, f0 = count_params(base), count_flops(base, task)
    p_op, f_op = np.zeros(len(OPS), np.int64), np.zeros(len(OPS), np.int64)
    for k, name in enumerate(OPS):
        ops = ["none"] * 5 + [name]  # one edge 2->3 carrying ``name``
        net = build_ops(ops, task)
        p_op[k] = count_params(net) - p0
        f_op[k] = count_flops(net, task) - f0
    return p0, p_op, f0, f_op


def build_ops(ops: list[str], task: ImageTask) -> NB201Network:
    return NB201Network(ops, task)


def _op_counts(indices: np.ndarray) -> np.ndarray:
    from nasdb import spaces

    ops = spaces.get("nb201").ops[np.asarray(indices, dtype=np.int64)]
    return (ops[:, :, None] == np.arange(len(OPS))).sum(axis=1)


def param_counts(indices: np.ndarray, task: ImageTask) -> np.ndarray:
    """Exact parameter count of each cell's network (every op on every edge holds weights,
    reachable or not, as upstream builds it)."""
    p0, p_op, _, _ = _tables(task)
    return p0 + _op_counts(indices) @ p_op


def flop_counts(indices: np.ndarray, task: ImageTask) -> np.ndarray:
    """Torch-counted FLOPs of each cell's network for one input image."""
    _, _, f0, f_op = _tables(task)
    return f0 + _op_counts(indices) @ f_op
