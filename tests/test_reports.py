"""Honest answers from searches: fair proxies, multi-objective indicators against the true
front, readable reports, and compare that fails loudly instead of hanging."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import REPO, run_cli

from nasdb import proxies
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
            runner.compare(["rea"], [bench], seeds=8, budget=runner.Budget(400_000),
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
