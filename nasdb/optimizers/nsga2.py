"""NSGA-II (Deb et al. 2002) over architectures: binary tournaments on (front, crowding),
mutation through the space's moves, and elitist survival by non-dominated sorting and
crowding distance, both from pymoo. Subclasses change the objectives selection sees
(:meth:`NSGA2.selection_objectives`) to add novelty or diversity terms."""

from __future__ import annotations

import numpy as np

from nasdb.benchmark import Problem
from nasdb.errors import NasdbError
from nasdb.optimizers.base import Optimizer, Uniforms


def _pymoo():
    try:
        from pymoo.operators.survival.rank_and_crowding.metrics import calc_crowding_distance
        from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting
    except ImportError:
        raise NasdbError("NSGA-II needs pymoo: pip install 'nasdb[search]'") from None
    return NonDominatedSorting(), calc_crowding_distance


def non_dominated(points: np.ndarray) -> np.ndarray:
    """Indices of the rows no other row dominates (all objectives maximised)."""
    nds, _ = _pymoo()
    if not len(points):
        return np.zeros(0, dtype=np.int64)
    return np.asarray(nds.do(-np.asarray(points, dtype=np.float64), only_non_dominated_front=True))


def hypervolume(points: np.ndarray, reference: np.ndarray) -> float:
    """Dominated hypervolume of maximised ``points`` above ``reference`` (pymoo's HV)."""
    from pymoo.indicators.hv import HV

    pts = np.asarray(points, dtype=np.float64)
    pts = pts[(pts > reference).all(axis=1)]
    return float(HV(ref_point=-np.asarray(reference, dtype=np.float64))(-pts)) if len(pts) else 0.0


class NSGA2(Optimizer):
    name = "nsga2"
    bounds = {"population_size": (2, None)}
    multi_objective = True

    def __init__(self, problem: Problem, seed: int = 0, population_size: int = 20):
        super().__init__(problem, seed)
        self._nds, self._crowding = _pymoo()
        self.population_size = population_size
        self._u = Uniforms(self.rng)
        self.archive: dict[int, np.ndarray] = {}  # every architecture evaluated, its fitness
        self._population: list[int] = []
        self._offspring: list[int] = []
        self._todo: list[int] = problem.sample(self.rng, population_size).tolist()
        self._rank: dict[int, tuple[int, float]] = {}

    # what selection ranks on ---------------------------------------------------------
    def selection_objectives(self, archs: list[int]) -> np.ndarray:
        """Maximised objectives of ``archs`` as selection sees them."""
        return np.array([self.archive[a] for a in archs])

    # ask/tell --------------------------------------------------------------------------
    def ask(self) -> int:
        if not self._todo:
            if self._offspring or not self._population:
                self._survive()
            self._todo = [self._child() for _ in range(self.population_size)]
        return self._todo.pop()

    def tell(self, index: int, fitness) -> None:
        self.archive[index] = np.asarray(fitness, dtype=np.float64)
        if self._population or len(self._offspring) < self.population_size:
            self._offspring.append(index)

    def _child(self) -> int:
        pop, n = self._population, len(self._population)
        a, b = pop[self._u.below(n)], pop[self._u.below(n)]
        parent = a if self._rank[a] <= self._rank[b] else b
        return self.problem.mutate(parent, self._u)

    def _survive(self) -> None:
        merged = list(dict.fromkeys(self._population + self._offspring))
        self._offspring = []
        f = -self.selection_objectives(merged)  # pymoo minimises
        fronts = self._nds.do(f)
        keep: list[int] = []
        self._rank = {}
        for r, front in enumerate(fronts):
            crowd = self._crowding(f[front]) if len(front) > 2 else np.full(len(front), np.inf)
            order = np.argsort(-crowd, kind="stable")
            for i in order:
                self._rank[merged[front[i]]] = (r, -float(crowd[i]))
            room = self.population_size - len(keep)
            keep += [merged[front[i]] for i in order[:room]]
            if len(keep) >= self.population_size:
                break
        self._population = keep

    def front(self) -> list[int]:
        """The non-dominated architectures among all evaluated, on the true objectives."""
        archs = list(self.archive)
        pts = np.array([self.archive[a] for a in archs])
        return [archs[i] for i in non_dominated(pts)]
