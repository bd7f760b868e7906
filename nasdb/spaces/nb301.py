"""NAS-Bench-301 / DARTS cell space: genotypes, a dense canonical index, iso classes.

A genotype is a normal and a reduction cell. Each cell has the two cell inputs (nodes 0
and 1) and four intermediate nodes 2..5; intermediate node ``k`` (0-based, so node
``k + 2``) sums two edges from two *different* earlier nodes, each edge carrying one of
the seven NAS-Bench-301 ops (DARTS' ``none`` is never chosen in a final genotype and
NAS-Bench-301 leaves it out). The cell output concatenates all four intermediate nodes.

The same cell written with a node's two edges in either order is one architecture, so
edges are kept sorted by input (the canonical form). The canonical genotypes are counted
by a mixed radix, which makes ``arch_index`` a dense bijection onto ``0 .. SIZE-1``:

- node ``k`` has ``C(k+2, 2)`` input pairs (in lexicographic order, YAHPO's level order)
  and 7 x 7 op choices, so digit ``k`` is ``pair * 49 + op_low * 7 + op_high`` with op
  codes in :data:`OPS` order and radix 49, 147, 294, 490;
- a cell's rank reads the four digits most significant first (``CELL_SIZE`` =
  1,037,664,180 cells), and ``arch_index = normal_rank * CELL_SIZE + reduce_rank``.

``SIZE`` is about 1.08e18 (< 2**63): every genotype has an int64 index, but no dense
per-architecture array can be allocated: lookups read the sorted indices a table holds
(nasdb's sparse columns), or go through a surrogate.

``arch_id`` is the index written in decimal; ``encoding`` is the DARTS ``Genotype``
string. ``iso_id`` names the class of genotypes equal up to renumbering the intermediate
nodes (any order that keeps every input before the node that reads it): such cells
compute the same function up to the channel order of the concatenated output, which the
next layer's 1x1 convolution absorbs. The class is named by its smallest index.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections import namedtuple
from collections.abc import Mapping

import numpy as np

from nasdb.errors import UnknownName
from nasdb.spaces import to_indices

Genotype = namedtuple("Genotype", "normal normal_concat reduce reduce_concat")

OPS = (
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)  # NAS-Bench-301 ConfigSpace and NASLib order; NASLib's compact form uses these codes
CELLS = ("normal", "reduce")
NODES = 4
EDGES = 2 * NODES  # per cell
CONCAT = [2, 3, 4, 5]
_OP = {name: code for code, name in enumerate(OPS)}
# Input pairs of each intermediate node in lexicographic order.
PAIRS = tuple(
    tuple((i, j) for i in range(k + 2) for j in range(i + 1, k + 2)) for k in range(NODES)
)
_RADIX = np.array([len(p) * 49 for p in PAIRS], dtype=np.int64)  # 49, 147, 294, 490
CELL_SIZE = int(np.prod(_RADIX))
SIZE = CELL_SIZE * CELL_SIZE
_PLACE = np.array([int(np.prod(_RADIX[k + 1 :])) for k in range(NODES)], dtype=np.int64)
_PAIR_RANK = np.full((NODES, 5, 5), -1, dtype=np.int64)
for _k, _pairs in enumerate(PAIRS):
    for _r, (_i, _j) in enumerate(_pairs):
        _PAIR_RANK[_k, _i, _j] = _r
_PAIR_TABLE = [np.array(p, dtype=np.int64) for p in PAIRS]
# Largest input each edge slot may read: node k reads nodes 0 .. k+1.
_MAX_INPUT = np.repeat(np.arange(NODES) + 1, 2)

# YAHPO Gym's integer coding of the 34 ConfigSpace inputs (encoding_v2.json): edges
# normal_0..13, reduce_0..13, then inputs_node_{normal,reduce}_{3,4,5}. 0 = inactive.
YAHPO_PREFIX = "NetworkSelectorDatasetInfo_COLON_darts_COLON_"
YAHPO_OP_CODES = {name: code for code, name in enumerate(sorted(OPS), start=1)}
_OP_TO_YAHPO = np.array([YAHPO_OP_CODES[o] for o in OPS], dtype=np.int32)
_YAHPO_TO_OP = np.full(len(OPS) + 1, -1, dtype=np.int64)
_YAHPO_TO_OP[_OP_TO_YAHPO] = np.arange(len(OPS))
# ConfigSpace edge number of (input, node k): node k's edges follow those of nodes < k.
_EDGE_START = np.cumsum([0] + [k + 2 for k in range(NODES - 1)])  # 0, 2, 5, 9
YAHPO_WIDTH = 2 * 14 + 2 * (NODES - 1)
YAHPO_NAMES = tuple(
    [f"{YAHPO_PREFIX}edge_{c}_{e}" for c in CELLS for e in range(14)]
    + [f"{YAHPO_PREFIX}inputs_node_{c}_{n}" for c in CELLS for n in range(3, 6)]
)

_GENOTYPE_CELL = re.compile(r"\b(normal|reduce)\s*=\s*(\[[^\]]*\])")
_GENOTYPE_CONCAT = re.compile(r"\b(normal_concat|reduce_concat)\s*=\s*(range\([^)]*\)|\[[^\]]*\])")


class NB301Space:
    """The DARTS cell space of NAS-Bench-301 (about 1.08e18 canonical genotypes)."""

    name = "nb301"
    size = SIZE
    reference_task = "cifar10"

    # reading -------------------------------------------------------------------------
    def index(self, arch) -> int:
        """Index of an index, a Genotype (object or string), a NASLib compact cell pair,
        a NAS-Bench-301 ConfigSpace dict or YAHPO's 34 integer codes."""
        return int(self._ranks(self.compact_of(arch)[None])[0])

    def compact_of(self, arch) -> np.ndarray:
        """Canonical (2, 8, 2) array of (input, op code) per edge slot for one genotype."""
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            if not 0 <= arch < SIZE:
                raise UnknownName(f"nb301: index {arch} is outside 0..{SIZE - 1}")
            return self.compact(np.array([arch], dtype=np.int64))[0]
        if isinstance(arch, str):
            return self._compact_of_text(arch.strip())
        if isinstance(arch, Mapping):
            return self._compact_of_config(arch)
        if hasattr(arch, "normal") and hasattr(arch, "reduce"):
            return self._compact_of_genotype(arch)
        if isinstance(arch, (tuple, list, np.ndarray)):
            if len(arch) == YAHPO_WIDTH and all(_is_int(v) for v in arch):
                return self.from_yahpo(np.array([int(v) for v in arch])[None])[0]
            return self._compact_of_pairs(arch)
        raise UnknownName(f"nb301: cannot read an architecture from {type(arch).__name__}")

    def is_one(self, arch) -> bool:
        """True for a single genotype in a container form (not a batch of them)."""
        if isinstance(arch, Mapping) or (hasattr(arch, "normal") and hasattr(arch, "reduce")):
            return True
        if isinstance(arch, tuple) and len(arch) == YAHPO_WIDTH:
            return all(_is_int(v) for v in arch)
        return (
            isinstance(arch, (tuple, list))
            and len(arch) == 2
            and all(isinstance(c, (tuple, list)) and len(c) == EDGES for c in arch)
            and all(isinstance(e, (tuple, list)) and len(e) == 2 for c in arch for e in c)
        )

    def indices(self, archs) -> np.ndarray:
        """Indices of a batch; (n, 2, 8, 2) compact arrays and (n, 34) YAHPO codes are
        converted without a Python loop."""
        if isinstance(archs, np.ndarray) and archs.dtype.kind in "iu" and archs.ndim > 1:
            if archs.ndim == 4 and archs.shape[1:] == (2, EDGES, 2):
                return self._ranks(self._canonical(archs.astype(np.int64)))
            if archs.ndim == 2 and archs.shape[1] == YAHPO_WIDTH:
                return self._ranks(self.from_yahpo(archs))
            raise UnknownName(
                f"nb301: an integer array of shape {archs.shape} is neither (n, 2, 8, 2) "
                f"compact cells nor (n, {YAHPO_WIDTH}) YAHPO codes"
            )
        return to_indices(self, archs)

    # writing -------------------------------------------------------------------------
    def compact(self, indices) -> np.ndarray:
        """(n, 2, 8, 2) canonical (input, op code) arrays: NASLib's compact form."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= SIZE):
            bad = idx[(idx < 0) | (idx >= SIZE)][0]
            raise UnknownName(f"nb301: index {bad} is outside 0..{SIZE - 1}")
        out = np.empty((len(idx), 2, EDGES, 2), dtype=np.int64)
        for c, rank in enumerate((idx // CELL_SIZE, idx % CELL_SIZE)):
            for k in range(NODES):
                digit = (rank // _PLACE[k]) % _RADIX[k]
                pair, ops = np.divmod(digit, 49)
                out[:, c, 2 * k : 2 * k + 2, 0] = _PAIR_TABLE[k][pair]
                out[:, c, 2 * k, 1], out[:, c, 2 * k + 1, 1] = np.divmod(ops, 7)
        return out

    def genotype(self, index: int) -> Genotype:
        c = self.compact_of(index)
        cells = [[(OPS[op], int(i)) for i, op in c[x]] for x in range(2)]
        return Genotype(cells[0], list(CONCAT), cells[1], list(CONCAT))

    def genotype_strings(self, indices) -> list[str]:
        """DARTS ``Genotype(normal=[('sep_conv_3x3', 0), ...], ...)`` per index."""
        out = []
        for row in self.compact(indices):
            cells = [[(OPS[op], int(i)) for i, op in row[x]] for x in range(2)]
            out.append(repr(Genotype(cells[0], list(CONCAT), cells[1], list(CONCAT))))
        return out

    def naslib_string(self, index: int) -> str:
        """NASLib's compact key ``[[(0, 4), (1, 3), ...], [...]]`` (canonical edge order)."""
        c = self.compact_of(index)
        return repr([[tuple(int(v) for v in e) for e in c[x]] for x in range(2)])

    def config(self, index: int) -> dict[str, str]:
        """The NAS-Bench-301 ConfigSpace configuration (``NetworkSelectorDatasetInfo:darts:``)."""
        c = self.compact_of(index)
        prefix = YAHPO_PREFIX.replace("_COLON_", ":")
        out: dict[str, str] = {}
        for x, cell in enumerate(CELLS):
            for k in range(NODES):
                (i, a), (j, b) = c[x, 2 * k], c[x, 2 * k + 1]
                out[f"{prefix}edge_{cell}_{_EDGE_START[k] + i}"] = OPS[a]
                out[f"{prefix}edge_{cell}_{_EDGE_START[k] + j}"] = OPS[b]
                if k:
                    out[f"{prefix}inputs_node_{cell}_{k + 2}"] = f"{i}_{j}"
        return out

    def yahpo_codes(self, indices) -> np.ndarray:
        """(n, 34) int32 inputs of YAHPO Gym's nb301 surrogate (0 marks an inactive edge)."""
        c = self.compact(indices)
        n = len(c)
        out = np.zeros((n, YAHPO_WIDTH), dtype=np.int32)
        rows = np.arange(n)
        for x in range(2):
            for slot in range(EDGES):
                k = slot // 2
                column = 14 * x + _EDGE_START[k] + c[:, x, slot, 0]
                out[rows, column] = _OP_TO_YAHPO[c[:, x, slot, 1]]
            for k in range(1, NODES):
                pair = _PAIR_RANK[k, c[:, x, 2 * k, 0], c[:, x, 2 * k + 1, 0]]
                out[:, 28 + 3 * x + k - 1] = pair + 1
        return out

    def from_yahpo(self, codes) -> np.ndarray:
        """Canonical (n, 2, 8, 2) compact cells of (n, 34) YAHPO codes, checked."""
        codes = np.asarray(codes, dtype=np.int64)
        if codes.ndim != 2 or codes.shape[1] != YAHPO_WIDTH:
            raise UnknownName(f"nb301: YAHPO codes must have {YAHPO_WIDTH} columns")
        n = len(codes)
        out = np.empty((n, 2, EDGES, 2), dtype=np.int64)
        for x in range(2):
            edges = codes[:, 14 * x : 14 * x + 14]
            if ((edges < 0) | (edges > len(OPS))).any():
                raise UnknownName(f"nb301: YAHPO {CELLS[x]} edge codes must be 0..{len(OPS)}")
            for k in range(NODES):
                if k == 0:
                    pair = np.zeros(n, dtype=np.int64)
                else:
                    pair = codes[:, 28 + 3 * x + k - 1] - 1
                    if ((pair < 0) | (pair >= len(PAIRS[k]))).any():
                        raise UnknownName(
                            f"nb301: YAHPO inputs_node_{CELLS[x]}_{k + 2} must be "
                            f"1..{len(PAIRS[k])}"
                        )
                ins = _PAIR_TABLE[k][pair]
                block = edges[:, _EDGE_START[k] : _EDGE_START[k] + k + 2]
                active = np.zeros_like(block, dtype=bool)
                active[np.arange(n)[:, None], ins] = True
                if ((block > 0) != active).any():
                    raise UnknownName(
                        f"nb301: YAHPO {CELLS[x]} node {k + 2}: active edges do not match "
                        "its inputs (an edge must be coded 1..7 exactly when its input is "
                        "chosen, else 0)"
                    )
                for s in range(2):
                    out[:, x, 2 * k + s, 0] = ins[:, s]
                    out[:, x, 2 * k + s, 1] = _YAHPO_TO_OP[block[np.arange(n), ins[:, s]]]
        return out

    # catalog interface ---------------------------------------------------------------
    def arch_id(self, index: int) -> str:
        return str(self.index(index))

    def arch_ids(self, indices) -> list[str]:
        return np.asarray(indices, dtype=np.int64).astype(str).tolist()

    def architectures(self, indices) -> dict[str, list]:
        idx = np.asarray(indices, dtype=np.int64)
        return {
            "arch_id": self.arch_ids(idx),
            "encoding": self.genotype_strings(idx),
            "iso_id": self.arch_ids(self.iso_indices(idx)),
        }

    def describe(self, index: int) -> dict:
        i = self.index(index)
        g = self.genotype(i)
        return {
            "index": i,
            "genotype": repr(g),
            "normal": g.normal,
            "reduce": g.reduce,
            "naslib_compact": self.naslib_string(i),
            "iso_id": int(self.iso_indices([i])[0]),
        }

    # structure -----------------------------------------------------------------------
    def iso_indices(self, indices) -> np.ndarray:
        """Smallest index among the genotypes equal up to renumbering intermediate nodes."""
        c = self.compact(indices)
        best = [np.asarray(self._cell_ranks(c[:, x]), dtype=np.int64) for x in range(2)]
        for perm in _NODE_PERMUTATIONS[1:]:
            for x in range(2):
                relabelled, valid = _relabel(c[:, x], perm)
                relabelled[~valid] = c[~valid, x]  # rankable; the identity is no smaller
                ranks = self._cell_ranks(self._canonical_cells(relabelled))
                best[x] = np.minimum(best[x], ranks)
        return best[0] * CELL_SIZE + best[1]

    # search --------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, n: int = 1) -> np.ndarray:
        """n genotypes uniformly over canonical genotypes, which is NAS-Bench-301's
        ConfigSpace sampler (uniform input pair, uniform ops) in another form."""
        return rng.integers(0, SIZE, size=n, dtype=np.int64)

    def neighbours(self, index: int) -> np.ndarray:
        """All 120 genotypes one edit away: one op changed (48 per cell), or one edge moved
        to another input its node may read and does not already read (12 per cell)."""
        base = self.compact_of(index)
        out = []
        for x in range(2):
            for slot in range(EDGES):
                for op in range(len(OPS)):
                    if op != base[x, slot, 1]:
                        c = base.copy()
                        c[x, slot, 1] = op
                        out.append(c)
                other = base[x, slot ^ 1, 0]
                for i in range(_MAX_INPUT[slot] + 1):
                    if i not in (base[x, slot, 0], other):
                        c = base.copy()
                        c[x, slot, 0] = i
                        out.append(c)
        return self._ranks(self._canonical(np.stack(out)))

    def mutate(self, index: int, rng: np.random.Generator) -> int:
        """One random edit of :meth:`neighbours`, drawn uniformly; never the same genotype."""
        options = self.neighbours(index)
        return int(options[rng.integers(len(options))])

    # internals -----------------------------------------------------------------------
    def _ranks(self, compact: np.ndarray) -> np.ndarray:
        return self._cell_ranks(compact[:, 0]) * CELL_SIZE + self._cell_ranks(compact[:, 1])

    @staticmethod
    def _cell_ranks(cells: np.ndarray) -> np.ndarray:
        """Mixed-radix rank of canonical (n, 8, 2) cells."""
        rank = np.zeros(len(cells), dtype=np.int64)
        for k in range(NODES):
            lo, hi = cells[:, 2 * k], cells[:, 2 * k + 1]
            digit = _PAIR_RANK[k, lo[:, 0], hi[:, 0]] * 49 + lo[:, 1] * 7 + hi[:, 1]
            rank = rank * _RADIX[k] + digit
        return rank

    @staticmethod
    def _canonical_cells(cells: np.ndarray) -> np.ndarray:
        """Each node's two edges ordered by input (inputs are distinct, so this is total)."""
        pairs = cells.reshape(len(cells), NODES, 2, 2)
        swap = pairs[:, :, 0, 0] > pairs[:, :, 1, 0]
        out = pairs.copy()
        out[swap] = pairs[swap][:, ::-1]
        return out.reshape(cells.shape)

    def _canonical(self, compact: np.ndarray) -> np.ndarray:
        """Check (n, 2, 8, 2) arrays of (input, op) and sort each node's edges."""
        inputs, ops = compact[..., 0], compact[..., 1]
        if ((ops < 0) | (ops >= len(OPS))).any():
            raise UnknownName(f"nb301: op codes must be 0..{len(OPS) - 1} ({', '.join(OPS)})")
        if ((inputs < 0) | (inputs > _MAX_INPUT)).any():
            r, x, slot = (a[0] for a in np.nonzero((inputs < 0) | (inputs > _MAX_INPUT)))
            raise UnknownName(
                f"nb301: {CELLS[x]} node {slot // 2 + 2} reads input "
                f"{inputs[r, x, slot]}, but may read only nodes 0..{_MAX_INPUT[slot]}"
            )
        same = inputs[..., 0::2] == inputs[..., 1::2]
        if same.any():
            r, x, k = (a[0] for a in np.nonzero(same))
            raise UnknownName(
                f"nb301: {CELLS[x]} node {k + 2} reads node {inputs[r, x, 2 * k]} twice; "
                "its two edges must come from different nodes"
            )
        out = np.empty_like(compact)
        for x in range(2):
            out[:, x] = self._canonical_cells(compact[:, x])
        return out

    def _compact_of_pairs(self, cells) -> np.ndarray:
        """NASLib compact form: two cells of 8 (input, op) pairs; op a code or a name."""
        if not (isinstance(cells, (list, tuple, np.ndarray)) and len(cells) == 2):
            raise UnknownName(
                "nb301: a compact genotype is two cells of 8 (input, op) pairs, "
                "e.g. [[(0, 3), (1, 3), ...], [...]]"
            )
        out = np.empty((1, 2, EDGES, 2), dtype=np.int64)
        for x, cell in enumerate(cells):
            if not (isinstance(cell, (list, tuple, np.ndarray)) and len(cell) == EDGES):
                raise UnknownName(f"nb301: the {CELLS[x]} cell must list {EDGES} (input, op) pairs")
            for slot, edge in enumerate(cell):
                if not (isinstance(edge, (list, tuple, np.ndarray)) and len(edge) == 2):
                    raise UnknownName(f"nb301: {CELLS[x]} edge {edge!r} is not an (input, op) pair")
                i, op = edge
                out[0, x, slot] = (_input(i), _op_code(op))
        return self._canonical(out)[0]

    def _compact_of_genotype(self, g) -> np.ndarray:
        for name in ("normal_concat", "reduce_concat"):
            concat = getattr(g, name, CONCAT)
            if concat is not None and list(concat) != CONCAT:
                raise UnknownName(
                    f"nb301: {name} is {list(concat)}; NAS-Bench-301 concatenates nodes 2..5"
                )
        cells = []
        for x, cell in enumerate((g.normal, g.reduce)):
            if not (isinstance(cell, (list, tuple)) and len(cell) == EDGES):
                raise UnknownName(f"nb301: the {CELLS[x]} cell must list {EDGES} (op, input) pairs")
            pairs = []
            for edge in cell:
                if not (isinstance(edge, (list, tuple)) and len(edge) == 2):
                    raise UnknownName(f"nb301: {CELLS[x]} edge {edge!r} is not an (op, input) pair")
                pairs.append((edge[1], edge[0]))
            cells.append(pairs)
        return self._compact_of_pairs(cells)

    def _compact_of_text(self, text: str) -> np.ndarray:
        if text.isdigit():
            return self.compact_of(int(text))
        if text.startswith("Genotype"):
            cells = dict(_GENOTYPE_CELL.findall(text))
            concats = dict(_GENOTYPE_CONCAT.findall(text))
            if set(cells) != set(CELLS):
                raise UnknownName(
                    f"nb301: {text[:60]!r}... is not a Genotype(normal=[...], reduce=[...]) string"
                )
            try:
                parsed = {c: ast.literal_eval(v) for c, v in cells.items()}
                concat = {c: _concat(v) for c, v in concats.items()}
            except (ValueError, SyntaxError):
                raise UnknownName(f"nb301: cannot parse the genotype {text[:60]!r}...") from None
            return self._compact_of_genotype(
                Genotype(
                    parsed["normal"],
                    concat.get("normal_concat"),
                    parsed["reduce"],
                    concat.get("reduce_concat"),
                )
            )
        if text[:1] in "[(":
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                value = None
            if isinstance(value, (list, tuple)):
                return self.compact_of(value)
        raise UnknownName(
            f"nb301: {text[:60]!r} is neither an index, a Genotype(...) string nor NASLib's "
            "compact form [[(input, op), ...8], [...8]]"
        )

    def _compact_of_config(self, config: Mapping) -> np.ndarray:
        """A NAS-Bench-301 / YAHPO ConfigSpace dict (``:`` or ``_COLON_`` in the names)."""
        norm = {str(k).replace(":", "_COLON_"): v for k, v in config.items()}
        codes = np.zeros(YAHPO_WIDTH, dtype=np.int64)
        for col, name in enumerate(YAHPO_NAMES):
            value = norm.pop(name, None)
            if value is None:
                continue
            if "_edge_" in name:
                codes[col] = YAHPO_OP_CODES[OPS[_op_code(value)]]
            else:
                k = int(name[-1]) - 2
                try:
                    i, j = (int(v) for v in str(value).split("_"))
                except ValueError:
                    raise UnknownName(f"nb301: {name} is {value!r}, expected 'i_j'") from None
                if (i, j) not in PAIRS[k]:
                    raise UnknownName(f"nb301: {name} is {value!r}; allowed: {PAIRS[k]}")
                codes[col] = PAIRS[k].index((i, j)) + 1
        norm.pop("epoch", None)
        if norm:
            raise UnknownName(f"nb301: unknown configuration key(s) {', '.join(sorted(norm))}")
        for x in range(2):  # node 2 always reads nodes 0 and 1, so no inputs key exists
            if (codes[14 * x : 14 * x + 2] == 0).any():
                raise UnknownName(f"nb301: edges {CELLS[x]}_0 and {CELLS[x]}_1 are required")
        return self.from_yahpo(codes[None])[0]


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _input(value) -> int:
    if not _is_int(value):
        raise UnknownName(f"nb301: edge input {value!r} is not a node number")
    return int(value)


def _op_code(op) -> int:
    if _is_int(op):
        if 0 <= op < len(OPS):
            return int(op)
        raise UnknownName(f"nb301: op code {op} is outside 0..{len(OPS) - 1}")
    if isinstance(op, str) and op in _OP:
        return _OP[op]
    if op == "none":
        raise UnknownName("nb301: op 'none' is not in the NAS-Bench-301 space")
    raise UnknownName(f"nb301: unknown op {op!r}; ops: {', '.join(OPS)}")


def _concat(text: str) -> list[int]:
    if text.startswith("range"):
        return list(range(*(int(v) for v in text[6:-1].split(","))))
    return list(ast.literal_eval(text))


def _relabel(cells: np.ndarray, perm: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Move intermediate node k to position perm[k]; valid where every input still
    precedes the node reading it."""
    label = np.array([0, 1, *(p + 2 for p in perm)], dtype=np.int64)
    n = len(cells)
    out = np.empty_like(cells)
    valid = np.ones(n, dtype=bool)
    for k in range(NODES):
        edges = cells[:, 2 * k : 2 * k + 2].copy()
        edges[..., 0] = label[edges[..., 0]]
        valid &= (edges[..., 0] < perm[k] + 2).all(axis=1)
        out[:, 2 * perm[k] : 2 * perm[k] + 2] = edges
    return out, valid


_NODE_PERMUTATIONS = list(itertools.permutations(range(NODES)))  # identity first
