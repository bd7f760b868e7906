"""NAS-Bench-Macro space: keys, the base-3 index and the classes upstream trained once."""

from __future__ import annotations

import numpy as np
import pytest

from nasdb import spaces
from nasdb.errors import UnknownName
from nasdb.spaces.nbmacro import OPS, SIZE, trained_key


@pytest.fixture(scope="module")
def space():
    return spaces.get("nbmacro")


def test_index_is_the_key_read_in_base_3(space):
    assert SIZE == 6_561 == space.size
    assert space.index("00000000") == 0
    assert space.index("00000001") == 1
    assert space.index("22222222") == SIZE - 1
    assert space.index("02012100") == int("02012100", 3) == 1602
    assert space.arch_id(1602) == "02012100"
    ids = space.arch_ids(np.arange(SIZE))
    assert len(set(ids)) == SIZE and [space.index(k) for k in ids[::37]] == list(range(0, SIZE, 37))


def test_other_spellings(space):
    assert space.index(1602) == space.index("1602") == 1602
    assert space.index((0, 2, 0, 1, 2, 1, 0, 0)) == 1602
    names = tuple(OPS[int(c)] for c in "02012100")
    assert space.index(names) == 1602
    assert space.is_one(names) and space.is_one((0, 2, 0, 1, 2, 1, 0, 0))
    assert list(space.indices(["02012100", "22222222"])) == [1602, SIZE - 1]


@pytest.mark.parametrize(
    "bad", ["02012103", "0201210", "mb3", SIZE, -1, (0, 1, 2, 3, 0, 0, 0, 0), ("conv",) * 8]
)
def test_bad_architectures(space, bad):
    with pytest.raises(UnknownName, match="nbmacro"):
        space.index(bad)


def test_trained_key_moves_later_identities_of_each_stage_last():
    # stages are layers 0-1, 2-4, 5-7; a stage's first layer downsamples and stays put
    assert trained_key("00000000") == "00000000"
    assert trained_key("02012100") == "02012100"
    assert trained_key("00001001") == "00010010"
    assert trained_key("10102012") == "10120012"
    assert trained_key("01000000") == "01000000"  # a 2-layer stage has nothing to move


def test_iso_classes(space):
    iso = space.iso_ids
    assert len(set(iso.tolist())) == 3_969  # 9 x 21 x 21 trained networks
    assert all(trained_key(k) == k for k in set(iso.tolist()))
    assert iso[space.index("00001001")] == "00010010"


def test_architectures_and_describe(space):
    rows = space.architectures(np.array([0, 1602]))
    assert rows["arch_id"] == ["00000000", "02012100"]
    assert rows["encoding"][1].split(",")[:3] == ["identity", "mb6_k5", "identity"]
    described = space.describe(space.index("10102012"))
    assert described["key"] == "10102012" and described["trained_as"] == "10120012"
    assert "downsamples" in described["layers"][2] and "mb3_k3" in described["layers"][0]
