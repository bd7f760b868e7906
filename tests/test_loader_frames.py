"""Bad inputs for the two NB201 tables pickled as pandas DataFrames: nb201_v1 and nb201_mini.

Both go through ``base.read_frame``; each case runs on each source's real file.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from conftest import assert_ingest_fails, ingested_copy

# name -> (subdir, file, a column name and its misspelling, module os.system pickles as)
FRAMES = {
    "nb201_v1": ("nb201/naswot", "arch_score_acc.pd", b"valid_top1", b"valid_topX", b"os"),
    "nb201_mini": (
        "nb201/mini_nb201",
        "mini-bench-arch-cell-accs.pd",
        b"imagenet-val",
        b"imagenet-vax",
        b"posix",
    ),
}
# the arch string of official index 0 and the same ops on swapped edges
ROW0 = b"|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|"
SWAPPED = b"|nor_conv_1x1~0|+|avg_pool_3x3~0|skip_connect~1|+|nor_conv_1x1~0|"


@pytest.fixture(scope="module", params=list(FRAMES))
def frame(request, tmp_path_factory, shared_data) -> tuple[str, str, bytes, Path]:
    """(source name, file name, its real bytes, a catalog that already holds it once)."""
    name = request.param
    subdir, file = FRAMES[name][:2]
    home = ingested_copy(tmp_path_factory.mktemp(name), name, shared_data / subdir)[1]
    return name, file, (shared_data / subdir / file).read_bytes(), home


def write(tmp_path: Path, file: str, data: bytes) -> Path:
    """A source directory holding only ``file`` with ``data``."""
    src = tmp_path / "src"
    src.mkdir()
    (src / file).write_bytes(data)
    return src


def test_missing_file(frame, tmp_path):
    name, file, _, home = frame
    (tmp_path / "src").mkdir()
    assert_ingest_fails(name, tmp_path / "src", home, file, "file not found")


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda real: real[:100_000], id="truncated_short"),
        pytest.param(lambda real: real[: len(real) // 2], id="truncated_half"),
        pytest.param(lambda real: real[:2] + b"\xff" * 40 + real[42:], id="corrupt_ff"),
        pytest.param(
            lambda real: real[:2] + b"\x00\xfe garbage \xff" * 4 + real[62:], id="corrupt_text"
        ),
    ],
)
def test_unreadable_pickle(frame, tmp_path, damage):
    name, file, real, home = frame
    src = write(tmp_path, file, damage(real))
    assert_ingest_fails(name, src, home, file, "not a readable pickle")


def test_wrong_columns(frame, tmp_path):
    name, file, real, home = frame
    column, misspelt = FRAMES[name][2:4]
    assert real.count(column) >= 1
    src = write(tmp_path, file, real.replace(column, misspelt))
    assert_ingest_fails(name, src, home, file, f"missing column(s) {column.decode()}")


def test_arch_string_disagrees_with_index(frame, tmp_path):
    name, file, real, home = frame
    assert real.count(ROW0) >= 1
    src = write(tmp_path, file, real.replace(ROW0, SWAPPED, 1))
    assert_ingest_fails(name, src, home, file, "arch 0 is cell 0 but cellstr")


def test_forbidden_global_is_refused_not_run(frame, tmp_path):
    name, file, _, home = frame
    module = FRAMES[name][4]
    marker = tmp_path / "ran"
    payload = b"c" + module + b"\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    src = write(tmp_path, file, payload)
    assert_ingest_fails(name, src, home, file, f"{module.decode()}.system", "does not allow")
    assert not marker.exists()


def test_not_a_dataframe(frame, tmp_path):
    name, file, _, home = frame
    src = write(tmp_path, file, pickle.dumps({"arch": list(range(3))}, protocol=4))
    assert_ingest_fails(name, src, home, file, "holds a dict, expected a pandas DataFrame")
