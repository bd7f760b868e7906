"""`nasdb describe` and the --help of search/compare say what exists, read from the catalog
and the optimizer classes."""

from __future__ import annotations

import re

from conftest import run_cli


def _section(out: str, title: str) -> str:
    """The block under ``title`` (up to the next unindented line)."""
    lines = out.splitlines()
    start = lines.index(title)
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), None)
    return "\n".join(lines[start:end])


def _field(block: str, name: str) -> list[str]:
    text = re.search(rf"  {re.escape(name)}: (.*?)(?=\n  \S|\Z)", block, flags=re.S).group(1)
    return [v.strip() for v in " ".join(text.split()).split(",")]


def test_describe_lists_spaces_and_algorithms(full_home):
    result = run_cli("describe", "--home", str(full_home))
    assert result.exit_code == 0, result.output
    nb201 = _section(result.output, "nb201: 15,625 architectures")
    assert _field(nb201, "tasks") == ["cifar10", "cifar10-valid", "cifar100", "imagenet16-120"]
    assert {"edgegpu", "eyeriss", "fpga", "pixel3", "raspi4"} <= set(_field(nb201, "devices"))
    assert "nb101: 423,624 architectures" in result.output
    rea = next(line for line in result.output.splitlines() if line.startswith("rea "))
    assert "population_size=30" in rea and "sample_size=10" in rea and "Real et al. 2019" in rea
    nsga2 = next(line for line in result.output.splitlines() if line.startswith("nsga2 "))
    assert "population_size=20" in nsga2


def test_describe_space_lists_tasks_metrics_and_proxies(full_home):
    result = run_cli("describe", "nb201", "--home", str(full_home))
    assert result.exit_code == 0, result.output
    c10 = _section(result.output, "nb201/cifar10")
    metrics = _field(c10, "metrics (89)")
    assert {"test_accuracy", "valid_accuracy", "latency", "energy", "naswot"} <= set(metrics)
    assert _field(c10, "fidelities (epochs)") == ["12", "200", "220", "400"]
    proxies = _field(c10, "proxies")
    assert {"naswot", "synflow", "jacov", "snip", "params", "flops", "zen"} <= set(proxies)
    assert not [p for p in proxies if "accuracy" in p or p.endswith("_time")]
    valid = _section(result.output, "nb201/cifar10-valid")
    assert _field(valid, "metrics (1)") == ["test_accuracy"]
    nlp = run_cli("describe", "nbnlp", "--home", str(full_home)).output
    assert _field(_section(nlp, "nbnlp/wikitext-2"), "fidelities (epochs)") == ["1-50"]


def test_describe_task_lists_each_metric(full_home):
    result = run_cli("describe", "nb201", "cifar10", "--home", str(full_home))
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in result.output.splitlines()[2:-1]}
    assert rows["test_accuracy"][1:3] == ["%", "12,"]  # unit, fidelities 12, 200
    assert rows["latency"][1:3] == ["ms", "29"]  # 29 devices (HW-NAS-Bench and HELP)
    assert rows["naswot"][-1] == "yes" and rows["test_accuracy"][-1] != "yes"


def test_describe_bad_names_are_one_line(full_home):
    for args, needle in [
        (("nb999",), "space 'nb999' is not in the catalog"),
        (("nb201", "cifar1"), "no task 'cifar1'; available: cifar10, cifar10-valid"),
    ]:
        result = run_cli("describe", *args, "--home", str(full_home))
        assert result.exit_code == 2
        assert result.output.count("\n") == 1 and needle in result.output


def test_help_lists_algorithms_parameters_and_sources():
    for command in ("search", "compare"):
        out = run_cli(command, "--help").output
        assert "rea: Regularised (aging) evolution" in out
        line = next(x for x in out.splitlines() if x.strip().startswith("rea:"))
        assert "population_size=30" in line and "proxy_pool=0" in line
        assert "sh: Successive halving" in out and "needs several fidelities" in out
        assert "hw-evrsnas" in out and "target=None" in out
        assert "nb201_nats" in out and "nb101_freerea" in out


def test_algorithm_parameters_come_from_the_signatures():
    from nasdb import describe, optimizers

    listed = {a.name: dict(a.parameters) for a in describe.algorithms()}
    assert set(listed) == set(optimizers.names())
    assert listed["rea"] == {"population_size": 30, "sample_size": 10, "proxy_pool": 0}
    assert listed["rs"] == {"replace": False}


def test_readme_describe_commands_run(full_home):
    import shlex

    from conftest import REPO

    lines = [ln.split("#")[0] for ln in (REPO / "README.md").read_text().splitlines()
             if ln.startswith("nasdb describe")]  # fmt: skip
    assert len(lines) == 3
    for line in lines:
        result = run_cli(*shlex.split(line)[1:], "--home", str(full_home))
        assert result.exit_code == 0 and result.output.strip(), (line, result.output)
