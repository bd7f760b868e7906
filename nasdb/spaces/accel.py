"""Accel-NASBench's MnasNet space: 7 blocks of MobileNet inverted-residual layers.

Each block chooses an expansion ratio (1, 4, 6), a depthwise kernel (3, 5), a number of
layers (1-3; 1-4 for block 5) and whether it has squeeze-and-excitation; strides and
channels are fixed to EfficientNet-B0's (``configurationspaces`` of Accel-NASBench).

``arch_index`` is the architecture's *space code*: its choices read as one mixed-radix
number (block 0 most significant; inside a block expansion, kernel, layers, SE, each digit
the position of the choice in the lists above). Every integer in ``0 .. size - 1`` is a
network, and the code depends on nothing but the choices. ``size`` is about 1.04e11, far
too many for dense lookup columns, so lookups keep sparse ones for this space.

``arch_id`` spells the choices out, one token per block: ``e<expansion>k<kernel>l<layers>``
with ``se`` appended when the block has squeeze-and-excitation, tokens joined by ``-``,
e.g. EfficientNet-B0 is ``e1k3l1se-e6k3l2se-e6k5l2se-e6k3l3se-e6k5l3se-e6k5l4se-e6k3l1se``.
No two choices give the same network, so ``iso_id`` is ``arch_id``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache

import numpy as np

from nasdb.errors import UnknownName
from nasdb.spaces import to_indices

BLOCKS = 7
EXPANSIONS = (1, 4, 6)
KERNELS = (3, 5)
LAYER_CHOICES = ((1, 2, 3),) * 5 + ((1, 2, 3, 4),) + ((1, 2, 3),)
SE_CHOICES = (False, True)
STRIDES = (1, 2, 2, 2, 1, 2, 1)
IN_CHANNELS = (32, 16, 24, 40, 80, 112, 192)
OUT_CHANNELS = (16, 24, 40, 80, 112, 192, 320)
FIELDS = ("e", "k", "l", "se")  # upstream keys are block<i>_<field>
CONFIG_KEYS = tuple(f"block{b}_{f}" for b in range(BLOCKS) for f in FIELDS)

# Radix of every digit, block by block, fields in FIELDS order.
_RADICES = np.array(
    [r for b in range(BLOCKS) for r in (3, 2, len(LAYER_CHOICES[b]), 2)], dtype=np.int64
)
_PLACES = np.concatenate([np.cumprod(_RADICES[::-1])[::-1][1:], [1]]).astype(np.int64)
FULL_SIZE = int(np.prod(_RADICES))
_TOKEN = re.compile(r"e([146])k([35])l([1-4])(se)?")


def choices(block: int) -> tuple[tuple, ...]:
    """The allowed values of each field of ``block``, in digit order."""
    return (EXPANSIONS, KERNELS, LAYER_CHOICES[block], SE_CHOICES)


def _is_choice(value, flag: bool) -> bool:
    """Flags must be booleans and the other fields integers, never one for the other."""
    if flag:
        return isinstance(value, (bool, np.bool_))
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def code_of(values: Sequence[Sequence]) -> int:
    """Space code of 7 ``(expansion, kernel, layers, se)`` tuples; UnknownName if invalid."""
    if len(values) != BLOCKS:
        raise UnknownName(f"accel: expected {BLOCKS} blocks, got {len(values)}")
    digits = []
    for b, block in enumerate(values):
        for field, value, allowed in zip(FIELDS, block, choices(b), strict=True):
            if not _is_choice(value, field == "se") or value not in allowed:
                listed = ", ".join(map(str, allowed))
                raise UnknownName(f"accel: block{b}_{field} = {value!r}, expected one of {listed}")
            digits.append(allowed.index(value))
    return int(np.dot(digits, _PLACES))


def code_of_config(config: Mapping) -> int:
    """Space code of an upstream architecture dict ``{'block0_e': 6, ..., 'block6_se': False}``."""
    if not isinstance(config, Mapping) or set(config) != set(CONFIG_KEYS):
        got = sorted(config) if isinstance(config, Mapping) else type(config).__name__
        raise UnknownName(f"accel: architecture keys {got}, expected block0_e .. block6_se")
    return code_of([[config[f"block{b}_{f}"] for f in FIELDS] for b in range(BLOCKS)])


def codes_of_rows(rows: Sequence[Sequence]) -> np.ndarray | None:
    """Space codes of many architectures given as values in CONFIG_KEYS order, vectorised.

    None if any value is not a valid choice of the right type; ``code_of`` names it.
    """
    if not rows:
        return np.empty(0, dtype=np.int64)
    digits = np.empty((len(rows), len(CONFIG_KEYS)), dtype=np.int64)
    for j, column in enumerate(zip(*rows, strict=True)):
        block, field = divmod(j, len(FIELDS))
        allowed = np.array(choices(block)[field], dtype=np.int64)
        if set(map(type, column)) != ({bool} if field == 3 else {int}):
            return None
        values = np.array(column, dtype=np.int64)
        pos = np.searchsorted(allowed, values).clip(0, len(allowed) - 1)
        if (allowed[pos] != values).any():
            return None
        digits[:, j] = pos
    return digits @ _PLACES


def decode(codes: np.ndarray) -> np.ndarray:
    """(n, 7, 4) choice digits of an array of space codes."""
    codes = np.asarray(codes, dtype=np.int64)
    return ((codes[:, None] // _PLACES) % _RADICES).reshape(-1, BLOCKS, len(FIELDS))


def block_values(digits: np.ndarray) -> list[tuple[int, int, int, bool]]:
    """The 7 ``(expansion, kernel, layers, se)`` tuples of one (7, 4) digit array."""
    return [
        tuple(options[d] for options, d in zip(choices(b), row, strict=True))
        for b, row in enumerate(digits.tolist())
    ]


def spell_block(block: int, digits) -> str:
    e, k, layers, se = (options[d] for options, d in zip(choices(block), digits, strict=True))
    return f"e{e}k{k}l{layers}" + ("se" if se else "")


def spell(digits: np.ndarray) -> str:
    """``arch_id`` of one (7, 4) digit array."""
    return "-".join(spell_block(b, row) for b, row in enumerate(digits.tolist()))


def parse(text: str) -> int:
    """Space code of an ``arch_id`` like ``e1k3l1se-e6k3l2-...``."""
    tokens = text.split("-")
    matches = [_TOKEN.fullmatch(t) for t in tokens]
    if len(tokens) != BLOCKS or not all(matches):
        raise UnknownName(
            f"accel: {text!r} is not an architecture like 'e1k3l1se-e6k3l2-...' "
            f"({BLOCKS} blocks of e<1|4|6>k<3|5>l<layers>, 'se' when squeeze-excited)"
        )
    return code_of([(int(m[1]), int(m[2]), int(m[3]), m[4] is not None) for m in matches])


@cache
def _block_tokens() -> list[np.ndarray]:
    """Per block, the token of each of its digit combinations in code order."""
    tables = []
    for b in range(BLOCKS):
        combos = np.indices([len(c) for c in choices(b)]).reshape(len(FIELDS), -1).T
        tables.append(np.array([spell_block(b, row) for row in combos]))
    return tables


class AccelSpace:
    """The MnasNet space of Accel-NASBench, indexed by space code."""

    name = "accel"
    reference_task = "imagenet"
    size = FULL_SIZE

    # identity ------------------------------------------------------------------------
    def index(self, arch) -> int:
        """Index of an index, an ``arch_id``, an upstream architecture dict, or upstream's
        ``[[7 expansions], [7 kernels], [7 layer counts], [7 SE flags]]``."""
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            if 0 <= arch < self.size:
                return int(arch)
            raise UnknownName(f"accel: index {arch} is outside 0..{self.size - 1:,}")
        if isinstance(arch, str):
            text = arch.strip()
            if text.isdigit():
                return self.index(int(text))
            return parse(text)
        if isinstance(arch, Mapping):
            return code_of_config(arch)
        if self.is_one(arch):
            return code_of(list(zip(*arch, strict=True)))
        raise UnknownName(f"accel: cannot read an architecture from {arch!r}")

    def is_one(self, arch) -> bool:
        return isinstance(arch, Mapping) or (
            isinstance(arch, (list, tuple))
            and len(arch) == len(FIELDS)
            and all(isinstance(row, (list, tuple)) and len(row) == BLOCKS for row in arch)
        )

    def indices(self, archs) -> np.ndarray:
        return to_indices(self, archs)

    def arch_id(self, index: int) -> str:
        return spell(decode(np.array([self.index(index)]))[0])

    def arch_ids(self, indices: np.ndarray) -> list[str]:
        codes = self.indices(np.asarray(indices, dtype=np.int64))
        block_codes = codes[:, None] // _PLACES[len(FIELDS) - 1 :: len(FIELDS)]
        tokens = [table[block_codes[:, b] % len(table)] for b, table in enumerate(_block_tokens())]
        return ["-".join(t) for t in zip(*tokens, strict=True)]

    def architectures(self, indices: np.ndarray) -> dict[str, list]:
        ids = self.arch_ids(indices)
        return {"arch_id": ids, "encoding": ids, "iso_id": ids}

    def describe(self, index: int) -> dict:
        index = self.index(index)
        digits = decode(np.array([index]))[0]
        blocks = [
            f"{b}: expansion {e}, kernel {k}x{k}, {layers} layer(s), SE {'yes' if se else 'no'}, "
            f"stride {STRIDES[b]}, {IN_CHANNELS[b]}->{OUT_CHANNELS[b]} channels"
            for b, (e, k, layers, se) in enumerate(block_values(digits))
        ]
        return {"index": index, "arch_id": spell(digits), "blocks": blocks}
