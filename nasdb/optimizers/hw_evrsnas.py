"""HW-EvRSNAS-style search: regularised evolution on one scalar fitness, the first
objective minus a penalty proportional to the relative distance of the hardware cost
(second objective: latency or energy on a device) from a target budget."""

from __future__ import annotations

import numpy as np

from nasdb.benchmark import Problem
from nasdb.optimizers.regularized_evolution import RegularizedEvolution


class HWEvRSNAS(RegularizedEvolution):
    name = "hw-evrsnas"
    bounds = {**RegularizedEvolution.bounds, "penalty": (0, None)}
    multi_objective = True
    min_objectives = 2

    def __init__(
        self,
        problem: Problem,
        seed: int = 0,
        target: float | None = None,
        penalty: float = 10.0,
        population_size: int = 30,
        sample_size: int = 10,
    ):
        super().__init__(problem, seed, population_size, sample_size)
        self.target = target  # in the cost's own unit; None: the first population's median
        self.penalty = penalty
        self._costs: list[float] = []

    def scalar(self, fitness) -> float:
        """Penalised fitness; the cost arrives maximised, so its value is minus fitness[1]."""
        cost = -float(fitness[1]) if self.problem.directions[1] == "min" else float(fitness[1])
        target = self.target if self.target is not None else float(np.median(self._costs))
        return float(fitness[0]) - self.penalty * abs(cost - target) / abs(target or 1.0)

    def tell(self, index: int, fitness) -> None:
        if self.target is None and len(self._costs) < self.population_size:
            self._costs.append(
                -float(fitness[1]) if self.problem.directions[1] == "min" else float(fitness[1])
            )
        super().tell(index, self.scalar(fitness))
