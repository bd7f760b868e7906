"""EC-NAS-Bench energy results: graphs hash as nasbench does, runs per seed, bad inputs."""

from __future__ import annotations

from pathlib import Path

from conftest import loader_check
from test_loader_nb101_freerea import params_differ

from nasdb.testing.loaders import json_doc

GRAPHS_5 = "data/graphs/generated_graphs_5V9E.json"
RUNS_4 = "data/train_model_results/energy/4V9E/4_epochs"

checked = loader_check("nb101_ecnas")


def run_file(checked, repeat: int) -> str:
    """One run's results.json, relative to the source directory."""
    found = next((checked.source / RUNS_4).glob(f"*/*/repeat_{repeat}/results.json"))
    return str(found.relative_to(checked.source))


def test_runs_and_units(db):
    seeds = db.sql(
        "SELECT seed, count(*) FROM evaluations WHERE source = 'nb101_ecnas' "
        "AND metric = 'total_energy' GROUP BY seed ORDER BY seed"
    ).fetchall()
    assert seeds == [(0, 2532), (1, 91), (2, 91), (3, 91)]
    units = dict(
        db.sql(
            "SELECT DISTINCT metric, unit FROM evaluations WHERE source = 'nb101_ecnas'"
        ).fetchall()
    )
    assert units["train_energy"] == units["total_energy"] == "kWh" and units["gpu_power"] == "W"
    devices = db.sql(
        "SELECT DISTINCT metric, device FROM evaluations WHERE source = 'nb101_ecnas' "
        "AND device IS NOT NULL"
    ).fetchall()
    assert {d for _, d in devices} == {"quadro_rtx_6000"}
    assert not {m for m, _ in devices} & {"train_accuracy", "valid_accuracy", "test_accuracy"}
    fid = db.sql(
        "SELECT DISTINCT fidelity FROM evaluations WHERE source = 'nb101_ecnas' "
        "AND metric = 'valid_accuracy' ORDER BY 1"
    ).fetchall()
    assert [f for (f,) in fid] == [0, 1, 2, 4]
    # EC-NAS built the same networks: parameter counts equal nasbench's on every cell
    assert params_differ(db, "nb101_ecnas") == 0


def test_missing_run(checked):
    checked.fails(run_file(checked, 2), Path.unlink, "4V9E", "missing runs")


def test_truncated_results(checked):
    def cut(path):
        path.write_bytes(path.read_bytes()[:300])

    checked.fails(run_file(checked, 1), cut, "results.json", "JSON")


def test_graph_key_is_not_its_hash(checked):
    def swap(graphs):
        a, b = list(graphs)[:2]
        graphs[a], graphs[b] = graphs[b], graphs[a]

    line = checked.fails(GRAPHS_5, json_doc(swap), "nasbench hash")
    assert "generated_graphs_5V9E.json" in line


def test_wrong_structure(checked):
    checked.fails(run_file(checked, 3), json_doc(lambda run: run.pop("total_energy (kWh)")),
                  "total_energy (kWh)")  # fmt: skip


def test_negative_energy(checked):
    def negative(run):
        run["evaluation_results"][2]["energy (kWh)"] = -1

    checked.fails(run_file(checked, 3), json_doc(negative), "energy (kWh)", ">= 0")
