"""Accel-NASBench loader: the archive's facts, repeated runs, devices, and every bad input."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from conftest import ingest_ok, loader_check, run_cli, source_db
from nasdb.loaders import accel_nasbench as loader

from nasdb import connect, spaces
from nasdb.db import SparseColumn
from nasdb.errors import LookupMiss
from nasdb.spaces.accel import code_of_config, parse

NAME = "accel"
RESULTS = 5_138
ARCHS = 5_125
BEST = "e4k3l3-e4k5l3-e6k3l3se-e6k5l1se-e6k5l3se-e6k5l3-e6k5l2se"  # result_2274, 67.052 %
FIRST = "e1k3l1-e1k3l1-e1k5l2-e6k5l2-e6k5l2-e1k5l3-e6k3l2"  # the smallest space code here
B0 = "e1k3l1se-e6k3l2se-e6k5l2se-e6k3l3se-e6k5l3se-e6k5l4se-e6k3l1se"  # not measured
DEVICES = {"a100", "rtx3090", "tpuv2", "tpuv3", "zcu102", "vck190"}


@pytest.fixture(scope="module")
def results(checked) -> dict[str, bytes]:
    """Member name -> bytes of the real archive, in archive order (a trusted file)."""
    with tarfile.open(checked.source / loader.ARCHIVE) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}


@pytest.fixture(scope="module")
def records(results) -> dict[int, dict]:
    return {int(Path(n).stem.split("_")[1]): json.loads(b) for n, b in results.items()}


checked = loader_check(NAME)
db = source_db()


def write_archive(path: Path, members: dict[str, bytes], gz: bool = True) -> None:
    options = {"compresslevel": 1} if gz else {}
    with tarfile.open(path, "w:gz" if gz else "w", **options) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def archive(members: dict[str, bytes], gz: bool = True):
    """An edit that replaces the archive with one holding ``members``."""
    return lambda path: write_archive(path, members, gz)


def fails(checked, results: dict[str, bytes], number: int, change, *needles: str) -> None:
    """The archive with result ``number`` changed by ``change(record)`` must fail."""
    members = dict(results)
    name = f"./anb_dataset_jsons/result_{number}.json"
    record = json.loads(members[name])
    change(record)
    members[name] = json.dumps(record).encode()
    checked.fails(loader.ARCHIVE, archive(members), *needles)


def test_arch_index_is_the_space_code(records, db):
    codes = {code_of_config(r["architecture"]) for r in records.values()}
    assert len(records) == RESULTS and sorted(records) == list(range(RESULTS))
    assert len(codes) == ARCHS
    rows = db.sql(
        "SELECT arch_index, arch_id FROM architectures WHERE space = 'accel' ORDER BY arch_index"
    ).fetchall()
    assert [i for i, _ in rows] == sorted(codes)
    assert all(parse(arch_id) == i for i, arch_id in rows)
    assert rows[0][1] == FIRST


def test_thirteen_networks_were_trained_twice(records, db):
    by_arch: dict[int, list[int]] = {}
    for number, record in records.items():
        by_arch.setdefault(code_of_config(record["architecture"]), []).append(number)
    pairs = sorted(sorted(v) for v in by_arch.values() if len(v) > 1)
    assert pairs == [[n, n + 443 - (n > 9)] for n in range(14) if n != 9]
    counts = db.sql(
        "SELECT seed, count(*) FROM evaluations WHERE source = 'accel' "
        "AND metric = 'valid_accuracy' GROUP BY seed ORDER BY seed"
    ).fetchall()
    assert counts == [(0, 13), (1, 13), (None, ARCHS)]
    # results 6 and 449: 56.742 and 55.466, mean 56.104
    arch = spaces.get("accel").index(records[6]["architecture"])
    got = [
        db.lookup("accel", arch, task="imagenet", metric="valid_accuracy", seed=s)[0]
        for s in (0, 1, None)
    ]
    assert got == pytest.approx([56.742, 55.466, 56.104])


def test_devices_units_and_gaps(db):
    rows = db.sql(
        "SELECT metric, device, unit, fidelity, count(*) FROM evaluations "
        "WHERE source = 'accel' AND seed IS NULL GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    got = {(m, d): (u, f, n) for m, d, u, f, n in rows}
    assert {d for m, d in got if m == "throughput"} == DEVICES
    assert {d for m, d in got if m == "latency"} == {"zcu102", "vck190"}
    assert {d for m, d in got if m == "throughput_std"} == DEVICES - {"zcu102", "vck190"}
    assert got[("valid_accuracy", None)] == ("%", None, ARCHS)
    assert got[("valid_top5_accuracy", None)] == ("%", None, ARCHS)
    assert got[("train_time", None)] == ("s", None, ARCHS)
    assert got[("flops", None)] == ("M", None, ARCHS)
    assert got[("params", None)] == ("M", None, ARCHS)
    assert got[("throughput", "a100")] == ("img/s", None, ARCHS)
    assert got[("latency", "zcu102")] == ("ms", None, ARCHS - 2)  # two FPGA runs failed
    assert got[("throughput", "tpuv3")][2] == ARCHS - 44  # 44 TPUv3 measurements are null


def test_best_network_and_ranges(db):
    best = db.sql(
        "SELECT arch_id, valid_accuracy, valid_top5_accuracy, flops, params, throughput_a100, "
        "latency_zcu102 FROM accel ORDER BY valid_accuracy DESC LIMIT 1"
    ).fetchall()[0]
    assert best[0] == BEST
    assert best[1:] == pytest.approx((67.052, 87.686005, 619.565088, 5.885624, 4917.19848, 8.60239))
    low, high = db.sql("SELECT min(flops), max(flops) FROM accel").fetchall()[0]
    assert 84 < low < 85 and 718 < high < 719  # MMACs
    slower = db.sql(
        "SELECT count(*) FROM accel WHERE throughput_a100 <= throughput_rtx3090"
    ).fetchall()[0][0]
    assert slower == 0  # every network runs faster on the A100 than on the RTX 3090


def test_lookup_and_info(db, checked):
    home = checked.home
    thr = db.lookup("accel", [BEST, FIRST], task="imagenet", metric="throughput", device="tpuv2")
    assert thr[0] == pytest.approx(444.90710176915906)
    best = parse(BEST)
    acc = {"task": "imagenet", "metric": "valid_accuracy"}
    assert db.lookup("accel", best, **acc)[0] == pytest.approx(67.052)
    with pytest.raises(LookupMiss, match=B0):
        db.lookup("accel", [BEST, B0], **acc)
    with pytest.raises(LookupMiss, match="e1k3l1-e1k3l1-e1k3l1"):
        db.lookup("accel", 0, **acc)
    info = run_cli("info", NAME, BEST, "--home", str(home))
    assert info.exit_code == 0, info.output
    assert "expansion 4, kernel 3x3, 3 layer(s), SE no" in info.output and "67.052" in info.output
    wide = run_cli("sql", "SELECT * FROM accel LIMIT 2", "--home", str(home))
    assert wide.exit_code == 0 and "throughput_vck190" in wide.output


def test_lookup_reads_a_sparse_column(db):
    key = db.resolve("accel", task="imagenet", metric="valid_accuracy")
    col = db.column(key)
    assert isinstance(col, SparseColumn) and len(col.index) == ARCHS
    table = db.sql("SELECT arch_index, valid_accuracy FROM accel").fetchnumpy()
    pick = np.random.default_rng(0).permutation(len(table["arch_index"]))
    got = db.lookup(
        "accel", table["arch_index"][pick], **{"task": "imagenet", "metric": "valid_accuracy"}
    )
    assert np.array_equal(got, table["valid_accuracy"][pick])
    assert np.isnan(col[np.array([0, col.index[0] + 1, spaces.get("accel").size - 1])]).all()
    assert col[int(col.index[0]) : int(col.index[0]) + 1][0] == col.values[0]
    assert np.isnan(SparseColumn(np.empty(0, np.int64), np.empty(0))[np.array([5])]).all()


def test_plain_tar_instead_of_gzip(checked, results):
    plain = archive(results, gz=False)
    checked.fails(loader.ARCHIVE, plain, loader.ARCHIVE, "not a readable tar.gz")


def test_missing_result(checked, results):
    members = dict(results)
    members.pop("./anb_dataset_jsons/result_100.json")
    checked.fails(loader.ARCHIVE, archive(members), "5137 results", "5138")


def test_link_member(checked, results):
    def with_link(path):
        with tarfile.open(path, "w:gz", compresslevel=1) as tar:
            for name, data in results.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            link = tarfile.TarInfo("./anb_dataset_jsons/result_9999.json")
            link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(link)

    checked.fails(loader.ARCHIVE, with_link, "result_9999.json", "not a result file")


def test_foreign_member(checked, results):
    members = {**results, "./anb_dataset_jsons/notes.txt": b"hello"}
    checked.fails(loader.ARCHIVE, archive(members), "notes.txt", "not a result file")


def test_member_not_json(checked, results):
    members = dict(results)
    members["./anb_dataset_jsons/result_17.json"] = b'{"architecture": {"block0_e": 6,'
    checked.fails(loader.ARCHIVE, archive(members), "result_17.json", "not valid JSON")


def test_choice_outside_the_space(checked, results):
    fails(checked, results, 17, lambda r: r["architecture"].__setitem__("block2_e", 5),
          "result_17.json", "block2_e = 5", "1, 4, 6")  # fmt: skip


def test_text_where_numbers_belong(checked, results):
    fails(checked, results, 23, lambda r: r["metrics"].__setitem__("val_top1", "59.3"),
          "result_23.json", "metrics.val_top1", "'59.3'")  # fmt: skip


def test_nan_measurement(checked, results):
    def change(r):
        r["platform_perf"]["throughput_a100"]["throughput_mean"] = float("nan")

    fails(checked, results, 31, change, "result_31.json", "throughput_a100", "finite number")


def test_missing_section(checked, results):
    fails(checked, results, 40, lambda r: r.pop("model_info"),
          "result_40.json", "expected the sections")  # fmt: skip


def test_missing_device(checked, results):
    fails(checked, results, 41, lambda r: r["platform_perf"].pop("latency_vck190"),
          "result_41.json", "latency_vck190")  # fmt: skip


def test_any_network_of_the_space_is_accepted(tmp_path, results, records):
    def efficientnet_b0(r):
        for b, (e, k, layers) in enumerate(
            [(1, 3, 1), (6, 3, 2), (6, 5, 2), (6, 3, 3), (6, 5, 3), (6, 5, 4), (6, 3, 1)]
        ):
            r["architecture"].update(
                {f"block{b}_e": e, f"block{b}_k": k, f"block{b}_l": layers, f"block{b}_se": True}
            )

    members = dict(results)
    name = "./anb_dataset_jsons/result_50.json"
    record = json.loads(members[name])
    efficientnet_b0(record)
    members[name] = json.dumps(record).encode()
    src = tmp_path / "accel_nasbench"
    src.mkdir()
    write_archive(src / loader.ARCHIVE, members)
    db = connect(ingest_ok(NAME, src, tmp_path / "home"))
    got = db.lookup("accel", B0, task="imagenet", metric="valid_accuracy")
    assert got[0] == records[50]["metrics"]["val_top1"]
    with pytest.raises(LookupMiss):
        db.lookup("accel", records[50]["architecture"], task="imagenet", metric="valid_accuracy")


def test_fractions_instead_of_percent(checked, results):
    members = {}
    for name, data in results.items():
        record = json.loads(data)
        record["metrics"]["val_top1"] /= 100
        record["metrics"]["val_top5"] /= 100
        members[name] = json.dumps(record).encode()
    checked.fails(loader.ARCHIVE, archive(members), loader.ARCHIVE, "expected percent")


def test_negative_throughput(checked, results):
    def change(r):
        r["platform_perf"]["throughput_3090"]["throughput_mean"] = -5.0

    fails(checked, results, 60, change, "result_60.json", "-5", "positive throughput")
