"""Honest answers from searches: fair proxies, multi-objective indicators against the true
front, readable reports, and compare that fails loudly instead of hanging."""

from __future__ import annotations

import pytest
from conftest import run_cli

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
