"""Accel-NASBench space: space codes, the dense index over the measured networks, spellings."""

from __future__ import annotations

import numpy as np
import pytest

from nasdb import spaces
from nasdb.errors import UnknownName
from nasdb.spaces.accel import (
    CONFIG_KEYS,
    FULL_SIZE,
    block_values,
    code_of,
    code_of_config,
    codes_of_rows,
    decode,
    parse,
    spell,
)

FIRST = "e1k3l1-e1k3l1-e1k5l2-e6k5l2-e6k5l2-e1k5l3-e6k3l2"
B0 = "e1k3l1se-e6k3l2se-e6k5l2se-e6k3l3se-e6k5l3se-e6k5l4se-e6k3l1se"  # EfficientNet-B0


@pytest.fixture(scope="module")
def space():
    return spaces.get("accel")


def test_full_space_size():
    # 3 expansions x 2 kernels x 3 depths x 2 SE per block, 4 depths in block 5
    assert FULL_SIZE == 36**6 * 48 == 104_485_552_128


def test_codes_round_trip():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, FULL_SIZE, 500)
    for code, digits in zip(codes, decode(codes), strict=True):
        assert parse(spell(digits)) == code
    b0 = [(1, 3, 1), (6, 3, 2), (6, 5, 2), (6, 3, 3), (6, 5, 3), (6, 5, 4), (6, 3, 1)]
    assert parse(B0) == code_of([(*block, True) for block in b0])


def test_dense_index_is_the_rank_of_the_code(space):
    assert space.size == 5_125
    assert np.all(np.diff(space.codes) > 0)
    assert space.arch_id(0) == FIRST and space.index(FIRST) == 0
    ids = space.arch_ids(np.arange(space.size))
    assert len(set(ids)) == space.size
    assert [space.index(i) for i in ids[::101]] == list(range(0, space.size, 101))
    assert np.array_equal(space.index_of_codes(space.codes), np.arange(space.size))
    assert space.index_of_codes(np.array([space.codes[0] + 1]))[0] == -1


def test_upstream_spellings(space):
    blocks = block_values(decode(space.codes[7:8])[0])
    config = {
        f"block{b}_{field}": value
        for b, values in enumerate(blocks)
        for field, value in zip(("e", "k", "l", "se"), values, strict=True)
    }
    assert space.index(config) == 7 and space.is_one(config)
    manual = [[v[i] for v in blocks] for i in range(4)]  # upstream manual_sample form
    assert space.index(manual) == 7 and space.is_one(manual)
    assert space.index("7") == 7
    assert codes_of_rows([[config[k] for k in CONFIG_KEYS]])[0] == space.codes[7]


def test_network_in_the_space_but_not_measured(space):
    code = parse(B0)
    assert space.index_of_codes(np.array([code]))[0] == -1
    with pytest.raises(UnknownName, match="not one of the 5,125"):
        space.index(B0)


@pytest.mark.parametrize(
    "bad",
    [
        "e1k3l1",  # too few blocks
        FIRST.replace("e1k3l1", "e2k3l1", 1),  # expansion 2 is no choice
        FIRST.replace("l2", "l4", 1),  # four layers only in block 5
        "not-an-arch",
        5_125,
        -1,
    ],
)
def test_bad_spellings(space, bad):
    with pytest.raises(UnknownName, match="accel"):
        space.index(bad)


def test_config_checks_types():
    config = {k: {"e": 1, "k": 3, "l": 1, "se": False}[k.split("_")[1]] for k in CONFIG_KEYS}
    assert code_of_config(config) == 0
    with pytest.raises(UnknownName, match="block0_se"):
        code_of_config({**config, "block0_se": 0})
    with pytest.raises(UnknownName, match="block3_e"):
        code_of_config({**config, "block3_e": True})
    with pytest.raises(UnknownName, match="keys"):
        code_of_config({k: v for k, v in config.items() if k != "block6_l"})
    rows = [[config[k] for k in CONFIG_KEYS]]
    assert codes_of_rows(rows)[0] == code_of_config(config)
    rows[0][3] = 1  # an int where a flag belongs
    assert codes_of_rows(rows) is None


def test_describe(space):
    described = space.describe(0)
    assert described["arch_id"] == FIRST
    assert described["blocks"][0].startswith("0: expansion 1, kernel 3x3, 1 layer(s), SE no")
    assert "stride 2, 112->192 channels" in described["blocks"][5]
    assert space.architectures(np.array([0]))["iso_id"] == [FIRST]
