"""CMANAS-style search: CMA-ES (the ``cmaes`` package) over a continuous relaxation, one
score per categorical choice of the space's one-hot encoding; a vector becomes the
architecture that takes the highest score in every group."""

from __future__ import annotations

import numpy as np

from nasdb.benchmark import Problem
from nasdb.errors import NasdbError
from nasdb.optimizers.base import Optimizer


class CMANAS(Optimizer):
    name = "cmanas"
    needs_encoding = True
    bounds = {"sigma": (0, None, True), "popsize": (4, None)}  # cmaes needs 4

    def __init__(
        self, problem: Problem, seed: int = 0, sigma: float = 0.5, popsize: int | None = None
    ):
        super().__init__(problem, seed)
        try:
            from cmaes import CMA
        except ImportError:
            raise NasdbError("cmanas needs cmaes: pip install 'nasdb[search]'") from None
        dim = sum(problem.groups)
        self._cma = CMA(mean=np.zeros(dim), sigma=sigma, seed=seed, population_size=popsize)
        self._todo: list[tuple[np.ndarray, int]] = []
        self._pending: dict[int, list[np.ndarray]] = {}
        self._told: list[tuple[np.ndarray, float]] = []

    def ask(self) -> int:
        if not self._todo:
            for _ in range(self._cma.population_size):
                x = self._cma.ask()
                self._todo.append((x, self.problem.decode(x, self.rng)))
        x, arch = self._todo.pop()
        self._pending.setdefault(arch, []).append(x)
        return arch

    def tell(self, index: int, fitness: float) -> None:
        x = self._pending[index].pop()
        self._told.append((x, -float(fitness)))  # cmaes minimises
        if len(self._told) == self._cma.population_size:
            self._cma.tell(self._told)
            self._told = []
