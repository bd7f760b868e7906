"""HELP latency loader: its index map agrees with ours; bad torch files fail cleanly."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from conftest import loader_check, source_db
from nasdb.loaders import help_latency as hl
from nasdb.loaders import hw_nas_bench_csv as hw
from nasdb.loaders.base import read_csv
from nasdb.loaders.nb201_keys import tuple_indices

from nasdb import spaces
from nasdb.safe_pickle import load_torch_plain
from nasdb.testing.loaders import torch_zip

NAME = "nb201_help"
SIZE = 15_625


checked = loader_check(NAME)
db = source_db()


def test_arch_map_agrees_with_our_official_index(checked):
    source = checked.source
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


def test_hw_nas_bench_devices_are_its_cifar10_columns(shared_data, checked):
    source = checked.source
    # Why the task is cifar10: these four settings are HW-NAS-Bench's CIFAR-10 columns.
    f = shared_data / hw.SOURCE.subdir / "hw_cifar10.csv"
    t = read_csv(f, ["net", "pixel3_latency", "raspi4_latency", "eyeriss_latency"])
    index = tuple_indices(t.column("net"), f, "net")
    for device in ("pixel3", "raspi4", "eyeriss"):
        ours = np.empty(SIZE)
        ours[index] = t.column(f"{device}_latency").to_numpy()
        assert np.array_equal(hl.latencies(source / f"{device}.pt"), ours)


def test_hardware_embedding_index_is_not_needed(checked, tmp_path):
    source = checked.source
    refs = load_torch_plain(source / "hardware_embedding_index.pt")
    assert len(refs) == len(set(refs)) == 10 and all(0 <= i < SIZE for i in refs)
    for f in hl.SOURCE.files:
        (tmp_path / f).symlink_to(source / f)
    assert not (tmp_path / "hardware_embedding_index.pt").exists()
    assert hl.read(tmp_path).evaluations.num_rows == 27 * SIZE


def pickled(name: str, obj) -> tuple[str, object]:
    """``fails`` arguments that replace ``name`` with a torch file holding ``obj``."""
    return name, lambda path: path.write_bytes(torch_zip(pickle.dumps(obj, protocol=2)))


def test_missing_latency_file(checked):
    checked.fails("titanxp_32.pt", Path.unlink, "titanxp_32.pt", "not found")


def test_short_list(checked):
    checked.fails(*pickled("pixel3.pt", [1.0] * 15_000), "pixel3.pt", "15000", "15625")


def test_dict_instead_of_list(checked):
    checked.fails(*pickled("fpga.pt", {i: 1.0 for i in range(SIZE)}), "fpga.pt", "dict", "list")


def test_text_instead_of_numbers(checked):
    checked.fails(*pickled("eyeriss.pt", ["1.5"] * SIZE), "eyeriss.pt", "numbers")


def test_non_positive_latency(checked):
    values = [2.0] * SIZE
    values[123] = 0.0
    checked.fails(*pickled("samsung_s7.pt", values), "samsung_s7.pt", "index 123")


def test_not_a_zip(checked):
    plain = pickle.dumps([1.0] * SIZE)
    checked.fails("titanx_1.pt", lambda f: f.write_bytes(plain), "titanx_1.pt", "not a torch zip")


def test_arch_map_in_another_order(checked):
    source = checked.source
    mapping = load_torch_plain(source / "str_arch2idx.pt")
    a, b = list(mapping)[:2]
    mapping[a], mapping[b] = mapping[b], mapping[a]
    checked.fails(*pickled("str_arch2idx.pt", mapping), "str_arch2idx.pt", a, "official NB201")


def test_arch_map_with_unknown_string(checked):
    source = checked.source
    mapping = load_torch_plain(source / "str_arch2idx.pt")
    key = next(iter(mapping))
    mapping["|conv_5x5~0|" + key[len("|avg_pool_3x3~0|") :]] = mapping.pop(key)
    checked.fails(*pickled("str_arch2idx.pt", mapping), "conv_5x5", "not an NB201 arch")


def test_arch_map_of_wrong_structure(checked):
    checked.fails(*pickled("str_arch2idx.pt", list(range(SIZE))), "str_arch2idx.pt", "list", "dict")
