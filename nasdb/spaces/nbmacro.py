"""NAS-Bench-Macro space: 8 searchable layers, each one of 3 blocks, on CIFAR-10.

``arch_id`` is the benchmark's own key, one digit per layer (``'02012100'``); the integer
index reads that key as a base-3 number, so all 3^8 = 6,561 networks are dense 0..6560.

Layer choices (NAS-Bench-Macro README and ``train/model.py``): ``0`` identity, ``1`` a
MobileNetV2 inverted-residual block with expansion 3 and a 3x3 depthwise kernel, ``2``
the same with expansion 6 and a 5x5 kernel. The layers form three stages of 2, 3 and 3
(channels 64, 128, 256 after a 32-channel stem); the first layer of a stage halves the
resolution and doubles the channels, so its "identity" is a strided 1x1 conv + BN.

Isomorphism: inside a stage, an identity in a later layer changes nothing, so only the
order of the other blocks matters. Upstream trained one network per class, with the
identities of each stage moved to its end, and copied the result to every key of the
class; ``iso_id`` is that trained key (3,969 classes).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from nasdb.errors import UnknownName
from nasdb.spaces import to_indices
from nasdb.spaces.graphs import Graphs, chain_graphs

LAYERS = 8
OPS = ("identity", "mb3_k3", "mb6_k5")
OP_DESCRIPTIONS = (
    "identity (a strided 1x1 conv + BN where the layer downsamples)",
    "MobileNetV2 block, expansion 3, kernel 3x3",
    "MobileNetV2 block, expansion 6, kernel 5x5",
)
STAGES = (2, 3, 3)
STAGE_CHANNELS = (64, 128, 256)
SIZE = len(OPS) ** LAYERS
_WEIGHTS = len(OPS) ** np.arange(LAYERS - 1, -1, -1)
_STAGE_OF = tuple(int(s) for s in np.repeat(np.arange(len(STAGES)), STAGES))
_FIRST_OF_STAGE = tuple(int(s) for s in np.cumsum((0,) + STAGES[:-1]))


def _digits(index: np.ndarray) -> np.ndarray:
    """(n, 8) layer choices of an array of indices."""
    return (np.asarray(index, dtype=np.int64)[:, None] // _WEIGHTS) % len(OPS)


def _keys(digits: np.ndarray) -> np.ndarray:
    """Keys as strings from an (n, 8) digit array, vectorised through bytes."""
    raw = (digits.astype(np.uint8) + ord("0")).tobytes()
    return np.frombuffer(raw, dtype=f"S{LAYERS}").astype(str)


def trained_key(key: str) -> str:
    """The key upstream trained for ``key``: each stage's later identities moved last."""
    out, pos = [], 0
    for n in STAGES:
        stage = key[pos : pos + n]
        rest = [c for c in stage[1:] if c != "0"]
        out.append(stage[0] + "".join(rest) + "0" * (n - 1 - len(rest)))
        pos += n
    return "".join(out)


class NBMacroSpace:
    """All 6,561 NAS-Bench-Macro networks; ``arch_id`` is the 8-digit key."""

    name = "nbmacro"
    size = SIZE
    reference_task = "cifar10"

    @cached_property
    def keys(self) -> np.ndarray:
        return _keys(_digits(np.arange(SIZE)))

    @cached_property
    def iso_ids(self) -> np.ndarray:
        """The trained key of every architecture, in index order."""
        return np.array([trained_key(k) for k in self.keys])

    @cached_property
    def iso_index(self) -> np.ndarray:
        """Index of the trained key of every architecture."""
        return np.array([int(k, 3) for k in self.iso_ids], dtype=np.int64)

    # identity ------------------------------------------------------------------------
    def index(self, arch) -> int:
        """Index of an index, an 8-digit key, or a sequence of 8 choices (codes or op names).

        A string of 8 digits 0-2 is a key; any other string of digits is an index.
        """
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            if 0 <= arch < SIZE:
                return int(arch)
            raise UnknownName(f"nbmacro: index {arch} is outside 0..{SIZE - 1}")
        if isinstance(arch, str):
            text = arch.strip()
            if len(text) == LAYERS and set(text) <= set("012"):
                return int(text, 3)
            if text.isdigit():
                return self.index(int(text))
            raise UnknownName(
                f"nbmacro: {arch!r} is neither an index 0..{SIZE - 1} nor an 8-digit key "
                "of choices 0-2 like '02012100'"
            )
        if isinstance(arch, (tuple, list, np.ndarray)) and len(arch) == LAYERS:
            codes = []
            for c in arch:
                if isinstance(c, str) and c in OPS:
                    codes.append(OPS.index(c))
                elif isinstance(c, (int, np.integer)) and not isinstance(c, bool) and 0 <= c < 3:
                    codes.append(int(c))
                else:
                    raise UnknownName(
                        f"nbmacro: layer choice {c!r} is not 0, 1, 2 or one of {', '.join(OPS)}"
                    )
            return int(np.dot(codes, _WEIGHTS))
        raise UnknownName(f"nbmacro: cannot read an architecture from {arch!r}")

    def is_one(self, arch) -> bool:
        return (
            isinstance(arch, tuple)
            and len(arch) == LAYERS
            and all(isinstance(c, (str, int, np.integer)) for c in arch)
        )

    def indices(self, archs) -> np.ndarray:
        return to_indices(self, archs)

    def arch_id(self, index: int) -> str:
        return str(self.keys[self.index(index)])

    def arch_ids(self, indices: np.ndarray) -> list[str]:
        return self.keys[np.asarray(indices, dtype=np.int64)].tolist()

    def architectures(self, indices: np.ndarray) -> dict[str, list]:
        ids = self.arch_ids(indices)
        ops = [",".join(OPS[int(c)] for c in k) for k in ids]
        iso = self.iso_ids[np.asarray(indices, dtype=np.int64)].tolist()
        return {"arch_id": ids, "encoding": ops, "iso_id": iso}

    def describe(self, index: int) -> dict:
        key = self.arch_id(index)
        layers = []
        for pos, c in enumerate(key):
            stage = _STAGE_OF[pos]
            layers.append(
                f"{pos}: {OPS[int(c)]} (stage {stage + 1}, {STAGE_CHANNELS[stage]} channels"
                + (", downsamples)" if pos in _FIRST_OF_STAGE else ")")
            )
        return {
            "index": int(index),
            "key": key,
            "layers": layers,
            "trained_as": str(self.iso_ids[index]),
        }

    graph_ops = ("input", "output", *OPS)

    def graphs(self, indices) -> Graphs:
        """The 8 layers as a chain of op nodes."""
        return chain_graphs(_digits(indices))
