"""HELP's TransNAS-Bench-101 files: cell order, the repeated task prefixes, every bad input."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from conftest import loader_check, source_db
from nasdb.loaders import help_transnas as loader

from nasdb.safe_pickle import NUMPY_ARRAYS, load_torch_plain
from nasdb.spaces.tnb101 import TASKS, digits
from nasdb.testing.loaders import torch_zip

NAME = "tnb101_help"
SIZE = 4_096


checked = loader_check(NAME)
db = source_db()


def saved(change):
    """An edit that rewrites a torch file with ``change(what it holds)``."""

    def edit(path) -> None:
        old = load_torch_plain(path, NUMPY_ARRAYS) if path.exists() else None
        path.write_bytes(torch_zip(pickle.dumps(change(old), protocol=2)))

    return edit


def cells(change):
    """An edit of the architecture file's list of cells, changed in place by ``change``."""

    def apply(old):
        change(old)
        return old

    return saved(apply)


def test_cells_are_in_transnas_order(checked):
    source = checked.source
    assert np.array_equal(loader.cell_indices(source / loader.ARCHITECTURES), np.arange(SIZE))


def test_each_task_file_repeats_the_earlier_ones(checked):
    source = checked.source
    lengths = [len(load_torch_plain(source / "latency" / f"{t}.pt")) for t in TASKS]
    assert lengths == [SIZE * (k + 1) for k in range(len(TASKS))]


def test_every_task_has_every_cell(db):
    query = (
        "SELECT task, device, unit, fidelity, count(DISTINCT arch_index), count(*) "
        "FROM evaluations WHERE source = 'tnb101_help' GROUP BY ALL"
    )
    rows = {r[0]: r[1:] for r in db.sql(query).fetchall()}
    assert rows == {task: ("gpu", "ms", None, SIZE, SIZE) for task in TASKS}


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


def test_forbidden_class_in_a_latency_file(checked):
    # latency files hold plain floats: not even numpy is allowed there
    checked.fails("latency/room_layout.pt", saved(lambda old: list(np.ones(3 * SIZE))),
                  "room_layout.pt", "numpy", "not allow")  # fmt: skip


def test_dict_instead_of_list(checked):
    checked.fails("latency/class_object.pt", saved(lambda old: {i: 1.0 for i in range(2 * SIZE)}),
                  "class_object.pt", "dict", "list")  # fmt: skip


def test_own_part_missing(checked):
    checked.fails("latency/segmentsemantic.pt", saved(lambda old: old[:-100]),
                  "segmentsemantic.pt", "20,380", "20,480")  # fmt: skip


def test_prefix_that_is_not_the_earlier_tasks(checked):
    def change(values):
        values[5] += 1.0  # inside the repeated class_scene part
        return values

    checked.fails("latency/autoencoder.pt", saved(change),
                  "autoencoder.pt", "entry 5", "repeat the tasks before")  # fmt: skip


def test_non_positive_latency(checked):
    def change(values):
        values[77] = 0.0
        return values

    checked.fails("latency/class_scene.pt", saved(change), "class_scene.pt", "entry 77", "positive")


def test_text_instead_of_numbers(checked):
    checked.fails("latency/class_scene.pt", saved(lambda old: ["4.5"] * SIZE),
                  "class_scene.pt", "numbers")  # fmt: skip


def test_other_adjacency(checked):
    def change(c):
        c[10]["adjacency_matrix"] = np.zeros((8, 8), dtype=np.float32)

    checked.fails(loader.ARCHITECTURES, cells(change), "cell 10", "adjacency")


def test_ops_not_one_hot(checked):
    def change(c):
        c[11]["operation"][3, :] = 0

    checked.fails(loader.ARCHITECTURES, cells(change), "cell 11", "one-hot")


def test_cell_listed_twice(checked):
    checked.fails(loader.ARCHITECTURES, cells(lambda c: c.__setitem__(12, c[13])),
                  loader.ARCHITECTURES, "exactly once")  # fmt: skip


def test_cells_of_wrong_structure(checked):
    checked.fails(loader.ARCHITECTURES, saved(lambda old: [np.zeros((8, 8), np.float32)] * SIZE),
                  "cell 0", "adjacency_matrix")  # fmt: skip


def test_too_few_cells(checked):
    checked.fails(loader.ARCHITECTURES, saved(lambda old: old[:4000]), "4,000 cells", "4,096")
