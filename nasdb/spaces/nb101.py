"""NAS-Bench-101 cell space: 423,624 cells named by the nasbench fingerprint hash.

``arch_index`` is the position of a cell's hash among all hashes sorted, the index the
FreeREA tables use; ``arch_id`` is the hash itself, which every NB101 paper and tool
shares and which is already isomorphism-invariant, so it is the iso class too. The table
of cells is enumerated once (see :mod:`nasdb.spaces.nb101_cells`) and cached as an .npz
file in ``cache_dir``.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

import numpy as np

from nasdb.errors import UnknownName
from nasdb.spaces import to_indices
from nasdb.spaces.graphs import Graphs
from nasdb.spaces.nb101_cells import (
    INPUT_LABEL,
    MAX_VERTICES,
    NUM_CELLS,
    OPS,
    OUTPUT_LABEL,
    Cells,
    check_cell,
    fingerprint,
    load_or_build,
    op_names,
)

SIZE = NUM_CELLS
# NASLib's 56-tuple: the 7x7 matrix row by row, then one code per vertex from this list.
NASLIB_OPS = ("input", "output", "maxpool3x3", "conv1x1-bn-relu", "conv3x3-bn-relu")
_HASH = re.compile(r"[0-9a-fA-F]{32}")
_MODULE_KEYS = ("module_adjacency", "module_operations")  # nasbench's query result
_EDGE_SPOTS = [(i, j) for j in range(MAX_VERTICES) for i in range(j)]


def _is_matrix(x) -> bool:
    if isinstance(x, np.ndarray):
        return x.ndim == 2
    return (
        isinstance(x, (list, tuple))
        and len(x) > 0
        and all(
            isinstance(row, (list, tuple, np.ndarray))
            and all(isinstance(v, (int, np.integer)) for v in row)
            for row in x
        )
    )


def _is_ops(x) -> bool:
    return isinstance(x, (list, tuple, np.ndarray)) and all(
        isinstance(o, (str, int, np.integer)) for o in x
    )


class NB101Space:
    """The NAS-Bench-101 cells; built on first use, from ``cache_dir`` when it holds them."""

    name = "nb101"
    size = SIZE
    reference_task = "cifar10"
    uses_cache = True  # ``spaces.get`` hands it the machine's cache directory

    def __init__(self, cache_dir: Path | str | None = None, workers: int | None = None):
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.workers = workers

    @cached_property
    def cells(self) -> Cells:
        return load_or_build(self.cache_dir, self.workers)

    # identity ------------------------------------------------------------------------
    def index(self, arch) -> int:
        """Index of an index, a hash, an encoding, an (adjacency, ops) pair or a NASLib tuple.

        Ops may be names (``conv3x3-bn-relu``) or nasbench labels (-1 input, -2 output,
        0/1/2 in :data:`OPS` order); the pair is pruned first, as nasbench does.
        """
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            if 0 <= arch < SIZE:
                return int(arch)
            raise UnknownName(f"nb101: index {arch} is outside 0..{SIZE - 1}")
        if isinstance(arch, str):
            text = arch.strip()
            if _HASH.fullmatch(text):  # before digits: a hash may be all digits
                return self._index_of_hash(text.lower())
            if text.isdigit():
                return self.index(int(text))
            if ";" in text:
                return self._index_of_pair(*self._parse_encoding(text))
            raise UnknownName(
                f"nb101: {arch!r} is neither an index, a 32-hex hash nor an encoding "
                "like '011|001|000;input,conv3x3-bn-relu,output'"
            )
        if isinstance(arch, dict):
            keys = (
                ("matrix", "ops") if "matrix" in arch else ("module_adjacency", "module_operations")
            )
            if all(k in arch for k in keys):
                return self._index_of_pair(arch[keys[0]], arch[keys[1]])
        if isinstance(arch, (tuple, list, np.ndarray)):
            if len(arch) == 2 and _is_ops(arch[1]):
                return self._index_of_pair(arch[0], arch[1])
            if len(arch) == MAX_VERTICES**2 + MAX_VERTICES:
                return self.from_naslib_tuple(arch)
        raise UnknownName(f"nb101: cannot read an architecture from {type(arch).__name__}")

    def is_one(self, arch) -> bool:
        if isinstance(arch, dict):
            return True
        if isinstance(arch, tuple) and len(arch) == MAX_VERTICES**2 + MAX_VERTICES:
            return all(isinstance(c, (int, np.integer)) for c in arch)
        return (
            isinstance(arch, (tuple, list))
            and len(arch) == 2
            and _is_matrix(arch[0])
            and _is_ops(arch[1])
        )

    def indices(self, archs) -> np.ndarray:
        if isinstance(archs, (list, tuple)) and archs and all(isinstance(a, str) for a in archs):
            if all(_HASH.fullmatch(a) for a in archs):
                return self.indices_of_hashes(archs)
        return to_indices(self, archs)

    def indices_of_hashes(self, hashes) -> np.ndarray:
        """Vectorised hash -> index, for loaders that key their rows by hash."""
        keys = np.char.lower(np.asarray(hashes, dtype="U32")).astype("S32")
        pos = np.searchsorted(self.cells.hashes, keys)
        found = pos < SIZE
        found[found] = self.cells.hashes[pos[found]] == keys[found]
        if not found.all():
            self._index_of_hash(keys[~found][0].decode())  # raises with the first miss
        return pos.astype(np.int64)

    def _index_of_hash(self, h: str) -> int:
        key = h.encode()
        pos = int(np.searchsorted(self.cells.hashes, key))
        if pos < SIZE and self.cells.hashes[pos] == key:
            return pos
        raise UnknownName(f"nb101: hash {h} is not a NAS-Bench-101 cell")

    def _index_of_pair(self, adjacency, ops) -> int:
        h = fingerprint(*check_cell(adjacency, ops))
        try:
            return self._index_of_hash(h)
        except UnknownName:  # every valid cell is in the table, so this is a broken table
            raise RuntimeError(f"nb101: valid cell {h} is missing from the cell table") from None

    @staticmethod
    def _parse_encoding(text: str) -> tuple[np.ndarray, list[str]]:
        rows, _, ops = text.partition(";")
        lines = rows.split("|")
        if not all(line and set(line) <= {"0", "1"} for line in lines):
            raise UnknownName(f"nb101: adjacency in {text!r} must be rows of 0/1 separated by |")
        if len({len(line) for line in lines}) != 1:
            raise UnknownName(f"nb101: adjacency rows in {text!r} differ in length")
        matrix = np.array([[int(c) for c in line] for line in lines], dtype=np.int8)
        return matrix, [o.strip() for o in ops.split(",")]

    def from_naslib_tuple(self, tup) -> int:
        """Index of a NASLib / zero-cost 56-tuple (7x7 matrix, then 7 op codes)."""
        values = [int(v) for v in tup]
        if len(values) != 56 or not all(0 <= v < len(NASLIB_OPS) for v in values[49:]):
            raise UnknownName(f"nb101: {tuple(tup)!r} is not a NASLib 56-tuple")
        matrix = np.array(values[:49]).reshape(MAX_VERTICES, MAX_VERTICES)
        return self._index_of_pair(matrix, [NASLIB_OPS[v] for v in values[49:]])

    # names -----------------------------------------------------------------------------
    def arch_id(self, index: int) -> str:
        return self.cells.hashes[self.index(index)].decode()

    def arch_ids(self, indices: np.ndarray) -> list[str]:
        return self.cells.hashes[np.asarray(indices, dtype=np.int64)].astype("U32").tolist()

    def spec(self, index: int) -> tuple[np.ndarray, list[str]]:
        """(adjacency, op names) of the cell's stored, already pruned representative."""
        i = self.index(index)
        nv = int(self.cells.num_vertices[i])
        adjacency = self.cells.adjacency(i)[:nv, :nv]
        return adjacency, op_names(self.cells.ops[i, :nv])

    def encoding(self, index: int) -> str:
        return self.encodings(np.array([self.index(index)]))[0]

    def encodings(self, indices: np.ndarray) -> list[str]:
        """``'0110|0001|0001|0000;input,conv3x3-bn-relu,maxpool3x3,output'`` per index."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        out = [""] * len(idx)
        nvs = self.cells.num_vertices[idx]
        for nv in np.unique(nvs):
            nv = int(nv)
            where = np.flatnonzero(nvs == nv)
            rows = idx[where]
            chars = self.cells.adjacency(rows)[:, :nv, :nv] + np.int8(ord("0"))
            bars = np.full((len(rows), nv, 1), ord("|"), dtype=np.int8)
            text = np.concatenate([chars, bars], axis=2).reshape(len(rows), -1)[:, :-1]
            matrices = text.astype(np.uint8).view(f"S{nv * (nv + 1) - 1}").ravel()
            names: dict[bytes, str] = {}
            for pos, row, matrix in zip(where, rows, matrices, strict=True):
                ops = self.cells.ops[row, :nv].tobytes()
                if ops not in names:
                    names[ops] = ",".join(op_names(self.cells.ops[row, :nv]))
                out[pos] = matrix.decode() + ";" + names[ops]
        return out

    def architectures(self, indices: np.ndarray) -> dict[str, list]:
        ids = self.arch_ids(indices)
        return {"arch_id": ids, "encoding": self.encodings(indices), "iso_id": ids}

    def describe(self, index: int) -> dict:
        i = self.index(index)
        adjacency, ops = self.spec(i)
        return {
            "index": i,
            "hash": self.arch_id(i),
            "adjacency": adjacency.tolist(),
            "ops": ops,
            "num_vertices": len(ops),
            "num_edges": int(adjacency.sum()),
            "encoding": self.encoding(i),
        }

    graph_ops = ("input", "output", *OPS)

    def graphs(self, indices) -> Graphs:
        """The cells as stored (pruned), padded to 7 nodes; the output is the last node."""
        idx = np.asarray(indices, dtype=np.int64)
        labels = self.cells.ops[idx].astype(np.int16)
        ops = np.where(labels >= 0, labels + 2, -1).astype(np.int16)
        ops[labels == INPUT_LABEL] = 0
        ops[labels == OUTPUT_LABEL] = 1
        return ops, self.cells.adjacency(idx).astype(np.uint8)

    # search ----------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, n: int = 1) -> np.ndarray:
        """n cells uniformly over the unique cells (not over raw matrices, which favour
        cells with many isomorphic drawings)."""
        return rng.integers(0, SIZE, size=n, dtype=np.int64)

    def mutate(self, index: int, rng: np.random.Generator) -> int:
        """A different valid cell one edge flip or one op change away.

        The cell is laid out on 7 vertices, unused ones parked before the output with
        random ops, so flips can also grow it. Moves are tried in random order; the lone
        2-vertex cell has no valid single move, so pairs of moves are tried after that.
        """
        i = self.index(index)
        adjacency, ops = self.spec(i)
        nv = len(ops)
        matrix = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.int8)
        place = [*range(nv - 1), MAX_VERTICES - 1]
        matrix[np.ix_(place, place)] = adjacency
        labels = [INPUT_LABEL, *rng.integers(0, len(OPS), MAX_VERTICES - 2).tolist(), OUTPUT_LABEL]
        for v in range(1, nv - 1):
            labels[v] = OPS.index(ops[v])
        moves = [("edge", e) for e in _EDGE_SPOTS]
        moves += [("op", (v, o)) for v in range(1, MAX_VERTICES - 1) for o in range(len(OPS))]
        moves = [m for m in moves if not (m[0] == "op" and labels[m[1][0]] == m[1][1])]
        order = rng.permutation(len(moves))
        for k in order:
            found = self._try([moves[k]], matrix, labels, i)
            if found is not None:
                return found
        for a in order:
            for b in rng.permutation(len(moves)):
                if (
                    a != b
                    and (found := self._try([moves[a], moves[b]], matrix, labels, i)) is not None
                ):
                    return found
        raise UnknownName(f"nb101: cell {i} has no valid mutation")  # unreachable for NB101

    def _try(self, moves, matrix: np.ndarray, labels: list[int], current: int) -> int | None:
        m, lab = matrix.copy(), list(labels)
        for kind, what in moves:
            if kind == "edge":
                m[what] ^= 1
            else:
                lab[what[0]] = what[1]
        try:
            j = self._index_of_pair(m, lab)
        except UnknownName:
            return None
        return j if j != current else None
