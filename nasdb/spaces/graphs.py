"""Architectures as node-labelled DAGs, the shared input of flat, path and GNN features.

A batch of graphs is a pair ``(ops, adjacency)``: ``ops`` (n, N) holds each node's op code
(an index into the space's ``graph_ops``), -1 past a smaller graph's last node;
``adjacency`` (n, N, N) holds 1 for an edge i -> j. Node 0 is the input and nodes are in
topological order, so the matrices are strictly upper-triangular.
"""

from __future__ import annotations

import numpy as np

Graphs = tuple[np.ndarray, np.ndarray]


def edge_cell(edges: tuple[tuple[int, int], ...], last: int) -> np.ndarray:
    """Adjacency of an edge-labelled cell turned into a node-labelled one.

    Cells such as NAS-Bench-201's put ops on edges between summing nodes. As a graph, each
    edge becomes a node carrying its op, fed by the input (if it leaves node 0) or by the
    op-nodes entering its source, and feeding the op-nodes leaving its target or, if that is
    the cell's last node ``last``, the output node. Nodes: input, one per edge, output.
    """
    n = len(edges) + 2
    adj = np.zeros((n, n), dtype=np.uint8)
    for k, (src, dst) in enumerate(edges, start=1):
        if src == 0:
            adj[0, k] = 1
        for m, (_, into) in enumerate(edges, start=1):
            if into == src:
                adj[m, k] = 1
        if dst == last:
            adj[k, n - 1] = 1
    return adj


def edge_cell_graphs(codes: np.ndarray, edges, last: int) -> Graphs:
    """Graphs of cells given as (n, edges) op codes; vocabulary: input, output, then ops."""
    return _with_ends(codes, edge_cell(edges, last))


def chain_graphs(codes: np.ndarray) -> Graphs:
    """Graphs of plain layer stacks: input, one node per layer (op codes + 2), output."""
    n = np.shape(codes)[1] + 2
    adj = np.zeros((n, n), dtype=np.uint8)
    adj[np.arange(n - 1), np.arange(1, n)] = 1
    return _with_ends(codes, adj)


def _with_ends(codes: np.ndarray, adjacency: np.ndarray) -> Graphs:
    """Every cell framed by an input (code 0) and an output (code 1) node, ops shifted by
    2, all sharing one adjacency."""
    codes = np.asarray(codes, dtype=np.int16)
    n = len(adjacency)
    ops = np.empty((len(codes), n), dtype=np.int16)
    ops[:, 0], ops[:, -1], ops[:, 1:-1] = 0, 1, codes + 2
    return ops, np.ascontiguousarray(np.broadcast_to(adjacency, (len(codes), n, n)))
