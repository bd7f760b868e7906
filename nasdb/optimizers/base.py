"""The ask/tell contract every optimizer keeps, as in Optuna's ask-and-tell interface.

``ask()`` returns an architecture index (or ``(index, fidelity)`` for multi-fidelity
optimizers); ``tell(index, fitness)`` hands back its fitness, oriented so that higher is
better: a float for single-objective optimizers (the first objective), an array with one
entry per objective for multi-objective ones. A seed fixes every random choice.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from nasdb.benchmark import Problem
from nasdb.errors import NasdbError


class Optimizer:
    name: ClassVar[str] = ""
    multi_fidelity: ClassVar[bool] = False  # ask() returns (index, fidelity)
    multi_objective: ClassVar[bool] = False  # tell() gets every objective
    needs_neighbours: ClassVar[bool] = False
    min_objectives: ClassVar[int] = 1
    needs_prior: ClassVar[bool] = False  # runs only on a benchmark with a transfer prior
    needs_encoding: ClassVar[bool] = False  # searches the one-hot groups (Problem.groups)
    # parameter -> (low, high[, True: low excluded]); a bound may name another parameter.
    # Checked with the parameters' types by nasdb.validate.optimizer_params before a run.
    bounds: ClassVar[dict[str, tuple]] = {}

    def __init__(self, problem: Problem, seed: int = 0):
        self.problem = problem
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    @classmethod
    def check(cls, problem: Problem, describe: str) -> None:
        """Refuse a benchmark the algorithm cannot run on, with the reason in one line."""
        if cls.multi_fidelity and len(problem.fidelities) < 2:
            listed = ", ".join("none" if f is None else str(f) for f in problem.fidelities)
            raise NasdbError(
                f"{cls.name} needs several fidelities; {describe} has only {listed} "
                "(NB201 has 12 and 200 epochs)"
            )
        cls.check_space(problem, describe)

    @classmethod
    def check_space(cls, problem: Problem, describe: str) -> None:
        """Refuse objectives or a space the algorithm cannot work with."""
        if problem.n_objectives < cls.min_objectives:
            raise NasdbError(
                f"{cls.name} needs {cls.min_objectives} objectives, e.g. a hardware cost: "
                f"--metric test_accuracy --metric latency --device edgegpu; {describe} has "
                f"{problem.n_objectives}"
            )
        if cls.needs_neighbours and not problem.has_neighbours:
            raise NasdbError(f"{cls.name} needs neighbours; space {problem.space} has none")
        if cls.needs_encoding and not problem.has_encoding:
            raise NasdbError(
                f"{cls.name} searches one categorical choice per group (an op per edge); "
                f"space {problem.space} has no such encoding ({describe}); try rs or rea"
            )

    def ask(self):
        raise NotImplementedError

    def tell(self, index: int, fitness) -> None:
        raise NotImplementedError


class Uniforms:
    """Uniform draws from a Generator in blocks: scalar draws cost ~0.1 us instead of ~1 us."""

    def __init__(self, rng: np.random.Generator, block: int = 4096):
        self.rng = rng
        self.block = block
        self._buf: list[float] = []
        self._pos = 0

    def below(self, n: int) -> int:
        """An integer uniform in 0..n-1."""
        if self._pos >= len(self._buf):
            self._buf = self.rng.random(self.block).tolist()
            self._pos = 0
        u = self._buf[self._pos]
        self._pos += 1
        return int(u * n)

    def take(self, k: int) -> list[float]:
        """k uniforms in [0, 1)."""
        if self._pos + k > len(self._buf):
            self._buf = self._buf[self._pos :] + self.rng.random(max(self.block, k)).tolist()
            self._pos = 0
        self._pos += k
        return self._buf[self._pos - k : self._pos]
