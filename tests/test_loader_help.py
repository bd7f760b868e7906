"""HELP latency loader: its index map agrees with ours; bad torch files fail cleanly."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_ingest_fails, copy_fixtures
from nasdb.loaders import help_latency as hl
from nasdb.loaders import hw_nas_bench_csv as hw
from nasdb.loaders.base import read_csv
from nasdb.loaders.nb201_keys import tuple_indices

from nasdb import connect, spaces
from nasdb.safe_pickle import load_torch_plain

NAME = "nb201_help"
SIZE = 15_625


def torch_zip(path: Path, payload: bytes) -> None:
    """A file laid out like ``torch.save`` output, with ``payload`` as its pickle."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data.pkl", payload)
        zf.writestr("archive/version", b"3\n")


home, src = copy_fixtures(NAME, hl.SOURCE.subdir)


@pytest.fixture(scope="module")
def source(shared_data):
    return shared_data / hl.SOURCE.subdir


@pytest.fixture(scope="module")
def db(home):
    return connect(home)


def test_arch_map_agrees_with_our_official_index(source):
    mapping = load_torch_plain(source / "str_arch2idx.pt")
    space = spaces.get("nb201")
    assert len(mapping) == SIZE
    assert sorted(mapping.values()) == list(range(SIZE))
    disagree = [a for a, i in mapping.items() if space.index(a) != i]
    assert disagree == []


def test_every_setting_has_every_cell(db):
    rows = db.sql(
        "SELECT device, task, unit, fidelity, count(DISTINCT arch_index), count(*), min(value) "
        "FROM evaluations WHERE source = 'nb201_help' GROUP BY ALL ORDER BY device"
    ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(hl.DEVICES.values())
    assert len(rows) == 27
    for device, task, unit, fidelity, distinct, n, low in rows:
        assert (task, unit, fidelity) == ("cifar10", "ms", None), device
        assert distinct == n == SIZE, device
        assert low > 0, device
    names = {r[0] for r in rows}
    assert {"titanx_bs32", "gtx1080ti_bs1", "titan_rtx_bs256", "xeon_gold_6226"} <= names


def test_known_latencies(db):
    got = dict(
        db.sql(
            "SELECT device, value FROM evaluations WHERE source = 'nb201_help' "
            "AND arch_index = 0 AND device IN ('titanx_bs1', 'pixel2', 'fpga')"
        ).fetchall()
    )
    assert got == pytest.approx({"titanx_bs1": 8.25774193, "pixel2": 9.0, "fpga": 2.57296})


def test_batch_256_takes_longer_than_batch_1(db):
    rows = db.sql(
        "SELECT device, median(value) FROM evaluations WHERE source = 'nb201_help' "
        "AND device LIKE '%_bs%' GROUP BY device"
    ).fetchall()
    median = dict(rows)
    for gpu in ("gtx1080ti", "rtx2080ti", "titan_rtx", "titanx", "titanxp"):
        assert median[f"{gpu}_bs256"] > median[f"{gpu}_bs1"]


def test_hw_nas_bench_devices_are_its_cifar10_columns(shared_data, source):
    # Why the task is cifar10: these four settings are HW-NAS-Bench's CIFAR-10 columns.
    f = shared_data / hw.SOURCE.subdir / "hw_cifar10.csv"
    t = read_csv(f, ["net", "pixel3_latency", "raspi4_latency", "eyeriss_latency"])
    index = tuple_indices(t.column("net"), f, "net")
    for device in ("pixel3", "raspi4", "eyeriss"):
        ours = np.empty(SIZE)
        ours[index] = t.column(f"{device}_latency").to_numpy()
        assert np.array_equal(hl.latencies(source / f"{device}.pt"), ours)


def test_hardware_embedding_index_is_not_needed(src, tmp_path):
    refs = load_torch_plain(src / "hardware_embedding_index.pt")
    assert len(refs) == len(set(refs)) == 10 and all(0 <= i < SIZE for i in refs)
    (src / "hardware_embedding_index.pt").unlink()
    assert hl.read(src).evaluations.num_rows == 27 * SIZE


def test_missing_latency_file(src, home):
    (src / "titanxp_32.pt").unlink()
    assert_ingest_fails(NAME, src, home, "titanxp_32.pt", "not found")


def test_missing_arch_map(src, home):
    (src / "str_arch2idx.pt").unlink()
    assert_ingest_fails(NAME, src, home, "str_arch2idx.pt", "not found")


def test_truncated_file(src, home):
    f = src / "gold_6240.pt"
    f.write_bytes(f.read_bytes()[:60_000])
    assert_ingest_fails(NAME, src, home, "gold_6240.pt", "not a torch zip")


def test_corrupt_bytes(src, home):
    f = src / "raspi4.pt"
    data = bytearray(f.read_bytes())
    data[5000:5040] = b"\x00\xff garbage \xfe" * 3 + b"\x00" * 7
    f.write_bytes(bytes(data))
    assert_ingest_fails(NAME, src, home, "raspi4.pt")


def test_short_list(src, home):
    torch_zip(src / "pixel3.pt", pickle.dumps([1.0] * 15_000, protocol=2))
    assert_ingest_fails(NAME, src, home, "pixel3.pt", "15000", "15625")


def test_dict_instead_of_list(src, home):
    torch_zip(src / "fpga.pt", pickle.dumps({i: 1.0 for i in range(SIZE)}, protocol=2))
    assert_ingest_fails(NAME, src, home, "fpga.pt", "dict", "list")


def test_text_instead_of_numbers(src, home):
    torch_zip(src / "eyeriss.pt", pickle.dumps(["1.5"] * SIZE, protocol=2))
    assert_ingest_fails(NAME, src, home, "eyeriss.pt", "numbers")


def test_non_positive_latency(src, home):
    values = [2.0] * SIZE
    values[123] = 0.0
    torch_zip(src / "samsung_s7.pt", pickle.dumps(values, protocol=2))
    assert_ingest_fails(NAME, src, home, "samsung_s7.pt", "index 123")


def test_not_a_zip(src, home):
    (src / "titanx_1.pt").write_bytes(pickle.dumps([1.0] * SIZE))
    assert_ingest_fails(NAME, src, home, "titanx_1.pt", "not a torch zip")


def test_forbidden_class(src, home, tmp_path):
    # A pickle that would run a shell command on load must be refused before it runs.
    marker = tmp_path / "ran"
    payload = f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()
    torch_zip(src / "1080ti_1.pt", payload)
    line = assert_ingest_fails(NAME, src, home, "1080ti_1.pt", "os.system")
    assert "not allow" in line
    assert not marker.exists()


def test_arch_map_in_another_order(src, home):
    mapping = load_torch_plain(src / "str_arch2idx.pt")
    a, b = list(mapping)[:2]
    mapping[a], mapping[b] = mapping[b], mapping[a]
    torch_zip(src / "str_arch2idx.pt", pickle.dumps(mapping, protocol=2))
    assert_ingest_fails(NAME, src, home, "str_arch2idx.pt", a, "official NB201 index")


def test_arch_map_with_unknown_string(src, home):
    mapping = load_torch_plain(src / "str_arch2idx.pt")
    key = next(iter(mapping))
    mapping["|conv_5x5~0|" + key[len("|avg_pool_3x3~0|") :]] = mapping.pop(key)
    torch_zip(src / "str_arch2idx.pt", pickle.dumps(mapping, protocol=2))
    assert_ingest_fails(NAME, src, home, "str_arch2idx.pt", "conv_5x5", "not an NB201 arch")


def test_arch_map_of_wrong_structure(src, home):
    torch_zip(src / "str_arch2idx.pt", pickle.dumps(list(range(SIZE)), protocol=2))
    assert_ingest_fails(NAME, src, home, "str_arch2idx.pt", "list", "dict")
