"""EC-NAS-Bench energy results: graphs hash as nasbench does, runs per seed, bad inputs."""

from __future__ import annotations

import json

import pytest
from conftest import assert_ingest_fails
from nb101_fixtures import ingested_once, private_copy

GRAPHS_5 = "data/graphs/generated_graphs_5V9E.json"
RUNS_4 = "data/train_model_results/energy/4V9E/4_epochs"


@pytest.fixture(scope="module")
def base(tmp_path_factory, shared_data):
    return ingested_once(tmp_path_factory, shared_data, "nb101_ecnas", "nb101/ec_nas")


@pytest.fixture()
def copy(base, tmp_path):
    return private_copy(base, tmp_path)


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
    differ = db.sql(
        "SELECT count(*) FROM evaluations a JOIN evaluations b USING (arch_index) "
        "WHERE a.source = 'nb101_ecnas' AND b.source = 'nb101_freerea' "
        "AND a.metric = 'params' AND b.metric = 'params' AND abs(a.value - b.value) > 1e-6"
    ).fetchall()[0][0]
    assert differ == 0


def test_missing_graph_file(copy):
    src, home = copy
    (src / GRAPHS_5).unlink()
    assert_ingest_fails("nb101_ecnas", src, home, "generated_graphs_5V9E.json", "not found")


def test_missing_run(copy):
    src, home = copy
    next((src / RUNS_4).glob("*/*/repeat_2/results.json")).unlink()
    assert_ingest_fails("nb101_ecnas", src, home, "4V9E", "missing runs")


def test_truncated_results(copy):
    src, home = copy
    f = next((src / RUNS_4).glob("*/*/repeat_1/results.json"))
    f.write_bytes(f.read_bytes()[:300])
    assert_ingest_fails("nb101_ecnas", src, home, "results.json", "JSON")


def test_corrupt_bytes(copy):
    src, home = copy
    f = src / GRAPHS_5
    data = bytearray(f.read_bytes())
    data[3000:3008] = b"\xff\xfe\x00garb"
    f.write_bytes(bytes(data))
    assert_ingest_fails("nb101_ecnas", src, home, "generated_graphs_5V9E.json")


def test_graph_key_is_not_its_hash(copy):
    src, home = copy
    f = src / GRAPHS_5
    graphs = json.loads(f.read_text())
    a, b = list(graphs)[:2]
    graphs[a], graphs[b] = graphs[b], graphs[a]
    f.write_text(json.dumps(graphs))
    assert_ingest_fails("nb101_ecnas", src, home, a, "nasbench hash")


def test_wrong_structure(copy):
    src, home = copy
    f = next((src / RUNS_4).glob("*/*/repeat_3/results.json"))
    run = json.loads(f.read_text())
    del run["total_energy (kWh)"]
    f.write_text(json.dumps(run))
    assert_ingest_fails("nb101_ecnas", src, home, "total_energy (kWh)")


def test_negative_energy(copy):
    src, home = copy
    f = next((src / RUNS_4).glob("*/*/repeat_3/results.json"))
    run = json.loads(f.read_text())
    run["evaluation_results"][2]["energy (kWh)"] = -1
    f.write_text(json.dumps(run))
    assert_ingest_fails("nb101_ecnas", src, home, "energy (kWh)", ">= 0")
