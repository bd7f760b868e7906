"""Random search: the baseline every comparison is measured against."""

from __future__ import annotations

import numpy as np

from nasdb.benchmark import Problem
from nasdb.optimizers.base import Optimizer

_BLOCK = 1024


class RandomSearch(Optimizer):
    """Uniform over valid architectures; without replacement by default (no repeats until
    every architecture has been drawn), with ``replace=True`` as independent draws. With a
    transfer prior, draws favour what it rates well: a permutation by Gumbel-perturbed
    prior normal scores (probability of coming first proportional to exp(score))."""

    name = "rs"

    def __init__(self, problem: Problem, seed: int = 0, replace: bool = False):
        super().__init__(problem, seed)
        self.replace = replace
        self._queue: list[int] = []
        self._pos = 0

    def ask(self) -> int:
        if self._pos >= len(self._queue):
            if self.problem.has_prior:
                key = self.problem.prior_score() + self.rng.gumbel(size=self.problem.size)
                order = self.problem.valid[np.argsort(-key[self.problem.valid], kind="stable")]
                self._queue = order.tolist()
            elif self.replace:
                self._queue = self.problem.sample(self.rng, _BLOCK).tolist()
            else:
                self._queue = self.problem.permutation(self.rng).tolist()
            self._pos = 0
        self._pos += 1
        return self._queue[self._pos - 1]

    def tell(self, index: int, fitness) -> None:
        pass
