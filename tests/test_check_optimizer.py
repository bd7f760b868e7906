"""Every registered optimizer through the conformance kit ``check_optimizer`` on the real
tables, and the kit itself against optimizers that each break one contract."""

from __future__ import annotations

import numpy as np
import pytest

from nasdb import optimizers
from nasdb.optimizers.random_search import RandomSearch
from nasdb.testing import check_optimizer
from nasdb.testing.optimizers import MULTI, SINGLE

# Parameters that keep a check quick; REA's tiny population has every early ask in flight
# before anything is told, so it asks from an empty population.
RUNS = [(name, None) for name in optimizers.names() if name != "bananas"] + [
    ("bananas", {"steps": 20, "ensemble": 2, "layers": 3, "candidates": 30}),
    ("rea", {"population_size": 2, "sample_size": 1}),
]


@pytest.fixture(scope="module")
def benches(db):
    """NB201 (two fidelities), NAS-Bench-Graph proteins (few valid GNNs), NB101 cells, and
    NB201 accuracy with edge-GPU latency: the kit's defaults, built once."""
    return [db.benchmark(space, task, **kw) for space, task, kw in (*SINGLE, MULTI)]


@pytest.mark.parametrize(("name", "params"), RUNS, ids=[n if p is None else f"{n}-small"
                                                        for n, p in RUNS])  # fmt: skip
def test_optimizer_keeps_the_contracts(db, benches, name, params):
    cls = optimizers.get(name)
    given = benches
    if cls.needs_prior:  # few-shot: its first asks are random, so seeds differ
        given = [db.benchmark("nb201", "cifar10", prior="few-shot:5")]
    done = check_optimizer(name, given, params=params)
    checked = {d.split(" on ")[1] for d in done}
    assert len(done) == 1 + 3 * len(checked)  # parameters, then three checks per benchmark
    if cls.multi_objective or cls.min_objectives > 1:
        assert any("latency@edgegpu" in c for c in checked), checked
    elif not (cls.multi_fidelity or cls.needs_prior):  # where most indices have no value
        assert any("nbgraph/proteins" in c for c in checked), checked


# the kit catches what it promises to catch ----------------------------------------------------
class Outside(RandomSearch):
    name = "outside"

    def ask(self) -> int:
        return self.problem.size  # one past the last index


class Everywhere(RandomSearch):
    name = "everywhere"

    def ask(self) -> int:  # any index, answered or not
        return int(self.rng.integers(self.problem.size))


class Unseeded(RandomSearch):
    name = "unseeded"

    def __init__(self, problem, seed: int = 0, replace: bool = False):
        super().__init__(problem, seed, replace)
        self.rng = np.random.default_rng()  # fresh entropy: a seed fixes nothing


class SeedBlind(RandomSearch):
    name = "seed-blind"

    def __init__(self, problem, seed: int = 0, replace: bool = False):
        super().__init__(problem, 0, replace)


class InOrder(RandomSearch):
    """Assumes every answer comes back before the next ask, in order."""

    name = "in-order"

    def __init__(self, problem, seed: int = 0, replace: bool = False):
        super().__init__(problem, seed, replace)
        self._asked: list[int] = []

    def ask(self) -> int:
        self._asked.append(super().ask())
        return self._asked[-1]

    def tell(self, index: int, fitness) -> None:
        if index != self._asked.pop(0):
            raise RuntimeError("told out of order")


class Untyped(RandomSearch):
    """A parameter without a type hint or bounds: nothing checks what it is given."""

    name = "untyped"

    def __init__(self, problem, seed: int = 0, batch=4):
        super().__init__(problem, seed)
        self.batch = batch


@pytest.mark.parametrize(
    ("cls", "bench", "needle"),
    [
        (Outside, 0, "asks before tells: ask 0 with 0 in flight: asked for index 15625, outside"),
        (Everywhere, 1, "which the benchmark cannot answer"),
        (Unseeded, 0, "reproducible: seed 0 asked two different sequences"),
        (SeedBlind, 0, "seeds differ: seeds 0 and 1 asked the same 60 architectures"),
        (InOrder, 0, "asks before tells: RuntimeError: told out of order"),
        (Untyped, 0, "params: {'batch': 'many'}: was accepted"),
    ],
)
def test_the_kit_catches_a_broken_optimizer(benches, cls, bench, needle):
    with pytest.raises(AssertionError, match=needle):
        check_optimizer(cls, benches[bench])
    check_optimizer(RandomSearch, benches[bench])  # the unbroken parent passes there
