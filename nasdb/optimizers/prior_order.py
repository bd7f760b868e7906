"""The zero-shot transfer baseline, in the style of syne-tune's ``ZeroShotTransfer``:
evaluate architectures in the order a transfer prior rates them, best first, so any
search that uses the prior has to beat simply trusting it."""

from __future__ import annotations

from nasdb.benchmark import Problem
from nasdb.errors import NasdbError
from nasdb.optimizers.base import Optimizer
from nasdb.optimizers.prior_seeds import PriorSeeds


class PriorOrder(Optimizer):
    name = "zs"
    needs_prior = True

    def __init__(self, problem: Problem, seed: int = 0):
        super().__init__(problem, seed)
        self._seeds = PriorSeeds(problem, self.rng, problem.n_valid)

    @classmethod
    def check(cls, problem: Problem, describe: str) -> None:
        super().check(problem, describe)
        if not problem.has_prior:
            raise NasdbError(f"zs evaluates in a transfer prior's order: pass --prior ({describe})")

    def ask(self) -> int:
        index = self._seeds.next()
        return int(self.problem.sample(self.rng, 1)[0]) if index is None else index

    def tell(self, index: int, fitness) -> None:
        self._seeds.tell(index, float(fitness))
