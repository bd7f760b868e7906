"""NEvoNAS-style search: NSGA-II on (performance, novelty), where novelty is the mean
Hamming distance of an architecture's encoding to its k nearest evaluated neighbours, so
the population keeps exploring instead of collapsing on one good region."""

from __future__ import annotations

import numpy as np

from nasdb.benchmark import Problem
from nasdb.optimizers.nsga2 import NSGA2


class NEvoNAS(NSGA2):
    name = "nevonas"
    needs_encoding = True
    bounds = {**NSGA2.bounds, "k": (1, None)}
    multi_objective = False  # searches one objective; novelty is its second

    def __init__(self, problem: Problem, seed: int = 0, population_size: int = 20, k: int = 5):
        super().__init__(problem, seed, population_size)
        self.k = k

    def tell(self, index: int, fitness) -> None:
        super().tell(index, [fitness])

    def selection_objectives(self, archs: list[int]) -> np.ndarray:
        fit = np.array([self.archive[a][0] for a in archs])
        enc = self.problem.encode(archs)
        ref = self.problem.encode(list(self.archive))
        dist = np.abs(enc[:, None, :] - ref[None, :, :]).sum(-1) / 2  # choices that differ
        k = min(self.k + 1, dist.shape[1])
        novelty = np.sort(dist, axis=1)[:, 1:k].mean(axis=1) if k > 1 else np.zeros(len(archs))
        return np.column_stack([fit, novelty])

    def front(self) -> list[int]:
        best = max(self.archive, key=lambda a: self.archive[a][0])
        return [best]
