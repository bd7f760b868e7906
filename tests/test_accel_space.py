"""Accel-NASBench space: space codes as the index, spellings, upstream forms."""

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


def test_index_is_the_space_code(space):
    assert space.size == FULL_SIZE
    assert space.arch_id(0) == "-".join(["e1k3l1"] * 7)
    assert space.arch_id(FULL_SIZE - 1).endswith("e6k5l4se-e6k5l3se")
    assert space.index(FIRST) == parse(FIRST) and space.arch_id(parse(FIRST)) == FIRST
    codes = np.random.default_rng(1).integers(0, FULL_SIZE, 2_000)
    ids = space.arch_ids(codes)
    assert ids == [spell(d) for d in decode(codes)]
    assert np.array_equal(space.indices(ids), codes)
    assert space.architectures(codes[:3])["iso_id"] == ids[:3]
    with pytest.raises(UnknownName, match="accel"):
        space.arch_ids(np.array([0, FULL_SIZE]))


def test_upstream_spellings(space):
    code = parse(FIRST)
    blocks = block_values(decode(np.array([code]))[0])
    config = {
        f"block{b}_{field}": value
        for b, values in enumerate(blocks)
        for field, value in zip(("e", "k", "l", "se"), values, strict=True)
    }
    assert space.index(config) == code and space.is_one(config)
    manual = [[v[i] for v in blocks] for i in range(4)]  # upstream manual_sample form
    assert space.index(manual) == code and space.is_one(manual)
    assert space.index(str(code)) == code
    assert codes_of_rows([[config[k] for k in CONFIG_KEYS]])[0] == code


def test_every_network_of_the_space_has_an_index(space):
    # EfficientNet-B0 is not among the networks Accel-NASBench measured, yet in the space
    assert space.index(B0) == parse(B0)
    assert space.describe(B0)["arch_id"] == B0


@pytest.mark.parametrize(
    "bad",
    [
        "e1k3l1",  # too few blocks
        FIRST.replace("e1k3l1", "e2k3l1", 1),  # expansion 2 is no choice
        FIRST.replace("l2", "l4", 1),  # four layers only in block 5
        "not-an-arch",
        FULL_SIZE,
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
    described = space.describe(FIRST)
    assert described["index"] == parse(FIRST) and described["arch_id"] == FIRST
    assert described["blocks"][0].startswith("0: expansion 1, kernel 3x3, 1 layer(s), SE no")
    assert "stride 2, 112->192 channels" in described["blocks"][5]
    assert space.architectures(np.array([parse(FIRST)]))["iso_id"] == [FIRST]
