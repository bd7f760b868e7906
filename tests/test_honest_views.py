"""SQL and lookup give the same answers, and benchmarks search what their objective covers.

Wide-view columns are named per task (the unsuffixed one is what ``lookup`` reads by
default), benchmark defaults resolve to each space's main source, and a benchmark never
searches fewer architectures than its objective covers without saying so.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import REPO, run_cli

from nasdb.db import SparseColumn
from nasdb.errors import UnknownName
from nasdb.views import _ident

README = (REPO / "README.md").read_text()


def _default_keys(db):
    """Every (space, task, metric, device) lookup resolves with its defaults, and the key."""
    seen = sorted({(k.space, k.task, k.metric, k.device) for k in db.keys()}, key=str)
    for space, task, metric, device in seen:
        try:
            key = db.resolve(space, task=task, metric=metric, device=device)
        except UnknownName:  # several seeds and no aggregate: lookup needs seed=
            continue
        yield key


def _column(key) -> str:
    return _ident(key.metric + (f"_{key.device}" if key.device else ""))


def test_wide_views_hold_what_lookup_answers(db):
    keys = list(_default_keys(db))
    assert len(keys) > 300
    wide = {}  # (space, task) -> that task's rows of the space's wide view
    for space in {k.space for k in keys}:
        names = sorted({_column(k) for k in keys if k.space == space})
        listed = ", ".join(f'"{n}"' for n in names)
        frame = db.sql(f"SELECT arch_index, task, {listed} FROM {_ident(space)}").df()
        for task, rows in frame.groupby("task", dropna=False):
            wide[(space, None if task != task else task)] = rows
    checked = set()
    for key in keys:
        name = _column(key)
        rows = wide[(key.space, key.task)]
        rows = rows[rows[name].notna()]
        col = db.column(key)
        held = int((~np.isnan(col.values if isinstance(col, SparseColumn) else col)).sum())
        assert len(rows) == held, key
        at = col[rows["arch_index"].to_numpy(dtype=np.int64)]
        np.testing.assert_allclose(rows[name].to_numpy(dtype=float), at, rtol=1e-12, err_msg=key)
        checked.add((key.space, key.task))
    # every task of every space has its unsuffixed columns checked
    assert {(s, t) for s in db.spaces() for t in db.tasks(s)} <= checked


def _readme_sql(marker: str) -> str:
    (query,) = [q for q in re.findall(r"```sql\n(.*?)```", README, flags=re.S) if marker in q]
    return query


def test_readme_best_nb201_cell_per_dataset(db):
    rows = db.sql(_readme_sql("The best NB201 cell per dataset")).fetchall()
    got = [(task, arch, round(acc, 2)) for task, arch, acc in rows]
    # NATS-Bench's published 200-epoch optima; cifar10-valid from NAS-Bench-201 v1.
    assert got == [
        ("cifar10", "6111", 94.37),
        ("cifar10-valid", "1459", 91.52),
        ("cifar100", "9930", 73.51),
        ("imagenet16-120", "857", 47.31),
    ]


# The best of NAS-Bench-Graph's 26,206 GNNs per dataset (2,021 on proteins), test accuracy
# at each dataset's own training length (200 to 500 epochs).
NBGRAPH_BEST = [
    ("arxiv", "0,1,2,3|gcn,cheb,sage,sage", 72.39),
    ("citeseer", "0,0,1,3|fc,gin,gat,graph", 71.57),
    ("computers", "0,0,1,1|gat,sage,gat,fc", 85.58),
    ("cora", "0,1,2,2|fc,gat,gcn,graph", 83.13),
    ("cs", "0,0,1,1|gcn,arma,gat,graph", 91.26),
    ("photo", "0,0,1,2|gat,fc,sage,fc", 92.79),
    ("physics", "0,0,1,3|arma,gcn,arma,arma", 93.0),
    ("proteins", "0,1,2,3|arma,sage,gcn,sage", 79.26),
    ("pubmed", "0,0,1,1|gcn,arma,gcn,gin", 78.6),
]


def test_readme_nbgraph_best_per_dataset(db):
    rows = db.sql(_readme_sql("NAS-Bench-Graph: the best GNN per dataset")).fetchall()
    assert [(t, best, round(acc, 2)) for t, best, acc, _ in rows] == NBGRAPH_BEST
    latency = {t: ms for t, *_, ms in rows}
    assert all(ms is not None and ms > 0 for ms in latency.values())
    for task, encoding, acc in NBGRAPH_BEST:
        got = db.lookup("nbgraph", [encoding], task=task, metric="test_accuracy")[0]
        assert round(got, 2) == acc


# The objective `nasdb search SPACE TASK` takes by default (test accuracy) or, where a task
# has none, the one a user would name; and the source that must answer it.
DEFAULT_SEARCH = {
    ("nb101", "cifar10"): (None, "nb101_freerea", (108,), 423_624),
    ("nb201", "cifar10"): (None, "nb201_nats", (12, 200), 15_625),
    ("nb201", "cifar10-valid"): (None, "nb201_v1", (200,), 15_625),
    ("nb201", "cifar100"): (None, "nb201_nats", (12, 200), 15_625),
    ("nb201", "imagenet16-120"): (None, "nb201_nats", (12, 200), 15_625),
    ("nbmacro", "cifar10"): (None, "nbmacro", (50,), 6_561),
    ("nbnlp", "wikitext-2"): ("valid_perplexity", "nbnlp_wikitext2", tuple(range(1, 51)), 340),
    ("tnb101_micro", "class_scene"): ("valid_accuracy", "tnb101_zc", (25,), 2_128),
    **{
        ("nbgraph", task): (None, "nbgraph", (epochs,), 2_021 if task == "proteins" else 26_206)
        for task, epochs in [
            ("arxiv", 500), ("citeseer", 400), ("computers", 500), ("cora", 400), ("cs", 400),
            ("photo", 500), ("physics", 200), ("proteins", 500), ("pubmed", 500),
        ]
    },
}  # fmt: skip


def test_every_task_searches_its_main_source_by_default(db):
    with_accuracy = {
        (s, t) for s in db.spaces() for t in db.tasks(s) if "test_accuracy" in db.metrics(s, t)
    }
    assert with_accuracy <= set(DEFAULT_SEARCH)
    for (space, task), (metric, source, fidelities, cells) in DEFAULT_SEARCH.items():
        bench = db.benchmark(space, task, metric or "test_accuracy")
        assert (bench.fidelities, len(bench.valid)) == (fidelities, cells), (space, task)
        key = db.resolve(space, task=task, metric=metric or "test_accuracy")
        assert key.source == source
        np.testing.assert_array_equal(bench.primary_column(), db.column(key)[bench.valid])


@pytest.mark.parametrize("space, task", [("nb101", "cifar10"), ("nbnlp", "wikitext-2")])
def test_search_cli_defaults(full_home, space, task):
    metric, *_ = DEFAULT_SEARCH[(space, task)]
    extra = ["--metric", metric] if metric else []
    args = ["search", space, task, *extra, "--budget", "5", "--no-save", "--home", str(full_home)]
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    assert "5 trials" in result.output


def test_nb101_defaults_read_the_main_source_not_per_seed_rows(db):
    # EC-NAS holds 4-epoch per-seed rows; the 108-epoch means and NASBench-vis's single runs
    # are what a default lookup reads.
    assert db.resolve("nb101", metric="test_accuracy").source == "nb101_freerea"
    valid = db.resolve("nb101", metric="valid_accuracy")
    assert (valid.source, valid.fidelity, valid.seed) == ("nb101_vis", 108, 0)
    assert db.resolve("nb101", metric="valid_accuracy", fidelity=4).source == "nb101_vis"
    bench = db.benchmark("nb101", "cifar10", "valid_accuracy")
    assert (bench.fidelities, len(bench.valid)) == ((4, 12, 36, 108), 20_001)
    with pytest.raises(UnknownName, match="pass seed= one of 0, 1, 2, 3"):
        db.resolve("nb101", metric="test_accuracy", fidelity=4)


def test_low_fidelity_objective_searches_every_cell_it_covers(db):
    for task in ("cifar100", "imagenet16-120"):
        bench = db.benchmark("nb201", task, "valid_accuracy", fidelity=12)
        # the 200-epoch validation accuracies (NASLib's 725, NAS-Bench-Suite-Zero's 9,445
        # cells) cover less, so they are not offered as a second fidelity
        assert bench.fidelities == (12,) and len(bench.valid) == 15_625


@pytest.mark.parametrize(
    "task, have, source",
    [("cifar100", "725", "nb201_naslib_zc"), ("imagenet16-120", "9,445", "nb201_zc")],
)
def test_partial_objective_is_refused_with_counts_and_the_way_out(db, full_home, task, have,
                                                                  source):  # fmt: skip
    message = (
        f"nb201/{task}/valid_accuracy at 200 epochs covers {have} architectures (source "
        f"{source}), nb201_mini at 12 epochs covers 15,625: pass --fidelity 12 to search the "
        f"15,625, or --source {source} to search the {have}"
    )
    with pytest.raises(UnknownName) as err:
        db.benchmark("nb201", task, "valid_accuracy")
    assert str(err.value) == message
    result = run_cli("search", "nb201", task, "--metric", "valid_accuracy", "--budget", "5",
                     "--no-save", "--home", str(full_home))  # fmt: skip
    assert result.exit_code == 2 and result.output == f"nasdb: error: {message}\n"
    chosen = db.benchmark("nb201", task, "valid_accuracy", source=source)
    assert len(chosen.valid) == int(have.replace(",", ""))
