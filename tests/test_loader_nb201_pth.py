"""NAS-Bench-201 v1.x benchmark file, in both torch formats, read without torch."""

from __future__ import annotations

import io
import pickle
import zipfile
from statistics import mean

import pytest
import upstream_nb201 as u
from conftest import ingest_ok, source_db
from nasdb.loaders import nb201_pth as nb

from nasdb import connect
from nasdb.testing import check_loader

NAME = "nb201_v1_pth"
V11, V10 = nb.FILES
# 200 epochs: 7 runs-or-means per dataset (cell 1: 3 seeds + mean, cell 6111: 2 + mean), 6 rows
# each (train, and two evaluation splits: accuracy and loss), 4 on cifar10 (no validation
# split); 12 epochs: 5 on cifar10-valid; params, FLOPs and latency per cell and dataset.
ROWS = 7 * (3 * 6 + 4) + 5 * 6 + 2 * 4 * 3


@pytest.fixture(scope="module")
def payload():
    return u.nb201_payload()


@pytest.fixture(scope="module")
def legacy(payload):
    return u.torch_legacy_bytes(payload)


@pytest.fixture(scope="module")
def checked(tmp_path_factory, legacy):
    """The loader kit on a directory holding the v1.0 file (v1.1 may be absent)."""
    directory = tmp_path_factory.mktemp("nb201_pth")
    (directory / V10).write_bytes(legacy)
    kit = tmp_path_factory.mktemp("nb201_pth_kit")
    return check_loader(NAME, directory, kit, rows=ROWS, optional=(V11,), targets=[V10])


db = source_db()


def rows_of(db):
    return db.sql(
        "SELECT arch_index, task, metric, device, fidelity, seed, value, unit FROM evaluations "
        "WHERE source = $s ORDER BY ALL",
        params={"s": NAME},
    ).fetchall()


def test_200_epoch_results_per_seed_and_mean(db):
    got = {
        (i, t, m, f, s): v
        for i, t, m, d, f, s, v, _ in rows_of(db)
        if m in ("test_accuracy", "valid_accuracy", "train_loss")
    }
    for index, hps in u.NB201_SEEDS.items():
        for seed in hps["full"]["cifar100"]:
            want = u.accuracy(index, "cifar100", seed, 199, 200, "x-test")
            assert got[(index, "cifar100", "test_accuracy", 200, seed)] == want
        seeds = hps["full"]["cifar10"]
        want = mean(u.accuracy(index, "cifar10", s, 199, 200, "ori-test") for s in seeds)
        assert got[(index, "cifar10", "test_accuracy", 200, None)] == pytest.approx(want)
        seeds = hps["full"]["cifar10-valid"]
        want = mean(u.accuracy(index, "cifar10-valid", s, 199, 200, "x-valid") for s in seeds)
        assert got[(index, "cifar10", "valid_accuracy", 200, None)] == pytest.approx(want)
        want = mean(u.loss(index, "ImageNet16-120", s, 199, 200, "train") for s in seeds)
        assert got[(index, "imagenet16-120", "train_loss", 200, None)] == pytest.approx(want)


def test_v10_short_schedule_covers_cifar10_valid_only(db):
    short = {(t, m) for i, t, m, d, f, s, v, _ in rows_of(db) if f == 12}
    assert short == {
        ("cifar10-valid", "train_accuracy"),
        ("cifar10-valid", "train_loss"),
        ("cifar10-valid", "test_accuracy"),
        ("cifar10-valid", "test_loss"),
        ("cifar10", "valid_accuracy"),
        ("cifar10", "valid_loss"),
    }


def test_no_times_in_v10_and_costs_once(db):
    rows = rows_of(db)
    assert not [r for r in rows if r[2] == "train_time"]
    costs = {(i, t, m): (d, f, s, v, unit) for i, t, m, d, f, s, v, unit in rows if f is None}
    ms = 1000 * mean(u.latency(6111, "cifar10"))
    assert costs[(6111, "cifar10", "latency")] == ("gpu_bs256", None, None, pytest.approx(ms), "ms")
    assert costs[(1, "imagenet16-120", "params")][3] == pytest.approx(u.params(1, "ImageNet16-120"))
    assert len(costs) == 2 * 4 * 3


def test_zip_format_gives_the_same_rows(db, payload, tmp_path):
    (tmp_path / V10).write_bytes(u.torch_zip_bytes(payload))
    home = ingest_ok(NAME, tmp_path, tmp_path / "home")
    assert rows_of(connect(home)) == rows_of(db)


def test_v11_is_preferred_and_recorded(tmp_path):
    v11 = u.nb201_payload({42: {"full": {"cifar10": [777]}}}, old=False)
    (tmp_path / V11).write_bytes(u.torch_legacy_bytes(v11))
    (tmp_path / V10).write_bytes(u.torch_legacy_bytes(u.nb201_payload()))
    home = ingest_ok(NAME, tmp_path, tmp_path / "home")
    db = connect(home)
    assert {r[0] for r in rows_of(db)} == {42}
    files = db.sql("SELECT unnest(files).path FROM sources WHERE name = $s", params={"s": NAME})
    assert files.fetchall() == [(V11,)]
    want = u.epoch_time(42, "cifar10")  # the newer files carry training times
    assert [r[6] for r in rows_of(db) if r[2] == "train_time"] == [pytest.approx(want)] * 2


# bad input --------------------------------------------------------------------------------
def test_truncated_zip(checked, payload):
    def edit(src):
        data = u.torch_zip_bytes(payload)
        (src / V10).write_bytes(data[: len(data) - 300])

    checked.fails("", edit, V10, "zip")


def test_plain_pickle_is_not_a_torch_file(checked, payload):
    def edit(src):
        (src / V10).write_bytes(pickle.dumps(payload, protocol=2))

    checked.fails("", edit, V10, "not a torch file")


def test_wrong_structure(checked, payload):
    def edit(src):
        broken = {k: v for k, v in payload.items() if k != "arch2infos"}
        (src / V10).write_bytes(u.torch_legacy_bytes(broken))

    checked.fails("", edit, V10, "arch2infos")


def test_schedule_names_of_nats(checked, payload):
    def edit(src):
        broken = dict(payload, arch2infos={1: {"200": payload["arch2infos"][1]["full"]}})
        (src / V10).write_bytes(u.torch_legacy_bytes(broken))

    checked.fails("", edit, V10, "'200'", "'less'")


def test_index_outside_the_space(checked, payload):
    def edit(src):
        broken = dict(payload, arch2infos={20_000: payload["arch2infos"][1]})
        (src / V10).write_bytes(u.torch_legacy_bytes(broken))

    checked.fails("", edit, V10, "20000")


def test_tensors_are_refused(checked, payload):
    """A file with weights refers to tensor storages by persistent id: refused, not loaded."""
    def edit(src):
        class WithStorage(pickle.Pickler):
            def persistent_id(self, obj):
                return ("storage", "FloatStorage", "0", "cpu", 4) if obj == "weights" else None

        buf = io.BytesIO()
        for part in (u.TORCH_MAGIC, 1001, {"little_endian": True}):
            pickle.dump(part, buf, protocol=2)
        WithStorage(buf, protocol=2).dump(dict(payload, meta_archs=["weights"]))
        pickle.dump(["0"], buf, protocol=2)
        (src / V10).write_bytes(buf.getvalue())

    checked.fails("", edit, V10, "storage")


def test_zip_without_data_pkl(checked):
    def edit(src):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("archive/version", b"3\n")
        (src / V10).write_bytes(buf.getvalue())

    checked.fails("", edit, V10, "data.pkl")
