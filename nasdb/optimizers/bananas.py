"""BANANAS-style predictor-guided search (White et al. 2021), kept light: an ensemble of
small numpy MLPs on one-hot encodings, candidates made by mutating the best architectures,
and independent Thompson sampling from the ensemble to pick each batch."""

from __future__ import annotations

import numpy as np

from nasdb.benchmark import Problem
from nasdb.optimizers.base import Optimizer


class _Ensemble:
    """``members`` one-hidden-layer ReLU nets trained side by side as one wide layer,
    full-batch Adam on squared error; members differ by their random initialisation."""

    def __init__(self, members: int, d: int, hidden: int, rng: np.random.Generator):
        self.members, self.hidden = members, hidden
        self.params = [
            rng.normal(0, 1 / np.sqrt(d), (d, members * hidden)),
            np.zeros(members * hidden),
            rng.normal(0, 1 / np.sqrt(hidden), (members, hidden)),
            np.zeros(members),
        ]

    def _forward(self, x: np.ndarray):
        w1, b1, w2, b2 = self.params
        h = np.maximum(x @ w1 + b1, 0).reshape(len(x), self.members, self.hidden)
        return h, np.einsum("neh,eh->ne", h, w2) + b2  # (n, members)

    def fit(self, x: np.ndarray, y: np.ndarray, steps: int, lr: float = 0.01) -> None:
        m = [np.zeros_like(p) for p in self.params]
        v = [np.zeros_like(p) for p in self.params]
        xt, n = x.T, len(y)
        for t in range(1, steps + 1):
            h, out = self._forward(x)
            g_out = (2 / n) * (out - y[:, None])  # (n, members)
            g_h = (g_out[:, :, None] * self.params[2] * (h > 0)).reshape(n, -1)
            grads = [xt @ g_h, g_h.sum(0), np.einsum("neh,ne->eh", h, g_out), g_out.sum(0)]
            c1, c2 = 1 - 0.9**t, 1 - 0.999**t
            for p, g, mi, vi in zip(self.params, grads, m, v, strict=True):
                mi *= 0.9
                mi += 0.1 * g
                vi *= 0.999
                vi += 0.001 * g * g
                p -= lr * (mi / c1) / (np.sqrt(vi / c2) + 1e-8)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self._forward(x)[1].T  # (members, n)


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
        hidden: int = 32,
        steps: int = 100,
        parents: int = 10,
    ):
        super().__init__(problem, seed)
        self.initial, self.batch, self.candidates = initial, batch, candidates
        self.ensemble, self.hidden, self.steps, self.parents = ensemble, hidden, steps, parents
        self.seen: dict[int, float] = {}
        self._todo: list[int] = []

    def ask(self) -> int:
        while not self._todo:
            if len(self.seen) < self.initial:
                fresh = [a for a in self.problem.sample(self.rng, self.initial).tolist()]
                self._todo = [a for a in dict.fromkeys(fresh) if a not in self.seen]
            else:
                self._todo = self._propose()
        return self._todo.pop()

    def _propose(self) -> list[int]:
        archs = np.fromiter(self.seen, dtype=np.int64)
        y = np.fromiter(self.seen.values(), dtype=np.float64)
        scale = y.std() or 1.0
        target = (y - y.mean()) / scale
        x = self.problem.encode(archs).astype(np.float64)
        top = archs[np.argsort(-y)[: self.parents]].tolist()
        pool = {}
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
        xc = self.problem.encode(cands).astype(np.float64)
        nets = _Ensemble(self.ensemble, x.shape[1], self.hidden, self.rng)
        nets.fit(x, target, self.steps)
        preds = nets.predict(xc)
        # independent Thompson sampling: one draw per candidate from the ensemble's normal
        draw = self.rng.normal(preds.mean(0), preds.std(0) + 1e-9)
        chosen = cands[np.argsort(-draw)[: self.batch]]
        return chosen[::-1].tolist()

    def tell(self, index: int, fitness: float) -> None:
        self.seen[index] = fitness
