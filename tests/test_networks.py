"""Networks built from catalog architectures: parameter counts and FLOPs against the
published tables, deterministic training on a packaged dataset, and bad input."""

from __future__ import annotations

import json
import os
import pickle
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import by_index, run_cli, snapshot

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from nasdb import loaders, networks  # noqa: E402
from nasdb.catalog import source_dir  # noqa: E402
from nasdb.networks import nb201, recipes, tasks, training  # noqa: E402
from nasdb.networks.shapes import BENCHMARK_TASKS  # noqa: E402

NB201_TASKS = ("cifar10", "cifar100", "imagenet16-120")


def _rows(name: str, shared_data):
    module = loaders.get(name)
    return module.read(source_dir(module.SOURCE, shared_data)).evaluations


@pytest.fixture(scope="module")
def nats(shared_data):
    return _rows("nb201_nats", shared_data)


def test_nb201_params_equal_nats_for_every_cell_and_dataset(nats):
    every = np.arange(15_625)
    for task in NB201_TASKS:
        published = by_index(nats, task, "params")
        counted = networks.param_counts("nb201", every, task) / 1e6
        assert np.array_equal(np.round(counted, 6), np.round(published, 6)), task


def test_nb201_counter_equals_built_modules(nats):
    rng = np.random.default_rng(7)
    for i, index in enumerate(rng.choice(15_625, 48, replace=False)):
        task = NB201_TASKS[i % 3]
        net = networks.build("nb201", int(index), task=task)
        built = sum(p.numel() for p in net.parameters())
        assert built == networks.param_counts("nb201", [index], task)[0]
        assert round(built / 1e6, 6) == round(by_index(nats, task, "params")[index], 6)
        if i < 9:  # a forward pass each: FLOPs of the real module equal the fast path
            assert networks.flops("nb201", int(index), task) == networks.flop_counts(
                "nb201", [index], task
            )[0]


def test_nb201_flops_agree_with_nas_bench_suite_zero(shared_data):
    """Suite-Zero's FLOPs are MACs plus element-wise BN (2), ReLU (1) and pooling (k*k) work,
    which torch's counter leaves out: after adding exactly that per op, one constant is left
    for every cell. Cells without pooling agree within 11 % on MACs alone (a 1x1 conv edge adds
    11 % element-wise work, a 3x3 one 1.2 %); pooling has no
    MACs, so a cell of pooling edges counts up to twice as much upstream."""
    zc = _rows("nb201_zc", shared_data)
    space_ops = nb201._op_counts(np.arange(15_625))
    for task in ("cifar10", "imagenet16-120"):
        published = by_index(zc, task, "flops") * 1e6
        have = ~np.isnan(published)
        assert have.sum() == 9_445
        macs = networks.flop_counts("nb201", np.arange(15_625), task) / 2
        shape = BENCHMARK_TASKS["nb201"][task]
        elems = nb201.CELLS_PER_STAGE * sum(
            c * (shape.size >> s) ** 2 for s, c in enumerate(nb201.CHANNELS)
        )  # output elements of one edge summed over the 15 cells
        ops = space_ops[have]
        relu_conv_bn = ops[:, nb201.OPS.index("nor_conv_1x1")] + ops[
            :, nb201.OPS.index("nor_conv_3x3")
        ]
        pools = ops[:, nb201.OPS.index("avg_pool_3x3")]
        rest = published[have] - macs[have] - 3 * elems * relu_conv_bn - 9 * elems * pools
        assert rest.max() - rest.min() < 20, task  # the tables round to 10 FLOPs
        ratio = published[have] / macs[have]
        assert 1.0 < ratio.min() and ratio[pools == 0].max() < 1.11, task


def test_nb101_params_on_10000_random_cells(shared_data):
    freerea = _rows("nb101_freerea", shared_data)
    params = freerea.filter(freerea["metric"].to_numpy(zero_copy_only=False) == "params")
    index = params["arch_index"].to_numpy()
    value = params["value"].to_numpy()
    pick = np.random.default_rng(0).choice(len(index), 10_000, replace=False)
    counted = networks.param_counts("nb101", index[pick]) / 1e6
    assert np.array_equal(np.round(counted, 6), np.round(value[pick], 6))


def test_nb101_graph_counts_equal_built_modules():
    from nasdb.networks import nb101

    shape = BENCHMARK_TASKS["nb101"]["cifar10"]
    for index in np.random.default_rng(3).choice(423_624, 2, replace=False):
        net = networks.build("nb101", int(index))
        assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
        params, flops = nb101.counts([index], shape)[0]
        assert sum(p.numel() for p in net.parameters()) == params
        assert networks.flops("nb101", int(index)) == flops


def test_nbmacro_params_and_flops_equal_the_benchmark(shared_data):
    macro = _rows("nbmacro", shared_data)
    every = np.arange(6_561)
    published = by_index(macro, "cifar10", "params", 6_561)
    counted = networks.param_counts("nbmacro", every) / 1e6
    assert np.array_equal(np.round(counted, 6), np.round(published, 6))
    flops = by_index(macro, "cifar10", "flops", 6_561)
    for index in (0, 2186, 6560):  # FLOPs of built networks, as MACs
        assert round(networks.flops("nbmacro", index) / 2e6, 6) == round(flops[index], 6)


@pytest.fixture
def home(tmp_path):
    run = run_cli("task", "add", "digits", "--space", "nb201", "--data", "digits",
                  "--home", str(tmp_path))
    assert run.exit_code == 0, run.output
    return tmp_path


CHEAP_CELL = "|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"


def test_training_on_digits_is_deterministic_under_a_seed(home):
    recipe = recipes.get("nb201", epochs=1)
    index = networks.spaces.get("nb201").index(CHEAP_CELL)
    runs = [training.train("nb201", index, "digits", recipe, seed, device="cpu", home=home)
            for seed in (0, 0, 1)]
    first, again, other = (r.to_dict() for r in runs)
    for r in (first, again):
        del r["train_seconds"]
    assert first == again
    assert other["history"][0]["train_loss"] != first["history"][0]["train_loss"]
    assert first["provenance"]["recipe_sha256"] == recipe.sha256
    assert first["provenance"]["dataset_fingerprint"] == tasks.get("digits", home).fingerprint
    assert first["epochs"] == 1 and not first["diverged"]
    assert 0 <= first["test_accuracy"] <= 100


DIGITS_FINGERPRINT = "947160c6e79d5a056a15ac83afde64df8e719c9df5fdec3976f906c87c809fab"


def test_digits_are_scikit_learns_read_without_importing_it():
    """Every training process reads digits; scikit-learn's import would cost it seconds."""
    from sklearn.datasets import load_digits

    from nasdb.networks import datasets

    raw = np.loadtxt(datasets._digits_file(), delimiter=",")
    digits = load_digits()
    assert np.array_equal(raw[:, :-1].reshape(-1, 8, 8), digits.images)
    assert np.array_equal(raw[:, -1], digits.target)
    code = ("import sys; from nasdb.networks.datasets import read_digits; "
            "print(read_digits().fingerprint, 'sklearn' in sys.modules)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == [DIGITS_FINGERPRINT, "False"], out.stderr


def test_train_command_prints_the_result(home):
    run = run_cli("train", "nb201", CHEAP_CELL, "--task", "digits", "--epochs", "1",
                  "--device", "cpu", "--home", str(home))
    assert run.exit_code == 0, run.output
    result = json.loads(run.output)
    assert result["provenance"]["recipe"]["name"] == "nb201@1"
    assert result["provenance"]["versions"]["torch"] == torch.__version__


def _write_cifar10(directory, row_values=3072, labels_max=9):
    directory.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            b"data": rng.integers(0, 256, (20, row_values), dtype=np.uint8),
            b"labels": rng.integers(0, labels_max + 1, 20).tolist(),
        }
        (directory / name).write_bytes(pickle.dumps(batch, protocol=2))


def test_cifar_batches_are_read_through_the_restricted_unpickler(tmp_path):
    _write_cifar10(tmp_path / "c10")
    run = run_cli("task", "add", "mine", "--space", "nb201", "--data", str(tmp_path / "c10"),
                  "--home", str(tmp_path / "h"))
    assert run.exit_code == 0, run.output
    task = tasks.get("mine", tmp_path / "h")
    assert (task.channels, task.size, task.classes) == (3, 32, 10)
    net = networks.build("nb201", 0, task="mine", home=tmp_path / "h")
    assert net(torch.zeros(1, 3, 32, 32)).shape == (1, 10)


@pytest.mark.parametrize(
    "setup, needle",
    [
        (lambda d: None, "no such directory"),
        (lambda d: _write_cifar10(d, row_values=100), "expected 3x32x32"),
        (lambda d: _write_cifar10(d, labels_max=12), "expected 0..9"),
        (lambda d: d.mkdir(), "holds neither CIFAR"),
    ],
)
def test_bad_dataset_is_one_error_and_nothing_written(tmp_path, setup, needle):
    data, home = tmp_path / "data", tmp_path / "home"
    home.mkdir()
    setup(data)
    run = run_cli("task", "add", "t", "--space", "nb201", "--data", str(data),
                  "--home", str(home))
    assert run.exit_code == 2
    assert needle in run.output and run.output.count("\n") == 1, run.output
    assert snapshot(home) == {}


def test_wrong_class_count_and_bad_recipe_are_refused(home, tmp_path):
    before = snapshot(home)
    run = run_cli("task", "add", "d2", "--space", "nb201", "--data", "digits",
                  "--classes", "100", "--home", str(home))
    assert run.exit_code == 2 and "10 classes found" in run.output
    assert snapshot(home) == before
    bad = dict(recipes.PUBLISHED["nb201"].to_dict(), learning_rate=0.1)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(bad))
    run = run_cli("train", "nb201", "0", "--task", "digits", "--recipe", str(path),
                  "--home", str(home))
    assert run.exit_code == 2
    assert "unknown field(s) learning_rate" in run.output and run.output.count("\n") == 1


def test_unknown_space_or_task_for_a_network():
    with pytest.raises(networks.NetworkError, match="no network builder"):
        networks.build("nb301", 0)
    with pytest.raises(networks.NetworkError, match="unknown task 'svhn'"):
        networks.build("nb201", 0, task="svhn")


def _section_blocks(marker: str, lang: str) -> str:
    from conftest import REPO

    readme = (REPO / "README.md").read_text()
    after = readme.split(f"<!-- {marker} -->\n", 1)[1]
    return re.match(rf"```{lang}\n(.*?)```", after, flags=re.S).group(1)


def test_readme_networks_example_runs_as_a_script(tmp_path):
    code = _section_blocks("networks-example", "python")
    script = tmp_path / "example.py"
    script.write_text(code)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         cwd=tmp_path, timeout=600)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "1079316"
    assert lines[2].startswith("[") and len(lines) == 4


def test_readme_networks_shell_commands_run(tmp_path):
    env = dict(os.environ, NASDB_HOME=str(tmp_path / "home"))
    nasdb = str(Path(sys.executable).with_name("nasdb"))
    outputs = []
    for line in _section_blocks("networks-shell", "bash").strip().splitlines():
        argv = shlex.split(line)
        assert argv[0] == "nasdb"
        run = subprocess.run([nasdb, *argv[1:]], capture_output=True, text=True, env=env,
                             timeout=600)
        assert run.returncode == 0, run.stderr
        outputs.append(run.stdout)
    image, graph = json.loads(outputs[1]), json.loads(outputs[3])
    assert image["arch_index"] == 6111 and image["epochs"] == 1
    assert graph["task"] == "club" and len(graph["history"]) == 20


def test_nbgraph_params_equal_the_bench_files():
    """Every architecture on every dataset; physics keeps about 6 % of entries whose counts
    follow no op-wise pattern (measured: 94.0 % match), the other eight match exactly."""
    rows = loaders.get("nbgraph").read(source_dir(loaders.get("nbgraph").SOURCE, None))
    table = rows.evaluations
    for task in BENCHMARK_TASKS["nbgraph"]:
        mask = (table["task"].to_numpy(zero_copy_only=False) == task) & (
            table["metric"].to_numpy(zero_copy_only=False) == "params"
        )
        index = table["arch_index"].to_numpy()[mask]
        published = np.round(table["value"].to_numpy()[mask], 6)
        counted = np.round(networks.param_counts("nbgraph", index, task) / 1e6, 6)
        share = np.mean(counted == published)
        assert share > 0.94 if task == "physics" else share == 1.0, (task, share)


def test_nbgraph_counter_equals_built_modules():
    from torch_geometric.datasets import KarateClub

    graph = KarateClub()[0]
    space = networks.spaces.get("nbgraph")
    for index in space.sample(np.random.default_rng(5), 6):
        for task in ("cora", "proteins", "computers"):
            net = networks.build("nbgraph", int(index), task=task)
            assert sum(p.numel() for p in net.parameters()) == networks.param_counts(
                "nbgraph", [index], task
            )[0]
        shape = BENCHMARK_TASKS["nbgraph"]["cora"]
        net = networks.build("nbgraph", int(index), task=shape.__class__(
            "karate", graph.num_features, 4, 16, 0, 1))
        assert net(graph.x, graph.edge_index).shape == (34, 4)


def _write_planetoid(directory, nodes=12, features=5, classes=3, train=3, graph_ok=True):
    import collections

    import scipy.sparse as sp

    directory.mkdir()
    rng = np.random.default_rng(0)
    test_index = np.arange(nodes - 4, nodes)[::-1]  # listed out of order, as upstream does
    allx_n = nodes - len(test_index)

    def onehot(n):
        return np.eye(classes)[rng.integers(0, classes, n)]

    parts = {
        "x": sp.csr_matrix(rng.random((train, features), dtype=np.float32)),
        "allx": sp.csr_matrix(rng.random((allx_n, features), dtype=np.float32)),
        "tx": sp.csr_matrix(rng.random((len(test_index), features), dtype=np.float32)),
        "y": onehot(train),
        "ally": onehot(allx_n),
        "ty": onehot(len(test_index)),
        "graph": collections.defaultdict(list, {i: [(i + 1) % nodes] for i in range(nodes)})
        if graph_ok else [1, 2, 3],
    }
    for part, obj in parts.items():
        (directory / f"ind.toy.{part}").write_bytes(pickle.dumps(obj, protocol=2))
    (directory / "ind.toy.test.index").write_text("\n".join(map(str, test_index)))


def test_planetoid_files_and_karate_register_as_graph_tasks(tmp_path):
    _write_planetoid(tmp_path / "toy")
    home = str(tmp_path / "h")
    run = run_cli("task", "add", "toy", "--space", "nbgraph", "--data", str(tmp_path / "toy"),
                  "--home", home)
    assert run.exit_code == 0, run.output
    toy = tasks.get("toy", home)
    assert (toy.features, toy.classes) == (5, 3)
    data = tasks.dataset(toy)
    assert data.edge_index.shape == (2, 12) and data.train_mask.sum() == 3
    assert data.test_mask[8:].all() and not data.test_mask[:8].any()
    run = run_cli("task", "add", "club", "--space", "nbgraph", "--data", "karate",
                  "--home", home)
    assert run.exit_code == 0, run.output
    assert (tasks.get("club", home).features, tasks.get("club", home).classes) == (34, 4)


def test_bad_planetoid_files_are_one_error(tmp_path):
    _write_planetoid(tmp_path / "toy", graph_ok=False)
    home = tmp_path / "h"
    home.mkdir()
    run = run_cli("task", "add", "toy", "--space", "nbgraph", "--data", str(tmp_path / "toy"),
                  "--home", str(home))
    assert run.exit_code == 2 and "expected a dict of neighbours" in run.output, run.output
    assert snapshot(home) == {}


def test_gnn_training_on_karate_is_deterministic(tmp_path):
    tasks.add("club", "nbgraph", "karate", home=tmp_path)
    recipe = recipes.get("nbgraph", epochs=5)
    index = networks.spaces.get("nbgraph").index("0,1,2,3|gcn,gat,skip,fc")
    first, again = (
        training.train("nbgraph", index, "club", recipe, 3, device="cpu", home=tmp_path).to_dict()
        for _ in range(2)
    )
    first.pop("train_seconds"), again.pop("train_seconds")
    assert first == again and len(first["history"]) == 5
    assert first["provenance"]["dataset"] == "karate"


def test_nb201_networks_source_ingests_params_and_macs(tmp_path, nats):
    """The computed source goes through ``nasdb ingest`` like any other, no files needed."""
    import pyarrow.parquet as pq

    run = run_cli("ingest", "nb201_networks", "--home", str(tmp_path))
    assert run.exit_code == 0, run.output
    from nasdb.catalog import Catalog

    rows = pq.read_table(Catalog(tmp_path).current().path("evaluations", "nb201_networks"))
    assert rows.num_rows == 93_750
    for task in NB201_TASKS:
        params = by_index(rows, task, "params")
        assert np.array_equal(np.round(params, 6), np.round(by_index(nats, task, "params"), 6))
        macs = networks.flop_counts("nb201", np.arange(15_625), task) / 2e6
        assert np.allclose(by_index(rows, task, "flops"), macs)


def test_imagenet16_batches_keep_the_first_120_classes(tmp_path):
    directory = tmp_path / "ImageNet16"
    directory.mkdir()
    rng = np.random.default_rng(0)
    names = [f"train_data_batch_{i}" for i in range(1, 11)] + ["val_data"]
    for k, name in enumerate(names):
        labels = (np.arange(26) + 26 * k) % 130 + 1  # 1..130: ten classes beyond 120
        batch = {"data": rng.integers(0, 256, (26, 768), dtype=np.uint8), "labels": labels.tolist()}
        (directory / name).write_bytes(pickle.dumps(batch, protocol=2))
    run = run_cli("task", "add", "in16", "--space", "nb201", "--data", str(directory),
                  "--classes", "120", "--home", str(tmp_path / "h"))
    assert run.exit_code == 0, run.output
    data = tasks.dataset(tasks.get("in16", tmp_path / "h"))
    assert data.train_x.shape[1:] == (3, 16, 16)
    assert data.train_y.min() == 0 and data.train_y.max() == 119
    assert len(data.train_y) == 260 - 20  # labels 121..130 dropped


def test_a_diverged_training_is_reported_as_such(home):
    """A NaN/inf loss stops training: the result says diverged and holds no accuracy."""
    exploding = recipes.from_dict(dict(recipes.PUBLISHED["nb201-short"].to_dict(), lr=1e30))
    result = training.train("nb201", CHEAP_CELL, "digits", exploding, 0, device="cpu", home=home)
    assert result.diverged
    assert result.valid_accuracy is None and result.test_accuracy is None
    assert result.history[-1]["train_loss"] is None
