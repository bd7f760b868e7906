"""The NAS-Bench-Macro network: a MobileNetV2-style chain of 8 searchable layers.

A 32-channel 3x3 stem, three stages of 2, 3 and 3 layers (the first layer of each stage
has stride 2 and doubles the channels, to 64, 128, 256), a 1x1 conv to 1280 channels, BN,
ReLU, global pooling and a linear classifier. A layer is an identity (a strided 1x1
conv + BN where the shape changes), or an inverted-residual block: 1x1 expansion by 3 with
a 3x3 depthwise conv, or by 6 with a 5x5 one, then a linear 1x1 projection, with a
residual add when the shape is kept.

Each layer's parameters depend only on its position and choice, so :func:`param_counts`
sums a per-layer table measured on built layers.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import torch
from torch import nn

from nasdb.networks.counts import count_params
from nasdb.networks.shapes import ImageTask
from nasdb.spaces.nbmacro import LAYERS, OPS, STAGES

STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
BLOCKS = {"mb3_k3": (3, 3), "mb6_k5": (6, 5)}  # expansion, depthwise kernel


def _conv_bn(c_in: int, c_out: int, kernel: int = 1, stride: int = 1, groups: int = 1):
    return [
        nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
    ]


class Shortcut(nn.Module):
    """The identity choice: passes through, or a strided 1x1 conv + BN where it must."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        same = c_in == c_out and stride == 1
        self.project = None if same else nn.Sequential(*_conv_bn(c_in, c_out, 1, stride))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.project is None else self.project(x)


class InvertedResidual(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int, expansion: int, kernel: int):
        super().__init__()
        hidden = c_in * expansion
        self.body = nn.Sequential(
            *_conv_bn(c_in, hidden),
            nn.ReLU(),
            *_conv_bn(hidden, hidden, kernel, stride, groups=hidden),
            nn.ReLU(),
            *_conv_bn(hidden, c_out),
        )
        self.residual = c_in == c_out and stride == 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x) if self.residual else self.body(x)


def layer_shapes() -> list[tuple[int, int, int]]:
    """(in channels, out channels, stride) of each of the 8 layers."""
    shapes, channels = [], STEM_CHANNELS
    for n in STAGES:
        for k in range(n):
            stride = 2 if k == 0 else 1
            shapes.append((channels, channels * stride, stride))
            channels *= stride
    return shapes


def make_layer(choice: str, c_in: int, c_out: int, stride: int) -> nn.Module:
    if choice == "identity":
        return Shortcut(c_in, c_out, stride)
    return InvertedResidual(c_in, c_out, stride, *BLOCKS[choice])


class NBMacroNetwork(nn.Module):
    def __init__(self, choices: list[str], task: ImageTask):
        super().__init__()
        self.stem = nn.Sequential(*_conv_bn(task.channels, STEM_CHANNELS, 3), nn.ReLU())
        self.layers = nn.Sequential(
            *(make_layer(c, *shape) for c, shape in zip(choices, layer_shapes(), strict=True))
        )
        last = layer_shapes()[-1][1]
        self.head = nn.Sequential(*_conv_bn(last, HEAD_CHANNELS), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(HEAD_CHANNELS, task.classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head(self.layers(self.stem(x)))
        return self.classifier(self.pool(x).flatten(1))


def choices(index: int) -> list[str]:
    from nasdb import spaces

    key = spaces.get("nbmacro").arch_id(index)
    return [OPS[int(d)] for d in key]


def build(index: int, task: ImageTask) -> NBMacroNetwork:
    return NBMacroNetwork(choices(index), task)


@cache
def _table(task: ImageTask) -> tuple[int, np.ndarray]:
    """Params outside the 8 layers, and an (8, 3) table of each layer choice's params."""
    net = NBMacroNetwork(["identity"] * LAYERS, task)
    base = count_params(net) - count_params(net.layers)
    table = np.array(
        [[count_params(make_layer(op, *shape)) for op in OPS] for shape in layer_shapes()],
        dtype=np.int64,
    )
    return base, table


def param_counts(indices, task: ImageTask) -> np.ndarray:
    from nasdb.spaces.nbmacro import _digits

    base, table = _table(task)
    digits = _digits(np.asarray(indices, dtype=np.int64))
    return base + table[np.arange(LAYERS), digits].sum(axis=1)
