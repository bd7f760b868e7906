"""NAS-Bench-201 cell space: official index, arch string, NASLib/zero-cost tuple, iso classes.

The official index order is that of the NAS-Bench-201 generator: all op assignments in
product order over the string's edges, then shuffled by Python's ``random`` seeded with 88.
"""

from __future__ import annotations

import random
from functools import cached_property

import numpy as np

from nasdb.errors import UnknownName
from nasdb.spaces import one_op_moves, to_indices
from nasdb.spaces.graphs import Graphs, edge_cell_graphs

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
# Edges (from, to) in the order the arch string lists them.
STRING_EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
# NASLib / zero-cost tuple: its own edge order and op codes.
TUPLE_EDGES = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
TUPLE_OPS = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
_TUPLE_TO_STRING_POS = [STRING_EDGES.index(e) for e in TUPLE_EDGES]
_TUPLE_OP_TO_OP = np.array([OPS.index(o) for o in TUPLE_OPS])
_OP_TO_TUPLE_OP = np.array([TUPLE_OPS.index(o) for o in OPS])
_WEIGHTS = 5 ** np.arange(5, -1, -1)
SIZE = 5**6


def _ops_to_string(ops: np.ndarray) -> str:
    names = [OPS[o] for o in ops]
    return "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|".format(*names)


class NB201Space:
    """The 15,625 cells of NAS-Bench-201; ``arch_id`` is the official index as a string."""

    name = "nb201"
    size = SIZE
    reference_task = "cifar10"

    @cached_property
    def ops(self) -> np.ndarray:
        """(15625, 6) op codes (indices into OPS, string edge order), row = official index."""
        product = np.arange(SIZE)
        order = list(range(SIZE))
        random.Random(88).shuffle(order)
        codes = product[order]
        return (codes[:, None] // _WEIGHTS) % 5

    @cached_property
    def _code_to_index(self) -> np.ndarray:
        inv = np.empty(SIZE, dtype=np.int64)
        inv[self.ops @ _WEIGHTS] = np.arange(SIZE)
        return inv

    @cached_property
    def _string_to_index(self) -> dict[str, int]:
        return {_ops_to_string(row): i for i, row in enumerate(self.ops)}

    # conversions -----------------------------------------------------------------------
    def string(self, index: int) -> str:
        return _ops_to_string(self.ops[self.index(index)])

    def tuple(self, index: int) -> tuple[int, ...]:
        row = self.ops[self.index(index)]
        return tuple(int(_OP_TO_TUPLE_OP[row[p]]) for p in _TUPLE_TO_STRING_POS)

    def from_tuple(self, tup) -> int:
        if len(tup) != 6 or any(not 0 <= int(c) < 5 for c in tup):
            raise UnknownName(f"nb201: {tup!r} is not a 6-tuple of op codes 0..4")
        row = np.empty(6, dtype=np.int64)
        for pos, code in zip(_TUPLE_TO_STRING_POS, tup, strict=True):
            row[pos] = _TUPLE_OP_TO_OP[int(code)]
        return int(self._code_to_index[row @ _WEIGHTS])

    @cached_property
    def tuples(self) -> np.ndarray:
        """(15625, 6) NASLib op tuples (codes into TUPLE_OPS, tuple edge order), row = index."""
        return _OP_TO_TUPLE_OP[self.ops[:, _TUPLE_TO_STRING_POS]]

    @cached_property
    def _tuple_keys(self):
        """Every cell's op tuple written without spaces, ``(4,3,3,0,0,0)``, at its index."""
        import pyarrow as pa

        return pa.array(["({},{},{},{},{},{})".format(*row) for row in self.tuples.tolist()])

    def from_tuples(self, codes: np.ndarray) -> np.ndarray:
        """Official indices of an (n, 6) array of NASLib op tuples, without a Python loop."""
        codes = np.asarray(codes, dtype=np.int64)
        if codes.ndim != 2 or codes.shape[1] != 6 or ((codes < 0) | (codes > 4)).any():
            raise UnknownName("nb201: expected an (n, 6) array of op codes 0..4")
        return self._code_to_index[_TUPLE_OP_TO_OP[codes] @ _WEIGHTS[_TUPLE_TO_STRING_POS]]

    def indices_of_tuple_strings(self, strings) -> np.ndarray:
        """Official index of each op-tuple string such as ``"(4, 3, 3, 0, 0, 0)"``, -1 for none.

        Upstream files key whole columns this way; one hash lookup of the spelling without
        spaces reads a column at once. ``strings`` is a pyarrow string array or a sequence.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        if not isinstance(strings, (pa.Array, pa.ChunkedArray)):
            strings = pa.array(strings, type=pa.string())
        found = pc.index_in(pc.replace_substring(strings, " ", ""), value_set=self._tuple_keys)
        return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)

    def index(self, arch) -> int:
        """Official index of an index, arch string or NASLib op tuple."""
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            if 0 <= arch < SIZE:
                return int(arch)
            raise UnknownName(f"nb201: index {arch} is outside 0..{SIZE - 1}")
        if isinstance(arch, str):
            if arch.isdigit():
                return self.index(int(arch))
            if arch.startswith("("):
                return self.from_tuple([int(c) for c in arch.strip("()").split(",")])
            try:
                return self._string_to_index[arch]
            except KeyError:
                raise UnknownName(
                    f"nb201: {arch!r} is not an arch string like "
                    "'|nor_conv_3x3~0|+|none~0|skip_connect~1|+|...~0|...~1|...~2|'"
                ) from None
        if isinstance(arch, (tuple, list, np.ndarray)):
            return self.from_tuple(arch)
        raise UnknownName(f"nb201: cannot read an architecture from {type(arch).__name__}")

    def is_one(self, arch) -> bool:
        return (
            isinstance(arch, tuple)
            and len(arch) == 6
            and all(isinstance(c, (int, np.integer)) for c in arch)
        )

    def indices(self, archs) -> np.ndarray:
        return to_indices(self, archs)

    # structure ---------------------------------------------------------------------
    def unique_strings(self) -> list[str]:
        """Isomorphism key of every cell, as NAS-Bench-201 defines it (6,466 classes).

        Inputs of a node are summed, so their order does not matter; ``skip_connect``
        passes its input through; a ``none`` edge, or an edge out of the input-only zero
        node, contributes a zero term ``#``. As in the upstream definition, zero terms stay
        in the sum, which keeps cells apart that a full algebraic reduction would merge
        (that reduction gives 5,390 classes).
        """
        keys = []
        for row in self.ops:
            nodes = {0: "0"}
            for node in (1, 2, 3):
                terms = []
                for pos, (src, dst) in enumerate(STRING_EDGES):
                    if dst != node:
                        continue
                    op, x = OPS[row[pos]], nodes[src]
                    if op == "none" or x == "#":
                        terms.append("#")
                    else:
                        terms.append(x if op == "skip_connect" else f"({x})@{op}")
                nodes[node] = "+".join(sorted(terms))
            keys.append(nodes[3])
        return keys

    @cached_property
    def iso_ids(self) -> np.ndarray:
        """Iso class of each cell, named by the smallest official index in the class."""
        first: dict[str, int] = {}
        out = np.empty(SIZE, dtype=np.int64)
        for i, key in enumerate(self.unique_strings()):
            out[i] = first.setdefault(key, i)
        return out

    def architectures(self, indices: np.ndarray) -> dict[str, list]:
        return {
            "arch_id": [str(i) for i in indices],
            "encoding": [_ops_to_string(self.ops[i]) for i in indices],
            "iso_id": [str(self.iso_ids[i]) for i in indices],
        }

    def arch_id(self, index: int) -> str:
        return str(index)

    def arch_ids(self, indices: np.ndarray) -> list[str]:
        return np.asarray(indices).astype(str).tolist()

    def describe(self, index: int) -> dict:
        return {
            "index": index,
            "arch_string": self.string(index),
            "op_tuple": self.tuple(index),
            "iso_id": int(self.iso_ids[index]),
        }

    # search ----------------------------------------------------------------------------
    @cached_property
    def neighbour_table(self) -> np.ndarray:
        """(15625, 24) indices one op change away: 6 edges x the 4 other ops, edge-major.

        A table, because search loops mutate millions of times and a row lookup is the
        cheapest possible move.
        """
        table = self._code_to_index[one_op_moves(self.ops, len(OPS), _WEIGHTS)]
        table.setflags(write=False)
        return table

    def neighbours(self, index: int) -> np.ndarray:
        return self.neighbour_table[self.index(index)]

    def sample(self, rng: np.random.Generator, n: int = 1) -> np.ndarray:
        return rng.integers(0, SIZE, size=n, dtype=np.int64)

    def mutate(self, index: int, rng: np.random.Generator) -> int:
        """One edge's op changed to another op, uniformly over the 24 such moves."""
        return int(self.neighbour_table[self.index(index), rng.integers(24)])

    def one_hot(self, indices) -> np.ndarray:
        """(n, 30) one-hot op per edge: the encoding predictors learn from."""
        ops = self.ops[np.asarray(indices, dtype=np.int64)]
        return (ops[:, :, None] == np.arange(5)).reshape(len(ops), 30).astype(np.float32)

    one_hot_groups = (5,) * 6  # one choice of 5 ops per edge

    graph_ops = ("input", "output", *OPS)

    def graphs(self, indices) -> Graphs:
        """Each edge as an op node between input and output (see :mod:`nasdb.spaces.graphs`)."""
        return edge_cell_graphs(self.ops[np.asarray(indices, dtype=np.int64)], STRING_EDGES, 3)

    def from_one_hot(self, x) -> int:
        """The cell whose op on each edge is the largest entry of that edge's 5 scores."""
        ops = np.asarray(x, dtype=np.float64).reshape(6, 5).argmax(axis=1)
        return int(self._code_to_index[ops @ _WEIGHTS])
