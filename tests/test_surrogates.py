"""Surrogates fitted from the real tables: quality, storage, reload, serving, errors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import run_cli
from nasdb.surrogates import metrics, models, store, training

from nasdb import connect
from nasdb.errors import LookupMiss, SurrogateError

HWNAS = "nb201_hwnas"
NB201_PROXIES = ("logsynflow", "naswot", "params", "synflow", "nregions", "jacov")


@pytest.fixture(scope="module")
def home(full_home, tmp_path_factory):
    """A private copy of the full catalog that these tests fit surrogates into."""
    target = tmp_path_factory.mktemp("surrogates") / "home"
    shutil.copytree(full_home, target)
    return target


def _fit(home, space, *args):
    result = run_cli("surrogate", "fit", space, "--home", str(home), "--threads", "1", *args)
    assert result.exit_code == 0, result.output
    return result.output


def _held_out(home, name) -> dict:
    return json.loads((store.model_dir(connect(home).catalog, name) / "card.json").read_text())[
        "held_out"
    ]


@pytest.mark.parametrize("model", ["xgb", "lgb"])
def test_nb201_cifar10_ranks_held_out_cells(home, model):
    """1,000 random training cells with zero-cost proxies; the other 14,625 held out."""
    name = f"c10-{model}"
    _fit(home, "nb201", "--task", "cifar10", "--model", model, "--train-size", "1000",
         "--proxies", ",".join(NB201_PROXIES), "--members", "3", "--name", name,
         "--no-predictions")  # fmt: skip
    held = _held_out(home, name)
    assert held["kendall_tau"] > 0.86 and held["spearman"] > 0.97 and held["r2"] > 0.95


def test_edgegpu_latency_from_500_cells(home):
    _fit(home, "nb201", "--task", "cifar10", "--metric", "latency", "--device", "edgegpu",
         "--model", "lgb", "--train-size", "500", "--name", "edgegpu",
         "--no-predictions")  # fmt: skip
    held = _held_out(home, "edgegpu")
    assert held["kendall_tau"] > 0.85 and held["r2"] > 0.9


def test_noise_ceiling_recovers_the_tau_of_a_known_value():
    """Two noisy measurements of known values: the ceiling estimated from the pair alone
    matches the tau between the values and one measurement."""
    from scipy.stats import kendalltau

    rng = np.random.default_rng(0)
    value = rng.lognormal(size=10_000)
    first, second = (value + 0.05 * rng.standard_t(4, size=value.size) for _ in range(2))
    truth = kendalltau(value, first).statistic
    ceiling = metrics.noise_ceiling(first, second)
    assert abs(ceiling - truth) < 0.005
    assert ceiling > kendalltau(first, second).statistic
    assert metrics.noise_ceiling(value, value) == pytest.approx(1.0)


def _cifar_pair(db, device):
    """Latency of each cell's CIFAR-10 and CIFAR-100 network on one HW-NAS-Bench device."""
    return [
        db.column(db.resolve("nb201", task=t, metric="latency", device=device, source=HWNAS))
        for t in ("cifar10", "cifar100")
    ]


def test_edgegpu_latency_repeats_itself_only_to_tau_0_95(db):
    """HW-NAS-Bench timed each cell's CIFAR-10 and CIFAR-100 network (they differ only in
    the classifier). The measured edge GPU's two timings put a perfect surrogate below
    tau 0.95; the simulated FPGA's agree exactly."""
    ceiling = metrics.noise_ceiling(*_cifar_pair(db, "edgegpu"))
    assert 0.94 < ceiling < 0.95
    assert metrics.noise_ceiling(*_cifar_pair(db, "fpga")) == pytest.approx(1.0)


def test_nb101_from_10000_cells(home):
    _fit(home, "nb101", "--task", "cifar10", "--model", "lgb", "--features", "flat+path",
         "--proxies", "params", "--train-size", "10000", "--max-test", "20000",
         "--members", "2", "--name", "nb101", "--no-predictions")  # fmt: skip
    held = _held_out(home, "nb101")
    assert held["kendall_tau"] > 0.70


def test_iso_split_keeps_classes_apart(db):
    key = db.resolve("nb201", task="cifar10", metric="test_accuracy")
    indices, _ = training.select(db, key)
    train, test = training.split(db, key, indices, 1000, "iso", 0)
    iso = db.space("nb201").iso_ids
    assert not set(iso[train]) & set(iso[test])
    assert len(train) >= 1000 and len(train) + len(test) == 15_625


@pytest.fixture(scope="module")
def c100(home) -> str:
    """A small XGBoost surrogate of NB201 CIFAR-100 accuracy, fitted once."""
    _fit(home, "nb201", "--task", "cifar100", "--train-size", "300", "--members", "2",
         "--name", "c100", "--no-predictions")  # fmt: skip
    return "c100"


def test_card_records_the_training_rows(home, c100):
    db = connect(home)
    card = store.read_card(db.catalog, "c100")
    sel = card["selection"]
    assert sel["train_rows"] == 300 and sel["held_out_rows"] == 15_625 - 300
    key = db.resolve("nb201", task="cifar100", metric="test_accuracy")
    indices, values = training.select(db, key)
    train, _ = training.split(db, key, indices, 300, "random", 0)
    assert sel["train_sha256"] == training.rows_sha256(
        train, values[np.searchsorted(indices, train)]
    )
    assert card["libraries"]["xgboost"] and card["model"]["hyperparameters"]["members"] == 2
    assert "kendall_tau" in (store.model_dir(db.catalog, "c100") / "card.md").read_text()


ZC_FLOPS = ("--task", "cifar10", "--metric", "flops", "--source", "nb201_zc")


def test_lookup_fills_what_the_table_lacks(home):
    """FLOPs: NASLib's zero-cost table has them for 9,445 of the 15,625 cells."""
    _fit(home, "nb201", *ZC_FLOPS, "--model", "lgb", "--members", "3", "--name", "flops")
    db = connect(home)
    everything = np.arange(15_625)
    flops = {"task": "cifar10", "metric": "flops", "source": "nb201_zc"}
    with pytest.raises(LookupMiss):
        db.lookup("nb201", everything, **flops)
    ans = db.lookup("nb201", everything, **flops, surrogate="auto")
    table = db.column(db.resolve("nb201", **flops))
    assert ans.predicted.sum() == 6_180 == np.isnan(table).sum()
    assert (ans.value[~ans.predicted] == table[~ans.predicted]).all()
    assert np.isnan(ans.std[~ans.predicted]).all() and np.isfinite(ans.std[ans.predicted]).all()
    assert np.isfinite(ans.value).all() and (ans.value > 0).all()
    # the predictions view holds every cell's prediction, apart from the evaluations
    n, missing = db.sql(
        "SELECT count(*), count(*) FILTER (WHERE e.value IS NULL) FROM predictions p "
        "LEFT JOIN evaluations e ON e.space = p.space AND e.arch_index = p.arch_index "
        "AND e.task = p.task AND e.metric = p.metric AND e.source = 'nb201_zc' "
        "WHERE p.surrogate = 'flops'"
    ).fetchall()[0]
    assert (n, missing) == (15_625, 6_180)
    listed = db.sql("SELECT name, train_rows FROM surrogates WHERE name = 'flops'").fetchall()
    assert listed == [("flops", round(0.8 * 9_445))]


def test_benchmark_searches_with_the_surrogate_and_marks_its_answers(home):
    db = connect(home)
    bench = db.benchmark("nb201", "cifar10", "flops", source="nb201_zc", surrogate="flops")
    assert len(bench.valid) == 15_625
    plain = db.benchmark("nb201", "cifar10", "flops", source="nb201_zc")
    assert len(plain.valid) == 9_445 and bench.optimum() == plain.optimum()
    gap = np.setdiff1d(np.arange(15_625), plain.valid)[:10]
    values = bench.query(gap)
    assert np.isfinite(values).all() and bench.is_predicted(gap).all()
    assert not bench.is_predicted(plain.valid[:10]).any()
    result = run_cli("search", "nb201", "cifar10", "--metric", "flops", "--source", "nb201_zc",
                     "--surrogate", "flops", "--budget", "200", "--home", str(home))  # fmt: skip
    assert result.exit_code == 0, result.output
    run_id = result.output.split("run ")[-1].split(":")[0]
    query = "SELECT count(*), count(*) FILTER (WHERE predicted) FROM runs WHERE run_id = $id"
    n, predicted = connect(home).sql(query, params={"id": run_id}).fetchall()[0]
    assert n == 200 and 0 < predicted < 200  # about 40 % of cells lack a table value


def test_eval_reports_models_side_by_side_with_a_plot(home, tmp_path):
    plot = tmp_path / "curve.png"
    result = run_cli("surrogate", "eval", "nb201", "--task", "cifar10", "--models", "xgb,lgb",
                     "--train-sizes", "100,400", "--members", "2", "--threads", "1",
                     "--plot", str(plot), "--format", "json", "--home", str(home))  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output[result.output.index("[") :])
    assert [(r["model"], r["train_size"]) for r in rows] == [
        ("xgb", 100), ("lgb", 100), ("xgb", 400), ("lgb", 400)
    ]  # fmt: skip
    for r in rows:
        assert -1 <= r["kendall_tau"] <= 1 and r["held_out"] == 15_625 - r["train_size"]
    by = {(r["model"], r["train_size"]): r["kendall_tau"] for r in rows}
    assert by[("xgb", 400)] > by[("xgb", 100)]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# bad model files --------------------------------------------------------------------------
def _damaged(home, tmp_path, name="c100"):  # after the c100 fixture
    copy = tmp_path / "home"
    shutil.copytree(home, copy)
    return copy, store.model_dir(connect(copy).catalog, name)


def _refused(home, needle):
    result = run_cli("surrogate", "predict", "c100", "0", "--home", str(home))
    assert result.exit_code == 2 and needle in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
    with pytest.raises(SurrogateError, match=needle):
        connect(home).lookup("nb201", [0], task="cifar100", metric="test_accuracy",
                             surrogate="c100")  # fmt: skip


def test_card_of_another_format_is_refused(home, c100, tmp_path):
    copy, d = _damaged(home, tmp_path)
    card = json.loads((d / "card.json").read_text())
    card["format"] = store.FORMAT + 1
    (d / "card.json").write_text(json.dumps(card))
    _refused(copy, "card format")


def test_surrogate_of_another_space_is_refused(home):
    _fit(home, "nbgraph", "--task", "cora", "--train-size", "100", "--members", "2",
         "--param", "n_estimators=20", "--name", "cora", "--no-predictions")  # fmt: skip
    with pytest.raises(SurrogateError, match="fitted for space nbgraph, not nb201"):
        connect(home).lookup("nb201", [0], task="cifar100", metric="test_accuracy",
                             surrogate="cora")  # fmt: skip


def test_surrogate_of_another_key_is_refused(home, c100):
    with pytest.raises(SurrogateError, match="predicts task=cifar100, not cifar10"):
        connect(home).lookup("nb201", [0], task="cifar10", metric="test_accuracy",
                             surrogate="c100")  # fmt: skip


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--model", "rf"), "invalid value for '--model'"),
        (("--train-size", "15625"), "train size 15625 must be between 2 and 15624"),
        (("--features", "path"), "nb101 only"),
        (("--proxies", "magic"), "no proxy magic"),
        (("--name", "../x"), "surrogate name"),
        (("--param", "depth=3"), "unknown hyperparameter(s) depth"),
    ],
)
def test_bad_fit_requests_fail_in_one_line(home, args, needle):
    before = sorted(p.name for p in (home / "models").iterdir())
    result = run_cli("surrogate", "fit", "nb201", "--task", "cifar10", "--home", str(home), *args)
    assert result.exit_code == 2 and needle.lower() in result.output.lower(), result.output
    assert sorted(p.name for p in (home / "models").iterdir()) == before


def test_missing_library_is_named():
    with pytest.raises(SurrogateError, match="unknown model"):
        models.get("forest")


def test_gin_is_fitted_stored_and_served_like_the_trees(home):
    pytest.importorskip("torch_geometric")
    _fit(home, "nb201", "--task", "cifar10-valid", "--model", "gin", "--train-size", "500",
         "--members", "1", "--param", "epochs=3", "--param", "hidden=16",
         "--name", "gin-small")  # fmt: skip
    db = connect(home)
    card = store.read_card(db.catalog, "gin-small")
    assert card["features"]["kind"] == "graph" and list(card["files"]) == ["member-0.pt"]
    ans = db.lookup("nb201", np.arange(100), task="cifar10-valid", metric="test_accuracy",
                    surrogate="gin-small")  # fmt: skip
    assert not ans.predicted.any()  # the table holds every cell: measured values win
    served = db.surrogate("gin-small").predict(np.arange(100))[0]
    stored = db.sql("SELECT value FROM predictions WHERE surrogate = 'gin-small' "
                    "ORDER BY arch_index LIMIT 100").fetchnumpy()["value"]  # fmt: skip
    assert served.tobytes() == stored.tobytes()
    result = run_cli("surrogate", "fit", "nb201", "--task", "cifar10", "--model", "gin",
                     "--features", "flat", "--home", str(home))  # fmt: skip
    assert result.exit_code == 2 and "gin reads graph features, not flat" in result.output
