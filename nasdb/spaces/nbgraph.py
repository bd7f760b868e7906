"""NAS-Bench-Graph GNN space: 4 chained ops with one of 9 link patterns.

``arch_id`` is NAS-Bench-Graph's own ``valid_hash``, which is already invariant to the
isomorphisms its authors removed, so it doubles as the iso class.
"""

from __future__ import annotations

import numpy as np

from nasdb.errors import UnknownName
from nasdb.spaces import to_indices
from nasdb.spaces.graphs import Graphs

LINKS = (
    (0, 0, 0, 0), (0, 0, 0, 1), (0, 0, 1, 1), (0, 0, 1, 2), (0, 0, 1, 3),
    (0, 1, 1, 1), (0, 1, 1, 2), (0, 1, 2, 2), (0, 1, 2, 3),
)  # fmt: skip
OPS = ("gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip")
_BASE = len(OPS) + 1
SIZE = len(LINKS) * _BASE**4
TASKS = ("cora", "citeseer", "pubmed", "cs", "physics", "photo", "computers", "arxiv", "proteins")


def decode(arch_hash: int) -> tuple[tuple[int, ...], tuple[str, ...]]:
    digits = []
    h = int(arch_hash)
    for _ in range(4):
        h, d = divmod(h, _BASE)
        digits.append(d)
    if h >= len(LINKS) or any(d >= len(OPS) for d in digits):
        raise UnknownName(f"nbgraph: {arch_hash} is not a NAS-Bench-Graph hash")
    return LINKS[h], tuple(OPS[d] for d in reversed(digits))


def encode(link, ops) -> str:
    return ",".join(map(str, link)) + "|" + ",".join(ops)


class NBGraphSpace:
    name = "nbgraph"
    size = SIZE
    reference_task = "cora"

    def __init__(self):
        self._neighbours: dict[int, np.ndarray] = {}

    def index(self, arch) -> int:
        """Hash of a hash, an encoding ``'0,1,2,3|gcn,gat,skip,fc'`` or a ``(link, ops)`` pair."""
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            decode(arch)
            return int(arch)
        if isinstance(arch, str):
            if arch.isdigit():
                return self.index(int(arch))
            link_part, sep, ops_part = arch.partition("|")
            if not sep:
                raise UnknownName(
                    f"nbgraph: {arch!r} is neither a hash nor an encoding "
                    "like '0,1,2,3|gcn,gat,skip,fc'"
                )
            try:
                link = [int(x) for x in link_part.split(",")]
            except ValueError:
                raise UnknownName(f"nbgraph: link in {arch!r} must be 4 integers") from None
            return self._canonical(link, ops_part.split(","))
        if isinstance(arch, (tuple, list)) and len(arch) == 2:
            return self._canonical(list(arch[0]), list(arch[1]))
        raise UnknownName(f"nbgraph: cannot read an architecture from {arch!r}")

    def _canonical(self, link: list[int], ops: list[str]) -> int:
        from nas_bench_graph.architecture import Arch

        if len(link) != 4 or len(ops) != 4 or any(o not in OPS for o in ops):
            raise UnknownName(
                f"nbgraph: need 4 link entries and 4 ops from {', '.join(OPS)}; got {link}, {ops}"
            )
        try:
            return int(Arch(link, ops).valid_hash())
        except Exception:
            raise UnknownName(f"nbgraph: link {link} is not a valid NAS-Bench-Graph link") from None

    def is_one(self, arch) -> bool:
        return isinstance(arch, tuple) and len(arch) == 2 and not isinstance(arch[0], int)

    def indices(self, archs) -> np.ndarray:
        return to_indices(self, archs)

    def arch_id(self, index: int) -> str:
        return str(index)

    def arch_ids(self, indices: np.ndarray) -> list[str]:
        return np.asarray(indices).astype(str).tolist()

    def architectures(self, indices: np.ndarray) -> dict[str, list]:
        ids = [str(i) for i in indices]
        return {"arch_id": ids, "encoding": [encode(*decode(i)) for i in indices], "iso_id": ids}

    def describe(self, index: int) -> dict:
        link, ops = decode(index)
        return {"hash": index, "link": list(link), "ops": list(ops), "encoding": encode(link, ops)}

    # search ----------------------------------------------------------------------------
    def neighbours(self, index: int) -> np.ndarray:
        """Canonical hashes one op change or one link change away, the cell itself excluded.

        Moves that land on an isomorphic drawing of the same GNN, or on a drawing
        NAS-Bench-Graph cannot canonicalise, are dropped. Memoised: canonicalising is
        pure Python.
        """
        index = self.index(index)
        hit = self._neighbours.get(index)
        if hit is not None:
            return hit
        link, ops = decode(index)
        drawings = [(list(lk), list(ops)) for lk in LINKS if lk != link]
        for pos in range(4):
            for op in OPS:
                if op != ops[pos]:
                    drawings.append((list(link), [*ops[:pos], op, *ops[pos + 1 :]]))
        found = set()
        for lk, new_ops in drawings:
            try:
                found.add(self._canonical(lk, new_ops))
            except UnknownName:
                continue
        found.discard(index)
        out = np.array(sorted(found), dtype=np.int64)
        out.setflags(write=False)
        self._neighbours[index] = out
        return out

    def sample(self, rng: np.random.Generator, n: int = 1) -> np.ndarray:
        """Canonical hashes of uniformly drawn (link, ops) drawings (all-skip redrawn)."""
        out = np.empty(n, dtype=np.int64)
        for k in range(n):
            while True:
                link = LINKS[int(rng.integers(len(LINKS)))]
                ops = [OPS[int(o)] for o in rng.integers(len(OPS), size=4)]
                try:
                    out[k] = self._canonical(list(link), ops)
                    break
                except UnknownName:
                    continue
        return out

    def mutate(self, index: int, rng: np.random.Generator) -> int:
        options = self.neighbours(index)
        return int(options[rng.integers(len(options))])

    def one_hot(self, indices) -> np.ndarray:
        """(n, 45) one-hot link pattern and op per position, for predictors."""
        idx = np.asarray(indices, dtype=np.int64)
        digits = (idx[:, None] // _BASE ** np.arange(4)[::-1]) % _BASE
        link = idx // _BASE**4
        out = np.zeros((len(idx), len(LINKS) + 4 * len(OPS)), dtype=np.float32)
        out[np.arange(len(idx)), link] = 1
        for pos in range(4):
            out[np.arange(len(idx)), len(LINKS) + pos * len(OPS) + digits[:, pos]] = 1
        return out

    graph_ops = ("input", "output", *OPS)

    def graphs(self, indices) -> Graphs:
        """Input, the 4 op nodes (node k+1 reads node ``link[k]``), and an output fed by
        every op node that no other op reads."""
        idx = np.asarray(indices, dtype=np.int64)
        links = np.asarray(LINKS, dtype=np.int64)[idx // _BASE**4]
        digits = (idx[:, None] // _BASE ** np.arange(4)[::-1]) % _BASE
        n = len(idx)
        ops = np.empty((n, 6), dtype=np.int16)
        ops[:, 0], ops[:, 5], ops[:, 1:5] = 0, 1, digits + 2
        adj = np.zeros((n, 6, 6), dtype=np.uint8)
        rows = np.arange(n)
        for k in range(4):
            adj[rows, links[:, k], k + 1] = 1
        for node in range(1, 5):
            adj[:, node, 5] = ~(links == node).any(axis=1)
        return ops, adj

    one_hot_groups = (len(LINKS),) + (len(OPS),) * 4  # link pattern, then one op per position

    def from_one_hot(self, x) -> int:
        """Canonical hash of the largest-scoring link and ops (raises for a drawing that
        NAS-Bench-Graph cannot canonicalise)."""
        x = np.asarray(x, dtype=np.float64)
        link = LINKS[int(x[: len(LINKS)].argmax())]
        ops = [OPS[int(o)] for o in x[len(LINKS) :].reshape(4, len(OPS)).argmax(axis=1)]
        return self._canonical(list(link), ops)
