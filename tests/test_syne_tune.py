"""syne-tune's schedulers on nasdb benchmarks (simulated backend), stored as nasdb runs."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import run_cli
from scipy.stats import rankdata

from nasdb import runner
from nasdb.errors import NasdbError
from nasdb.integrations import choices, store
from nasdb.integrations import syne_tune as nst

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def bench(db):
    return db.benchmark("nb201", "cifar10")  # test accuracy at 200 epochs, and at 12


@pytest.fixture(scope="module")
def store_home(full_home, tmp_path_factory):
    """A copy of the full catalog that runs can be written into."""
    home = tmp_path_factory.mktemp("synetune") / "home"
    shutil.copytree(full_home, home)
    return home


def _same_as_lookups(db, bench, df):
    """Every row's values are nasdb's lookups for its architecture at its fidelity."""
    for fid, rows in df.groupby("fidelity"):
        want = db.lookup("nb201", rows.arch_index.to_numpy(), task="cifar10",
                         metric="test_accuracy", fidelity=int(fid))  # fmt: skip
        assert np.array_equal(rows.value.to_numpy(), want)


def test_random_search_rows_are_lookups_of_distinct_valid_architectures(db, bench):
    results = nst.simulate(bench, "rs", trials=15, seed=0)
    assert results.trial_id.nunique() == 15 and (results.epoch == 200).all()
    df = nst.to_runs(bench, results, "rs", seed=0).to_pandas()
    assert len(df) == 15 and df.arch_index.nunique() == 15
    assert (df.algorithm == "synetune:rs").all() and df.trial.tolist() == list(range(15))
    enc = choices.of(bench)
    for (_, row), arch in zip(results.iterrows(), df.arch_index, strict=True):
        config = {n: row[f"config_{n}"] for n in enc.names}
        assert enc.index(config) == arch and 0 <= arch < 15_625
        assert enc.config(arch) == config
    _same_as_lookups(db, bench, df)
    assert np.allclose(df.cost, bench.cost(df.arch_index.to_numpy(), 200))
    assert np.allclose(df.time, np.cumsum(df.cost))
    assert (np.diff(df.best) >= 0).all() and df.best.iloc[-1] == df.value.max()


def test_asha_stops_trials_at_the_lower_fidelity(db, bench):
    results = nst.simulate(bench, "asha", trials=20, seed=1)
    df = nst.to_runs(bench, results, "asha", seed=1).to_pandas()
    assert set(df.fidelity) == {12, 200}
    assert (df.fidelity < 200).sum() == 20  # every trial reports at 12 epochs first
    assert 0 < (df.fidelity == 200).sum() < 20  # only the promising ones go on
    _same_as_lookups(db, bench, df)
    # a trial's rows cost, together, its training to the last epoch it reached
    ends = results.groupby("trial_id").epoch.max()
    arch = df.groupby(results.trial_id.to_numpy()).arch_index.first()
    spent = df.groupby(results.trial_id.to_numpy()).cost.sum()
    want = [bench.cost_of(int(arch[t]), int(ends[t])) for t in ends.index]
    assert np.allclose(spent[ends.index], want)
    at_200 = np.where(df.fidelity == 200, df.value, -np.inf)  # best counts the target only
    expect = np.maximum.accumulate(at_200)
    assert np.array_equal(df.best.fillna(-np.inf), expect)


@pytest.mark.parametrize("name", ["bohb", "rea"])
def test_bohb_and_rea_run_on_the_benchmark(db, bench, name):
    df = nst.to_runs(bench, nst.simulate(bench, name, trials=12, seed=0), name).to_pandas()
    assert df.arch_index.groupby(df.fidelity).size().get(200, 0) >= 1
    assert len(df.groupby("arch_index")) <= 12
    _same_as_lookups(db, bench, df)


def test_transfer_schedulers_start_from_the_other_datasets_best(db, bench):
    transfer = nst.transfer_evaluations(db, bench)
    assert sorted(transfer) == ["cifar100", "imagenet16-120"]  # cifar10-valid is CIFAR-10
    zs = nst.to_runs(bench, nst.simulate(bench, "zero-shot", trials=3, transfer=transfer),
                     "zero-shot").to_pandas()  # fmt: skip
    ranks = [rankdata(-db.lookup("nb201", np.arange(15_625), task=t, metric="test_accuracy"))
             for t in ("cifar100", "imagenet16-120")]  # fmt: skip
    assert zs.arch_index[0] == int(np.argmin(np.mean(ranks, axis=0)))  # 3888
    assert zs.value[0] == bench.value(int(zs.arch_index[0]))
    box = nst.to_runs(bench, nst.simulate(bench, "bounding-box", trials=3, transfer=transfer),
                      "bounding-box").to_pandas()  # fmt: skip
    enc = choices.of(bench)
    best = [enc.config(int(np.argmin(r))) for r in ranks]
    for arch in box.arch_index:  # every op within the box of the sources' best cells
        for name, op in enc.config(arch).items():
            assert op in {b[name] for b in best}


def test_random_search_on_two_objectives(db):
    two = db.benchmark("nb201", "cifar10", ["test_accuracy", "latency"], device="edgegpu")
    assert nst.blackbox(two).objectives_names == ["test_accuracy", "latency", "elapsed_time"]
    df = nst.to_runs(two, nst.simulate(two, "rs", trials=8), "rs").to_pandas()
    values, arch = np.vstack(df["values"].to_numpy()), df.arch_index.to_numpy()
    assert len(df) == 8 and (df.metric == "test_accuracy,latency").all()
    assert np.array_equal(values[:, 1], db.lookup("nb201", arch, task="cifar10",
                                                  metric="latency", device="edgegpu"))  # fmt: skip
    with pytest.raises(NasdbError, match="takes one direction for all objectives"):
        nst.simulate(two, "asha", trials=3)


def test_invalid_nb101_configurations_fail_as_trials(db):
    nb101 = db.benchmark("nb101", "cifar10")
    results = nst.simulate(nb101, "rs", trials=15, seed=0)
    df = nst.to_runs(nb101, results, "rs").to_pandas()
    assert 0 < len(df) < 15  # random edges often leave no path or too many edges
    want = db.lookup("nb101", df.arch_index.to_numpy(), task="cifar10", metric="test_accuracy")
    assert np.array_equal(df.value.to_numpy(), want)


def test_report_ranks_syne_tune_next_to_nasdb(store_home):
    import nasdb

    db = nasdb.connect(store_home)
    bench = db.benchmark("nb201", "cifar10")
    ours = runner.compare(["rs"], [bench], seeds=2, budget=runner.Budget(10), workers=1,
                          progress=False)  # fmt: skip
    theirs = [nst.to_runs(bench, nst.simulate(bench, "rs", trials=10, seed=s), "rs", s)
              for s in range(2)]  # fmt: skip
    run_id = store(db, ours, *theirs)
    got = db.sql(f"SELECT algorithm, count(*) FROM runs WHERE run_id = '{run_id}' "
                 "GROUP BY 1 ORDER BY 1").fetchall()  # fmt: skip
    assert got == [("rs", 20), ("synetune:rs", 20)]
    out = run_cli("report", run_id, "--home", str(store_home))
    assert out.exit_code == 0, out.output
    table = out.output.split("average_rank")[0]
    assert "synetune:rs" in table and "\nnb201/cifar10/test_accuracy at 200 epochs  rs " in table
    # a stored run can be merged again, by its id
    again = store(db, run_id, theirs[0])
    n = db.sql(f"SELECT count(*) FROM runs WHERE run_id = '{again}'").fetchall()[0][0]
    assert n == 50


def test_bad_input_is_one_clear_error(db, bench, monkeypatch):
    with pytest.raises(NasdbError, match="unknown syne-tune scheduler 'hyperband'; available"):
        nst.simulate(bench, "hyperband", trials=3)
    with pytest.raises(NasdbError, match="trials must be a positive integer; got 0"):
        nst.simulate(bench, "rs", trials=0)
    with pytest.raises(NasdbError, match="zero-shot needs transfer="):
        nst.simulate(bench, "zero-shot", trials=3)
    results = nst.simulate(bench, "rs", trials=2)
    with pytest.raises(NasdbError, match="the results lack config_edge_0_1"):
        nst.to_runs(bench, results.drop(columns="config_edge_0_1"), "rs")
    with pytest.raises(NasdbError, match="store: no stored run 'nope'"):
        store(db, "nope")
    monkeypatch.setitem(sys.modules, "syne_tune", None)  # as if not installed
    with pytest.raises(NasdbError, match=r"pip install 'nasdb\[synetune\]'"):
        nst.blackbox(bench)



def test_nasdb_imports_without_the_libraries():
    """Both libraries are optional: nasdb, its CLI and the integration modules import
    without them (an import of either would fail in this process)."""
    code = (
        "import sys; sys.modules['syne_tune'] = None; sys.modules['optuna'] = None\n"
        "import nasdb, nasdb.cli, nasdb.integrations\n"
        "from nasdb.integrations import optuna, syne_tune\n"
        "print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr
