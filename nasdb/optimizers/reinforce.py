"""REINFORCE (Williams 1992) as the NAS-Bench-201/NATS-Bench baseline runs it: a policy of
independent softmax distributions, one per categorical choice (an op per edge), logits
initialised at 1e-3 x N(0, 1), Adam at learning rate 0.01 on -log p(a) (reward - baseline),
the baseline an exponential moving average of rewards with momentum 0.9
(AutoDL-Projects, exps/NATS-algos/reinforce.py)."""

from __future__ import annotations

import numpy as np

from nasdb.benchmark import Problem
from nasdb.optimizers import categorical
from nasdb.optimizers.base import Optimizer


class Reinforce(Optimizer):
    name = "reinforce"
    needs_encoding = True

    def __init__(
        self, problem: Problem, seed: int = 0, learning_rate: float = 0.01, momentum: float = 0.9
    ):
        super().__init__(problem, seed)
        if not 0 <= momentum < 1 or learning_rate <= 0:
            raise ValueError("need learning_rate > 0 and 0 <= momentum < 1")
        self.lr, self.momentum = learning_rate, momentum
        self.groups = problem.groups
        self.logits = [1e-3 * self.rng.standard_normal(k) for k in self.groups]
        self._m = [np.zeros(k) for k in self.groups]
        self._v = [np.zeros(k) for k in self.groups]
        self._step = 0
        self._num = self._den = 0.0  # the moving average, bias-corrected by its weight
        self._asked: dict[int, list[int]] = {}

    def _probs(self) -> list[np.ndarray]:
        out = []
        for z in self.logits:
            e = np.exp(z - z.max())
            out.append(e / e.sum())
        return out

    def ask(self) -> int:
        choice = [int(self.rng.choice(len(p), p=p)) for p in self._probs()]
        index = categorical.index(self.problem, choice, self.rng)
        if categorical.codes(self.problem, index)[0].tolist() != choice:
            choice = categorical.codes(self.problem, index)[0].tolist()  # a valid stand-in
        self._asked[index] = choice
        return index

    def tell(self, index: int, fitness: float) -> None:
        choice = self._asked.pop(index, None)
        if choice is None:
            choice = categorical.codes(self.problem, index)[0].tolist()
        self._num = self.momentum * self._num + (1 - self.momentum) * fitness
        self._den = self.momentum * self._den + (1 - self.momentum)
        advantage = fitness - self._num / self._den
        self._step += 1
        c1, c2 = 1 - 0.9**self._step, 1 - 0.999**self._step
        for z, p, c, m, v in zip(self.logits, self._probs(), choice, self._m, self._v, strict=True):
            grad = advantage * p  # d/dz of -log p(c) * advantage
            grad[c] -= advantage
            m *= 0.9
            m += 0.1 * grad
            v *= 0.999
            v += 0.001 * grad * grad
            z -= self.lr * (m / c1) / (np.sqrt(v / c2) + 1e-8)
