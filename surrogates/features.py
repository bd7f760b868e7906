"""Featurizers: what a surrogate sees of an architecture.

- ``flat``: one-hot node ops and the upper triangle of the adjacency (works for every
  space with graphs; constant columns cost tree models nothing).
- ``path``: NAS-Bench-101's path encoding (BANANAS): which op sequences lead from input
  to output, one indicator per sequence of up to 5 ops (364 features).
- ``graph``: the graphs themselves, for the GIN; ``to_data`` gives torch-geometric ``Data``.
- ``flat+path``: both side by side.

Zero-cost proxies from the catalog can be added to any of them (``extra``); NaN where the
catalog has no score, which tree models handle natively.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from nasdb.errors import SurrogateError

KINDS = ("flat", "path", "graph")
_PATH_OPS = 3  # NB101's inner ops
_PATH_LEN = 5  # at most 5 inner nodes on a path
# sequences of length L are numbered after all shorter ones: offset[L] + base-3 code
_OFFSET = np.concatenate([[0], np.cumsum(_PATH_OPS ** np.arange(_PATH_LEN + 1))])


@dataclass
class GraphInputs:
    """A batch of graphs plus optional per-graph features: the GIN's ``X``."""

    ops: np.ndarray  # (n, N) op codes, -1 = no node
    adjacency: np.ndarray  # (n, N, N), 1 = edge i -> j
    n_ops: int  # vocabulary size
    extra: np.ndarray | None = None  # (n, p) float32

    def __len__(self) -> int:
        return len(self.ops)

    def __getitem__(self, rows) -> GraphInputs:
        extra = None if self.extra is None else self.extra[rows]
        return GraphInputs(self.ops[rows], self.adjacency[rows], self.n_ops, extra)

    def to_data(self) -> list:
        """One torch-geometric ``Data`` per graph (``x`` one-hot ops, ``edge_index``)."""
        import torch
        from torch_geometric.data import Data

        out = []
        for k in range(len(self)):
            keep = self.ops[k] >= 0
            x = np.eye(self.n_ops, dtype=np.float32)[self.ops[k][keep]]
            src, dst = np.nonzero(self.adjacency[k][np.ix_(keep, keep)])
            data = Data(
                x=torch.from_numpy(x),
                edge_index=torch.from_numpy(np.stack([src, dst]).astype(np.int64)),
            )
            if self.extra is not None:
                data.extra = torch.from_numpy(self.extra[k : k + 1])
            out.append(data)
        return out


def check(space, kind: str) -> None:
    """Fail with one line unless ``space`` can be featurized as ``kind``."""
    parts = kind.split("+")
    if any(p not in KINDS for p in parts) or ("graph" in parts and len(parts) > 1):
        raise SurrogateError(f"unknown features {kind!r}; expected {', '.join(KINDS)} or flat+path")
    if not hasattr(space, "graphs"):
        raise SurrogateError(f"space {space.name!r} has no graph form, so no features yet")
    if "path" in parts and space.name != "nb101":
        raise SurrogateError("path features are defined for nb101 only; use flat or graph")


def names(space, kind: str, proxies: tuple[str, ...] = ()) -> list[str]:
    """Column names of a flat/path featurization, to read feature importances by."""
    cols = []
    for part in kind.split("+"):
        if part == "path":
            cols += [f"path:{_path_name(c)}" for c in range(int(_OFFSET[-1]))]
        else:
            ops, _ = space.graphs(np.array([0]))
            n = ops.shape[1]
            cols += [f"node{i}:{op}" for i in range(n) for op in space.graph_ops]
            cols += [f"edge{i}->{j}" for i in range(n) for j in range(i + 1, n)]
    return cols + [f"proxy:{p}" for p in proxies]


def uses_iso(space) -> bool:
    """Whether the space names each cell's isomorphism class by a representative index."""
    iso = getattr(space, "iso_ids", None)
    return isinstance(iso, np.ndarray) and iso.dtype.kind in "iu"


def featurize(space, indices, kind: str, extra: np.ndarray | None = None, canonical: bool = False):
    """Features of ``indices`` (a numpy array) for a model reading ``kind`` inputs.

    ``kind`` is one of KINDS or several joined by ``+`` (``flat+path``). With
    ``canonical``, where the space names isomorphism classes by a representative index
    (NAS-Bench-201), a cell is described by its representative: isomorphic cells compute
    the same function, so one description lets a model pool what it learns about all of
    them. Not for costs such as latency: a cell's dead edges still run on the device.
    """
    check(space, kind)
    indices = np.asarray(indices, dtype=np.int64)
    if canonical and uses_iso(space):
        indices = space.iso_ids[indices]
    ops, adj = space.graphs(indices)
    if kind == "graph":
        return GraphInputs(ops, adj, len(space.graph_ops), extra)
    parts = [
        nb101_paths(space, indices) if part == "path" else flat(ops, adj, len(space.graph_ops))
        for part in kind.split("+")
    ]
    if extra is not None:
        parts.append(np.asarray(extra, dtype=np.float32))
    return np.hstack(parts)


def flat(ops: np.ndarray, adjacency: np.ndarray, n_ops: int) -> np.ndarray:
    """One-hot ops per node (all zero for padding) and the upper-triangular edges."""
    n, width = ops.shape
    onehot = (ops[:, :, None] == np.arange(n_ops)).reshape(n, width * n_ops)
    rows, cols = np.triu_indices(width, k=1)
    upper = adjacency[:, rows, cols]
    return np.hstack([onehot, upper]).astype(np.float32)


_PATHS_FILE = "nb101_paths_v1.npy"
_paths: list[np.ndarray] = []  # the packed table, once loaded


def nb101_paths(space, indices: np.ndarray) -> np.ndarray:
    """Path encodings of NB101 cells, read from a table of all 423,624 built once per
    machine (packed bits in the cache directory): featurizing is then a row gather."""
    if not _paths:
        from nasdb.catalog import cache_dir, temp_beside

        path = cache_dir() / _PATHS_FILE
        try:
            table = np.load(path)
        except (OSError, ValueError):
            table = None
        if table is None or table.shape != (space.size, (int(_OFFSET[-1]) + 7) // 8):
            every = np.arange(space.size)
            table = np.concatenate(
                [
                    np.packbits(path_encoding(*space.graphs(every[s : s + 65_536])) > 0, axis=1)
                    for s in range(0, space.size, 65_536)
                ]
            )
            tmp = temp_beside(path)
            with open(tmp, "wb") as fh:
                np.save(fh, table)
            os.replace(tmp, path)
        _paths.append(table)
    rows = _paths[0][np.asarray(indices, dtype=np.int64)]
    return np.unpackbits(rows, axis=1, count=int(_OFFSET[-1])).astype(np.float32)


def path_encoding(ops: np.ndarray, adjacency: np.ndarray, chunk: int = 65_536) -> np.ndarray:
    """Which input-to-output op sequences a cell has (NB101 graphs: codes 2..4 inner ops).

    Nodes are topologically ordered, so one pass in node order carries, per node, the set
    of sequences that reach it; a node appends its own op, the output node adds nothing.
    """
    n, width = ops.shape
    total = int(_OFFSET[-1])
    extend = _extension_table()
    out = np.zeros((n, total), dtype=np.float32)
    for start in range(0, n, chunk):
        o, a = ops[start : start + chunk], adjacency[start : start + chunk].astype(bool)
        m = len(o)
        reach = np.zeros((m, width, total), dtype=bool)
        reach[:, 0, 0] = True  # the empty sequence at the input
        for j in range(1, width):
            into = (a[:, :, j, None] & reach).any(axis=1)  # sequences arriving at j
            inner = (o[:, j] >= 2)[:, None]
            grown = np.zeros_like(into)
            for op in range(_PATH_OPS):
                rows = o[:, j] == op + 2
                if rows.any():
                    src = into[rows][:, extend[op] >= 0]
                    block = np.zeros((int(rows.sum()), total), dtype=bool)
                    block[:, extend[op][extend[op] >= 0]] = src
                    grown[rows] = block
            reach[:, j] = np.where(inner, grown, into)
        last = (o >= 0).sum(axis=1) - 1  # the output node
        out[start : start + m] = reach[np.arange(m), last]
    return out


def _extension_table() -> np.ndarray:
    """(3, 364): the code of sequence s followed by op k, -1 where s is already 5 long."""
    total = int(_OFFSET[-1])
    table = np.full((_PATH_OPS, total), -1, dtype=np.int64)
    for length in range(_PATH_LEN):
        codes = np.arange(_PATH_OPS**length)
        for op in range(_PATH_OPS):
            table[op, _OFFSET[length] + codes] = _OFFSET[length + 1] + codes * _PATH_OPS + op
    return table


def _path_name(code: int) -> str:
    from nasdb.spaces.nb101_cells import OPS

    length = int(np.searchsorted(_OFFSET, code, side="right") - 1)
    rest, seq = code - int(_OFFSET[length]), []
    for _ in range(length):
        rest, op = divmod(rest, _PATH_OPS)
        seq.append(OPS[op])
    return ">".join(reversed(seq)) or "input>output"
