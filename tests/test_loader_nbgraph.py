"""NAS-Bench-Graph loader: facts of the packaged tables and every kind of bad input."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from conftest import loader_check
from nasdb.loaders import nas_bench_graph as loader

from nasdb.catalog import package_dir
from nasdb.spaces.nbgraph import TASKS, decode

pytest.importorskip("nas_bench_graph")


@pytest.fixture(scope="module")
def data():
    return loader.read(package_dir("nas_bench_graph")).evaluations.to_pandas()


checked = loader_check("nbgraph")


def bench(edit):
    """An edit of the test's own copy of a trusted table, pickled back."""

    def rewrite(f) -> None:
        table = pickle.loads(f.read_bytes())
        edit(table)
        f.write_bytes(pickle.dumps(table))

    return rewrite


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


def test_text_where_numbers_belong(checked):
    def text(table: dict) -> None:
        key = next(iter(table))
        table[key] = dict(table[key], latency="0.003")

    checked.fails("light/pubmed.bench", bench(text), "pubmed.bench", "str", "numbers")


def test_wrong_count(checked):
    checked.fails("light/proteins.bench", bench(lambda table: table.pop(next(iter(table)))),
                  "proteins.bench", "2020", "2021")  # fmt: skip


def test_invalid_hash(checked):
    def rehash(table: dict) -> None:
        table[9] = table.pop(next(iter(table)))  # op digit 9 does not exist

    checked.fails("light/computers.bench", bench(rehash),
                  "computers.bench", "not a NAS-Bench-Graph hash")  # fmt: skip
