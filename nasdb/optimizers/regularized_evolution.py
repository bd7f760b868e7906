"""Regularised (aging) evolution, Real et al. 2019: tournament selection, one mutation per
child, and the oldest member dies, so good but lucky architectures do not linger."""

from __future__ import annotations

import numpy as np

from nasdb.benchmark import Problem
from nasdb.optimizers.base import Optimizer, Uniforms
from nasdb.optimizers.prior_seeds import PriorSeeds


class RegularizedEvolution(Optimizer):
    """``proxy_pool > 0`` on a benchmark built with ``proxy=`` seeds the population with
    the best-scored architectures of that many random ones, at no training cost; on a
    benchmark with a transfer prior, the population starts from the prior's best."""

    name = "rea"
    bounds = {
        "population_size": (1, None),
        "sample_size": (1, "population_size"),
        "proxy_pool": (0, None),
    }

    def __init__(
        self,
        problem: Problem,
        seed: int = 0,
        population_size: int = 30,
        sample_size: int = 10,
        proxy_pool: int = 0,
    ):
        super().__init__(problem, seed)
        if not 1 <= sample_size <= population_size:
            raise ValueError("need 1 <= sample_size <= population_size")
        self.population_size = population_size
        self.sample_size = sample_size
        # a ring buffer: slot ``_oldest`` is replaced next, so members age out in order
        self._archs: list[int] = []
        self._fits: list[float] = []
        self._oldest = 0
        self._u = Uniforms(self.rng)
        self._initial = problem.sample(self.rng, population_size).tolist()
        if proxy_pool and problem.has_proxy:  # zero-cost warm start: best-scored of a pool
            pool = problem.sample(self.rng, max(proxy_pool, population_size))
            score = np.nan_to_num(problem.proxy(pool), nan=-np.inf)
            self._initial = pool[np.argsort(score, kind="stable")[-population_size:]].tolist()
        self._seeds = PriorSeeds(problem, self.rng, population_size) if problem.has_prior else None

    @property
    def population(self) -> list[tuple[int, float]]:
        """Members from oldest to youngest."""
        order = list(range(self._oldest, len(self._archs))) + list(range(self._oldest))
        return [(self._archs[i], self._fits[i]) for i in order]

    def ask(self) -> int:
        if self._seeds is not None and len(self._archs) < self.population_size:
            index = self._seeds.next()
            if index is not None:
                return index
        if self._initial and self._seeds is None:
            return self._initial.pop()
        if not self._fits:  # every earlier ask still in flight (asynchronous search)
            return int(self.problem.sample(self.rng, 1)[0])
        n, fits = len(self._fits), self._fits
        # tournament over sample_size members drawn with replacement
        k, best = 0, float("-inf")
        for u in self._u.take(self.sample_size):
            j = int(u * n)
            if fits[j] > best:
                k, best = j, fits[j]
        return self.problem.mutate(self._archs[k], self._u)

    def tell(self, index: int, fitness: float) -> None:
        if self._seeds is not None:
            self._seeds.tell(index, fitness)
        if len(self._archs) < self.population_size:
            self._archs.append(index)
            self._fits.append(fitness)
            return
        self._archs[self._oldest] = index
        self._fits[self._oldest] = fitness
        self._oldest = (self._oldest + 1) % self.population_size
