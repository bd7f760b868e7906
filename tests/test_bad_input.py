"""Bad input gets one clear error line and exit status 2: algorithm parameters, budgets,
worker counts, run ids, mistyped homes, values outside their physical range; NaN values
upstream are counted, and caches stay under the home in use."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner
from conftest import assert_ingest_fails, ingest_ok, private_copy, snapshot
from nasdb.loaders.base import SourceData, evaluations

from nasdb import runner
from nasdb.catalog import Catalog, cache_dir
from nasdb.cli import main
from nasdb.errors import IngestError, NasdbError

ZC = "nb201_naslib_zc"
BENCH = ["nb201", "cifar10", "--metric", "valid_accuracy"]


@pytest.fixture(scope="module")
def home(tmp_path_factory, shared_data):
    return ingest_ok(ZC, shared_data / "nb201" / "naslib", tmp_path_factory.mktemp("bad"))


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def assert_error(result, *words: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    line = result.stderr.strip()
    assert line.startswith("nasdb: error: ") and "\n" not in line, result.output
    for word in words:
        assert word in line, line
    return line


# algorithm parameters ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "algorithm, param, words",
    [
        ("rea", "population_size=0", ["population_size", "a positive integer", "got 0"]),
        ("rea", "population_size=-5", ["population_size", "got -5"]),
        ("rea", "population_size=2.5", ["population_size", "integer", "2.5"]),
        ("rea", "sample_size=31", ["sample_size", "from 1 to 30", "got 31"]),
        ("rea", "sample_size=0", ["sample_size", "got 0"]),
        ("rea", "proxy_pool=-1", ["proxy_pool"]),
        ("rs", 'replace="yes"', ["replace", "true or false"]),
        ("ls", "initial=0", ["initial", "a positive integer"]),
        ("bananas", "ensemble=0", ["ensemble", "a positive integer"]),
        ("cmanas", "sigma=-1", ["sigma", "a positive finite number"]),
        ("cmanas", "popsize=2", ["popsize", ">= 4"]),
        ("pevonas", "mutation=2", ["mutation", "from 0 to 1"]),
        ("rea", "populaton_size=10", ["unknown parameter", "population_size, sample_size"]),
    ],
)
def test_algorithm_parameters_are_checked(home, algorithm, param, words):
    result = cli(
        "search", *BENCH, "-a", algorithm, "--param", param, "--budget", "20",
        "--home", str(home),
    )  # fmt: skip
    assert_error(result, algorithm, *words)


def test_parameters_in_range_still_run(home):
    result = cli(
        "search", *BENCH, "-a", "rea", "--param", "population_size=5", "--param",
        "sample_size=5", "--budget", "20", "--no-save", "--home", str(home),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "20 trials" in result.stdout


def test_compare_refuses_a_param_for_an_algorithm_it_does_not_run(home):
    before = snapshot(home)
    result = cli(
        "compare", "-b", "nb201/cifar10", "--metric", "valid_accuracy", "-a", "rs", "-a",
        "ls", "--param", "rea.population_size=5", "--seeds", "1", "--budget", "5",
        "--home", str(home),
    )  # fmt: skip
    assert_error(result, "'rea'", "rs, ls")
    assert snapshot(home) == before


@pytest.mark.parametrize("workers", ["-3", "0", "two"])
def test_workers_must_be_positive(home, workers):
    result = cli(
        "compare", "-b", "nb201/cifar10", "--metric", "valid_accuracy", "-a", "rs",
        "--seeds", "1", "--budget", "5", "--workers", workers, "--home", str(home),
    )  # fmt: skip
    assert_error(result, "--workers", "a positive integer")


# budgets ----------------------------------------------------------------------------------
def test_a_huge_budget_is_refused_before_any_allocation(home):
    result = cli("search", *BENCH, "--budget", str(10**12), "--home", str(home))
    assert_error(result, "1,000,000,000,000 evaluations", "at most 1,000,000")
    compared = cli(
        "compare", "-b", "nb201/cifar10", "--metric", "valid_accuracy", "-a", "rs",
        "--seeds", "1", "--budget", "1000001", "--home", str(home),
    )  # fmt: skip
    assert_error(compared, "1,000,001 evaluations", "at most 1,000,000")


@pytest.mark.parametrize(
    "option, value", [("--budget", "0"), ("--budget", "-1"), ("--seconds", "inf")]
)
def test_budget_options_are_checked(home, option, value):
    assert_error(cli("search", *BENCH, option, value, "--home", str(home)), option)


def test_a_seconds_budget_holds_a_bounded_number_of_trials(home):
    from nasdb import connect

    bench = connect(home).benchmark("nb201", "cifar10", "valid_accuracy")
    budget = runner.Budget(seconds=1e30, max_trials=500)
    with pytest.raises(NasdbError, match="at most 500 trials"):
        runner.run("rs", bench, 0, budget)
    assert len(runner.run("rs", bench, 0, runner.Budget(seconds=10_000)).arch) >= 1


# run ids and homes ------------------------------------------------------------------------
def test_report_takes_a_run_id_not_a_path(home):
    for given in ("../wide/nb201", str(home / "runs" / "x.parquet")):
        assert_error(cli("report", given, "--home", str(home)), "run id", "not a path")


@pytest.mark.parametrize(
    "args",
    [["list"], ["sql", "SELECT 1"], ["info", "nb201", "0"], ["search", "nb201", "cifar10"]]
    + [["report", "20250101-000000-abcdef"]],
)
def test_a_mistyped_home_is_not_an_empty_catalog(tmp_path, args):
    typo = tmp_path / "catalgo"
    result = cli(*args, "--home", str(typo))
    assert_error(result, f"not a nasdb catalog: {typo}", "nasdb ingest", f"--home {typo}")
    assert not typo.exists()


def test_caches_live_under_the_home_in_use(tmp_path, monkeypatch):
    monkeypatch.delenv("NASDB_CACHE", raising=False)
    monkeypatch.setenv("NASDB_HOME", str(tmp_path / "default"))
    Catalog(tmp_path / "mine")
    assert cache_dir() == tmp_path / "mine" / "cache"
    monkeypatch.setenv("NASDB_CACHE", str(tmp_path / "shared-cache"))
    assert cache_dir() == tmp_path / "shared-cache"


# values -----------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["150.0", "-5.0"])
def test_an_accuracy_outside_0_100_fails_the_ingest(tmp_path, shared_data, home, value):
    src = private_copy(tmp_path, shared_data / "nb201" / "freerea_nats")
    path = src / "cifar10" / "accuracies.csv"
    lines = path.read_text().splitlines()
    assert lines[2].startswith("1,")
    lines[2] = f"1,{value}"
    path.write_text("\n".join(lines) + "\n")
    line = assert_ingest_fails(
        "nb201_nats", src, home, str(src), "row 1", "arch_id=1", "task=cifar10", "in [0, 100]"
    )
    assert f"test_accuracy = {value} %" in line


def test_nan_values_upstream_are_counted(tmp_path, shared_data):
    result = cli("ingest", ZC, "--source", str(shared_data / "nb201" / "naslib"), "--home",
                 str(tmp_path / "h"))  # fmt: skip
    assert result.exit_code == 0, result.output
    # epe_nas 11, jacov 3, nwot 3, synflow 1 cells without a score, each with its time
    assert f"{ZC}: 54,314 rows" in result.stdout and "36 values missing upstream" in result.stdout


def _source(values, metric="test_accuracy", unit="%"):
    table = evaluations("nb201", "test", np.arange(len(values)), values, task="cifar10",
                        metric=metric, unit=unit)  # fmt: skip
    return SourceData(table, [])


def test_a_nan_row_never_reaches_the_catalog():
    from nasdb import validate
    from nasdb.schema import EVALUATIONS

    row = dict(space="nb201", arch_id="0", arch_index=0, task="cifar10", device=None,
               metric="test_accuracy", fidelity=200, seed=None, value=math.nan, unit="%",
               source="test")  # fmt: skip
    table = pa.Table.from_pylist([row], schema=EVALUATIONS)  # built without evaluations()
    with pytest.raises(IngestError, match="test_accuracy is NaN"):
        validate.evaluations(_Named(), SourceData(table, []), "dir")


def test_ranges_by_metric_and_unit():
    from nasdb import validate

    assert validate.value_range("valid_accuracy", "%") == validate.Range(0, 100)
    assert validate.value_range("train_loss", "").low == 0  # NB201 losses have no unit
    assert validate.value_range("valid_perplexity", "").low == 1
    assert validate.value_range("naswot", "") == validate.UNBOUNDED  # -inf upstream
    assert validate.value_range("latency", "ms").low == 0
    with pytest.raises(IngestError, match="unit 'furlongs'"):
        validate.value_range("latency", "furlongs")


def test_the_real_catalog_lies_in_its_ranges(db):
    from nasdb import validate

    rows = db.sql(
        "SELECT metric, unit, min(value), max(value) FROM evaluations GROUP BY ALL"
    ).fetchall()
    assert len(rows) > 100
    for metric, unit, low, high in rows:
        rng = validate.value_range(metric, unit)
        assert rng.low <= low and high <= rng.high, (metric, unit, low, high)
        assert not rng.finite or (math.isfinite(low) and math.isfinite(high))


def test_loader_tables_count_what_they_leave_out():
    from nasdb import validate

    data = _source([90.0, np.nan, 80.0, np.nan])
    assert data.evaluations.num_rows == 2 and validate.missing(data.evaluations) == 2
    assert validate.evaluations(_Named(), data, None) == 2
    bad = SourceData(
        pa.concat_tables([data.evaluations, _source([101.0]).evaluations]), [],
    )  # fmt: skip
    with pytest.raises(IngestError, match=r"row 2 .*= 101.0 % is outside its range"):
        validate.evaluations(_Named(), bad, "dir")


class _Named:
    name = "test"


def test_report_files_never_go_into_the_home(home):
    assert cli("search", *BENCH, "--budget", "5", "--home", str(home)).exit_code == 0
    run_id = next((home / "runs").glob("*.parquet"))
    before = snapshot(home)
    inside = str(home / "runs" / "report")
    compare = cli(
        "compare", "-b", "nb201/cifar10", "--metric", "valid_accuracy", "-a", "rs",
        "--seeds", "1", "--budget", "5", "--report", inside, "--home", str(home),
    )  # fmt: skip
    assert_error(compare, "--report", "inside the catalog")
    report = cli("report", run_id.stem, "--output", inside, "--home", str(home))
    assert_error(report, "--output", "inside the catalog")
    for option in ("--output", "--plot"):
        result = cli(
            "surrogate", "eval", "nb201", "--task", "cifar10", "--metric", "valid_accuracy",
            option, str(home / "x.csv"), "--home", str(home),
        )  # fmt: skip
        assert_error(result, option, "inside the catalog")
    assert snapshot(home) == before
