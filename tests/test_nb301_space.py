"""The NAS-Bench-301 / DARTS space: encodings, the dense canonical index, iso classes."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

from nasdb import spaces
from nasdb.errors import UnknownName
from nasdb.spaces.nb301 import (
    CELL_SIZE,
    NODES,
    OPS,
    PAIRS,
    SIZE,
    YAHPO_NAMES,
    Genotype,
    NB301Space,
)

S: NB301Space = spaces.get("nb301")
# DARTS (second order), as published in the DARTS repository's genotypes.py.
DARTS_V2 = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
    "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=range(2, 6))"
)


@pytest.fixture(scope="module")
def sample() -> np.ndarray:
    return S.sample(np.random.default_rng(301), 3000)


def test_size_is_the_published_ten_to_the_eighteen():
    assert CELL_SIZE == 49 * (3 * 49) * (6 * 49) * (10 * 49) == 1_037_664_180
    assert SIZE == CELL_SIZE**2 == 1_076_746_950_455_072_400  # ~1e18, as NAS-Bench-301 says
    assert SIZE < 2**63 and S.size == SIZE
    assert [len(p) for p in PAIRS] == [1, 3, 6, 10]


def test_index_ends_decode():
    first, last = S.genotype(0), S.genotype(SIZE - 1)
    assert (
        first.normal == [("max_pool_3x3", 0), ("max_pool_3x3", 1)] * 4
        and first.reduce
        == [
            ("max_pool_3x3", 0),
            ("max_pool_3x3", 1),
        ]
        * 4
    )
    assert last.normal[-2:] == [("dil_conv_5x5", 3), ("dil_conv_5x5", 4)]
    assert S.index(first) == 0 and S.index(last) == SIZE - 1


def test_round_trips(sample):
    compact = S.compact(sample)
    assert compact.shape == (len(sample), 2, 8, 2)
    assert np.array_equal(S.indices(compact), sample)
    assert np.array_equal(S.indices(S.yahpo_codes(sample)), sample)
    strings = S.genotype_strings(sample[:200])
    for i, text in zip(sample[:200].tolist(), strings, strict=True):
        g = S.genotype(i)
        assert repr(g) == text and S.index(text) == i and S.index(g) == i
        assert S.index(S.naslib_string(i)) == i and S.index(S.config(i)) == i
        assert S.index(str(i)) == i and S.arch_id(i) == str(i)
        assert S.index(tuple(S.yahpo_codes([i])[0].tolist())) == i
    assert S.indices(strings).tolist() == sample[:200].tolist()


def test_darts_v2_genotype():
    i = S.index(DARTS_V2)
    g = S.genotype(i)
    # canonical form: node 5 reads (0, 2), written (skip 0, dil 2) upstream as well
    assert g.normal[:2] == [("sep_conv_3x3", 0), ("sep_conv_3x3", 1)]
    assert g.normal[4:6] == [("skip_connect", 0), ("sep_conv_3x3", 1)]  # sorted by input
    assert g.reduce[2:4] == [("max_pool_3x3", 1), ("skip_connect", 2)]
    assert g.normal_concat == g.reduce_concat == [2, 3, 4, 5]
    assert S.describe(i)["genotype"] == repr(g)
    cfg = S.config(i)
    assert cfg["NetworkSelectorDatasetInfo:darts:inputs_node_normal_5"] == "0_2"
    assert cfg["NetworkSelectorDatasetInfo:darts:edge_normal_11"] == "dil_conv_3x3"  # 9 + 2


def test_canonical_id_ignores_edge_order_within_a_node(sample):
    rng = np.random.default_rng(0)
    compact = S.compact(sample)
    shuffled = compact.copy()
    swap = rng.random((len(sample), 2, NODES)) < 0.5
    for x in range(2):
        for k in range(NODES):
            rows = swap[:, x, k]
            a, b = shuffled[rows, x, 2 * k].copy(), shuffled[rows, x, 2 * k + 1].copy()
            shuffled[rows, x, 2 * k], shuffled[rows, x, 2 * k + 1] = b, a
    assert (shuffled != compact).any()
    assert np.array_equal(S.indices(shuffled), sample)
    g = S.genotype(int(sample[0]))
    flipped = Genotype([g.normal[j ^ 1] for j in range(8)], range(2, 6), g.reduce, [2, 3, 4, 5])
    assert S.index(flipped) == sample[0]


def test_yahpo_codes_follow_encoding_v2_layout():
    codes = S.yahpo_codes([S.index(DARTS_V2)])[0]
    assert len(codes) == len(YAHPO_NAMES) == 34
    # alphabetical op codes from 1: sep_conv_3x3 = 5, skip_connect = 7, max_pool_3x3 = 4
    assert codes[:2].tolist() == [5, 5]
    assert (codes[:28] > 0).sum() == 16  # 8 active edges per cell
    # normal nodes 3-5 read 0_1, 0_1, 0_2; reduce nodes read 1_2, 0_2, 1_2
    assert codes[28:].tolist() == [1, 1, 2, 3, 2, 5]


def test_sample_is_uniform_over_first_node_ops(sample):
    ops = S.compact(sample)[:, 0, 0, 1]
    counts = np.bincount(ops, minlength=len(OPS))
    assert counts.min() > 0.8 * len(sample) / 7 and counts.max() < 1.2 * len(sample) / 7


def test_neighbours_and_mutation(sample):
    i = int(sample[0])
    nb = S.neighbours(i)
    assert len(nb) == len(set(nb.tolist())) == 120 and i not in nb
    base = S.compact(np.array([i]))[0]
    for j in nb[:40]:
        c = S.compact(np.array([j]))[0]
        changed = [
            not np.array_equal(c[x, 2 * k : 2 * k + 2], base[x, 2 * k : 2 * k + 2])
            for x in range(2)
            for k in range(NODES)
        ]
        assert sum(changed) == 1  # one node of one cell differs
    rng = np.random.default_rng(1)
    assert all(S.mutate(i, rng) in set(nb.tolist()) for _ in range(20))


def test_iso_classes(sample):
    iso = S.iso_indices(sample)
    assert (iso <= sample).all() and np.array_equal(S.iso_indices(iso), iso)
    # swapping nodes 2 and 3 when node 3 does not read node 2 is the same cell
    a = [[(0, 3), (1, 4), (0, 5), (1, 2), (2, 0), (3, 1), (4, 6), (0, 6)]] * 2
    b = [[(0, 5), (1, 2), (0, 3), (1, 4), (3, 0), (2, 1), (4, 6), (0, 6)], a[0]]
    assert S.index(a) != S.index(b)
    assert S.iso_indices([S.index(a)]) == S.iso_indices([S.index(b)])
    # a chain (each node reads the one before) has no other numbering: its own class
    c = [[(0, 3), (1, 4), (0, 5), (2, 2), (0, 0), (3, 1), (0, 6), (4, 6)]] * 2
    assert S.iso_indices([S.index(c)])[0] == S.index(c)
    arch = S.architectures(sample[:5])
    assert arch["arch_id"] == [str(i) for i in sample[:5]]
    assert arch["iso_id"] == [str(i) for i in iso[:5]]


def _iso_cell_classes(num_ops: int) -> Fraction:
    """Cells up to node renumbering, counted exactly: sum over labelled cells of
    |automorphisms| / |valid renumberings|, grouped by topology."""
    total = Fraction(0)
    for pairs in itertools.product(*PAIRS[1:]):
        edges = [(i, k + 2) for k, pr in enumerate([(0, 1), *pairs]) for i in pr]
        valid, fixed = 0, 0
        for perm in itertools.permutations(range(NODES)):
            label = [0, 1, *(p + 2 for p in perm)]
            moved = [(label[i], label[n]) for i, n in edges]
            if not all(i < n for i, n in moved):
                continue
            valid += 1
            if sorted(moved) == sorted(edges):
                where = {e: j for j, e in enumerate(edges)}
                image = [where[e] for e in moved]
                seen, cycles = set(), 0
                for s in range(len(edges)):
                    if s not in seen:
                        cycles += 1
                        while s not in seen:
                            seen.add(s)
                            s = image[s]
                fixed += num_ops**cycles
        total += Fraction(fixed, valid)
    return total


def test_iso_class_count_matches_brute_force_with_two_ops():
    rows = []
    for pairs in itertools.product(*PAIRS[1:]):
        inputs = [i for pr in [(0, 1), *pairs] for i in pr]
        for ops in itertools.product(range(2), repeat=8):
            rows.append(list(zip(inputs, ops, strict=True)))
    cells = np.array(rows)
    index = S.indices(np.stack([cells, cells], axis=1))
    classes = len(np.unique(S.iso_indices(index) // CELL_SIZE))
    assert classes == _iso_cell_classes(2) == 17_531
    # with the 7 ops: 382,128,166 classes per cell (36.8 % of the cells), squared overall
    assert _iso_cell_classes(7) == 382_128_166


@pytest.mark.parametrize(
    "arch, needle",
    [
        (SIZE, "outside"),
        (-1, "outside"),
        ("Genotype(normal=[('none', 0)], reduce=[])", "must list 8"),
        (DARTS_V2.replace("('dil_conv_3x3', 2)", "('none', 2)"), "'none' is not in"),
        (DARTS_V2.replace("('dil_conv_3x3', 2)", "('conv_7x1_1x7', 2)"), "unknown op"),
        (DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"), "may read only"),
        (DARTS_V2.replace("('skip_connect', 0), ('dil", "('skip_connect', 2), ('dil"), "twice"),
        (DARTS_V2.replace("reduce_concat=range(2, 6)", "reduce_concat=[4, 5]"), "concatenates"),
        ("[[(0, 1)] * 8, []]", "neither"),
        ("no genotype", "neither"),
        ([[(0, 7)] * 8] * 2, "op code 7"),
        ({"NetworkSelectorDatasetInfo:darts:edge_normal_0": "sep_conv_3x3"}, "required"),
        ({"foo": 1}, "unknown configuration key"),
        (tuple([1] * 34), "active edges"),
        (3.5, "cannot read"),
    ],
)
def test_bad_architectures(arch, needle):
    with pytest.raises(UnknownName) as info:
        S.index(arch)
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_batch_array_shapes():
    with pytest.raises(UnknownName, match="neither"):
        S.indices(np.zeros((3, 5), dtype=np.int64))
    with pytest.raises(UnknownName, match="outside"):
        S.indices(np.array([0, SIZE], dtype=np.int64))
