"""Counting on built modules: trainable parameters, and FLOPs by torch's own counter."""

from __future__ import annotations

import torch
from torch import nn

from nasdb.networks.shapes import ImageTask


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def count_flops(module: nn.Module, task: ImageTask) -> int:
    """FLOPs of one forward pass on one image (torch counts a multiply-accumulate as 2)."""
    from torch.utils.flop_counter import FlopCounterMode

    device = next(module.parameters()).device  # "meta": shapes only, no arithmetic
    x = torch.zeros(1, task.channels, task.size, task.size, device=device)
    module.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(x)
    return int(counter.get_total_flops())
