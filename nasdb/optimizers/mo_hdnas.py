"""MO-HDNAS-style search: NSGA-II on three objectives, performance, hardware cost and
hardware-cost diversity (distance in cost to the nearest other member), so the front
spreads over the whole cost range instead of crowding at one end."""

from __future__ import annotations

import numpy as np

from nasdb.benchmark import Problem
from nasdb.optimizers.nsga2 import NSGA2


class MOHDNAS(NSGA2):
    name = "mo-hdnas"
    min_objectives = 2

    def __init__(self, problem: Problem, seed: int = 0, population_size: int = 20):
        super().__init__(problem, seed, population_size)

    def selection_objectives(self, archs: list[int]) -> np.ndarray:
        f = np.array([self.archive[a][:2] for a in archs])
        cost = f[:, 1]
        gap = np.abs(cost[:, None] - cost[None, :])
        np.fill_diagonal(gap, np.inf)
        diversity = gap.min(axis=1) if len(archs) > 1 else np.zeros(len(archs))
        diversity[~np.isfinite(diversity)] = 0.0
        return np.column_stack([f, diversity])
