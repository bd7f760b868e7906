"""Successive halving and Hyperband over the benchmark's fidelities (Li et al. 2018).

A bracket evaluates ``n`` architectures at its first fidelity, keeps the best
``1/eta`` of them for the next fidelity, and so on up to the target. Successive halving
repeats one bracket that starts at the lowest fidelity; Hyperband cycles through brackets
that start at each fidelity, trading breadth for trust in low-fidelity values.
"""

from __future__ import annotations

import math

from nasdb.benchmark import Problem
from nasdb.optimizers.base import Optimizer


class SuccessiveHalving(Optimizer):
    name = "sh"
    bounds = {"eta": (1, None, True), "n": (1, None)}
    multi_fidelity = True

    def __init__(self, problem: Problem, seed: int = 0, eta: float = 3, n: int = 27):
        super().__init__(problem, seed)
        if eta <= 1 or n < 1:
            raise ValueError("need eta > 1 and n >= 1")
        self.eta = eta
        self.n = n
        self.rungs = [f for f in problem.fidelities if f is not None]
        self._plan = self._brackets()
        self._todo: list[int] = []
        self._rung = 0
        self._scores: dict[int, float] = {}

    def _brackets(self):
        while True:
            yield 0, self.n

    def _start_bracket(self) -> None:
        self._rung, n = next(self._plan)
        self._todo = self._distinct(n)
        self._scores = {}

    def _distinct(self, n: int) -> list[int]:
        n = min(n, self.problem.n_valid)
        picked = dict.fromkeys(self.problem.sample(self.rng, 2 * n).tolist())
        while len(picked) < n:
            picked.update(dict.fromkeys(self.problem.sample(self.rng, n).tolist()))
        return list(picked)[:n]

    def ask(self) -> tuple[int, int]:
        while not self._todo:
            if self._scores and self._rung < len(self.rungs) - 1:
                keep = max(1, math.floor(len(self._scores) / self.eta))
                ranked = sorted(self._scores, key=self._scores.__getitem__, reverse=True)
                self._todo = ranked[:keep][::-1]  # popped from the end: best first
                self._rung += 1
                self._scores = {}
            else:
                self._start_bracket()
        return self._todo.pop(), self.rungs[self._rung]

    def tell(self, index: int, fitness: float) -> None:
        self._scores[index] = fitness


class Hyperband(SuccessiveHalving):
    name = "hb"

    def _brackets(self):
        top = len(self.rungs) - 1
        while True:
            for s in range(top, -1, -1):
                n = math.ceil((top + 1) / (s + 1) * self.eta**s * self.n / self.eta**top)
                yield top - s, max(1, n)
