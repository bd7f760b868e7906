"""Optuna studies on nasdb benchmarks, stored as nasdb runs; the spaces' categorical encoding."""

from __future__ import annotations

import shutil
import sys

import numpy as np
import optuna
import pytest
from conftest import run_cli

from nasdb import runner, spaces
from nasdb.errors import NasdbError
from nasdb.integrations import choices, store
from nasdb.integrations import optuna as nop

pytestmark = pytest.mark.shared
optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="module")
def bench(db):
    return db.benchmark("nb201", "cifar10")


def test_tpe_study_rows_are_nasdb_lookups(db, bench):
    study = nop.create_study(bench, seed=0)
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    study.optimize(nop.Objective(bench), n_trials=20)
    df = nop.to_runs(bench, study, seed=0).to_pandas()
    assert len(df) == 20 and (df.algorithm == "optuna:tpe").all()
    assert df.arch_index.tolist() == [t.user_attrs["arch_index"] for t in study.trials]
    want = db.lookup("nb201", df.arch_index.to_numpy(), task="cifar10", metric="test_accuracy")
    assert np.array_equal(df.value.to_numpy(), want)
    assert np.array_equal(df.value.to_numpy(), [t.value for t in study.trials])
    assert np.allclose(df.cost, bench.cost(df.arch_index.to_numpy()))
    assert (df.fidelity == 200).all() and (np.diff(df.best) >= 0).all()
    assert df.best.iloc[-1] == study.best_value


def test_runs_report_the_incumbents_test_accuracy_under_the_protocol(db):
    bench = db.benchmark("nb201", "cifar10", protocol=True)  # valid@12, reports test@200
    study = nop.create_study(bench, seed=0)
    study.optimize(nop.Objective(bench), n_trials=10)
    df = nop.to_runs(bench, study).to_pandas()
    assert (df.fidelity == 12).all() and (df.reported_metric == "test_accuracy@200").all()
    incumbent = int(df.arch_index[df.value.idxmax()])
    assert df.reported.iloc[-1] == db.lookup("nb201", [incumbent], task="cifar10",
                                             metric="test_accuracy", fidelity=200)[0]  # fmt: skip


def test_several_metrics_make_a_multi_objective_study(db):
    bench = db.benchmark("nb201", "cifar10", ["test_accuracy", "latency"], device="edgegpu")
    study = nop.create_study(bench, seed=0)
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    study.optimize(nop.Objective(bench), n_trials=12)
    df = nop.to_runs(bench, study).to_pandas()
    assert (df.algorithm == "optuna:nsga2").all()
    values = np.vstack(df["values"].to_numpy())
    arch = df.arch_index.to_numpy()
    assert np.array_equal(values[:, 0], db.lookup("nb201", arch, task="cifar10",
                                                  metric="test_accuracy"))  # fmt: skip
    assert np.array_equal(values[:, 1], db.lookup("nb201", arch, task="cifar10",
                                                  metric="latency", device="edgegpu"))  # fmt: skip


def test_invalid_nb101_cells_are_pruned_not_valued(db):
    bench = db.benchmark("nb101", "cifar10")
    enc = choices.of(bench)
    study = nop.create_study(bench, sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(nop.Objective(bench), n_trials=20)
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert pruned and done and len(pruned) + len(done) == 20
    for t in pruned:  # each one truly names no NB101 cell
        with pytest.raises(choices.InvalidConfig, match="nb101"):
            enc.index(t.params)
        assert t.values is None and "nb101" in t.user_attrs["invalid"]
    df = nop.to_runs(bench, study).to_pandas()
    assert len(df) == len(done) and (df.algorithm == "optuna:random").all()
    want = db.lookup("nb101", df.arch_index.to_numpy(), task="cifar10", metric="test_accuracy")
    assert np.array_equal(df.value.to_numpy(), want)


@pytest.mark.parametrize(
    "space, task, metric",
    [("nb201", "cifar10", None), ("nbmacro", "cifar10", None), ("nbgraph", "cora", None),
     ("tnb101_micro", "class_scene", "valid_accuracy"), ("nb101", "cifar10", None)],
)  # fmt: skip
def test_every_architecture_is_one_configuration(db, space, task, metric):
    bench = db.benchmark(space, task, metric) if metric else db.benchmark(space, task)
    enc = choices.of(bench)
    index = bench.valid if len(bench.valid) <= 16_000 else bench.valid[::97]
    configs = [enc.config(i) for i in index]
    assert [enc.index(c) for c in configs] == index.tolist()
    sizes = {"nb201": [5] * 6, "nbmacro": [3] * 8, "nbgraph": [9] * 5,
             "tnb101_micro": [4] * 6, "nb101": [2] * 21 + [3] * 5}  # fmt: skip
    assert [len(o) for o in enc.options] == sizes[space]
    assert len({tuple(c.values()) for c in configs}) == len(index)
    if space in ("nb201", "nbmacro"):  # every combination is a cell, and has a value
        assert len(index) == spaces.get(space).size


def test_report_ranks_optuna_next_to_nasdb(full_home, tmp_path):
    import nasdb

    home = tmp_path / "home"
    shutil.copytree(full_home, home)
    db = nasdb.connect(home)
    bench = db.benchmark("nb201", "cifar10")
    ours = runner.compare(["rs"], [bench], seeds=2, budget=runner.Budget(10), workers=1,
                          progress=False)  # fmt: skip
    theirs = []
    for seed in range(2):
        study = nop.create_study(bench, seed=seed)
        study.optimize(nop.Objective(bench), n_trials=10)
        theirs.append(nop.to_runs(bench, study, seed=seed))
    run_id = store(home, ours, *theirs)
    out = run_cli("report", run_id, "--home", str(home))
    assert out.exit_code == 0, out.output
    ranked = out.output.split("average_rank")[1].split()
    assert {"rs", "optuna:tpe"} <= set(ranked)


def test_bad_input_is_one_clear_error(db, bench, monkeypatch):
    other = db.benchmark("nb201", "cifar10", ["test_accuracy", "latency"], device="edgegpu")
    with pytest.raises(NasdbError, match="the study has 2 objectives"):
        nop.to_runs(bench, nop.create_study(other))
    with pytest.raises(NasdbError, match="expected an optuna.Study"):
        nop.to_runs(bench, [])
    monkeypatch.setitem(sys.modules, "optuna", None)  # as if not installed
    with pytest.raises(NasdbError, match=r"pip install 'nasdb\[optuna\]'"):
        nop.Objective(bench)
