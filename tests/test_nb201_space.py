"""The NB201 space alone: facts that hold without any data file."""

from __future__ import annotations

import numpy as np
import pytest

from nasdb import spaces
from nasdb.errors import UnknownName

NB201 = spaces.get("nb201")
BEST_CIFAR10 = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
    "nor_conv_1x1~2|"
)


def test_official_order_known_cells():
    # Index 0 of the NAS-Bench-201 API and the published CIFAR-10 optimum (index 6111).
    assert NB201.string(0) == (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|"
        "skip_connect~2|"
    )
    assert NB201.index(BEST_CIFAR10) == 6111


def test_every_encoding_round_trips():
    for i in range(NB201.size):
        assert NB201.index(NB201.string(i)) == i
        assert NB201.from_tuple(NB201.tuple(i)) == i
    assert len({NB201.string(i) for i in range(NB201.size)}) == 15_625


def test_tuple_order_and_codes():
    # NASLib tuple: edges (0,1),(0,2),(0,3),(1,2),(1,3),(2,3); 0=skip 1=none 2=conv3 3=conv1 4=pool
    assert NB201.tuple(6111) == (2, 2, 0, 2, 2, 3)
    assert NB201.index("(2, 2, 0, 2, 2, 3)") == 6111


def test_iso_classes():
    iso = NB201.iso_ids
    assert len(np.unique(iso)) == 6_466
    assert (iso <= np.arange(NB201.size)).all()  # named by the smallest member
    # A cell whose only path to the output is cut by `none` edges is equal to the empty cell.
    empty = NB201.index("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    dead_conv = NB201.index("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    assert iso[empty] == iso[dead_conv]


def test_vectorised_indices():
    got = NB201.indices([6111, BEST_CIFAR10, (2, 2, 0, 2, 2, 3), "6111"])
    assert got.tolist() == [6111] * 4
    assert NB201.indices(np.arange(5)).tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("bad", [-1, 15_625, "|conv~0|+|", (9, 0, 0, 0, 0, 0), (0, 0), 1.5])
def test_bad_architectures_raise_clear_errors(bad):
    with pytest.raises(UnknownName, match="nb201"):
        NB201.indices([bad]) if not isinstance(bad, tuple) else NB201.index(bad)


def test_vectorised_tuple_lookups_agree_with_the_scalar_ones():
    index = np.arange(NB201.size)
    assert np.array_equal(NB201.from_tuples(NB201.tuples), index)
    assert [tuple(row) for row in NB201.tuples[::101].tolist()] == [
        NB201.tuple(i) for i in index[::101]
    ]
    spelled = [str(NB201.tuple(i)) for i in index]
    assert np.array_equal(NB201.indices_of_tuple_strings(spelled), index)
    loose = ["(4,3,3,0,0,0)", "( 4, 3, 3, 0, 0, 0 )", "(4, 3, 7, 0, 0, 0)", "(4, 3, 3, 0, 0)", ""]
    assert NB201.indices_of_tuple_strings(loose).tolist() == [0, 0, -1, -1, -1]
    with pytest.raises(UnknownName):
        NB201.from_tuples(np.array([[0, 0, 0, 0, 0, 5]]))
