"""The NAS-Bench-NLP space alone: recipe checks, canonical form, ids and indices."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from nasdb import spaces
from nasdb.errors import UnknownName
from nasdb.spaces import nbnlp
from nasdb.spaces.nbnlp_recipes import (
    COMMUTATIVE,
    RecipeError,
    canonical,
    canonical_id,
    canonical_json,
    parse,
)

LSTM = {
    "i": {"op": "linear", "input": ["x", "h_prev_0"]},
    "i_act": {"op": "activation_tanh", "input": ["i"]},
    "j": {"op": "linear", "input": ["x", "h_prev_0"]},
    "j_act": {"op": "activation_sigm", "input": ["j"]},
    "f": {"op": "linear", "input": ["x", "h_prev_0"]},
    "f_act": {"op": "activation_sigm", "input": ["f"]},
    "o": {"op": "linear", "input": ["x", "h_prev_0"]},
    "o_act": {"op": "activation_tanh", "input": ["o"]},
    "h_new_1_part1": {"op": "elementwise_prod", "input": ["f_act", "h_prev_1"]},
    "h_new_1_part2": {"op": "elementwise_prod", "input": ["i_act", "j_act"]},
    "h_new_1": {"op": "elementwise_sum", "input": ["h_new_1_part1", "h_new_1_part2"]},
    "h_new_1_act": {"op": "activation_tanh", "input": ["h_new_1"]},
    "h_new_0": {"op": "elementwise_prod", "input": ["h_new_1_act", "o_act"]},
}
GRU = {
    "r": {"op": "linear", "input": ["x", "h_prev_0"]},
    "r_act": {"op": "activation_sigm", "input": ["r"]},
    "z": {"op": "linear", "input": ["x", "h_prev_0"]},
    "z_act": {"op": "activation_sigm", "input": ["z"]},
    "rh": {"op": "elementwise_prod", "input": ["r_act", "h_prev_0"]},
    "h_tilde": {"op": "linear", "input": ["x", "rh"]},
    "h_tilde_act": {"op": "activation_tanh", "input": ["h_tilde"]},
    "h_new_0": {"op": "blend", "input": ["z_act", "h_prev_0", "h_tilde_act"]},
}


def scramble(recipe: dict, rng: random.Random) -> dict:
    """The same cell with other inner names, key order and commutative input order."""
    parsed = parse(recipe)
    inner = [n for n in parsed if not n.startswith("h_new_") or not n[6:].isdigit()]
    new = dict(zip(inner, (f"v{k}" for k in rng.sample(range(100), len(inner))), strict=True))
    items = list(parsed.items())
    rng.shuffle(items)
    out = {}
    for name, (op, inputs) in items:
        inputs = list(inputs)
        if op in COMMUTATIVE:
            rng.shuffle(inputs)
        out[new.get(name, name)] = {"op": op, "input": [new.get(i, i) for i in inputs]}
    return out


def random_recipe(rng: random.Random, size: int) -> dict:
    ops = ["linear", "elementwise_sum", "elementwise_prod", "activation_tanh", "blend"]
    arity = {"linear": 2, "elementwise_sum": 2, "elementwise_prod": 2, "activation_tanh": 1}
    names = ["x", "h_prev_0", "h_prev_1"]
    out = {}
    for k in range(size):
        op = rng.choice(ops)
        out[f"n{k}"] = {"op": op, "input": rng.choices(names, k=arity.get(op, 3))}
        names.append(f"n{k}")
    out["h_new_0"] = {"op": "elementwise_sum", "input": [f"n{size - 1}", f"n{size - 2}"]}
    out["h_new_1"] = {"op": "activation_tanh", "input": [f"n{size - 3}"]}
    return out


def ring(sizes: list[int]) -> dict:
    """Linear nodes joined pairwise in rings: colour refinement alone cannot tell
    two rings of 6 from one ring of 12."""
    out, products, base = {}, [], 0
    for size in sizes:
        for k in range(size):
            out[f"a{base + k}"] = {"op": "linear", "input": ["x", "h_prev_0"]}
        for k in range(size):
            pair = [f"a{base + k}", f"a{base + (k + 1) % size}"]
            out[f"b{base + k}"] = {"op": "elementwise_prod", "input": pair}
            products.append(f"b{base + k}")
        base += size
    out["h_new_0"] = {"op": "elementwise_sum", "input": products}
    return out


def test_canonical_lstm_is_readable_and_topological():
    form = canonical(LSTM)
    assert list(form)[-1] == "h_new_0" and "h_new_1" in form
    assert sorted(n for n in form if n.startswith("node_")) == sorted(
        f"node_{k}" for k in range(11)
    )
    seen = {"x", "h_prev_0", "h_prev_1"}
    for name, spec in form.items():
        assert set(spec["input"]) <= seen, name  # every input comes earlier
        seen.add(name)
    assert canonical_json(form) == canonical_json(LSTM)
    assert canonical_json(json.dumps(LSTM)) == canonical_json(LSTM)


@pytest.mark.parametrize("seed", range(40))
def test_canonical_id_ignores_names_and_orders(seed):
    rng = random.Random(seed)
    recipe = [LSTM, GRU, random_recipe(rng, rng.randint(3, 20))][seed % 3]
    assert canonical_id(scramble(recipe, rng)) == canonical_id(recipe)


def test_canonical_id_keeps_what_changes_the_cell():
    base = canonical_id(GRU)
    swapped = dict(GRU, h_new_0={"op": "blend", "input": ["z_act", "h_tilde_act", "h_prev_0"]})
    assert canonical_id(swapped) != base  # blend inputs are ordered
    relu = dict(GRU, h_tilde_act={"op": "activation_leaky_relu", "input": ["h_tilde"]})
    assert canonical_id(relu) != base
    renamed_state = json.loads(json.dumps(LSTM).replace("h_prev_1", "h_prev_2"))
    assert canonical_id(renamed_state) != canonical_id(LSTM)  # state names carry meaning
    dead = dict(GRU, spare={"op": "linear", "input": ["x"]})
    assert canonical_id(dead) != base  # an unused node still adds parameters
    assert canonical_id(ring([6, 6])) != canonical_id(ring([12]))
    assert canonical_id(ring([3, 3])) != canonical_id(ring([6]))
    rng = random.Random(0)
    assert canonical_id(scramble(ring([6, 6]), rng)) == canonical_id(ring([6, 6]))


def test_many_interchangeable_nodes_stay_fast():
    gates = {f"g{k}": {"op": "linear", "input": ["x", "h_prev_0"]} for k in range(12)}
    acts = {f"a{k}": {"op": "activation_tanh", "input": [f"g{k}"]} for k in range(12)}
    out = {"h_new_0": {"op": "elementwise_sum", "input": [f"a{k}" for k in range(12)]}}
    recipe = gates | acts | out
    assert canonical_id(scramble(recipe, random.Random(1))) == canonical_id(recipe)


@pytest.mark.parametrize(
    ("recipe", "message"),
    [
        ("{not json", "not valid JSON"),
        ([], "non-empty object"),
        ({"h_new_0": {"op": "conv", "input": ["x"]}}, "has op 'conv'"),
        ({"h_new_0": {"op": "blend", "input": ["x", "x"]}}, "takes 3 input"),
        ({"h_new_0": {"op": "linear", "input": ["y"]}}, "does not define"),
        ({"h_new_0": {"op": "linear", "input": "x"}}, "list of node names"),
        ({"h_new_0": {"op": "linear"}}, "exactly 'op' and 'input'"),
        ({"n": {"op": "linear", "input": ["x"]}}, "no output node 'h_new_0'"),
        ({"x": {"op": "linear", "input": ["h_prev_0"]}}, "reserved"),
        (
            {
                "a": {"op": "linear", "input": ["b"]},
                "b": {"op": "activation_tanh", "input": ["a"]},
                "h_new_0": {"op": "linear", "input": ["a"]},
            },
            "cycle",
        ),
    ],
)
def test_bad_recipes(recipe, message):
    with pytest.raises(RecipeError, match=message):
        canonical_json(recipe)


def test_index_arithmetic():
    ids = np.array([1_000_000, 1_000_001, 1_013_994, 2_000_000, 2_011_796, 999_999, 1_020_000])
    index = nbnlp.index_of_recipe_ids(ids)
    assert index.tolist() == [0, 1, 13_994, 20_000, 31_796, -1, -1]
    assert nbnlp.recipe_ids(index[:5]).tolist() == ids[:5].tolist()
    space = spaces.get("nbnlp")
    assert space.size == 40_000
    assert space.arch_ids(np.array([1, 20_000])) == ["1000001", "2000000"]
    assert space.indices([1, 1_000_001, "1000001", np.int64(2_000_000)]).tolist() == [
        1,
        1,
        1,
        20_000,
    ]
    assert space.indices(np.array([5, 2_011_796])).tolist() == [5, 31_796]


@pytest.mark.parametrize("bad", [-1, 40_000, 999_999, 3_000_000, "abc", 1.5])
def test_bad_architectures_raise_clear_errors(bad):
    with pytest.raises(UnknownName, match="nbnlp"):
        spaces.get("nbnlp").indices([bad])


def test_recipes_resolve_once_learned():
    space = nbnlp.NBNLPSpace()  # a private instance: learning changes it
    lstm = canonical_json(LSTM)
    with pytest.raises(UnknownName, match="not a recipe of the ingested"):
        space.index(LSTM)
    space.learn(np.array([9, 1, 30_000]), [lstm, lstm, None])
    assert space.index(scramble(LSTM, random.Random(3))) == 1  # smallest id of the cell
    assert space.index(json.dumps(LSTM)) == 1
    assert space.index(canonical_id(LSTM)) == 1
    assert space.recipe(9) == canonical(LSTM) and space.recipe(30_000) is None
    described = space.architectures(np.array([1, 30_000]))
    assert described["iso_id"] == [canonical_id(LSTM), None]
    assert described["arch_id"] == ["1000001", "2010000"]
    info = space.describe(1_000_009)
    assert info["recipe_id"] == 1_000_009 and info["canonical_id"] == canonical_id(LSTM)
    with pytest.raises(UnknownName, match="not a valid recipe"):
        space.index({"h_new_0": {"op": "linear", "input": ["nowhere"]}})
