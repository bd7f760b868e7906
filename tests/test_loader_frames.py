"""The two NB201 tables pickled as pandas DataFrames, nb201_v1 and nb201_mini, through the
loader kit, and the bad inputs of their shared reader ``base.read_frame``."""

from __future__ import annotations

import pytest

from nasdb.testing import check_loader

# name -> (file, a column name and its misspelling)
FRAMES = {
    "nb201_v1": ("arch_score_acc.pd", b"valid_top1", b"valid_topX"),
    "nb201_mini": ("mini-bench-arch-cell-accs.pd", b"imagenet-val", b"imagenet-vax"),
}
# the arch string of official index 0 and the same ops on swapped edges
ROW0 = b"|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|"
SWAPPED = b"|nor_conv_1x1~0|+|avg_pool_3x3~0|skip_connect~1|+|nor_conv_1x1~0|"


@pytest.fixture(scope="module", params=list(FRAMES))
def checked(request, tmp_path_factory, shared_data):
    name = request.param
    return check_loader(name, shared_data, tmp_path_factory.mktemp(name))


def replaced(old: bytes, new: bytes):
    def edit(path):
        real = path.read_bytes()
        assert real.count(old) >= 1
        path.write_bytes(real.replace(old, new, 1))

    return edit


def test_wrong_columns(checked):
    file, column, misspelt = FRAMES[checked.name]
    checked.fails(file, replaced(column, misspelt), file, f"missing column(s) {column.decode()}")


def test_arch_string_disagrees_with_index(checked):
    file = FRAMES[checked.name][0]
    checked.fails(file, replaced(ROW0, SWAPPED), file, "arch 0 is cell 0 but cellstr")
