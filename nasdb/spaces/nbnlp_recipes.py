"""NAS-Bench-NLP recipes: check them, and write each one in a single canonical form.

A recipe describes one recurrent cell as a dict from node name to
``{"op": OP, "input": [names]}``. The cell reads ``x`` (the token embedding) and
``h_prev_<k>`` (its hidden states from the previous step) and must compute ``h_new_0``
(its output, also the next ``h_prev_0``); ``h_new_<k>`` for k > 0 are further states.
Every other node name is arbitrary, so one cell can be written in many ways.

The canonical form renames the inner nodes ``node_0, node_1, ...`` and sorts the inputs
of commutative ops, so that two recipes get the same form exactly when they differ only
in those names, in the order of their keys and in the order of commutative inputs:

- ``linear`` (one weight matrix per input plus a bias, summed), ``elementwise_sum`` and
  ``elementwise_prod`` are commutative; ``blend(z, a, b) = z*a + (1-z)*b`` is not, and
  its inputs keep their order; activations take one input.
- names of inputs and outputs (``x``, ``h_prev_<k>``, ``h_new_<k>``) carry meaning and
  are kept.
- nodes that no output depends on are kept: they add parameters to the trained model.

The inner nodes are numbered by individualisation and refinement, the method of
canonical graph labelling: colour nodes by op and depth, refine colours by the colours
of their inputs and consumers until stable, then break remaining ties in every possible
way (skipping ties that a found automorphism shows equivalent) and keep the smallest
serialisation. Colours start ordered by depth, so the numbering is also a topological
order: every node's inputs come before it.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache

OPS = (
    "linear",
    "blend",
    "elementwise_prod",
    "elementwise_sum",
    "activation_tanh",
    "activation_sigm",
    "activation_leaky_relu",
)
COMMUTATIVE = frozenset({"linear", "elementwise_prod", "elementwise_sum"})
# (fewest, most) inputs; None = no upper bound
ARITY = {
    "linear": (1, None),
    "blend": (3, 3),
    "elementwise_prod": (2, None),
    "elementwise_sum": (2, None),
    "activation_tanh": (1, 1),
    "activation_sigm": (1, 1),
    "activation_leaky_relu": (1, 1),
}
_STATE_IN = re.compile(r"h_prev_(\d+)")
_STATE_OUT = re.compile(r"h_new_(\d+)")
_TERMINAL, _INNER, _OUTPUT = 0, 1, 2

Parsed = dict[str, tuple[str, tuple[str, ...]]]


class RecipeError(ValueError):
    """A recipe that is not a well-formed NAS-Bench-NLP cell."""


def parse(recipe) -> Parsed:
    """``{node: (op, inputs)}`` of a recipe given as a dict or JSON text, after checks."""
    if isinstance(recipe, (str, bytes)):
        try:
            recipe = json.loads(recipe)
        except ValueError:
            raise RecipeError("recipe is not valid JSON") from None
    if not isinstance(recipe, dict) or not recipe:
        raise RecipeError("recipe must be a non-empty object of nodes {name: {op, input}}")
    out: Parsed = {}
    for name, spec in recipe.items():
        if not isinstance(name, str) or name == "x" or _STATE_IN.fullmatch(name):
            raise RecipeError(f"node name {name!r} is reserved for an input of the cell")
        if not isinstance(spec, dict) or set(spec) != {"op", "input"}:
            raise RecipeError(f"node {name!r} must be an object with exactly 'op' and 'input'")
        op, inputs = spec["op"], spec["input"]
        if op not in ARITY:
            raise RecipeError(f"node {name!r} has op {op!r}; expected one of {', '.join(OPS)}")
        if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
            raise RecipeError(f"node {name!r}: 'input' must be a list of node names")
        low, high = ARITY[op]
        if len(inputs) < low or (high is not None and len(inputs) > high):
            want = str(low) if low == high else f"at least {low}"
            raise RecipeError(f"node {name!r}: {op} takes {want} input(s), got {len(inputs)}")
        out[name] = (op, tuple(inputs))
    for name, (_, inputs) in out.items():
        for i in inputs:
            if i not in out and i != "x" and not _STATE_IN.fullmatch(i):
                raise RecipeError(f"node {name!r} reads {i!r}, which the recipe does not define")
    if "h_new_0" not in out:
        raise RecipeError("recipe has no output node 'h_new_0'")
    depths(out)  # raises on a cycle
    return out


def depths(parsed: Parsed) -> dict[str, int]:
    """Longest path from the cell's inputs to each node; a cycle is an error."""
    depth: dict[str, int] = {}
    for root in parsed:
        stack = [(root, False)]
        on_path: set[str] = set()
        while stack:
            name, done = stack.pop()
            if name in depth:
                continue
            if name not in parsed:
                depth[name] = 0
                continue
            if done:
                on_path.discard(name)
                depth[name] = 1 + max(depth[i] for i in parsed[name][1])
                continue
            if name in on_path:
                raise RecipeError(f"recipe has a cycle through node {name!r}")
            on_path.add(name)
            stack.append((name, True))
            stack.extend((i, False) for i in parsed[name][1] if i not in depth)
    return depth


class _Graph:
    """A parsed recipe as integer nodes, with what refinement needs."""

    def __init__(self, parsed: Parsed):
        depth = depths(parsed)
        terminals = sorted(
            {i for _, ins in parsed.values() for i in ins if i not in parsed}, key=_terminal_key
        )
        self.names = terminals + list(parsed)
        pos = {n: k for k, n in enumerate(self.names)}
        self.n = len(self.names)
        self.ops = [""] * len(terminals) + [op for op, _ in parsed.values()]
        self.inputs = [()] * len(terminals) + [
            tuple(pos[i] for i in ins) for _, ins in parsed.values()
        ]
        self.kind = [_TERMINAL] * len(terminals) + [
            _OUTPUT if _STATE_OUT.fullmatch(n) else _INNER for n in parsed
        ]
        self.consumers: list[list[tuple[int, int]]] = [[] for _ in range(self.n)]
        for v in range(self.n):
            ordered = self.ops[v] not in COMMUTATIVE
            for p, u in enumerate(self.inputs[v]):
                self.consumers[u].append((v, p if ordered else -1))
        keys = [
            (
                depth[n],
                k,
                _terminal_key(n) if k == _TERMINAL else _output_key(n) if k == _OUTPUT else op,
            )
            for n, k, op in zip(self.names, self.kind, self.ops, strict=True)
        ]
        self.start = _ranks(keys)

    def refine(self, colors: list[int]) -> list[int]:
        """Split colour classes by the colours of inputs and consumers until stable."""
        count = len(set(colors))
        while True:
            sigs = []
            for v in range(self.n):
                ins = [colors[u] for u in self.inputs[v]]
                if self.ops[v] in COMMUTATIVE:
                    ins.sort()
                outs = sorted((colors[w], p) for w, p in self.consumers[v])
                sigs.append((colors[v], tuple(ins), tuple(outs)))
            colors = _ranks(sigs)
            new = len(set(colors))
            if new == count:
                return colors
            count = new

    def serialise(self, colors: list[int]) -> tuple:
        """The graph written with nodes numbered by their (all distinct) colours."""
        order = sorted(range(self.n), key=colors.__getitem__)
        rows = []
        for v in order:
            ins = [colors[u] for u in self.inputs[v]]
            if self.ops[v] in COMMUTATIVE:
                ins.sort()
            label = "" if self.kind[v] == _INNER else self.names[v]
            rows.append((self.kind[v], label, self.ops[v], tuple(ins)))
        return tuple(rows)

    def canonical_colors(self) -> list[int]:
        return self._search(self.start)[0][1]

    def _leftmost(self, colors: list[int]) -> tuple[tuple, list[int]]:
        """The first leaf below: always individualise the first node of the first tie."""
        while True:
            colors = self.refine(colors)
            cell = _first_tie(colors)
            if not cell:
                return self.serialise(colors), colors
            colors = _individualise(colors, cell[0])

    def _search(self, colors: list[int]) -> tuple[tuple[tuple, list[int]], tuple[tuple, list[int]]]:
        """(smallest leaf, first leaf) of the search tree below ``colors``.

        A branch whose first leaf serialises like this node's first leaf is the image of
        the first branch under an automorphism that fixes everything individualised so
        far, so it holds the same serialisations and is skipped; so are branches whose
        node such automorphisms map onto one already tried.
        """
        colors = self.refine(colors)
        cell = _first_tie(colors)
        if not cell:
            leaf = (self.serialise(colors), colors)
            return leaf, leaf
        orbit = list(range(self.n))  # union-find over nodes that automorphisms swap
        best, first = self._search(_individualise(colors, cell[0]))
        tried = [cell[0]]
        for v in cell[1:]:
            if any(_find(orbit, v) == _find(orbit, w) for w in tried):
                continue
            tried.append(v)
            branch = _individualise(colors, v)
            leaf = self._leftmost(branch)
            if leaf[0] == first[0]:
                _join(orbit, first[1], leaf[1])
                continue
            found, _ = self._search(branch)
            if found[0] < best[0]:
                best = found
            elif found[0] == best[0]:
                _join(orbit, best[1], found[1])
        return best, first


def _terminal_key(name: str) -> tuple:
    m = _STATE_IN.fullmatch(name)
    return (1, int(m.group(1)), name) if m else (0, 0, name)


def _output_key(name: str) -> tuple:
    return (int(name[len("h_new_") :]), name)


def _ranks(keys: list) -> list[int]:
    table = {k: r for r, k in enumerate(sorted(set(keys)))}
    return [table[k] for k in keys]


def _first_tie(colors: list[int]) -> list[int]:
    """Nodes of the smallest colour that more than one node has."""
    seen: dict[int, list[int]] = {}
    for v, c in enumerate(colors):
        seen.setdefault(c, []).append(v)
    ties = [c for c, members in seen.items() if len(members) > 1]
    return seen[min(ties)] if ties else []


def _individualise(colors: list[int], v: int) -> list[int]:
    return _ranks([(c, 0 if u == v else 1) for u, c in enumerate(colors)])


def _join(orbit: list[int], a: list[int], b: list[int]) -> None:
    """Merge the orbits of nodes that two equally serialised leaves give one colour."""
    by_color = {c: u for u, c in enumerate(a)}
    for u, c in enumerate(b):
        x, y = _find(orbit, u), _find(orbit, by_color[c])
        orbit[x] = y


def _find(parent: list[int], v: int) -> int:
    while parent[v] != v:
        parent[v] = parent[parent[v]]
        v = parent[v]
    return v


def canonical(recipe) -> dict[str, dict]:
    """The canonical recipe: inner nodes ``node_<k>`` in topological order, outputs kept."""
    return json.loads(canonical_json(recipe))


def canonical_json(recipe) -> str:
    """The canonical recipe as compact JSON, the text the canonical id is a hash of."""
    parsed = parse(recipe)
    return _canonical_text(json.dumps(parsed, sort_keys=True))


@lru_cache(maxsize=65536)
def _canonical_text(key: str) -> str:
    parsed = {k: (op, tuple(ins)) for k, (op, ins) in json.loads(key).items()}
    graph = _Graph(parsed)
    colors = graph.canonical_colors()
    order = sorted(range(graph.n), key=colors.__getitem__)
    names: dict[int, str] = {}
    inner = 0
    for v in order:
        if graph.kind[v] == _INNER:
            names[v] = f"node_{inner}"
            inner += 1
        else:
            names[v] = graph.names[v]
    out = {}
    for v in order:
        if graph.kind[v] == _TERMINAL:
            continue
        ins = list(graph.inputs[v])
        if graph.ops[v] in COMMUTATIVE:
            ins.sort(key=colors.__getitem__)
        out[names[v]] = {"op": graph.ops[v], "input": [names[u] for u in ins]}
    return json.dumps(out, separators=(",", ":"))


def canonical_id(recipe) -> str:
    """32 hex digits (the first 128 bits of sha256) of the canonical JSON."""
    return hash_text(canonical_json(recipe))


def hash_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]
