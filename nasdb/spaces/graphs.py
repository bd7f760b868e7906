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
    codes = np.asarray(codes, dtype=np.int16)
    ops = np.empty((len(codes), len(edges) + 2), dtype=np.int16)
    ops[:, 0], ops[:, -1], ops[:, 1:-1] = 0, 1, codes + 2
    adj = np.broadcast_to(edge_cell(edges, last), (len(codes), ops.shape[1], ops.shape[1]))
    return ops, np.ascontiguousarray(adj)


def chain_graphs(codes: np.ndarray) -> Graphs:
    """Graphs of plain layer stacks: input, one node per layer (op codes + 2), output."""
    codes = np.asarray(codes, dtype=np.int16)
    n = codes.shape[1] + 2
    ops = np.empty((len(codes), n), dtype=np.int16)
    ops[:, 0], ops[:, -1], ops[:, 1:-1] = 0, 1, codes + 2
    adj = np.zeros((n, n), dtype=np.uint8)
    adj[np.arange(n - 1), np.arange(1, n)] = 1
    return ops, np.ascontiguousarray(np.broadcast_to(adj, (len(codes), n, n)))
