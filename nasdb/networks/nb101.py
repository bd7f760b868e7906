"""The NAS-Bench-101 network: a 128-channel 3x3 stem, 3 stacks of 3 cells, a classifier.

Between stacks a 2x2 max pool halves the resolution and the channel count doubles. Inside
a cell (as nasbench's model builder defines it): the output's channels are split evenly
over the vertices that feed the output (the first ones take one extra channel each while
a remainder is left); a vertex that does not feed the output takes the widest of its
successors. A vertex sums its inputs: the cell input through a 1x1 conv-BN-ReLU
projection, other vertices truncated to its width (channel slice). The output concatenates
its interior inputs and adds a projection of the cell input when that edge exists.

:func:`param_counts` and :func:`flop_counts` give the same counts from the cell's graph
without torch, so all 423,624 cells can be counted in about a minute.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from nasdb.networks.shapes import ImageTask

STEM_CHANNELS = 128
STACKS = 3
CELLS_PER_STACK = 3
CONV_OPS = {"conv3x3-bn-relu": 3, "conv1x1-bn-relu": 1}
MAXPOOL = "maxpool3x3"


def vertex_channels(c_in: int, c_out: int, matrix: np.ndarray) -> list[int]:
    n = len(matrix)
    channels = [0] * n
    channels[0], channels[-1] = c_in, c_out
    if n == 2:
        return channels
    feeding = [v for v in range(1, n - 1) if matrix[v, n - 1]]
    width, extra = divmod(c_out, len(feeding))
    for k, v in enumerate(feeding):
        channels[v] = width + (1 if k < extra else 0)
    for v in range(n - 3, 0, -1):
        if not matrix[v, n - 1]:
            channels[v] = max(channels[d] for d in range(v + 1, n - 1) if matrix[v, d])
    return channels


class ConvBNReLU(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int):
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(),
        )


class Cell(nn.Module):
    def __init__(self, matrix: np.ndarray, ops: list[str], c_in: int, c_out: int):
        super().__init__()
        self.matrix = np.asarray(matrix, dtype=bool)
        self.channels = vertex_channels(c_in, c_out, self.matrix)
        n = len(ops)
        self.ops = nn.ModuleDict()
        self.projections = nn.ModuleDict()
        for v in range(1, n - 1):
            if ops[v] == MAXPOOL:
                self.ops[str(v)] = nn.MaxPool2d(3, stride=1, padding=1)
            else:
                self.ops[str(v)] = ConvBNReLU(self.channels[v], self.channels[v], CONV_OPS[ops[v]])
        for v in range(1, n):
            if self.matrix[0, v]:
                self.projections[str(v)] = ConvBNReLU(c_in, self.channels[v], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(self.matrix)
        values = [x]
        for v in range(1, n - 1):
            terms = [values[s][:, : self.channels[v]] for s in range(1, v) if self.matrix[s, v]]
            if self.matrix[0, v]:
                terms.append(self.projections[str(v)](x))
            values.append(self.ops[str(v)](sum(terms[1:], terms[0])))
        interior = [values[v] for v in range(1, n - 1) if self.matrix[v, n - 1]]
        if not interior:
            return self.projections[str(n - 1)](x)
        out = torch.cat(interior, dim=1) if len(interior) > 1 else interior[0]
        if self.matrix[0, n - 1]:
            out = out + self.projections[str(n - 1)](x)
        return out


class NB101Network(nn.Module):
    def __init__(self, matrix: np.ndarray, ops: list[str], task: ImageTask):
        super().__init__()
        layers: list[nn.Module] = [ConvBNReLU(task.channels, STEM_CHANNELS, 3)]
        c_in = channels = STEM_CHANNELS
        for stack in range(STACKS):
            if stack:
                layers.append(nn.MaxPool2d(2, stride=2, ceil_mode=True))
                channels *= 2
            for _ in range(CELLS_PER_STACK):
                layers.append(Cell(matrix, ops, c_in, channels))
                c_in = channels
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, task.classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(x)).flatten(1))


def build(index: int, task: ImageTask) -> NB101Network:
    from nasdb import spaces

    matrix, ops = spaces.get("nb101").spec(index)
    return NB101Network(matrix, ops, task)


def _conv_weights(c_in: int, c_out: int, kernel: int) -> int:
    return kernel * kernel * c_in * c_out


def cell_weights(matrix: np.ndarray, ops: list[str], c_in: int, c_out: int) -> tuple[int, int]:
    """(conv weights, BN channels) of one cell: parameters are weights + 2 x BN channels."""
    channels = vertex_channels(c_in, c_out, matrix)
    n = len(ops)
    convs = [
        (channels[v], channels[v], CONV_OPS[ops[v]]) for v in range(1, n - 1) if ops[v] != MAXPOOL
    ]
    convs += [(c_in, channels[v], 1) for v in range(1, n) if matrix[0, v]]
    return sum(_conv_weights(*c) for c in convs), sum(c[1] for c in convs)


def _counts(matrix: np.ndarray, ops: list[str], task: ImageTask) -> tuple[int, int]:
    """(parameters, FLOPs) of the network of one cell, from its graph alone.

    FLOPs as torch's counter takes them: 2 per multiply-accumulate of each conv and of the
    classifier; BN, ReLU, pooling and additions are not counted.
    """
    size = task.size
    weights = _conv_weights(task.channels, STEM_CHANNELS, 3)
    params, macs = weights + 2 * STEM_CHANNELS, weights * size * size
    c_in = channels = STEM_CHANNELS
    for stack in range(STACKS):
        if stack:
            channels *= 2
            size = -(-size // 2)
        for _ in range(CELLS_PER_STACK):
            weights, bn = cell_weights(matrix, ops, c_in, channels)
            params += weights + 2 * bn
            macs += weights * size * size
            c_in = channels
    params += channels * task.classes + task.classes
    macs += channels * task.classes
    return params, 2 * macs


def param_count(matrix: np.ndarray, ops: list[str], task: ImageTask) -> int:
    return _counts(matrix, ops, task)[0]


def counts(indices, task: ImageTask) -> np.ndarray:
    """(n, 2) parameters and torch-counted FLOPs, cell by cell from the graph."""
    from nasdb import spaces

    space = spaces.get("nb101")
    out = [_counts(*space.spec(int(i)), task) for i in np.asarray(indices).reshape(-1)]
    return np.array(out, dtype=np.int64).reshape(-1, 2)


def param_counts(indices, task: ImageTask) -> np.ndarray:
    """Exact parameter counts (about 6,000 cells a second)."""
    return counts(indices, task)[:, 0]


def flop_counts(indices, task: ImageTask) -> np.ndarray:
    """FLOPs for one input image as torch's counter takes them."""
    return counts(indices, task)[:, 1]
