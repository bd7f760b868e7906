"""A benchmark's architectures as categorical hyperparameters, for tuning libraries.

Each space is written in its own encoding, one choice per edge, node or layer (NB201: the
op on each of the 6 edges; NB101: each of the 21 possible edges and the op of each of the
5 inner nodes; NAS-Bench-Graph: the link pattern and 4 ops; NAS-Bench-Macro: the block of
each of 8 layers; TransNAS-Bench-101 micro: the op on each of 6 edges). Spaces without
such an encoding (NAS-Bench-NLP's recurrent cells) get one choice among the architectures
the benchmark holds. A configuration that names no architecture of the benchmark (an NB101
graph whose input does not reach its output, or one with too many edges) is
:class:`InvalidConfig`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from nasdb.errors import NasdbError, UnknownName


class InvalidConfig(NasdbError):
    """A configuration that is no architecture the benchmark holds a value for."""


@dataclass(frozen=True)
class Choices:
    """Names and options of the categorical hyperparameters, and the maps to indices."""

    space: str
    names: tuple[str, ...]
    options: tuple[tuple, ...]
    _to_index: Callable[[dict], int]
    _to_config: Callable[[int], dict]
    valid_mask: np.ndarray

    def index(self, config: Mapping) -> int:
        """The architecture index of a configuration (keys beyond the choices ignored)."""
        missing = [n for n in self.names if n not in config]
        if missing:
            raise InvalidConfig(f"{self.space}: configuration lacks {', '.join(missing)}")
        for name, options in zip(self.names, self.options, strict=True):
            if config[name] not in options:
                raise InvalidConfig(
                    f"{self.space}: {name}={config[name]!r} is not one of {list(options)}"
                )
        try:
            index = int(self._to_index({n: config[n] for n in self.names}))
        except UnknownName as exc:
            raise InvalidConfig(str(exc)) from None
        if not self.valid_mask[index]:
            raise InvalidConfig(f"{self.space}: architecture {index} has no value in the benchmark")
        return index

    def config(self, index: int) -> dict:
        """One configuration that names architecture ``index``."""
        return self._to_config(int(index))


def of(bench) -> Choices:
    """The categorical encoding of ``bench``'s space (see the module docstring)."""
    make = _BUILDERS.get(bench.space_name, _listed)
    names, options, to_index, to_config = make(bench)
    return Choices(bench.space_name, tuple(names), tuple(map(tuple, options)), to_index,
                   to_config, bench.valid_mask)  # fmt: skip


def _edge_ops(edges, ops, digits, from_digits):
    names = [f"edge_{a}_{b}" for a, b in edges]

    def to_index(config: dict) -> int:
        return from_digits(np.array([[ops.index(config[n]) for n in names]]))

    def to_config(index: int) -> dict:
        row = digits(np.array([index]))[0]
        return {n: ops[int(d)] for n, d in zip(names, row, strict=True)}

    return names, [ops] * len(names), to_index, to_config


def _nb201(bench):
    from nasdb.spaces import nb201

    sp = bench.space
    return _edge_ops(
        nb201.STRING_EDGES,
        nb201.OPS,
        lambda idx: sp.ops[idx],
        lambda d: sp.from_one_hot(np.eye(len(nb201.OPS))[d[0]]),
    )


def _tnb101(bench):
    from nasdb.spaces import tnb101

    return _edge_ops(
        tnb101.EDGES, tnb101.OPS, tnb101.digits, lambda d: int(tnb101.index_of_digits(d)[0])
    )


def _nbmacro(bench):
    from nasdb.spaces import nbmacro

    names = [f"layer_{i}" for i in range(nbmacro.LAYERS)]
    ops = nbmacro.OPS
    sp = bench.space

    def to_index(config: dict) -> int:  # the 8-digit key, one digit per layer
        return sp.index("".join(str(ops.index(config[n])) for n in names))

    def to_config(index: int) -> dict:
        return {n: ops[int(d)] for n, d in zip(names, sp.arch_id(index), strict=True)}

    return names, [ops] * len(names), to_index, to_config


def _nbgraph(bench):
    from nasdb.spaces import nbgraph

    links = [",".join(map(str, link)) for link in nbgraph.LINKS]
    names = ["link", "op_0", "op_1", "op_2", "op_3"]

    def to_index(config: dict) -> int:
        link = [int(x) for x in config["link"].split(",")]
        return bench.space.index((link, [config[n] for n in names[1:]]))

    def to_config(index: int) -> dict:
        link, ops = nbgraph.decode(index)
        return {"link": ",".join(map(str, link)), **dict(zip(names[1:], ops, strict=True))}

    return names, [links] + [nbgraph.OPS] * 4, to_index, to_config


def _nb101(bench):
    from nasdb.spaces import nb101_cells as cells

    n = cells.MAX_VERTICES
    spots = [(i, j) for i in range(n) for j in range(i + 1, n)]
    edge_names = [f"edge_{i}_{j}" for i, j in spots]
    op_names = [f"op_{v}" for v in range(1, n - 1)]
    sp = bench.space

    def to_index(config: dict) -> int:
        matrix = np.zeros((n, n), dtype=np.int8)
        for (i, j), name in zip(spots, edge_names, strict=True):
            matrix[i, j] = config[name]
        ops = ["input", *(config[o] for o in op_names), "output"]
        return sp.index((matrix, ops))  # pruned as nasbench prunes

    def to_config(index: int) -> dict:
        adjacency, ops = sp.spec(index)
        k = len(ops)  # vertices of the pruned cell; the output moves to the last vertex
        where = list(range(k - 1)) + [n - 1]
        matrix = np.zeros((n, n), dtype=np.int8)
        matrix[np.ix_(where, where)] = adjacency
        inner = ops[1:-1] + [cells.OPS[0]] * (n - k)  # unconnected vertices are pruned
        config = {name: int(matrix[i, j]) for (i, j), name in zip(spots, edge_names, strict=True)}
        return config | dict(zip(op_names, inner, strict=True))

    options = [(0, 1)] * len(spots) + [cells.OPS] * len(op_names)
    return edge_names + op_names, options, to_index, to_config


def _listed(bench):
    """One choice among the benchmark's architectures, for spaces without a fixed encoding."""
    ids = bench.space.arch_ids(bench.valid)
    by_id = dict(zip(ids, bench.valid.tolist(), strict=True))
    return (
        ["arch"],
        [ids],
        lambda config: by_id[config["arch"]],
        lambda index: {"arch": bench.space.arch_id(index)},
    )


_BUILDERS = {
    "nb101": _nb101,
    "nb201": _nb201,
    "nbgraph": _nbgraph,
    "nbmacro": _nbmacro,
    "tnb101_micro": _tnb101,
}
