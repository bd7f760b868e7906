"""TransNAS-Bench-101 micro space: TransNAS's own order, arch strings, op tuples, classes."""

from __future__ import annotations

import numpy as np
import pytest

from nasdb import spaces
from nasdb.errors import UnknownName
from nasdb.spaces.tnb101 import SIZE, digits, index_of_digits


@pytest.fixture(scope="module")
def space():
    return spaces.get("tnb101_micro")


def test_order_is_the_digits_in_base_4(space):
    assert SIZE == 4_096 == space.size
    assert space.index("64-41414-0_00_000") == 0
    assert space.index("64-41414-0_00_001") == 1
    assert space.index("64-41414-3_33_333") == SIZE - 1
    # the README's example cell: skip; none + conv1x1; three conv3x3
    assert space.index("64-41414-1_02_333") == int("102333", 4) == 1215
    assert space.arch_id(1215) == "64-41414-1_02_333"
    assert np.array_equal(index_of_digits(digits(np.arange(SIZE))), np.arange(SIZE))


def test_other_spellings(space):
    assert space.index("1_02_333") == space.index((1, 0, 2, 3, 3, 3)) == 1215
    assert space.index("(1, 0, 2, 3, 3, 3)") == space.index("1215") == space.index(1215)
    assert space.is_one((1, 0, 2, 3, 3, 3))
    assert list(space.indices([(0, 0, 0, 0, 0, 1), "3_33_333"])) == [1, SIZE - 1]


@pytest.mark.parametrize(
    "bad", ["64-41414-1_02_334", "64-1234-basic", "1_2_333", (1, 0, 2, 3, 3, 4), SIZE, -1]
)
def test_bad_architectures(space, bad):
    with pytest.raises(UnknownName, match="tnb101_micro"):
        space.index(bad)


def test_iso_classes(space):
    iso = space.iso_ids
    assert np.all(iso <= np.arange(SIZE)) and np.all(iso[iso] == iso)
    # nothing reaches the output: every such cell is the all-none cell
    assert iso[space.index("1_10_000")] == 0 and iso[space.index("3_33_000")] == 0
    # the two inputs of node 2 are summed, so their order does not matter
    assert iso[space.index("1_21_003")] == iso[space.index("1_12_003")]
    # conv1x1 and conv3x3 are different functions
    assert iso[space.index("0_00_200")] != iso[space.index("0_00_300")]
    assert len(np.unique(iso)) == 1_236


def test_architectures_and_describe(space):
    rows = space.architectures(np.array([1215]))
    assert rows["arch_id"] == ["64-41414-1_02_333"]
    assert rows["encoding"][0].startswith("skip_connect~0->1|none~0->2|conv_1x1~1->2|")
    described = space.describe(1215)
    assert described["op_tuple"] == (1, 0, 2, 3, 3, 3)
    assert described["edges"][2] == "1->2: conv_1x1"
