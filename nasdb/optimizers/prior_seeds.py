"""Where optimizers start when the benchmark carries a transfer prior (``--prior``).

A few-shot prior first spends ``prior_shots`` trials on random architectures, measured like
any other trial; the prior is then refitted on them and the optimizer continues from the
architectures it rates best. A zero-shot prior starts from its best at once.
"""

from __future__ import annotations

import numpy as np

from nasdb.benchmark import Problem


class PriorSeeds:
    """The first ``n`` architectures to ask: the few-shot samples, then the prior's best."""

    def __init__(self, problem: Problem, rng: np.random.Generator, n: int):
        self.problem = problem
        shots = min(problem.prior_shots, n)
        self._shots = problem.sample(rng, shots).tolist() if shots else []
        self._left = max(n - shots, 1)
        self._best: list[int] | None = None
        self.told: dict[int, float] = {}

    def next(self) -> int | None:
        """The next architecture to ask, or None once all are handed out."""
        if self._shots:
            return self._shots.pop()
        if self._best is None:
            self._best = self.problem.prior_best(self._left, self.told).tolist()[::-1]
        return self._best.pop() if self._best else None

    def tell(self, index: int, fitness: float) -> None:
        self.told[index] = fitness
