"""NAS-Bench-Graph GNNs: four op nodes wired by a link pattern, torch-geometric layers.

Node ``i`` (1..4) applies its op to node ``link[i-1]`` (0 is the input after optional
pre-processing layers); nodes without successors are concatenated and passed through
optional post-processing linear layers to a classifier. Every node is followed by a
BatchNorm of the hidden width. Ops as upstream describes them: GCN, GAT (2 heads
concatenated to the hidden width), GIN (one linear layer), Chebyshev (K=2), GraphSAGE,
ARMA (one stack, one layer), k-GNN (GraphConv), a linear layer (fc), and skip, which
passes its input on unchanged (so a skip chain from the raw input keeps its width).

Per-dataset widths are those of :data:`nasdb.networks.shapes.BENCHMARK_TASKS`;
:func:`param_counts` sums a per-op table measured on built torch-geometric layers.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import torch
from torch import nn

from nasdb.networks.shapes import GraphTask as GraphShape
from nasdb.spaces.nbgraph import decode


def make_op(op: str, c_in: int, c_out: int) -> nn.Module:
    import torch_geometric.nn as gnn

    if op == "gcn":
        return gnn.GCNConv(c_in, c_out)
    if op == "gat":
        return gnn.GATConv(c_in, c_out // 2, heads=2)
    if op == "gin":
        return gnn.GINConv(nn.Linear(c_in, c_out))
    if op == "cheb":
        return gnn.ChebConv(c_in, c_out, K=2)
    if op == "sage":
        return gnn.SAGEConv(c_in, c_out)
    if op == "arma":
        return gnn.ARMAConv(c_in, c_out, num_stacks=1, num_layers=1)
    if op == "graph":
        return gnn.GraphConv(c_in, c_out)
    if op == "fc":
        return nn.Linear(c_in, c_out)
    raise ValueError(f"unknown NAS-Bench-Graph op {op!r}")


def _widths(link, ops, shape: GraphShape) -> tuple[list[int], list[int]]:
    """Input width of each node's op, and the widths of the leaves (concatenated)."""
    width = [shape.dim if shape.num_pre else shape.features]
    inputs = []
    for src, op in zip(link, ops, strict=True):
        inputs.append(width[src])
        width.append(width[src] if op == "skip" else shape.dim)
    leaves = [i for i in range(1, 5) if i not in link]
    return inputs, [width[i] for i in leaves]


class NBGraphNetwork(nn.Module):
    def __init__(self, link, ops, shape: GraphShape, dropout: float = 0.5):
        super().__init__()
        self.link, self.names = tuple(link), tuple(ops)
        inputs, leaf_widths = _widths(link, ops, shape)
        pre, c = [], shape.features
        for _ in range(shape.num_pre):
            pre.append(nn.Linear(c, shape.dim))
            c = shape.dim
        self.pre = nn.ModuleList(pre)
        self.ops = nn.ModuleList(
            nn.Identity() if op == "skip" else make_op(op, c_in, shape.dim)
            for op, c_in in zip(ops, inputs, strict=True)
        )
        self.norms = nn.ModuleList(nn.BatchNorm1d(shape.dim) for _ in ops)
        post, c = [], sum(leaf_widths)
        for _ in range(shape.num_pro):
            post.append(nn.Linear(c, shape.dim))
            c = shape.dim
        self.post = nn.ModuleList(post)
        self.classifier = nn.Linear(c, shape.classes)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        f = nn.functional
        for layer in self.pre:
            x = f.relu(layer(x))
        nodes = [x]
        for src, name, op, norm in zip(self.link, self.names, self.ops, self.norms, strict=True):
            h = nodes[src]
            if name != "skip":
                h = op(h) if name == "fc" else op(h, edge_index)
                h = f.dropout(f.relu(norm(h)), self.dropout, self.training)
            nodes.append(h)
        x = torch.cat([nodes[i] for i in range(1, 5) if i not in self.link], dim=1)
        for layer in self.post:
            x = f.dropout(f.relu(layer(x)), self.dropout, self.training)
        return self.classifier(x)


def build(index: int, shape: GraphShape) -> NBGraphNetwork:
    link, ops = decode(index)
    return NBGraphNetwork(link, ops, shape)


@cache
def _op_params(op: str, c_in: int, c_out: int) -> int:
    if op == "skip":
        return 0
    return sum(p.numel() for p in make_op(op, c_in, c_out).parameters())


def param_count(index: int, shape: GraphShape) -> int:
    link, ops = decode(index)
    inputs, leaf_widths = _widths(link, ops, shape)
    d = shape.dim
    total = sum(_op_params(op, c, d) for op, c in zip(ops, inputs, strict=True))
    total += 4 * 2 * d  # the BatchNorm after each node
    c = shape.features
    for _ in range(shape.num_pre):
        total += c * d + d
        c = d
    c = sum(leaf_widths)
    for _ in range(shape.num_pro):
        total += c * d + d
        c = d
    return total + c * shape.classes + shape.classes


def param_counts(indices, shape: GraphShape) -> np.ndarray:
    return np.array([param_count(int(i), shape) for i in indices], dtype=np.int64)
