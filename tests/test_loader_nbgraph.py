"""NAS-Bench-Graph loader: facts of the packaged tables and every kind of bad input."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from conftest import assert_ingest_fails, ingested_copy, run_cli
from nasdb.loaders import nas_bench_graph as loader

from nasdb.catalog import package_dir
from nasdb.spaces.nbgraph import TASKS, decode

pytest.importorskip("nas_bench_graph")


@pytest.fixture(scope="module")
def data():
    return loader.read(package_dir("nas_bench_graph")).evaluations.to_pandas()


@pytest.fixture()
def copy(tmp_path):
    """The packaged tables below a data root, as a packaged source needs (see ingested_copy)."""
    light = f"{loader.SOURCE.subdir}/light"
    root, home = ingested_copy(
        tmp_path, "nbgraph", package_dir("nas_bench_graph") / "light", below=light
    )
    return root, root / light, home


def edit_bench(f, edit) -> None:
    """Apply ``edit`` to the test's own copy of a trusted table and pickle it back."""
    bench = pickle.loads(f.read_bytes())
    edit(bench)
    f.write_bytes(pickle.dumps(bench))


def test_counts(data):
    expected = {t: 2_021 if t == "proteins" else 26_206 for t in TASKS}
    assert data.groupby("task").arch_index.nunique().to_dict() == expected
    for (task, _metric), n in data.groupby(["task", "metric"]).size().items():
        assert n == expected[task]


def test_keys_are_canonical_architectures(data):
    from nas_bench_graph.architecture import Arch, gnn_list_proteins

    for task, group in data[data.metric == "params"].groupby("task"):
        for h in group.arch_index:
            link, ops = decode(h)
            assert Arch(list(link), list(ops)).valid_hash() == h
            if task == "proteins":
                assert set(ops) <= set(gnn_list_proteins)


@pytest.mark.parametrize("task", TASKS)
def test_values_equal_light_read(data, task):
    from nas_bench_graph import light_read  # comparison only: it unpickles without limits

    bench = light_read(task)
    wide = data[data.task == task].pivot(index="arch_index", columns="metric", values="value")
    assert sorted(wide.index) == sorted(bench)
    keys = list(bench)
    want = np.array([[bench[k][f] for f in loader.FIELDS] for k in keys], dtype=float)
    got = wide.loc[keys, ["valid_accuracy", "test_accuracy", "latency", "params"]].to_numpy()
    np.testing.assert_allclose(got, want * [100, 100, 1000, 1], rtol=1e-12)


def test_units_fidelity_device(data):
    meta = data.groupby(["task", "metric"])[["unit", "fidelity", "device"]].first()
    assert (
        meta.loc[("cora", "test_accuracy")].unit,
        meta.loc[("cora", "test_accuracy")].fidelity,
    ) == ("%", 400)
    assert meta.loc[("physics", "valid_accuracy")].fidelity == 200
    assert meta.loc[("proteins", "test_accuracy")].fidelity == 500
    assert (meta.loc[("pubmed", "latency")].unit, meta.loc[("pubmed", "latency")].device) == (
        "ms",
        "rtx3090",
    )
    assert meta.loc[("cora", "latency")].device == "v100"
    assert data[data.metric.isin(["latency", "params"])].fidelity.isna().all()
    assert data.seed.isna().all()


def test_ingest_default_reads_installed_package(tmp_path):
    result = run_cli("ingest", "nbgraph", "--home", str(tmp_path / "home"))
    assert result.exit_code == 0, result.output
    assert "nbgraph: 846,676 rows" in result.output


def test_missing_file(copy):
    root, light, home = copy
    (light / "photo.bench").unlink()
    assert_ingest_fails("nbgraph", root, home, "photo.bench", "not found")


def test_truncated_file(copy):
    root, light, home = copy
    f = light / "citeseer.bench"
    f.write_bytes(f.read_bytes()[:500_000])
    assert_ingest_fails("nbgraph", root, home, "citeseer.bench", "not a readable pickle")


def test_corrupt_bytes(copy):
    root, light, home = copy
    f = light / "cora.bench"
    data = bytearray(f.read_bytes())
    data[1000:1040] = b"\xff\xfe garbage \x00" * 3 + b"\x00" * 4
    f.write_bytes(bytes(data))
    assert_ingest_fails("nbgraph", root, home, "cora.bench")


def test_wrong_fields(copy):
    root, light, home = copy
    f = light / "arxiv.bench"
    bench = {k: {"valid_perf": 0.5, "test": 0.5} for k in pickle.loads(f.read_bytes())}
    f.write_bytes(pickle.dumps(bench))
    assert_ingest_fails("nbgraph", root, home, "arxiv.bench", "expected a dict with")


def test_not_a_dict(copy):
    root, light, home = copy
    (light / "cs.bench").write_bytes(pickle.dumps([1, 2, 3]))
    assert_ingest_fails("nbgraph", root, home, "cs.bench", "expected a dict")


def test_text_where_numbers_belong(copy):
    root, light, home = copy

    def text(bench: dict) -> None:
        key = next(iter(bench))
        bench[key] = dict(bench[key], latency="0.003")

    edit_bench(light / "pubmed.bench", text)
    assert_ingest_fails("nbgraph", root, home, "pubmed.bench", "str", "numbers")


def test_wrong_count(copy):
    root, light, home = copy
    edit_bench(light / "proteins.bench", lambda bench: bench.pop(next(iter(bench))))
    assert_ingest_fails("nbgraph", root, home, "proteins.bench", "2020", "2021")


def test_invalid_hash(copy):
    root, light, home = copy

    def rehash(bench: dict) -> None:
        bench[9] = bench.pop(next(iter(bench)))  # op digit 9 does not exist

    edit_bench(light / "computers.bench", rehash)
    assert_ingest_fails("nbgraph", root, home, "computers.bench", "not a NAS-Bench-Graph hash")


def test_forbidden_class(copy):
    root, light, home = copy
    (light / "physics.bench").write_bytes(b"cos\nsystem\n(S'echo hacked'\ntR.")
    assert_ingest_fails("nbgraph", root, home, "physics.bench", "os.system")
