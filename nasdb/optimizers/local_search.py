"""Local search (White et al. 2021): from the best architecture so far, evaluate its
neighbours in random order and move to the best one that improves; at a local optimum,
restart from a random architecture. Architectures already evaluated are not asked again.
With a transfer prior, the first centre is the best of the prior's top candidates."""

from __future__ import annotations

from nasdb.benchmark import Problem
from nasdb.optimizers.base import Optimizer
from nasdb.optimizers.prior_seeds import PriorSeeds


class LocalSearch(Optimizer):
    name = "ls"
    bounds = {"initial": (1, None)}
    needs_neighbours = True

    def __init__(self, problem: Problem, seed: int = 0, initial: int = 10):
        super().__init__(problem, seed)
        self.seen: dict[int, float] = {}
        self._todo: list[int] = problem.sample(self.rng, initial).tolist()
        self._centre: int | None = None
        self._restart = False
        self._best: int | None = None
        self._seeds = PriorSeeds(problem, self.rng, initial) if problem.has_prior else None
        if self._seeds is not None:
            self._todo = []

    def ask(self) -> int:
        if self._seeds is not None:
            index = self._seeds.next()
            if index is not None:
                return index
            self._seeds = None
        if len(self.seen) >= self.problem.n_valid:  # everything evaluated: repeats only
            return int(self.problem.sample(self.rng, 1)[0])
        while True:
            while self._todo:
                arch = self._todo.pop()
                if arch not in self.seen:
                    return arch
            self._next_centre()

    def _next_centre(self) -> None:
        """All pending neighbours are evaluated: move, or restart at a local optimum."""
        best = self._best if self._centre is None else None
        if self._centre is not None:
            near = [a for a in self.problem.neighbours(self._centre).tolist() if a in self.seen]
            top = max(near, key=self.seen.__getitem__, default=None)
            if top is not None and self.seen[top] > self.seen[self._centre]:
                best = top
        if best is None or best == self._centre:  # local optimum: start afresh
            self._centre = None
            self._todo = self.problem.sample(self.rng, 1).tolist()
            self._restart = True
            return
        self._centre = best
        near = self.problem.neighbours(best)
        self._todo = [a for a in self.rng.permutation(near).tolist() if a not in self.seen]

    def tell(self, index: int, fitness: float) -> None:
        if self._seeds is not None:
            self._seeds.tell(index, fitness)
        self.seen[index] = fitness
        if self._best is None or fitness > self.seen[self._best]:
            self._best = index
        if self._restart:  # the random restart point is the new centre
            self._restart = False
            self._centre = index
            near = self.problem.neighbours(index)
            self._todo = [a for a in self.rng.permutation(near).tolist() if a not in self.seen]
