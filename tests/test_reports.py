"""Honest answers from searches: fair proxies, multi-objective indicators against the true
front, readable reports, and compare that fails loudly instead of hanging."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import REPO, run_cli

from nasdb.errors import UnknownName


# fair proxies ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "proxy, needle",
    [
        ("test_accuracy", "is an objective of the search itself"),
        ("valid_accuracy", "is measured after 12 epochs of training"),
        ("latency", "is a measurement on a device"),
        ("synflow_time", "is a training outcome or a timing"),
    ],
)
def test_proxies_that_need_training_or_are_the_objective_are_refused(db, proxy, needle):
    with pytest.raises(UnknownName) as err:
        db.benchmark("nb201", "cifar10", "test_accuracy", proxy=proxy)
    msg = str(err.value)
    assert needle in msg and "Training-free proxies of this task: epe_nas, fisher" in msg


def test_proxy_refusal_on_the_command_line(full_home):
    result = run_cli("search", "nb201", "cifar10", "--proxy", "test_accuracy", "--budget", "5",
                     "--no-save", "--home", str(full_home))  # fmt: skip
    assert result.exit_code == 2
    assert result.output.startswith("nasdb: error: nb201/cifar10: --proxy test_accuracy")
    assert "naswot" in result.output and result.output.count("\n") == 1


def test_allowed_proxies_are_the_training_free_keys(db):
    from nasdb import proxies

    keys = db.keys()
    got = proxies.allowed(keys, "nb201", "cifar10")
    assert {"naswot", "synflow", "jacov", "snip", "grasp", "fisher", "grad_norm", "epe_nas",
            "zen", "l2_norm", "plain", "nwot", "params", "flops"} <= set(got)  # fmt: skip
    for space in db.spaces():
        for task in db.tasks(space):
            for k in keys:
                if k.space == space and k.task == task and k.metric in proxies.allowed(
                    keys, space, task
                ):
                    assert k.fidelity is None and "accuracy" not in k.metric, k
    # Accel-NASBench stores its fully trained accuracies without a fidelity: still refused
    assert proxies.allowed(keys, "accel", "imagenet") == ["flops", "params"]
    assert "run_ok" not in proxies.allowed(keys, "nbnlp", "wikitext-2")
    # a real proxy still builds, and optimizers see its column
    bench = db.benchmark("nb201", "cifar10", proxy="naswot")
    assert bench.problem.has_proxy


# README truths and compare workers -----------------------------------------------------------
def _readme_compare_block() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
    return next(b for b in blocks if "runner.compare(" in b)


def _run_script(code: str, home, tmp_path, timeout: float = 240):
    script = tmp_path / "script.py"
    script.write_text(code)
    env = {**os.environ, "NASDB_HOME": str(home)}
    return subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                          text=True, timeout=timeout, cwd=tmp_path)  # fmt: skip


def test_readme_compare_example_runs_as_a_script(full_home, tmp_path):
    code = _readme_compare_block()
    assert 'if __name__ == "__main__":' in code
    done = _run_script(code + "    print(table.num_rows)\n", full_home, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == str(2 * 10 * 300)


def test_unguarded_compare_script_fails_instead_of_hanging(full_home, tmp_path):
    # the README example as users wrote it before: no __main__ guard
    code = _readme_compare_block().replace('if __name__ == "__main__":', "if True:")
    done = _run_script(code, full_home, tmp_path, timeout=120)  # a hang raises TimeoutExpired
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("nasdb.errors.NasdbError: compare: a worker process died")
    assert 'if __name__ == "__main__":' in last


def test_killed_worker_is_an_error(full_home, tmp_path):
    code = textwrap.dedent(
        """
        import multiprocessing, os, signal, threading, time
        import nasdb
        from nasdb import runner

        def kill_a_worker():
            while not multiprocessing.active_children():
                time.sleep(0.05)
            time.sleep(1.0)
            os.kill(multiprocessing.active_children()[0].pid, signal.SIGKILL)

        if __name__ == "__main__":
            bench = nasdb.connect().benchmark("nb201", "cifar10")
            threading.Thread(target=kill_a_worker, daemon=True).start()
            runner.compare(["rea"], [bench], seeds=8, budget=runner.Budget(1_000_000),
                           workers=2, progress=False)
            print("finished")
        """
    )
    done = _run_script(code, full_home, tmp_path, timeout=180)
    assert done.returncode != 0 and "finished" not in done.stdout
    assert "NasdbError: compare: a worker process died" in done.stderr


def test_readme_device_repeatability_is_what_the_data_says(db):
    from scipy.stats import kendalltau

    idx = np.arange(15_625)
    taus = {}
    for device in ("eyeriss", "fpga"):
        a, b = (db.lookup("nb201", idx, task=t, metric="latency", device=device)
                for t in ("cifar10", "cifar100"))  # fmt: skip
        taus[device] = float(kendalltau(a, b).statistic)
    readme = " ".join((REPO / "README.md").read_text().split())
    assert taus["fpga"] == 1.0 and "the FPGA at τ 1" in readme
    assert taus["eyeriss"] < 1 and f"Eyeriss at τ {taus['eyeriss']:.4f}" in readme


# multi-objective results -------------------------------------------------------------------
@pytest.fixture(scope="module")
def edge(db):
    return db.benchmark("nb201", "cifar10", ["test_accuracy", "latency"], device="edgegpu")


@pytest.fixture(scope="module")
def edge_runs(edge):
    from nasdb import runner

    return runner.compare(["rs", "nsga2", "rea"], [edge], seeds=5, budget=runner.Budget(200),
                          workers=1, progress=False)  # fmt: skip


def test_true_front_is_the_non_dominated_set_of_the_table(edge):
    from nasdb import pareto

    front = pareto.front(edge)
    vals = edge.query(edge.valid)  # (n, 2): accuracy (max), latency (min)
    acc, lat = vals[:, 0], vals[:, 1]
    # brute force: a cell is on the front when no cell is at least as good in both and
    # better in one
    on = [
        not ((acc >= a) & (lat <= t) & ((acc > a) | (lat < t))).any()
        for a, t in zip(acc, lat, strict=True)
    ]
    want = np.unique(vals[on], axis=0)
    got = np.unique(front.points, axis=0)
    assert np.array_equal(got, want) and len(got) == 29
    assert front.points[:, 0].max() == edge.optimum()  # the best cell is on the front
    assert front.igd(front.points) == 0.0
    assert front.hv(front.points) == pytest.approx(front.best_hv)
    # the front spans [0, 1] once normalised, so the reference point 1.1 bounds the volume
    norm = front.normalise(front.points)
    assert norm.min(axis=0).tolist() == [0.0, 0.0] and norm.max(axis=0).tolist() == [1.0, 1.0]
    assert 1.0 < front.best_hv < pareto.REFERENCE**2
    assert front.hv(front.points[::2]) < front.best_hv


def test_multi_objective_runs_are_ranked_by_hypervolume(edge, edge_runs):
    from nasdb import pareto, report

    front = pareto.front(edge)
    s = report.summary(edge_runs)
    assert set(s["measure"]) == {"hypervolume"}
    df = edge_runs.to_pandas()
    for alg in ("rs", "nsga2", "rea"):
        per_seed = [
            front.hv(np.vstack(run.sort_values("trial")["values"].to_list()))
            for _, run in df[df["algorithm"] == alg].groupby("seed")
        ]
        row = s[s["algorithm"] == alg].iloc[0]
        assert row["mean"] == pytest.approx(np.mean(per_seed))
        assert row["optimum"] == pytest.approx(front.best_hv) and row["igd"] > 0
    assert list(s["mean_rank"]) == sorted(s["mean_rank"])
    # NSGA-II spreads along the front; REA chases accuracy alone and covers less of it
    assert s.iloc[0]["algorithm"] == "nsga2" and s.iloc[-1]["algorithm"] == "rea"
    assert "hypervolume" in report.text(s) and "igd" in report.text(s)


def test_anytime_hypervolume_and_front_plot(edge, edge_runs, tmp_path):
    from nasdb import pareto, report

    front = pareto.front(edge)
    df = edge_runs.to_pandas()
    facts = pareto.facts(edge_runs)
    run = df[(df["algorithm"] == "nsga2") & (df["seed"] == 0)].sort_values("trial")
    missing = report.series(run, facts, edge.describe(), "regret")
    vals = np.vstack(run["values"].to_list())
    assert len(missing) == 200 and np.all(np.diff(missing) <= 1e-12)
    assert missing[-1] == pytest.approx(front.best_hv - front.hv(vals))
    assert missing[9] == pytest.approx(front.best_hv - front.hv(vals[:10]))
    files = {p.name for p in report.write(edge_runs, tmp_path)}
    stem = "nb201_cifar10_test_accuracy_latency_edgegpu_at_200_epochs"
    assert {f"front_{stem}.png", f"curves_{stem}.svg", "summary.txt"} <= files


def test_multi_objective_search_prints_hypervolume_and_igd(full_home):
    result = run_cli("search", "nb201", "cifar10", "--metric", "test_accuracy", "--metric",
                     "latency", "--device", "edgegpu", "-a", "nsga2", "--budget", "100",
                     "--search-on-test",
                     "--no-save", "--home", str(full_home))  # fmt: skip
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("hypervolume "))
    assert "of the true front's 1.0502" in line and "IGD" in line and "of the 29 true-front" in line


# readable reports --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def c10_runs(db):
    from nasdb import runner

    benches = [db.benchmark("nbgraph", "cora"), db.benchmark("nb201", "cifar10")]
    return runner.compare(["rs", "rea", "ls"], benches, seeds=8, budget=runner.Budget(60),
                          workers=1, progress=False)  # fmt: skip


def test_curves_show_regret_on_a_log_axis_within_the_data(c10_runs):
    import matplotlib.pyplot as plt

    from nasdb import pareto, report

    df, facts = c10_runs.to_pandas(), pareto.facts(c10_runs)
    bench = "nb201/cifar10/test_accuracy at 200 epochs"
    fig = report.curve_figure(df, bench, facts)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and "regret" in ax.get_ylabel()
    worst = max(
        float(np.nanmax(report.matrix(df, bench, a, facts, "regret")[0])) for a in ("rs", "rea")
    )
    lo, hi = ax.get_ylim()
    assert 0 < lo and hi < 2 * worst  # bands stay within what the runs reached
    plt.close(fig)
    m, _, _ = report.matrix(df, bench, "rs", facts, "regret")
    b = report.bands(m)
    assert np.all(b["mean_lo"] >= m.min(axis=0)) and np.all(b["mean_hi"] <= m.max(axis=0))
    assert np.all(m >= 0) and np.all(np.diff(m, axis=1) <= 0)  # regret only falls


def test_summary_is_ordered_by_benchmark_then_rank(c10_runs):
    from nasdb import report

    s = report.summary(c10_runs.to_pandas())
    assert list(s["benchmark"]) == sorted(s["benchmark"])
    for _, per in s.groupby("benchmark"):
        assert list(per["mean_rank"]) == sorted(per["mean_rank"])


def test_zero_spread_prints_zero_not_float_noise(db):
    from nasdb import report, runner

    # 11 seeds of random search over all 15,625 cells: every seed ends at the optimum
    bench = db.benchmark("nb201", "cifar10")
    table = runner.compare(["rs"], [bench], seeds=11, budget=runner.Budget(15_625),
                           workers=1, progress=False)  # fmt: skip
    s = report.summary(table.to_pandas())
    assert s["ci95"].tolist() == [0.0] and s["mean"].iloc[0] == pytest.approx(94.37333, abs=1e-5)
    header, _, row = report.text(s).splitlines()[:3]
    assert not re.search(r"\de-\d", row) and row[header.index("ci95") :].split()[0] == "0"


def test_compare_report_over_time_without_warnings(full_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(full_home, home)
    # successive halving needs 12 and 200 epochs of one metric: test accuracy, on purpose
    args = ["compare", "-b", "nb201/cifar10", "-a", "rs", "-a", "sh", "--seeds", "4",
            "--metric", "test_accuracy", "--search-on-test",
            "--budget", "100", "--x", "time", "--report", str(tmp_path / "rep"),
            "--home", str(home)]  # fmt: skip
    done = subprocess.run([sys.executable, "-W", "error", "-m", "nasdb", *args],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Warning" not in done.stderr
    svg = next((tmp_path / "rep").glob("curves_*.svg")).read_text()
    assert "simulated seconds" in svg
