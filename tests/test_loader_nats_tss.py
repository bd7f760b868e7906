"""NATS-Bench topology 'simple' archive: rows from files written in the upstream layout."""

from __future__ import annotations

import bz2
import pickle
import shutil
from statistics import mean

import pytest
import upstream_nb201 as u
from conftest import run_cli, source_db
from nasdb.loaders import nats_topology as nt

from nasdb.testing import check_loader

NAME = "nb201_nats_tss"


@pytest.fixture(scope="module")
def torch_home(tmp_path_factory):
    """A ``$TORCH_HOME`` holding the archive, as the NATS-Bench API expects it."""
    root = tmp_path_factory.mktemp("torch_home")
    u.write_nats(root / nt.ARCHIVE)
    return root


@pytest.fixture(scope="module")
def checked(tmp_path_factory, torch_home):
    """The loader kit on the archive directory: its meta file and one architecture file."""
    kit = tmp_path_factory.mktemp("nats_tss_kit")
    rows = expected_rows(u.NATS_SEEDS)
    targets = [nt.META, "000011.pickle.pbz2"]
    return check_loader(NAME, torch_home / nt.ARCHIVE, kit, rows=rows, targets=targets)


db = source_db()


def value(db, index, task, metric, fidelity=None, seed=None, device=None):
    rows = db.sql(
        "SELECT value FROM evaluations WHERE source = $s AND arch_index = $i AND task = $t "
        "AND metric = $m AND fidelity IS NOT DISTINCT FROM $f AND seed IS NOT DISTINCT FROM $seed "
        "AND device IS NOT DISTINCT FROM $d",
        params={"s": NAME, "i": index, "t": task, "m": metric, "f": fidelity, "seed": seed,
                "d": device},
    ).fetchall()  # fmt: skip
    assert len(rows) == 1, (index, task, metric, fidelity, seed, rows)
    return rows[0][0]


PER_RUN = {"cifar10-valid": 7, "cifar10": 5, "cifar100": 7, "ImageNet16-120": 7}


def expected_rows(archs) -> int:
    """Per run: train accuracy, loss, time and two numbers per stored evaluation set; plus
    one mean row per key, and params, FLOPs and latency once per dataset."""
    n = 0
    for schedules in archs.values():
        datasets = set()
        for seeds in schedules.values():
            for dataset, ss in seeds.items():
                n += PER_RUN[dataset] * (len(ss) + 1)
                datasets.add(dataset)
        n += 3 * len(datasets)
    return n


def test_every_run_gives_its_final_epoch_rows(db):
    for index, schedules in u.NATS_SEEDS.items():
        for hp, seeds in schedules.items():
            epochs = int(hp)
            last = epochs - 1
            for dataset, ss in seeds.items():
                for seed in ss:
                    args = (index, dataset, seed, last, epochs)
                    task = "imagenet16-120" if dataset == "ImageNet16-120" else dataset
                    got = value(db, index, task, "train_accuracy", epochs, seed)
                    assert got == u.accuracy(*args, "train")
                    got = value(db, index, task, "train_loss", epochs, seed)
                    assert got == u.loss(*args, "train")
                    got = value(db, index, task, "train_time", epochs, seed)
                    assert got == pytest.approx(u.epoch_time(index, dataset))
                    if dataset == "cifar10-valid":  # upstream's 'cifar10' + 'valid'
                        got = value(db, index, "cifar10", "valid_accuracy", epochs, seed)
                        assert got == u.accuracy(*args, "x-valid")
                        got = value(db, index, "cifar10-valid", "test_accuracy", epochs, seed)
                        assert got == u.accuracy(*args, "ori-test")
                    elif dataset == "cifar10":
                        got = value(db, index, "cifar10", "test_accuracy", epochs, seed)
                        assert got == u.accuracy(*args, "ori-test")
                        assert value(db, index, "cifar10", "test_loss", epochs, seed) == u.loss(
                            *args, "ori-test"
                        )
                    else:
                        got = value(db, index, task, "valid_accuracy", epochs, seed)
                        assert got == u.accuracy(*args, "x-valid")
                        got = value(db, index, task, "test_accuracy", epochs, seed)
                        assert got == u.accuracy(*args, "x-test")
                        assert value(db, index, task, "valid_loss", epochs, seed) == u.loss(
                            *args, "x-valid"
                        )


def test_seed_null_rows_are_the_mean_over_seeds(db):
    seeds = u.NATS_SEEDS[0]["200"]["ImageNet16-120"]
    want = mean(u.accuracy(0, "ImageNet16-120", s, 199, 200, "x-test") for s in seeds)
    assert value(db, 0, "imagenet16-120", "test_accuracy", 200) == pytest.approx(want)
    seeds = u.NATS_SEEDS[284]["12"]["cifar10-valid"]
    want = mean(u.accuracy(284, "cifar10-valid", s, 11, 12, "x-valid") for s in seeds)
    assert value(db, 284, "cifar10", "valid_accuracy", 12) == pytest.approx(want)


def test_costs_once_per_task(db):
    for index in u.NATS_SEEDS:
        for dataset, task in [("cifar100", "cifar100"), ("cifar10-valid", "cifar10-valid")]:
            assert value(db, index, task, "params") == pytest.approx(u.params(index, dataset))
            assert value(db, index, task, "flops") == pytest.approx(u.flops(index, dataset))
            ms = value(db, index, task, "latency", device="gpu_bs256")
            assert ms == pytest.approx(1000 * mean(u.latency(index, dataset)))
    units = db.sql(
        "SELECT DISTINCT metric, unit, fidelity, seed FROM evaluations WHERE source = $s "
        "AND metric IN ('params', 'flops', 'latency')",
        params={"s": NAME},
    ).fetchall()
    assert sorted(units) == [("flops", "M", None, None), ("latency", "ms", None, None),
                             ("params", "M", None, None)]  # fmt: skip


def test_coverage_and_row_count(db):
    rows = db.sql(
        "SELECT count(*), count(DISTINCT arch_index), min(fidelity), max(fidelity), "
        "list(DISTINCT task ORDER BY task) FROM evaluations WHERE source = $s",
        params={"s": NAME},
    ).fetchall()[0]
    assert rows[1:4] == (3, 12, 200)
    assert rows[4] == ["cifar10", "cifar10-valid", "cifar100", "imagenet16-120"]
    assert rows[0] == expected_rows(u.NATS_SEEDS)
    sources = db.sql("SELECT rows, len(files) FROM sources WHERE name = $s", params={"s": NAME})
    assert sources.fetchall() == [(rows[0], 4)]  # meta + three architecture files


def test_torch_home_holding_the_archive_works_too(torch_home, tmp_path):
    home = tmp_path / "home"
    result = run_cli("ingest", NAME, "--source", str(torch_home), "--home", str(home))
    assert result.exit_code == 0, result.output
    assert "nb201_nats_tss:" in result.output


def test_wide_view_and_info(checked, db):
    home = checked.home
    cols = {r[0] for r in db.sql("DESCRIBE nb201").fetchall()}
    assert {"train_accuracy", "valid_accuracy_e12", "latency_gpu_bs256", "train_time"} <= cols
    row = db.sql(
        "SELECT test_accuracy, train_accuracy_e12 FROM nb201 WHERE arch_id = '11' "
        "AND task = 'cifar10'"
    ).fetchall()
    want = mean(u.accuracy(11, "cifar10", s, 199, 200, "ori-test") for s in (777, 888))
    assert row[0][0] == pytest.approx(want)
    assert row[0][1] == u.accuracy(11, "cifar10", 777, 11, 12, "train")
    acc = db.lookup("nb201", [11], task="cifar10", metric="test_accuracy", seed=888)
    assert acc[0] == u.accuracy(11, "cifar10", 888, 199, 200, "ori-test")
    result = run_cli("info", "nb201", "284", "--home", str(home))
    assert result.exit_code == 0, result.output
    assert "valid_accuracy" in result.output and "gpu_bs256" in result.output


def test_worker_processes_give_the_same_rows(torch_home, monkeypatch):
    inline = nt.read(torch_home).evaluations
    monkeypatch.setattr(nt, "CHUNK", 1)
    monkeypatch.setattr(nt.os, "cpu_count", lambda: 2)
    assert nt.read(torch_home).evaluations.equals(inline)


def test_worker_processes_report_the_first_bad_file(checked, monkeypatch):
    def edit(src):
        monkeypatch.setattr(nt, "CHUNK", 1)
        monkeypatch.setattr(nt.os, "cpu_count", lambda: 2)
        u.bz2_pickle(src / "000284.pickle.pbz2", {"12": u.Evil()})
        u.bz2_pickle(src / "000011.pickle.pbz2", [])

    checked.fails("", edit, "000011.pickle.pbz2", "expected a dict")


def test_all_leaves_the_source_out():
    from nasdb.cli import _expand

    assert NAME not in _expand(("all",)) and NAME not in _expand(("nb201",))
    assert _expand((NAME,)) == [NAME]


# bad input --------------------------------------------------------------------------------
def test_no_architecture_files(checked):
    def edit(src):
        for f in src.glob("0*.pickle.pbz2"):
            f.unlink()

    checked.fails("", edit, "no architecture files")


def test_not_bz2_at_all(checked):
    def edit(src):
        (src / "000011.pickle.pbz2").write_bytes(pickle.dumps({"12": {}}))

    checked.fails("", edit, "000011.pickle.pbz2", "not a readable bz2 file")


def test_corrupt_pickle_inside_good_bz2(checked):
    def edit(src):
        (src / "000011.pickle.pbz2").write_bytes(bz2.compress(b"\x80\x04garbage"))

    checked.fails("", edit, "000011.pickle.pbz2", "not a readable pickle")


def test_meta_in_another_order(checked):
    def edit(src):
        archs = u.meta_archs()
        archs[3], archs[4] = archs[4], archs[3]
        u.bz2_pickle(src / "meta.pickle.pbz2", {"meta_archs": archs})

    checked.fails("", edit, "meta_archs[3]", "official")


def test_meta_truncated_list(checked):
    def edit(src):
        u.bz2_pickle(src / "meta.pickle.pbz2", {"meta_archs": u.meta_archs()[:9000]})

    checked.fails("", edit, "9000 architectures", "15625")


def test_file_of_another_architecture(checked):
    def edit(src):
        (src / "000011.pickle.pbz2").rename(src / "000012.pickle.pbz2")

    checked.fails("", edit, "000012.pickle.pbz2", "arch_index 11", "expected 12")


def test_index_outside_the_space(checked):
    def edit(src):
        (src / "000011.pickle.pbz2").rename(src / "015625.pickle.pbz2")

    checked.fails("", edit, "015625.pickle.pbz2", "outside")


def test_same_index_twice(checked):
    def edit(src):
        shutil.copy(src / "000011.pickle.pbz2", src / "11.pickle.pbz2")

    checked.fails("", edit, "11.pickle.pbz2", "already")


def _rewrite(src, index, change):
    f = src / f"{index:06d}.pickle.pbz2"
    obj = nt.load(f)
    change(obj)
    u.bz2_pickle(f, obj)


def test_unknown_schedule(checked):
    def edit(src):
        _rewrite(src, 11, lambda o: o.__setitem__("90", o["12"]))

    checked.fails("", edit, "000011.pickle.pbz2", "'90'")


def test_missing_all_results(checked):
    def edit(src):
        _rewrite(src, 11, lambda o: o["200"].pop("all_results"))

    checked.fails("", edit, "000011.pickle.pbz2", "all_results")


def test_missing_final_epoch(checked):
    def edit(src):
        _rewrite(src, 0, lambda o: o["200"]["all_results"][("cifar100", 888)]["eval_acc1es"].pop(
            "x-test@199"))  # fmt: skip

    checked.fails("", edit, "000000.pickle.pbz2", "x-test@199", "888")


def test_accuracy_outside_percent(checked):
    def edit(src):
        def change(o):
            o["12"]["all_results"][("cifar10", 777)]["train_acc1es"][11] = 140.0

        _rewrite(src, 11, change)

    checked.fails("", edit, "000011.pickle.pbz2", "140.0", "0..100")


def test_text_where_a_number_belongs(checked):
    def edit(src):
        def change(o):
            o["12"]["all_results"][("cifar10", 777)]["params"] = "1.2 MB"

        _rewrite(src, 11, change)

    checked.fails("", edit, "000011.pickle.pbz2", "params", "expected a number")


def test_wrong_epochs(checked):
    def edit(src):
        def change(o):
            o["12"]["all_results"][("cifar10", 777)]["epochs"] = 200

        _rewrite(src, 11, change)

    checked.fails("", edit, "000011.pickle.pbz2", "200 epochs", "expected 12")


def test_arch_string_of_another_cell(checked):
    def edit(src):
        _rewrite(src, 11, lambda o: o["12"].__setitem__("arch_str", u.arch_string(12)))

    checked.fails("", edit, "000011.pickle.pbz2", "official NB201 cell 11")


def test_unknown_dataset(checked):
    def edit(src):
        def change(o):
            results = o["12"]["all_results"]
            results[("svhn", 777)] = results.pop(("cifar10", 777))

        _rewrite(src, 11, change)

    checked.fails("", edit, "000011.pickle.pbz2", "'svhn'")


def test_not_a_dict(checked):
    def edit(src):
        u.bz2_pickle(src / "000011.pickle.pbz2", [1, 2, 3])

    checked.fails("", edit, "000011.pickle.pbz2", "expected a dict")
