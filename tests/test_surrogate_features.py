"""Featurizers against independent readings of the same architectures."""

from __future__ import annotations

import numpy as np
import pytest
from nasdb.surrogates import features

from nasdb import spaces
from nasdb.errors import SurrogateError


def _paths(matrix: np.ndarray, ops: list[str]) -> set[str]:
    """Every input-to-output op sequence of a cell, by depth-first search."""
    out, last = set(), len(ops) - 1

    def walk(node: int, seq: tuple[str, ...]) -> None:
        if node == last:
            out.add(">".join(seq) or "input>output")
            return
        for nxt in np.flatnonzero(matrix[node]):
            walk(int(nxt), seq + ((ops[nxt],) if nxt != last else ()))

    walk(0, ())
    return out


def test_nb101_path_encoding_matches_a_graph_search():
    sp = spaces.get("nb101")
    rng = np.random.default_rng(0)
    picked = rng.choice(sp.size, 300, replace=False)
    enc = features.featurize(sp, picked, "path")
    names = features.names(sp, "path")
    assert enc.shape == (300, 364) == (len(picked), len(names))
    for row, i in zip(enc, picked, strict=True):
        matrix, ops = sp.spec(int(i))
        found = {names[c].removeprefix("path:") for c in np.flatnonzero(row)}
        assert found == _paths(np.asarray(matrix), ops)


def test_nb201_graph_and_flat_encode_the_arch_string():
    sp = spaces.get("nb201")
    ops, adj = sp.graphs(np.array([6111]))
    string = sp.string(6111)  # the CIFAR-10 optimum
    edge_ops = [part.split("~")[0] for part in string.strip("|").split("|") if part != "+"]
    assert [sp.graph_ops[c] for c in ops[0]] == ["input", *edge_ops, "output"]
    # edges into the output: the op nodes on edges 0->3, 1->3, 2->3 (positions 4, 5, 6)
    assert np.flatnonzero(adj[0][:, -1]).tolist() == [4, 5, 6]
    assert np.flatnonzero(adj[0][0]).tolist() == [1, 2, 4]  # edges leaving the input
    flat = features.featurize(sp, np.array([6111]), "flat")[0]
    names = features.names(sp, "flat")
    on = {names[c] for c in np.flatnonzero(flat)}
    assert {f"node{k + 1}:{op}" for k, op in enumerate(edge_ops)} <= on


def test_canonical_features_are_equal_within_an_iso_class():
    sp = spaces.get("nb201")
    iso = sp.iso_ids
    a, b = np.flatnonzero(iso == iso[np.flatnonzero(iso != np.arange(sp.size))[0]])[:2]
    same = features.featurize(sp, np.array([a, b]), "flat", canonical=True)
    differ = features.featurize(sp, np.array([a, b]), "flat")
    assert (same[0] == same[1]).all() and (differ[0] != differ[1]).any()


def test_nbgraph_graph_follows_the_links():
    sp = spaces.get("nbgraph")
    chain = sp.index("0,1,2,3|gcn,gat,sage,gin")
    ops, adj = sp.graphs(np.array([chain]))
    assert [sp.graph_ops[c] for c in ops[0]] == ["input", "gcn", "gat", "sage", "gin", "output"]
    assert sorted(zip(*np.nonzero(adj[0]), strict=True)) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]


def test_nbnlp_graphs_hold_every_recipe_edge(db):
    sp = db.space("nbnlp")
    known = np.flatnonzero(db.known("nbnlp"))[:50]
    ops, adj = sp.graphs(known)
    for k, i in enumerate(known):
        recipe = sp.recipe(int(i))
        n_inputs = sum(len(node["input"]) for node in recipe.values())
        n_outputs = sum(name.startswith("h_new_") for name in recipe)
        assert adj[k].sum() == n_inputs + n_outputs
        nodes = set(recipe).union(*(v["input"] for v in recipe.values()))
        assert (ops[k] >= 0).sum() == len(nodes) + 1  # and the output node


def test_graph_inputs_become_torch_geometric_data():
    pytest.importorskip("torch_geometric")
    sp = spaces.get("nb101")
    g = features.featurize(sp, np.arange(3), "graph")
    data = g.to_data()
    for d, ops in zip(data, g.ops, strict=True):
        assert d.x.shape == ((ops >= 0).sum(), len(sp.graph_ops))


@pytest.mark.parametrize(
    ("space", "kind", "needle"),
    [("nb201", "path", "nb101 only"), ("nb201", "pixels", "unknown features"),
     ("nb301", "flat", "no graph form")],
)  # fmt: skip
def test_bad_feature_choices_fail_in_one_line(space, kind, needle):
    with pytest.raises(SurrogateError, match=needle):
        features.featurize(spaces.get(space), np.arange(2), kind)
