"""Benchmarks beyond NB201: NB101's 4/12/36/108-epoch subset and NAS-Bench-NLP curves."""

from __future__ import annotations

import numpy as np
import pytest

from nasdb import runner
from nasdb.errors import NasdbError
from nasdb.spaces.tnb101 import digits


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


def test_tnb101_micro_mutates_one_edge_and_rea_searches_it(db):
    """TransNAS-Bench-101's 4,096 cells move by one edge's op, as NB201's do: 18 distinct
    neighbours each. REA then finds the top 1 % of class_scene's validation accuracy in 200
    evaluations on each of 10 seeds."""

    table = db.space("tnb101_micro").neighbour_table
    changed = digits(table.ravel()).reshape(*table.shape, 6) != digits(np.arange(4096))[:, None]
    assert table.shape == (4096, 18) and (changed.sum(axis=2) == 1).all()
    assert all(len(set(row)) == 18 for row in table)
    bench = db.benchmark("tnb101_micro", "class_scene", "valid_accuracy")
    values = bench._primary[bench.fidelity][bench.valid]
    top = np.quantile(values, 0.99)
    best = [runner.run("rea", bench, seed=s, budget=runner.Budget(200)).best[-1] for s in range(10)]
    assert min(best) >= top
