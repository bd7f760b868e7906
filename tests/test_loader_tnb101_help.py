"""HELP's TransNAS-Bench-101 files: cell order, the repeated task prefixes, every bad input."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from conftest import assert_ingest_fails, copy_fixtures
from nasdb.loaders import help_transnas as loader
from test_loader_help import torch_zip

from nasdb import connect
from nasdb.safe_pickle import NUMPY_ARRAYS, load_torch_plain
from nasdb.spaces.tnb101 import TASKS, digits

NAME = "tnb101_help"
SIZE = 4_096


@pytest.fixture(scope="module")
def source(shared_data):
    return shared_data / loader.SOURCE.subdir


home, src = copy_fixtures(NAME, loader.SOURCE.subdir)


@pytest.fixture(scope="module")
def db(home):
    return connect(home)


def _cells(src):
    return load_torch_plain(src / loader.ARCHITECTURES, NUMPY_ARRAYS)


def _save(path, obj) -> None:
    torch_zip(path, pickle.dumps(obj, protocol=2))


def test_cells_are_in_transnas_order(source):
    assert np.array_equal(loader.cell_indices(source / loader.ARCHITECTURES), np.arange(SIZE))


def test_each_task_file_repeats_the_earlier_ones(source):
    lengths = [len(load_torch_plain(source / "latency" / f"{t}.pt")) for t in TASKS]
    assert lengths == [SIZE * (k + 1) for k in range(len(TASKS))]


def test_every_task_has_every_cell(db):
    rows = db.sql(
        "SELECT task, device, unit, fidelity, count(DISTINCT arch_index), count(*) "
        "FROM evaluations WHERE source = 'tnb101_help' GROUP BY ALL ORDER BY task"
    ).fetchall()
    assert [r[0] for r in rows] == sorted(TASKS)
    assert all(r[1:] == ("gpu", "ms", None, SIZE, SIZE) for r in rows)


def test_known_latencies(db):
    none = db.lookup("tnb101_micro", 0, task="class_scene", metric="latency")[0]
    assert none == pytest.approx(4.46239709854126)
    medians = dict(
        db.sql(
            "SELECT task, median(value) FROM evaluations WHERE source = 'tnb101_help' GROUP BY task"
        ).fetchall()
    )
    assert max(medians, key=medians.get) == "jigsaw"  # nine tiles through the encoder
    # op digits 0-3 are none, skip, conv1x1, conv3x3: cells rich in a costlier op are slower
    ops = digits(np.arange(SIZE))
    for task in TASKS:
        lat = db.lookup("tnb101_micro", np.arange(SIZE), task=task, metric="latency")
        means = [lat[(ops == op).sum(axis=1) >= 3].mean() for op in range(4)]
        assert means == sorted(means), task


def test_missing_latency_file(src, home):
    (src / "latency" / "normal.pt").unlink()
    assert_ingest_fails(NAME, src, home, "normal.pt", "not found")


def test_missing_architecture_file(src, home):
    (src / loader.ARCHITECTURES).unlink()
    assert_ingest_fails(NAME, src, home, loader.ARCHITECTURES, "not found")


def test_truncated_file(src, home):
    f = src / loader.ARCHITECTURES
    f.write_bytes(f.read_bytes()[:1_000_000])
    assert_ingest_fails(NAME, src, home, loader.ARCHITECTURES, "not a torch zip")


def test_corrupt_bytes(src, home):
    f = src / "latency" / "jigsaw.pt"
    data = bytearray(f.read_bytes())
    data[5000:5040] = b"\x00\xff garbage \xfe" * 3 + b"\x00" * 7
    f.write_bytes(bytes(data))
    assert_ingest_fails(NAME, src, home, "jigsaw.pt")


def test_not_a_zip(src, home):
    (src / "latency" / "class_scene.pt").write_bytes(pickle.dumps([1.0] * SIZE))
    assert_ingest_fails(NAME, src, home, "class_scene.pt", "not a torch zip")


def test_forbidden_class(src, home, tmp_path):
    marker = tmp_path / "ran"
    torch_zip(src / loader.ARCHITECTURES, f"cos\nsystem\n(S'touch {marker}'\ntR.".encode())
    line = assert_ingest_fails(NAME, src, home, loader.ARCHITECTURES, "os.system", "not allow")
    assert "architecture.pt" in line and not marker.exists()


def test_forbidden_class_in_a_latency_file(src, home):
    # latency files hold plain floats: not even numpy is allowed there
    _save(src / "latency" / "room_layout.pt", list(np.ones(3 * SIZE)))
    assert_ingest_fails(NAME, src, home, "room_layout.pt", "numpy", "not allow")


def test_dict_instead_of_list(src, home):
    _save(src / "latency" / "class_object.pt", {i: 1.0 for i in range(2 * SIZE)})
    assert_ingest_fails(NAME, src, home, "class_object.pt", "dict", "list")


def test_own_part_missing(src, home):
    f = src / "latency" / "segmentsemantic.pt"
    _save(f, load_torch_plain(f)[:-100])
    assert_ingest_fails(NAME, src, home, "segmentsemantic.pt", "20,380", "20,480")


def test_prefix_that_is_not_the_earlier_tasks(src, home):
    f = src / "latency" / "autoencoder.pt"
    values = load_torch_plain(f)
    values[5] += 1.0  # inside the repeated class_scene part
    _save(f, values)
    assert_ingest_fails(NAME, src, home, "autoencoder.pt", "entry 5", "repeat the tasks before")


def test_non_positive_latency(src, home):
    f = src / "latency" / "class_scene.pt"
    values = load_torch_plain(f)
    values[77] = 0.0
    _save(f, values)
    assert_ingest_fails(NAME, src, home, "class_scene.pt", "entry 77", "positive")


def test_text_instead_of_numbers(src, home):
    _save(src / "latency" / "class_scene.pt", ["4.5"] * SIZE)
    assert_ingest_fails(NAME, src, home, "class_scene.pt", "numbers")


def test_other_adjacency(src, home):
    cells = _cells(src)
    cells[10]["adjacency_matrix"] = np.zeros((8, 8), dtype=np.float32)
    _save(src / loader.ARCHITECTURES, cells)
    assert_ingest_fails(NAME, src, home, "cell 10", "adjacency")


def test_ops_not_one_hot(src, home):
    cells = _cells(src)
    cells[11]["operation"][3, :] = 0
    _save(src / loader.ARCHITECTURES, cells)
    assert_ingest_fails(NAME, src, home, "cell 11", "one-hot")


def test_cell_listed_twice(src, home):
    cells = _cells(src)
    cells[12] = cells[13]
    _save(src / loader.ARCHITECTURES, cells)
    assert_ingest_fails(NAME, src, home, loader.ARCHITECTURES, "exactly once")


def test_cells_of_wrong_structure(src, home):
    _save(src / loader.ARCHITECTURES, [np.zeros((8, 8), dtype=np.float32)] * SIZE)
    assert_ingest_fails(NAME, src, home, "cell 0", "adjacency_matrix")


def test_too_few_cells(src, home):
    _save(src / loader.ARCHITECTURES, _cells(src)[:4000])
    assert_ingest_fails(NAME, src, home, "4,000 cells", "4,096")
