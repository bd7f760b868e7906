"""BANANAS (White et al., AAAI 2021): Bayesian optimisation with a neural predictor.

As published: architectures are described by their path encoding (which input-to-output
op sequences the cell has; NB101's from :mod:`nasdb.surrogates.features`, NB201's over the
four routes of its cell), the predictor is an ensemble of 5 feed-forward nets (10 layers
of 20 units, Adam) whose spread is the uncertainty, acquisition is independent Thompson
sampling, and it is optimised by mutating the best architectures seen into ~100
candidates, of which the top ``batch`` (10) are evaluated; the first 10 are random.
Other spaces fall back to their one-hot encoding.
"""

from __future__ import annotations

import itertools

import numpy as np

from nasdb import spaces
from nasdb.benchmark import Problem
from nasdb.optimizers.base import Optimizer

# NB201: node 3 is the output; the four routes from the input, as (from, to) edges
_NB201_ROUTES = (((0, 3),), ((0, 1), (1, 3)), ((0, 2), (2, 3)), ((0, 1), (1, 2), (2, 3)))


def nb201_paths(indices: np.ndarray) -> np.ndarray:
    """(n, 100) one bit per route and op sequence (4 + 16 + 16 + 64): the sequences of
    ops along each input-to-output route of the cell, where no op on it is ``none``."""
    from nasdb.spaces.nb201 import STRING_EDGES

    ops = spaces.get("nb201").ops[np.asarray(indices, dtype=np.int64)]  # codes: 0 = none
    parts = []
    for route in _NB201_ROUTES:
        cols = ops[:, [STRING_EDGES.index(e) for e in route]]
        live = (cols > 0).all(axis=1)
        code = ((cols - 1) * 4 ** np.arange(len(route))[::-1]).sum(axis=1)
        onehot = code[:, None] == np.arange(4 ** len(route))
        parts.append(onehot & live[:, None])
    return np.hstack(parts).astype(np.float64)


def path_features(problem: Problem, indices) -> np.ndarray:
    indices = np.asarray(indices, dtype=np.int64)
    if problem.space == "nb201":
        return nb201_paths(indices)
    if problem.space == "nb101":
        from nasdb.surrogates.features import nb101_paths

        return nb101_paths(spaces.get("nb101"), indices).astype(np.float64)
    return problem.encode(indices).astype(np.float64)


class _Ensemble:
    """``members`` ReLU nets of ``layers`` x ``width`` trained side by side (batched
    matrices), full-batch Adam on squared error; members differ by initialisation."""

    def __init__(self, members, d, layers, width, rng: np.random.Generator):
        dims = [d] + [width] * layers + [1]
        self.weights = [
            rng.normal(0, np.sqrt(2 / a), (members, a, b)) for a, b in itertools.pairwise(dims)
        ]
        self.biases = [np.zeros((members, 1, b)) for b in dims[1:]]

    def _forward(self, x: np.ndarray):
        hs = [np.broadcast_to(x, (len(self.weights[0]), *x.shape))]
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            z = hs[-1] @ w + b
            hs.append(np.maximum(z, 0) if i < len(self.weights) - 1 else z)
        return hs

    def fit(self, x: np.ndarray, y: np.ndarray, steps: int, lr: float) -> None:
        params = self.weights + self.biases
        m = [np.zeros_like(p) for p in params]
        v = [np.zeros_like(p) for p in params]
        n = len(y)
        for t in range(1, steps + 1):
            hs = self._forward(x)
            g = (2 / n) * (hs[-1] - y[None, :, None])  # (members, n, 1)
            gw, gb = [], []
            for i in range(len(self.weights) - 1, -1, -1):
                gw.append(hs[i].transpose(0, 2, 1) @ g)
                gb.append(g.sum(axis=1, keepdims=True))
                if i:
                    g = (g @ self.weights[i].transpose(0, 2, 1)) * (hs[i] > 0)
            grads = gw[::-1] + gb[::-1]
            c1, c2 = 1 - 0.9**t, 1 - 0.999**t
            for p, gr, mi, vi in zip(params, grads, m, v, strict=True):
                mi *= 0.9
                mi += 0.1 * gr
                vi *= 0.999
                vi += 0.001 * gr * gr
                p -= lr * (mi / c1) / (np.sqrt(vi / c2) + 1e-8)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self._forward(x)[-1][:, :, 0]  # (members, n)


class Bananas(Optimizer):
    name = "bananas"
    bounds = {
        p: (1, None)
        for p in ("initial", "batch", "candidates", "ensemble", "hidden", "steps", "parents")
    }

    def __init__(
        self,
        problem: Problem,
        seed: int = 0,
        initial: int = 10,
        batch: int = 10,
        candidates: int = 100,
        ensemble: int = 5,
        layers: int = 10,
        width: int = 20,
        steps: int = 200,
        lr: float = 0.01,
        parents: int = 10,
        encoding: str = "path",
    ):
        super().__init__(problem, seed)
        if encoding not in ("path", "onehot"):
            raise ValueError("encoding must be 'path' or 'onehot'")
        self.initial, self.batch, self.candidates = initial, batch, candidates
        self.ensemble, self.layers, self.width = ensemble, layers, width
        self.steps, self.lr, self.parents = steps, lr, parents
        self.encoding = encoding
        self.seen: dict[int, float] = {}
        self._todo: list[int] = []

    def _features(self, indices) -> np.ndarray:
        if self.encoding == "path":
            return path_features(self.problem, indices)
        return self.problem.encode(np.asarray(indices, dtype=np.int64)).astype(np.float64)

    def ask(self) -> int:
        while not self._todo:
            if len(self.seen) < self.initial:
                fresh = self.problem.sample(self.rng, self.initial).tolist()
                self._todo = [a for a in dict.fromkeys(fresh) if a not in self.seen]
            else:
                self._todo = self._propose()
        return self._todo.pop()

    def _propose(self) -> list[int]:
        archs = np.fromiter(self.seen, dtype=np.int64)
        y = np.fromiter(self.seen.values(), dtype=np.float64)
        scale = y.std() or 1.0
        target = (y - y.mean()) / scale
        top = archs[np.argsort(-y)[: self.parents]].tolist()
        pool: dict[int, None] = {}
        for k in range(self.candidates * 3):
            if len(pool) >= self.candidates:
                break
            child = self.problem.mutate(top[k % len(top)], self.rng)
            if child not in self.seen:
                pool[child] = None
        if len(pool) < self.batch:  # the best ones' neighbourhoods are exhausted
            pool.update(dict.fromkeys(self.problem.sample(self.rng, self.candidates).tolist()))
            pool = {a: None for a in pool if a not in self.seen}
        cands = np.fromiter(pool, dtype=np.int64)
        nets = _Ensemble(self.ensemble, self._features(archs[:1]).shape[1], self.layers,
                         self.width, self.rng)  # fmt: skip
        nets.fit(self._features(archs), target, self.steps, self.lr)
        preds = nets.predict(self._features(cands))
        # independent Thompson sampling: one draw per candidate from the ensemble's normal
        draw = self.rng.normal(preds.mean(0), preds.std(0) + 1e-9)
        chosen = cands[np.argsort(-draw)[: self.batch]]
        return chosen[::-1].tolist()

    def tell(self, index: int, fitness: float) -> None:
        self.seen[index] = fitness
