"""NAS-Bench-NLP recurrent-cell space, indexed by the upstream recipe id.

Every NAS-Bench-NLP file names a cell by ``recepie_id``, its position in one of the
upstream recipe lists: ids 1,000,000 + k and 2,000,000 + k (k below 14,000 and 12,000 in
the published data). ``arch_index`` packs both lists into 0..39,999, 20,000 slots per
list (``index = 20,000 * list + k``), so it needs no data to compute and stays stable;
``arch_id`` is the recipe id as text.

The lists repeat some cells under several ids (each id was trained on its own), so the
id is not the architecture: ``iso_id`` is the canonical id of the recipe (see
:mod:`nasdb.spaces.nbnlp_recipes`), and ``encoding`` its canonical JSON. Only files hold
recipes, so the space learns them from the catalog (``learn``); ids that no ingested file
gives a recipe for, such as those the doc2vec features alone name, have neither.

An architecture is read from an index (0..39,999), a recipe id (1,000,000 and up), a
32-hex canonical id, or a recipe as a dict or JSON text. A recipe or canonical id that the
lists hold under several ids resolves to the smallest of them.
"""

from __future__ import annotations

import json
import re

import numpy as np

from nasdb.errors import UnknownName
from nasdb.spaces import nbnlp_recipes as recipes
from nasdb.spaces import to_indices
from nasdb.spaces.graphs import Graphs

LIST_STARTS = (1_000_000, 2_000_000)
LIST_SLOTS = 20_000
SIZE = len(LIST_STARTS) * LIST_SLOTS
_STARTS = np.array(LIST_STARTS, dtype=np.int64)
_HASH = re.compile(r"[0-9a-f]{32}")


def index_of_recipe_ids(ids: np.ndarray) -> np.ndarray:
    """Vectorised recipe id -> arch_index; -1 where an id lies outside both lists."""
    ids = np.asarray(ids, dtype=np.int64)
    which = np.searchsorted(_STARTS, ids, side="right") - 1
    offset = ids - _STARTS[np.clip(which, 0, None)]
    ok = (which >= 0) & (offset < LIST_SLOTS)
    return np.where(ok, which * LIST_SLOTS + offset, -1)


def recipe_ids(indices: np.ndarray) -> np.ndarray:
    idx = np.asarray(indices, dtype=np.int64)
    return _STARTS[idx // LIST_SLOTS] + idx % LIST_SLOTS


def id_ranges() -> str:
    return ", ".join(f"{s:,}..{s + LIST_SLOTS - 1:,}" for s in LIST_STARTS)


class NBNLPSpace:
    """Recipe ids of the NAS-Bench-NLP lists; recipes as far as ingested files give them."""

    name = "nbnlp"
    size = SIZE
    reference_task = "wikitext-2"

    def __init__(self) -> None:
        self._encoding: dict[int, str] = {}  # arch_index -> canonical JSON
        self._iso: dict[int, str] = {}  # arch_index -> canonical id
        self._by_iso: dict[str, int] = {}  # canonical id -> smallest arch_index

    # recipes ---------------------------------------------------------------------------
    def learn(self, indices, encodings) -> None:
        """Remember the canonical recipes of some indices (from a catalog or a file)."""
        for i, text in zip(np.asarray(indices).tolist(), encodings, strict=True):
            if text is None:
                continue
            iso = recipes.hash_text(text)
            self._encoding[i], self._iso[i] = text, iso
            if i < self._by_iso.get(iso, SIZE):
                self._by_iso[iso] = i

    def recipe(self, index: int) -> dict | None:
        """The canonical recipe of an index, or None if no ingested file gave it."""
        text = self._encoding.get(self.index(index))
        return None if text is None else json.loads(text)

    # identity --------------------------------------------------------------------------
    def index(self, arch) -> int:
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            return self._index_of_int(int(arch))
        if isinstance(arch, str):
            text = arch.strip()
            if text.isdigit():
                return self._index_of_int(int(text))
            if _HASH.fullmatch(text):
                return self._index_of_iso(text, "canonical id " + text)
            if text.startswith("{"):
                return self._index_of_recipe(text)
            raise UnknownName(
                f"nbnlp: {arch!r} is neither an index, a recipe id, a 32-hex canonical id "
                "nor a recipe in JSON"
            )
        if isinstance(arch, dict):
            return self._index_of_recipe(arch)
        raise UnknownName(f"nbnlp: cannot read an architecture from {type(arch).__name__}")

    def _index_of_int(self, value: int) -> int:
        if 0 <= value < SIZE:
            return value
        index = int(index_of_recipe_ids(np.array([value]))[0])
        if index < 0:
            raise UnknownName(
                f"nbnlp: {value} is neither an index 0..{SIZE - 1} nor a recipe id in {id_ranges()}"
            )
        return index

    def _index_of_recipe(self, recipe) -> int:
        try:
            text = recipes.canonical_json(recipe)
        except recipes.RecipeError as exc:
            raise UnknownName(f"nbnlp: not a valid recipe: {exc}") from None
        return self._index_of_iso(recipes.hash_text(text), "this recipe")

    def _index_of_iso(self, iso: str, what: str) -> int:
        found = self._by_iso.get(iso)
        if found is None:
            raise UnknownName(
                f"nbnlp: {what} is not a recipe of the ingested NAS-Bench-NLP files "
                f"(canonical id {iso})"
            )
        return found

    def is_one(self, arch) -> bool:
        return isinstance(arch, dict)

    def indices(self, archs) -> np.ndarray:
        """Integers may mix indices and recipe ids; anything else goes one by one."""
        if isinstance(archs, (list, tuple, range)) and all(
            isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in archs
        ):
            archs = np.array(archs, dtype=np.int64)
        if isinstance(archs, np.ndarray) and archs.dtype.kind in "iu":
            arr = archs.reshape(-1).astype(np.int64, copy=False)
            big = arr >= SIZE
            if big.any():
                arr = arr.copy()
                arr[big] = index_of_recipe_ids(arr[big])
            if arr.size and arr.min() < 0:
                self.index(int(archs.reshape(-1)[np.flatnonzero(arr < 0)[0]]))
            return arr
        return to_indices(self, archs)

    graph_ops = ("input", "output", "h_prev", *recipes.OPS)
    graph_width = 32  # nodes per graph: the published recipes have at most 20

    def graphs(self, indices) -> Graphs:
        """Recipes as graphs: ``x`` (input), ``h_prev_*``, one node per recipe node in
        topological order, and an output fed by every ``h_new_*``; padded to
        ``graph_width`` nodes, so every batch has the same feature columns."""
        width = self.graph_width
        parsed = []
        for i in np.asarray(indices, dtype=np.int64).tolist():
            text = self._encoding.get(i)
            if text is None:
                raise UnknownName(f"nbnlp: no ingested file gives the recipe of {self.arch_id(i)}")
            p = recipes.parse(text)
            depth = recipes.depths(p)
            if len(depth) >= width:
                raise UnknownName(f"nbnlp: recipe {self.arch_id(i)} has more than {width} nodes")
            parsed.append((p, depth))
        ops = np.full((len(parsed), width), -1, dtype=np.int16)
        adj = np.zeros((len(parsed), width, width), dtype=np.uint8)
        code = {op: k for k, op in enumerate(self.graph_ops)}
        for row, (p, depth) in enumerate(parsed):
            names = sorted(depth, key=lambda n: (depth[n], n))
            at = {n: k for k, n in enumerate(names)}
            for n, k in at.items():
                ops[row, k] = code[p[n][0]] if n in p else (0 if n == "x" else 2)
                for src in p[n][1] if n in p else ():
                    adj[row, at[src], k] = 1
            out = len(names)
            ops[row, out] = 1
            for n in names:
                if n.startswith("h_new_"):
                    adj[row, at[n], out] = 1
        return ops, adj

    # names -----------------------------------------------------------------------------
    def arch_id(self, index: int) -> str:
        return str(int(recipe_ids(np.array([self.index(index)]))[0]))

    def arch_ids(self, indices: np.ndarray) -> list[str]:
        return recipe_ids(indices).astype(str).tolist()

    def architectures(self, indices: np.ndarray) -> dict[str, list]:
        idx = np.asarray(indices, dtype=np.int64).tolist()
        return {
            "arch_id": self.arch_ids(indices),
            "encoding": [self._encoding.get(i) for i in idx],
            "iso_id": [self._iso.get(i) for i in idx],
        }

    def describe(self, index: int) -> dict:
        i = self.index(index)
        text = self._encoding.get(i)
        return {
            "index": i,
            "recipe_id": int(recipe_ids(np.array([i]))[0]),
            "canonical_id": self._iso.get(i),
            "recipe": text if text is not None else "unknown (no ingested file holds it)",
        }
