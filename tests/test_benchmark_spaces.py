"""Benchmarks beyond NB201: NB101's 4/12/36/108-epoch subset and NAS-Bench-NLP curves."""

from __future__ import annotations

import pytest

from nasdb import runner
from nasdb.errors import NasdbError


def test_nb101_multi_fidelity_from_the_20k_subset(db):
    bench = db.benchmark("nb101", "cifar10", "valid_accuracy", source="nb101_vis")
    assert bench.fidelities == (4, 12, 36, 108)
    # Measured training seconds at 108 epochs (TPU v2), not a nominal constant.
    assert 100 < bench.cost_of(0) < 10_000
    traj = runner.run("hb", bench, seed=0, budget=runner.Budget(100))
    assert 90 < traj.best[-1] <= bench.optimum()


def test_perplexity_is_minimised_and_unmutable_spaces_say_so(db):
    bench = db.benchmark("nbnlp", "wikitext-2", "valid_perplexity")
    assert bench.directions == ("min",) and bench.fidelities[-1] == 50
    traj = runner.run("rs", bench, seed=0, budget=runner.Budget(30))
    assert traj.best[-1] >= bench.optimum() > 0
    with pytest.raises(NasdbError, match="no mutation"):
        runner.run("rea", bench, seed=0, budget=runner.Budget(200))
