"""Search spaces: how architectures are written, identified and indexed."""

from __future__ import annotations

import numpy as np

from nasdb.errors import UnknownName

_SPACES = {
    "accel": "nasdb.spaces.accel:AccelSpace",
    "nb101": "nasdb.spaces.nb101:NB101Space",
    "nb201": "nasdb.spaces.nb201:NB201Space",
    "nb301": "nasdb.spaces.nb301:NB301Space",
    "nbgraph": "nasdb.spaces.nbgraph:NBGraphSpace",
    "nbmacro": "nasdb.spaces.nbmacro:NBMacroSpace",
    "nbnlp": "nasdb.spaces.nbnlp:NBNLPSpace",
    "tnb101_micro": "nasdb.spaces.tnb101:TNB101MicroSpace",
}
_cache: dict = {}


def names() -> list[str]:
    return sorted(_SPACES)


def get(name: str):
    """The space object for ``name``; imported on first use to keep start-up light."""
    if name not in _cache:
        if name not in _SPACES:
            raise UnknownName(f"unknown space {name!r}; available: {', '.join(names())}")
        import importlib

        module, attr = _SPACES[name].split(":")
        cls = getattr(importlib.import_module(module), attr)
        if getattr(cls, "uses_cache", False):  # built once per machine, then read back
            from nasdb.catalog import cache_dir

            _cache[name] = cls(cache_dir())
        else:
            _cache[name] = cls()
    return _cache[name]


def to_indices(space, archs) -> np.ndarray:
    """Integer indices for one architecture or a batch in any form the space reads.

    Integer arrays are the fast path (one bounds check); anything else goes through
    ``space.index`` one by one.
    """
    if isinstance(archs, np.ndarray) and archs.dtype.kind in "iu":
        arr = archs.reshape(-1).astype(np.int64, copy=False)
    elif isinstance(archs, (str, int, np.integer)) or space.is_one(archs):
        return np.array([space.index(archs)], dtype=np.int64)
    elif isinstance(archs, (list, range)) and all(
        isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in archs
    ):
        arr = np.array(archs, dtype=np.int64)
    else:
        return np.array([space.index(a) for a in archs], dtype=np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= space.size):
        bad = arr[(arr < 0) | (arr >= space.size)][0]
        space.index(int(bad))  # raises the space's own error
    return arr


def one_op_moves(ops: np.ndarray, n_ops: int, weights: np.ndarray) -> np.ndarray:
    """Codes (``ops @ weights``) of the cells one edge's op away from each row of ``ops``:
    (n, edges x (n_ops - 1)), edge-major. The neighbourhood of the cell spaces whose cells
    are an op per edge (NB201, TransNAS-Bench-101 micro)."""
    current = ops[:, :, None]
    new = (current + np.arange(1, n_ops)) % n_ops
    codes = (ops @ weights)[:, None, None] + (new - current) * weights[None, :, None]
    return codes.reshape(len(ops), -1)
