"""Training on a miss: real trainings of NB201 cells on scikit-learn's digits, real
processes for the concurrency and crash cases, and the catalog checked after each."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import snapshot

pytest.importorskip("torch")
pytest.importorskip("sklearn")

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SEARCH = ["search", "nb201", "digits10", "-a", "rea", "--miss", "train",
          "--recipe", "nb201-short"]  # fmt: skip


def _env(home: Path) -> dict:
    return {**os.environ, "NASDB_HOME": str(home), "PATH": f"{BIN}:{os.environ['PATH']}"}


def nasdb(home: Path, *args, check=True) -> subprocess.CompletedProcess:
    out = subprocess.run([str(BIN / "nasdb"), *args], env=_env(home), capture_output=True,
                         text=True, timeout=600)  # fmt: skip
    if check:
        assert out.returncode == 0, out.stderr
    return out


def sql(home: Path, query: str) -> list[dict]:
    from nasdb.db import connect

    return connect(home).sql(query).df().to_dict("records")


@pytest.fixture
def digits(tmp_path) -> Path:
    home = tmp_path / "home"
    nasdb(home, "task", "add", "digits10", "--space", "nb201", "--data", "digits")
    return home


def _trained(stdout: str) -> int:
    return int(re.search(r"trained (\d+) architectures", stdout).group(1))


def test_readme_example_trains_then_reads_back(tmp_path):
    """The README's shell example as a user runs it; the second search trains nothing."""
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- train-miss-shell -->", 1)[1].split("```bash\n", 1)[1]
    lines = [ln for ln in block.split("```", 1)[0].splitlines() if ln.strip()]
    home = tmp_path / "home"
    outs = []
    for line in lines:
        out = subprocess.run(["bash", "-c", line], env=_env(home), capture_output=True,
                             text=True, timeout=600)  # fmt: skip
        assert out.returncode == 0, (line, out.stderr)
        outs.append(out.stdout)
    first, second = _trained(outs[1]), _trained(outs[4])
    rows = sql(home, "SELECT * FROM trainings")
    assert first == len(rows) >= 1 and second == 0
    assert {r["status"] for r in rows} <= {"ok", "diverged"}
    ok = [r for r in rows if r["status"] == "ok"]
    for r in rows:  # full provenance on every row
        assert r["recipe"] == "nb201-short@1" and len(r["recipe_sha256"]) == 64
        assert r["dataset"] == "digits" and len(r["dataset_fingerprint"]) == 64
        assert json.loads(r["versions"])["torch"] and r["nasdb_version"]
        assert json.loads(r["hardware"])["device"] in ("cpu", "cuda")
        assert r["train_seconds"] > 0 and r["fidelity"] == 1 and r["seed"] == 0
    evals = sql(home, "SELECT * FROM evaluations WHERE source = 'trained_nb201_digits10'")
    assert len(evals) == 2 * len(ok)  # test and valid accuracy of every finished training
    assert {e["metric"] for e in evals} == {"test_accuracy", "valid_accuracy"}
    runs = sql(home, "SELECT run_id, arch_index, value, origin FROM runs ORDER BY run_id, trial")
    assert len(runs) == 12 and {r["origin"] for r in runs} == {"train"}
    measured = {r["arch_index"]: r["test_accuracy"] for r in ok}
    for r in runs:  # every trial's value is the stored training's
        assert r["arch_index"] in {t["arch_index"] for t in rows}
        if r["arch_index"] in measured:
            assert r["value"] == pytest.approx(measured[r["arch_index"]])
    # the second run read the same values back: same architectures, no new trainings rows
    ids = sorted({r["run_id"] for r in runs})
    assert {r["arch_index"] for r in runs if r["run_id"] == ids[1]} <= set(measured) | {
        t["arch_index"] for t in rows
    }
    assert nasdb(home, "verify").returncode == 0


def test_two_concurrent_searches_train_each_architecture_once(digits):
    procs = [
        subprocess.Popen([str(BIN / "nasdb"), *SEARCH, "--budget", "3", "--train-workers", "1"],
                         env=_env(digits), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)  # fmt: skip
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    rows = sql(digits, "SELECT arch_index, count(*) AS n FROM trainings GROUP BY arch_index")
    assert rows and all(r["n"] == 1 for r in rows)  # no architecture trained twice
    # both searches ask the same architectures (same seed): each trained once in total
    assert sum(_trained(o[0]) for o in outs) == len(rows)
    assert not list((digits / "claims").glob("*.json"))
    assert nasdb(digits, "verify").returncode == 0


def test_kill_midway_leaves_no_partial_row_and_claim_expires(digits):
    proc = subprocess.Popen([str(BIN / "nasdb"), *SEARCH, "--budget", "4", "--train-workers", "2"],
                            env=_env(digits), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)  # fmt: skip
    deadline = time.time() + 300
    while not list((digits / "claims").glob("*.json")) and time.time() < deadline:
        time.sleep(0.1)
    assert list((digits / "claims").glob("*.json")), "no training started"
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)  # the search and its training workers
    proc.wait()
    assert nasdb(digits, "verify").returncode == 0
    trainings = sql(digits, "SELECT arch_index FROM trainings")
    evals = sql(digits, "SELECT DISTINCT arch_index FROM evaluations")
    done = {r["arch_index"] for r in trainings}
    assert {r["arch_index"] for r in evals} <= done  # no row without its training
    from nasdb import claims

    left = list((digits / "claims").glob("*.json"))
    assert left and all(claims.is_stale(p) for p in left)  # the dead holder's claims expire
    out = nasdb(digits, *SEARCH, "--budget", "4", "--train-workers", "2")
    rows = sql(digits, "SELECT arch_index, count(*) AS n FROM trainings GROUP BY arch_index")
    assert all(r["n"] == 1 for r in rows) and _trained(out.stdout) == len(rows) - len(done)
    assert not list((digits / "claims").glob("*.json"))
    assert sql(digits, "SELECT count(*) AS n FROM runs")[0]["n"] == 4


def test_diverged_training_is_stored_as_such_and_not_retried(digits, tmp_path):
    recipe = tmp_path / "wild.json"
    recipe.write_text(json.dumps({"name": "wild", "optimizer": "sgd", "lr": 1e12,
                                  "momentum": 0.9, "weight_decay": 0.0, "epochs": 1,
                                  "batch_size": 64, "augment": []}))  # fmt: skip
    args = ["search", "nb201", "digits10", "-a", "rs", "--miss", "train", "--recipe",
            str(recipe), "--budget", "2"]  # fmt: skip
    first = nasdb(digits, *args)
    rows = sql(digits, "SELECT arch_index, status, test_accuracy FROM trainings")
    diverged = {r["arch_index"] for r in rows if r["status"] == "diverged"}
    assert len(rows) == 2 and diverged  # lr 1e12: a finite loss is rare (a cell of no convs)
    assert all(r["test_accuracy"] != r["test_accuracy"] for r in rows if r["status"] != "ok")
    evals = sql(digits, "SELECT arch_index FROM evaluations")
    assert len(evals) == 2 * (len(rows) - len(diverged))
    assert not {e["arch_index"] for e in evals} & diverged  # no number for a diverged run
    assert _trained(first.stdout) == 2
    assert _trained(nasdb(digits, *args).stdout) == 0  # never retried
    values = sql(digits, "SELECT arch_index, value FROM runs")
    assert all(v["value"] != v["value"] for v in values if v["arch_index"] in diverged)


def _fails(home: Path, args: list[str], needle: str) -> None:
    from nasdb.cli import main

    before = snapshot(home)
    result = CliRunner().invoke(main, [*args, "--home", str(home)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nasdb: error:") and needle in lines[0], lines
    assert snapshot(home) == before


def test_bad_input_one_error_nothing_written(digits, tmp_path):
    _fails(digits, ["task", "add", "x", "--space", "nb201", "--data", str(tmp_path / "nope")],
           "nope")  # fmt: skip
    _fails(digits, ["task", "add", "x", "--space", "nb201", "--data", "digits", "--classes", "5"],
           "classes")  # fmt: skip
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "b", "optimizer": "sgd", "lr": 0.1, "momentum": 0.9,
                               "weight_decay": 0.0, "epochs": 1, "batch_size": 64,
                               "learning_rate": 0.1}))  # fmt: skip
    _fails(digits, [*SEARCH[:-1], str(bad), "--budget", "2"], "learning_rate")
    _fails(digits, [*SEARCH, "--budget", "2", "--executor", "ray", "--address", "127.0.0.1:1"],
           "127.0.0.1:1")  # fmt: skip
    _fails(digits, ["search", "nb201", "cifar7", "--miss", "train", "--budget", "2"], "cifar7")
    _fails(digits, [*SEARCH, "--budget", "2", "--metric", "latency"], "latency")
    _fails(digits, ["search", "nb201", "digits10", "--miss", "guess", "--budget", "2"], "guess")
    before = snapshot(digits)  # Ray not installed: one line, exit 2
    code = ("import sys; sys.modules['ray'] = None; from nasdb.cli import main; "
            "sys.argv = ['nasdb'] + sys.argv[1:]; main()")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code, *SEARCH, "--budget", "2",
                          "--executor", "ray"], env=_env(digits), capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [
        "nasdb: error: --executor ray: Ray is not installed; pip install 'nasdb[ray]'"
    ]
    assert snapshot(digits) == before


def test_ray_executor_local_instance(digits):
    pytest.importorskip("ray")
    out = nasdb(digits, *SEARCH, "--budget", "2", "--executor", "ray", "--train-workers", "1")
    assert _trained(out.stdout) == len(sql(digits, "SELECT * FROM trainings")) >= 1
    assert nasdb(digits, "verify").returncode == 0


def test_compare_with_train_miss_shares_trainings(digits):
    out = nasdb(digits, "compare", "-b", "nb201/digits10", "-a", "rea", "-a", "rs", "--seeds",
                "1", "--budget", "3", "--miss", "train", "--recipe", "nb201-short")  # fmt: skip
    rows = sql(digits, "SELECT arch_index, count(*) AS n FROM trainings GROUP BY arch_index")
    runs = sql(digits, "SELECT algorithm, arch_index, origin FROM runs")
    assert len(runs) == 6 and {r["origin"] for r in runs} == {"train"}
    assert all(r["n"] == 1 for r in rows)  # an architecture both runs asked: trained once
    assert {r["arch_index"] for r in runs} == {r["arch_index"] for r in rows}
    assert _trained(out.stdout) == len(rows)
