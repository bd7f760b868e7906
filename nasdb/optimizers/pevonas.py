"""pEvoNAS-style search: a genetic algorithm whose space shrinks as it learns. After each
generation, every group's choice with the worst mean fitness among the evaluated
architectures is removed (down to ``keep`` choices), and new individuals are bred only
from the choices that remain."""

from __future__ import annotations

import numpy as np

from nasdb.benchmark import Problem
from nasdb.optimizers.base import Optimizer


class PEvoNAS(Optimizer):
    name = "pevonas"
    needs_encoding = True
    bounds = {"population_size": (2, None), "keep": (1, None), "mutation": (0, 1)}

    def __init__(
        self,
        problem: Problem,
        seed: int = 0,
        population_size: int = 20,
        keep: int = 2,
        mutation: float = 0.1,
    ):
        super().__init__(problem, seed)
        self.population_size, self.keep, self.mutation = population_size, keep, mutation
        self.groups = problem.groups
        self.allowed = [np.ones(g, dtype=bool) for g in self.groups]
        self.seen: dict[int, float] = {}
        self._generation: list[int] = []
        self._todo: list[int] = problem.sample(self.rng, population_size).tolist()

    def _choices(self, arch: int) -> list[int]:
        enc = self.problem.encode([arch])[0]
        out, start = [], 0
        for g in self.groups:
            out.append(int(enc[start : start + g].argmax()))
            start += g
        return out

    def _arch(self, choices: list[int]) -> int:
        scores = np.zeros(sum(self.groups))
        start = 0
        for g, c in zip(self.groups, choices, strict=True):
            scores[start + c] = 1.0
            start += g
        return self.problem.decode(scores, self.rng)

    def _shrink(self) -> None:
        archs = list(self.seen)
        fit = np.array([self.seen[a] for a in archs])
        choices = np.array([self._choices(a) for a in archs])
        for gi in range(len(self.groups)):
            live = np.flatnonzero(self.allowed[gi])
            if len(live) <= self.keep:
                continue
            means = [fit[choices[:, gi] == c].mean() if (choices[:, gi] == c).any() else np.inf
                     for c in live]  # fmt: skip
            self.allowed[gi][live[int(np.argmin(means))]] = False

    def _breed(self) -> list[int]:
        ranked = sorted(self._generation, key=self.seen.__getitem__, reverse=True)
        parents = [self._choices(a) for a in ranked[: max(2, len(ranked) // 2)]]
        out = []
        for _ in range(self.population_size):
            a, b = (parents[i] for i in self.rng.integers(len(parents), size=2))
            child = [x if self.rng.random() < 0.5 else y for x, y in zip(a, b, strict=True)]
            for gi in range(len(child)):
                live = np.flatnonzero(self.allowed[gi])
                if child[gi] not in live or self.rng.random() < self.mutation:
                    child[gi] = int(self.rng.choice(live))
            out.append(self._arch(child))
        return out

    def ask(self) -> int:
        if not self._todo:
            self._shrink()
            self._todo = self._breed()
            self._generation = []
        return self._todo.pop()

    def tell(self, index: int, fitness: float) -> None:
        self.seen[index] = fitness
        self._generation.append(index)
