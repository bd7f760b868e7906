"""Drop-in upstream APIs (nasdb.compat): published values, upstream scripts, upstream errors.

Each upstream script below is written as its README writes it, with only the import line
changed, and run as a user runs it: a separate Python process with ``$NASDB_HOME`` set.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from statistics import mean

import numpy as np
import pytest
import upstream_nb201 as u
from conftest import REPO, ingest_ok
from nasdb.loaders import nats_topology

from nasdb.compat import MissingField
from nasdb.compat.hw_nas_bench import HWNASBenchAPI
from nasdb.compat.nas_201_api import NASBench201API
from nasdb.compat.nas_bench_graph import light_read
from nasdb.compat.nasbench import api
from nasdb.compat.nats import create

README_ARCH = (  # the cell NAS-Bench-201's README looks up
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
    "skip_connect~2|"
)
# NAS-Bench-101's best cell by mean test accuracy over its three repeats (94.32 %)
BEST_101 = (
    [[0, 1, 1, 0, 0, 1, 1], [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 1, 0, 0],
     [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
    ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3", "conv3x3-bn-relu",
     "conv3x3-bn-relu", "output"],
)  # fmt: skip
INCEPTION_LIKE = (
    [[0, 1, 1, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 0, 0],
     [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
    ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu",
     "maxpool3x3", "output"],
)  # fmt: skip


def run_script(code: str, home, tmp_path) -> str:
    path = tmp_path / "user_script.py"
    path.write_text(textwrap.dedent(code))
    env = {**os.environ, "NASDB_HOME": str(home)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, str(path)], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def nasbench(full_home):
    return api.NASBench("/data/nasbench_only108.tfrecord", seed=0, home=full_home)


@pytest.fixture(scope="module")
def nats(full_home):
    return create(None, "tss", fast_mode=True, verbose=False, home=full_home)


# NAS-Bench-101 ----------------------------------------------------------------------------
def test_nasbench_readme_script(full_home, tmp_path):
    out = run_script(
        """
        from nasdb.compat.nasbench import api  # was: from nasbench import api

        INPUT = 'input'
        OUTPUT = 'output'
        CONV1X1 = 'conv1x1-bn-relu'
        CONV3X3 = 'conv3x3-bn-relu'
        MAXPOOL3X3 = 'maxpool3x3'

        nasbench = api.NASBench('/path/to/nasbench_only108.tfrecord')
        model_spec = api.ModelSpec(
            matrix=[[0, 1, 1, 1, 0, 1, 0],
                    [0, 0, 0, 0, 0, 0, 1],
                    [0, 0, 0, 0, 0, 0, 1],
                    [0, 0, 0, 0, 1, 0, 0],
                    [0, 0, 0, 0, 0, 0, 1],
                    [0, 0, 0, 0, 0, 0, 1],
                    [0, 0, 0, 0, 0, 0, 0]],
            ops=[INPUT, CONV1X1, CONV3X3, CONV3X3, CONV3X3, MAXPOOL3X3, OUTPUT])
        data = nasbench.query(model_spec)
        print(data['trainable_parameters'], data['test_accuracy'])
        print(nasbench.is_valid(model_spec), nasbench.total_epochs_spent)
        """,
        full_home,
        tmp_path,
    )
    first, second = out.splitlines()
    params, accuracy = first.split()
    assert int(params) > 0 and 0.8 < float(accuracy) < 1.0  # fractions, as upstream
    assert second == "True 108"


def test_nasbench_best_cell_published_accuracy(nasbench):
    spec = api.ModelSpec(*BEST_101)
    data = nasbench.query(spec)
    assert round(data["test_accuracy"], 4) == 0.9432
    assert set(data) >= {"module_adjacency", "module_operations", "trainable_parameters"}
    assert data["module_operations"][0] == "input" and data["module_operations"][-1] == "output"


def test_nasbench_pruning_gives_the_same_cell(nasbench):
    keep = [0, 1, 2, 3, 4, 6]  # the Inception-like cell without its max-pool branch
    small = np.array(INCEPTION_LIKE[0])[np.ix_(keep, keep)]
    small_ops = [INCEPTION_LIKE[1][i] for i in keep]
    big = np.zeros((7, 7), dtype=int)
    big[:5, :5], big[:5, 6] = small[:5, :5], small[:5, 5]
    big[0, 5] = 1  # vertex 5 hangs off the input and reaches nothing: pruned away
    padded = api.ModelSpec(big, [*small_ops[:5], "maxpool3x3", "output"])
    plain = api.ModelSpec(small, small_ops)
    assert padded.matrix.shape == (6, 6) and padded.ops == plain.ops
    assert padded.original_matrix.shape == (7, 7)
    canonical = nasbench.config["available_ops"]
    assert padded.hash_spec(canonical) == plain.hash_spec(canonical)
    assert nasbench.query(padded)["test_accuracy"] == nasbench.query(plain)["test_accuracy"]


def test_nasbench_out_of_domain(nasbench):
    disconnected = api.ModelSpec(
        [[0, 1, 0], [0, 0, 0], [0, 0, 0]], ["input", "maxpool3x3", "output"]
    )
    assert not disconnected.valid_spec and not nasbench.is_valid(disconnected)
    with pytest.raises(api.OutOfDomainError, match="disconnected"):
        nasbench.query(disconnected)
    bad_op = api.ModelSpec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"])
    with pytest.raises(api.OutOfDomainError, match="unsupported op conv5x5"):
        nasbench.query(bad_op)
    dense = np.triu(np.ones((7, 7), dtype=int), 1)
    with pytest.raises(api.OutOfDomainError, match="too many edges"):
        nasbench.query(api.ModelSpec(dense, BEST_101[1]))
    with pytest.raises(api.OutOfDomainError, match="epochs"):
        nasbench.query(api.ModelSpec(*BEST_101), epochs=100)
    with pytest.raises(ValueError, match="square"):
        api.ModelSpec([[0, 1]], ["input", "output"])


def test_nasbench_fields_the_catalog_lacks_name_their_source(nasbench):
    spec = api.ModelSpec(*INCEPTION_LIKE)
    data = nasbench.query(spec)
    with pytest.raises(MissingField, match="train_accuracy.*nb101_tfrecord"):
        data["train_accuracy"]
    with pytest.raises(KeyError):  # what upstream code catches for an absent key
        nasbench.query(spec, stop_halfway=True)["test_accuracy"]
    fixed, computed = nasbench.get_metrics_from_spec(spec)
    assert fixed["trainable_parameters"] == data["trainable_parameters"]
    assert sorted(computed) == [4, 12, 36, 108] and len(computed[108]) == 3
    with pytest.raises(MissingField, match="final_test_accuracy.*nb101_tfrecord"):
        computed[108][0]["final_test_accuracy"]
    first = next(iter(nasbench.hash_iterator()))
    assert len(first) == 32 and nasbench.get_metrics_from_hash(first)[0]["module_operations"]


def test_nasbench_budget_counters(full_home):
    from nasdb import spaces

    nasbench = api.NASBench(None, home=full_home)
    timed = api.ModelSpec(*spaces.get("nb101").spec(0))  # among nb101_vis's timed cells
    first = nasbench.query(timed)["training_time"]
    nasbench.query(timed, epochs=36)  # no time at 36 epochs: the sum is then unknown
    assert nasbench.total_epochs_spent == 108 + 36
    with pytest.raises(MissingField, match="training_time_spent.*nb101_tfrecord"):
        nasbench.get_budget_counters()
    nasbench.reset_budget_counters()
    nasbench.query(timed)
    nasbench.query(timed, stop_halfway=False)
    assert nasbench.get_budget_counters() == (pytest.approx(2 * first), 216)


def test_nasbench_per_repeat_values_from_the_tfrecord(tmp_path):
    """With the original release ingested, query draws one repeat and halfway values exist."""
    from nasdb.loaders import nb101_tfrecord
    from nb101_tfrecord_files import evaluation, model_metrics, record, write

    from nasdb import spaces

    space = spaces.get("nb101")
    matrix, ops = space.spec(space.index(api.ModelSpec(*BEST_101).hash_spec(api.OPS)))
    repeats = []  # (final train/valid/test, final seconds) per repeat, in file order
    for seed in range(3):
        final = (0.99 - seed / 100, 0.95 - seed / 100, 0.94 - seed / 100)
        stages = [evaluation(0, 0, 0.1, 0.1, 0.1), evaluation(54, 900.0 + seed, 0.8, 0.7, 0.6),
                  evaluation(108, 1800.0 + seed, *final)]  # fmt: skip
        metrics = model_metrics(stages, 2_000_000, 99.5)
        repeats.append((final, 1800.0 + seed, record(space.arch_id(space.index((matrix, ops))),
                                                      108, matrix, ops, metrics)))  # fmt: skip
    src = tmp_path / "upstream"
    src.mkdir()
    write(src / nb101_tfrecord.ONLY108, [r[2] for r in repeats])
    home = ingest_ok("nb101_tfrecord", src, tmp_path / "home")

    nasbench = api.NASBench(None, seed=1, home=home)
    spec = api.ModelSpec(*BEST_101)
    seen = set()
    for _ in range(30):
        data = nasbench.query(spec)
        drawn = (data["train_accuracy"], data["validation_accuracy"], data["test_accuracy"])
        match = [i for i, r in enumerate(repeats) if np.allclose(drawn, r[0])]
        assert len(match) == 1 and data["training_time"] == pytest.approx(repeats[match[0]][1])
        seen.add(match[0])
    assert seen == {0, 1, 2} and data["trainable_parameters"] == 2_000_000
    half = nasbench.query(spec, stop_halfway=True)
    assert (half["train_accuracy"], half["test_accuracy"]) == pytest.approx((0.8, 0.6))
    assert nasbench.total_epochs_spent == 30 * 108 + 54
    _, computed = nasbench.get_metrics_from_spec(spec)
    for seed, (final, seconds, _) in enumerate(repeats):
        entry = computed[108][seed]
        assert entry["final_test_accuracy"] == pytest.approx(final[2])
        assert entry["final_training_time"] == pytest.approx(seconds)
        assert entry["halfway_validation_accuracy"] == pytest.approx(0.7)
    with pytest.raises(MissingField, match="final_test_accuracy.*nb101_tfrecord"):
        computed[4][0]["final_test_accuracy"]  # the file holds the 108-epoch budget only


# NATS-Bench and NAS-Bench-201 ---------------------------------------------------------------
def test_nats_readme_script(full_home, tmp_path):
    out = run_script(
        f"""
        from nasdb.compat.nats import create  # was: from nats_bench import create

        api = create(None, 'tss', fast_mode=True, verbose=True)
        architecture_str = api.arch(12)
        info = api.get_more_info(1234, 'cifar10')
        cost = api.get_cost_info(12, 'cifar10')
        index = api.query_index_by_arch('{README_ARCH}')
        print(len(api), index, architecture_str == api[12], cost['params'] > 0)
        for i, dataset in ((6111, 'cifar10'), (9930, 'cifar100'), (857, 'ImageNet16-120')):
            info = api.get_more_info(i, dataset, hp='200', is_random=False)
            print(i, dataset, round(info['test-accuracy'], 2))
        """,
        full_home,
        tmp_path,
    )
    from nasdb import spaces

    lines = out.splitlines()
    index = spaces.get("nb201").index(README_ARCH)
    assert lines[0] == f"15625 {index} True True"
    assert lines[1:] == ["6111 cifar10 94.37", "9930 cifar100 73.51", "857 ImageNet16-120 47.31"]


def test_nb201_readme_script(full_home, tmp_path):
    out = run_script(
        f"""
        from nasdb.compat.nas_201_api import NASBench201API as API  # was: from nas_201_api ...

        api = API('NAS-Bench-201-v1_1-096897.pth', verbose=False)
        index = api.query_index_by_arch('{README_ARCH}')
        info = api.get_more_info(6111, 'cifar10', None, hp='200', is_random=False)
        valid = api.get_more_info(6111, 'cifar10-valid', None, hp='200', is_random=False)
        print(len(api), index, round(info['test-accuracy'], 2), round(valid['valid-accuracy'], 2))
        """,
        full_home,
        tmp_path,
    )
    from nasdb import spaces

    index = spaces.get("nb201").index(README_ARCH)
    # 6111: NAS-Bench-201's best CIFAR-10 cell; its cifar10-valid validation accuracy 91.61
    assert out.split() == ["15625", str(index), "94.37", "91.61"]


def test_nats_keys_follow_upstream_per_dataset(nats):
    c10 = nats.get_more_info(6111, "cifar10", hp="200", is_random=False)
    assert "valid-accuracy" not in c10 and "test-accuracy" in c10  # cifar10: train+valid
    c100 = nats.get_more_info(6111, "cifar100", hp="12", is_random=False)
    assert {"valid-accuracy", "test-accuracy"} <= set(c100)
    with pytest.raises(MissingField, match="valtest-accuracy.*ori-test"):
        c100["valtest-accuracy"]
    with pytest.raises(MissingField, match="train-loss.*nb201_nats_tss"):
        c10["train-loss"]
    with pytest.raises(MissingField, match="nb201_nats_tss"):
        nats.simulate_train_eval(1224, dataset="cifar10", hp="12")
    with pytest.raises(MissingField, match="seed 777"):
        nats.get_more_info(6111, "cifar10", hp="200", is_random=777)


def test_bad_input_raises_what_upstream_raises(nats, full_home):
    with pytest.raises(ValueError, match="15625"):
        nats.arch(15625)
    with pytest.raises(ValueError, match="Invalid architecture index"):
        nats.get_more_info(20000, "cifar10")
    with pytest.raises(KeyError, match="cifar11"):
        nats.get_more_info(1, "cifar11")
    with pytest.raises(KeyError, match="hp '36'"):
        nats.get_more_info(1, "cifar10", hp="36")
    with pytest.raises(ValueError, match="sss"):
        create(None, "sss", home=full_home)
    assert nats.query_index_by_arch("|none~0|+|none~0|none~1|+|none~0|none~1|none~3|") == -1
    hw = HWNASBenchAPI(None, home=full_home)
    with pytest.raises(KeyError, match="ImageNet16"):
        hw.query_by_index(0, "ImageNet16")
    with pytest.raises(IndexError, match="15625"):
        hw.query_by_index(15625, "cifar10")
    with pytest.raises(FileNotFoundError, match="coraa"):
        light_read("coraa", home=full_home)


@pytest.fixture(scope="module")
def nats_archive_home(tmp_path_factory):
    """A catalog holding only a NATS-Bench archive in upstream layout (three cells)."""
    torch_home = tmp_path_factory.mktemp("torch_home")
    u.write_nats(torch_home / nats_topology.ARCHIVE)
    return ingest_ok("nb201_nats_tss", torch_home, tmp_path_factory.mktemp("nats_home"))


def test_nats_full_archive_fields_per_seed(nats_archive_home):
    nats = create(None, "tss", home=nats_archive_home)
    seeds = u.NATS_SEEDS[0]["200"]["cifar100"]
    for seed in seeds:
        info = nats.get_more_info(0, "cifar100", hp="200", is_random=seed)
        assert info["valid-accuracy"] == pytest.approx(
            u.accuracy(0, "cifar100", seed, 199, 200, "x-valid")
        )
        assert info["test-loss"] == pytest.approx(u.loss(0, "cifar100", seed, 199, 200, "x-test"))
        assert info["train-all-time"] == pytest.approx(u.epoch_time(0, "cifar100") * 200)
    averaged = nats.get_more_info(0, "cifar100", hp="200", is_random=False)
    assert averaged["test-accuracy"] == pytest.approx(
        mean(u.accuracy(0, "cifar100", s, 199, 200, "x-test") for s in seeds)
    )
    drawn = nats.get_more_info(0, "cifar100", hp="200")["test-accuracy"]
    assert any(
        drawn == pytest.approx(u.accuracy(0, "cifar100", s, 199, 200, "x-test")) for s in seeds
    )
    cost = nats.get_cost_info(0, "cifar100", hp="200")
    assert cost["flops"] == pytest.approx(u.flops(0, "cifar100"))
    assert cost["params"] == pytest.approx(u.params(0, "cifar100"))
    assert cost["latency"] == pytest.approx(mean(u.latency(0, "cifar100")), rel=1e-6)
    acc, latency, time_cost, total = nats.simulate_train_eval(0, "cifar10", hp="200")
    valid = [u.accuracy(0, "cifar10-valid", s, 199, 200, "x-valid") for s in (777, 888, 999)]
    assert any(acc == pytest.approx(v) for v in valid)
    assert time_cost == pytest.approx(u.epoch_time(0, "cifar10-valid") * 200)
    assert latency == pytest.approx(mean(u.latency(0, "cifar10")), rel=1e-6)
    assert nats.simulate_train_eval(0, "cifar10", hp="200")[3] == pytest.approx(2 * total)


# HW-NAS-Bench and NAS-Bench-Graph ----------------------------------------------------------
def test_hw_nas_bench_readme_script(full_home, tmp_path):
    out = run_script(
        """
        from nasdb.compat.hw_nas_bench import HWNASBenchAPI as HWAPI  # was: hw_nas_bench_api

        hw_api = HWAPI("HW-NAS-Bench-v1_0.pickle", search_space="nasbench201")
        HW_metrics = hw_api.query_by_index(0, "cifar10")
        for k in HW_metrics:
            if "latency" in k:
                unit = "ms"
            else:
                unit = "mJ"
            print("{}: {} ({})".format(k, HW_metrics[k], unit))
        """,
        full_home,
        tmp_path,
    )
    # the output HW-NAS-Bench's README prints for architecture 0 on CIFAR-10
    for line in [
        "edgegpu_latency: 5.807418537139893 (ms)",
        "edgegpu_energy: 24.226614330768584 (mJ)",
        "raspi4_latency: 10.481976820010459 (ms)",
        "edgetpu_latency: 0.9571811309997429 (ms)",
        "pixel3_latency: 3.6058499999999998 (ms)",
        "eyeriss_latency: 3.645620000000001 (ms)",
        "eyeriss_energy: 0.6872827644999999 (mJ)",
        "fpga_latency: 2.57296 (ms)",
        "fpga_energy: 18.01072 (mJ)",
    ]:
        assert line in out.splitlines()


def test_nas_bench_graph_script_and_tables_match_upstream(full_home, tmp_path):
    out = run_script(
        """
        from nasdb.compat.nas_bench_graph import light_read, Arch  # was: from nas_bench_graph

        bench = light_read('cora')
        arch = Arch([0, 1, 2, 1], ['gcn', 'gin', 'fc', 'cheb'])
        info = bench[arch.valid_hash()]
        print(len(bench), sorted(info), round(info['perf'], 6))
        """,
        full_home,
        tmp_path,
    )
    import nas_bench_graph

    upstream = nas_bench_graph.light_read("cora")
    ours = light_read("cora", home=full_home)
    assert ours.keys() == upstream.keys()
    for h in list(upstream)[::97]:
        for field, value in upstream[h].items():
            assert ours[h][field] == pytest.approx(float(value), rel=1e-9), (h, field)
    from nas_bench_graph import Arch

    perf = upstream[Arch([0, 1, 2, 1], ["gcn", "gin", "fc", "cheb"]).valid_hash()]["perf"]
    assert out.split("[")[0].strip() == str(len(upstream))
    assert out.strip().endswith(str(round(perf, 6)))


def test_nb201_api_reads_nb201_results_not_nats(full_home):
    nb201 = NASBench201API(None, verbose=False, home=full_home)
    # cifar10-valid test set: only the v1.x table (NASWOT) holds it
    info = nb201.get_more_info(6111, "cifar10-valid", hp="200", is_random=False)
    assert info["test-accuracy"] == pytest.approx(91.09, abs=0.005)
    with pytest.raises(MissingField, match="nb201_v1_pth"):
        info["train-accuracy"]


def test_readme_examples_run_as_scripts(full_home, tmp_path):
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Drop-in upstream APIs", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 5  # one per compat module
    printed = [run_script(code, full_home, tmp_path).split() for code in blocks]
    assert float(printed[0][1]) < 1.0  # NB101 accuracies are fractions, as upstream
    assert printed[1][1] == "94.37333333333333"  # NATS: 6111's published CIFAR-10 accuracy
    assert round(float(printed[2][0]), 2) == 91.61
    assert printed[3] == ["5.807418537139893"]  # HW-NAS-Bench README's value for cell 0
    assert 0.0 < float(printed[4][0]) < 1.0


# pictures --------------------------------------------------------------------------------
def test_info_plot_draws_the_cell_with_its_ops(full_home, tmp_path):
    from nasdb import spaces

    svg = tmp_path / "cell.svg"
    done = subprocess.run(
        [sys.executable, "-m", "nasdb", "info", "nb201", "6111", "--plot", str(svg)],
        env={**os.environ, "NASDB_HOME": str(full_home)}, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    drawn = sorted(re.findall(r"<text[^>]*>([^<]+)</text>", text))
    # the six edge ops of the arch string, plus the input and output nodes and the title
    arch = spaces.get("nb201").string(6111)
    ops = re.findall(r"\|([a-z_0-9]+)~\d", arch)
    assert sorted([*ops, "input", "output", "nb201 6111"]) == drawn

    png = tmp_path / "macro.png"
    done = subprocess.run(
        [sys.executable, "-m", "nasdb", "info", "nbmacro", "02012100", "--plot", str(png)],
        env={**os.environ, "NASDB_HOME": str(full_home)}, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    bad = subprocess.run(
        [sys.executable, "-m", "nasdb", "info", "nb201", "1", "--plot", str(tmp_path / "a.pdf")],
        env={**os.environ, "NASDB_HOME": str(full_home)}, capture_output=True, text=True,
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stdout == ""
    assert (
        bad.stderr.strip()
        == f"nasdb: error: --plot {tmp_path / 'a.pdf'}: the file name must end in .png or .svg"
    )
