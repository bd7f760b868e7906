"""NAS-Bench-NLP loaders: facts of the WikiText-2 logs and the doc2vec file, PTB logs
written here in the upstream format, and every kind of bad input."""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_ingest_fails, check_loader, loader_check, run_cli
from nasdb.loaders import nbnlp_doc2vec, nbnlp_ptb, nbnlp_wikitext2
from test_nbnlp_space import LSTM

from nasdb import connect
from nasdb.spaces import nbnlp
from nasdb.spaces.nbnlp_recipes import canonical_id
from nasdb.testing.loaders import lines

RNN = {
    "node_0": {"op": "linear", "input": ["x", "h_prev_0"]},
    "h_new_0": {"op": "activation_tanh", "input": ["node_0"]},
}
RNN_RENAMED = {
    "f": {"op": "linear", "input": ["h_prev_0", "x"]},
    "h_new_0": {"op": "activation_tanh", "input": ["f"]},
}


# upstream log format ---------------------------------------------------------------------
def log(recipe_id: int, recipe: dict, *, dataset="ptb", epochs=3, failed_at=None, seed=0):
    """A training log laid out as upstream's main_one_model_train.py writes it."""
    rng = np.random.default_rng(recipe_id * 10 + seed)
    n = epochs if failed_at is None else failed_at
    curves = {k: (5 + rng.random(n) - 0.1 * np.arange(n)).tolist() for k in ("t", "v", "s")}
    if failed_at is not None:
        for k in curves:
            curves[k][-1] = math.nan
    return {
        "data": f"data/{dataset}",
        "recepie_id": recipe_id,
        "recepies_list_path": "data/models_recepies.json",
        "epochs": epochs,
        "recepie": json.dumps(recipe),
        "experiment_id": 999_999_999 - seed,
        "init_time": f"2020-04-28_17-16-{54 + seed}",
        "num_params": 5_000_000 + recipe_id % 1000,
        "wall_times": (60 + rng.random(n)).tolist(),
        "train_losses": curves["t"],
        "val_losses": curves["v"],
        "test_losses": curves["s"],
        "status": "OK" if failed_at is None else "loss is nan!",
    }


def name_of(entry: dict) -> str:
    return (
        f"log_stats_model_{entry['recepie_id']}_{entry['init_time']}_{entry['experiment_id']}.json"
    )


def write_zip(path: Path, entries: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for entry in entries:
            z.writestr(name_of(entry), json.dumps(entry))
    return path


def write_folder(path: Path, entries: list[dict]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        (path / name_of(entry)).write_text(json.dumps(entry))
    return path


def rewrite_zip(path: Path, change) -> None:
    """Apply ``change(name, entry) -> entry | None`` to every log of a zip (None drops it)."""
    with zipfile.ZipFile(path) as z:
        items = [(n, json.loads(z.read(n))) for n in z.namelist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, entry in items:
            new = change(name, entry)
            if new is not None:
                z.writestr(name, new if isinstance(new, (str, bytes)) else json.dumps(new))


SINGLE = [log(1_000_000, RNN), log(1_000_001, LSTM), log(2_000_005, RNN_RENAMED, failed_at=2)]
MULTI = [log(1_000_001, LSTM), log(1_000_001, LSTM, seed=1), log(1_000_001, LSTM, seed=2)]


# WikiText-2: facts of the real file -------------------------------------------------------
@pytest.fixture(scope="module")
def wt2(shared_data):
    return nbnlp_wikitext2.read(shared_data / "nbnlp")


@pytest.fixture(scope="module")
def wt2_rows(wt2):
    return wt2.evaluations.to_pandas()


def test_wikitext2_counts(wt2, wt2_rows):
    rows = wt2_rows
    assert rows.arch_index.nunique() == 344
    assert set(rows.task) == {"wikitext-2"}
    final = rows[(rows.metric == "valid_loss") & (rows.fidelity == 50) & rows.seed.isna()]
    assert len(final) == 340  # complete 50-epoch curves
    ok = rows[(rows.metric == "run_ok") & rows.seed.isna()].set_index("arch_id").value
    assert len(ok) == 344 and ok.sum() == 340
    last = rows[rows.metric == "train_time"].groupby("arch_id").fidelity.max()
    failed = {"1009182": 1, "1009703": 1, "1007257": 19, "1009257": 23}
    assert ok[ok == 0].index.sort_values().tolist() == sorted(failed)
    assert {a: int(last[a]) for a in failed} == failed
    # their curves stop before the NaN epoch
    losses = rows[rows.metric == "valid_loss"].groupby("arch_id").fidelity.max()
    assert losses["1007257"] == 18 and losses["1009257"] == 22 and "1009182" not in losses
    assert wt2.evaluations.num_rows == 120_676
    arch = wt2.architectures.to_pandas()
    assert len(arch) == 344 and arch.iso_id.nunique() == 265


def test_wikitext2_repeated_run_becomes_seeds(wt2_rows):
    rows = wt2_rows[wt2_rows.arch_id == "1002429"]
    assert sorted(rows.seed.dropna().unique()) == [0, 1]
    at50 = rows[(rows.metric == "valid_loss") & (rows.fidelity == 50)].set_index("seed").value
    assert at50[0.0] == pytest.approx(5.759639964384191)
    assert at50[1.0] == pytest.approx(5.755790261661305)
    mean = rows[(rows.metric == "valid_loss") & (rows.fidelity == 50) & rows.seed.isna()]
    assert mean.value.item() == pytest.approx((at50[0.0] + at50[1.0]) / 2)
    assert wt2_rows[wt2_rows.arch_id != "1002429"].seed.isna().all()


def test_wikitext2_perplexity_is_exp_loss(wt2_rows):
    keys = ["arch_index", "fidelity", "seed"]
    rows = wt2_rows.fillna({"seed": -1})
    for split in ("train", "valid", "test"):
        loss = rows[rows.metric == f"{split}_loss"].set_index(keys).value
        ppl = rows[rows.metric == f"{split}_perplexity"].set_index(keys).value
        assert len(loss) == len(ppl) > 17_000
        np.testing.assert_allclose(ppl.loc[loss.index], np.exp(loss), rtol=1e-12)


def test_wikitext2_known_cells(wt2_rows, wt2):
    at50 = wt2_rows[(wt2_rows.fidelity == 50) & wt2_rows.seed.isna()]
    test_ppl = at50[at50.metric == "test_perplexity"].set_index("arch_id").value
    valid_ppl = at50[at50.metric == "valid_perplexity"].set_index("arch_id").value
    assert valid_ppl.idxmin() == test_ppl.idxmin() == "1000001"  # the LSTM is best
    assert valid_ppl["1000001"] == pytest.approx(96.4929, abs=1e-3)
    assert test_ppl["1000001"] == pytest.approx(91.9082, abs=1e-3)
    assert test_ppl["1000002"] == pytest.approx(104.3226, abs=1e-3)  # GRU
    assert test_ppl["1000000"] == pytest.approx(172.0779, abs=1e-3)  # tanh RNN
    arch = wt2.architectures.to_pandas().set_index("arch_index").iso_id
    assert arch[1] == canonical_id(LSTM)
    assert arch[0] == canonical_id(RNN) == canonical_id(RNN_RENAMED)
    assert arch[213] == arch[2213]  # one cell under two ids
    params = wt2_rows[wt2_rows.metric == "params"]
    assert (params.unit == "M").all() and params.value.between(15, 30).all()
    times = wt2_rows[(wt2_rows.metric == "train_time") & wt2_rows.seed.isna()]
    assert (times.groupby("arch_index").value.diff().dropna() > 0).all()  # cumulative


# doc2vec: facts of the real file ----------------------------------------------------------
def test_doc2vec_counts(shared_data, wt2):
    data = nbnlp_doc2vec.read(shared_data / "nbnlp").evaluations.to_pandas()
    assert data.arch_index.nunique() == 14_322 and len(data) == 143_220
    assert data.task.isna().all() and data.fidelity.isna().all() and (data.unit == "").all()
    ids = nbnlp.recipe_ids(np.unique(data.arch_index))
    assert ((ids // 1_000_000) == 1).sum() == 4_322 and ((ids // 1_000_000) == 2).sum() == 10_000
    wt2_index = wt2.architectures.column("arch_index").to_numpy()
    assert np.isin(wt2_index, data.arch_index).sum() == 108
    first = data[(data.metric == "doc2vec_0") & (data.arch_id == "1013370")].value.item()
    assert first == pytest.approx(0.9287520051002502)


# catalog: ingest, lookups by recipe, info, wide view ---------------------------------------
@pytest.fixture(scope="module")
def nlp_home(tmp_path_factory, shared_data):
    home = tmp_path_factory.mktemp("nbnlp_home")
    result = run_cli("ingest", "nbnlp", "--source", str(shared_data), "--home", str(home))
    assert result.exit_code == 0, result.output
    assert "nbnlp_ptb" not in result.output  # by name only
    return home


def test_catalog_lookups_by_recipe(nlp_home):
    db = connect(nlp_home)
    got = db.lookup(
        "nbnlp",
        [LSTM, 1_000_001, 1, json.dumps(LSTM), canonical_id(LSTM)],
        task="wikitext-2",
        metric="valid_perplexity",
    )
    assert np.allclose(got, 96.4929, atol=1e-3)
    assert db.lookup("nbnlp", [RNN_RENAMED], task="wikitext-2", metric="params")[0] > 10
    assert db.lookup("nbnlp", [1_013_370], metric="doc2vec_0")[0] == pytest.approx(0.928752005)
    arch = db.sql(
        "SELECT count(*), count(encoding), count(DISTINCT iso_id), count(params) "
        "FROM architectures WHERE space = 'nbnlp'"
    ).fetchall()[0]
    assert arch == (14_558, 344, 265, 344)
    wide = db.sql("SELECT * FROM nbnlp WHERE task = 'wikitext-2' LIMIT 3").df()
    assert {"valid_perplexity", "valid_loss_e10", "train_time", "run_ok"} <= set(wide.columns)


def test_cli_info(nlp_home):
    result = run_cli("info", "nbnlp", "1000001", "--home", str(nlp_home))
    assert result.exit_code == 0, result.output
    assert "recipe_id: 1000001" in result.output and '"h_new_1"' in result.output
    assert "valid_perplexity" in result.output and "doc2vec_0" in result.output
    result = run_cli("info", "nbnlp", json.dumps(RNN), "--home", str(nlp_home))
    assert result.exit_code == 0 and "recipe_id: 1000000" in result.output


# PTB: small logs in the upstream format ---------------------------------------------------
# A complete 3-epoch run: 7 curves x 3 epochs + params + run_ok = 23 rows. The LSTM has three
# seeds and their mean; the failed run keeps 1 epoch of its 6 loss curves and 2 of time.
PTB_ROWS = 23 + 4 * 23 + (6 + 2 + 2)


@pytest.fixture(scope="module")
def ptb(tmp_path_factory):
    """Both PTB archives in an upstream checkout, through the loader kit."""
    root = tmp_path_factory.mktemp("ptb") / "nas-bench-nlp-release"
    write_zip(root / "train_logs_single_run" / "logs.zip", SINGLE)
    write_zip(root / "train_logs_multi_runs" / "logs.zip", [SINGLE[1], *MULTI[1:]])
    files = nbnlp_ptb.SOURCE.files  # either archive alone is a valid source
    kit = tmp_path_factory.mktemp("ptb_kit")
    return check_loader("nbnlp_ptb", root, kit, rows=PTB_ROWS, optional=files, targets=files[:1])


def test_ptb_rows(ptb):
    rows = nbnlp_ptb.read(ptb.source).evaluations.to_pandas()
    assert set(rows.task) == {"ptb"} and rows.arch_id.nunique() == 3
    lstm = rows[rows.arch_id == "1000001"]
    assert sorted(lstm.seed.dropna().unique()) == [0, 1, 2]  # the shared log counts once
    want = np.mean([e["val_losses"][-1] for e in MULTI])
    got = lstm[(lstm.metric == "valid_loss") & (lstm.fidelity == 3) & lstm.seed.isna()].value
    assert got.item() == pytest.approx(want)
    failed = rows[rows.arch_id == "2000005"]
    assert failed[failed.metric == "run_ok"].value.item() == 0
    assert failed[failed.metric == "valid_loss"].fidelity.max() == 1
    assert failed[failed.metric == "train_time"].fidelity.max() == 2
    db = ptb.db
    assert db.lookup("nbnlp", [RNN], task="ptb", metric="run_ok")[0] == 1
    iso = db.sql("SELECT iso_id FROM architectures WHERE arch_id IN ('1000000', '2000005')")
    assert len({r[0] for r in iso.fetchall()}) == 1  # one cell, two ids


def test_ptb_folders_read_like_zips(ptb, tmp_path):
    other = tmp_path / "unzipped" / "nbnlp"
    write_folder(other / "train_logs_single_run", SINGLE)
    write_folder(other / "train_logs_multi_runs", [SINGLE[1], *MULTI[1:]])
    assert nbnlp_ptb.read(ptb.source).evaluations.equals(nbnlp_ptb.read(other).evaluations)
    result = run_cli("ingest", "nbnlp_ptb", "--source", str(tmp_path / "unzipped"), "--home",
                     str(tmp_path / "h2"))  # fmt: skip
    assert result.exit_code == 0, result.output
    only_multi = tmp_path / "multi"
    write_zip(only_multi / "train_logs_multi_runs" / "logs.zip", MULTI)
    assert nbnlp_ptb.read(only_multi).evaluations.num_rows > 0


def test_ptb_nothing_there(ptb, tmp_path):
    (tmp_path / "empty").mkdir()
    assert_ingest_fails("nbnlp_ptb", tmp_path / "empty", ptb.home, "no PTB logs found")


def multi_runs(entries: list[dict]) -> tuple[str, object]:
    """``fails`` arguments that replace the multi-run archive with ``entries``."""
    return "train_logs_multi_runs/logs.zip", lambda path: write_zip(path, entries)


def test_ptb_wrong_dataset(ptb):
    ptb.fails(*multi_runs([log(1_000_001, LSTM, dataset="wt2")]),
              "logs.zip", "dataset 'data/wt2'", "ptb")  # fmt: skip


def test_ptb_two_versions_of_one_run(ptb):
    changed = dict(SINGLE[1], val_losses=[1.0, 1.0, 1.0])
    ptb.fails(*multi_runs([changed]), "a different log of the same run")


def test_ptb_one_id_two_recipes(ptb):
    ptb.fails(*multi_runs([log(1_000_000, LSTM, seed=5)]), "recepie_id 1000000", "another recipe")


# WikiText-2: bad inputs -------------------------------------------------------------------
WT2 = "logs_wikitext-2.zip"
wt2_checked = loader_check("nbnlp_wikitext2", fixture="wt2_checked")


def zipped(change):
    """An edit of every log in a zip: ``change(name, entry) -> entry | None`` (None drops it)."""
    return lambda path: rewrite_zip(path, change)


def test_wt2_upstream_layout(shared_data, tmp_path):
    upstream = tmp_path / "checkout" / "train_logs_wikitext-2"
    upstream.mkdir(parents=True)
    (upstream / "logs.zip").symlink_to(shared_data / "nbnlp" / WT2)
    data = nbnlp_wikitext2.read(tmp_path / "checkout")
    assert data.evaluations.num_rows == 120_676


def test_wt2_member_not_json(wt2_checked):
    edit = zipped(lambda n, e: b"\x00\x01 not json" if "1000050" in n else e)
    wt2_checked.fails(WT2, edit, "1000050", "not a readable JSON log")


def test_wt2_missing_keys(wt2_checked):
    drop = {"val_losses", "status"}
    edit = zipped(
        lambda n, e: {k: v for k, v in e.items() if k not in drop} if "1000051" in n else e
    )
    wt2_checked.fails(WT2, edit, "1000051", "missing key(s)", "status")


def test_wt2_not_an_object(wt2_checked):
    edit = zipped(lambda n, e: [1, 2] if "1000002" in n else e)
    wt2_checked.fails(WT2, edit, "1000002", "expected an object")


def in_log(recipe_id: str, change):
    """An edit of the zip that applies ``change(entry)`` to the log of ``recipe_id``."""

    def apply(name, entry):
        if recipe_id in name:
            change(entry)
        return entry

    return zipped(apply)


def test_wt2_text_where_numbers_belong(wt2_checked):
    edit = in_log("1000001", lambda e: e["test_losses"].__setitem__(3, "4.5"))
    wt2_checked.fails(WT2, edit, "1000001", "'4.5'", "numbers")


def test_wt2_uneven_curves(wt2_checked):
    edit = in_log("1000001", lambda e: e["wall_times"].pop())
    wt2_checked.fails(WT2, edit, "curve lengths", "wall_times 49")


def test_wt2_ok_status_with_nan(wt2_checked):
    edit = in_log("1000001", lambda e: e["val_losses"].__setitem__(-1, math.nan))
    wt2_checked.fails(WT2, edit, "status 'OK'", "not finite")


def test_wt2_bad_recipe(wt2_checked):
    cycle = {"a": {"op": "linear", "input": ["h_new_0"]},
             "h_new_0": {"op": "activation_tanh", "input": ["a"]}}  # fmt: skip
    edit = in_log("1000000", lambda e: e.update(recepie=json.dumps(cycle)))
    wt2_checked.fails(WT2, edit, "not a valid recipe", "cycle")


def test_wt2_recipe_id_outside_lists(wt2_checked):
    edit = in_log("1000000", lambda e: e.update(recepie_id=7))
    wt2_checked.fails(WT2, edit, "recepie_id 7", "outside")


def test_wt2_wrong_count(wt2_checked):
    edit = zipped(lambda n, e: None if "1000000" in n else e)
    wt2_checked.fails(WT2, edit, "344 training logs", "expected 345")


def test_wt2_ptb_log_inside(wt2_checked):
    edit = in_log("1000000", lambda e: e.update(data="data/ptb"))
    wt2_checked.fails(WT2, edit, "'data/ptb'", "wikitext-2")


# doc2vec: bad inputs ----------------------------------------------------------------------
D2V = "doc2vec_features_lowdim.csv"
doc2vec_checked = loader_check("nbnlp_doc2vec", fixture="doc2vec_checked")


def test_doc2vec_truncated(doc2vec_checked):
    doc2vec_checked.fails(D2V, lines(lambda rows: rows[:5000]), "4,999 rows", "14,322")


def test_doc2vec_duplicate_id(doc2vec_checked):
    def repeat(rows):
        rows[2] = rows[1].split(",")[0] + "," + rows[2].split(",", 1)[1]

    doc2vec_checked.fails(D2V, lines(repeat), "appears twice")


def test_doc2vec_id_outside_lists(doc2vec_checked):
    def outside(rows):
        rows[1] = "3000001," + rows[1].split(",", 1)[1]

    doc2vec_checked.fails(D2V, lines(outside), "3000001", "outside")


def cell(row: int, column: int, text: str):
    """An edit that writes ``text`` into one cell of the CSV."""

    def change(rows):
        cells = rows[row].split(",")
        cells[column] = text
        rows[row] = ",".join(cells)

    return lines(change)


def test_doc2vec_text_value(doc2vec_checked):
    doc2vec_checked.fails(D2V, cell(7, 4, "abc"), "'v03'", "expected numbers")


def test_doc2vec_missing_value(doc2vec_checked):
    doc2vec_checked.fails(D2V, cell(9, 10, ""), "'v09'", "missing")
